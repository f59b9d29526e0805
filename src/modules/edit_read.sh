# Reads a file for the editing modules: prints `dir`, `none`, or `file REALPATH_BASE64 ATTRS`
# and then the file's bytes.
# Arguments (assigned by the caller): path.
# shellcheck shell=sh
# shellcheck disable=SC2154 # the caller assigns the arguments
if [ -d "$path" ]; then echo dir
elif [ -e "$path" ]; then
    a=$(stat -L -c '%a|%u|%g|%U|%G' -- "$path") || a=
    printf 'file %s %s\n' "$(realpath -- "$path" | base64 -w0)" "$a" && cat -- "$path"
else echo none; fi
