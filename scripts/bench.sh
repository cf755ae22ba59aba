#!/usr/bin/env bash
# make bench: each SPConv network against its vanilla baseline, both emitted
# by spgen with the same kernels and flags, timed in one process (bench/bench.c).
set -eu
cd "$(dirname "$0")/.."
CFLAGS=${BENCH_CFLAGS:--std=c99 -O2 -march=native}
SIMD=${BENCH_SIMD:-8}
work=build/bench
mkdir -p $work
echo "cc: $(gcc --version | head -1); CFLAGS: $CFLAGS; spgen --simd $SIMD; batch 1, one thread"
pair() {
  local a=$1 b=$2; shift 2
  for n in $a $b; do
    build/spgen specs/$n.lua -o $work/$n --simd $SIMD "$@" >/dev/null
    make -s -C $work/$n lib$n.a CFLAGS="$CFLAGS"
  done
  gcc $CFLAGS -I$work/$a -I$work/$b -DA=$a -DB=$b -DUA=${a^^} -DUB=${b^^} -o $work/bench_$a bench/bench.c \
    $work/$a/lib$a.a $work/$b/lib$b.a -lm
  echo "== $a vs $b $*"
  $work/bench_$a
}
pair spconv_layer conv_layer
pair sp_resnet18_cifar resnet18_cifar
