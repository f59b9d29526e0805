#!/bin/sh
# Runs `shellcheck -s sh` on every script hactl sends to hosts: each `*.sh` file under src/
# (modules, facts, engine, transport, status) and agent/src, found by a glob so a new script
# is covered without listing it. Exits non-zero on any finding, or when shellcheck is missing.
# Usage: tests/shellcheck.sh (from anywhere; CI calls it, and so does tests/shellcheck.rs).
set -eu
cd "$(dirname "$0")/.."
command -v shellcheck >/dev/null 2>&1 || { echo "shellcheck is not installed" >&2; exit 2; }
files=$(find src agent/src -name '*.sh' -type f 2>/dev/null | sort)
[ -n "$files" ] || { echo "no scripts found under src/" >&2; exit 2; }
# One file name per line, none has a space (checked here, so the unquoted use is safe).
case $files in *' '*) echo "a script name has a space: rename it" >&2; exit 2 ;; esac
# shellcheck disable=SC2086 # the list splits on newlines into file names
shellcheck -s sh -S style -f gcc $files
echo "shellcheck: $(printf '%s\n' "$files" | wc -l) scripts clean"
