# `debconf`, host side. Inputs: step (read|set) pkg question vtype unseen check. read: prints
# debconf-show's answers for pkg (base64) and, for a password question, whether the value on
# stdin is the stored one (the stored value never leaves the host). set: hands the line on
# stdin to debconf-set-selections.
# shellcheck disable=SC2154
say() { printf 'hactl:%s=%s\n' "$1" "$2"; }
for t in debconf-show debconf-set-selections; do
    command -v "$t" >/dev/null 2>&1 || { echo "Failed to find required executable \"$t\" in paths: $PATH" >&2; exit 3; }
done
if [ "$step" = set ]; then
    set --
    [ "$unseen" = 1 ] && set -- -u
    out=$(debconf-set-selections "$@") || exit $?
    printf 'hactl:msg_b64='; printf '%s' "$out" | base64 -w0; echo
    exit 0
fi
shown=$(debconf-show "$pkg") || exit $?
printf 'hactl:shown_b64='; printf '%s' "$shown" | base64 -w0; echo
if [ "$vtype" = password ]; then
    IFS= read -r want || true
    command -v debconf-get-selections >/dev/null 2>&1 || { echo "Failed to find required executable \"debconf-get-selections\" in paths: $PATH" >&2; exit 3; }
    have=$(debconf-get-selections | awk -F'\t' -v p="$pkg" -v q="$question" -v t="$vtype" \
        'index($0, p) == 1 { if (NF <= 3) { print ""; exit } if ($2 == q && $3 == t) { print $4; exit } }')
    if [ "$have" = "$want" ]; then say pw_same 1; else say pw_same 0; fi
fi
