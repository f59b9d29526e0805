#!/bin/sh
# Regenerates step.out and start-at.out from ansible-playbook (ansible-core 2.19 at
# /opt/ansible-venv, or $HACTL_ANSIBLE_VENV) on the local connection.
set -eu
cd "$(dirname "$0")"
venv=${HACTL_ANSIBLE_VENV:-/opt/ansible-venv}
export ANSIBLE_CONFIG=/dev/null/none ANSIBLE_NOCOLOR=1 ANSIBLE_LOCALHOST_WARNING=0
"$venv/bin/ansible-playbook" -i inventory.ini step.yml --step <answers >step.out 2>&1
"$venv/bin/ansible-playbook" -i inventory.ini step.yml --start-at-task 'thr*' >start-at.out 2>&1
