#!/usr/bin/env bash
# Regenerates keepalived-ipv6.txt: what real keepalived (the version installed on this machine,
# 2.2.7 when the file was made) puts on the wire for an IPv6 instance becoming MASTER: its
# VRRPv3 adverts to ff02::12 and its unsolicited Neighbour Advertisements for the IPv6 VIPs.
# Used as byte tables by agent/tests/packet_ipv6_keepalived.rs.
#
# Everything happens inside one network namespace made for this run (a veth pair, documentation
# addresses 2001:db8::/32 and a fixed MAC); keepalived gets a private /run. The trap removes the
# namespace and stops keepalived and tcpdump even when a step fails.
#
# Usage (root): agent/tests/data/capture-keepalived-ipv6.sh   (rewrites the file beside this script)
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
ns="hactlcap6$$"
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
ip -n "$ns" link add veth0 address 02:00:5e:10:00:01 type veth peer name veth1
# No duplicate address detection, so veth0's link-local address (the advert source) is usable
# at once; forwarding off, so the NAs carry no router flag.
ip netns exec "$ns" sysctl -qw net.ipv6.conf.veth0.accept_dad=0
ip netns exec "$ns" sysctl -qw net.ipv6.conf.veth0.forwarding=0
ip -n "$ns" link set veth0 up
ip -n "$ns" link set veth1 up

# vrid 36: IPv6 VIPs (version 3 by deduction), two VIPs so the advert lists two 16-byte
# addresses; priority 255 (address owner) so it is MASTER at once and sends its NAs.
cat >"$work/keepalived.conf" <<'CONF'
global_defs {
    router_id hactl-capture6
}
vrrp_instance V6 {
    state MASTER
    interface veth0
    virtual_router_id 36
    priority 255
    advert_int 1
    virtual_ipaddress {
        2001:db8:36::100/64
        2001:db8:36::101/64
    }
}
CONF

ip netns exec "$ns" tcpdump -i veth0 -U -w "$work/v6.pcap" -s 0 'ip6 proto 112 or icmp6' \
    >"$work/tcpdump.log" 2>&1 &
dump_pid=$!
sleep 1

ip netns exec "$ns" unshare --mount --propagation private sh -c \
    "mount -t tmpfs tmpfs /run && exec keepalived -n -l -D -G -P \
     -f '$work/keepalived.conf' -p '$work/ka.pid' -r '$work/vrrp.pid'" \
    >"$work/keepalived.log" 2>&1 &
ka_pid=$!

sleep 4
kill -TERM "$ka_pid"
wait "$ka_pid" || true
ka_pid=""
sleep 1
kill "$dump_pid"
wait "$dump_pid" || true
dump_pid=""

python3 - "$work/v6.pcap" "$(keepalived --version 2>&1 | head -1)" \
    >"$here/keepalived-ipv6.txt" <<'PY'
# One hex line per frame: the whole Ethernet frame.
import struct, sys

path, version = sys.argv[1], sys.argv[2]
data = open(path, "rb").read()
magic = struct.unpack("<I", data[:4])[0]
endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
linktype = struct.unpack(endian + "I", data[20:24])[0]
assert linktype == 1, "expected Ethernet link type"
off = 24
print(f"# Real IPv6 frames captured from {version} by capture-keepalived-ipv6.sh.")
print("# One Ethernet frame per line: <kind> <frame hex>; kind is 'vrrp' (a VRRPv3 advert to")
print("# ff02::12) or 'na' (an unsolicited Neighbour Advertisement). veth0's MAC is")
print("# 02:00:5e:10:00:01; the VIPs are 2001:db8:36::100 and ::101.")
counts = {}
while off + 16 <= len(data):
    _sec, _frac, incl, _orig = struct.unpack(endian + "IIII", data[off:off + 16])
    off += 16
    frame = data[off:off + incl]
    off += incl
    if frame[12:14] != b"\x86\xdd":
        continue
    nxt = frame[14 + 6]
    icmp_type = frame[54] if nxt == 58 else None
    if nxt == 112:
        kind = "vrrp"
    elif icmp_type == 136:
        kind = "na"
    else:
        continue  # router/neighbour solicitations, MLD reports
    n = counts.get(kind, 0)
    # Keep three adverts (and the priority-0 one at shutdown) and the first burst of NAs.
    if kind == "vrrp" and n >= 3 and frame[54 + 2] != 0:
        continue
    if kind == "na" and n >= 4:
        continue
    counts[kind] = n + 1
    print(f"{kind} {frame.hex()}")
PY
echo "wrote $here/keepalived-ipv6.txt" >&2
grep -E 'Entering|NA|Neighbour' "$work/keepalived.log" >&2 || true
