#!/usr/bin/env bash
# Regenerates results.json: the state and effective priority real keepalived (2.2.7 here)
# reports, through its generic `notify` script, for each instance in scenarios.json.
#
# Every scenario becomes a vrrp_instance on one veth in a throw-away network namespace, alone
# on its VRID, so it goes MASTER (or FAULT). Scripts are /bin/true and /bin/false; files get
# the scenario's content (null: no file); interfaces are `up0` (up, carrier) and `down0`
# (admin up, peer down, so no carrier). Needs root, keepalived, iproute2, python3.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/hactl-golden.XXXXXX)
ns="hactl-golden-prio-$$"
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
ip -n "$ns" link add up0 type veth peer name up1
ip -n "$ns" link add down0 type veth peer name down1
for i in g0 g1 up0 up1 down0; do ip -n "$ns" link set "$i" up; done
ip -n "$ns" addr add 198.51.100.1/24 dev g0

mkdir "$work/out" "$work/files"
cat > "$work/record" <<REC
#!/bin/sh
# notify: INSTANCE NAME STATE PRIORITY
[ "\$3" = STOP ] || echo "\$3 \$4" > "$work/out/\$2"
REC
chmod 755 "$work/record"

python3 - "$here/scenarios.json" "$work" > "$work/keepalived.conf" <<'PY'
import json, sys
scenarios = json.load(open(sys.argv[1]))
work = sys.argv[2]
print("vrrp_script ok {\n    script /bin/true\n    interval 1\n}")
print("vrrp_script fail {\n    script /bin/false\n    interval 1\n}")
for s in scenarios:
    for k, t in enumerate(s["track"]):
        if "file" in t:
            path = f"{work}/files/{s['name']}_{k}"
            if t["file"] is not None:
                open(path, "w").write(t["file"])
            print(f"vrrp_track_file {s['name']}_{k} {{\n    file {path}\n}}")
for vrid, s in enumerate(scenarios, 1):
    print(f"vrrp_instance {s['name']} {{")
    print("    state BACKUP\n    interface g0\n    advert_int 1")
    print(f"    virtual_router_id {vrid}\n    priority {s['priority']}")
    print(f"    virtual_ipaddress {{\n        198.51.100.{100 + vrid}/32\n    }}")
    print(f"    notify {work}/record")
    for k, t in enumerate(s["track"]):
        rev = " reverse" if t.get("reverse") else ""
        w = f"weight {t['weight']}{rev}"
        if "script" in t:
            name = "ok" if t["script"] else "fail"
            print(f"    track_script {{\n        {name} {w}\n    }}")
        elif "file" in t:
            print(f"    track_file {{\n        {s['name']}_{k} {w}\n    }}")
        else:
            ifname = "up0" if t["interface_up"] else "down0"
            print(f"    track_interface {{\n        {ifname} {w}\n    }}")
    print("}")
PY

ip netns exec "$ns" keepalived -P -n -l -D -f "$work/keepalived.conf" \
    -p "$work/keepalived.pid" -r "$work/vrrp.pid" > "$work/keepalived.log" 2>&1 &
kpid=$!
sleep 8
kill -TERM "$kpid"
wait "$kpid" || true
kpid=

python3 - "$here" "$work" <<'PY'
import json, os, sys
here, work = sys.argv[1], sys.argv[2]
results = {}
for s in json.load(open(os.path.join(here, "scenarios.json"))):
    state, prio = open(os.path.join(work, "out", s["name"])).read().split()
    results[s["name"]] = {"state": state, "priority": int(prio)}
with open(os.path.join(here, "results.json"), "w") as f:
    json.dump(results, f, indent=2)
    f.write("\n")
PY
grep -iE "error|invalid|unknown|warning" "$work/keepalived.log" | grep -v SECURITY | head -20 || true
