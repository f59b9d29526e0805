# `authorized_key`, host side. Inputs: step (read|write) user path manage_dir follow url
# check. read: prints the user's ids and home, the keys file's path and its content (base64),
# and the key fetched from url when one is given. write: the new content is on stdin; makes
# the folder (0700, the user's, with manage_dir) and puts the file in place atomically,
# keeping an existing file's owner and mode and giving a new one the user's and 0600, as
# ansible.posix.authorized_key does.
# shellcheck disable=SC2154
say() { printf 'hactl:%s=%s\n' "$1" "$2"; }
ent=$(getent passwd -- "$user")
if [ -n "$ent" ]; then
    uid=$(printf '%s\n' "$ent" | cut -d: -f3)
    gid=$(printf '%s\n' "$ent" | cut -d: -f4)
    home=$(printf '%s\n' "$ent" | cut -d: -f6)
    say user_found 1
elif [ -z "$path" ] || [ "$step" = write ]; then
    say no_user 1
    exit 0
fi
if [ -n "$path" ]; then keys=$path; sshdir=$(dirname -- "$path")
else sshdir=$home/.ssh; keys=$sshdir/authorized_keys; fi
if [ "$follow" = 1 ]; then keys=$(readlink -m -- "$keys"); fi
say keyfile "$keys"
if [ "$step" = read ]; then
    if [ -f "$keys" ]; then
        printf 'hactl:content_b64='; base64 -w0 <"$keys" || exit 2; echo
    fi
    if [ -n "$url" ]; then
        if command -v curl >/dev/null 2>&1; then got=$(curl -fsSL -- "$url" | base64 -w0)
        elif command -v wget >/dev/null 2>&1; then got=$(wget -qO- -- "$url" | base64 -w0)
        else got=; fi
        if [ -z "$got" ]; then say url_failed 1; else say url_b64 "$got"; fi
    fi
    exit 0
fi
[ "$check" = 1 ] && exit 0
if [ "$manage_dir" = 1 ]; then
    if [ ! -e "$sshdir" ]; then mkdir -m 0700 -- "$sshdir" || exit 2; fi
    chown -- "$uid:$gid" "$sshdir" && chmod 0700 -- "$sshdir" || exit 2
fi
if [ ! -e "$keys" ]; then
    mkdir -p -- "$(dirname -- "$keys")" && : >"$keys" || exit 2
fi
chown -- "$uid:$gid" "$keys" 2>/dev/null
chmod 0600 -- "$keys" 2>/dev/null
tmp=
trap '[ -z "$tmp" ] || rm -f -- "$tmp"' EXIT
trap 'exit 1' HUP INT TERM PIPE
tmp=$(mktemp -- "$(dirname -- "$keys")/.hactl.XXXXXXXX") || exit 2
cat >"$tmp" || exit 2
chown --reference="$keys" -- "$tmp" 2>/dev/null
chmod --reference="$keys" -- "$tmp" || exit 2
mv -f -- "$tmp" "$keys" || exit 2
tmp=
say written 1
