# Runs a module's script in the background for `async`: the script and its stdin are saved
# in the job's folder, the script runs in a session of its own with its output there, and a
# watchdog ends it after the time `async` allows. Prints the folder.
# Named arguments: JID, TIMEOUT (seconds), MODULE_JSON (the module and its arguments, for
# async_status). The script comes in $HACTL_ASYNC_SCRIPT's file,
# written by the caller; the job's stdin is this script's stdin.
d="${HOME:-/tmp}/.ansible_async/$JID"
mkdir -p -- "$d" || exit 2
cat > "$d/stdin" || exit 2
mv -f -- "$HACTL_ASYNC_SCRIPT" "$d/script" || exit 2
# shellcheck disable=SC2016 # expanded by the inner shell, from its $1
setsid sh -c 'sh "$1/script" < "$1/stdin" > "$1/stdout" 2> "$1/stderr"; echo $? > "$1/rc.tmp"; mv -f "$1/rc.tmp" "$1/rc"' sh "$d" </dev/null >/dev/null 2>&1 &
pid=$!
echo "$pid" > "$d/pid"
(
    sleep "$TIMEOUT"
    if [ ! -f "$d/rc" ]; then
        echo timeout > "$d/timeout"
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM -- "$pid" 2>/dev/null
    fi
) </dev/null >/dev/null 2>&1 &
printf '%s\n' "$MODULE_JSON" > "$d/module.json"
echo "hactl:results_file=$d"
