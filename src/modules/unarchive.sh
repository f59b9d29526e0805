# unarchive: unpacks an archive into dest with the host's tar (GNU) or unzip, as Ansible's
# module does. attrs.sh and pathinfo.sh are prepended.
# Arguments (assigned by the caller): src (the archive on the host; empty: it comes on stdin
# and goes to a temp file), dest, creates, check (0/1), keep_newer (0/1), owner, group, mode,
# n_opts, n_inc, n_exc; "$@": the n_opts extra_opts, then the n_inc includes, then the n_exc
# excludes.
# Prints hactl:KEY=VALUE lines: skipped (creates exists), src, handler, tool, zflag, unarchived,
# check_skip (tar in check mode), rc and out_b64/err_b64 of the extraction, file_b64 (each
# archive member), attrs, and the path info of dest. Exit 3 with a message: failed.
# shellcheck shell=sh
# shellcheck disable=SC2154 # the caller assigns the arguments
# home PATH: a leading ~ is the user's home (type='path').
# shellcheck disable=SC2088 # the quoted tilde is the pattern, not a path
home() { case $1 in '~'|'~/'*) printf '%s\n' "$HOME${1#"~"}" ;; *) printf '%s\n' "$1" ;; esac; }
creates=$(home "$creates")
if [ -n "$creates" ] && { [ -e "$creates" ] || [ -L "$creates" ]; }; then
    echo "hactl:skipped=1"; echo "hactl:creates=$creates"; exit 0
fi
dest=$(home "$dest")
echo "hactl:dest=$dest"
if [ ! -d "$dest" ]; then echo "dest '$dest' must be an existing dir" >&2; exit 3; fi
case $dest in /*) ;; *) dest=$(pwd)/$dest ;; esac
tmpd=$(mktemp -d "${TMPDIR:-/tmp}/hactl-unarchive.XXXXXXXX") || exit 2
trap 'rm -rf -- "$tmpd"' EXIT
if [ -z "$src" ]; then
    src=$tmpd/source
    cat >"$src" || exit 2
else
    src=$(home "$src")
    if [ ! -e "$src" ]; then echo "Source '$src' does not exist" >&2; exit 3; fi
    case $src in /*) ;; *) src=$(pwd)/$src ;; esac
fi
if [ ! -r "$src" ]; then echo "Source '$src' not readable" >&2; exit 3; fi
if [ ! -s "$src" ]; then echo "Invalid archive '$src', the file is 0 bytes" >&2; exit 3; fi
echo "hactl:src=$src"
# The lists, out of "$@" into files (one per line) the functions read back.
i=0
for a do
    i=$((i + 1))
    if [ "$i" -le "$n_opts" ]; then printf '%s\n' "$a" >>"$tmpd/opts"
    elif [ "$i" -le $((n_opts + n_inc)) ]; then printf '%s\n' "$a" >>"$tmpd/inc"
    else printf '%s\n' "$a" >>"$tmpd/exc"; fi
done
touch "$tmpd/opts" "$tmpd/inc" "$tmpd/exc"
# args KIND...: "$@" rebuilt as the command line of tar or unzip (see Ansible's handlers).
tar_args() {
    _verb=$1
    set -- "$_verb" -C "$dest"
    [ -z "$zflag" ] || set -- "$@" "$zflag"
    if [ -s "$tmpd/opts" ]; then
        set -- "$@" --show-transformed-names
        while IFS= read -r _o; do set -- "$@" "$_o"; done <"$tmpd/opts"
    fi
    if [ "$_verb" != --list ]; then
        [ -z "$owner" ] || set -- "$@" "--owner=$owner"
        [ -z "$group" ] || set -- "$@" "--group=$group"
        [ "$keep_newer" != 1 ] || set -- "$@" --keep-newer-files
    fi
    while IFS= read -r _e; do set -- "$@" "--exclude=${_e%/}"; done <"$tmpd/exc"
    set -- "$@" -f "$src"
    while IFS= read -r _i; do set -- "$@" "$_i"; done <"$tmpd/inc"
    for _a do printf '%s\n' "$_a"; done >"$tmpd/args"
}
run_tar() {
    tar_args "$1"
    set --
    while IFS= read -r _a; do set -- "$@" "$_a"; done <"$tmpd/args"
    (cd "$dest" && LC_ALL=C "$tool" "$@" >"$tmpd/out" 2>"$tmpd/err")
}
handler=''
reasons=''
if command -v unzip >/dev/null 2>&1 && command -v zipinfo >/dev/null 2>&1; then
    if unzip -l "$src" >/dev/null 2>&1; then handler=ZipArchive; tool=$(command -v unzip); fi
else
    reasons="Unable to find required 'unzip' or 'zipinfo' binary in the path."
fi
if [ -z "$handler" ]; then
    if [ "$check" = 1 ]; then echo "hactl:check_skip=1"; exit 0; fi
    tool=$(command -v gtar 2>/dev/null || command -v tar 2>/dev/null)
    if [ -z "$tool" ]; then
        reasons="$reasons
Unable to find required 'gtar' or 'tar' binary in the path"
    elif ! "$tool" --version 2>/dev/null | head -n 1 | grep -q '^tar.*GNU'; then
        reasons="$reasons
Command \"$tool\" detected as tar type None. GNU tar required."
    else
        for z in -z '' -j -J --zstd; do
            zflag=$z
            if run_tar --list && [ -s "$tmpd/out" ]; then
                case $z in -z) handler=TgzArchive ;; '') handler=TarArchive ;; -j) handler=TarBzipArchive ;;
                    -J) handler=TarXzArchive ;; *) handler=TarZstdArchive ;; esac
                break
            fi
        done
        [ -n "$handler" ] || reasons="$reasons
Command \"$tool\" could not handle archive: $(cat "$tmpd/err")"
    fi
fi
if [ -z "$handler" ]; then
    printf 'Failed to find handler for "%s". Make sure the required command to extract the file is installed.\n%s\n' "$src" "$reasons" >&2
    exit 3
fi
echo "hactl:handler=$handler"
echo "hactl:tool=$tool"
echo "hactl:zflag=$zflag"
# The members, as Ansible lists them (leading / taken off, excludes and includes applied).
excluded() {
    while IFS= read -r _e; do
        # shellcheck disable=SC2254 # the exclude is a pattern
        case $1 in ${_e%/}) return 0 ;; esac
    done <"$tmpd/exc"
    return 1
}
: >"$tmpd/files"
if [ "$handler" = ZipArchive ]; then
    zipinfo -1 "$src" >"$tmpd/list" 2>/dev/null || { echo "Unable to list files in the archive" >&2; exit 3; }
    while IFS= read -r f; do
        if [ -s "$tmpd/inc" ]; then
            while IFS= read -r _i; do
                # shellcheck disable=SC2254 # the include is a pattern
                case $f in $_i) printf '%s\n' "$f" >>"$tmpd/files" ;; esac
            done <"$tmpd/inc"
        elif ! excluded "$f"; then printf '%s\n' "$f" >>"$tmpd/files"; fi
    done <"$tmpd/list"
else
    while IFS= read -r f; do
        f=${f#/}
        excluded "$f" || printf '%s\n' "$f" >>"$tmpd/files"
    done <"$tmpd/out"
fi
# Unpacked already? tar: `tar --diff` and the differences Ansible counts; zip: every member
# is there with the same type and content.
unarchived=1
uid=$(id -u)
if [ "$handler" = ZipArchive ]; then
    while IFS= read -r f; do
        case $f in
            */) [ -d "$dest/$f" ] || { unarchived=0; break; } ;;
            *) if [ ! -f "$dest/$f" ] || ! unzip -p "$src" "$f" 2>/dev/null | cmp -s - "$dest/$f"; then
                   unarchived=0; break
               fi ;;
        esac
    done <"$tmpd/files"
