#!/usr/bin/env bash
# Benchmark: `hactl apply` against `ansible-playbook` on the same real fleet (tests/fleet), with
# the shipped dual-master role, for each fleet size given (default: 2 10 50). For each size it
# times a first run (the role's files removed beforehand, so everything changes and handlers
# run) and a no-change run, for both tools, and prints them side by side.
#
#   tests/bench/apply.sh [SIZES...]
#
# Needs root, a release build (cargo build --release) and ansible-core in /opt/ansible-venv.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
hactl=$here/target/release/hactl
[ -x "$hactl" ] || { echo "build first: cargo build --release" >&2; exit 1; }
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(2 10 50)
prefix=""
cleanup() { [ -z "$prefix" ] || "$here/tests/fleet" down "$prefix" >/dev/null 2>&1 || true; }
trap cleanup EXIT

now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc -l; }

printf '%6s  %-10s %10s %10s %8s\n' hosts run hactl ansible ratio
for n in "${sizes[@]}"; do
    prefix="hb$n$(od -An -N2 -tx1 /dev/urandom | tr -d ' \n')"
    names=$(seq -s, -f 'lb%g' 1 "$n")
    st=$("$here/tests/fleet" up --keepalived --names "$names" --prefix "$prefix" | tail -1)
    inv=$st/bench.ini
    {
        echo "[nginx]"
        for i in $(seq 1 "$n"); do
            if [ $((i % 2)) = 1 ]; then s="state1=MASTER priority1=100 state2=BACKUP priority2=90"
            else s="state1=BACKUP priority1=90 state2=MASTER priority2=100"; fi
            # Each pair of hosts is a dual-master pair of its own (VRIDs and VIPs), so every
            # host's keepalived.conf passes `hactl lint` as a real fleet's would.
            k=$(((i + 1) / 2))
            s="$s vrid1=$((2 * k)) vrid2=$((2 * k + 1)) vip1=203.0.113.$((2 * k - 1)) vip2=203.0.113.$((2 * k))"
            echo "lb$i ansible_host=$(cat "$st/addr-lb$i") $s"
        done
        echo "[web]"
        echo "web1 ansible_host=198.51.100.250"
    } >"$inv"
    cp -r "$here/inventory/group_vars" "$st/"
    ctl() { ip netns exec "$prefix-ctl" "$@"; }
    # -e hactl_rolling=false: the same work as ansible-playbook (every host at once); the
    # shipped site.yml rolls the pair, which drains each load balancer (tests/bench/rolling.sh).
    hactl_apply() {
        ctl "$hactl" apply "$inv" "$here/site.yml" -e vrrp_engine=keepalived -e hactl_rolling=false --private-key "$st/id_ed25519" \
            --ssh-common-args "-o UserKnownHostsFile=$st/known_hosts" >/dev/null
    }
    ansible_apply() {
        ANSIBLE_CONFIG=$st/ansible.cfg ctl /opt/ansible-venv/bin/ansible-playbook -f 50 \
            -i "$inv" "$here/site.yml" -e vrrp_engine=keepalived >/dev/null
    }
    reset() {
        # --ssh-persist 0: the first timed run must not find a master this one left up.
        ctl "$hactl" run nginx -i "$inv" --private-key "$st/id_ed25519" --no-summary --ssh-persist 0 \
            --ssh-common-args "-o UserKnownHostsFile=$st/known_hosts" \
            'rm -f /etc/keepalived/keepalived.conf /etc/keepalived/notify.sh; echo "# reset" >> /etc/nginx/nginx.conf' >/dev/null
    }
    reset; t0=$(now); hactl_apply; t1=$(now); hactl_apply; t2=$(now)
    reset; t3=$(now); ansible_apply; t4=$(now); ansible_apply; t5=$(now)
    h1=$(secs "$t0" "$t1"); h2=$(secs "$t1" "$t2"); a1=$(secs "$t3" "$t4"); a2=$(secs "$t4" "$t5")
    printf '%6d  %-10s %10.2f %10.2f %7.0fx\n' "$n" first "$h1" "$a1" "$(echo "$a1 / $h1" | bc -l)"
    printf '%6d  %-10s %10.2f %10.2f %7.0fx\n' "$n" no-change "$h2" "$a2" "$(echo "$a2 / $h2" | bc -l)"
    "$here/tests/fleet" down "$prefix" >/dev/null
    prefix=""
done
