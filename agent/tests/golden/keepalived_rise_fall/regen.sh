#!/usr/bin/env bash
# Regenerates results.json: how real keepalived (2.2.7 here) turns a sequence of vrrp_script
# results into OK/FAIL changes for each case in cases.json (rise, fall, results).
#
# Each case's script replays its sequence, one result per run, logging each run; the case's
# vrrp_instance tracks it with weight 0, so FAIL puts the instance in FAULT and OK takes it
# back to BACKUP, and its `notify` script logs those. Reading the log in order tells after
# which run each change happened. Needs root, keepalived, iproute2, python3.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/hactl-golden.XXXXXX)
ns="hactl-golden-rf-$$"
kpid=
cleanup() {
    [ -n "$kpid" ] && kill "$kpid" 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" link add g0 type veth peer name g1
ip -n "$ns" link set g1 up
ip -n "$ns" link set g0 up
ip -n "$ns" addr add 198.51.100.1/24 dev g0
mkdir "$work/log" "$work/seq" "$work/n"

cat > "$work/step" <<STEP
#!/bin/sh
# step CASE: plays the next result of the case's sequence, then succeeds; every run is
# logged, so a change after the sequence is not taken for one after its last run.
seq=\$(cat "$work/seq/\$1")
n=\$(cat "$work/n/\$1" 2>/dev/null || echo 0)
echo \$((n + 1)) > "$work/n/\$1"
c=+
[ "\$n" -lt "\${#seq}" ] && c=\$(printf '%s' "\$seq" | cut -c\$((n + 1)))
echo "run \$n \$c" >> "$work/log/\$1"
[ "\$c" = + ]
STEP
cat > "$work/notify" <<NOTE
#!/bin/sh
# notify: INSTANCE NAME STATE PRIORITY
echo "state \$3" >> "$work/log/\$2"
NOTE
chmod 755 "$work/step" "$work/notify"

python3 - "$here/cases.json" "$work" > "$work/keepalived.conf" <<'PY'
import json, sys
cases = json.load(open(sys.argv[1]))
work = sys.argv[2]
for vrid, c in enumerate(cases, 1):
    open(f"{work}/seq/{c['name']}", "w").write(c["runs"])
    print(f"vrrp_script {c['name']} {{\n    script \"{work}/step {c['name']}\"")
    print(f"    interval 1\n    rise {c['rise']}\n    fall {c['fall']}\n}}")
    print(f"vrrp_instance {c['name']} {{")
    print(f"    state BACKUP\n    interface g0\n    advert_int 1\n    virtual_router_id {vrid}")
    print(f"    priority 100\n    virtual_ipaddress {{\n        198.51.100.{100 + vrid}/32\n    }}")
    print(f"    notify {work}/notify")
    print(f"    track_script {{\n        {c['name']} weight 0\n    }}\n}}")
PY

longest=$(python3 -c 'import json,sys; print(max(len(c["runs"]) for c in json.load(open(sys.argv[1]))))' "$here/cases.json")
ip netns exec "$ns" keepalived -P -n -l -D -f "$work/keepalived.conf" \
    -p "$work/keepalived.pid" -r "$work/vrrp.pid" > "$work/keepalived.log" 2>&1 &
kpid=$!
sleep $((longest + 3))
kill -TERM "$kpid"
wait "$kpid" || true
kpid=

python3 - "$here" "$work" <<'PY'
import json, os, sys
here, work = sys.argv[1], sys.argv[2]
results = {}
for c in json.load(open(os.path.join(here, "cases.json"))):
    # After each run: which change (if any) keepalived made. FAULT = the script went FAIL;
    # BACKUP = it went OK (the instance comes up); MASTER and STOP are not script changes.
    changes = []
    for line in open(os.path.join(work, "log", c["name"])).read().splitlines():
        kind, *rest = line.split()
        if kind == "run":
            changes.append("")
        elif rest[0] in ("FAULT", "BACKUP") and changes:
            changes[-1] = "FAIL" if rest[0] == "FAULT" else "OK"
    results[c["name"]] = changes[: len(c["runs"])]
with open(os.path.join(here, "results.json"), "w") as f:
    json.dump(results, f, indent=2)
    f.write("\n")
PY
