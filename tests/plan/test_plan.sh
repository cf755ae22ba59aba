#!/usr/bin/env bash
# The plan checker catches each kind of violation planted in a fixture.
set -u
check=$1 dir=$(dirname "$0")/fixtures
for f in "$dir"/*.txt; do
  name=plan/$(basename "$f" .txt)
  want=$(sed -n 's/^# expect: //p' "$f")
  out=$(grep -v '^#' "$f" | "$check" /dev/stdin 2>&1); rc=$?
  if [ -z "$want" ]; then
    [ $rc -eq 0 ] && echo "PASS $name" || echo "FAIL $name: exit $rc: $out"
  elif [ $rc -eq 1 ] && grep -q -- "$want" <<<"$out"; then echo "PASS $name"
  else echo "FAIL $name: exit $rc, expected '$want': $out"; fi
done
