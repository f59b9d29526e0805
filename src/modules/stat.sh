# stat: what Ansible's stat module reports about one path, as `hactl:KEY=VALUE` lines.
# Arguments (environment-style, set by the caller): path follow(0/1) checksum(0/1)
# algo(md5|sha1|...) mime(0/1) attrs(0/1).
# shellcheck shell=sh
# shellcheck disable=SC2154 # the caller assigns the arguments
if [ "$follow" = 1 ]; then L=-L; else L=; fi
if ! [ -e "$path" ] && ! [ -L "$path" ]; then
    # A missing path is not an error; a folder on the way that cannot be searched is.
    dir=$(dirname -- "$path")
    if [ -d "$dir" ] && ! [ -x "$dir" ]; then
        echo "Permission denied" >&2
        exit 2
    fi
    echo "hactl:exists=0"
    exit 0
fi
if [ "$follow" = 1 ] && ! [ -e "$path" ]; then
    # A dangling link followed: os.stat raises FileNotFoundError.
    echo "hactl:exists=0"
    exit 0
fi
# shellcheck disable=SC2086 # $L is empty or one flag
st=$(stat $L -c '%f|%u|%g|%s|%i|%d|%h|%b|%o|%t|%T|%.9X|%.9Y|%.9Z' -- "$path") || exit 2
echo "hactl:exists=1"
echo "hactl:st=$st"
uid=$(echo "$st" | cut -d'|' -f2) gid=$(echo "$st" | cut -d'|' -f3)
pw=$(getent passwd "$uid" 2>/dev/null | cut -d: -f1)
[ -z "$pw" ] || echo "hactl:pw_name=$pw"
gr=$(getent group "$gid" 2>/dev/null | cut -d: -f1)
[ -z "$gr" ] || echo "hactl:gr_name=$gr"
r=0 w=0 x=0
[ -r "$path" ] && r=1
[ -w "$path" ] && w=1
[ -x "$path" ] && x=1
echo "hactl:access=$r$w$x"
if [ -L "$path" ] && [ "$follow" != 1 ]; then
    printf 'hactl:lnk_source_b64='
    printf '%s' "$(realpath -m -- "$path")" | base64 -w0
    printf '\nhactl:lnk_target_b64='
    printf '%s' "$(readlink -- "$path")" | base64 -w0
    echo
fi
if [ "$checksum" = 1 ] && [ "$r" = 1 ] && { [ -n "$L" ] || ! [ -L "$path" ]; } && [ -f "$path" ]; then
    sum=$("${algo}sum" <"$path") || exit 2
    echo "hactl:checksum=${sum%% *}"
fi
[ "$mime" = 1 ] && echo "hactl:mime_asked=1"
if [ "$mime" = 1 ] && command -v file >/dev/null 2>&1; then
    # file(1) prints "PATH: TYPE; charset=CHARSET"; the path may hold ': ', so cut at the last.
    if out=$(file --mime-type --mime-encoding -- "$path" 2>/dev/null); then
        echo "hactl:mime=${out##*: }"
    fi
fi
if [ "$attrs" = 1 ]; then
    if command -v lsattr >/dev/null 2>&1 && out=$(lsattr -vd -- "$path" 2>/dev/null); then
        # shellcheck disable=SC2086 # split into version, flags, path
        set -- $out
        echo "hactl:lsattr=$1 $2"
    else
        echo "hactl:lsattr="
    fi
fi
exit 0
