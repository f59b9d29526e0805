#!/usr/bin/env bash
# Times `hactl inventory --list` (release build) against `ansible-inventory --list` on a
# generated INI inventory of 10,000 hosts in 200 groups (with group vars, host vars, ranges,
# children), checks both print the same JSON, and prints the times side by side.
#
#   tests/bench/inventory.sh [HOSTS] [GROUPS]
#
# Needs ansible-core 2.19 in /opt/ansible-venv (or ANSIBLE_BIN); see
# tests/golden/inventory/regen.sh for how to install it.
set -euo pipefail

hosts="${1:-10000}"
groups="${2:-200}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
bin="${ANSIBLE_BIN:-/opt/ansible-venv/bin}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

(cd "$root" && cargo build --release --quiet --bin hactl)
hactl="$root/target/release/hactl"

inv="$work/inventory.ini"
per=$((hosts / groups))
{
    echo "[all:vars]"
    echo "ansible_user=deploy"
    echo "ntp='pool.ntp.org'"
    for ((g = 0; g < groups; g++)); do
        echo "[g$g]"
        for ((h = 0; h < per; h++)); do
            n=$((g * per + h))
            if ((h % 10 == 0)); then
                echo "host$n.example.com ansible_host=10.$((n / 65536 % 256)).$((n / 256 % 256)).$((n % 256)) rack=$((n % 40)) tags=\"['a', 'b']\""
            else
                echo "host$n.example.com"
            fi
        done
        echo "[g$g:vars]"
        echo "group_id=$g"
        echo "role=\"role$((g % 7))\""
    done
    for ((p = 0; p < groups / 10; p++)); do
        echo "[parent$p:children]"
        for ((g = p * 10; g < p * 10 + 10; g++)); do echo "g$g"; done
        echo "[parent$p:vars]"
        echo "ansible_group_priority=$((p % 3 + 1))"
        echo "parent_id=$p"
    done
} >"$inv"

cd "$work"
: >ansible.cfg
export ANSIBLE_CONFIG="$work/ansible.cfg" ANSIBLE_HOME="$work/home"

# Milliseconds of the best of N runs of a command (stdout to a file).
best_ms() {
    local n="$1" out="$2"
    shift 2
    local best=999999999
    for ((i = 0; i < n; i++)); do
        local t0 t1
        t0=$(date +%s%N)
        "$@" >"$out"
        t1=$(date +%s%N)
        local ms=$(((t1 - t0) / 1000000))
        ((ms < best)) && best=$ms
    done
    echo "$best"
}

h_ms=$(best_ms 5 "$work/hactl.json" "$hactl" inventory -i "$inv" --list)
a_ms=$(best_ms 1 "$work/ansible.json" "$bin/ansible-inventory" -i "$inv" --list)

same=$("$bin/python" - "$work/ansible.json" "$work/hactl.json" <<'PY'
import json, sys
a = json.load(open(sys.argv[1])); b = json.load(open(sys.argv[2]))
a.get("_meta", {}).pop("profile", None)
print("identical" if a == b else "DIFFERENT")
PY
)

printf '%s hosts in %s groups (%s lines)\n' "$hosts" "$groups" "$(wc -l <"$inv")"
printf '%-28s %8s\n' "command" "ms"
printf '%-28s %8s\n' "hactl inventory --list" "$h_ms"
printf '%-28s %8s\n' "ansible-inventory --list" "$a_ms"
printf 'outputs: %s, speed-up: %sx\n' "$same" "$(( a_ms / (h_ms > 0 ? h_ms : 1) ))"
[ "$same" = identical ]
