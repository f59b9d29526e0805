# git: checks out `repo` at `version` in `dest` with the host's git, following ansible-core's
# git module: clone when dest has no repository, else (with update) refuse or reset local
# changes, set the remote URL, fetch, and switch to the version; check mode asks the remote
# with ls-remote. Arguments (assigned by the caller): repo, dest, version, remote, depth
# (empty: full), clone, update, force, bare, recursive, single_branch, check (0/1),
# ssh_cmd (GIT_SSH_COMMAND, empty: none).
# Prints hactl:before=, hactl:after=, hactl:changed=, hactl:remote_url_changed=, hactl:msg=,
# hactl:submodules_changed=, hactl:warning=. Exit 3 with the module's message: failed.
# shellcheck shell=sh
# shellcheck disable=SC2154 # the caller assigns the arguments
export LANG=C LC_ALL=C LC_MESSAGES=C LC_CTYPE=C LANGUAGE=C
[ -z "$ssh_cmd" ] || export GIT_SSH_COMMAND="$ssh_cmd"
git=$(command -v git 2>/dev/null) || { echo "Failed to find required executable \"git\" in paths: $PATH" >&2; exit 3; }
fail() { printf '%s\n' "$1" >&2; [ -z "${2:-}" ] || printf '%s\n' "$2" >&2; exit 3; }
# shellcheck disable=SC2088 # the quoted tilde is the pattern, not a path
case $repo in '~'|'~/'*) r=$HOME${repo#"~"} ;; *) r=$repo ;; esac
case $r in /*) repo=file://$r ;; esac
# shellcheck disable=SC2088 # the quoted tilde is the pattern, not a path
case $dest in '~'|'~/'*) dest=$HOME${dest#"~"} ;; esac
case $dest in /*) ;; *) dest=$(pwd)/$dest ;; esac
if [ "$bare" = 1 ]; then gitdir=$dest; else gitdir=$dest/.git; fi
# fd 3: the script's stdout, also from inside $(...) and ( ).
exec 3>&1
tmp=$(mktemp -d) || exit 2
trap 'rm -rf -- "$tmp"' EXIT
run() { "$git" "$@" >"$tmp/out" 2>"$tmp/err"; }
# checked ARGS...: run_command(check_rc=True): a failure fails the task with the command.
checked() {
    run "$@" && return 0
    _rc=$?
    printf 'hactl:rc=%s\nhactl:cmd=%s %s\n' "$_rc" "$git" "$*" >&3
    printf 'hactl:stdout_b64=%s\n' "$(base64 -w0 <"$tmp/out")" >&3
    printf 'hactl:stderr_b64=%s\n' "$(base64 -w0 <"$tmp/err")" >&3
    exit 5
}
in_dest() { (cd "$dest" && "$git" "$@") >"$tmp/out" 2>"$tmp/err"; }
# remote_ref WHERE KIND NAME: the ls-remote output for a branch (-h) or tag (-t).
is_remote_branch() { checked ls-remote "$1" -h "refs/heads/$version" && grep -qF -- "$version" "$tmp/out"; }
is_remote_tag() { checked ls-remote "$1" -t "refs/tags/$version" && grep -qF -- "$version" "$tmp/out"; }
head_branch() {
    _h=$(cd "$dest" && "$git" symbolic-ref -q "refs/remotes/$remote/HEAD" 2>/dev/null) ||
        _h=$(sed -n 's|^ref: ||p' "$gitdir/refs/remotes/$remote/HEAD" 2>/dev/null)
    printf '%s\n' "${_h#refs/remotes/"$remote"/}"
}
# remote_head WHERE: the SHA the version names on the remote (WHERE: the URL when cloning,
# else the remote's name, asked from dest).
remote_head() {
    _w=$1
    if [ "$_w" = "$repo" ]; then _cd=.; else _cd=$dest; fi
    _tag=0
    if [ "$version" = HEAD ]; then
        if [ "$_w" = "$repo" ]; then set -- ls-remote "$_w" -h HEAD
        else set -- ls-remote "$_w" -h "refs/heads/$(head_branch)"; fi
    elif (cd "$_cd" && is_remote_branch "$_w"); then set -- ls-remote "$_w" -h "refs/heads/$version"
    elif (cd "$_cd" && is_remote_tag "$_w"); then _tag=1; set -- ls-remote "$_w" -t "refs/tags/$version*"
    else printf '%s\n' "$version"; return 0; fi
    (cd "$_cd" && "$git" "$@") >"$tmp/rh" 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 3; }
    [ -s "$tmp/rh" ] || fail "Could not determine remote revision for $version"
    if [ "$_tag" = 1 ]; then
        _l=$(awk -v v="$version" '{ n = length($2) }
            substr($2, n - length(v "^{}") + 1) == v "^{}" { print; found = 1; exit }
            substr($2, n - length(v) + 1) == v { last = $0 } END { if (!found && last != "") print last }' "$tmp/rh")
    else _l=$(head -n 1 "$tmp/rh"); fi
    printf '%s\n' "${_l%%	*}"
}
version_now() { (cd "$dest" && "$git" rev-parse HEAD 2>/dev/null) || true; }
unfrack() { printf '%s\n' "$1" | sed -e 's|/*$||' -e 's|//*|/|g'; }
submodules() { [ -f "$dest/.gitmodules" ] && (cd "$dest" && "$git" submodule status --recursive 2>/dev/null); }

changed=0 local_mods=0 remote_url_changed=0
if [ ! -f "$gitdir/config" ]; then
    echo "hactl:before="
    if [ "$check" = 1 ] || [ "$clone" != 1 ]; then
        echo "hactl:after=$(remote_head "$repo")"
        echo "hactl:changed=1"
        exit 0
    fi
    mkdir -p -- "$(dirname -- "$dest")" 2>/dev/null
    set -- clone
    if [ "$bare" = 1 ]; then set -- "$@" --bare; else set -- "$@" --origin "$remote"; fi
    branch_or_tag=0
    if is_remote_branch "$repo" || is_remote_tag "$repo"; then branch_or_tag=1; fi
    if [ -n "$depth" ]; then
        if [ "$version" = HEAD ]; then set -- "$@" --depth "$depth"
        elif [ "$branch_or_tag" = 1 ]; then set -- "$@" --depth "$depth" --branch "$version"
        else echo "hactl:warning=Ignoring depth argument. Shallow clones are only available for HEAD, branches, tags or in combination with refspec."; fi
    fi
    if [ "$single_branch" = 1 ]; then
        set -- "$@" --single-branch
        [ "$branch_or_tag" = 1 ] && set -- "$@" --branch "$version"
    fi
    run "$@" "$repo" "$dest" || { cat "$tmp/err" >&2; exit 3; }
    if [ "$bare" = 1 ] && [ "$remote" != origin ]; then
        in_dest remote add "$remote" "$repo" || { cat "$tmp/err" >&2; exit 3; }
    fi
    before=''
elif [ "$update" != 1 ]; then
    v=$(version_now)
    echo "hactl:before=$v"
    echo "hactl:after=$v"
    echo "hactl:changed=0"
    exit 0
else
    if [ "$bare" != 1 ] && (cd "$dest" && "$git" status --porcelain) | grep -qv '^??'; then local_mods=1; fi
    before=$(version_now)
    echo "hactl:before=$before"
    if [ "$local_mods" = 1 ]; then
        [ "$force" = 1 ] || fail "Local modifications exist in the destination: $dest (force=no)."
        if [ "$check" != 1 ]; then
            in_dest reset --hard HEAD -- || fail "Failed to reset: $(cat "$tmp/err")"
            changed=1
            echo "hactl:msg=Local modifications exist in the destination: $dest"
        fi
    fi
    url=$(cd "$dest" && "$git" config --get "remote.$remote.url" 2>/dev/null) || url=''
    if [ -n "$url" ] && [ "$url" != "$repo" ] && [ "$(unfrack "$url")" != "$(unfrack "$repo")" ]; then
        remote_url_changed=1
        if [ "$check" != 1 ]; then in_dest remote set-url "$remote" "$repo" || fail "Failed to set a new url $repo for $remote: $(cat "$tmp/out")"; fi
    elif [ -z "$url" ] && [ "$check" != 1 ]; then
        remote_url_changed=1
        in_dest remote add "$remote" "$repo" 2>/dev/null || in_dest remote set-url "$remote" "$repo"
    fi
    echo "hactl:remote_url_changed=$remote_url_changed"
    if [ "$check" = 1 ]; then
        after=$(remote_head "$remote") || exit 3
        echo "hactl:after=$after"
        if [ "$before" != "$after" ] || [ "$remote_url_changed" = 1 ]; then echo "hactl:changed=1"; else echo "hactl:changed=0"; fi
        exit 0
    fi
    set -- fetch
    [ -z "$depth" ] || set -- "$@" --depth "$depth"
    [ "$force" = 1 ] && set -- "$@" --force
    if [ "$bare" = 1 ]; then set -- "$@" "$remote" '+refs/heads/*:refs/heads/*' '+refs/tags/*:refs/tags/*'
    else set -- "$@" "$remote" "+refs/heads/*:refs/remotes/$remote/*" '+refs/tags/*:refs/tags/*'; fi
    in_dest "$@" || fail "Failed to download remote objects and refs:  $(cat "$tmp/out") $(cat "$tmp/err")"
fi
subs_before=$(submodules)
if [ "$bare" != 1 ]; then
    if [ "$version" = HEAD ]; then
        branch=$(head_branch)
        in_dest checkout --force "$branch" || fail "Failed to checkout branch $branch" "$(cat "$tmp/err")"
        in_dest reset --hard "$remote/$branch" -- || fail "Failed to checkout branch $branch" "$(cat "$tmp/err")"
    elif (cd "$dest" && is_remote_branch "$remote"); then
        if [ -n "$depth" ] && ! (cd "$dest" && "$git" show-ref --verify --quiet "refs/heads/$version"); then
            in_dest fetch --depth="$depth" "$remote" "+refs/heads/$version:refs/remotes/$remote/$version" || fail "Failed to fetch branch from remote: $version" "$(cat "$tmp/err")"
        fi
        if ! (cd "$dest" && "$git" show-ref --verify --quiet "refs/heads/$version"); then
            in_dest checkout --track -b "$version" "$remote/$version" || fail "Failed to checkout $version" "$(cat "$tmp/err")"
        else
            in_dest checkout --force "$version" || fail "Failed to checkout branch $version" "$(cat "$tmp/err")"
            in_dest reset --hard "$remote/$version" || fail "Failed to checkout $version" "$(cat "$tmp/err")"
        fi
    else
        in_dest checkout --force "$version" || fail "Failed to checkout $version" "$(cat "$tmp/err")"
    fi
    if [ "$recursive" = 1 ] && [ -f "$dest/.gitmodules" ]; then
        if ! { in_dest submodule sync --recursive && in_dest submodule update --init --recursive; }; then
            fail "Failed to init/update submodules: $(cat "$tmp/out")" "$(cat "$tmp/err")"
        fi
    fi
fi
[ "$(submodules)" = "$subs_before" ] || { echo "hactl:submodules_changed=1"; changed=1; }
after=$(version_now)
[ "$bare" = 1 ] && after=$( (cd "$dest" && "$git" rev-parse HEAD) 2>/dev/null)
echo "hactl:after=$after"
if [ "$before" != "$after" ] || [ "$local_mods" = 1 ] || [ "$remote_url_changed" = 1 ]; then changed=1; fi
echo "hactl:changed=$changed"
