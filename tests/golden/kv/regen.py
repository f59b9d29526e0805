#!/usr/bin/env python3
"""Regenerate golden.json: ansible-core's own parse_kv on every line of inputs.txt (check_raw
off) and cmd_inputs.txt (check_raw on, as for command/shell). Lines are read with Python
escapes left alone; a literal "\\n" inside a line stands for a newline.

Run with the python of a venv holding ansible-core 2.19:
    python3 -m venv /opt/ansible-venv && /opt/ansible-venv/bin/pip install 'ansible-core>=2.19,<2.20'
    /opt/ansible-venv/bin/python tests/golden/kv/regen.py
"""
import json
import os

from ansible.errors import AnsibleParserError
from ansible.parsing.splitter import parse_kv

here = os.path.dirname(os.path.abspath(__file__))
cases = []
for name, check_raw in (("inputs.txt", False), ("cmd_inputs.txt", True)):
    with open(os.path.join(here, name), encoding="utf-8") as f:
        for line in f.read().split("\n"):
            if not line:
                continue
            text = line.replace("\\n", "\n") if check_raw else line
            try:
                result = {"ok": {str(k): str(v) for k, v in parse_kv(text, check_raw=check_raw).items()}}
            except AnsibleParserError:
                result = {"error": True}
            cases.append({"input": text, "check_raw": check_raw, **result})
with open(os.path.join(here, "golden.json"), "w", encoding="utf-8") as f:
    json.dump(cases, f, indent=1, ensure_ascii=False)
    f.write("\n")
