# package/apt/yum/dnf: installs, removes or upgrades the named packages.
# Arguments (set -- order): manager state check(0/1) update(0/1), then the package names
# (NAME or NAME=VERSION, one word each).
# shellcheck shell=sh
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
if [ $# = 0 ]; then echo hactl:changed=0; exit 0; fi
echo "hactl:changed=1"
echo "hactl:packages=$*"
[ "$check" = 1 ] && exit 0
export DEBIAN_FRONTEND=noninteractive
case $mgr:$state in
    apt:absent|apt:removed) apt-get remove -y -q -- "$@" ;;
    apt:*) [ "$update" = 1 ] && apt-get update -q; apt-get install -y -q -o Dpkg::Options::=--force-confold -- "$@" ;;
    *:absent|*:removed) $tool remove -y -- "$@" ;;
    *) $tool install -y -- "$@" ;;
esac >&2 || exit 4
