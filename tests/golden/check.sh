#!/usr/bin/env bash
# Golden cases: weights, inputs and outputs produced once by PyTorch
# (tests/golden/make_golden.py, committed under tests/golden/data/). For each
# case: generate from tests/golden/<case>.lua, build the emitted runner under
# the strict flags, run it on <case>_in.npy and compare with <case>_out.npy
# (max |got - want| / max |want| <= 1e-4). Needs no Python.
# usage: tests/golden/check.sh [CASE...]     (default: every tests/golden/*.lua)
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
work=$(mktemp -d "${TMPDIR:-/tmp}/spgen-golden.XXXXXX")
trap 'rm -rf "$work"' EXIT

if [ $# -gt 0 ]; then cases=("$@")
else
  cases=()
  for f in tests/golden/*.lua; do cases+=("$(basename "$f" .lua)"); done
fi

for c in "${cases[@]}"; do
  spec=tests/golden/$c.lua in=tests/golden/data/${c}_in.npy want=tests/golden/data/${c}_out.npy
  dir=$work/$c log=$work/$c.log
  if [ ! -f "$spec" ] || [ ! -f "$in" ] || [ ! -f "$want" ]; then
    fail "golden/$c" "missing $spec, $in or $want"; continue
  fi
  if ! $SPGEN "$spec" -o "$dir" >"$log" 2>&1; then
    fail "golden/$c" "spgen failed: $(grep -m1 . "$log")"; continue
  fi
  if ! make -s -C "$dir" CFLAGS="$STRICT_CFLAGS" >>"$log" 2>&1; then
    fail "golden/$c" "build failed: $(grep -m1 -i error "$log" || tail -1 "$log")"; continue
  fi
  if ! "$dir/${c}_run" "$in" "$work/$c.got.npy" >>"$log" 2>&1; then
    fail "golden/$c" "runner failed: $(tail -1 "$log")"; continue
  fi
  if cmp=$($BUILD/npycmp "$work/$c.got.npy" "$want" 1e-4 2>&1); then
    pass "golden/$c ($cmp)"
  else
    fail "golden/$c" "output differs: $(echo $cmp)"
  fi
done
