#!/usr/bin/env bash
# Regenerates tests/corpus/facts/<host>.json: what `ansible -m setup` (ansible-core 2.19) reports
# for two real Debian 12 hosts, node1 and node2, booted with tests/fleet (198.51.100.11/.12).
# The corpus inventories name the same two hosts, so hactl render (--facts) and the golden run
# of ansible-playbook (tests/corpus/regen.sh, through a jsonfile fact cache) see the same facts.
#
#   sudo tests/corpus/make-facts.sh        (root: the fleet needs namespaces and nspawn)
#
# Facts that only describe the machine the fleet runs on, not a Debian 12 host (its mounts,
# devices, its resolvers, the ssh client's environment, dates), are dropped so the fixture stays stable and
# says nothing about this machine; roles template none of them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
venv=${HACTL_ANSIBLE_VENV:-/opt/ansible-venv}

prefix="hcf$(od -An -N2 -tx1 /dev/urandom | tr -d ' \n')"
trap '"$repo/tests/fleet" down "$prefix" >/dev/null 2>&1 || true' EXIT
st=$("$repo/tests/fleet" up --names node1,node2 --prefix "$prefix" | tail -1)

for host in node1 node2; do
    # The tree callback writes the module's result as JSON to TREE_DIR/<host>.
    ANSIBLE_CONFIG="$st/ansible.cfg" ANSIBLE_LOAD_CALLBACK_PLUGINS=1 ANSIBLE_CALLBACKS_ENABLED=tree \
        ANSIBLE_CALLBACK_TREE_DIR="$st/tree" ip netns exec "$prefix-ctl" \
        "$venv/bin/ansible" -i "$st/inventory.ini" "$host" -m setup >/dev/null
    "$venv/bin/python" -c '
import json, sys
facts = json.load(sys.stdin)["ansible_facts"]
drop = ("ansible_mounts", "ansible_device_links", "ansible_devices", "ansible_env",
        "ansible_date_time", "ansible_cmdline", "ansible_proc_cmdline", "ansible_uptime_seconds",
        "ansible_memfree_mb", "ansible_memory_mb", "ansible_swapfree_mb", "ansible_loadavg", "ansible_dns",
        "ansible_hostnqn", "ansible_iscsi_iqn", "ansible_fibre_channel_wwn", "ansible_lvm",
        "ansible_machine_id", "ansible_product_uuid", "ansible_product_serial",
        "ansible_ssh_host_key_ecdsa_public", "ansible_ssh_host_key_ed25519_public",
        "ansible_ssh_host_key_rsa_public", "ansible_ssh_host_key_ecdsa_public_keytype",
        "ansible_ssh_host_key_ed25519_public_keytype", "ansible_ssh_host_key_rsa_public_keytype")
for key in drop:
    facts.pop(key, None)
json.dump({"ansible_facts": facts}, sys.stdout, indent=1, sort_keys=True)
sys.stdout.write("\n")
' <"$st/tree/$host" >"$here/facts/$host.json"
    echo "wrote $here/facts/$host.json"
done
