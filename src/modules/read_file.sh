# Reads a file for lineinfile and yum_repository: prints `dir`, `none`, or `file` and then the
# file's bytes. Argument (assigned by the caller): path.
# shellcheck shell=sh
# shellcheck disable=SC2154 # the caller assigns the arguments
if [ -d "$path" ]; then echo dir
elif [ -e "$path" ]; then echo file && cat -- "$path"
else echo none; fi
