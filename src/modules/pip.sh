# pip: runs the host's pip as ansible-core's pip module does (no Python module of its own).
# Arguments (assigned by the caller): env (virtualenv folder, empty: none), chdir, executable,
# check (0/1), list_only (1: only list the installed packages, for check mode), freeze (1:
# list before and after, to tell a change from a requirements file), n_venv; "$@": the n_venv
# words of virtualenv_command (+ its options), then pip's arguments (install ..., -r FILE).
# Prints hactl:venv_created=1, hactl:pip_b64= (the pip command, one word a line), hactl:list_cmd=,
# hactl:list_b64= (the freeze list), hactl:rc=, hactl:out_b64=, hactl:err_b64=,
# hactl:freeze_changed=. Exit 3 with a message: failed.
# shellcheck shell=sh
# shellcheck disable=SC2154 # the caller assigns the arguments
tmp=$(mktemp -d) || exit 2
trap 'rm -rf -- "$tmp"' EXIT
i=0
for a do
    i=$((i + 1))
    if [ "$i" -le "$n_venv" ]; then printf '%s\n' "$a" >>"$tmp/venv"; else printf '%s\n' "$a" >>"$tmp/args"; fi
done
touch "$tmp/venv" "$tmp/args"
[ -n "$chdir" ] || chdir=${TMPDIR:-/tmp}
cd -- "$chdir" || exit 3
: >"$tmp/out"; : >"$tmp/err"
if [ -n "$env" ] && [ ! -e "$env/bin/activate" ]; then
    echo "hactl:venv_created=1"
    set --
    while IFS= read -r w; do set -- "$@" "$w"; done <"$tmp/venv"
    case $1 in */*) ;; *) p=$(command -v "$1") || { echo "Failed to find required executable \"$1\" in paths: $PATH" >&2; exit 3; }; shift; set -- "$p" "$@" ;; esac
    if [ "$check" = 1 ]; then exit 0; fi
    "$@" "$env" >"$tmp/out" 2>"$tmp/err" || { cat "$tmp/out" "$tmp/err" >&2; exit 3; }
fi
# The pip to run, as _get_pip picks it.
if [ -n "$executable" ]; then
    case $executable in */*) pip=$executable ;; *) pip=$(command -v "$executable") || pip='' ;; esac
    [ -n "$pip" ] || { echo "Unable to find any of $executable to use.  pip needs to be installed." >&2; exit 3; }
    set -- "$pip"
elif [ -n "$env" ]; then
    if [ -x "$env/bin/pip3" ]; then set -- "$env/bin/pip3"
    elif [ -x "$env/bin/pip" ]; then set -- "$env/bin/pip"
    else echo "Unable to find pip in the virtualenv, $env, under any of these names: pip3, pip. Make sure pip is present in the virtualenv." >&2; exit 3; fi
else
    py=/usr/bin/python3
    [ -x "$py" ] || py=$(command -v python3 2>/dev/null) || py=''
    if [ -n "$py" ] && "$py" -c 'import pip' >/dev/null 2>&1; then set -- "$py" -m pip.__main__
    elif p=$(command -v pip3 2>/dev/null); then set -- "$p"
    else echo "Unable to find any of pip3 to use.  pip needs to be installed." >&2; exit 3; fi
fi
for w do printf '%s\n' "$w"; done >"$tmp/pip"
printf 'hactl:pip_b64='; base64 -w0 <"$tmp/pip"; echo
[ -z "$env" ] || PATH=$env/bin:$PATH
# pip_args: "$@" set back to the pip command alone.
freeze() {
    if "$@" list --format=freeze >"$tmp/list" 2>"$tmp/lerr"; then echo "hactl:list_cmd=$* list --format=freeze"
    else "$@" freeze >"$tmp/list" 2>"$tmp/lerr"; echo "hactl:list_cmd=$* freeze"; fi
}
if [ "$list_only" = 1 ]; then
    freeze "$@"
    printf 'hactl:list_b64='; base64 -w0 <"$tmp/list"; echo
    printf 'hactl:err_b64='; base64 -w0 <"$tmp/lerr"; echo
    exit 0
fi
if [ "$freeze" = 1 ]; then freeze "$@" >/dev/null; cp -- "$tmp/list" "$tmp/before"; fi
while IFS= read -r w; do set -- "$@" "$w"; done <"$tmp/args"
"$@" >>"$tmp/out" 2>>"$tmp/err"
echo "hactl:rc=$?"
printf 'hactl:out_b64='; base64 -w0 <"$tmp/out"; echo
printf 'hactl:err_b64='; base64 -w0 <"$tmp/err"; echo
if [ "$freeze" = 1 ]; then
    set --
    while IFS= read -r w; do set -- "$@" "$w"; done <"$tmp/pip"
    freeze "$@" >/dev/null
    if cmp -s "$tmp/before" "$tmp/list"; then echo "hactl:freeze_changed=0"; else echo "hactl:freeze_changed=1"; fi
fi
exit 0
