#!/usr/bin/env bash
# make bench, one thread, batch 1, medians of many runs (bench/timing.h):
#  1. every zoo network: spgen's vector build (--simd $SIMD) against its
#     portable C build (--simd 0, the reference path), in one process, with
#     the compile time and .text size of both;
#  2. SPConv against vanilla, both emitted by spgen: the layer pair and the
#     CIFAR ResNet-18 pair;
#  3. each SPConv layer shape of sp_resnet18_cifar, stride 2 included,
#     against oneDNN's vanilla 3x3 and its composed SPConv of the same shape
#     (bench/onednn.c), when oneDNN 2.x is installed (Debian: libdnnl-dev);
#     spgen's SPConv both inside a network (between two 1x1 convs, timed
#     through the profiling hooks: blocked in and out, like oneDNN's times,
#     which leave out its reorders from/to NCHW) and as a one-layer network
#     (NCHW in and out at its API, the conversions in its time);
#  4. PyTorch-best (eager, traced or scripted) on sp_resnet18, sp_resnet50
#     and the CIFAR ResNet-18 and their vanilla counterparts, beside spgen
#     (bench/torch_cpu.py), when Debian's python3-torch is installed;
#  5. per-layer tables of sp_resnet18 and sp_resnet50 at 224 and
#     sp_resnet18_cifar through the emitted profiling hooks (bench/layers.c);
#  6. sp_resnet50 built with -fopenmp: two threads against one;
#  7. sp_resnet50 at batch 8 against batch 1 (time per image), and its
#     compile time and .text size.
# GFLOP/s = 2 * MACs / time; the peak is measured by the same binaries.
# BENCH_PARTS picks parts (default all: "1 2 3 4 5 6 7"); BENCH_CFLAGS,
# BENCH_SIMD and BENCH_ZOO (part 1's networks) change the build.
set -eu
cd "$(dirname "$0")/.."
CFLAGS=${BENCH_CFLAGS:--std=c99 -O2 -march=native -ffp-contract=fast}
SIMD=${BENCH_SIMD:-16}
ZOO=${BENCH_ZOO:-spconv_layer conv_layer sp_tiny_cifar sp_resnet20_cifar sp_vgg16_cifar sp_resnet18_cifar resnet18_cifar sp_resnet18 sp_resnet50}
PARTS=" ${BENCH_PARTS:-1 2 3 4 5 6 7} "
work=build/bench
mkdir -p $work
echo "cc: $(gcc --version | head -1); CFLAGS: $CFLAGS; spgen --simd $SIMD; batch 1, one thread"

# part N: whether BENCH_PARTS has part N
part() { [[ $PARTS == *" $1 "* ]]; }

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

