# slurp: prints hactl:error=KIND or the file's bytes as base64 on one line.
# Arguments (assigned by the caller): path.
# shellcheck shell=sh
# shellcheck disable=SC2154 # the caller assigns the arguments
if [ -d "$path" ]; then echo "hactl:error=dir"; exit 0; fi
if ! [ -e "$path" ]; then echo "hactl:error=missing"; exit 0; fi
if ! [ -r "$path" ]; then echo "hactl:error=unreadable"; exit 0; fi
printf 'hactl:content='
base64 -w0 <"$path" || exit 2
echo
