#!/usr/bin/env bash
# The emulator's own test: tests/cudaemu/selftest.cu built by nvcc_emu with
# ASan and UBSan (and once without, for the NaN-filled shared memory); each
# mode must end as its comment says.
# usage: selftest.sh WORKDIR
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
dir=$1
mkdir -p "$dir"
if ! EMU_CXXFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all" EMU_OBJ="$dir/cudaemu_san.o" \
     "$here/nvcc_emu" -c -o "$dir/selftest.o" "$here/selftest.cu" >"$dir/log" 2>&1 ||
   ! EMU_CXXFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all" EMU_OBJ="$dir/cudaemu_san.o" \
     "$here/nvcc_emu" -o "$dir/selftest" "$dir/selftest.o" >>"$dir/log" 2>&1; then
  fail cuda/emulator/build "$(grep -m1 error "$dir/log")"; exit 0
fi
if ! EMU_OBJ="$dir/cudaemu.o" "$here/nvcc_emu" -c -o "$dir/plain.o" "$here/selftest.cu" >>"$dir/log" 2>&1 ||
   ! EMU_OBJ="$dir/cudaemu.o" "$here/nvcc_emu" -o "$dir/plain" "$dir/plain.o" >>"$dir/log" 2>&1; then
  fail cuda/emulator/build_plain "$(grep -m1 error "$dir/log")"; exit 0
fi
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
