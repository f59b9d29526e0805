#!/usr/bin/env bash
# Regenerates tests/golden/corpus/<role>/: what ansible-core 2.19 renders for each corpus role
# with the inventory, site.yml and facts of tests/corpus/<role>/ (the inputs
# tests/corpus_render.rs gives `hactl render`).
#
#   sudo tests/corpus/regen.sh [ROLE...]     (default: every tests/corpus/<role>/site.yml)
#
# How the goldens are made, and why this way:
# - ansible-playbook runs `--check --diff` with gather_facts off and the facts of
#   tests/corpus/facts/<host>.json loaded from a jsonfile fact cache, so both hosts see exactly
#   the facts hactl is given. Check mode lets package and service tasks pass without network
#   (apt simulates from the package lists) and makes template tasks report the full rendered
#   text in their diff; the callback tests/corpus/capture/corpus_capture.py saves that text
#   byte for byte to <host>/<dest> and writes ANSIBLE.txt (failed tasks, recap).
# - The hosts are real: a fresh two-host fleet (tests/fleet: node1, node2 at 198.51.100.11/.12,
#   systemd-nspawn over a throwaway overlay of this machine's Debian 12) per role, reached over
#   ssh from the fleet's controller namespace. Service tasks need a running systemd to answer
#   even in check mode, and tasks marked `check_mode: false` (and handlers) really run: on a
#   disposable host they cannot touch this machine.
# - Collections the roles use (ansible.posix, community.general, community.crypto) come from
#   the `ansible` community package on PyPI, unpacked into a cache folder by collections.sh
#   (which pins it; tests/corpus_apply.rs uses the same folder).
# - tests/corpus/<role>/packages lists packages the hosts get before the run (see below).
# - The extra roles of extra-roles.txt are exported at their pinned commit from
#   $HACTL_EXTRA_ROLES/<name> or the fetch mirror (/work/.mirror); missing ones are skipped.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
venv=${HACTL_ANSIBLE_VENV:-/opt/ansible-venv}
cache=${HACTL_CORPUS_CACHE:-/var/tmp/hactl-corpus}
[ "$(id -u)" = 0 ] || { echo "regen: run as root (namespaces, overlay, chroot)" >&2; exit 1; }
version=$("$venv/bin/ansible-playbook" --version 2>/dev/null || true)
[[ "$version" == *"core 2.19"* ]] || {
    echo "regen: $venv has no ansible-core 2.19" >&2; exit 1; }

corpus=${HACTL_CORPUS:-}
for c in "$corpus" "$repo/../shared/corpus" "$repo/../../shared/corpus" /work/shared/corpus; do
    if [ -n "$c" ] && [ -d "$c" ]; then corpus=$(cd "$c" && pwd); break; fi
done
[ -d "$corpus" ] || { echo "regen: corpus not found (set HACTL_CORPUS)" >&2; exit 1; }

# Collections, once (shared with tests/corpus_apply.rs).
collections=$(HACTL_ANSIBLE_VENV="$venv" HACTL_CORPUS_CACHE="$cache" "$here/collections.sh")

# Extra roles at their pinned commits.
extra=$cache/roles
mkdir -p "$extra"
while read -r name gh commit; do
    case "$name" in ''|'#'*) continue ;; esac
    if [ -f "$extra/$name/.commit" ] && [ "$(cat "$extra/$name/.commit")" = "$commit" ]; then
        continue
    fi
    rm -rf "$extra/$name"
    if [ -n "${HACTL_EXTRA_ROLES:-}" ] && [ -d "$HACTL_EXTRA_ROLES/$name" ]; then
        cp -a "$HACTL_EXTRA_ROLES/$name" "$extra/$name"
    elif git --git-dir="/work/.mirror/${gh/\//+}/repo" cat-file -e "$commit" 2>/dev/null; then
        mkdir -p "$extra/$name"
        git --git-dir="/work/.mirror/${gh/\//+}/repo" archive "$commit" | tar -x -C "$extra/$name"
    else
        echo "regen: $name ($gh@$commit) not found, skipped" >&2
        continue
    fi
    echo "$commit" >"$extra/$name/.commit"
