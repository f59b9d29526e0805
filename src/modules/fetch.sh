# fetch: the file's checksums, and its bytes as base64 when the controller's copy differs.
# Arguments (assigned by the caller): path, want (the controller's SHA-1, or empty).
# shellcheck shell=sh
# shellcheck disable=SC2154 # the caller assigns the arguments
if [ -d "$path" ]; then echo "hactl:error=dir"; exit 0; fi
if ! [ -e "$path" ]; then echo "hactl:error=missing"; exit 0; fi
if ! [ -r "$path" ]; then echo "hactl:error=unreadable"; exit 0; fi
sum=$(sha1sum <"$path") || exit 2
md5=$(md5sum <"$path" 2>/dev/null) || md5=
echo "hactl:checksum=${sum%% *}"
echo "hactl:md5=${md5%% *}"
if [ "${sum%% *}" != "$want" ]; then
    printf 'hactl:content='
    base64 -w0 <"$path" || exit 2
    echo
fi
