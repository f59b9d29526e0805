# service_facts: what Ansible's service_facts reads, raw, for the controller to parse as the
# module does. No arguments. Prints hactl:KEY=VALUE lines:
#   tools: which of service, chkconfig, initctl, rc-status, rc-update are on PATH;
#   systemd=1 when systemd manages the host (systemctl present and a canary folder or init
#   named systemd); sysv_rc, sysv_b64, initd (service --status-all, /etc/init.d exists);
#   units_rc, units_b64, files_rc, files_b64 (systemctl list-units / list-unit-files);
#   show=NAME<TAB>RC<TAB>OUTPUT for each unit file list-units did not list.
# shellcheck shell=sh
export LANG=C LC_ALL=C
has() { command -v "$1" >/dev/null 2>&1; }
b64() { base64 -w0; echo; }
tools=''
for t in service chkconfig initctl rc-status rc-update; do has "$t" && tools="$tools $t"; done
echo "hactl:tools=$tools"
if has service && ! has chkconfig && ! has rc-status; then
    out=$(service --status-all 2>/dev/null); rc=$?
    echo "hactl:sysv_rc=$rc"
    printf 'hactl:sysv_b64='; printf '%s' "$out" | b64
    [ -d /etc/init.d ] && echo "hactl:initd=1"
fi
systemd=0
if has systemctl; then
    for c in /run/systemd/system/ /dev/.run/systemd/ /dev/.systemd/; do [ -e "$c" ] && systemd=1; done
    if [ "$systemd" = 0 ] && [ "$(head -n 1 /proc/1/comm 2>/dev/null)" = systemd ]; then systemd=1; fi
fi
echo "hactl:systemd=$systemd"
[ "$systemd" = 1 ] || exit 0
units=$(systemctl list-units --no-pager --type service --all --plain 2>&1); rc=$?
echo "hactl:units_rc=$rc"
printf 'hactl:units_b64='; printf '%s' "$units" | b64
files=$(systemctl list-unit-files --no-pager --type service --all 2>&1); rc=$?
echo "hactl:files_rc=$rc"
printf 'hactl:files_b64='; printf '%s' "$files" | b64
[ "$rc" = 0 ] || exit 0
# Unit files list-units did not name: their ActiveState, one `systemctl show` each (as Ansible).
known=$(printf '%s\n' "$units" | awk '/\.service/ { print $1 }')
printf '%s\n' "$files" | awk '/\.service/ { print $1 }' | while IFS= read -r name; do
    if ! printf '%s\n' "$known" | grep -qxF -- "$name"; then
        s=$(systemctl show "$name" --property=ActiveState 2>/dev/null); rc=$?
        printf 'hactl:show=%s\t%s\t%s\n' "$name" "$rc" "$(printf '%s' "$s" | head -n 1)"
    fi
done
