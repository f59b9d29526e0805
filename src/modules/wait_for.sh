# wait_for: one look at the host (the controller polls every `sleep` seconds until `timeout`).
# Arguments (assigned by the caller): what (port | path | tcp), host, port, path, ct (connect
# timeout, seconds), read (0/1: also send back what the port or file holds, for search_regex).
#   port: can a TCP connection to host:port be made? With bash's /dev/tcp when bash exists,
#         else `nc -z`, else (only for a local address) a LISTEN socket in /proc/net/tcp{,6}.
#         Prints hactl:open=0/1 (and hactl:data_b64= with read=1: what the port sent within ct).
#   path: prints hactl:exists=0/1, hactl:error= (stat's message when it fails for another
#         reason than a missing file), hactl:data_b64= with read=1.
#   tcp:  prints /proc/net/tcp and /proc/net/tcp6 (for state=drained), base64.
# shellcheck shell=sh
# shellcheck disable=SC2154 # the caller assigns the arguments
b64() { base64 -w0; echo; }
case $what in
path)
    if err=$(LC_ALL=C stat -- "$path" 2>&1 >/dev/null); then
        echo "hactl:exists=1"
        # What Ansible's add_path_info adds to a result with a path.
        info=$(stat -c '%u|%g|%a|%s' -- "$path") || info=
        uid=${info%%|*} rest=${info#*|}
        gid=${rest%%|*}
        owner=$(getent passwd "$uid" 2>/dev/null | cut -d: -f1)
        grp=$(getent group "$gid" 2>/dev/null | cut -d: -f1)
        if [ -L "$path" ]; then kind="link"; elif [ -d "$path" ]; then kind=directory
        elif [ "$(stat -L -c %h -- "$path" 2>/dev/null)" -gt 1 ] 2>/dev/null; then kind=hard
        else kind="file"; fi
        echo "hactl:pathinfo=$info|${owner:-$uid}|${grp:-$gid}|$kind"
        if [ "$read" = 1 ] && [ -r "$path" ] && [ -f "$path" ]; then
            printf 'hactl:data_b64='; b64 <"$path"
        fi
    else
        echo "hactl:exists=0"
        case $err in *"No such file"*|*"Not a directory"*) ;; *) echo "hactl:error=${err##*: }" ;; esac
    fi ;;
tcp)
    printf 'hactl:tcp_b64='; { b64 </proc/net/tcp; } 2>/dev/null || echo
    printf 'hactl:tcp6_b64='; { b64 </proc/net/tcp6; } 2>/dev/null || echo ;;
port)
    if command -v bash >/dev/null 2>&1; then
        # shellcheck disable=SC2016 # expanded by bash
        if [ "$read" = 1 ]; then
            # What the port sends within ct seconds (timeout's 124 still means it was open).
            f=$(mktemp) || exit 2
            timeout "$ct" bash -c 'exec 3<>"/dev/tcp/$0/$1" || exit 9; cat <&3' "$host" "$port" >"$f" 2>/dev/null
            rc=$?
            if [ "$rc" = 0 ] || [ "$rc" = 124 ]; then
                echo "hactl:open=1"
                printf 'hactl:data_b64='; head -c 65536 "$f" | b64
            else
                echo "hactl:open=0"
            fi
            rm -f -- "$f"
        elif timeout "$ct" bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$host" "$port" 2>/dev/null; then
            echo "hactl:open=1"
        else
            echo "hactl:open=0"
        fi
    elif command -v nc >/dev/null 2>&1; then
        if nc -z -w "$ct" "$host" "$port" 2>/dev/null; then echo "hactl:open=1"; else echo "hactl:open=0"; fi
    else
        case $host in
            127.*|localhost|0.0.0.0|::1|::) ;;
            *) echo "wait_for needs bash or nc on the host to reach $host:$port" >&2; exit 4 ;;
        esac
        hex=$(printf '%04X' "$port")
        if cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk -v p=":$hex" '$2 ~ p"$" && $4 == "0A" { f = 1 } END { exit !f }'; then
            echo "hactl:open=1"
        else
            echo "hactl:open=0"
        fi
    fi ;;
esac
exit 0
