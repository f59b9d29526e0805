# apt_repository: the one-line-style sources files as the module reads them: the default
# file and every *.list in the parts folder. Argument (assigned by the caller): etc_apt
# (/etc/apt on a host).
# Prints hactl:unsupported=1 without that folder; else for each file hactl:file=PATH,
# hactl:link=TARGET (for a symlink) and hactl:content_b64=.
# shellcheck shell=sh
# shellcheck disable=SC2154 # the caller assigns the arguments
[ -d "$etc_apt" ] || { echo "hactl:unsupported=1"; exit 0; }
for f in "$etc_apt/sources.list" "$etc_apt"/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    echo "hactl:file=$f"
    if [ -L "$f" ]; then echo "hactl:link=$(readlink -- "$f")"; fi
    printf 'hactl:content_b64='; base64 -w0 <"$f" || exit 2; echo
done
