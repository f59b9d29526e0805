# sysctl: reads the kernel's value (proc_b64, absent when sysctl fails) and the file (after
# a hactl:file line, when it is a regular file).
# Arguments (assigned by the caller): name, file.
# shellcheck shell=sh
# shellcheck disable=SC2154 # the caller assigns the arguments
if out=$(LC_ALL=C sysctl -e -n "$name" 2>/dev/null); then
    printf 'hactl:proc_b64='; printf '%s\n' "$out" | base64 -w0; echo
fi
if [ -f "$file" ]; then
    printf 'hactl:real_b64='; realpath -- "$file" | base64 -w0; echo
    echo "hactl:file"; cat -- "$file" || exit 2
fi
