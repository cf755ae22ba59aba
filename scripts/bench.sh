#!/usr/bin/env bash
# make bench: each SPConv network against its vanilla baseline, both emitted
# by spgen with the same kernels and flags, timed in one process (bench/bench.c);
# then the one-layer pair against oneDNN on this CPU (bench/onednn.c), when
# oneDNN 2.x is installed (Debian: libdnnl-dev), else that part says skipped.
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
# bench/onednn.c: spconv_layer and conv_layer (built by pair above) against
# oneDNN's vanilla 3x3 and its SPConv composed from primitives, one thread,
# on the weights compiled into the spgen layers (read back with --dump-weights).
onednn() {
  local a=spconv_layer b=conv_layer omp=""
  if ! printf '#include <dnnl.h>\n#if DNNL_VERSION_MAJOR != 2\n#error\n#endif\n' | gcc -E -x c - >/dev/null 2>&1; then
    echo "== $a, $b vs oneDNN: skipped (no oneDNN 2.x dnnl.h; as root: apt-get install -y --no-install-recommends libdnnl-dev)"
    return 0
  fi
  printf '#include <dnnl.h>\n#if DNNL_CPU_RUNTIME != DNNL_RUNTIME_OMP\n#error\n#endif\n' | gcc -E -x c - >/dev/null 2>&1 && omp=-lgomp
  mkdir -p $work/onednn
  for n in $a $b; do
    build/spgen specs/$n.lua -o $work/onednn/$n --simd $SIMD --dump-weights $work/onednn/$n.safetensors >/dev/null
  done
  gcc $CFLAGS -I$work/$a -I$work/$b -Itests/ref -DA=$a -DB=$b -DUA=${a^^} -DUB=${b^^} -o $work/bench_onednn \
    bench/onednn.c tests/ref/st.c $work/$a/lib$a.a $work/$b/lib$b.a -ldnnl $omp -lm
  echo "== $a, $b vs oneDNN, one thread"
  OMP_NUM_THREADS=1 $work/bench_onednn $work/onednn/$a.safetensors $work/onednn/$b.safetensors
}
onednn
