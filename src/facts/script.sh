# hactl fact gathering: one round trip, POSIX sh and iproute2 only, no Python on the host.
# Each section starts with a line "@@ NAME"; src/facts/mod.rs parses them.
LC_ALL=C; export LC_ALL
echo "@@ uname"; uname -n; uname -s; uname -r; uname -m
echo "@@ fqdn"; hostname -f 2>/dev/null || uname -n
echo "@@ os-release"; cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release 2>/dev/null
echo "@@ debian_version"; cat /etc/debian_version 2>/dev/null
echo "@@ redhat-release"; cat /etc/redhat-release 2>/dev/null
echo "@@ cpus"; grep -c '^processor' /proc/cpuinfo 2>/dev/null
echo "@@ meminfo"; grep -E '^(MemTotal|MemFree|SwapTotal):' /proc/meminfo 2>/dev/null
echo "@@ init"; cat /proc/1/comm 2>/dev/null; readlink /sbin/init 2>/dev/null
echo "@@ pkg"
for m in apt-get dnf yum zypper apk pacman; do command -v "$m" >/dev/null 2>&1 && echo "$m"; done
echo "@@ user"; id -un
echo "@@ addr"; ip -o -4 addr show 2>/dev/null
echo "@@ link"; ip -o link show 2>/dev/null
echo "@@ route"; ip -4 route get 8.8.8.8 2>/dev/null
echo "@@ end"
