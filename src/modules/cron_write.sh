# cron: installs the crontab from stdin (`crontab [-u USER] FILE`), first saving the old one
# to a backup file when backup_b64 is set.
# Arguments (assigned by the caller): user (may be empty), backup_b64 (may be empty).
# shellcheck shell=sh
# shellcheck disable=SC2154 # the caller assigns the arguments
if [ -n "$backup_b64" ]; then
    b=$(mktemp /tmp/crontabXXXXXXXX) || exit 2
    printf '%s' "$backup_b64" | base64 -d >"$b" || exit 2
    echo "hactl:backup_file=$b"
fi
if [ -n "$user" ] && [ "$(id -un)" != "$user" ]; then set -- -u "$user"; else set --; fi
tmp=$(mktemp /tmp/crontabXXXXXXXX) || exit 2
trap 'rm -f -- "$tmp"' EXIT
cat >"$tmp" || exit 2
chmod 0666 "$tmp"
if ! out=$(crontab "$@" "$tmp" 2>&1); then
    printf 'Failed to install new cronfile: %s\n%s\n' "$tmp" "$out" >&2
    exit 3
fi
