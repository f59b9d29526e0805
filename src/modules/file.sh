# file: state, owner, group and mode of a path (target_mode, want_id: attrs.sh, prepended).
# Arguments (set -- order): path state mode owner group src check(0/1) force(0/1).
# shellcheck shell=sh
path=$1 state=$2 mode=$3 owner=$4 group=$5 src=$6 check=$7 force=$8
changed=0
change() { changed=1; [ "$check" = 1 ] && return 0; "$@" || exit 2; }
if [ -z "$state" ]; then
    if [ -L "$path" ]; then state="link"; elif [ -d "$path" ]; then state=directory;
    elif [ -e "$path" ]; then state="file"; else
        echo "file ($path) is absent, cannot continue" >&2; exit 3; fi
fi
case $state in
    absent)
        if [ -e "$path" ] || [ -L "$path" ]; then change rm -rf -- "$path"; fi
        echo "hactl:changed=$changed"; echo "hactl:state=absent"; exit 0 ;;
    directory)
        if [ -e "$path" ] && [ ! -d "$path" ]; then
            echo "$path already exists as a $(stat -c %F -- "$path")" >&2; exit 3; fi
        [ -d "$path" ] || change mkdir -p -- "$path" ;;
    file)
        if [ ! -e "$path" ]; then echo "file ($path) is absent, cannot continue" >&2; exit 3; fi ;;
    touch)
        if [ -e "$path" ]; then change touch -- "$path"; else change touch -- "$path"; fi ;;
    link)
        cur=$(readlink -- "$path" 2>/dev/null)
        if [ "$cur" != "$src" ]; then
            if [ -e "$path" ] && [ ! -L "$path" ] && [ "$force" != 1 ]; then
                echo "refusing to convert from $(stat -c %F -- "$path") to symlink for $path" >&2; exit 3; fi
            change ln -sfn -- "$src" "$path"
        fi ;;
esac
if [ "$check" = 1 ] && [ ! -e "$path" ]; then
    echo "hactl:changed=$changed"; echo "hactl:state=$state"; exit 0
fi
# Ids first: an unknown user or group fails even in check mode, as in Ansible. Then owner,
# group and mode, in Ansible's order (a chown clears setuid bits a mode may set).
uid='' gid=''
if [ -n "$owner" ]; then uid=$(want_id user "$owner") || exit 5; fi
if [ -n "$group" ]; then gid=$(want_id group "$group") || exit 5; fi
# Two numbers, split on purpose into $1 $2.
# shellcheck disable=SC2046
set -- $(stat -c '%u %g' -- "$path")
[ -z "$uid" ] || [ "$uid" = "$1" ] || change chown -h -- "$owner" "$path"
[ -z "$gid" ] || [ "$gid" = "$2" ] || change chgrp -h -- "$group" "$path"
if [ -n "$mode" ] && [ "$state" != link ]; then
    cur=$(stat -c %a -- "$path")
    isdir=0
    if [ -d "$path" ] && [ ! -L "$path" ]; then isdir=1; fi
    want=$(target_mode "$cur" "$isdir" "$mode")
    [ "$((0$want))" = "$((0$cur))" ] || change chmod -- "$want" "$path"
fi
echo "hactl:changed=$changed"
echo "hactl:state=$state"
