# tempfile: a new file (mode 0600) or folder (0700) with a random name, as Python's
# mkstemp/mkdtemp make them: PREFIX, 8 characters of [a-z0-9_], SUFFIX, created exclusively
# (retried on a clash). pathinfo.sh is prepended.
# Arguments (assigned by the caller): state (file | directory), path (the folder; empty: $TMPDIR, $TEMP,
# $TMP, else /tmp, as Python's gettempdir), prefix, suffix.
# Prints hactl:path= and the path info.
# shellcheck shell=sh
# shellcheck disable=SC2154 # the caller assigns the arguments
dir=$path
if [ -z "$dir" ]; then
    for d in "${TMPDIR:-}" "${TEMP:-}" "${TMP:-}" /tmp /var/tmp /usr/tmp; do
        if [ -n "$d" ] && [ -d "$d" ] && [ -w "$d" ]; then dir=$d; break; fi
    done
fi
# Python returns the absolute path (relative to the working folder).
case $dir in /*) ;; *) dir=$(pwd)/$dir ;; esac
tries=0
while [ "$tries" -lt 100 ]; do
    tries=$((tries + 1))
    r=$(dd if=/dev/urandom bs=64 count=1 2>/dev/null | LC_ALL=C tr -dc 'a-z0-9_' | cut -c1-8)
    [ "${#r}" = 8 ] || continue
    p=${dir%/}/$prefix$r$suffix
    if [ ! -d "$dir" ]; then
        printf "[Errno 2] No such file or directory: '%s'\n" "$p" >&2
        exit 3
    fi
    if [ "$state" = directory ]; then
        if mkdir -m 700 -- "$p" 2>/dev/null; then break; fi
    else
        # noclobber: the file is created only if it does not exist (O_EXCL, as mkstemp).
        if (umask 077; set -C; : >"$p") 2>/dev/null; then break; fi
    fi
    if [ -e "$p" ] || [ -L "$p" ]; then continue; fi
    printf "[Errno 13] Permission denied: '%s'\n" "$p" >&2
    exit 3
done
[ "$tries" -lt 100 ] || { echo "No usable temporary file name found" >&2; exit 3; }
echo "hactl:path=$p"
path_info "$p"
