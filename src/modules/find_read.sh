# find (second pass): checksums and contents of the candidate files named in "$@".
# Arguments (assigned by the caller): algo (sha1, sha256, ...; empty: none), content (0/1).
# Prints hactl:sum_N= and hactl:data_N= (base64) for the Nth path (from 0); nothing for a
# file it cannot read.
# shellcheck shell=sh
# shellcheck disable=SC2154 # the caller assigns the arguments
n=0
for p do
    if [ -n "$algo" ]; then
        s=$("${algo}sum" <"$p" 2>/dev/null) && echo "hactl:sum_$n=${s%% *}"
    fi
    if [ "$content" = 1 ] && [ -r "$p" ]; then
        printf 'hactl:data_%s=' "$n"; base64 -w0 <"$p"; echo
    fi
    n=$((n + 1))
done
exit 0
