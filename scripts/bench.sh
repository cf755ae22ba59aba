#!/usr/bin/env bash
# make bench, one thread, batch 1, medians of many runs (bench/timing.h):
#  1. every zoo network: spgen's vector build (--simd $SIMD) against its
#     portable C build (--simd 0, the reference path), in one process, with
#     the compile time and .text size of both;
#  2. SPConv against vanilla, both emitted by spgen: the layer pair and the
#     CIFAR ResNet-18 pair;
#  3. each stride-1 SPConv layer shape of sp_resnet18_cifar against oneDNN's
#     vanilla 3x3 and its composed SPConv of the same shape (bench/onednn.c),
#     when oneDNN 2.x is installed (Debian: libdnnl-dev);
#  4. PyTorch's CPU paths on the CIFAR ResNet-18 pair (bench/torch_cpu.py),
#     when Debian's python3-torch is installed.
# GFLOP/s = 2 * MACs / time; the peak is measured by the same binaries.
set -eu
cd "$(dirname "$0")/.."
CFLAGS=${BENCH_CFLAGS:--std=c99 -O2 -march=native -ffp-contract=fast}
SIMD=${BENCH_SIMD:-16}
ZOO=${BENCH_ZOO:-spconv_layer conv_layer sp_tiny_cifar sp_resnet20_cifar sp_vgg16_cifar sp_resnet18_cifar resnet18_cifar sp_resnet18 sp_resnet50}
work=build/bench
mkdir -p $work
echo "cc: $(gcc --version | head -1); CFLAGS: $CFLAGS; spgen --simd $SIMD; batch 1, one thread"

# gen DIR SPEC NAME SIMD [ARGS]: generate and build lib<NAME>.a; prints its
# MACs; DIR/build.txt gets the compile time and the code size.
gen() {
  local dir=$1 spec=$2 name=$3 simd=$4 t0 t1; shift 4
  build/spgen specs/$spec.lua -o $dir --simd $simd --summary "$@" | sed -n 's/^total: .*macs=\([0-9]*\).*/\1/p'
  t0=$(date +%s.%N)
  make -s -C $dir lib$name.a CFLAGS="$CFLAGS"
  t1=$(date +%s.%N)
  echo "compile $(echo "$t1 - $t0" | bc | sed 's/^\./0./' | cut -c1-5) s, .text $(size -A $dir/$name.o |
    awk '$1 == ".text" { print $2 }') bytes" >$dir/build.txt
}

# bench A_DIR A_NAME A_MACS B_DIR B_NAME B_MACS: bench/bench.c on the two.
bench() {
  gcc $CFLAGS -Ibench -I$1 -I$4 -DA=$2 -DB=$5 -DUA=${2^^} -DUB=${5^^} -DMACS_A=$3 -DMACS_B=$6 \
    -o $work/bench_$2_$5 bench/bench.c $1/lib$2.a $4/lib$5.a -lm
  $work/bench_$2_$5
}

declare -A MACS
# macs NAME: the MACs of zoo network NAME built in part 1 (building it if not).
macs() { echo "${MACS[$1]:-$(gen $work/v/$1 $1 $1 $SIMD)}"; }

echo "== 1. vector (--simd $SIMD) against portable C (--simd 0), per zoo network"
for n in $ZOO; do
  macs=$(gen $work/v/$n $n $n $SIMD)
  MACS[$n]=$macs
  # the portable build under the name p_<n>: globals renamed, header rewritten
  gen $work/p/$n $n $n 0 >/dev/null
  nm -g --defined-only $work/p/$n/lib$n.a | awk -v n=$n 'NF == 3 && index($3, n) == 1 { print $3, "p_" $3 }' \
    >$work/p/$n/syms
  mkdir -p $work/p/p_$n
  objcopy --redefine-syms=$work/p/$n/syms $work/p/$n/lib$n.a $work/p/p_$n/libp_$n.a
  sed "s/\b$n/p_$n/g; s/\b${n^^}/P_${n^^}/g" $work/p/$n/$n.h >$work/p/p_$n/p_$n.h
  bench $work/v/$n $n $macs $work/p/p_$n p_$n $macs
  echo "build at $CFLAGS: vector $(cat $work/v/$n/build.txt); portable $(cat $work/p/$n/build.txt)"
done

echo "== 2. SPConv against vanilla, both spgen --simd $SIMD"
bench $work/v/spconv_layer spconv_layer "$(macs spconv_layer)" $work/v/conv_layer conv_layer "$(macs conv_layer)"
bench $work/v/sp_resnet18_cifar sp_resnet18_cifar "$(macs sp_resnet18_cifar)" \
  $work/v/resnet18_cifar resnet18_cifar "$(macs resnet18_cifar)" | tee $work/resnet18_cifar.txt

echo "== 3. the stride-1 SPConv layers of sp_resnet18_cifar against oneDNN, one thread"
if ! printf '#include <dnnl.h>\n#if DNNL_VERSION_MAJOR != 2\n#error\n#endif\n' | gcc -E -x c - >/dev/null 2>&1; then
  echo "skipped (no oneDNN 2.x dnnl.h; as root: apt-get install -y --no-install-recommends libdnnl-dev)"
else
  omp=""
  printf '#include <dnnl.h>\n#if DNNL_CPU_RUNTIME != DNNL_RUNTIME_OMP\n#error\n#endif\n' | gcc -E -x c - >/dev/null 2>&1 &&
    omp=-lgomp
  for shape in 64:32 128:16 256:8 512:4; do
    c=${shape%:*} s=${shape#*:} dir=$work/onednn/$shape
    sets=(--set cin=$c --set out=$c --set size=$s)
    for n in spconv_layer conv_layer; do
      gen $dir/$n $n $n $SIMD "${sets[@]}" --dump-weights $dir/$n.safetensors >/dev/null
    done
    gcc $CFLAGS -Ibench -I$dir/spconv_layer -I$dir/conv_layer -Itests/ref -DA=spconv_layer -DB=conv_layer \
      -DUA=SPCONV_LAYER -DUB=CONV_LAYER -o $dir/bench_onednn bench/onednn.c tests/ref/st.c \
      $dir/spconv_layer/libspconv_layer.a $dir/conv_layer/libconv_layer.a -ldnnl $omp -lm
    echo "-- $c -> $c channels, ${s}x$s"
    OMP_NUM_THREADS=1 $dir/bench_onednn $dir/spconv_layer.safetensors $dir/conv_layer.safetensors
  done
fi

echo "== 4. PyTorch on the CIFAR ResNet-18 pair, one thread"
if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  /usr/bin/python3 bench/torch_cpu.py $work/resnet18_cifar.txt
else
  echo "skipped (no PyTorch for /usr/bin/python3; as root: apt-get install -y python3-torch)"
fi
