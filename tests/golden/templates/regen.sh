#!/bin/sh
# Regenerates the template goldens with the real ansible-core 2.19:
#  - out/<host>/<name>: every templates/<name>.j2 rendered by ansible-playbook's template module;
#  - inventory.json: `ansible-inventory --list` of inventory.ini (the Rust test's host variables);
#  - ../exprs/expected.json: each ../exprs/cases.json string through Ansible's Templar.
set -eu
cd "$(dirname "$0")"
ANSIBLE=${ANSIBLE:-/opt/ansible-venv/bin}
# password_hash needs passlib, which ansible-core does not ship: install it beside (not into)
# Ansible's venv, once.
PYLIB=${PYLIB:-${TMPDIR:-/tmp}/hactl-golden-pylib}
[ -d "$PYLIB/passlib" ] || "$ANSIBLE/pip" install --quiet --target "$PYLIB" passlib==1.7.4 netaddr==1.3.0
# ipaddr is in the ansible.utils collection: take it from the `ansible` package's wheel.
COLLECTIONS="$PYLIB/collections"
if [ ! -d "$COLLECTIONS/ansible_collections/ansible/utils" ]; then
  "$ANSIBLE/pip" download --quiet --no-deps --dest "$PYLIB/wheel" "ansible==11.13.0"
  "$ANSIBLE/python" -c 'import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
z.extractall(sys.argv[2], [n for n in z.namelist() if n.startswith("ansible_collections/ansible/utils/")])' \
    "$PYLIB"/wheel/ansible-11.13.0-*.whl "$COLLECTIONS"
fi
rm -rf out
ANSIBLE_NOCOLOR=1 ANSIBLE_DEPRECATION_WARNINGS=False "$ANSIBLE/ansible-playbook" -i inventory.ini playbook.yml >/dev/null
"$ANSIBLE/ansible-inventory" -i inventory.ini --list > inventory.json
HACTL_COLLECTIONS="$COLLECTIONS" PYTHONPATH="$PYLIB" "$ANSIBLE/python" ../exprs/eval.py ../exprs/cases.json ../exprs/expected.json 2>/dev/null
echo "regenerated: $(find out -type f | wc -l) rendered files"
