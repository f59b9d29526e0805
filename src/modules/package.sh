# package/apt/yum/dnf: installs, removes or upgrades the named packages.
# Arguments (set -- order): manager state check(0/1) update(0/1), then the package names
# (NAME or NAME=VERSION, one word each).
# Assigned by the caller: valid (cache_valid_time, seconds), retries, max_delay; and the
# function apt_update (apt_update.sh, which reads retries and max_delay).
# shellcheck shell=sh
# shellcheck disable=SC2154 # the caller assigns valid
set -f
mgr=$1 state=$2 check=$3 update=$4; shift 4
if [ "$mgr" = auto ]; then
    for m in apt-get dnf yum; do command -v $m >/dev/null 2>&1 && { mgr=$m; break; }; done
    [ "$mgr" = apt-get ] && mgr=apt
fi
case $mgr in
    apt) tool=apt-get ;;
    *) tool=$mgr ;;
esac
if ! command -v "$tool" >/dev/null 2>&1; then
    echo "hactl:missing_manager=$mgr"
    exit 3
fi
# apt's cache update comes first, whatever the names need, as Ansible's apt does it: when the
# cache is older than `valid` seconds. Its age is the mtime of apt's update-success stamp, else
# of the lists folder, else 0 (never updated); check mode updates nothing but reports it would.
if [ "$mgr" = apt ] && [ "$update" = 1 ]; then
    cache_time() {
        stat -c %Y -- /var/lib/apt/periodic/update-success-stamp 2>/dev/null ||
            stat -c %Y -- /var/lib/apt/lists 2>/dev/null || echo 0
    }
    before=$(cache_time) updated=0
    if [ $((before + valid)) -lt "$(date +%s)" ]; then
        if [ "$check" = 1 ]; then
            updated=1
        else
            apt_update || exit 5
            after=$(cache_time)
            [ "$after" = "$before" ] || updated=1
            before=$after
        fi
    fi
    echo "hactl:cache_updated=$updated"
    echo "hactl:cache_update_time=$before"
fi
# installed NAME [VERSION]: the package is installed (at exactly VERSION when given).
installed() {
    case $mgr in
        apt) dpkg-query -W -f='${Status} ${Version}\n' -- "$1" 2>/dev/null | {
                 while read -r _ _ st v; do
                     if [ "$st" = installed ] && { [ -z "$2" ] || [ "$v" = "$2" ]; }; then exit 0; fi
                 done
                 exit 1
             } ;;
        *) rpm -q -- "$1" >/dev/null 2>&1 ;;
    esac
}
upgradable() {
    case $mgr in
        apt) apt-cache policy -- "$1" 2>/dev/null | awk '/Installed:/{i=$2} /Candidate:/{c=$2} END{exit !(i!=c && c!="(none)")}' ;;
        *) $tool -q check-update -- "$1" >/dev/null 2>&1; [ $? = 100 ] ;;
    esac
}
named=$# names=
for p do names="$names ${p%%=*}"; done
# Ansible's apt marks every named package as manually installed after an install, whether or
# not anything was installed (a dependency named in the task stops being auto-removable).
mark_manual() {
    [ "$mgr" = apt ] && [ "$check" = 0 ] && [ -n "$names" ] || return 0
    case $state in absent|removed) return 0 ;; esac
    # shellcheck disable=SC2086 # one word per name (checked), no globbing (set -f)
    err=$(apt-mark manual -- $names 2>&1 >/dev/null) || {
        printf "'apt-mark manual%s' failed: %s\n" "$names" "$err" >&2
        exit 4
    }
}
# Keep in "$@" the names that need work (`for` reads the list once; the loop rotates it).
for p do
    shift
    n=${p%%=*} v=
    case $p in *=*) v=${p#*=} ;; esac
    case $state in
        present|installed) installed "$n" "$v" || set -- "$@" "$p" ;;
        # Removing goes by name: the version only decides whether the installed one matches.
        absent|removed) installed "$n" "$v" && set -- "$@" "$n" ;;
        latest) if ! installed "$n" || upgradable "$n"; then set -- "$@" "$p"; fi ;;
    esac
done
# Nothing to do. Without names the update is the task, and its change (Ansible's apt exits
# with changed=cache_updated); with names only the packages count.
if [ $# = 0 ]; then
    [ "$named" = 0 ] && echo "hactl:changed=${updated:-0}" || echo hactl:changed=0
    mark_manual
    exit 0
fi
echo "hactl:changed=1"
echo "hactl:packages=$*"
[ "$check" = 1 ] && exit 0
export DEBIAN_FRONTEND=noninteractive
case $mgr:$state in
    apt:absent|apt:removed) apt-get remove -y -q -- "$@" ;;
    apt:*) apt-get install -y -q -o Dpkg::Options::=--force-confold -- "$@" ;;
    *:absent|*:removed) $tool remove -y -- "$@" ;;
    *) $tool install -y -- "$@" ;;
esac >&2 || exit 4
mark_manual
