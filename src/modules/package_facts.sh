# package_facts: the installed packages, raw, for the controller to shape as Ansible's
# package_facts does. Arguments (assigned by the caller): managers (space-separated, in order:
# apt, rpm), strategy (first | all).
# Prints hactl:manager=NAME before each manager's list, then one line per package:
#   apt: P<TAB>NAME<TAB>VERSION<TAB>ARCH<TAB>SECTION<TAB>ORIGIN (ORIGIN: the Origin of the
#        first apt list (sorted by file name) holding that version, as python-apt's
#        Version.origins[0]; empty for a version no list has; SECTION: that list's, else
#        dpkg's, as python-apt's Version.section);
#   rpm: P<TAB>NAME<TAB>VERSION<TAB>RELEASE<TAB>EPOCH<TAB>ARCH.
# hactl:missing=NAME for a manager the host lacks.
# shellcheck shell=sh
# shellcheck disable=SC2154 # the caller assigns the arguments
export LC_ALL=C
found=0
for m in $managers; do
    [ "$strategy" = first ] && [ "$found" = 1 ] && break
    case $m in
        apt)
            if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
                echo "hactl:missing=apt"; continue
            fi
            echo "hactl:manager=apt"
            found=1
            native=$(dpkg --print-architecture 2>/dev/null)
            lists=/var/lib/apt/lists
            {
                # The apt lists first (Origin of each list's Release file), then dpkg's packages.
                for rel in "$lists"/*_InRelease "$lists"/*_Release; do
                    [ -f "$rel" ] || continue
                    origin=$(sed -n 's/^Origin: //p' "$rel" | head -n 1)
                    prefix=${rel%InRelease}; prefix=${prefix%Release}
                    for pk in "$prefix"*_Packages*; do
                        [ -f "$pk" ] || continue
                        printf 'O\t%s\t%s\n' "$origin" "$pk"
                        /usr/lib/apt/apt-helper cat-file "$pk" 2>/dev/null |
                            awk '/^Package: / { p = $2 } /^Version: / { v = $2 } /^Section: / { s = $2 }
                                /^$/ { if (p != "") print "V\t" p "\t" v "\t" s; p = ""; v = ""; s = "" }
                                END { if (p != "") print "V\t" p "\t" v "\t" s }'
                    done
                done
                dpkg-query -W -f='D\t${db:Status-Status}\t${Package}\t${Version}\t${Architecture}\t${Section}\n'
            } | awk -F '\t' -v native="$native" '
                $1 == "O" { origin = $2; next }
                $1 == "V" { k = $2 SUBSEP $3; if (!(k in seen)) { seen[k] = origin; sec[k] = $4 }; next }
                $1 == "D" && $2 != "not-installed" && $2 != "config-files" {
                    name = $3
                    if ($5 != native && $5 != "all") name = name ":" $5
                    k = $3 SUBSEP $4
                    o = (k in seen) ? seen[k] : ""
                    section = (k in seen && sec[k] != "") ? sec[k] : $6
                    print "P\t" name "\t" $4 "\t" $5 "\t" section "\t" o
                }'
            ;;
        rpm)
            if ! command -v rpm >/dev/null 2>&1; then echo "hactl:missing=rpm"; continue; fi
            echo "hactl:manager=rpm"
            found=1
            rpm -qa --queryformat 'P\t%{NAME}\t%{VERSION}\t%{RELEASE}\t%{EPOCH}\t%{ARCH}\n'
            ;;
    esac
done
exit 0
