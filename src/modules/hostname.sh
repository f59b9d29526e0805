# hostname: the host's name, current and permanent, as ansible-core's strategies set it.
# Arguments (assigned by the caller): name, use (systemd | file | auto), check (0/1).
#   systemd: `hostnamectl --static/--transient status`, set permanent first (`--pretty
#            --static set-hostname`), then current (`--transient set-hostname`).
#   file:    /etc/hostname only (Ansible's FileStrategy: no current name is set).
#   auto:    systemd when /run/systemd/system exists, else file on a Debian-family host.
# Prints hactl:current=, hactl:permanent= (before), hactl:changed=, hactl:fqdn=.
# shellcheck shell=sh
# shellcheck disable=SC2154 # the caller assigns the arguments
if [ "$use" = auto ]; then
    if [ -d /run/systemd/system ]; then use=systemd
    elif [ -f /etc/debian_version ]; then use="file"
    else
        echo "hactl's hostname module cannot tell how to set the name on this host; set use: systemd or use: debian" >&2
        exit 4
    fi
fi
run() {
    out=$("$@" 2>&1) || {
        printf 'Command failed rc=%s, out=, err=%s\n' "$?" "$out" >&2
        exit 3
    }
}
changed=0
if [ "$use" = systemd ]; then
    command -v hostnamectl >/dev/null 2>&1 || { echo "Failed to find required executable \"hostnamectl\" in paths: $PATH" >&2; exit 4; }
    if [ "${#name}" -gt 64 ]; then
        echo "name cannot be longer than 64 characters on systemd servers, try a shorter name" >&2
        exit 3
    fi
    run hostnamectl --transient status; current=$out
    run hostnamectl --static status; permanent=$out
    echo "hactl:current=$current"
    echo "hactl:permanent=$permanent"
    if [ "$permanent" != "$name" ]; then
        changed=1
        [ "$check" = 1 ] || run hostnamectl --pretty --static set-hostname "$name"
    fi
    if [ "$current" != "$name" ]; then
        changed=1
        [ "$check" = 1 ] || run hostnamectl --transient set-hostname "$name"
    fi
else
    permanent=
    if [ -f /etc/hostname ]; then
        permanent=$(cat /etc/hostname) || exit 2
        # get_file_content(strip=True)
        permanent=$(printf '%s' "$permanent" | sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//')
    fi
    echo "hactl:current=$permanent"
    echo "hactl:permanent=$permanent"
    if [ "$permanent" != "$name" ]; then
        changed=1
        if [ "$check" != 1 ]; then
            printf '%s\n' "$name" >/etc/hostname || { echo "failed to update hostname" >&2; exit 3; }
        fi
    fi
fi
echo "hactl:changed=$changed"
fqdn=$(hostname -f 2>/dev/null) || fqdn=
[ -n "$fqdn" ] || fqdn=$(uname -n)
echo "hactl:fqdn=$fqdn"
