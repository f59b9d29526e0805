#!/usr/bin/env bash
# Regenerates the golden outputs of every case in this folder with the real ansible-inventory.
#
# Each case folder holds an inventory and an `args` file:
#   line 1: inventory sources, relative to the case folder, separated by spaces (each is one -i)
#   line 2: hosts to dump with --host
#   line 3: group to start --graph GROUP at
#   line 4 (optional): folder to run in, relative to the case folder (default: an empty one);
#           ansible-inventory also reads group_vars/ and host_vars/ of the current directory
# Outputs: list.json, graph.txt, graph_vars.txt, graph_group.txt, host_<name>.json, stderr.txt.
#
# Needs ansible-core 2.19. If /opt/ansible-venv is missing:
#   python3 -m venv /opt/ansible-venv && /opt/ansible-venv/bin/pip install 'ansible-core>=2.19,<2.20'
# or point ANSIBLE_BIN at another bin folder holding ansible-inventory.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
bin="${ANSIBLE_BIN:-/opt/ansible-venv/bin}"
"$bin/ansible-inventory" --version | head -1 | grep -q 'core 2.19' || {
    echo "regen.sh: need ansible-core 2.19 in $bin" >&2
    exit 1
}

# Run from an empty folder with an empty config: ansible-inventory also reads group_vars/ next to
# the current directory and ansible.cfg from it, which would pollute the outputs.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
: >"$work/ansible.cfg"
export ANSIBLE_CONFIG="$work/ansible.cfg" ANSIBLE_HOME="$work/home" ANSIBLE_NOCOLOR=1
cd "$work"

for case in "$here"/*/; do
    case="${case%/}"
    [ -f "$case/args" ] || continue
    mapfile -t args <"$case/args"
    inv=()
    for src in ${args[0]}; do inv+=(-i "$case/$src"); done
    run_in="$work"
    if [ -n "${args[3]:-}" ]; then run_in="$case/${args[3]}"; fi
    ai() { (cd "$run_in" && "$bin/ansible-inventory" "${inv[@]}" "$@"); }
    # Sorted keys and 4-space indents, without the "profile" key hactl does not print.
    ai --list 2>"$case/stderr.txt" | "$bin/python" -c '
import json, sys
d = json.load(sys.stdin)
d.get("_meta", {}).pop("profile", None)
print(json.dumps(d, sort_keys=True, indent=4))' >"$case/list.json"
    ai --graph >"$case/graph.txt" 2>/dev/null
    ai --graph --vars >"$case/graph_vars.txt" 2>/dev/null
    ai --graph "${args[2]}" >"$case/graph_group.txt" 2>/dev/null
    rm -f "$case"/host_*.json
    for h in ${args[1]}; do
        ai --host "$h" >"$case/host_$h.json" 2>/dev/null
    done
    # Paths in warnings differ per machine; keep only the messages.
    sed -i "s|$case/||g" "$case/stderr.txt"
    echo "regenerated $(basename "$case")"
done
