# cron: prints hactl:crontab and then the crontab (or the cron_file).
# Arguments (assigned by the caller): user (may be empty), file (a cron_file, or empty).
# shellcheck shell=sh
# shellcheck disable=SC2154 # the caller assigns the arguments
if [ -n "$file" ]; then
    if [ -r "$file" ] && [ -f "$file" ]; then echo "hactl:crontab"; cat -- "$file" || exit 2; fi
    exit 0
fi
command -v crontab >/dev/null 2>&1 || { echo "Failed to find required executable \"crontab\" in paths: $PATH" >&2; exit 4; }
if [ -n "$user" ] && [ "$(id -un)" != "$user" ]; then set -- -u "$user"; else set --; fi
t=$(mktemp) || exit 2
trap 'rm -f -- "$t"' EXIT
crontab "$@" -l >"$t" 2>/dev/null; rc=$?
# 1 can mean that there are no jobs.
if [ "$rc" != 0 ] && [ "$rc" != 1 ]; then echo "Unable to read crontab" >&2; exit 3; fi
echo "hactl:crontab"
cat -- "$t"
exit 0
