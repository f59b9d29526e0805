# A `type='path'` argument as Ansible's module expands it on the host: a leading `~` is the
# user's home. Prepended to the scripts that take a path. Argument (assigned by the caller): path.
# shellcheck shell=sh
# shellcheck disable=SC2154 # the caller assigns the arguments
# shellcheck disable=SC2088 # the quoted tilde is the pattern, not a path
case $path in '~'|'~/'*) path=$HOME${path#"~"} ;; esac