done <"$here/extra-roles.txt"

if [ $# -gt 0 ]; then
    roles=("$@")
else
    roles=()
    for d in "$here"/*/site.yml; do roles+=("$(basename "$(dirname "$d")")"); done
fi

for role in "${roles[@]}"; do
    if [ ! -d "$corpus/$role" ] && [ ! -d "$extra/$role" ]; then
        echo "regen: $role: role not found, skipped" >&2
        continue
    fi
    work=$(mktemp -d "$cache/run.XXXXXX")
    mkdir -p "$work"/{out,facts}
    for f in "$here"/facts/*.json; do
        host=$(basename "$f" .json)
        "$venv/bin/python" -c '
import json, sys
facts = json.load(open(sys.argv[1]))["ansible_facts"]
json.dump({"__payload__": json.dumps(facts)}, open(sys.argv[2], "w"))
' "$f" "$work/facts/s1_$host"
    done
    : >"$work/ansible.cfg"
    echo "regen: $role"
    prefix="hcr$(od -An -N2 -tx1 /dev/urandom | tr -d ' \n')"
    # shellcheck disable=SC2064
    trap "'$repo/tests/fleet' down '$prefix' >/dev/null 2>&1 || true" EXIT
    st=$("$repo/tests/fleet" up --names node1,node2 --prefix "$prefix" | tail -1)
    # Packages the role installs whose files later tasks need even in check mode (a service
    # to query, a file to edit): downloaded here (nothing is installed on this machine; the
    # hosts see its apt cache through their overlay) and installed on both hosts.
    if [ -f "$here/$role/packages" ]; then
        read -r -a pkgs <"$here/$role/packages"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --download-only "${pkgs[@]}" >/dev/null
        for host in node1 node2; do
            "$repo/tests/fleet" ssh "$prefix" "$host" \
                DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-download "${pkgs[@]}" \
                >>"$work/packages.log" 2>&1
        done
    fi
    set +e
    # PATH: roles run `ansible --version` on the controller (delegate_to: localhost).
    (cd "$here/$role" && ip netns exec "$prefix-ctl" env \
        PATH="$venv/bin:$PATH" \
        ANSIBLE_CONFIG="$work/ansible.cfg" \
        ANSIBLE_ROLES_PATH="$corpus:$extra" \
        ANSIBLE_COLLECTIONS_PATH="$collections" \
        ANSIBLE_CACHE_PLUGIN=jsonfile \
        ANSIBLE_CACHE_PLUGIN_CONNECTION="$work/facts" \
        ANSIBLE_CACHE_PLUGIN_TIMEOUT=0 \
        ANSIBLE_CALLBACK_PLUGINS="$here/capture" \
        ANSIBLE_CALLBACKS_ENABLED=corpus_capture \
        HACTL_CAPTURE_OUT="$work/out" \
        HACTL_CAPTURE_STRIP="$corpus:$extra:$here" \
        ANSIBLE_MAX_DIFF_SIZE=100000000 \
        ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3 \
        ANSIBLE_REMOTE_USER=root \
        ANSIBLE_HOST_KEY_CHECKING=True \
        ANSIBLE_SSH_ARGS="-F $st/ssh_config -o ControlMaster=auto -o ControlPersist=60s" \
        ANSIBLE_FORKS=1 \
        ANSIBLE_NOCOLOR=1 \
        ANSIBLE_RETRY_FILES_ENABLED=0 \
        "$venv/bin/ansible-playbook" -i inventory.ini site.yml --check --diff \
        ) >"$work/ansible.log" 2>&1
    rc=$?
    set -e
    echo "regen: $role: ansible-playbook exit $rc (log: $work/ansible.log)"
    golden="$repo/tests/golden/corpus/$role"
    rm -rf "$golden"
    mkdir -p "$golden"
    cp -a "$work/out/." "$golden/"
    if [ ! -f "$golden/ANSIBLE.txt" ]; then
        { echo "# ansible-playbook exit $rc before its recap:"; tail -20 "$work/ansible.log"; } \
            >"$golden/ANSIBLE.txt"
    fi
    "$repo/tests/fleet" down "$prefix" >/dev/null
    trap - EXIT
done
