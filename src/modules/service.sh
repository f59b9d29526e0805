# service/systemd: state and enablement of a unit (systemctl) or an init.d script.
# Arguments (set -- order): name state enabled(''/0/1) daemon_reload(0/1) check(0/1).
# shellcheck shell=sh
name=$1 state=$2 enabled=$3 reload=$4 check=$5
changed=0
if [ -d /run/systemd/system ]; then
    if [ "$reload" = 1 ]; then
        [ "$check" = 1 ] || systemctl daemon-reload || exit 2
    fi
    # `systemd: daemon_reload=yes` alone: nothing else to do (Ansible reports it as ok).
    if [ -z "$name" ]; then echo "hactl:changed=0"; exit 0; fi
    # One systemctl call reads all three states (each call is a D-Bus round trip, ~7 ms).
    load='' active='' cur=''
    while IFS='=' read -r k v; do
        case $k in LoadState) load=$v ;; ActiveState) active=$v ;; UnitFileState) cur=$v ;; esac
    done <<EOF
$(systemctl show -p LoadState -p ActiveState -p UnitFileState -- "$name" 2>/dev/null)
EOF
    if [ "$load" = not-found ] || [ -z "$load" ]; then
        echo "Could not find the requested service $name: host" >&2
        exit 3
    fi
    act() { changed=1; [ "$check" = 1 ] || systemctl "$1" -- "$name" || exit 4; }
    case $state in
        started) [ "$active" = active ] || act start ;;
        stopped) case $active in active|activating|reloading) act stop ;; esac ;;
        restarted) act restart ;;
        reloaded) if [ "$active" = active ]; then act reload; else act start; fi ;;
    esac
    if [ -n "$enabled" ]; then
        if [ "$enabled" = 1 ] && [ "$cur" != enabled ] && [ "$cur" != static ] && [ "$cur" != alias ]; then
            changed=1; [ "$check" = 1 ] || systemctl enable -- "$name" >/dev/null 2>&1 || exit 5
        elif [ "$enabled" = 0 ] && [ "$cur" = enabled ]; then
            changed=1; [ "$check" = 1 ] || systemctl disable -- "$name" >/dev/null 2>&1 || exit 5
        fi
        echo "hactl:enabled=$enabled"
    fi
    if [ "$changed" = 1 ]; then now=$(systemctl is-active -- "$name" 2>/dev/null); else now=$active; fi
else
    if [ ! -x "/etc/init.d/$name" ]; then
        echo "Could not find the requested service $name: host" >&2
        exit 3
    fi
    run() { if command -v service >/dev/null 2>&1; then service "$name" "$1"; else "/etc/init.d/$name" "$1"; fi; }
    if run status >/dev/null 2>&1; then active=active; else active=inactive; fi
    act() { changed=1; [ "$check" = 1 ] || run "$1" >/dev/null || exit 4; }
    case $state in
        started) [ "$active" = active ] || act start ;;
        stopped) [ "$active" = active ] && act stop ;;
        restarted) act restart ;;
        reloaded) act reload ;;
    esac
    if [ -n "$enabled" ]; then
        if command -v update-rc.d >/dev/null 2>&1; then
            if ls /etc/rc[2345].d/S??"$name" >/dev/null 2>&1; then cur=1; else cur=0; fi
            if [ "$cur" != "$enabled" ]; then
                changed=1
                if [ "$check" != 1 ]; then
                    if [ "$enabled" = 1 ]; then update-rc.d "$name" enable >/dev/null; else update-rc.d "$name" disable >/dev/null; fi || exit 5
                fi
            fi
        fi
        echo "hactl:enabled=$enabled"
    fi
    now=$active
fi
echo "hactl:changed=$changed"
echo "hactl:active=$now"