# one DIR NAME OUT [FLAGS]: builds bench/one.c on DIR's network into DIR/OUT
# (from its library, or with FLAGS from its sources compiled with them).
one() {
  local dir=$1 n=$2 out=$3; shift 3
  if [ $# -eq 0 ]; then
    gcc $CFLAGS -Ibench -I$dir -DNET=$n -DUNET=${n^^} -o $dir/$out bench/one.c $dir/lib$n.a -lm
  else
    gcc $CFLAGS "$@" -Ibench -I$dir -Wa,-I$dir -DNET=$n -DUNET=${n^^} -o $dir/$out bench/one.c $dir/$n.c $dir/${n}_arena.c \
      $dir/${n}_weights.c -lm
  fi
}

# per_image LINE: the "Y ms per image" of a bench/one.c line
per_image() { sed -n 's/.*, \([0-9.]*\) ms per image$/\1/p' <<<"$1"; }
# ratio A B: A / B to two decimals
ratio() { echo "scale=2; $1 / $2" | bc | sed 's/^\./0./'; }

declare -A MACS
# built NAME: zoo network NAME at --simd $SIMD in $work/v/NAME, generated
# once per run (part 1 or the first part that needs it); its MACs in MACS.
built() { [ -n "${MACS[$1]:-}" ] || MACS[$1]=$(gen $work/v/$1 $1 $1 $SIMD); }

if part 1; then
  echo "== 1. vector (--simd $SIMD) against portable C (--simd 0), per zoo network"
  for n in $ZOO; do
    built $n
    # the portable build under the name p_<n>: globals renamed, header rewritten
    gen $work/p/$n $n $n 0 >/dev/null
    nm -g --defined-only $work/p/$n/lib$n.a | awk -v n=$n 'NF == 3 && index($3, n) == 1 { print $3, "p_" $3 }' \
      >$work/p/$n/syms
    mkdir -p $work/p/p_$n
    objcopy --redefine-syms=$work/p/$n/syms $work/p/$n/lib$n.a $work/p/p_$n/libp_$n.a
    sed "s/\b$n/p_$n/g; s/\b${n^^}/P_${n^^}/g" $work/p/$n/$n.h >$work/p/p_$n/p_$n.h
    bench $work/v/$n $n ${MACS[$n]} $work/p/p_$n p_$n ${MACS[$n]}
    echo "build at $CFLAGS: vector $(cat $work/v/$n/build.txt); portable $(cat $work/p/$n/build.txt)"
  done
fi

if part 2; then
  echo "== 2. SPConv against vanilla, both spgen --simd $SIMD"
  for n in spconv_layer conv_layer sp_resnet18_cifar resnet18_cifar; do built $n; done
  bench $work/v/spconv_layer spconv_layer ${MACS[spconv_layer]} $work/v/conv_layer conv_layer ${MACS[conv_layer]}
  bench $work/v/sp_resnet18_cifar sp_resnet18_cifar ${MACS[sp_resnet18_cifar]} \
    $work/v/resnet18_cifar resnet18_cifar ${MACS[resnet18_cifar]}
fi

if part 3; then
  echo "== 3. the SPConv layer shapes of sp_resnet18_cifar against oneDNN, one thread"
  if ! printf '#include <dnnl.h>\n#if DNNL_VERSION_MAJOR != 2\n#error\n#endif\n' | gcc -E -x c - >/dev/null 2>&1; then
    echo "SKIP oneDNN: no oneDNN 2.x dnnl.h (as root: apt-get install -y --no-install-recommends libdnnl-dev)"
  else
    omp=""
    printf '#include <dnnl.h>\n#if DNNL_CPU_RUNTIME != DNNL_RUNTIME_OMP\n#error\n#endif\n' | gcc -E -x c - >/dev/null 2>&1 &&
      omp=-lgomp
    summary="| C -> CO, size, stride | spgen SPConv in-network (blocked) ms | spgen one-layer (NCHW API) ms | oneDNN vanilla 3x3 ms | in-network / oneDNN vanilla (goal <= 0.40) |
| --- | ---: | ---: | ---: | ---: |"
    # CIN:COUT:SIZE:STRIDE, in the network's order
    for shape in 64:64:32:1 64:128:32:2 128:128:16:1 128:256:16:2 256:256:8:1 256:512:8:2 512:512:4:1; do
      IFS=: read -r c o s st <<<"$shape"
      dir=$work/onednn/$shape
      sets=(--set cin=$c --set out=$o --set size=$s --set stride=$st)
      for n in spconv_layer conv_layer; do
        gen $dir/$n $n $n $SIMD "${sets[@]}" --dump-weights $dir/$n.safetensors >/dev/null
      done
      # the SPConv between two 1x1 convs, compiled into bench_onednn with its
      # profiling hooks defined (as bench/layers.c)
      net=$dir/spconv_in_network
      build/spgen specs/spconv_layer.lua -o $net --simd $SIMD "${sets[@]}" --set in_network=1 \
        --dump-weights $net.safetensors >/dev/null
      gcc $CFLAGS -Ibench -I$dir/spconv_layer -I$dir/conv_layer -I$net -Wa,-I$net -Itests/ref -DA=spconv_layer \
        -DB=conv_layer -DUA=SPCONV_LAYER -DUB=CONV_LAYER -DNET=spconv_in_network -DUNET=SPCONV_IN_NETWORK \
        -DNET_C="\"$PWD/$net/spconv_in_network.c\"" "-DSPCONV_IN_NETWORK_LAYER_BEGIN(i, name)=bench_layer_begin(i)" \
        "-DSPCONV_IN_NETWORK_LAYER_END(i)=bench_layer_end(i)" -o $dir/bench_onednn bench/onednn.c tests/ref/st.c \
        $net/spconv_in_network_weights.c $net/spconv_in_network_arena.c \
        $dir/spconv_layer/libspconv_layer.a $dir/conv_layer/libconv_layer.a -ldnnl $omp -lm
      echo "-- $c -> $o channels, ${s}x$s, stride $st"
      OMP_NUM_THREADS=1 $dir/bench_onednn $dir/spconv_layer.safetensors $dir/conv_layer.safetensors \
        $net.safetensors | tee $dir/out.txt
      summary+=$'\n'$(awk -v shape="$c -> $o, ${s}x$s, $st" '
        /^spgen SPConv in-network / { net = $4 }
        /^spgen SPConv one-layer / { one = $4 }
        /^oneDNN vanilla / { van = $4 }
        END { printf "| %s | %s | %s | %s | %.2f |", shape, net, one, van, net / van }' $dir/out.txt)
    done
    echo "$summary"
  fi
fi

if part 4; then
  echo "== 4. PyTorch-best against spgen, one thread, batch 1"
  if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
    args=()
    for n in sp_resnet18 sp_resnet50 sp_resnet18_cifar; do
      built $n
      one $work/v/$n $n one
      args+=(--spgen $n=$work/v/$n/one)
    done
    /usr/bin/python3 bench/torch_cpu.py "${args[@]}"
  else
    echo "SKIP PyTorch: no torch for /usr/bin/python3 (as root: apt-get install -y python3-torch)"
  fi
fi

if part 5; then
  echo "== 5. per layer, through the profiling hooks (spgen --simd $SIMD)"
  for n in sp_resnet18 sp_resnet50 sp_resnet18_cifar; do
    built $n
    dir=$work/v/$n N=${n^^}
    # one LAYER(i, "label", "shape", MACs) row per layer, from the layer
    # comments at the top of the emitted file (comment.lua's format)
    awk '
      function flush() { if (idx) printf "LAYER(%d, \"%s\", \"%s\", %s)\n", idx, label, shape, macs }
      $0 == "*/" { flush(); exit }
      /^ \* layer [0-9]+: / {
        flush()
        line = $0; sub(/^ \* layer /, "", line)
        idx = line; sub(/:.*/, "", idx)
        rest = line; sub(/^[0-9]+: /, "", rest)
        label = rest; sub(/ \(.*/, "", label)
        shape = rest; sub(/.*\): /, "", shape)
        macs = 0
      }
      /^ \*   params .*MACs\/image / { m = $0; sub(/.*MACs\/image /, "", m); sub(/[^0-9,].*/, "", m); gsub(/,/, "", m); macs = m }
    ' $dir/$n.c >$dir/layer_info.h
    gcc $CFLAGS -Ibench -I$dir -Wa,-I$dir -DNET=$n -DUNET=$N -DNET_C="\"$PWD/$dir/$n.c\"" -DLAYER_INFO="\"$PWD/$dir/layer_info.h\"" \
      "-D${N}_LAYER_BEGIN(i, name)=bench_layer_begin(i)" "-D${N}_LAYER_END(i)=bench_layer_end(i)" \
      -o $dir/layers bench/layers.c $dir/${n}_weights.c $dir/${n}_arena.c -lm
    echo "-- $n"
    $dir/layers
  done
fi

if part 6; then
  echo "== 6. sp_resnet50 built with -fopenmp: two threads against one"
  built sp_resnet50
  dir=$work/v/sp_resnet50
  pragmas=$(grep -c '^ *#pragma omp' $dir/sp_resnet50.c || true)
  if [ "$pragmas" -eq 0 ]; then
    echo "SKIP threads: the emitted sp_resnet50.c has no OpenMP pragma"
  elif [ "$(nproc)" -lt 2 ]; then
    echo "SKIP threads: $(nproc) CPU"
  else
    one $dir sp_resnet50 one_omp -fopenmp
    t1=$(OMP_NUM_THREADS=1 $dir/one_omp) t2=$(OMP_NUM_THREADS=2 $dir/one_omp)
    echo "$pragmas OpenMP loops in sp_resnet50.c; $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "1 thread:  $t1"
    echo "2 threads: $t2"
    echo "speedup, 1 thread / 2 threads: $(ratio "$(per_image "$t1")" "$(per_image "$t2")") (goal >= 1.8)"
  fi
fi

if part 7; then
  echo "== 7. sp_resnet50: batch 8 against batch 1, compile time and code size"
  built sp_resnet50
  one $work/v/sp_resnet50 sp_resnet50 one
  gen $work/b8/sp_resnet50 sp_resnet50 sp_resnet50 $SIMD --batch 8 >/dev/null
  one $work/b8/sp_resnet50 sp_resnet50 one
  b1=$($work/v/sp_resnet50/one) b8=$($work/b8/sp_resnet50/one)
  echo "batch 1: $b1"
  echo "batch 8: $b8"
  echo "time per image, batch 8 / batch 1: $(ratio "$(per_image "$b8")" "$(per_image "$b1")") (goal <= 0.80)"
  echo "build of sp_resnet50.o at $CFLAGS: $(cat $work/v/sp_resnet50/build.txt) (goal: <= 30 s, <= 1 MB .text);" \
    "batch 8: $(cat $work/b8/sp_resnet50/build.txt)"
fi
