# The `group` module on the host, as Ansible's Group class does it with groupadd/groupmod/
# groupdel. Inputs: name state gid non_unique system force check.
# shellcheck disable=SC2154
say() { printf 'hactl:%s=%s\n' "$1" "$2"; }
exists() { getent group -- "$name" >/dev/null 2>&1; }
out=''
err=''
run() {
    _e=$(mktemp) || exit 2
    out=$("$@" 2>"$_e"); _rc=$?
    err=$(cat "$_e"); rm -f "$_e"
    if [ "$_rc" != 0 ]; then printf '%s\n' "$err" >&2; exit "$_rc"; fi
}
changed=0
if [ "$state" = absent ]; then
    if exists; then
        changed=1
        if [ "$check" = 1 ]; then echo "hactl:only_changed=1"; exit 0; fi
        set --
        [ "$force" = 1 ] && set -- -f
        run groupdel "$@" -- "$name"
    fi
elif ! exists; then
    changed=1
    if [ "$check" = 1 ]; then echo "hactl:only_changed=1"; exit 0; fi
    set --
    if [ -n "$gid" ]; then set -- -g "$gid"; [ "$non_unique" = 1 ] && set -- "$@" -o; fi
    [ "$system" = 1 ] && set -- "$@" -r
    [ -n "$gid_min" ] && set -- "$@" -K "GID_MIN=$gid_min"
    [ -n "$gid_max" ] && set -- "$@" -K "GID_MAX=$gid_max"
    run groupadd "$@" -- "$name"
else
    cur=$(getent group -- "$name" | cut -d: -f3)
    if [ -n "$gid" ] && [ "$gid" != "$cur" ]; then
        changed=1
        set -- -g "$gid"; [ "$non_unique" = 1 ] && set -- "$@" -o
        [ "$check" = 1 ] || run groupmod "$@" -- "$name"
    fi
fi
say changed "$changed"
[ -z "$out" ] || { printf 'hactl:stdout_b64='; printf '%s' "$out" | base64 -w0; echo; }
[ -z "$err" ] || { printf 'hactl:stderr_b64='; printf '%s' "$err" | base64 -w0; echo; }
if exists; then say gid "$(getent group -- "$name" | cut -d: -f3)"; fi
