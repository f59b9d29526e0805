#!/usr/bin/env bash
# Benchmark: requests lost while a change restarts keepalived and nginx on both load balancers
# of the shipped dual-master pair, on a real fleet (tests/fleet: lb1, lb2, web1, web2).
#
# Each run appends a comment line to the copied keepalived.conf and nginx.conf templates (so
# both handlers run on both hosts), while tests/bench/loadgen.rs sends a fixed 100 requests/s
# to each VIP from the controller namespace, each on a new connection, for a fixed time, with a
# 2 s timeout. Scenarios:
#   ansible    ansible-playbook 2.19 with the role (keepalived engine)
#   plain      hactl apply -e hactl_rolling=false (handlers on both hosts at once)
#   rolling-k  hactl apply --rolling, keepalived on both hosts
#   rolling-a  hactl apply --rolling, hactl-agent on both hosts
#   same       hactl apply --rolling with nothing to change (keepalived): its check pass
#              finds nothing, so no host is drained
#
#   tests/bench/rolling.sh [RUNS_ROLLING] [RUNS_OTHERS]     (default 10 and 3)
#
# Needs root, `cargo build --release --workspace --bins --examples` and ansible-core in
# /opt/ansible-venv. HACTL_AGENT may name the agent to install (it needs `hactl-agent drain`).
# KEEP=DIR keeps each run's loadgen JSON (the time and reason of every failure) and the tool's
# log there; CAPTURE=1 (with KEEP) adds a packet capture of the controller's side (NAME-N.pcap:
# RSTs, SYN retries and the gratuitous ARPs of the VIP moves). The ctl_cpu column is the CPU
# time (user + system seconds) of the tool the run timed.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
hactl=$here/target/release/hactl
loadgen=$here/target/release/examples/loadgen
for b in "$hactl" "$loadgen"; do
    [ -x "$b" ] || { echo "build first: cargo build --release --workspace --bins --examples" >&2; exit 1; }
