# apt_repository's cache update: `apt-get update` up to `retries` times, sleeping 2^n
# seconds (at most max_delay) between tries, as the module retries python-apt's update.
# Arguments (assigned by the caller): retries, max_delay.
# Prints hactl:warning= lines for failed tries; exits 3 with the last error after the last.
# A try fails on an error (E:), and also when an index could not be fetched, which apt-get
# only warns about (W: Failed to fetch ..., exit 0) but python-apt's update, and so Ansible's
# module, counts as a failure (FetchFailedException): an offline host fails, as with Ansible.
# shellcheck shell=sh
# shellcheck disable=SC2154 # the caller assigns the arguments
n=0
err=''
while [ "$n" -lt "$retries" ]; do
    if err=$(DEBIAN_FRONTEND=noninteractive apt-get update -q 2>&1 >/dev/null) &&
        ! printf '%s\n' "$err" | grep -Eq '^(E:|W: Failed to fetch|W: Some index files failed to download)'; then
        exit 0
    fi
    n=$((n + 1))
    echo "hactl:warning=Failed to update cache after $n due to $(printf '%s' "$err" | tr '\n' ' ') retry, retrying"
    [ "$n" -lt "$retries" ] || break
    d=$((1 << (n - 1)))
    [ "$d" -le "$max_delay" ] || d=$max_delay
    sleep "$d"
    echo "hactl:warning=Sleeping for $d seconds, before attempting to update the cache again"
done
printf 'Failed to update apt cache after %s retries: %s\n' "$retries" "${err:-unknown reason}" >&2
exit 3
