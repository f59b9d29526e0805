# Put a file in place atomically, as Ansible's copy/template do. Arguments:
#   $1 dest  $2 sha256 of the new content  $3 mode ('' keeps the file's)  $4 owner  $5 group
#   $6 backup 0/1  $7 validate command ('' none; "$tmp" names the new file)  $8 check 0/1
#   $9 diff 0/1  $10 file name to use when dest is a directory
# The new content is on stdin; it is read only if the file must change.
dest=$1 want=$2 mode=$3 owner=$4 group=$5 backup=$6 validate=$7 check=$8 diff=$9 name=${10}
case $dest in */) dest=$dest$name ;; esac
if [ -d "$dest" ]; then dest=${dest%/}/$name; fi
dir=$(dirname -- "$dest")
if [ ! -d "$dir" ]; then
    echo "Destination directory $dir does not exist" >&2
    exit 2
fi
echo "hactl:dest=$dest"
existed=0 have=
if [ -e "$dest" ]; then
    existed=1
    have=$(sha256sum <"$dest") || exit 2
    have=${have%% *}
fi
# Ids first: a user or group the host does not know fails, as in Ansible.
uid='' gid=''
if [ -n "$owner" ]; then uid=$(want_id user "$owner") || exit 5; fi
if [ -n "$group" ]; then gid=$(want_id group "$group") || exit 5; fi
# Would owner, group or mode change? (target_mode, want_id: attrs.sh, prepended.)
attrs_differ() {
    # Split on purpose: the three numbers become $1 $2 $3.
    # shellcheck disable=SC2046
    set -- $(stat -c '%u %g %a' -- "$dest")
    [ -n "$uid" ] && [ "$uid" != "$1" ] && return 0
    [ -n "$gid" ] && [ "$gid" != "$2" ] && return 0
    [ -n "$mode" ] && [ "$((0$(target_mode "$3" 0 "$mode")))" != "$((0$3))" ] && return 0
    return 1
}
# Owner and group before mode, in Ansible's order: a chown clears setuid bits.
set_attrs() {
    [ -z "$owner" ] || chown -- "$owner" "$1" || return 1
    [ -z "$group" ] || chgrp -- "$group" "$1" || return 1
    [ -z "$mode" ] || chmod -- "$(target_mode "$(stat -c %a -- "$1")" 0 "$mode")" "$1" || return 1
}
if [ "$have" = "$want" ]; then
    if attrs_differ; then
        echo "hactl:changed=1"
        [ "$check" = 1 ] && exit 0
        set_attrs "$dest" || exit 2
    else
        echo "hactl:changed=0"
    fi
    exit 0
fi
echo "hactl:changed=1"
if [ "$diff" = 1 ] && [ "$existed" = 1 ]; then
    printf 'hactl:before_b64='
    base64 -w0 <"$dest"
    echo
fi
[ "$check" = 1 ] && exit 0
# The traps come first: a TERM from the shell loop (the controller went away) at any point
# from here on removes the temp file and never renames it.
tmp=
trap '[ -z "$tmp" ] || rm -f -- "$tmp"' EXIT
trap 'exit 1' HUP INT TERM PIPE
tmp=$(mktemp -- "$dir/.hactl.XXXXXXXX") || exit 2
cat >"$tmp" || exit 2
got=$(sha256sum <"$tmp")
if [ "${got%% *}" != "$want" ]; then
    echo "the new content of $dest arrived incomplete; nothing was changed" >&2
    exit 2
fi
if [ "$existed" = 1 ]; then
    # Owner first: a chown clears the setuid bits the old file's mode may have.
    chown --reference="$dest" -- "$tmp" 2>/dev/null
    chmod --reference="$dest" -- "$tmp" || exit 2
else
    chmod -- "$(printf '%o' $((0666 & ~0$(umask))))" "$tmp"
fi
set_attrs "$tmp" || exit 2
if [ -n "$validate" ]; then
    if ! out=$(eval "$validate" 2>&1); then
        printf 'failed to validate: %s\n%s\n' "$validate" "$out" >&2
        exit 3
    fi
fi
if [ "$backup" = 1 ] && [ "$existed" = 1 ]; then
    b="$dest.$$.$(date +%Y-%m-%d@%H:%M:%S)~"
    cp -p -- "$dest" "$b" || exit 2
    echo "hactl:backup_file=$b"
fi
mv -f -- "$tmp" "$dest" || exit 2
trap - EXIT
