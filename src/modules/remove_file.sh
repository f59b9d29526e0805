# Removes a file (not in check mode). On failure prints msg (when set) and exits 2.
# Arguments (assigned by the caller): path, check (0/1), msg (may be empty).
# shellcheck shell=sh
# shellcheck disable=SC2154 # the caller assigns the arguments
[ "$check" = 1 ] && exit 0
rm -f -- "$path" && exit 0
[ -z "$msg" ] || printf '%s\n' "$msg" >&2
exit 2
