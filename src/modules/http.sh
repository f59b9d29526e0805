# HTTP on the host with curl, else GNU wget: shared by get_url and uri. Defines functions only.
#
# http_setup DIR: splits this script's stdin into DIR/curl.cfg, DIR/wget.cfg and DIR/body
# (sections after the marker lines hactl writes). The configs carry the URL, headers and
# credentials, so none of them shows in a process list.
# http_fetch METHOD OUT: the request; the body goes to OUT, the response headers to
# DIR/headers (each response of a redirect chain, as the tool printed them). Reads
# h_dir h_timeout h_insecure h_follow(1/0) h_has_body h_tool h_ims. Sets h_status (-1 when
# no response came), h_url (the final URL) and h_err.
# shellcheck disable=SC2154
http_setup() {
    h_dir=$1
    cat >"$h_dir/in" || return 1
    awk -v d="$h_dir" '
        $0 == "#--hactl-wget--" && !w { w = 1; f = d "/wget.cfg"; next }
        $0 == "#--hactl-body--" && !b { b = 1; exit }
        { print > (w ? d "/wget.cfg" : d "/curl.cfg") }' "$h_dir/in"
    # The body is every byte after the marker line, newline or not.
    n=$(grep -n -m1 -x -- '#--hactl-body--' "$h_dir/in" | cut -d: -f1)
    if [ -n "$n" ]; then tail -n +"$((n + 1))" -- "$h_dir/in" >"$h_dir/body"; else : >"$h_dir/body"; fi
    : >>"$h_dir/wget.cfg"
    if [ -z "$h_tool" ]; then
        if command -v curl >/dev/null 2>&1; then h_tool=curl
        elif command -v wget >/dev/null 2>&1 && wget --version 2>/dev/null | grep -q 'GNU Wget'; then h_tool=wget
        else return 3; fi
    fi
}

http_fetch() {
    h_method=$1 h_out=$2 h_err=
    : >"$h_dir/headers"
    if [ "$h_tool" = curl ]; then
        set -- -sS -K "$h_dir/curl.cfg" -o "$h_out" -D "$h_dir/headers" \
            -w '%{http_code}\n%{url_effective}\n' --max-time "$h_timeout"
        [ "$h_insecure" = 1 ] && set -- "$@" -k
        [ "$h_follow" = 1 ] && set -- "$@" -L
        [ -n "$h_ims" ] && set -- "$@" -H "If-Modified-Since: $h_ims"
        if [ "$h_method" = HEAD ]; then set -- "$@" -I
        else set -- "$@" -X "$h_method"; fi
        [ "$h_has_body" = 1 ] && set -- "$@" --data-binary "@$h_dir/body"
        w=$(curl "$@" 2>"$h_dir/err")
        rc=$?
        h_status=$(printf '%s\n' "$w" | sed -n 1p)
        h_url=$(printf '%s\n' "$w" | sed -n 2p)
        if [ "$rc" != 0 ] || [ "$h_status" = 000 ]; then
            h_status=-1; h_err=$(cat "$h_dir/err")
        fi
        return 0
    fi
    set -- --config="$h_dir/wget.cfg" -q -S -O "$h_out" --content-on-error \
        --timeout="$h_timeout" --tries=1 --method="$h_method"
    [ "$h_insecure" = 1 ] && set -- "$@" --no-check-certificate
    [ "$h_follow" = 1 ] || set -- "$@" --max-redirect=0
    [ -n "$h_ims" ] && set -- "$@" --header="If-Modified-Since: $h_ims"
    [ "$h_has_body" = 1 ] && set -- "$@" --body-file="$h_dir/body"
    h_url=$(sed -n 's/^url = //p' "$h_dir/wget.cfg")
    wget "$@" -- "$h_url" 2>"$h_dir/err"
    rc=$?
    # wget -S prints each response's headers indented by two spaces.
    sed -n 's/^  //p' "$h_dir/err" | tr -d '\r' >"$h_dir/headers"
    h_status=$(awk '/^HTTP\// { s = $2 } END { print s }' "$h_dir/headers")
    loc=$(awk 'tolower($1) == "location:" { l = $2 } END { print l }' "$h_dir/headers")
    case $loc in
        '') ;;
        *://*) h_url=$loc ;;
        /*) h_url=$(printf '%s\n' "$h_url" | sed 's|^\([a-z]*://[^/]*\).*|\1|')$loc ;;
    esac
    if [ -z "$h_status" ]; then
        h_status=-1; h_err=$(grep -v '^  ' "$h_dir/err")
        [ -n "$h_err" ] || h_err="wget failed with status $rc"
    fi
    return 0
}

# http_last_headers: the last response's headers (after a redirect chain), without the
# status line, CRs removed.
http_last_headers() {
    tr -d '\r' <"$h_dir/headers" | awk '/^HTTP\// { n = 0; delete h; next } NF { h[++n] = $0 } END { for (i = 1; i <= n; i++) print h[i] }'
}
