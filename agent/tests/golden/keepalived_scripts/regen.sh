#!/usr/bin/env bash
# Regenerates cases.json and notify.json by running the real keepalived (2.2.7 here) in a
# throw-away network namespace, with scripts that record the argv keepalived gives them.
#
# cases.txt holds one `script` value per line, as written after the keyword in
# keepalived.conf; `@S` stands for the script's path. Each case gets its own symlink to the
# recorder so the recorder knows which case ran. Needs root, keepalived, iproute2, python3.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/hactl-golden.XXXXXX)
ns="hactl-golden-$$"
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

mkdir "$work/out" "$work/bin"
# The recorder: argv[0]'s name is the case id; the generic notify adds the state ($4) to it.
# argv[0] is written too, so that "no arguments" is distinguishable from one empty argument.
cat > "$work/bin/record" <<REC
#!/bin/sh
name=\$(basename "\$0")
[ "\$name" = notify ] && name="notify.\$4"
printf '%s\0' "\$0" "\$@" > "$work/out/\$name"
REC
chmod 755 "$work/bin/record"

{
    echo 'global_defs {'
    echo '    router_id golden'
    echo '}'
    n=0
    while IFS= read -r line; do
        n=$((n + 1))
        ln -s record "$work/bin/c$n"
        echo "vrrp_script chk_$n {"
        echo "    script ${line//@S/$work/bin/c$n}"
        echo '    interval 1'
        echo '    weight 1'
        echo '}'
    done < "$here/cases.txt"
    echo 'vrrp_instance VI_1 {'
    echo '    state BACKUP'
    echo '    interface g0'
    echo '    virtual_router_id 51'
    echo '    priority 100'
    echo '    advert_int 1'
    echo '    virtual_ipaddress {'
    echo '        198.51.100.10/32'
    echo '    }'
    echo '    track_script {'
    for i in $(seq 1 "$n"); do echo "        chk_$i"; done
    echo '    }'
    for s in master backup fault stop; do
        ln -s record "$work/bin/notify_$s"
        echo "    notify_$s \"$work/bin/notify_$s 'one arg' two\""
    done
    ln -s record "$work/bin/notify"
    echo "    notify \"$work/bin/notify given-arg\""
    echo '}'
} > "$work/keepalived.conf"

ip netns exec "$ns" keepalived -P -n -l -D -f "$work/keepalived.conf" \
    -p "$work/keepalived.pid" -r "$work/vrrp.pid" > "$work/keepalived.log" 2>&1 &
kpid=$!
# BACKUP at start, MASTER after 3 adverts + skew (~4 s); then stop for notify_stop.
sleep 7
kill -TERM "$kpid"
wait "$kpid" || true
kpid=
sleep 1

python3 - "$here" "$work" <<'PY'
import json, os, sys
here, work = sys.argv[1], sys.argv[2]
out = os.path.join(work, "out")
def argv(name):
    with open(os.path.join(out, name), "rb") as f:
        data = f.read()
    # Drop argv[0] (the path, which differs per run) and the trailing empty piece.
    return [a.decode() for a in data.split(b"\0")[1:-1]]
cases = []
with open(os.path.join(here, "cases.txt")) as f:
    for n, line in enumerate(f.read().splitlines(), 1):
        cases.append({"config": line, "argv": argv(f"c{n}")})
with open(os.path.join(here, "cases.json"), "w") as f:
    json.dump(cases, f, indent=2, ensure_ascii=True)
    f.write("\n")
names = sorted(os.listdir(out))
notify = {n: argv(n) for n in names if n.startswith("notify")}
with open(os.path.join(here, "notify.json"), "w") as f:
    json.dump(notify, f, indent=2, sort_keys=True)
    f.write("\n")
PY
grep -E "Entering|VRRP_Script|script" "$work/keepalived.log" | head -40 || true
