# `uri` on the host. Inputs: method dest creates removes has_body h_follow h_timeout
# h_insecure h_tool; the URL, headers, credentials and body come on stdin (http.sh). Prints
# the status, the final URL, the last response's headers and body (base64), and with dest,
# writes the body there atomically. Needs attrs.sh, pathinfo.sh and http.sh before it.
# shellcheck disable=SC2154,SC2034
say() { printf 'hactl:%s=%s\n' "$1" "$2"; }
if [ -n "$creates" ] && [ -e "$creates" ]; then say skipped_creates 1; exit 0; fi
if [ -n "$removes" ] && [ ! -e "$removes" ]; then say skipped_removes 1; exit 0; fi
d=$(mktemp -d) || exit 2
trap 'rm -rf -- "$d"' EXIT
trap 'exit 1' HUP INT TERM PIPE
h_ims=
if ! http_setup "$d"; then
    say no_tool 1; exit 0
fi
[ -n "$dest" ] && [ -f "$dest" ] && h_ims=$(LC_ALL=C date -u -r "$dest" '+%a, %d %b %Y %H:%M:%S GMT')
start=$(date +%s)
if [ "$method" = HEAD ]; then : >"$d/body.out"; http_fetch HEAD /dev/null
else http_fetch "$method" "$d/body.out"; fi
say elapsed "$(($(date +%s) - start))"
say status "$h_status"
say final_url "$h_url"
[ "$h_status" = -1 ] && { printf 'hactl:error_b64='; printf '%s' "$h_err" | base64 -w0; echo; exit 0; }
reason=$(tr -d '\r' <"$d/headers" | awk '/^HTTP\// { $1 = ""; $2 = ""; r = substr($0, 3) } END { print r }')
say reason "$reason"
printf 'hactl:headers_b64='; http_last_headers | base64 -w0; echo
printf 'hactl:body_b64='; base64 -w0 <"$d/body.out"; echo
if [ -n "$dest" ] && [ "$write_dest" = 1 ]; then
    case " $status_codes " in *" $h_status "*) ;; *) exit 0 ;; esac
    [ "$h_status" = 304 ] && exit 0
    if [ -d "$dest" ]; then
        name=$(http_last_headers | awk 'tolower($0) ~ /^content-disposition:/' | sed -n 's/.*filename="\{0,1\}\([^";]*\)"\{0,1\}.*/\1/p' | head -n 1)
        dest=${dest%/}/${name:-index.html}
    fi
    t=$(mktemp -- "$(dirname -- "$dest")/.hactl.XXXXXXXX") || exit 2
    cat -- "$d/body.out" >"$t" || { rm -f -- "$t"; exit 2; }
    if [ -e "$dest" ]; then chown --reference="$dest" -- "$t" 2>/dev/null; chmod --reference="$dest" -- "$t"
    else chmod -- "$(printf '%o' $((0666 & ~0$(umask))))" "$t"; fi
    mv -f -- "$t" "$dest" || { rm -f -- "$t"; exit 2; }
    set_attrs_if_different "$dest" 0 >/dev/null || exit $?
    say path "$dest"
    say written 1
fi
