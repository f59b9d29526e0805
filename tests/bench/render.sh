#!/usr/bin/env bash
# Benchmark: render the seed role (keepalived.conf, nginx.conf, notify.sh) for N hosts with
# `hactl render`, and the same playbook with ansible-playbook (template module, connection
# local) for a smaller fleet, then print both side by side with the time per host.
#
#   tests/bench/render.sh [HOSTS=1000] [ANSIBLE_HOSTS=20]
#
# Needs a release build (cargo build --release) and ansible-core in /opt/ansible-venv
# (python3 -m venv /opt/ansible-venv && /opt/ansible-venv/bin/pip install 'ansible-core>=2.19,<2.20').
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
hosts=${1:-1000}
ansible_hosts=${2:-20}
hactl=$here/target/release/hactl
[ -x "$hactl" ] || { echo "build first: cargo build --release" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mk_inventory() {
    local n=$1 file=$2 i
    {
        echo "[nginx]"
        for i in $(seq 1 "$n"); do
            if [ $((i % 2)) = 1 ]; then s1=MASTER p1=100 s2=BACKUP p2=90; else s1=BACKUP p1=90 s2=MASTER p2=100; fi
            echo "lb$i state1=$s1 priority1=$p1 state2=$s2 priority2=$p2 ansible_hostname=lb$i"
        done
        echo "[all:vars]"
        echo "ansible_connection=local"
        echo "ansible_python_interpreter=/opt/ansible-venv/bin/python"
    } >"$file"
}

mkdir -p "$work/roles/nginx/tasks" "$work/roles/nginx/templates"
for t in keepalived.conf nginx.conf notify.sh; do
    cp "$here/tests/golden/templates/templates/$t.j2" "$work/roles/nginx/templates/"
done
cat >"$work/roles/nginx/tasks/main.yml" <<'YML'
- name: config keepalived
  template: src=keepalived.conf.j2 dest={{ out }}/{{ inventory_hostname }}/keepalived.conf
- name: notify.sh
  template: src=notify.sh.j2 dest={{ out }}/{{ inventory_hostname }}/notify.sh
- name: config nginx
  template: src=nginx.conf.j2 dest={{ out }}/{{ inventory_hostname }}/nginx.conf
YML
cat >"$work/site.yml" <<'YML'
- hosts: nginx
  gather_facts: false
  roles: [nginx]
YML
mk_inventory "$hosts" "$work/big.ini"
mk_inventory "$ansible_hosts" "$work/small.ini"

now() { date +%s.%N; }
t0=$(now)
"$hactl" render -i "$work/big.ini" "$work/site.yml" --out "$work/hactl-out" -e out=/out >/dev/null
t1=$(now)
hactl_s=$(echo "$t1 - $t0" | bc -l)
files=$(find "$work/hactl-out" -type f | wc -l)

ansible_s=NA
if [ -x /opt/ansible-venv/bin/ansible-playbook ]; then
    for h in $(seq 1 "$ansible_hosts"); do mkdir -p "$work/ansible-out/lb$h"; done
    t0=$(now)
    ANSIBLE_NOCOLOR=1 /opt/ansible-venv/bin/ansible-playbook -i "$work/small.ini" "$work/site.yml" \
        -e out="$work/ansible-out" -f 10 >/dev/null
    t1=$(now)
    ansible_s=$(echo "$t1 - $t0" | bc -l)
fi

printf '%-26s %8s %10s %14s\n' "render the seed role" hosts seconds "ms per host"
printf '%-26s %8d %10.3f %14.3f\n' "hactl render" "$hosts" "$hactl_s" "$(echo "$hactl_s * 1000 / $hosts" | bc -l)"
if [ "$ansible_s" != NA ]; then
    printf '%-26s %8d %10.3f %14.3f\n' "ansible-playbook" "$ansible_hosts" "$ansible_s" "$(echo "$ansible_s * 1000 / $ansible_hosts" | bc -l)"
    printf 'per host, hactl is %.0fx faster\n' "$(echo "($ansible_s / $ansible_hosts) / ($hactl_s / $hosts)" | bc -l)"
fi
echo "hactl wrote $files files"
