#!/opt/ansible-venv/bin/python3
"""Runs ansible-core's own lineinfile on every case of cases.json (one local play) and writes
what it did to expected.json: changed, failed, msg, rc, found and the file afterwards.
Regenerate with: tests/golden/lineinfile/regen.py (needs ansible-core in /opt/ansible-venv)."""
import json, os, subprocess, sys, tempfile

here = os.path.dirname(os.path.abspath(__file__))
cases = json.load(open(os.path.join(here, "cases.json")))
tmp = tempfile.mkdtemp(prefix="lineinfile-golden-")
tasks = []
for i, c in enumerate(cases):
    d = os.path.join(tmp, str(i))
    os.makedirs(d)
    path = os.path.join(d, "file")
    if c["before"] is not None:
        with open(path, "wb") as f:
            f.write(c["before"].encode())
    args = dict(c["args"], path=path)
    tasks.append({"name": c["name"], "lineinfile": args, "register": "r%d" % i, "ignore_errors": True})
names = ", ".join("r%d" % i for i in range(len(cases)))
tasks.append({"copy": {"content": "{{ [%s] | to_json }}" % names, "dest": os.path.join(tmp, "results.json")}})
pb = os.path.join(tmp, "play.json")
json.dump([{"hosts": "localhost", "gather_facts": False, "connection": "local", "tasks": tasks}], open(pb, "w"))
env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="False")
subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", "-e", "ansible_python_interpreter=" + sys.executable, pb],
               check=True, env=env, stdout=subprocess.PIPE)
results = json.load(open(os.path.join(tmp, "results.json")))
out = []
for i, (c, r) in enumerate(zip(cases, results)):
    path = os.path.join(tmp, str(i), "file")
    after = open(path, "rb").read().decode() if os.path.exists(path) else None
    e = {"name": c["name"], "changed": r.get("changed", False), "failed": r.get("failed", False),
         "msg": r.get("msg", "").replace(path, "PATH"), "after": after}
    for k in ("rc", "found"):
        if k in r:
            e[k] = r[k]
    out.append(e)
with open(os.path.join(here, "expected.json"), "w") as f:
    json.dump(out, f, indent=1, ensure_ascii=False)
    f.write("\n")
print("%d cases written to expected.json" % len(out))
