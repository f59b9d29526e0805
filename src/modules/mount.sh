# ansible.posix.mount on Linux: the fstab line of a mount point, and mount/umount, as the
# collection's module edits and decides them.
# Arguments (assigned by the caller): state (mounted | unmounted | present | absent |
# absent_from_fstab | remounted | ephemeral), name (the path), src, fstype, opts, dump,
# passno, fstab, fstab_given (0/1: pass -T FSTAB to mount), backup (0/1), check (0/1),
# mountinfo (/proc/self/mountinfo on a host).
# Prints hactl:changed= and hactl:backup_file=. Exit 3 with the module's message: failed.
# shellcheck shell=sh
# shellcheck disable=SC2154 # the caller assigns the arguments
tmp=$(mktemp -d) || exit 2
trap 'rm -rf -- "$tmp"' EXIT
esc() { printf '%s' "$1" | sed -e 's/\\/\\134/g' -e 's/ /\\040/g' -e 's/&/\\046/g'; }
ename=$(esc "$name")
# The escaped fields go to awk through the environment: `awk -v` would read \040 as a space.
H_NAME=$ename H_SRC=$(esc "$src") H_FSTYPE=$(esc "$fstype") H_OPTS=$(esc "$opts")
H_DUMP=$(esc "$dump") H_PASSNO=$(esc "$passno") H_SRCSET=${src:+1}
export H_NAME H_SRC H_FSTYPE H_OPTS H_DUMP H_PASSNO H_SRCSET
# mounted: the path is a mount point in mountinfo (its 5th field, octal escapes as there).
mounted() { awk '$5 == ENVIRON["H_NAME"] { found = 1 } END { exit !found }' "$mountinfo" 2>/dev/null; }
run_mount() {
    set -- mount
    if [ "$state" = ephemeral ]; then
        set -- "$@" -t "$fstype"
        [ "$opts" = defaults ] || set -- "$@" -o "$opts"
        set -- "$@" "$src"
    elif [ "$fstab_given" = 1 ] && [ "$fstab" != /etc/fstab ]; then
        set -- "$@" -T "$fstab"
    fi
    msg=$("$@" "$name" 2>&1)
}
run_umount() { msg=$(umount "$name" 2>&1); }
remount() {
    set -- mount
    if [ "$state" = remounted ] && [ "$opts" != defaults ]; then set -- "$@" -o "remount,$opts"; else set -- "$@" -o remount; fi
    if [ "$state" = ephemeral ]; then
        set -- "$@" -t "$fstype"
        [ "$opts" = defaults ] || set -- "$@" -o "$opts"
        set -- "$@" "$src"
    elif [ "$fstab_given" = 1 ] && [ "$fstab" != /etc/fstab ]; then
        set -- "$@" -T "$fstab"
    fi
    if msg=$("$@" "$name" 2>&1); then return 0; fi
    if [ "$state" = remounted ] && [ "$opts" != defaults ]; then
        echo "Options were specified with remounted, but the remount command failed. Failing in order to prevent an unexpected mount result. Try replacing this command with a \"state: unmounted\" followed by a \"state: mounted\" using the full desired mount options instead." >&2
        exit 3
    fi
    run_umount && run_mount
}
write_fstab() {
    if [ "$backup" = 1 ]; then
        b="$fstab.$$.$(date +%Y-%m-%d@%H:%M:%S~)"
        cp -p -- "$fstab" "$b" && echo "hactl:backup_file=$b"
    fi
    cat -- "$1" >"$fstab" || exit 3
}
# set_mount: the new fstab in $tmp/new; sets changed (the module's _set_mount_save_old).
set_mount() {
    if awk '
        BEGIN { src = ENVIRON["H_SRC"]; name = ENVIRON["H_NAME"]; fstype = ENVIRON["H_FSTYPE"]
                opts = ENVIRON["H_OPTS"]; dump = ENVIRON["H_DUMP"]; passno = ENVIRON["H_PASSNO"]
                srcset = ENVIRON["H_SRCSET"] }
        function out(a, b, c, d, e, f) { print a " " b " " c " " d " " e " " f }
        {
            line = $0
            t = line; gsub(/^[ \t]+|[ \t]+$/, "", t)
            if (t == "" || substr(t, 1, 1) == "#") { print line; next }
            body = line; sub(/#.*/, "", body)
            n = split(body, f, /[ \t]+/)
            # split() on a leading blank gives an empty first field.
            k = 0; for (i = 1; i <= n; i++) if (f[i] != "") g[++k] = f[i]
            if (k < 4 || k > 6) { print line; next }
            ls = g[1]; ln = g[2]; lf = g[3]; lo = g[4]
            # A missing dump or passno is the integer 0 there, never equal to a string.
            ld = (k >= 5) ? g[5] : "\001"; lp = (k >= 6) ? g[6] : "\001"
            if (ln != name || (srcset && ln == "none" && lf == "swap" && ls != src)) { print line; next }
            exists = 1
            if (ls != src) { ls = src; changed = 1 }
            if (lf != fstype) { lf = fstype; changed = 1 }
            if (lo != opts) { lo = opts; changed = 1 }
            if (ld != dump) { ld = dump; changed = 1 }
            if (lp != passno) { lp = passno; changed = 1 }
            if (changed) out(ls, ln, lf, lo, ld, lp); else print line
        }
        END {
            if (!exists) { out(src, name, fstype, opts, dump, passno); changed = 1 }
            exit !changed
        }' "$fstab" >"$tmp/new"; then changed=1; else changed=0; fi
}
unset_mount() {
    if awk '
        BEGIN { src = ENVIRON["H_SRC"]; name = ENVIRON["H_NAME"]; srcset = ENVIRON["H_SRCSET"] }
        {
            t = $0; gsub(/^[ \t]+|[ \t]+$/, "", t)
            if (t == "" || substr(t, 1, 1) == "#" || NF != 6) { print; next }
            if ($2 != name || (srcset && $2 == "none" && $3 == "swap" && $1 != src)) { print; next }
            changed = 1
        }
        END { exit !changed }' "$fstab" >"$tmp/new"; then changed=1; else changed=0; fi
}
if [ "$state" != ephemeral ] && [ ! -e "$fstab" ]; then
    if ! { mkdir -p -- "$(dirname -- "$fstab")" && : >>"$fstab"; }; then
        echo "Failed to open $fstab due to permission issue" >&2; exit 3
    fi
fi
changed=0
case $state in
    absent_from_fstab)
        unset_mount
        [ "$changed" = 1 ] && [ "$check" != 1 ] && write_fstab "$tmp/new" ;;
    absent|absent_mount)
        unset_mount
        if [ "$changed" = 1 ] && [ "$check" != 1 ]; then
            write_fstab "$tmp/new"
            if mounted; then run_umount || { echo "Error unmounting $name: $msg" >&2; exit 3; }; fi
            if [ "$state" = absent ] && [ -e "$name" ]; then
                msg=$(rmdir -- "$name" 2>&1) || { echo "Error rmdir $name: $msg" >&2; exit 3; }
            fi
        fi ;;
    unmounted)
        if mounted; then
            if [ "$check" != 1 ]; then run_umount || { echo "Error unmounting $name: $msg" >&2; exit 3; }; fi
            changed=1
        fi ;;
    mounted|ephemeral)
        : >"$tmp/dirs"
        if [ ! -e "$name" ] && [ "$check" != 1 ]; then
            # mkdir -p, remembering each folder made (to take them back if mounting fails).
            case $name in /*) cur='' ;; *) cur=. ;; esac
            rest=${name#/}
            while [ -n "$rest" ]; do
                part=${rest%%/*}
                if [ "$part" = "$rest" ]; then rest=''; else rest=${rest#*/}; fi
                [ -n "$part" ] || continue
                cur="$cur/$part"
                if [ ! -e "$cur" ]; then
                    mkdir -- "$cur" 2>"$tmp/err" || { echo "Error making dir $name: $(cat "$tmp/err")" >&2; exit 3; }
                    printf '%s\n' "$cur" >>"$tmp/dirs"
                fi
            done
        fi
        cp -- "$fstab" "$tmp/old" 2>/dev/null
        if [ "$state" != ephemeral ]; then
            set_mount
            [ "$changed" = 1 ] && [ "$check" != 1 ] && write_fstab "$tmp/new"
        fi
        res=0
        if mounted; then
            if [ "$changed" = 1 ] && [ "$check" != 1 ]; then remount || res=1; fi
            if [ "$state" = ephemeral ]; then
                if awk '$5 == ENVIRON["H_NAME"] { for (i = 7; i <= NF; i++) if ($i == "-") { if ($(i + 2) == ENVIRON["H_SRC"]) ok = 1; break } }
                    END { exit !ok }' "$mountinfo"; then
                    changed=1
                    if [ "$check" != 1 ]; then remount || res=1; fi
                else
                    echo "Ephemeral mount point is already mounted with a different source than the specified one. Failing in order to prevent an unwanted unmount or override operation. Try replacing this command with a \"state: unmounted\" followed by a \"state: ephemeral\", or use a different destination path." >&2
                    exit 3
                fi
            fi
        else
            changed=1
            if [ "$check" != 1 ]; then run_mount || res=1; fi
        fi
        if [ "$res" != 0 ]; then
            [ "$state" = ephemeral ] || cat -- "$tmp/old" >"$fstab" 2>/dev/null
            sort -r "$tmp/dirs" | while IFS= read -r d; do rmdir -- "$d" 2>/dev/null; done
            echo "Error mounting $name: $msg" >&2
            exit 3
        fi ;;
    present)
        set_mount
        [ "$changed" = 1 ] && [ "$check" != 1 ] && write_fstab "$tmp/new" ;;
    remounted)
        if [ "$check" != 1 ]; then remount || { echo "Error remounting $name: $msg" >&2; exit 3; }; fi
        changed=1 ;;
esac
echo "hactl:changed=$changed"
