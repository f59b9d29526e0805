#!/bin/bash
# Failover benchmark: hactl-agent against keepalived 2.2.7 on the same namespaces and
# settings (the seed's dual-master config: VRID 14/24, priorities 100/90, advert_int 1, PASS).
#
# Measures, for each daemon:
#   - crash failover: kill -9 of host a (master of VRID 14) until host b holds 198.51.100.100;
#   - graceful handover: SIGTERM of host a until host b holds it;
#   - RSS of the daemon's processes on one host (keepalived: parent and VRRP child);
#   - idle CPU of those processes over IDLE seconds, converged;
#   - crash failover with `version 3` + `advert_int 0.1`;
#   - crash failover of VRRPv3 over IPv6 (one instance, VRID 61, VIP 2001:db8:61::100/64,
#     advert_int 1) until host b holds the IPv6 VIP;
#   - crash failover of a vrrp_sync_group of both instances (host a master of both) until
#     host b holds both VIPs.
# Prints a side-by-side table (medians over ROUNDS). Not a test: run as root, by hand.
#
#   agent/bench/failover.sh [ROUNDS] [IDLE_SECONDS]
#   AGENT=/path/to/hactl-agent agent/bench/failover.sh
#
# Everything happens in namespaces named hbench<pid>*, deleted on exit; addresses are
# 198.51.100.0/24 and 2001:db8:61::/64 only; the root namespace is not touched.
set -euo pipefail

ROUNDS=${1:-3}
IDLE=${2:-10}
HERE=$(cd "$(dirname "$0")" && pwd)
AGENT=${AGENT:-$HERE/../../target/x86_64-unknown-linux-musl/agent/hactl-agent}
P=hbench$$
WORK=$(mktemp -d)
VIP=198.51.100.100
VIP6=2001:db8:61::100

[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
[ -x "$AGENT" ] || { echo "no agent binary at $AGENT (cargo build --profile agent -p hactl-agent --target x86_64-unknown-linux-musl)" >&2; exit 1; }
command -v keepalived >/dev/null || { echo "keepalived not installed" >&2; exit 1; }

# Process groups of the daemons we started, killed on exit.
declare -A PGID=()

cleanup() {
    for h in "${!PGID[@]}"; do kill -9 -- "-${PGID[$h]}" 2>/dev/null || true; done
    for ns in ${P}a ${P}b ${P}br; do ip netns del "$ns" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

setup_lan() {
    ip netns add ${P}br
    ip -n ${P}br link add br0 type bridge
    ip -n ${P}br link set br0 up
    local i=1
    for h in a b; do
        ip netns add "${P}$h"
        ip -n "${P}$h" link set lo up
        ip -n ${P}br link add v$h type veth peer name eth0 netns "${P}$h"
        ip -n ${P}br link set v$h master br0 up
        ip -n "${P}$h" link set eth0 up
        ip -n "${P}$h" addr add 198.51.100.$i/24 dev eth0
        # As on a host (not a router): IPv6 forwarding off on eth0.
        ip netns exec "${P}$h" sysctl -qw net.ipv6.conf.eth0.forwarding=0
        mkdir -p "$WORK/$h"
        i=$((i + 1))
    done
    # The IPv6 instance advertises from the link-local addresses: wait out their DAD.
    wait_for 10 link_local_ready || { echo "no link-local addresses after DAD" >&2; exit 1; }
}

link_local_ready() {
    local h out
    for h in a b; do
        out=$(ip -n "${P}$h" -6 addr show dev eth0 scope link)
        [[ $out == *"inet6 fe80::"* && $out != *tentative* ]] || return 1
    done
}

# config HOST PRIO14 PRIO24 MODE: the seed's two instances, MODE 2 (VRRPv2, advert_int 1,
# PASS) or 3 (VRRPv3, advert_int 0.1, no auth); sync: the two VRRPv2 instances in one
# vrrp_sync_group, both at priority PRIO14; 6: one VRRPv3 instance over IPv6 (VRID 61,
# priority PRIO14, advert_int 1).
config() {
    local h=$1 p14=$2 p24=$3 mode=$4 v=2 int=1 auth14 auth24 sync=""
    auth14="authentication {
        auth_type PASS
        auth_pass 571f87b2
    }"
    auth24=${auth14/571f87b2/571f97b2}
    if [ "$mode" = 6 ]; then
        cat > "$WORK/$h/keepalived.conf" <<EOF
global_defs {
    router_id lb$h
}
vrrp_instance VI_6 {
    state BACKUP
    interface eth0
    virtual_router_id 61
    priority $p14
    advert_int 1
    virtual_ipaddress {
        $VIP6/64
    }
}
EOF
        return
    fi
    if [ "$mode" = 3 ]; then v=3 int=0.1 auth14="" auth24=""; fi
    if [ "$mode" = sync ]; then
        p24=$p14
        sync="vrrp_sync_group G1 {
    group {
        VI_1
        VI_r2
    }
}"
    fi
    cat > "$WORK/$h/keepalived.conf" <<EOF
global_defs {
    router_id lb$h
    vrrp_mcast_group4 224.0.100.19
    vrrp_version $v
}
$sync
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 14
    priority $p14
    advert_int $int
    $auth14
    virtual_ipaddress {
        198.51.100.100
    }
}
vrrp_instance VI_r2 {
    state BACKUP
    interface eth0
    virtual_router_id 24
    priority $p24
    advert_int $int
    $auth24
    virtual_ipaddress {
        198.51.100.200
    }
}
EOF
}

