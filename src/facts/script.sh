# hactl fact gathering: one round trip, POSIX sh, no Python needed on the host.
# Each section starts with a line "@@ NAME"; src/facts/mod.rs parses them.
# facts::script() may set, before this text:
#   hf_want     collectors to run, as Ansible names them ("all" when unset)
#   hf_timeout  seconds a mount may take to answer statvfs (gather_timeout, 10 when unset)
#   hf_factpath where local facts live (fact_path, /etc/ansible/facts.d when unset)
#   hf_py       the Python interpreter configured for the host (discovered when unset)
# Everything runs in the foreground: on a busy host parallel jobs only add processes.
want() {
    case " ${hf_want:-all} " in *" all "* | *" $1 "*) return 0 ;; esac
    return 1
}
# The environment as Ansible's setup sees it, before this script changes anything.
if want env || want user; then
    echo "@@ env"
    export -p
fi
LC_ALL=C
export LC_ALL
# fg NAME CMD...: a section with CMD's output.
fg() {
    echo "@@ $1"
    shift
    "$@" 2>/dev/null
}
# onpath NAME [DIR...]: sets hf_b to NAME's path as `command -v` finds it (a NAME with a
# slash is taken as it is), else in DIR; no subshell, as these run on every gathering.
onpath() {
    hf_n=$1
    shift
    hf_b=
    case $hf_n in
        */*)
            if [ -x "$hf_n" ] && [ ! -d "$hf_n" ]; then hf_b=$hf_n; fi
            [ -n "$hf_b" ]
            return
            ;;
    esac
    hf_ifs=$IFS
    IFS=:
    set -f
    for hf_p in $PATH; do
        if [ -n "$hf_p" ] && [ -x "$hf_p/$hf_n" ] && [ ! -d "$hf_p/$hf_n" ]; then
            hf_b=$hf_p/$hf_n
            break
        fi
    done
    set +f
    IFS=$hf_ifs
    if [ -z "$hf_b" ]; then
        for hf_p in "$@"; do
            if [ -x "$hf_p/$hf_n" ]; then
                hf_b=$hf_p/$hf_n
                break
            fi
        done
    fi
    [ -n "$hf_b" ]
}
# findbin NAME [DIR...]: the path Ansible's get_bin_path finds (PATH, then the sbin folders).
findbin() {
    onpath "$@" /sbin /usr/sbin /usr/local/sbin
}

if want lsb && findbin lsb_release; then
    # Debian's lsb-release-minimal only reformats os-release: the parser does that itself
    # (running it costs 30 ms); any other lsb_release runs.
    hf_l1='' hf_l2='' hf_l3=''
    { read -r hf_l1; read -r hf_l2; read -r hf_l3; } <"$hf_b" 2>/dev/null
    if [ "$hf_l1" = '#!/bin/sh' ] && [ -z "$hf_l2" ] && [ -z "${LSB_OS_RELEASE:-}" ] &&
        [ "$hf_l3" = '# SPDX-FileCopyrightText: 2021-2022 Gioele Barabucci' ]; then
        echo "@@ lsb-minimal"
    else
        fg lsb "$hf_b" -a
    fi
fi
if want platform; then fg fqdn hostname -f; fi
if want network; then
    # One ip for the routes and every address (the family follows from each probe address).
    echo "@@ ipbatch"
    ip -force -batch - 2>/dev/null <<'EOF'
route get 8.8.8.8
route get 2404:6800:400a:800::1012
addr show
EOF
fi
if want hardware; then
    if findbin findmnt; then fg findmnt "$hf_b" --list --noheadings --notruncate; fi
    if findbin lsblk; then fg lsblk "$hf_b" --list --noheadings --paths --output NAME,UUID --exclude 2; fi
fi
if want facter; then
    # The inner sh gets the path as $1: single quotes are meant.
    # shellcheck disable=SC2016
    { findbin cfacter /opt/puppetlabs/bin || findbin facter /opt/puppetlabs/bin; } &&
        fg facter sh -c '"$1" --puppet --json || "$1" --json' sh "$hf_b"
fi
if want ohai && findbin ohai; then fg ohai "$hf_b"; fi

if want platform || want hardware; then
    echo "@@ uname"
    if [ -r /proc/sys/kernel/arch ] && read -r hf_a </proc/sys/kernel/arch; then
        echo "$hf_a"
    else
        uname -m
    fi
    if [ ! -r /proc/sys/kernel/ostype ]; then
        uname -n; uname -s; uname -r; uname -v
    fi
fi

# Small files, read by one grep: each line comes back as "PATH:LINE".
set --
for hf_f in \
    /proc/sys/kernel/ostype /proc/sys/kernel/hostname /proc/sys/kernel/osrelease \
    /proc/sys/kernel/version /var/lib/dbus/machine-id /etc/machine-id \
    /etc/os-release /usr/lib/os-release /etc/debian_version /etc/redhat-release \
    /etc/lsb-release /proc/cpuinfo /proc/meminfo /sys/hypervisor/type \
    /proc/1/cgroup /run/systemd/container /proc/xen/capabilities \
    /sys/devices/virtual/dmi/id/product_name /sys/devices/virtual/dmi/id/sys_vendor \
    /sys/devices/virtual/dmi/id/product_family /sys/devices/virtual/dmi/id/bios_vendor \
    /proc/modules /proc/self/status /sys/fs/selinux/enforce /sys/fs/selinux/policyvers \
    /etc/selinux/config /proc/1/comm \
    /sys/class/net/*/address /sys/class/net/*/mtu /sys/class/net/*/operstate \
    /sys/class/net/*/type /sys/class/net/*/flags /sys/class/net/*/speed \
    /sys/class/net/*/bridge/bridge_id /sys/class/net/*/bridge/stp_state \
    /sys/class/net/*/bonding/slaves /sys/class/net/*/bonding/mode \
    /sys/class/net/*/bonding/miimon /sys/class/net/*/bonding/lacp_rate \
    /sys/class/net/*/bonding/primary /sys/class/net/*/bonding/all_slaves_active \
    /sys/class/net/*/bonding_slave/perm_hwaddr; do
    if [ -f "$hf_f" ] && [ -r "$hf_f" ]; then set -- "$@" "$hf_f"; fi
done
if [ -e /etc/mtab ]; then hf_mtab=/etc/mtab; else hf_mtab=/proc/mounts; fi
echo "@@ files"
grep -Hs '' "$@" "$hf_mtab"
echo "@@ exists"
for hf_f in /proc/xen /proc/vz /proc/lve /proc/bc /.dockerenv /.dockerinit /rhev /dev/kvm \
    /proc/1/environ /proc/1/cgroup /sys/kernel/security/apparmor /sys/class/net/*/bridge \
    /sys/class/net/*/bonding /sys/class/net/*/bonding_slave /sys/class/net/*/brif/*; do
    if [ -e "$hf_f" ]; then echo "$hf_f"; fi
done
echo "@@ mtab-path"
echo "$hf_mtab"

if want virtual; then
    echo "@@ pid1-environ"
    grep -az 'container=' /proc/1/environ 2>/dev/null
    echo
    if [ -d /rhev ]; then
        echo "@@ comms"
        cat /proc/[0-9]*/comm 2>/dev/null
    fi
    if findbin dmidecode; then
        echo "@@ dmidecode"
        "$hf_b" -s system-product-name 2>/dev/null
    fi
fi

if want network; then
    # Directory order (as Python's glob walks it) and the link targets in one ls.
    echo "@@ net-ls"
    set --
    for hf_f in /sys/class/net/*/device/driver/module; do
        if [ -e "$hf_f" ]; then set -- "$@" "$hf_f"; fi
    done
    ls -lU /sys/class/net/ "$@" 2>/dev/null
fi

if want user; then
    echo "@@ passwd"
    hf_u=${LOGNAME:-${USER:-${LNAME:-${USERNAME:-}}}}
    hf_found=
    # /etc/passwd first (nsswitch's usual first source) without a process; getent otherwise.
    if [ -n "$hf_u" ] && [ -r /etc/passwd ]; then
        while IFS= read -r hf_line; do
            case $hf_line in "$hf_u":*) echo "$hf_line"; hf_found=1; break ;; esac
        done </etc/passwd
    fi
    if [ -z "$hf_found" ]; then
        if [ -n "$hf_u" ]; then
            getent passwd "$hf_u" 2>/dev/null || getent passwd "$(id -u)" 2>/dev/null
        else
            getent passwd "$(id -u)" 2>/dev/null
        fi
    fi
fi

if want python || want platform; then
    # Ansible's interpreter discovery, unless the host's interpreter is configured.
    if [ -n "${hf_py:-}" ]; then
        onpath "$hf_py" && hf_b=$hf_py
    else
        for hf_py in python3.13 python3.12 python3.11 python3.10 python3.9 python3.8 /usr/bin/python3 python3; do
            if onpath "$hf_py"; then break; fi
        done
    fi
    if [ -n "$hf_b" ]; then
        echo "@@ python"
        echo "$hf_b"
        "$hf_b" -V 2>&1
    fi
fi

if want date_time; then
    echo "@@ date"
    # One instant; the UTC forms are computed from its epoch.
    hf_now=$(date '+%Y %m %A %w %W %d %H %M %S %s %N %Z %z')
    echo "$hf_now"
    # Python's time.tzname[1] on glibc: the zone names at (now // YEAR) * YEAR and half a year
    # later, the one with the smaller UTC offset first.
    # Split into fields on purpose (date prints no glob characters).
    # shellcheck disable=SC2086
    set -- $hf_now
    if [ "${12}" != UTC ]; then
        hf_t=$((${10} / 31557600 * 31557600))
        date -d "@$hf_t" '+%z %Z' 2>/dev/null
        date -d "@$((hf_t + 15778800))" '+%z %Z' 2>/dev/null
    fi
fi

if want service_mgr; then
    echo "@@ init"
    hf_c=
    read -r hf_c </proc/1/comm 2>/dev/null
    echo "$hf_c"
    if [ "$hf_c" != systemd ]; then readlink /sbin/init 2>/dev/null; fi
fi
if want pkg_mgr; then
    echo "@@ pkg"
    for hf_m in apt-get dnf yum zypper apk pacman; do
        command -v "$hf_m" >/dev/null 2>&1 && echo "$hf_m"
    done
fi

if want local; then
    hf_fp=${hf_factpath:-/etc/ansible/facts.d}
    # Each file in hex: the parser must see exactly its bytes.
    for hf_f in "$hf_fp"/*.fact; do
        [ -e "$hf_f" ] || continue
        if [ -x "$hf_f" ]; then
            if [ -z "${hf_d:-}" ]; then
                hf_d=$(mktemp -d "${TMPDIR:-/tmp}/hactl-facts.XXXXXXXX") || hf_d=
                if [ -n "$hf_d" ]; then trap 'rm -rf "$hf_d"' EXIT; fi
            fi
            if [ -n "$hf_d" ]; then
                "$hf_f" >"$hf_d/lo" 2>"$hf_d/le"
                hf_rc=$?
                echo "@@ local-run $hf_rc $hf_f"
                od -An -v -tx1 "$hf_d/lo"
                echo "@@ local-err"
                od -An -v -tx1 "$hf_d/le"
            else
                echo "@@ local-fail $hf_f"
            fi
        else
            echo "@@ local-file $hf_f"
            od -An -v -tx1 "$hf_f" 2>/dev/null
        fi
    done
fi

if want hardware; then
    # statvfs of every mount Ansible reports, in one stat, bounded by gather_timeout.
    set --
    # hf_rest takes the fields after the type, which only Rust reads.
    # shellcheck disable=SC2034
    while read -r hf_dev hf_mnt hf_fs hf_rest; do
        case $hf_dev in /* | \\* | *:/*) ;; *) continue ;; esac
        [ "$hf_fs" = none ] && continue
        case $hf_mnt in *\\*) hf_mnt=$(printf '%b' "$hf_mnt") ;; esac
        set -- "$@" "$hf_mnt"
    done <"$hf_mtab"
    if [ $# -gt 0 ]; then
        echo "@@ statvfs"
        if command -v timeout >/dev/null 2>&1; then
            timeout "${hf_timeout:-10}" stat -f -c '%S %b %a %s %c %d %n' -- "$@" 2>/dev/null
            echo "@@ statvfs-rc $?"
        else
            stat -f -c '%S %b %a %s %c %d %n' -- "$@" 2>/dev/null
        fi
    fi
    if findbin udevadm; then
        # Ansible asks udev for the UUID of every mounted device (used where lsblk has none).
        hf_seen=
        while read -r hf_line; do
            hf_dev=${hf_line%% *}
            case $hf_dev in /*) ;; *) continue ;; esac
            case " $hf_seen " in *" $hf_dev "*) continue ;; esac
            hf_seen="$hf_seen $hf_dev"
            echo "@@ udev $hf_dev"
            "$hf_b" info --query property --name "$hf_dev" 2>/dev/null |
                while IFS= read -r hf_u; do
                    case $hf_u in ID_FS_UUID=*) echo "$hf_u" ;; esac
                done
        done <"$hf_mtab"
    fi
fi

echo "@@ end"
