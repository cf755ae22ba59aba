#!/usr/bin/env bash
# ONNX import end to end, on the committed fixtures of tests/onnx/ (models
# that torch.onnx.export wrote, with PyTorch's inputs and outputs; made once
# by tests/onnx/make_fixtures.py). Needs no Python. tests/onnx/cases gives,
# per fixture, the outcome:
#   ok:    `spgen import NAME.onnx -o DIR --name NAME` succeeds; DIR/NAME.lua
#          holds the expected number of `spconv(` calls (outside comments:
#          every SPConv recognised, no near miss taken for one); spgen
#          generates from it, the runner builds under the strict flags, runs
#          on NAME_in.npy, and build/npycmp finds max |got - want| / max |want|
#          within the tolerance against NAME_out.npy;
#   error: import exits 1, its output contains the expected text and no
#          "internal error", and the output directory is absent or empty.
# usage: tests/onnx.sh [NAME...]      (default: every fixture in tests/onnx/cases)
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh
fixtures=tests/onnx/fixtures
work=$(mktemp -d "${TMPDIR:-/tmp}/spgen-onnx.XXXXXX")
trap 'rm -rf "$work"' EXIT

selected() {
  [ $# -eq 1 ] && return 0
  local want=$1 n
  shift
  for n in "$@"; do [ "$n" = "$want" ] && return 0; done
  return 1
}

# refused NAME TEXT: the import fails as the fixture says
refused() {
  local name=$1 text=$2 dir=$work/$1 log=$work/$1.log rc
  $SPGEN import "$fixtures/$name.onnx" -o "$dir" --name "$name" >"$log" 2>&1
  rc=$?
  if [ "$rc" -ne 1 ]; then
    fail "onnx/$name" "import exited $rc, expected 1: $(grep -m1 . "$log")"
  elif grep -q "internal error" "$log"; then
    fail "onnx/$name" "$(grep -m1 "internal error" "$log")"
  elif ! grep -qF -- "$text" "$log"; then
    fail "onnx/$name" "the message lacks '$text': $(grep -m1 . "$log")"
  elif [ -e "$dir" ] && [ -n "$(ls -A "$dir")" ]; then
    fail "onnx/$name" "refused but wrote $(ls -A "$dir" | tr '\n' ' ')"
  else
    pass "onnx/$name (refused: $(grep -m1 . "$log"))"
  fi
}

# imported NAME SPCONVS TOL: import, generate, build, run, compare
imported() {
  local name=$1 spconvs=$2 tol=$3 dir=$work/$1 log=$work/$1.log got
  local spec=$work/$1/$1.lua gen=$work/$1.gen in=$fixtures/${1}_in.npy want=$fixtures/${1}_out.npy
  if ! $SPGEN import "$fixtures/$name.onnx" -o "$dir" --name "$name" >"$log" 2>&1; then
    fail "onnx/$name" "import failed: $(grep -m1 . "$log")"; return
  fi
  if [ ! -f "$spec" ] || [ ! -f "$dir/$name.safetensors" ]; then
    fail "onnx/$name" "import wrote no $name.lua and $name.safetensors: $(ls -A "$dir" | tr '\n' ' ')"
    return
  fi
  got=$(sed 's/--.*//' "$spec" | grep -o 'spconv(' | wc -l)
  if [ "$got" -ne "$spconvs" ]; then
    fail "onnx/$name" "the spec has $got spconv calls, expected $spconvs"; return
  fi
  if ! $SPGEN "$spec" -o "$gen" >>"$log" 2>&1; then
    fail "onnx/$name" "spgen failed on the imported spec: $(grep -m1 -i error "$log" || tail -1 "$log")"
    return
  fi
  if ! make -s -C "$gen" CFLAGS="$STRICT_CFLAGS" >>"$log" 2>&1; then
    fail "onnx/$name" "build failed: $(grep -m1 -i error "$log" || tail -1 "$log")"; return
  fi
  if ! "$gen/${name}_run" "$in" "$work/$name.got.npy" >>"$log" 2>&1; then
    fail "onnx/$name" "runner failed: $(tail -1 "$log")"; return
  fi
  if got=$($BUILD/npycmp "$work/$name.got.npy" "$want" "$tol" 2>&1); then
    pass "onnx/$name ($spconvs spconv, $got)"
  else
    fail "onnx/$name" "output differs: $(echo $got)"
  fi
}

# the cases are read on fd 3, so that no command in the loop reads them from stdin
seen=" "
while read -r name spconvs expect tol text <&3; do
  case $name in '' | '#'*) continue ;; esac
  selected "$name" "$@" || continue
  seen="$seen$name "
  if [ ! -f "$fixtures/$name.onnx" ]; then fail "onnx/$name" "no $fixtures/$name.onnx"; continue; fi
  case $expect in
    ok) imported "$name" "$spconvs" "$tol" ;;
    error) refused "$name" "$text" ;;
    *) fail "onnx/$name" "tests/onnx/cases: unknown outcome '$expect'" ;;
  esac
done 3<tests/onnx/cases
for name in "$@"; do
  case $seen in *" $name "*) ;; *) fail "onnx/$name" "not in tests/onnx/cases" ;; esac
done
