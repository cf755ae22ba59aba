#!/usr/bin/env bash
# One layer configuration end to end: generate with spgen, compile the emitted
# files with gcc and clang under the strict flags (the gcc build with ASan
# and UBSan), check the contract, run both builds on a random input and
# compare with the independent reference.
# usage: layer_one.sh NAME WORKDIR cin out h w batch ratio groups stride bias naming bn relu seed simd
# Tolerance: max |got - want| / max |want| <= 1e-4 (the project's metric).
set -u
. "$(dirname "$0")/lib.sh"
name=$1 dir=$2; shift 2
read -r cin out h w batch ratio groups stride bias naming bn relu seed simd <<<"$*"
mkdir -p "$dir"
log=$dir/log
sets=(--set cin=$cin --set out=$out --set h=$h --set w=$w --set batch=$batch --set ratio=$ratio
      --set groups=$groups --set stride=$stride --set bias=$bias --set naming=$naming --set bn=$bn
      --set relu=$relu --set seed=$seed --simd "${simd:-0}")
if ! $SPGEN tests/specs/layer.lua -o "$dir/gen" --dump-weights "$dir/w.safetensors" "${sets[@]}" >"$log" 2>&1; then
  fail "$name" "spgen failed: $(tail -1 "$log")"; exit 0
fi
if ! $BUILD/contract_check "$dir/gen/layer.c" "$dir/gen/layer_weights.c" "$dir/gen/layer_arena.c" >>"$log" 2>&1; then
  fail "$name" "contract: $(grep error: "$log" | head -1)"; exit 0
fi
$BUILD/mknpy "$seed" "$dir/in.npy" "$batch" "$cin" "$h" "$w" >>"$log" 2>&1
ref=(--cin $cin --cout $out --h $h --w $w --batch $batch --ratio $ratio --groups $groups --stride $stride
     --bias $bias --naming $naming --name sp)
[ "$bn" != 0 ] && ref+=(--bn post)
[ "$relu" != 0 ] && ref+=(--relu)
if ! $BUILD/ref_spconv "${ref[@]}" "$dir/w.safetensors" "$dir/in.npy" "$dir/want.npy" >>"$log" 2>&1; then
  fail "$name" "reference failed: $(tail -1 "$log")"; exit 0
fi
for cc in gcc clang; do
  flags=$STRICT_CFLAGS
  [ $cc = gcc ] && flags="$flags $SAN_CFLAGS"
  # gcc builds vector code with OpenMP too: its channel tiles on two threads
  [ $cc = gcc ] && [ "${simd:-0}" != 0 ] && flags="$flags -fopenmp"
  if ! make -s -C "$dir/gen" clean all CC=$cc CFLAGS="$flags" >>"$log" 2>&1; then
    fail "$name" "$cc build failed: $(grep -m1 error "$log")"; exit 0
  fi
  if ! OMP_NUM_THREADS=2 "$dir/gen/layer_run" "$dir/in.npy" "$dir/got_$cc.npy" >>"$log" 2>&1; then
    fail "$name" "$cc runner failed: $(tail -1 "$log")"; exit 0
  fi
  if ! cmp=$($BUILD/npycmp "$dir/got_$cc.npy" "$dir/want.npy" 1e-4 2>&1); then
    fail "$name" "$cc output differs: $cmp"; exit 0
  fi
done
pass "$name ($cmp)"
rm -rf "$dir"