else
    run_tar --diff
    cat "$tmpd/out" "$tmpd/err" >"$tmpd/diff"
    while IFS= read -r line; do
        case $line in
            *': : Warning: Cannot stat: No such file or directory') continue ;;
            *': Uid differs') [ "$uid" = 0 ] && [ -z "$owner" ] && unarchived=0 ;;
            *': Gid differs') [ "$uid" = 0 ] && [ -z "$group" ] && unarchived=0 ;;
            *': Mode differs') [ -z "$mode" ] && unarchived=0 ;;
            *': Mod time differs'|*': Warning: Cannot stat: No such file or directory'|*': Invalid owner'*|*': Invalid group'*|*': Symlink differs'|*': Contents differ'|*': Size differs')
                unarchived=0 ;;
        esac
    done <"$tmpd/diff"
fi
echo "hactl:unarchived=$unarchived"
if [ "$check" != 1 ] && [ "$unarchived" = 0 ]; then
    if [ "$handler" = ZipArchive ]; then
        set -- -o
        while IFS= read -r _o; do set -- "$@" "$_o"; done <"$tmpd/opts"
        set -- "$@" "$src"
        if [ -s "$tmpd/exc" ]; then
            set -- "$@" -x
            while IFS= read -r _e; do set -- "$@" "$_e"; done <"$tmpd/exc"
        fi
        while IFS= read -r _i; do set -- "$@" "$_i"; done <"$tmpd/inc"
        set -- "$@" -d "$dest"
        for _a do printf '%s\n' "$_a"; done >"$tmpd/args"
        "$tool" "$@" >"$tmpd/out" 2>"$tmpd/err"; rc=$?
    else
        run_tar --extract; rc=$?
    fi
    echo "hactl:rc=$rc"
    printf 'hactl:args_b64='; base64 -w0 <"$tmpd/args"; echo
    printf 'hactl:out_b64='; base64 -w0 <"$tmpd/out"; echo
    printf 'hactl:err_b64='; base64 -w0 <"$tmpd/err"; echo
    [ "$rc" = 0 ] || exit 0
fi
while IFS= read -r f; do
    printf 'hactl:file_b64=%s\n' "$(printf '%s' "$f" | base64 -w0)"
done <"$tmpd/files"
# Owner, group and mode on every member and each top folder, as the module sets them.
if [ "$check" != 1 ] && { [ -n "$owner" ] || [ -n "$group" ] || [ -n "$mode" ]; }; then
    : >"$tmpd/tops"
    while IFS= read -r f; do
        [ -e "$dest/$f" ] || [ -L "$dest/$f" ] || continue
        set_attrs_if_different "$dest/$f" 0
        case $f in */*) t=${f%%/*}; grep -qxF -- "$t" "$tmpd/tops" || printf '%s\n' "$t" >>"$tmpd/tops" ;; esac
    done <"$tmpd/files"
    while IFS= read -r t; do set_attrs_if_different "$dest/$t" 0; done <"$tmpd/tops"
fi
path_info "$dest"
