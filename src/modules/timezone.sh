# community.general.timezone on Linux: with a working `timedatectl` (SystemdTimezone), else on
# Debian (dpkg-reconfigure present: NosystemdTimezone with /etc/timezone, /etc/localtime,
# /etc/default/rcS, /etc/adjtime and hwclock). Other hosts are refused (exit 4).
# Arguments (assigned by the caller): name, hwclock (local | UTC; each may be empty), check
# (0/1), etc and zoneinfo (the folders, /etc and /usr/share/zoneinfo on a host).
# Prints hactl:before_KEY=, hactl:after_KEY= (KEY hwclock, name; after = planned in check
# mode) and hactl:msg= lines. Exit 3 with the module's message: failed.
# shellcheck shell=sh
# shellcheck disable=SC2154 # the caller assigns the arguments
msgs=''
log() { msgs="$msgs$1
"; }
abort() {
    printf 'Error message:\n%s\n' "$1" >&2
    if [ -n "$msgs" ]; then printf 'Other message(s):\n%s' "$msgs" >&2; fi
    exit 3
}
# execute CMD...: run_command(check_rc=True): a failure fails the task with the command's stderr.
execute() {
    _out=$("$@" 2>"$tmp/err") || {
        _rc=$?
        printf 'hactl:rc=%s\nhactl:cmd=%s\n' "$_rc" "$*" >&3
        cat "$tmp/err" >&2
        exit 5
    }
    printf '%s' "$_out"
}
# fd 3: the script's stdout, also from inside $(...).
exec 3>&1
tmp=$(mktemp -d) || exit 2
trap 'rm -rf -- "$tmp"' EXIT
truthy() { case $(printf '%s' "$1" | tr '[:upper:]' '[:lower:]') in y|yes|on|1|true|t) return 0 ;; *) return 1 ;; esac; }
mode=''
if tdc=$(command -v timedatectl 2>/dev/null) && "$tdc" >/dev/null 2>&1; then
    mode=systemd
elif command -v dpkg-reconfigure >/dev/null 2>&1; then
    mode=debian
else
    echo "hactl's timezone module sets the zone with timedatectl (systemd) or on Debian (dpkg-reconfigure); this host has neither" >&2
    exit 4
fi
if [ -n "$name" ] && [ ! -f "$zoneinfo/$name" ]; then
    abort "given timezone \"$name\" is not available"
fi

if [ "$mode" = systemd ]; then
    get() {
        _s=$(execute "$tdc" status) || exit $?
        if [ "$1" = name ]; then
            printf '%s\n' "$_s" | sed -n 's/^[[:space:]]*Time \{0,1\}zone[[:space:]]*:[[:space:]]*\([^[:space:]]*\).*/\1/p' | head -n 1
        else
            _v=$(printf '%s\n' "$_s" | sed -n 's/^[[:space:]]*RTC in local TZ[[:space:]]*:[[:space:]]*\([^[:space:]]*\).*/\1/p' | head -n 1)
            if truthy "$_v"; then echo local; else echo UTC; fi
        fi
    }
    set_value() {
        if [ "$1" = hwclock ]; then
            if [ "$2" = local ]; then _v=yes; else _v=no; fi
            execute "$tdc" set-local-rtc "$_v" >/dev/null || exit $?
            log "executed \`$tdc set-local-rtc $_v\`"
        else
            execute "$tdc" set-timezone "$2" >/dev/null || exit $?
            log "executed \`$tdc set-timezone $2\`"
        fi
    }
