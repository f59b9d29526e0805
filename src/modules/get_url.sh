# `get_url` on the host, as Ansible's module does it. Inputs: dest algo checksum force
# backup mode owner group timeout insecure check h_tool; the URL, headers and credentials
# come on stdin (http.sh). Needs attrs.sh, pathinfo.sh and http.sh before it.
# shellcheck disable=SC2154,SC2034
say() { printf 'hactl:%s=%s\n' "$1" "$2"; }
fail() { say failed 1; printf '%s\n' "$1" >&2; exit 0; }
d=$(mktemp -d) || exit 2
trap 'rm -rf -- "$d"' EXIT
trap 'exit 1' HUP INT TERM PIPE
h_follow=1 h_has_body=0 h_ims=
if ! http_setup "$d"; then
    fail "neither curl nor GNU wget is installed on the host (hactl's get_url downloads with one of them)"
fi
digest() {
    case $1 in
        md5|sha1|sha224|sha256|sha384|sha512) _s=$("${1}sum" <"$2") || return 1; echo "${_s%% *}" ;;
        *) return 1 ;;
    esac
}
start=$(date +%s)
dest_is_dir=0
[ -d "$dest" ] && dest_is_dir=1
if [ "$dest_is_dir" = 0 ] && [ -e "$dest" ]; then
    mismatch=0
    if [ "$force" != 1 ] && [ -n "$checksum" ]; then
        [ "$(digest "$algo" "$dest")" = "$checksum" ] || mismatch=1
    fi
    if [ "$force" != 1 ] && [ -n "$checksum" ] && [ "$mismatch" = 0 ]; then
        a=$(set_attrs_if_different "$dest" "$check") || exit $?
        say dest "$dest"
        if [ -n "$a" ]; then say changed 1; say msg "file already exists but file attributes changed"
        else say changed 0; say msg "file already exists"; fi
        say early 1
        path_info "$dest"
        exit 0
    fi
    [ "$mismatch" = 1 ] && force=1
    [ "$force" = 1 ] || h_ims=$(LC_ALL=C date -u -r "$dest" '+%a, %d %b %Y %H:%M:%S GMT')
fi
if [ "$check" = 1 ]; then
    : >"$d/src"
    http_fetch HEAD /dev/null
else
    http_fetch GET "$d/src"
fi
say elapsed "$(($(date +%s) - start))"
say final_url "$h_url"
reason=$(tr -d '\r' <"$d/headers" | awk '/^HTTP\// { $1 = ""; $2 = ""; r = substr($0, 3) } END { print r }')
if [ "$h_status" = 304 ]; then
    say status_code 304; say changed 0; say msg "HTTP Error 304: Not Modified"; say dest "$dest"; say early 1
    path_info "$dest"
    exit 0
fi
if [ "$h_status" = -1 ]; then say dest "$dest"; fail "$h_err"; fi
if [ "$h_status" != 200 ]; then
    say dest "$dest"; say status_code "$h_status"; say response "HTTP Error $h_status: $reason"
    fail "Request failed"
fi
length=$(http_last_headers | awk -F': *' 'tolower($1) == "content-length" { print $2 }')
say msg "OK (${length:-unknown} bytes)"
if [ "$dest_is_dir" = 1 ]; then
    name=$(http_last_headers | awk 'tolower($0) ~ /^content-disposition:/' | sed -n 's/.*filename="\{0,1\}\([^";]*\)"\{0,1\}.*/\1/p' | head -n 1)
    name=${name##*/}
    if [ -z "$name" ]; then
        p=${h_url%%[?#]*}; p=${p#*://}; case $p in */*) p=/${p#*/} ;; *) p= ;; esac
        name=${p##*/}
        [ -n "$name" ] || name=index.html
    fi
    dest=${dest%/}/$name
fi
say dest "$dest"
say checksum_src "$(digest sha1 "$d/src")"
if [ -e "$dest" ]; then
    say checksum_dest "$(digest sha1 "$dest")"
else
    ddir=$(dirname -- "$dest")
    [ -d "$ddir" ] || fail "Destination $ddir does not exist"
fi
if [ "$check" = 1 ]; then
    if [ -e "$dest" ] && [ "$(digest sha1 "$d/src")" = "$(digest sha1 "$dest")" ]; then say changed 0; else say changed 1; fi
    path_info "$dest"
    exit 0
fi
if [ -n "$checksum" ]; then
    got=$(digest "$algo" "$d/src")
    [ "$got" = "$checksum" ] || fail "The checksum for $d/src did not match $checksum; it was $got."
fi
changed=0
if ! [ -e "$dest" ] || ! cmp -s -- "$d/src" "$dest"; then
    if [ "$backup" = 1 ] && [ -e "$dest" ]; then
        b="$dest.$$.$(date +%Y-%m-%d@%H:%M:%S)~"
        cp -p -- "$dest" "$b" || exit 2
        say backup_file "$b"
    fi
    # Atomic: a temp file beside dest, with dest's owner and mode (or the umask's), renamed.
    t=$(mktemp -- "$(dirname -- "$dest")/.hactl.XXXXXXXX") || exit 2
    cat -- "$d/src" >"$t" || { rm -f -- "$t"; exit 2; }
    if [ -e "$dest" ]; then
        chown --reference="$dest" -- "$t" 2>/dev/null
        chmod --reference="$dest" -- "$t"
    else
        chmod -- "$(printf '%o' $((0666 & ~0$(umask))))" "$t"
    fi
    mv -f -- "$t" "$dest" || { rm -f -- "$t"; exit 2; }
    changed=1
fi
a=$(set_attrs_if_different "$dest" 0) || exit $?
[ -n "$a" ] && changed=1
say changed "$changed"
say md5sum "$(digest md5 "$dest")"
say status_code 200
path_info "$dest"
