#!/usr/bin/env bash
# One zoo network end to end: generate (random weights dumped), check the
# memory plan and the C contract, compile under the strict flags with ASan
# and UBSan, run, and
# compare with the reference network (tests/ref, no generator code):
# max |got - want| / max |want| <= 1e-4.
# With threads=N, the same C built with -fopenmp runs on N threads and must
# give the same bits as one thread.
# usage: zoo_one.sh NAME WORKDIR SPEC ARCH SIZE BATCH [KEY=VALUE]...
# (classes, ratio, naming, bias, simd, threads; defaults 10, 0.5, torch,
# official, 0, none)
set -u
. "$(dirname "$0")/lib.sh"
name=$1 dir=$2 spec=$3 arch=$4 size=$5 batch=$6; shift 6
mkdir -p "$dir"
log=$dir/log
classes=10 ratio=0.5 naming=torch bias=official simd=0 threads=
for kv in "$@"; do
  case $kv in classes=*|ratio=*|naming=*|bias=*|simd=*|threads=*) eval "${kv%%=*}=${kv#*=}" ;; esac
done
sets=(--set size=$size --set classes=$classes --set ratio=$ratio --set naming=$naming --set bias=$bias)
if ! $SPGEN "specs/$spec.lua" -o "$dir/gen" --batch "$batch" --simd "$simd" "${sets[@]}" --dump-weights "$dir/w.safetensors" \
     --plan "$dir/plan" >"$log" 2>&1; then
  fail "$name" "spgen: $(tail -1 "$log")"; exit 0
fi
if ! $BUILD/plan_check "$dir/plan" >>"$log" 2>&1; then fail "$name" "plan: $(tail -1 "$log")"; exit 0; fi
if ! $BUILD/contract_check "$dir/gen/$spec.c" "$dir/gen/${spec}_weights.c" "$dir/gen/${spec}_arena.c" >>"$log" 2>&1; then
  fail "$name" "contract: $(grep -m1 error: "$log")"; exit 0
fi
if ! make -s -C "$dir/gen" CFLAGS="$STRICT_CFLAGS $SAN_CFLAGS" >>"$log" 2>&1; then
  fail "$name" "build: $(grep -m1 error "$log")"; exit 0
fi
$BUILD/mknpy 5 "$dir/in.npy" "$batch" 3 "$size" "$size"
if ! "$dir/gen/${spec}_run" "$dir/in.npy" "$dir/got.npy" >>"$log" 2>&1; then fail "$name" "run: $(tail -1 "$log")"; exit 0; fi
if ! $BUILD/ref_net --arch "$arch" --classes "$classes" --ratio "$ratio" --naming "$naming" --bias "$bias" \
     --size "$size" --batch "$batch" "$dir/w.safetensors" "$dir/in.npy" "$dir/want.npy" >>"$log" 2>&1; then
  fail "$name" "reference: $(tail -1 "$log")"; exit 0
fi
if ! cmp=$($BUILD/npycmp "$dir/got.npy" "$dir/want.npy" 1e-4 2>&1); then fail "$name" "$cmp"; exit 0; fi
if [ -n "$threads" ]; then
  cp -r "$dir/gen" "$dir/omp"
  make -s -C "$dir/omp" clean >>"$log" 2>&1
  if ! make -s -C "$dir/omp" CFLAGS="$STRICT_CFLAGS $SAN_CFLAGS -fopenmp" >>"$log" 2>&1; then
    fail "$name" "build with -fopenmp: $(grep -m1 error "$log")"; exit 0
  fi
  if ! OMP_NUM_THREADS=$threads "$dir/omp/${spec}_run" "$dir/in.npy" "$dir/got_omp.npy" >>"$log" 2>&1; then
    fail "$name" "run on $threads threads: $(tail -1 "$log")"; exit 0
  fi
  if ! cmp -s "$dir/got.npy" "$dir/got_omp.npy"; then fail "$name" "$threads threads differ from one"; exit 0; fi
  cmp="$cmp; $threads threads bit-identical"
fi
pass "$name ($cmp)"; rm -rf "$dir"
