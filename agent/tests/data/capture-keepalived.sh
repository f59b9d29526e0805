#!/usr/bin/env bash
# Regenerates keepalived-adverts.txt: real VRRP adverts sent by keepalived (the version installed
# on this machine, 2.2.7 when the file was made), used as byte tables by agent/tests/packet_*.rs.
#
# Everything happens inside one network namespace made for this run (a veth pair, documentation
# addresses 198.51.100.0/24, 203.0.113.0/24 and 2001:db8::/32); keepalived gets a private /run. The trap removes
# the namespace and stops keepalived and tcpdump even when a step fails.
#
# Usage (root): agent/tests/data/capture-keepalived.sh   (rewrites the file beside this script)
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
ns="hactlcap$$"
work="$(mktemp -d)"
ka_pid=""
dump_pid=""

cleanup() {
    [[ -n "$ka_pid" ]] && kill "$ka_pid" 2>/dev/null || true
    [[ -n "$dump_pid" ]] && kill "$dump_pid" 2>/dev/null || true
    sleep 0.5
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" link add veth0 type veth peer name veth1
ip -n "$ns" addr add 198.51.100.1/24 dev veth0
# No duplicate address detection, so veth0's link-local address (the IPv6 advert source) is
# usable at once.
ip netns exec "$ns" sysctl -qw net.ipv6.conf.veth0.accept_dad=0
ip -n "$ns" link set veth0 up
ip -n "$ns" link set veth1 up

# Four instances in one daemon, so one capture holds them all:
#   vrid 14: VRRPv2, auth PASS with a password longer than 8 bytes (keepalived keeps 8), state MASTER
#   vrid 15: VRRPv2, no auth, two VIPs, state BACKUP prio 90
#   vrid 24: VRRPv3, advert_int 1 (100 cs), two VIPs
#   vrid 25: VRRPv3, advert_int 0.25 (25 cs), priority 255 (address owner: master at once)
#   vrid 26: VRRPv3 over IPv6 (source: veth0's link-local address, group ff02::12)
cat >"$work/keepalived.conf" <<'CONF'
global_defs {
    router_id hactl-capture
}
vrrp_instance V2_PASS {
    state MASTER
    interface veth0
    virtual_router_id 14
    priority 100
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass secret-password
    }
    virtual_ipaddress {
        203.0.113.100
    }
}
vrrp_instance V2_NONE {
    state BACKUP
    interface veth0
    virtual_router_id 15
    priority 90
    advert_int 1
    virtual_ipaddress {
        203.0.113.150
        203.0.113.151
    }
}
vrrp_instance V3 {
    version 3
    state BACKUP
    interface veth0
    virtual_router_id 24
    priority 150
    advert_int 1
    virtual_ipaddress {
        203.0.113.200
        203.0.113.201
    }
}
vrrp_instance V3_OWNER {
    version 3
    state MASTER
    interface veth0
    virtual_router_id 25
    priority 255
    advert_int 0.25
    virtual_ipaddress {
        203.0.113.250
    }
}
vrrp_instance V3_IPV6 {
    version 3
    state MASTER
    interface veth0
    virtual_router_id 26
    priority 255
    advert_int 1
    virtual_ipaddress {
        2001:db8::26
    }
}
CONF

ip netns exec "$ns" tcpdump -i veth0 -U -w "$work/adverts.pcap" -s 0 'ip proto 112 or ip6 proto 112' \
    >"$work/tcpdump.log" 2>&1 &
dump_pid=$!
sleep 1

date +%s.%N >"$work/start"
ip netns exec "$ns" unshare --mount --propagation private sh -c \
    "mount -t tmpfs tmpfs /run && exec keepalived -n -l -D -G -P \
     -f '$work/keepalived.conf' -p '$work/ka.pid' -r '$work/vrrp.pid'" \
    >"$work/keepalived.log" 2>&1 &
ka_pid=$!

# Long enough for the BACKUP-configured instances (priority 90/150) to time out to MASTER
# (3 s + skew) and send a few adverts each.
sleep 6
kill -TERM "$ka_pid"
wait "$ka_pid" || true
ka_pid=""
sleep 1
kill "$dump_pid"
wait "$dump_pid" || true
dump_pid=""

python3 - "$work/adverts.pcap" "$(cat "$work/start")" "$(keepalived --version 2>&1 | head -1)" \
    >"$here/keepalived-adverts.txt" <<'PY'
# Split the pcap into one hex line per packet: the IPv4 packet as a raw socket delivers it.
import struct, sys

path, start, version = sys.argv[1], float(sys.argv[2]), sys.argv[3]
data = open(path, "rb").read()
magic = struct.unpack("<I", data[:4])[0]
endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
nano = magic in (0xA1B23C4D, 0x4D3CB2A1)
linktype = struct.unpack(endian + "I", data[20:24])[0]
assert linktype == 1, "expected Ethernet link type"
off = 24
print(f"# Real VRRP adverts captured from {version} by capture-keepalived.sh.")
print("# One packet per line: <vrid> <seconds since keepalived start> <IP packet hex>.")
print("# Ethernet header stripped: for IPv4 this is what a raw IPPROTO 112 socket receives;")
print("# for IPv6 (first nibble 6) the socket delivers only the part after the 40-byte header.")
seen = {}
while off + 16 <= len(data):
    sec, frac, incl, _orig = struct.unpack(endian + "IIII", data[off:off + 16])
    off += 16
    frame = data[off:off + incl]
    off += incl
    ts = sec + frac / (1e9 if nano else 1e6)
    ip = frame[14:]
    ihl = (ip[0] & 0x0F) * 4 if ip[0] >> 4 == 4 else 40
    vrid, prio = ip[ihl + 1], ip[ihl + 2]
    # Keep the first three adverts per VRID and every priority-0 (shutdown) advert.
    n = seen.get(vrid, 0)
    if n >= 3 and prio != 0:
        continue
    seen[vrid] = n + 1
    print(f"{vrid} {ts - start:.3f} {ip.hex()}")
PY
echo "wrote $here/keepalived-adverts.txt" >&2
grep -E 'Entering|priority' "$work/keepalived.log" >&2 || true
