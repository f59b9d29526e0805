#!/usr/bin/env bash
# Regenerates corpus-verdicts.json: the verdict of the real keepalived (`keepalived -t -f FILE`)
# on keepalived's own sample configs (read from the shared corpus, never copied: see its
# README) and on roles/*.conf (what the public keepalived roles render, written by hand).
#
# The samples name eth0..eth3 and eth0.1, the role configs eth0 and eth1, so keepalived runs
# inside a network namespace of its own that has exactly those (veth pairs, nothing else; a
# veth named eth0.1 stands in for the VLAN). The root namespace is never touched, and the
# namespace is deleted on exit, whatever happens. Needs root, keepalived and python3.
#
# The corpus is found as keepalived_corpus.rs finds it: $HACTL_CORPUS, else shared/corpus
# beside the repository, else /work/shared/corpus.
set -euo pipefail
cd "$(dirname "$0")"
here=$(pwd)
root=$(cd ../../.. && pwd)

corpus=${HACTL_CORPUS:-}
if [ -z "$corpus" ]; then
    for c in "$root/../shared/corpus" /work/shared/corpus; do
        if [ -d "$c/keepalived-samples" ]; then corpus=$c; break; fi
    done
fi
samples="$corpus/keepalived-samples"
[ -d "$samples" ] || { echo "no keepalived-samples: set HACTL_CORPUS" >&2; exit 1; }

ns="hactl-kc-$$-$RANDOM"
out=$(mktemp)
cleanup() { ip netns del "$ns" 2>/dev/null || true; rm -f "$out"; }
trap cleanup EXIT
ip netns add "$ns"
ip -n "$ns" link set lo up
i=0
for ifname in eth0 eth1 eth2 eth3 eth0.1; do
    ip -n "$ns" link add "$ifname" type veth peer name "p$i"
    ip -n "$ns" link set "$ifname" up
    i=$((i + 1))
done

version=$( (keepalived --version 2>&1 || true) | head -n 1)

run() { # NAME PATH DIR
    local name=$1 path=$2 dir=$3 stderr code
    set +e
    # As regen.sh: keepalived -t sums up what it reported in its exit code (0 clean, 4 cannot
    # run, 5 config errors, 6 script security). It runs in the file's folder, so relative
    # includes resolve as for `hactl-agent check`.
    stderr=$(cd "$dir" && ip netns exec "$ns" keepalived -t -f "$path" 2>&1 >/dev/null)
    code=$?
    set -e
    # Paths as the test passes them: the file's own name, relative to its folder.
    stderr=${stderr//"$dir/"/}
    printf '%s\t%s\t%s\n' "$name" "$code" "$(printf '%s' "$stderr" | base64 -w0)" >>"$out"
}

for f in "$samples"/*; do
    base=$(basename "$f")
    case "$base" in README.md | COPYING) continue ;; esac
    run "samples/$base" "$f" "$samples"
done
for f in roles/*.conf; do
    run "$f" "$here/$f" "$here/roles"
done

python3 - "$version" "$out" >corpus-verdicts.json <<'PY'
import base64, json, sys
version, path = sys.argv[1], sys.argv[2]
files = {}
for line in open(path, encoding="utf-8"):
    name, code, err = line.rstrip("\n").split("\t")
    text = base64.b64decode(err).decode("utf-8", "replace")
    files[name] = {"exit_code": int(code), "stderr": [l for l in text.splitlines() if l]}
json.dump({"keepalived": version, "command": "keepalived -t -f FILE", "files": files},
          sys.stdout, indent=2, sort_keys=True)
print()
PY
echo "wrote $here/corpus-verdicts.json ($(grep -c '"exit_code"' corpus-verdicts.json) files)"
