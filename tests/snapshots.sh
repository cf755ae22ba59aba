#!/usr/bin/env bash
# Emitted-code snapshots: each case of tests/snapshots/cases (NAME SPEC
# OPTIONS...) is generated afresh and compared with the files committed in
# tests/snapshots/NAME/, so that an emitter change shows up as a diff. Weight
# blobs are kept as their sha256 (NAME_weights.bin.sha256): a binary diff
# says nothing a hash does not. FAIL prints the diff (the first 200 lines).
# After an intended change, `make snapshots` (this script with --update)
# rewrites them; commit the diff with the change.
# usage: tests/snapshots.sh [--update] [NAME...]
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh
update=0
if [ "${1:-}" = --update ]; then update=1; shift; fi
work=$(mktemp -d "${TMPDIR:-/tmp}/spgen-snap.XXXXXX")
trap 'rm -rf "$work"' EXIT
# wanted NAME: whether the command line asked for NAME (all when it names none)
wanted() {
  [ ${#names[@]} -eq 0 ] && return 0
  local n; for n in "${names[@]}"; do [ "$n" = "$1" ] && return 0; done; return 1
}
names=("$@")
while read -r name spec args; do
  case $name in ''|'#'*) continue ;; esac
  wanted "$name" || continue
  got=$work/$name
  # shellcheck disable=SC2086 # the options are words
  if ! $SPGEN "$spec" -o "$got" $args >"$work/$name.log" 2>&1; then
    fail "snapshot/$name" "spgen: $(tail -1 "$work/$name.log")"; continue
  fi
  for f in "$got"/*.bin; do
    [ -e "$f" ] || continue
    sha256sum <"$f" | cut -d' ' -f1 >"$f.sha256" && rm "$f"
  done
  if [ "$update" = 1 ]; then
    rm -rf "tests/snapshots/$name" && cp -r "$got" "tests/snapshots/$name" && echo "wrote tests/snapshots/$name"
  elif d=$(diff -ru "tests/snapshots/$name" "$got" 2>&1); then
    pass "snapshot/$name"
  else
    fail "snapshot/$name" "the emitted files differ from tests/snapshots/$name (make snapshots rewrites them after an intended change)"
    echo "$d" | head -200 | sed 's/^/    /'
  fi
done <tests/snapshots/cases
