# Owner, group and mode as Ansible compares them (module_utils/basic.py): a mode as the bits
# it gives the path (symbolic modes applied to the current bits), owners and groups as ids.
# Shared by the file and file_put scripts; only defines functions (`_`-prefixed variables).

# target_mode CURRENT IS_DIR MODE: the bits (5 octal digits, so chmod also clears the setgid
# bit of a folder, as Ansible's os.chmod does) that MODE gives a path whose bits are CURRENT.
# A symbolic MODE follows _symbolic_mode_to_octal: clauses in order, each operator applied to
# u, g and o in turn on the bits so far; no who (`+x`) honours the umask; `X` counts for a
# folder or a path with any x bit. MODE was checked by hactl (args.rs) before.
target_mode() {
    case $3 in *[!0-7]*) ;; *) printf '%05o\n' $((0$3)); return ;; esac
    _m=$((0$1)) _dir=$2 _spec=$3, _um=$((0$(umask)))
    while [ -n "$_spec" ]; do
        _cl=${_spec%%,*} _spec=${_spec#*,}
        _who=${_cl%%[-+=]*}
        _rest=${_cl#"$_who"}
        _use_um=0
        case $_who in '') _use_um=1 _who=ugo ;; a) _who=ugo ;; esac
        while [ -n "$_rest" ]; do
            _op=${_rest%"${_rest#?}"} _rest=${_rest#?}
            _perms=${_rest%%[-+=]*}
            _rest=${_rest#"$_perms"}
            _w=$_who
            while [ -n "$_w" ]; do
                _u=${_w%"${_w#?}"} _w=${_w#?}
                case $_u in u) _sh=6 ;; g) _sh=3 ;; *) _sh=0 ;; esac
                _a=0 _p=$_perms
                while [ -n "$_p" ]; do
                    _c=${_p%"${_p#?}"} _p=${_p#?}
                    case $_c in
                        r) _b=$((4 << _sh)) ;;
                        w) _b=$((2 << _sh)) ;;
                        x) _b=$((1 << _sh)) ;;
                        X) if [ "$_dir" = 1 ] || [ $((_m & 73)) != 0 ]; then _b=$((1 << _sh)); else _b=0; fi ;;
                        s) case $_u in u) _b=2048 ;; g) _b=1024 ;; *) _b=0 ;; esac ;;
                        t) case $_u in o) _b=512 ;; *) _b=0 ;; esac ;;
                        u) _b=$((((_m >> 6) & 7) << _sh)) ;;
                        g) _b=$((((_m >> 3) & 7) << _sh)) ;;
                        *) _b=$(((_m & 7) << _sh)) ;;
                    esac
                    case $_c in r|w|x) [ $_use_um = 0 ] || _b=$((_b & ~_um)) ;; esac
                    _a=$((_a | _b))
                done
                case $_op in
                    # `=` clears the class's rwx and its special bit (04700, 02070, 01007).
                    =) case $_u in u) _k=2496 ;; g) _k=1080 ;; *) _k=519 ;; esac
                       _m=$(((_m & ~_k) | _a)) ;;
                    +) _m=$((_m | _a)) ;;
                    *) _m=$((_m & ~_a)) ;;
                esac
            done
        done
    done
    printf '%05o\n' "$_m"
}

# id_of user|group NAME: the numeric id NAME stands for (a number is an id, as Ansible reads
# it); nothing when there is no such user or group.
id_of() {
    case $2 in
        *[!0-9]*) if [ "$1" = user ]; then id -u -- "$2" 2>/dev/null
                  else getent group -- "$2" 2>/dev/null | cut -d: -f3; fi ;;
        *) echo "$2" ;;
    esac
}

# want_id user|group NAME: the id, or Ansible's failure for a name the host does not know.
want_id() {
    _id=$(id_of "$1" "$2")
    if [ -z "$_id" ]; then
        if [ "$1" = user ]; then _t='chown'; else _t='chgrp'; fi
        echo "$_t failed: failed to look up $1 $2" >&2
        exit 5
    fi
    echo "$_id"
}
