#!/opt/ansible-venv/bin/python
"""Regenerates the golden `.json` next to every `.yml` here with ansible-core's own loader.

Run: /opt/ansible-venv/bin/python tests/golden/yaml/regen.py

Each file is read the way Ansible's DataLoader reads a playbook or vars file: the text is
tagged TrustedAsTemplate and handed to `ansible.parsing.utils.yaml.from_yaml` (JSON first, then
AnsibleLoader). The result is written in a form both sides can compare exactly:

  {"value": V, "warnings": [{"line": L, "col": C, "message": M}]}   or
  {"error": {"line": L, "col": C, "message": M}}

where V is JSON with these encodings: a string that is not trusted as a template (`!unsafe`)
is {"__unsafe__": s}; a float is {"__float__": repr(f)}; a mapping is
{"__map__": [[key, value], ...]} (keys keep their types and order); a date or datetime is
str(value), which is how hactl represents timestamps (see src/yaml/mod.rs).
"""

from __future__ import annotations

import datetime
import json
import pathlib
import sys

from ansible._internal._datatag._tags import Origin, TrustedAsTemplate
from ansible.parsing.utils.yaml import from_yaml
from ansible.utils.display import Display

HERE = pathlib.Path(__file__).resolve().parent
WARNINGS: list[dict] = []


def capture_warning(self, msg, formatted=False, *, help_text=None, obj=None):
    origin = Origin.get_tag(obj) if obj is not None else None
    message = msg if not help_text else f"{msg} {help_text}"
    WARNINGS.append({
        "line": origin.line_num if origin else None,
        "col": origin.col_num if origin else None,
        "message": message,
    })


Display.warning = capture_warning


def encode(value):
    if value is None or isinstance(value, bool) or isinstance(value, int):
        return value
    if isinstance(value, float):
        return {"__float__": repr(value)}
    if isinstance(value, str):
        if TrustedAsTemplate.is_tagged_on(value):
            return str(value)
        return {"__unsafe__": str(value)}
    if isinstance(value, (datetime.date, datetime.datetime)):
        return str(value)
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {"__map__": [[encode(k), encode(v)] for k, v in value.items()]}
    raise TypeError(f"cannot encode {type(value).__name__}")


def error_position(ex: BaseException) -> tuple[int | None, int | None]:
    # The parser error wraps PyYAML's MarkedYAMLError; its problem_mark is 0-based.
    for cause in (ex, ex.__cause__, ex.__context__):
        mark = getattr(cause, "problem_mark", None)
        if mark is not None:
            return mark.line + 1, mark.column + 1
    return None, None


def load(path: pathlib.Path) -> dict:
    WARNINGS.clear()
    text = TrustedAsTemplate().tag(path.read_text(encoding="utf-8"))
    try:
        value = from_yaml(text, file_name=str(path))
    except Exception as ex:  # the golden file records what Ansible refuses
        line, col = error_position(ex)
        return {"error": {"line": line, "col": col, "message": str(ex).splitlines()[0]}}
    return {"value": encode(value), "warnings": list(WARNINGS)}


def main() -> int:
    for path in sorted(HERE.glob("*.yml")):
        out = path.with_suffix(".json")
        out.write_text(json.dumps(load(path), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(out.name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
