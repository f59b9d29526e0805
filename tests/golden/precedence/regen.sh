#!/bin/sh
# Regenerates out/: what ansible-playbook 2.19 renders for every variable of the precedence
# ladder (see inventory.ini and roles/r). Needs ansible-core in /opt/ansible-venv.
set -eu
cd "$(dirname "$0")"
ANSIBLE=${ANSIBLE:-/opt/ansible-venv/bin}
rm -rf out && mkdir -p out/h1
ANSIBLE_NOCOLOR=1 "$ANSIBLE/ansible-playbook" -i inventory.ini playbook.yml \
    -e "out=$PWD/out" -e x=extra_vars -e k=extra_vars >/dev/null
cat out/h1/report.txt
