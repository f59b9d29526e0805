#!/bin/sh
# Regenerates the golden listings from ansible-playbook (ansible-core 2.19 at
# /opt/ansible-venv, or $HACTL_ANSIBLE_VENV). Hosts are printed from a Python set: the test
# compares each play's host lines as a set.
set -eu
cd "$(dirname "$0")"
venv=${HACTL_ANSIBLE_VENV:-/opt/ansible-venv}
run() {
    out=$1; shift
    ANSIBLE_CONFIG=/dev/null/none PYTHONHASHSEED=0 ANSIBLE_NOCOLOR=1 \
        "$venv/bin/ansible-playbook" -i inventory.ini site.yml "$@" >"$out" 2>&1 || true
}
run list-hosts.out --list-hosts
run list-tasks.out --list-tasks
run list-tags.out --list-tags
run syntax-check.out --syntax-check
run list-tasks-tags.out --list-tasks --tags config,check,debugging --skip-tags packages
run list-all-limit.out --list-hosts --list-tasks --list-tags --limit lb1
