# community.general.make: `make -q` tells whether the targets are up to date; if not (and not
# in check mode) make runs them. Arguments: "$@" the command after make (-j N, -f FILE,
# targets, NAME=VALUE parameters); assigned by the caller: make (the tool; empty: gmake, else
# make), chdir, check (0/1).
# Prints hactl:tool=, hactl:q_rc= (make -q), and when make ran hactl:rc=; the output of the
# last command as hactl:out_b64= and hactl:err_b64=.
# shellcheck shell=sh
# shellcheck disable=SC2154 # the caller assigns the arguments
if [ -z "$make" ]; then
    make=$(command -v gmake 2>/dev/null || command -v make 2>/dev/null) || make=''
    if [ -z "$make" ]; then
        echo "Failed to find required executable \"make\" in paths: $PATH" >&2
        exit 3
    fi
fi
echo "hactl:tool=$make"
cd -- "$chdir" 2>/dev/null || {
    echo "Unable to change directory before execution: [Errno 2] No such file or directory: '$chdir'" >&2
    exit 3
}
t=$(mktemp -d) || exit 2
trap 'rm -rf -- "$t"' EXIT
"$make" "$@" -q >"$t/out" 2>"$t/err"
q=$?
echo "hactl:q_rc=$q"
if [ "$check" != 1 ] && [ "$q" != 0 ]; then
    "$make" "$@" >"$t/out" 2>"$t/err"
    echo "hactl:rc=$?"
fi
printf 'hactl:out_b64='; base64 -w0 <"$t/out"; echo
printf 'hactl:err_b64='; base64 -w0 <"$t/err"; echo
