# The persistent shell's loop (see shell.rs for the framing).
# shellcheck shell=sh
d=$(mktemp -d "${TMPDIR:-/tmp}/hactl.XXXXXXXX") || exit 1
trap 'rm -rf "$d"' EXIT
trap 'exit 1' HUP INT TERM PIPE
take() {
    [ "$1" -gt 0 ] || return 0
    LC_ALL=C dd bs="$1" count=1 iflag=fullblock 2>"$d/t" && read -r t <"$d/t" &&
        [ "$t" = "1+0 records in" ]
}
while read -r n m k; do
    take "$n" >"$d/s" && take "$m" >"$d/i" || exit 1
    exec 3<&0
    { read -r t <&3 || kill -HUP -$$ 2>/dev/null; } &
    w=$!
    exec 3<&-
    if [ "$k" = s ]; then
        { sh "$d/s" <"$d/i" 2>"$d/e"; echo $? >"$d/r"; } |
            while IFS= read -r l || [ -n "$l" ]; do printf 'O %s\n' "$l"; done
        rc=$(cat "$d/r"); : >"$d/o"
    else
        sh "$d/s" <"$d/i" >"$d/o" 2>"$d/e"; rc=$?
    fi
    kill -KILL "$w" 2>/dev/null; wait "$w" 2>/dev/null
    printf '%s %s %s\n' "$rc" "$(wc -c <"$d/o")" "$(wc -c <"$d/e")"
    cat "$d/o" "$d/e"
done
