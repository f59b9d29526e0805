#!/usr/bin/env bash
# Unpacks the collections the corpus roles use (ansible.posix, community.general,
# community.crypto) into $HACTL_CORPUS_CACHE/collections (default /var/tmp/hactl-corpus), once:
# from the `ansible` community package on PyPI built on ansible-core 2.19 (pinned below),
# downloaded with the venv's pip. ansible-playbook needs them in tests/corpus/regen.sh and
# tests/corpus_apply.rs (ANSIBLE_COLLECTIONS_PATH); hactl reads them only to know which module
# names Ansible has (tests/corpus_render.rs, tests/corpus_check.rs).
#
#   tests/corpus/collections.sh      prints the collections folder
set -euo pipefail
venv=${HACTL_ANSIBLE_VENV:-/opt/ansible-venv}
cache=${HACTL_CORPUS_CACHE:-/var/tmp/hactl-corpus}
ansible_pkg=ansible==12.3.0   # the community package built on ansible-core 2.19
collections=$cache/collections
if [ ! -f "$collections/ansible_collections/community/general/MANIFEST.json" ] ||
    [ ! -f "$collections/ansible_collections/ansible/posix/MANIFEST.json" ]; then
    mkdir -p "$cache/wheel" "$collections"
    "$venv/bin/pip" download -q --no-deps -d "$cache/wheel" "$ansible_pkg"
    "$venv/bin/python" - "$cache/wheel" "$collections" <<'PY'
import pathlib, sys, zipfile
wheel = next(pathlib.Path(sys.argv[1]).glob("ansible-*.whl"))
keep = ("ansible_collections/ansible/posix/", "ansible_collections/community/general/",
        "ansible_collections/community/crypto/")
with zipfile.ZipFile(wheel) as z:
    z.extractall(sys.argv[2], [n for n in z.namelist() if n.startswith(keep)])
PY
fi
echo "$collections"
