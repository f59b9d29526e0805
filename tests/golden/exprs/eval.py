"""Evaluates every case of cases.json with ansible-core's own Templar; writes expected.json.

Each case is a template string; the result is what Ansible's templar returns for it (rendered
text, or the error class and message). Run by ../templates/regen.sh with Ansible's python.
"""
import json
import sys

from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

import os

# ansible.utils (ipaddr) comes from a collections folder that regen.sh prepares.
if os.environ.get("HACTL_COLLECTIONS"):
    from ansible.plugins.loader import init_plugin_loader

    init_plugin_loader([os.environ["HACTL_COLLECTIONS"]])

spec = json.load(open(sys.argv[1]))
# Lookups search (and run commands in) lookup/, as a play's ansible_search_path would have it.
fixtures = os.path.join(os.path.dirname(os.path.abspath(sys.argv[1])), "lookup")
loader = DataLoader()
loader.set_basedir(fixtures)
variables = dict(spec["vars"], ansible_search_path=[fixtures], playbook_dir=fixtures)
templar = Templar(loader=loader, variables=variables)
out = []
for src in spec["cases"]:
    try:
        result = templar.template(trust_as_template(src))
        out.append({"src": src, "out": result if isinstance(result, str) else str(result)})
    except Exception as ex:  # the error itself is the expected result
        out.append({"src": src, "error": f"{type(ex).__name__}: {ex}".splitlines()[0]})
for cond in spec["conditions"]:
    try:
        out.append({"when": cond, "out": str(templar.evaluate_conditional(trust_as_template(cond)))})
    except Exception as ex:
        out.append({"when": cond, "error": f"{type(ex).__name__}: {ex}".splitlines()[0]})
json.dump(out, open(sys.argv[2], "w"), indent=1, ensure_ascii=False)
open(sys.argv[2], "a").write("\n")
