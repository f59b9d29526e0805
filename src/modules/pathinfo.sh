# path_info PATH: what Ansible's add_path_info adds to a result naming a path or dest (uid,
# gid, owner, group, mode, state, size), as hactl:KEY=VALUE lines; nothing when PATH is
# missing. Defines functions only.
path_info() {
    [ -e "$1" ] || [ -L "$1" ] || return 0
    # shellcheck disable=SC2046
    set -- "$1" $(stat -c '%u %g %U %G %a %h %s' -- "$1")
    printf 'hactl:uid=%s\nhactl:gid=%s\nhactl:owner=%s\nhactl:group=%s\n' "$2" "$3" "$4" "$5"
    printf 'hactl:mode=0%03o\n' "$((0$6))"
    if [ -L "$1" ]; then _s="link"; elif [ -d "$1" ]; then _s="directory"
    elif [ "$7" -gt 1 ]; then _s="hard"; else _s="file"; fi
    printf 'hactl:state=%s\nhactl:size=%s\n' "$_s" "$8"
}

# set_attrs_if_different PATH CHECK: owner, group and mode (the variables owner, group,
# mode) as Ansible's set_fs_attributes_if_different applies them; prints hactl:attrs=1 when
# something changed (or would). Needs attrs.sh.
set_attrs_if_different() {
    _p=$1 _check=$2 _ch=0
    _uid="" _gid=""
    if [ -n "$owner" ]; then _uid=$(want_id user "$owner") || exit 5; fi
    if [ -n "$group" ]; then _gid=$(want_id group "$group") || exit 5; fi
    # shellcheck disable=SC2046
    set -- $(stat -c '%u %g %a' -- "$_p")
    if [ -n "$_uid" ] && [ "$_uid" != "$1" ]; then _ch=1; [ "$_check" = 1 ] || chown -- "$owner" "$_p" || exit 2; fi
    if [ -n "$_gid" ] && [ "$_gid" != "$2" ]; then _ch=1; [ "$_check" = 1 ] || chgrp -- "$group" "$_p" || exit 2; fi
    if [ -n "$mode" ]; then
        _isdir=0; [ -d "$_p" ] && _isdir=1
        _want=$(target_mode "$3" "$_isdir" "$mode")
        if [ "$((0$_want))" != "$((0$3))" ]; then _ch=1; [ "$_check" = 1 ] || chmod -- "$_want" "$_p" || exit 2; fi
    fi
    [ "$_ch" = 0 ] || echo "hactl:attrs=1"
}
