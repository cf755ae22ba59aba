#!/usr/bin/env bash
# The emulator's own test: tests/cudaemu/selftest.cu built by nvcc_emu with
# ASan and UBSan (and once without, for the NaN-filled shared memory); each
# mode must end as its comment says.
# usage: selftest.sh WORKDIR
# The emulator objects are EMU_OBJ_DIR's (tests/cuda.sh builds them), else
# built in WORKDIR.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
dir=$1
objs=${EMU_OBJ_DIR:-$dir}
mkdir -p "$dir"
: >"$dir/log"
# build NAME EMU_CXXFLAGS EMULATOR_OBJECT
build() {
  EMU_CXXFLAGS=$2 EMU_OBJ=$3 "$here/nvcc_emu" -c -o "$dir/$1.o" "$here/selftest.cu" >>"$dir/log" 2>&1 &&
    EMU_CXXFLAGS=$2 EMU_OBJ=$3 "$here/nvcc_emu" -o "$dir/$1" "$dir/$1.o" >>"$dir/log" 2>&1
}
build selftest "$SAN_CFLAGS" "$objs/cudaemu_san.o" || { fail cuda/emulator/build "$(grep -m1 error "$dir/log")"; exit 0; }
build plain "" "$objs/cudaemu.o" || { fail cuda/emulator/build_plain "$(grep -m1 error "$dir/log")"; exit 0; }
# expect MODE EXIT PATTERN [BINARY]
expect() {
  local out rc
  out=$("$dir/${4:-selftest}" "$1" 2>&1); rc=$?
  if [ "$rc" = "$2" ] && echo "$out" | grep -q -- "$3"; then pass "cuda/emulator/$1"
  else fail "cuda/emulator/$1" "exit $rc, want $2 and '$3': $(echo "$out" | grep -m1 .)"; fi
}
expect ok 0 "sum 32640"
expect diverge 3 "at a barrier and at a shuffle"
expect barriers 3 "different __syncthreads"
expect exited 3 "lanes that have exited"
expect oob 1 "out of bounds\|buffer-overflow"
expect config 1 "cudaErrorInvalidConfiguration"
expect order 0 "chain broken"
expect race 0 "shared value stale"
expect unwritten 0 "unwritten slot NaN" plain
