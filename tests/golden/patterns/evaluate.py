"""Writes, from seeded random input, what ansible-core's own code answers in-process:
- evaluated.json: patterns and limits evaluated by InventoryManager (get_hosts after subset), with
  the warnings it displays and its errors;
- syntax.json: how split_host_pattern cuts strings into terms, and which names each glob matches
  through fnmatch.translate (the way _match_list compiles a pattern).

Only inventories whose host order Ansible fixes (no two groups of one depth with children) are
used, so every result is exact. Run through regen.sh.
"""
import json
import random

import fnmatch
import re

import ansible.inventory.manager as manager
from ansible.errors import AnsibleError
from ansible.inventory.manager import InventoryManager, split_host_pattern
from ansible.parsing.dataloader import DataLoader

warnings = []


class Collector:
    """Stands in for the manager's Display: keeps warnings, drops the rest."""

    def warning(self, msg, *args, **kwargs):
        if msg not in warnings:
            warnings.append(msg)

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


manager.display = Collector()

ATOMS = {
    "spine.ini": ["all", "*", "web", "db", "lb", "canary", "ungrouped", "nope", "web1", "solo",
                  "10.1.0.2", "10.1.0.*", "10.1.0.[1:2]", "*.example.com", "web?", "we*", "~web",
                  "~.*[0-9]$", "~(db|lb)", "~(", "web[0]", "web[-1]", "web[1:]", "db[0:1]",
                  "db[1-2]", "lb[5]", "web[2:0]", "canary[-2]", "localhost", "lb1:2222", "db?"],
    "globby.ini": ["all", "*", "x?y", "x*", "x[*]", "db-?", "db-[!a]", "shared", "odd", "a.b",
                   "a?b", "s1", "fe80::1", "fe80::*", "odd[-1]", "~x.y", "nope", "shared[1]",
                   "ungrouped[0:2]"],
}

random.seed(2019)
cases = []
for inventory, atoms in ATOMS.items():
    for _ in range(300):
        terms = [random.choice(["", "", "&", "!"]) + random.choice(atoms)
                 for _ in range(random.randint(1, 4))]
        pattern = random.choice([":", ","]).join(terms)
        limit = None
        if random.random() < 0.3:
            limit = random.choice(["", "&", "!"]) + random.choice(atoms)
        inv = InventoryManager(DataLoader(), sources=[inventory])
        warnings.clear()
        try:
            inv.subset(limit)
            hosts, error = [h.name for h in inv.get_hosts(pattern)], None
        except AnsibleError as e:
            hosts, error = None, e.message
        cases.append({"inventory": inventory, "pattern": pattern, "limit": limit, "hosts": hosts,
                      "error": error, "warnings": list(warnings)})

with open("evaluated.json", "w") as f:
    json.dump(cases, f, indent=1, ensure_ascii=False)
    f.write("\n")
print(f"{len(cases)} evaluated patterns")

SPLIT_PIECES = list("ab01:.[]-_*?!&~, ") + ["::", "[1:3]", "[a:c]", "fe80", "10.0.0.1", "web",
                                            "[0]", "[1:]", "[1-2]", "\u00fc"]
GLOB_PIECES = list("ab-z!^]*?[\\0")
NAMES = ["", "a", "b", "-", "]", "[", "!", "^", "\\", "z", "0", "ab", "a-b", "x*", "a.b", "a]",
         "[a", "zz", "b0"]
random.seed(211)
splits = sorted({"".join(random.choice(SPLIT_PIECES) for _ in range(random.randint(1, 7)))
                 for _ in range(1500)})
globs = {"".join(random.choice(GLOB_PIECES) for _ in range(random.randint(1, 9)))
         for _ in range(1500)}
# Bracket sets alone, where fnmatch's rules (ranges, `!`, `]` first, reversed ranges) live.
globs |= {"[" + "".join(random.choice("ab-z!^]\\0") for _ in range(random.randint(1, 6))) + "]"
          for _ in range(1500)}
globs = sorted(globs)
syntax = {
    "split": [[p, split_host_pattern(p)] for p in splits],
    "names": NAMES,
    "glob": [[g, [n for n in NAMES if re.compile(fnmatch.translate(g)).match(n)]] for g in globs],
}
with open("syntax.json", "w") as f:
    # One case a line, so a regen's diff reads case by case.
    f.write("{\n")
    for n, (key, items) in enumerate(syntax.items()):
        lines = ",\n".join(" " + json.dumps(item, ensure_ascii=False) for item in items)
        f.write(f'"{key}": [\n{lines}\n]' + (",\n" if n + 1 < len(syntax) else "\n"))
    f.write("}\n")
print(f"{len(splits)} split strings, {len(globs)} globs")
