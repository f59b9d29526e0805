# The `user` module on the host, as Ansible's User class does it with useradd/usermod/userdel.
# Inputs (set before this body): name state uid non_unique group groups_set groups append
# home create_home shell comment_set comment system remove force move_home expires skeleton umask
# update_password password_set check. expires: '' unset, 'never' (a negative value), or
# YYYY-MM-DD. The password hash, when password_set=1, is the first line of stdin: it never
# appears in a command line (chpasswd -e reads it).
# shellcheck disable=SC2154
password=
if [ "$password_set" = 1 ]; then IFS= read -r password || true; fi
say() { printf 'hactl:%s=%s\n' "$1" "$2"; }
fail() { echo "hactl:norc=1"; printf '%s\n' "$1" >&2; exit 3; }
out=
err=
# run CMD...: runs a tool, keeping its output for the result; fails as Ansible does.
run() {
    _e=$(mktemp) || exit 2
    out=$("$@" 2>"$_e"); _rc=$?
    err=$(cat "$_e"); rm -f "$_e"
    if [ "$_rc" != 0 ]; then printf '%s\n' "$err" >&2; exit "$_rc"; fi
}
# Fields of NAME's passwd entry, the group database, the shadow hash.
pw() { getent passwd -- "$name" | cut -d: -f"$1"; }
exists() { getent passwd -- "$name" >/dev/null 2>&1; }
group_line() {
    case $1 in
        *[!0-9]*) getent group -- "$1" ;;
        *) getent group -- "$1" || getent group | awk -F: -v g="$1" '$1 == g' ;;
    esac
}
shadow() { getent shadow -- "$name" 2>/dev/null | cut -d: -f"$1"; }
set_password() {
    printf '%s:%s\n' "$name" "$password" | chpasswd -e || exit 4
}

say name "$name"
say state "$state"
changed=0
if [ "$state" = absent ]; then
    if exists; then
        changed=1
        if [ "$check" = 1 ]; then echo "hactl:only_changed=1"; exit 0; fi
        set --
        [ "$force" = 1 ] && set -- "$@" -f
        [ "$remove" = 1 ] && set -- "$@" -r
        run userdel "$@" -- "$name"
        say force "$force"
        say remove "$remove"
    fi
    say changed "$changed"
    [ -z "$out" ] || { printf 'hactl:stdout_b64='; printf '%s' "$out" | base64 -w0; echo; }
    [ -z "$err" ] || { printf 'hactl:stderr_b64='; printf '%s' "$err" | base64 -w0; echo; }
    exit 0
fi

# The groups as names, each checked (a gid counts as its group).
resolve_groups() {
want_groups=
if [ "$groups_set" = 1 ] && [ -n "$groups" ]; then
    old_ifs=$IFS; IFS=,
    for g in $groups; do
        IFS=$old_ifs
        line=$(group_line "$g") || fail "Group $g does not exist"
        [ -n "$line" ] || fail "Group $g does not exist"
        want_groups="$want_groups${want_groups:+,}${line%%:*}"
    done
    IFS=$old_ifs
fi
}

if ! exists; then
    changed=1
    if [ "$check" = 1 ]; then echo "hactl:only_changed=1"; exit 0; fi
    resolve_groups
    set --
    if [ -n "$uid" ]; then set -- "$@" -u "$uid"; [ "$non_unique" = 1 ] && set -- "$@" -o; fi
    if [ -n "$group" ]; then
        group_line "$group" >/dev/null || fail "Group $group does not exist"
        set -- "$@" -g "$group"
    elif getent group -- "$name" >/dev/null 2>&1; then
        # A group named like the user exists: useradd must not try to make it.
        set -- "$@" -N
    fi
    [ -n "$want_groups" ] && set -- "$@" -G "$want_groups"
    [ "$comment_set" = 1 ] && set -- "$@" -c "$comment"
    if [ -n "$home" ]; then
        parent=$(dirname -- "$home")
        [ "$create_home" = 1 ] && [ ! -d "$parent" ] && { mkdir -p -- "$parent" || exit 2; }
        set -- "$@" -d "$home"
    fi
    [ -n "$shell" ] && set -- "$@" -s "$shell"
    case $expires in '') ;; never) set -- "$@" -e '' ;; *) set -- "$@" -e "$expires" ;; esac
    if [ "$create_home" = 1 ]; then
        set -- "$@" -m
        [ -n "$skeleton" ] && set -- "$@" -k "$skeleton"
        [ -n "$umask" ] && set -- "$@" -K "UMASK=$umask"
    else
        set -- "$@" -M
    fi
    [ "$system" = 1 ] && set -- "$@" -r
    run useradd "$@" -- "$name"
    [ "$password_set" = 1 ] && set_password
    say system "$system"
    say create_home "$create_home"