else
    hwclock_bin=$(command -v hwclock 2>/dev/null) || {
        echo "Failed to find required executable \"hwclock\" in paths: $PATH" >&2; exit 3; }
    # config KEY PHASE: the value in the key's file, as _get_value_from_config.
    config() {
        case $1 in
            name)
                [ -f "$etc/timezone" ] || { echo n/a; return; }
                _v=$(sed -n 's/^\([^[:space:]][^[:space:]]*\).*/\1/p' "$etc/timezone" | head -n 1)
                if [ -z "$_v" ]; then
                    [ "$2" = before ] || abort "tried to configure name using a file \"$etc/timezone\", but could not find a valid value in it"
                    echo n/a
                else echo "$_v"; fi ;;
            hwclock)
                [ -f "$etc/default/rcS" ] || { echo n/a; return; }
                _v=$(sed -n 's/^UTC[[:space:]]*=[[:space:]]*\([^[:space:]]*\).*/\1/p' "$etc/default/rcS" | head -n 1)
                if [ -z "$_v" ]; then echo n/a
                elif truthy "$_v"; then echo UTC; else echo local; fi ;;
            adjtime)
                _v=$(grep -E '^(UTC|LOCAL)$' "$etc/adjtime" 2>/dev/null | head -n 1)
                if [ "$_v" = LOCAL ]; then echo local; else echo UTC; fi ;;
        esac
    }
    get() {
        if [ "$1" = hwclock ]; then
            _v=$(config hwclock "$2")
            [ "$_v" != "$hwclock" ] || _v=$(config adjtime "$2")
            echo "$_v"
            return
        fi
        _v=$(config name "$2") || exit $?
        if [ "$_v" = "$name" ]; then
            if [ -L "$etc/localtime" ]; then
                if [ -e "$etc/localtime" ]; then
                    _l=$(readlink "$etc/localtime")
                    case $_l in
                        */usr/share/zoneinfo/*) _z=${_l#*/usr/share/zoneinfo/} ;;
                        */etc/zoneinfo/*) _z=${_l#*/etc/zoneinfo/} ;;
                        *) _z='' ;;
                    esac
                    if [ -z "$_z" ]; then _v=n/a; elif [ "$_z" != "$name" ]; then _v=$_z; fi
                else _v=n/a; fi
            elif ! cmp -s "$etc/localtime" "$zoneinfo/$name"; then
                _v=n/a
            fi
        fi
        echo "$_v"
    }
    # edit FILE SED_REGEX LINE: the first matching line replaced, the others deleted (or the
    # line inserted first), as _edit_file.
    edit() {
        if [ -f "$1" ]; then cp -- "$1" "$tmp/in"; else : >"$tmp/in"; fi
        _n=$(grep -c -- "$2" "$tmp/in")
        # Where the line goes: at the first match, else at the top.
        if [ "$_n" -gt 0 ]; then
            awk -v re="$2" -v line="$3" '$0 ~ re { if (!d) { print line; d = 1 }; next } { print }' "$tmp/in" >"$tmp/new"
        else
            { printf '%s\n' "$3"; cat "$tmp/in"; } >"$tmp/new"
        fi
        cat "$tmp/new" >"$1" || abort "tried to configure $4 using a file \"$1\", but could not write to it"
        log "Added 1 line and deleted $_n line(s) on $1"
    }
    set_value() {
        if [ "$1" = hwclock ]; then
            if [ "$2" = local ]; then _o=--localtime; _u=no; else _o=--utc; _u=yes; fi
            edit "$etc/default/rcS" '^UTC[[:space:]]*=[[:space:]]*[^[:space:]]' "UTC=$_u" hwclock
            execute "$hwclock_bin" --systohc "$_o" >/dev/null || exit $?
            log "executed \`$hwclock_bin --systohc $_o\`"
        else
            edit "$etc/timezone" '^[^[:space:]]' "$2" name
            execute ln -sf "$zoneinfo/$2" "$etc/localtime" >/dev/null || exit $?
            execute dpkg-reconfigure --frontend noninteractive tzdata >/dev/null || exit $?
        fi
    }
fi

# The module's order: hwclock, then name.
for key in hwclock name; do
    eval "want=\$$key"
    [ -n "$want" ] || continue
    v=$(get "$key" before) || exit $?
    eval "before_$key=\$v"
    echo "hactl:before_$key=$v"
done
if [ "$check" = 1 ]; then
    [ -z "$hwclock" ] || echo "hactl:after_hwclock=$hwclock"
    [ -z "$name" ] || echo "hactl:after_name=$name"
    exit 0
fi
for key in hwclock name; do
    eval "want=\$$key; was=\${before_$key:-}"
    [ -n "$want" ] || continue
    [ "$was" = "$want" ] || set_value "$key" "$want"
done
bad='' planned='' after=''
for key in hwclock name; do
    eval "want=\$$key"
    [ -n "$want" ] || continue
    v=$(get "$key" after) || exit $?
    echo "hactl:after_$key=$v"
    [ "$v" = "$want" ] || bad=1
    planned="$planned${planned:+, }'$key': '$want'"
    after="$after${after:+, }'$key': '$v'"
done
printf '%s' "$msgs" | while IFS= read -r m; do echo "hactl:msg=$m"; done
[ -z "$bad" ] || abort "still not desired state, though changes have made - planned: {$planned}, after: {$after}"