# start HOST agent|keepalived: in the host's namespace, with /etc/keepalived bind-mounted
# from its work dir, in a new session (so its process group can be killed as one).
start() {
    local h=$1 what=$2 cmd
    if [ "$what" = agent ]; then
        cmd=("$AGENT" run -f /etc/keepalived/keepalived.conf --socket "$WORK/$h/agent.sock")
    else
        # A killed keepalived's VRRP child may linger as a zombie; its pid file would make
        # the next keepalived refuse to start ("daemon is already running").
        rm -f "$WORK/$h/keepalived.pid" "$WORK/$h/vrrp.pid"
        cmd=(keepalived -P -n -l -D -f /etc/keepalived/keepalived.conf
            -p "$WORK/$h/keepalived.pid" -r "$WORK/$h/vrrp.pid")
    fi
    # shellcheck disable=SC2016  # $1, $2 and $@ are the inner shell's, on purpose
    setsid ip netns exec "${P}$h" unshare --mount --uts --propagation private \
        sh -c 'mount --bind "$1" /etc/keepalived && hostname "$2" && shift 2 && exec "$@"' \
        sh "$WORK/$h" "lb$h" "${cmd[@]}" >>"$WORK/$h/$what.log" 2>&1 &
    PGID[$h]=$!
    # Reaped silently by this shell; stop9 waits by polling.
    disown "$!"
}

stop9() {
    local pg=${PGID[$1]}
    kill -9 -- "-$pg" 2>/dev/null || true
    while kill -0 "$pg" 2>/dev/null; do sleep 0.01; done
    unset "PGID[$1]"
}
# ip sometimes says "Peer netns reference is invalid" about the veth while a daemon dies;
# the addresses it lists are right, so that line is dropped.
holds() { ip -n "${P}$1" -4 addr show dev eth0 2>/dev/null | grep -q "inet $2/32"; }
holds6() { ip -n "${P}$1" -6 addr show dev eth0 2>/dev/null | grep -q "inet6 $2/64"; }
# Microseconds, from bash itself: no process per poll, so polling stays fine-grained.
now() { echo $(( ${EPOCHREALTIME/./} )); }

# wait_for SECONDS CMD...: polls CMD every 5 ms; fails on timeout.
wait_for() {
    local end=$(( $(now) + $1 * 1000000 )); shift
    until "$@"; do
        (( $(now) > end )) && return 1
        sleep 0.005
    done
}

# converged MODE: host a holds what it is master of, host b the rest.
converged() {
    case $1 in
        6) holds6 a $VIP6 && ! holds6 b $VIP6 ;;
        sync) holds a $VIP && holds a 198.51.100.200 && ! holds b $VIP && ! holds b 198.51.100.200 ;;
        *) holds a $VIP && ! holds b $VIP && holds b 198.51.100.200 && ! holds a 198.51.100.200 ;;
    esac
}

# taken_over MODE: host b holds what host a was master of.
taken_over() {
    case $1 in
        6) holds6 b $VIP6 ;;
        sync) holds b $VIP && holds b 198.51.100.200 ;;
        *) holds b $VIP ;;
    esac
}

