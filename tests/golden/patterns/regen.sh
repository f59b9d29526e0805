#!/usr/bin/env bash
# Regenerates, from ansible-core 2.19:
# - expected.json: what the real `ansible -i INV PATTERN --list-hosts [--limit L]` prints;
# - evaluated.json: 600 seeded random patterns evaluated by Ansible's own InventoryManager in one
#   process (evaluate.py), for tests/patterns_golden.rs to compare with `pattern::select`.
#
# Each line of cases.tsv is: inventory, pattern, limit (`<none>` for no --limit), flags
# (`strict`: run with ANSIBLE_HOST_PATTERN_MISMATCH=error, what `hactl --strict` maps to).
# Every case runs RUNS times (default 6): Ansible orders the groups of one depth below a pattern's
# group through a Python set, so a few cases print different host orders from run to run; every
# order seen is recorded, and tests/patterns_golden.rs accepts any of them (hactl prints the order
# the groups were reached in; should a regen miss it, raise RUNS).
#
# Usage: tests/golden/patterns/regen.sh   (from anywhere; ANSIBLE=/path/to/ansible to override)
# It takes a few minutes on an idle machine (every `ansible` run costs about a second).
set -euo pipefail
cd "$(dirname "$0")"
ANSIBLE="${ANSIBLE:-/opt/ansible-venv/bin/ansible}"
PYTHON="$(dirname "$ANSIBLE")/python3"
export ANSIBLE RUNS="${RUNS:-6}"

"$PYTHON" - <<'PY'
import json, os, subprocess
from concurrent.futures import ThreadPoolExecutor

ansible = os.environ["ANSIBLE"]
runs = int(os.environ["RUNS"])
cases = []
with open("cases.tsv") as f:
    for line in f:
        line = line.rstrip("\n")
        if not line or line.startswith("#"):
            continue
        inventory, pattern, limit, flags = line.split("\t")
        cases.append((inventory, pattern, None if limit == "<none>" else limit, flags == "strict"))

env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_HOST_PATTERN_MISMATCH="warning")
env.pop("ANSIBLE_CONFIG", None)

def run(case):
    inventory, pattern, limit, strict = case
    argv = [ansible, "-i", inventory, pattern, "--list-hosts"]
    if limit is not None:
        argv.append("--limit=" + limit)
    case_env = dict(env, ANSIBLE_HOST_PATTERN_MISMATCH="error") if strict else env
    p = subprocess.run(argv, env=case_env, capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr

expected = []
with ThreadPoolExecutor(max_workers=2) as pool:
    for case, results in zip(cases, pool.map(lambda c: [run(c) for _ in range(runs)], cases)):
        inventory, pattern, limit, strict = case
        codes = {r[0] for r in results}
        stderrs = {r[2] for r in results}
        if len(codes) != 1 or len(stderrs) != 1:
            raise SystemExit(f"exit code or stderr differ between runs: {case}: {results}")
        stdouts = []
        for _, out, _ in results:
            if out not in stdouts:
                stdouts.append(out)
        expected.append({
            "inventory": inventory,
            "pattern": pattern,
            "limit": limit,
            "strict": strict,
            "exit_code": results[0][0],
            "stdout": stdouts,
            "stderr": results[0][2],
        })

with open("expected.json", "w") as f:
    json.dump(expected, f, indent=1, ensure_ascii=False)
    f.write("\n")
print(f"{len(expected)} cases, {sum(len(e['stdout']) > 1 for e in expected)} with several orders")
PY

"$PYTHON" evaluate.py
