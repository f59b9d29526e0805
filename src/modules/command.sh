# command/shell: chdir, creates, removes and check mode, in Ansible's order, then the command.
# Arguments (assigned by the caller): creates, removes, chdir, check (0/1), and how to run:
#   hactl_shell empty: `hactl_cmd` is a command line the shell parses (command module);
#   hactl_shell set:   `hactl_cmd` runs as `$hactl_shell -c "$hactl_cmd"` (shell module).
# (hactl_ names: an exported variable of the task's `environment` keeps its value.)
# shellcheck shell=sh
# shellcheck disable=SC2154 # the caller assigns the arguments
set +f
if [ -n "$chdir" ]; then
    # `./` keeps a relative folder from reading as an option or searching CDPATH.
    case $chdir in /*) ;; *) chdir=./$chdir ;; esac
    cd -- "$chdir" 2>/dev/null || { echo hactl:skip=chdir; exit 0; }
fi
# matches PATTERN: a path matches, as glob.glob(PATTERN) finds one (a broken symlink counts).
matches() {
    case $1 in
        *[*?[]*) ;;
        *) [ -e "$1" ] || [ -L "$1" ]; return ;;
    esac
    (
        IFS=
        for f in $1; do
            # With no match the pattern stays as it is: it counts only if it names itself.
            # shellcheck disable=SC2254 # the pattern matching itself is the point
            if [ "$f" = "$1" ]; then case $1 in $1) ;; *) continue ;; esac; fi
            # Python lists folders without `.` and `..`; the shell's `.*` matches them.
            case $f in .|..|*/.|*/..) case $1 in .|..|*/.|*/..) ;; *) continue ;; esac ;; esac
            if [ -e "$f" ] || [ -L "$f" ]; then exit 0; fi
        done
        exit 1
    )
}
if [ -n "$creates" ] && matches "$creates"; then echo hactl:skip=exists; exit 0; fi
if [ -n "$removes" ] && ! matches "$removes"; then echo hactl:skip=missing; exit 0; fi
if [ "$check" = 1 ]; then echo hactl:skip=check; exit 0; fi
printf 'hactl:run\n'
if [ -z "$hactl_shell" ]; then eval "exec $hactl_cmd"; else exec "$hactl_shell" -c "$hactl_cmd"; fi
