# apt_key with gpg, without apt-key (deprecated, gone from Debian 13): lists, adds and removes
# keys in a keyring file apt reads (binary exported keys, or armored for a .asc name).
# Arguments (assigned by the caller): keyring (empty: /etc/apt/trusted.gpg, and for listing
# and removing also /etc/apt/trusted.gpg.d/*.gpg|*.asc), state (present | absent), check
# (0/1), short (1: compare 8-character ids), short_id, fp (16 characters), key_id (as given,
# may be empty), file, url, insecure (0/1: validate_certs false), keyserver, data (1: the key
# is on stdin).
# Prints hactl:id= (the key found in data/file/url), hactl:before= and hactl:after= (space-
# separated ids), hactl:changed=. Exit 3 with the module's message: failed.
# shellcheck shell=sh
# shellcheck disable=SC2154 # the caller assigns the arguments
export LANG=C LC_ALL=C
command -v gpg >/dev/null 2>&1 || { echo "Failed to find required executable \"gpg\" in paths: $PATH" >&2; exit 3; }
home=$(mktemp -d) || exit 2
trap 'rm -rf -- "$home"' EXIT
g() { gpg --homedir "$home" --batch --no-tty --quiet "$@"; }
if [ -n "$keyring" ]; then set -- "$keyring"
else set -- /etc/apt/trusted.gpg /etc/apt/trusted.gpg.d/*.gpg /etc/apt/trusted.gpg.d/*.asc; fi
rings=$(for r do [ -f "$r" ] && printf '%s\n' "$r"; done)
# ids: the long ids (or short, with short=1) of the keys in the rings, not expired.
ids() {
    printf '%s\n' "$rings" | while IFS= read -r r; do
        [ -n "$r" ] || continue
        g --no-default-keyring --keyring "$r" --with-colons --list-public-keys 2>/dev/null
    done | awk -F: -v short="$short" '($1 == "pub" || $1 == "sub") && $2 != "e" {
        id = $5; if (short == 1) id = substr(id, length(id) - 7); printf "%s ", id }'
}
has() { case " $1 " in *" $2 "*) return 0 ;; *) return 1 ;; esac; }
if [ "$data" = 1 ]; then cat >"$home/key" || exit 2
elif [ -n "$url" ]; then
    if command -v curl >/dev/null 2>&1; then
        k=''; [ "$insecure" = 1 ] && k=-k
        # shellcheck disable=SC2086 # $k is empty or one flag
        curl -fsSL $k --max-time 30 -o "$home/key" -- "$url" 2>"$home/err"
    elif command -v wget >/dev/null 2>&1; then
        k=''; [ "$insecure" = 1 ] && k=--no-check-certificate
        # shellcheck disable=SC2086
        wget -q $k -T 30 -O "$home/key" -- "$url" 2>"$home/err"
    else
        echo "hactl's apt_key downloads with curl or wget; this host has neither" >"$home/err"; false
    fi || { echo "Failed to download key at $url: $(cat "$home/err")" >&2; exit 3; }
elif [ -n "$file" ]; then cp -- "$file" "$home/key" 2>/dev/null || { echo "Unable to extract key from '$file'" >&2; exit 3; }
fi
if [ -z "$key_id" ]; then
    what="inline data"; [ -n "$file" ] && what=$file
    id=$(g --with-colons --import-options show-only --import "$home/key" 2>/dev/null |
        awk -F: '($1 == "pub" || $1 == "sub") && $2 != "e" { print $5; exit }') ||
        { echo "Unable to extract key from '$what'" >&2; exit 3; }
    [ -n "$id" ] || { echo "Unable to extract key from '$what'" >&2; exit 3; }
    echo "hactl:id=$id"
    exit 0
fi
# Ansible's module lists the keys with `apt-key --keyring RING adv --list-public-keys`, even in
# check mode; apt-key first creates a missing RING (empty, mode 0644) when its folder is
# writable, and without the folder the listing fails.
if [ -n "$keyring" ] && [ ! -e "$keyring" ]; then
    if [ -w "$(dirname -- "$keyring")" ]; then
        : >"$keyring" && chmod 0644 -- "$keyring" || exit 2
    else
        echo "Unable to list public keys" >&2
        exit 3
    fi
fi
before=$(ids)
echo "hactl:before=$before"
if [ "$short" = 1 ]; then want=$short_id; else want=$fp; fi
# rewrite RING: the ring from the keys in the temp home (binary; armored for *.asc).
rewrite() {
    _tmp="$1.hactl.$$"
    case $1 in *.asc) g --armor --export >"$_tmp" ;; *) g --export >"$_tmp" ;; esac || { rm -f -- "$_tmp"; exit 3; }
    if [ -e "$1" ]; then chmod --reference="$1" -- "$_tmp" 2>/dev/null; else chmod 644 -- "$_tmp"; fi
    mv -f -- "$_tmp" "$1" || exit 3
}
if [ "$state" = present ]; then
    has "$before" "$want" && { echo "hactl:changed=0"; exit 0; }
    echo "hactl:changed=1"
    [ "$check" = 1 ] && exit 0
    ring=${keyring:-/etc/apt/trusted.gpg}
    [ -s "$ring" ] && g --import "$ring" 2>/dev/null
    if [ -n "$keyserver" ]; then
        ok=0
        for _ in 1 2 3 4 5; do
            if out=$(g --keyserver "$keyserver" --recv-keys "$key_id" 2>&1); then ok=1; break; fi
        done
        if [ "$ok" = 0 ]; then
            case $out in
                *"not found on keyserver"*|*"No data"*) echo "Key $key_id not found on keyserver $keyserver" >&2 ;;
                *) printf 'Error fetching key %s from keyserver: %s\n%s\n' "$key_id" "$keyserver" "$out" >&2 ;;
            esac
            exit 3
        fi
    else
        if ! out=$(g --import "$home/key" 2>&1); then
            if [ -n "$file" ]; then echo "Unable to add a key from file $file" >&2
            else echo "Unable to add a key from binary data" >&2; fi
            printf '%s\n' "$out" >&2
            exit 3
        fi
    fi
    mkdir -p -- "$(dirname -- "$ring")" || exit 2
    rewrite "$ring"
    rings=$(printf '%s\n%s\n' "$rings" "$ring" | sort -u)
    after=$(ids)
    echo "hactl:after=$after"
    has "$after" "$want" || { echo "apt-key did not return an error, but failed to add the key (check that the id is correct and *not* a subkey)" >&2; exit 3; }
else
    has "$before" "$fp" || { echo "hactl:changed=0"; exit 0; }
    echo "hactl:changed=1"
    [ "$check" = 1 ] && exit 0
    printf '%s\n' "$rings" | while IFS= read -r r; do
        [ -n "$r" ] || continue
        g --no-default-keyring --keyring "$r" --with-colons --list-public-keys 2>/dev/null |
            grep -q "^pub:[^:]*:[^:]*:[^:]*:[0-9A-F]*$short_id:" || continue
        rm -rf -- "${home:?}"/pubring.kbx "$home"/pubring.gpg "$home"/trustdb.gpg
        g --import "$r" 2>/dev/null
        fprs=$(g --with-colons --list-public-keys | awk -F: -v id="$short_id" '
            $1 == "pub" { mine = (substr($5, length($5) - 7) == id) } $1 == "fpr" && mine { print $10; mine = 0 }')
        for f in $fprs; do g --yes --delete-keys "$f" || exit 3; done
        rewrite "$r"
    done || exit 3
    after=$(ids)
    echo "hactl:after=$after"
    has "$after" "$fp" && { echo "apt-key did not return an error, but the key was not removed (check that the id is correct and *not* a subkey)" >&2; exit 3; }
fi
exit 0
