# The state of an `async` job: finished or not, and when finished its exit code and output
# (base64). Named argument: JID.
d="${HOME:-/tmp}/.ansible_async/$JID"
if [ ! -d "$d" ]; then
    echo "hactl:missing=1"
    exit 0
fi
echo "hactl:results_file=$d"
if [ -f "$d/rc" ]; then
    echo "hactl:finished=1"
    echo "hactl:rc=$(cat "$d/rc")"
    echo "hactl:stdout_b64=$(base64 -w0 < "$d/stdout")"
    echo "hactl:stderr_b64=$(base64 -w0 < "$d/stderr")"
    echo "hactl:module_b64=$(base64 -w0 < "$d/module.json")"
elif [ -f "$d/timeout" ]; then
    echo "hactl:finished=1"
    echo "hactl:timed_out=1"
else
    echo "hactl:finished=0"
fi
