# yum_repository: the repo folder must exist, as in Ansible. Argument (assigned by the caller):
# dir. read_file.sh follows.
# shellcheck shell=sh
# shellcheck disable=SC2154 # the caller assigns the arguments
[ -d "$dir" ] || { echo "Repo directory '$dir' does not exist." >&2; exit 3; }
