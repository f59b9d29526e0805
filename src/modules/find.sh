# find: lists the folders named in "$@" with GNU find, for the controller to walk them as
# Python's os.walk does and filter as Ansible's find module does.
# Arguments: the paths ("$@"); assigned by the caller: maxdepth (empty: no limit).
# Prints, NUL-terminated: `T`, the host's time (seconds.nanoseconds); then for each path
# (a leading ~ expanded): `P` and the path (a folder follows), or `N` and the path (not a
# folder); then
# its entries in find's order (each folder's entries in directory order, preorder):
#   TYPE|TYPE_FOLLOWED|MODE|UID|GID|SIZE|INODE|DEV|NLINK|ATIME|MTIME|CTIME|USER|GROUP|DEPTH|NAME
# and `E` at the end of the path. Folders find cannot read go to stderr (LC_ALL=C messages).
# shellcheck shell=sh
# shellcheck disable=SC2154 # the caller assigns the arguments
export LC_ALL=C
printf 'T\0%s\0' "$(date +%s.%N)"
for p do
    # shellcheck disable=SC2088 # the quoted tilde is the pattern, not a path
    case $p in '~'|'~/'*) p=$HOME${p#"~"} ;; esac
    if [ ! -d "$p" ]; then printf 'N\0%s\0' "$p"; continue; fi
    printf 'P\0%s\0' "$p"
    if [ -n "$maxdepth" ]; then set -- -maxdepth "$maxdepth"; else set --; fi
    find "${p%/}/" -mindepth 1 "$@" \
        -printf '%y|%Y|%m|%U|%G|%s|%i|%D|%n|%A@|%T@|%C@|%u|%g|%d|%f\0'
    printf 'E\0'
done
exit 0