# fresh WHAT MODE: both hosts restarted clean, converged, steady for a moment.
fresh() {
    local what=$1 v=$2
    for h in a b; do [ -n "${PGID[$h]:-}" ] && stop9 $h; done
    for h in a b; do
        for vip in 198.51.100.100 198.51.100.200; do
            ip -n "${P}$h" addr del $vip/32 dev eth0 2>/dev/null || true
        done
        ip -n "${P}$h" addr del $VIP6/64 dev eth0 2>/dev/null || true
    done
    config a 100 90 "$v"
    config b 90 100 "$v"
    start a "$what"
    start b "$what"
    wait_for 15 converged "$v" || { echo "$what mode $v did not converge" >&2; tail "$WORK"/*/"$what".log >&2; exit 1; }
    sleep 1.5
}

# measure crash|graceful WHAT VERSION: appends the seconds until b holds the VIP to TIMES.
# (Not in a $(...) subshell: the daemons' process groups must stay known to this shell.)
measure() {
    local kind=$1 what=$2 v=$3 t0 t1
    fresh "$what" "$v"
    t0=$(now)
    if [ "$kind" = crash ]; then
        kill -9 -- "-${PGID[a]}"
    else
        kill -TERM "${PGID[a]}"
    fi
    wait_for 10 taken_over "$v" || { echo "no takeover ($kind $what mode $v)" >&2; exit 1; }
    t1=$(now)
    TIMES+=" $(echo "scale=3; ($t1 - $t0) / 1000000" | bc)"
}

# rounds KIND WHAT VERSION: the median over ROUNDS measurements, in MEDIAN.
rounds() {
    TIMES=""
    for _ in $(seq "$ROUNDS"); do measure "$@"; done
    MEDIAN=$(echo "$TIMES" | tr ' ' '\n' | grep . | median)
}

median() { sort -n | awk '{a[NR]=$1} END {printf "%.2f", (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# pids in host a's daemon process group
pids() { pgrep -g "${PGID[a]}" | paste -sd' '; }

rss_mb() {
    local kb=0 p
    for p in $(pids); do kb=$((kb + $(awk '/^VmRSS/ {print $2}' "/proc/$p/status"))); done
    echo "scale=1; $kb / 1024" | bc
}

# CPU seconds (utime+stime) of host a's daemon processes
cpu_ticks() {
    local t=0 p
    for p in $(pids); do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done
    echo $t
}

idle_cpu() {
    local hz t0 t1
    hz=$(getconf CLK_TCK)
    t0=$(cpu_ticks); sleep "$IDLE"; t1=$(cpu_ticks)
    echo "scale=2; 100 * ($t1 - $t0) / $hz / $IDLE" | bc
}

setup_lan
declare -A R=()
for what in keepalived agent; do
    for kind in crash graceful; do
        rounds $kind $what 2
        R[$what,$kind]=$MEDIAN
    done
    fresh "$what" 2
    R[$what,rss]=$(rss_mb)
    R[$what,cpu]=$(idle_cpu)
    rounds crash $what 3
    R[$what,crash3]=$MEDIAN
    rounds crash $what 6
    R[$what,crash6]=$MEDIAN
    rounds crash $what sync
    R[$what,sync]=$MEDIAN
done
for h in a b; do [ -n "${PGID[$h]:-}" ] && stop9 $h; done

printf '\n%-44s %12s %12s\n' "median of $ROUNDS, host b priority 90" keepalived hactl-agent
printf '%-44s %10s s %10s s\n' "crash failover (kill -9), v2 advert_int 1" "${R[keepalived,crash]}" "${R[agent,crash]}"
printf '%-44s %10s s %10s s\n' "graceful handover (SIGTERM), v2 advert_int 1" "${R[keepalived,graceful]}" "${R[agent,graceful]}"
printf '%-44s %9s MB %9s MB\n' "RSS of the daemon processes (one host)" "${R[keepalived,rss]}" "${R[agent,rss]}"
printf '%-44s %10s %% %10s %%\n' "idle CPU over ${IDLE} s (one host, 2 instances)" "${R[keepalived,cpu]}" "${R[agent,cpu]}"
printf '%-44s %10s s %10s s\n' "crash failover, v3 advert_int 0.1" "${R[keepalived,crash3]}" "${R[agent,crash3]}"
printf '%-44s %10s s %10s s\n' "crash failover, v3 over IPv6, advert_int 1" "${R[keepalived,crash6]}" "${R[agent,crash6]}"
printf '%-44s %10s s %10s s\n' "crash failover, sync group of 2, both VIPs" "${R[keepalived,sync]}" "${R[agent,sync]}"
