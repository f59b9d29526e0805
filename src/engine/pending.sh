# Pending handlers on the host (see pending.rs): the list is /var/lib/hactl/pending-handlers
# (root) or ~/.hactl/pending-handlers (other users), one name per line.
# Arguments: what (assigned by the caller: read | write); for write, the names ("$@", none
# removes the list).
# read prints the section line '@@ hactl-pending' and then the names.
# shellcheck shell=sh
# shellcheck disable=SC2154 # the caller assigns the arguments
if [ "$(id -u)" = 0 ]; then f=/var/lib/hactl/pending-handlers
else f="${HOME:-/tmp}/.hactl/pending-handlers"; fi
case $what in
    read)
        echo '@@ hactl-pending'
        cat "$f" 2>/dev/null
        true ;;
    write)
        if [ $# = 0 ]; then
            rm -f "$f"
        else
            mkdir -p "${f%/*}" && printf '%s\n' "$@" >"$f.tmp.$$" && mv -f "$f.tmp.$$" "$f"
        fi ;;
esac
