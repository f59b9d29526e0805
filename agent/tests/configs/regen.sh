#!/usr/bin/env bash
# Regenerates verdicts.json: the verdict of the real keepalived (`keepalived -t -f FILE`) on every
# valid/*.conf, invalid/*.conf and refused/*.conf beside this script (refused/: configs
# keepalived accepts and hactl-agent refuses on purpose).
#
# keepalived checks that a config's interfaces exist, so it runs inside a network namespace of
# its own that has eth0, eth1 and ens33 (veth pairs, nothing else). The root namespace is never
# touched, and the namespace is deleted on exit, whatever happens. Needs root, keepalived and
# python3 (for JSON encoding).
set -euo pipefail
cd "$(dirname "$0")"
here=$(pwd)

ns="hactl-kt-$$-$RANDOM"
cleanup() { ip netns del "$ns" 2>/dev/null || true; }
trap cleanup EXIT
ip netns add "$ns"
ip -n "$ns" link set lo up
for ifname in eth0 eth1 ens33; do
    ip -n "$ns" link add "$ifname" type veth peer name "p-$ifname"
    ip -n "$ns" link set "$ifname" up
done

version=$( (keepalived --version 2>&1 || true) | head -n 1)
out=$(mktemp)
trap 'rm -f "$out"; cleanup' EXIT

for file in valid/*.conf invalid/*.conf refused/*.conf; do
    set +e
    # keepalived -t writes every config problem to stderr and sums them up in its exit code:
    # 0 clean, 4 cannot run, 5 runs with config errors (warnings and unknown keywords count),
    # 6 script security violation. Adding -l -D (log to the console, in detail) changes where
    # messages go, not the exit code.
    stderr=$(ip netns exec "$ns" keepalived -t -f "$here/$file" 2>&1 >/dev/null)
    code=$?
    set -e
    # Make paths relative so the file does not depend on where the repository lives.
    stderr=${stderr//"$here/"/}
    printf '%s\t%s\t%s\n' "$file" "$code" "$(printf '%s' "$stderr" | base64 -w0)" >>"$out"
done

python3 - "$version" "$out" >verdicts.json <<'PY'
import base64, json, sys
version, path = sys.argv[1], sys.argv[2]
files = {}
for line in open(path, encoding="utf-8"):
    name, code, err = line.rstrip("\n").split("\t")
    text = base64.b64decode(err).decode("utf-8", "replace")
    files[name] = {"exit_code": int(code), "stderr": [l for l in text.splitlines() if l]}
json.dump({"keepalived": version, "command": "keepalived -t -f FILE", "files": files},
          sys.stdout, indent=2, sort_keys=True)
print()
PY
echo "wrote $(pwd)/verdicts.json ($(grep -c '"exit_code"' verdicts.json) files)"