else
    resolve_groups
    set --
    cur_uid=$(pw 3) cur_gid=$(pw 4) cur_comment=$(pw 5) cur_home=$(pw 6) cur_shell=$(pw 7)
    if [ -n "$uid" ] && [ "$uid" != "$cur_uid" ]; then
        set -- "$@" -u "$uid"; [ "$non_unique" = 1 ] && set -- "$@" -o
    fi
    if [ -n "$group" ]; then
        gl=$(group_line "$group") || fail "Group $group does not exist"
        [ -n "$gl" ] || fail "Group $group does not exist"
        g=$(printf '%s\n' "$gl" | cut -d: -f3)
        [ "$g" = "$cur_gid" ] || set -- "$@" -g "$g"
    fi
    if [ "$groups_set" = 1 ]; then
        # Groups the user is a listed member of, sorted, against those asked for.
        cur=$(getent group | awk -F: -v u="$name" '{ n = split($4, m, ","); for (i = 1; i <= n; i++) if (m[i] == u) print $1 }' | sort -u)
        want=$(printf '%s\n' "$want_groups" | tr ',' '\n' | sed '/^$/d' | sort -u)
        if [ -z "$want_groups" ]; then
            [ -n "$cur" ] && [ "$append" != 1 ] && set -- "$@" -G ''
        elif [ "$cur" != "$want" ]; then
            if [ "$append" = 1 ]; then
                missing=$(printf '%s\n' "$want" | while IFS= read -r g; do
                    printf '%s\n' "$cur" | grep -qxF -- "$g" || echo "$g"; done)
                [ -n "$missing" ] && set -- "$@" -a -G "$want_groups"
            else
                set -- "$@" -G "$want_groups"
            fi
        fi
    fi
    [ "$comment_set" = 1 ] && [ "$comment" != "$cur_comment" ] && set -- "$@" -c "$comment"
    if [ -n "$home" ] && [ "$home" != "$cur_home" ]; then
        set -- "$@" -d "$home"; [ "$move_home" = 1 ] && set -- "$@" -m
    fi
    [ -n "$shell" ] && [ "$shell" != "$cur_shell" ] && set -- "$@" -s "$shell"
    if [ -n "$expires" ]; then
        cur_exp=$(shadow 8)
        [ -n "$cur_exp" ] || cur_exp=-1
        if [ "$expires" = never ]; then
            [ "$cur_exp" -ge 0 ] && set -- "$@" -e ''
        elif [ "$cur_exp" -lt 0 ] || [ "$(date -u -d "@$((cur_exp * 86400))" +%Y-%m-%d)" != "$expires" ]; then
            set -- "$@" -e "$expires"
        fi
    fi
    new_password=0
    if [ "$password_set" = 1 ] && [ "$update_password" = always ]; then
        cur_pw=$(shadow 2)
        [ "${cur_pw#!}" = "${password#!}" ] || new_password=1
    fi
    if [ $# -gt 0 ] || [ "$new_password" = 1 ]; then
        changed=1
        if [ "$check" != 1 ]; then
            [ $# -gt 0 ] && run usermod "$@" -- "$name"
            [ "$new_password" = 1 ] && set_password
        fi
    fi
    say append "$append"
    say move_home "$move_home"
fi
[ "$password_set" = 1 ] && say password NOT_LOGGING_PASSWORD
[ -z "$out" ] || { printf 'hactl:stdout_b64='; printf '%s' "$out" | base64 -w0; echo; }
[ -z "$err" ] || { printf 'hactl:stderr_b64='; printf '%s' "$err" | base64 -w0; echo; }
if exists; then
    say uid "$(pw 3)"
    say group "$(pw 4)"
    printf 'hactl:comment_b64='; pw 5 | tr -d '\n' | base64 -w0; echo
    say home "$(pw 6)"
    say shell "$(pw 7)"
    h=${home:-$(pw 6)}
    if [ "$create_home" = 1 ] && [ ! -e "$h" ]; then
        changed=1
        if [ "$check" != 1 ]; then
            skel=${skeleton:-/etc/skel}
            if [ -d "$skel" ]; then cp -a -- "$skel" "$h" || exit 2; else mkdir -p -- "$h" || exit 2; fi
            mode=$(awk '$1 == "HOME_MODE" { print $2; exit }' /etc/login.defs 2>/dev/null)
            if [ -z "$mode" ]; then
                um=$(awk '$1 == "UMASK" { print $2; exit }' /etc/login.defs 2>/dev/null)
                mode=$(printf '%o' $((0777 & ~0${um:-022})))
            fi
            chmod -- "$mode" "$h" && chown -R -- "$(pw 3):$(pw 4)" "$h" || exit 2
        fi
    fi
fi
say changed "$changed"