done
runs_rolling=${1:-10}
runs_other=${2:-3}
# The load runs for a fixed time that must cover the whole run: ansible-playbook takes about
# a minute on this fleet, hactl a few seconds (up to ~20 s rolling).
seconds=${SECONDS_PER_RUN:-25}
ansible_seconds=${ANSIBLE_SECONDS:-80}
# ONLY=ansible|plain|rolling-k|same|rolling-a runs one scenario.
only=${ONLY:-}
keep=${KEEP:-}
[ -z "$keep" ] || mkdir -p "$keep"
prefix="hr$(od -An -N2 -tx1 /dev/urandom | tr -d ' \n')"
work=$(mktemp -d /tmp/hactl-bench-rolling.XXXXXX)
cleanup() { "$here/tests/fleet" down "$prefix" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

st=$("$here/tests/fleet" up --keepalived --names lb1,lb2,web1,web2 --prefix "$prefix" | tail -1)
ctl() { ip netns exec "$prefix-ctl" env HACTL_CONTROL_PATH_DIR="$st/cp" "$@"; }
ssh_args=(--private-key "$st/id_ed25519" --ssh-common-args "-o UserKnownHostsFile=$st/known_hosts")
cp -r "$here/site.yml" "$here/roles" "$here/templates" "$here/inventory" "$work/"
ctl "$hactl" run web -i "$work/inventory/hosts.ini" "${ssh_args[@]}" --no-summary \
    'hostname > /var/www/html/index.html && systemctl start nginx' >/dev/null

n=0
bump() {
    n=$((n + 1))
    echo "# bench change $n" >>"$work/templates/keepalived.conf.j2"
    echo "# bench change $n" >>"$work/templates/nginx.conf.j2"
}
engine=keepalived
hactl_apply() {
    ctl "$hactl" apply "$work/inventory/hosts.ini" "${ssh_args[@]}" -e "vrrp_engine=$engine" "$@"
}
settle() {
    # Both VIPs on their masters and answering before a run starts.
    for _ in $(seq 1 60); do
        if ctl "$hactl" status "$work/inventory/hosts.ini" -l nginx "${ssh_args[@]}" >/dev/null 2>&1 &&
            ctl curl -sf -o /dev/null --max-time 2 http://198.51.100.100/ &&
            ctl curl -sf -o /dev/null --max-time 2 http://198.51.100.200/; then
            return 0
        fi
        sleep 0.5
    done
    echo "the pair did not settle" >&2
    return 1
}
# One run: load in the background, the change 1 s into it, and the results.
one() {
    local name=$1; shift
    local secs=$seconds
    [ "$name" != ansible ] || secs=$ansible_seconds
    [ "$name" = same ] || bump
    settle
    local cap=""
    if [ -n "$keep" ] && [ -n "${CAPTURE:-}" ]; then
        # The client's traffic to the VIPs, and ARP (who holds a VIP when).
        # (ip netns exec execs tcpdump, so $! is tcpdump itself.)
        ip netns exec "$prefix-ctl" tcpdump -i any -s 128 -U -w "$keep/$name-$n.pcap" \
            'arp or host 198.51.100.100 or host 198.51.100.200' 2>/dev/null &
        cap=$!
        sleep 0.3
    fi
    ctl "$loadgen" --rate 100 --seconds "$secs" --timeout 2 \
        http://198.51.100.100/ http://198.51.100.200/ >"$work/load.json" &
    local lg=$!
    sleep 1
    local t0 t1
    t0=$(date +%s.%N)
    # bash's `time` (not /usr/bin/time) also times a shell function such as hactl_apply.
    local TIMEFORMAT='%U %S' rc=0
    { time "$@" >"$work/apply.log" 2>&1 || rc=$?; } 2>"$work/cpu"
    [ "$rc" = 0 ] || { echo "$name: the run failed:" >&2; tail -20 "$work/apply.log" >&2; }
    t1=$(date +%s.%N)
    wait "$lg"
    if [ -n "$cap" ]; then
        sleep 0.5
        kill "$cap" 2>/dev/null || true
        wait "$cap" 2>/dev/null || true
    fi
    if [ -n "$keep" ]; then
        cp "$work/load.json" "$keep/$name-$n.json"
        cp "$work/apply.log" "$keep/$name-$n.log"
    fi
    python3 - "$name" "$t0" "$t1" "$work/load.json" "$work/cpu" <<'EOF'
import json, sys
name, t0, t1, path, cpu = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5]
d = json.load(open(path))
u, s = open(cpu).read().split()[-2:]
print(f"{name}\t{t1 - t0:.1f}\t{d['sent']}\t{d['failed']}\t{d['timed_out']}\t{d['max_latency_ms']}\t{float(u) + float(s):.2f}", flush=True)
EOF
}

echo -e "scenario\tseconds\tsent\tfailed\ttimed_out\tmax_ms\tctl_cpu"
# keepalived on both hosts for the first three scenarios.
hactl_apply -e hactl_rolling=false >/dev/null
want() { [ -z "$only" ] || [ "$only" = "$1" ]; }
want ansible && for _ in $(seq 1 "$runs_other"); do
    one ansible env ANSIBLE_CONFIG="$st/ansible.cfg" ip netns exec "$prefix-ctl" \
        /opt/ansible-venv/bin/ansible-playbook -i "$work/inventory/hosts.ini" "$work/site.yml" -e vrrp_engine=keepalived
done
want plain && for _ in $(seq 1 "$runs_other"); do
    one plain hactl_apply -e hactl_rolling=false
done
want rolling-k && for _ in $(seq 1 "$runs_rolling"); do
    one rolling-k hactl_apply --rolling
done
want same && for _ in $(seq 1 "$runs_other"); do
    one same hactl_apply --rolling
done
want rolling-a || exit 0
engine="hactl-agent"
hactl_apply -e hactl_rolling=false >/dev/null
for _ in $(seq 1 "$runs_rolling"); do
    one rolling-a hactl_apply --rolling
done
