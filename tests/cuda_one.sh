#!/usr/bin/env bash
# One network through the CUDA backend: generate (--target all, or cuda when
# the args say so), build and run the C runner on a random input as the
# reference, then three checks, each one PASS/FAIL/SKIP line:
#   cuda/nvcc/NAME  the emitted .cu, its library and runner build with nvcc
#                   -Werror all-warnings (host code -Wall -Wextra -Werror)
#   cuda/emu/NAME   the emitted CUDA, run on the CPU by tests/cudaemu (fibers
#                   for threads, under ASan and UBSan), matches the C output
#   cuda/gpu/NAME   the nvcc-built runner on the GPU matches the C output
#                   (SKIP without a GPU: never a PASS)
# Metric: max |got - want| / max |want| <= 1e-4.
# usage: cuda_one.sh NAME WORKDIR SPEC [--no-san] [SPGEN ARGS...]
# (--no-san: the emulator without ASan and UBSan; "--target cuda" among the
# args builds with the Makefile that target emits)
# Environment (set by tests/cuda.sh): NVCC (empty: none), NVCC_TEST_FLAGS,
# HAVE_GPU=0|1, EMU_OBJ_DIR (where the emulator objects are built once),
# CUDA_EMU=0 to leave the emulator out (tests/gpu_check.sh).
set -u
. "$(dirname "$0")/lib.sh"
root=$(pwd)
name=$1 dir=$2 spec=$3; shift 3
mkdir -p "$dir"
log=$dir/log
# the reference is always generated with --target all; "--target cuda" in the
# args is for the second generation below
target=all args=() san=$SAN_CFLAGS
while [ $# -gt 0 ]; do
  case $1 in
    --target) target=$2; shift 2 ;;
    --no-san) san=""; shift ;; # the big networks: sanitizers would triple the build
    *) args+=("$1"); shift ;;
  esac
done
ok=1
fail() { ok=0; echo "FAIL $1: $2"; }
if ! $SPGEN "$spec" -o "$dir/gen" --target all "${args[@]}" >"$log" 2>&1; then
  fail "cuda/nvcc/$name" "spgen: $(tail -1 "$log")"; exit 0
fi
net=$(net_input "$dir/gen" 11 "$dir/in.npy" 2>>"$log")
# the reference at -O0, which builds 3x faster than at -O1 (the emitted C's
# strict -O1 builds are the zoo, golden and grid suites')
if ! make -s -C "$dir/gen" "lib$net.a" "${net}_run" CFLAGS="${STRICT_CFLAGS/-O1/-O0}" >>"$log" 2>&1 ||
   ! "$dir/gen/${net}_run" "$dir/in.npy" "$dir/want.npy" >>"$log" 2>&1; then
  fail "cuda/nvcc/$name" "the C reference build failed: $(grep -m1 -i error "$log")"; exit 0
fi
# --target cuda: regenerate for it, so its own Makefile is what builds
if [ "$target" = cuda ]; then
  rm -rf "$dir/gen"
  $SPGEN "$spec" -o "$dir/gen" --target cuda "${args[@]}" >>"$log" 2>&1
fi
cp -r "$dir/gen" "$dir/emu"

if [ -z "$NVCC" ]; then
  skip "cuda/nvcc/$name" "no nvcc"
elif make -s -C "$dir/gen" "lib${net}_cuda.a" "${net}_run_cuda" NVCC="$NVCC" NVCCFLAGS="$NVCC_TEST_FLAGS" \
     CFLAGS="$STRICT_CFLAGS" >>"$log" 2>&1; then
  pass "cuda/nvcc/$name"
else
  fail "cuda/nvcc/$name" "$(grep -m1 -E 'error|warning' "$log" || tail -1 "$log")"
fi

# run RUNNER LABEL: runs it on the input and compares with the C output
run() {
  if ! "$1" "$dir/in.npy" "$dir/got_$2.npy" >>"$log" 2>&1; then
    fail "cuda/$2/$name" "runner failed: $(tail -1 "$log")"; return
  fi
  if cmp=$($BUILD/npycmp "$dir/got_$2.npy" "$dir/want.npy" 1e-4 2>&1); then pass "cuda/$2/$name ($cmp)"
  else fail "cuda/$2/$name" "$(echo $cmp)"; fi
}

if [ "${CUDA_EMU:-1}" = 0 ]; then
  skip "cuda/emu/$name" "CUDA_EMU=0"
elif make -s -C "$dir/emu" "lib${net}_cuda.a" "${net}_run_cuda" NVCC="$root/tests/cudaemu/nvcc_emu" NVCCFLAGS= \
     CUDA_INC="$root/tests/cudaemu/include" CFLAGS="$STRICT_CFLAGS" \
     EMU_CXXFLAGS="$san" EMU_OBJ="$EMU_OBJ_DIR/cudaemu${san:+_san}.o" >>"$log" 2>&1; then
  run "$dir/emu/${net}_run_cuda" emu
else
  fail "cuda/emu/$name" "emulator build failed: $(grep -m1 -i error "$log")"
fi

if [ "$HAVE_GPU" != 1 ]; then skip "cuda/gpu/$name" "no GPU"
elif [ ! -x "$dir/gen/${net}_run_cuda" ]; then fail "cuda/gpu/$name" "no runner built"
else run "$dir/gen/${net}_run_cuda" gpu; fi
[ "$ok" = 1 ] && rm -rf "$dir"
exit 0
