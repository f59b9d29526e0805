# sysctl: `sysctl -w NAME=VALUE` (what=set) or `sysctl -p FILE` (what=reload), failing on
# the errors ansible.posix looks for on stderr even when sysctl exits 0.
# Arguments (assigned by the caller): what, name, value, file, ignore (0/1).
# shellcheck shell=sh
# shellcheck disable=SC2154 # the caller assigns the arguments
e=
[ "$ignore" = 1 ] && e=-e
if [ "$what" = set ]; then
    # shellcheck disable=SC2086 # $e is empty or one flag
    out=$(LC_ALL=C sysctl $e -w "$name=$value" 2>&1); rc=$?
    msg="setting $name failed: "
else
    # shellcheck disable=SC2086
    out=$(LC_ALL=C sysctl $e -p "$file" 2>&1); rc=$?
    msg="Failed to reload sysctl: "
fi
if [ "$rc" != 0 ] || printf '%s\n' "$out" | grep -Eq '^sysctl: setting key "[^"]+": (Invalid argument|Read-only file system)$'; then
    printf '%s%s\n' "$msg" "$out" >&2
    exit 3
fi
