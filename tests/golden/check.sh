#!/usr/bin/env bash
# Golden cases: weights, inputs and outputs produced once by PyTorch
# (tests/golden/make_golden.py, committed under tests/golden/data/). For each
# case: generate from tests/golden/<case>.lua, build the emitted runner under
# the strict flags, run it on <case>_in.npy and compare with <case>_out.npy
# (max |got - want| / max |want| <= 1e-4), portable and with --simd 16 and 4.
# Needs no Python.
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

# each case portable, and with --simd 16 and 4: every operation in the
# channel-blocked layout, blocks of 16 (AVX-512) and 4 (NEON, SSE)
for run in "${cases[@]}"; do
 for simd in 0 16 4; do
  c=$run name=golden/$run
  [ $simd != 0 ] && name=$name/simd$simd
  spec=tests/golden/$c.lua in=tests/golden/data/${c}_in.npy want=tests/golden/data/${c}_out.npy
  dir=$work/$c.$simd log=$work/$c.$simd.log
  if [ ! -f "$spec" ] || [ ! -f "$in" ] || [ ! -f "$want" ]; then
    fail "$name" "missing $spec, $in or $want"; continue
  fi
  if ! $SPGEN "$spec" -o "$dir" --simd $simd >"$log" 2>&1; then
    fail "$name" "spgen failed: $(grep -m1 . "$log")"; continue
  fi
  if ! make -s -C "$dir" CFLAGS="$STRICT_CFLAGS" >>"$log" 2>&1; then
    fail "$name" "build failed: $(grep -m1 -i error "$log" || tail -1 "$log")"; continue
  fi
  if ! "$dir/${c}_run" "$in" "$work/$c.$simd.got.npy" >>"$log" 2>&1; then
    fail "$name" "runner failed: $(tail -1 "$log")"; continue
  fi
  if cmp=$($BUILD/npycmp "$work/$c.$simd.got.npy" "$want" 1e-4 2>&1); then
    pass "$name ($cmp)"
  else
    fail "$name" "output differs: $(echo $cmp)"
  fi
 done
done
