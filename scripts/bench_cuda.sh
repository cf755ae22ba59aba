#!/usr/bin/env bash
# make bench-cuda: sp_resnet18_cifar and resnet18_cifar at batch 1 and 256,
# spgen's CUDA build (bench/bench_cuda.cu: whole-network graph launches, CUDA
# events, warm-up, medians), per-layer times of each build, and, when
# PyTorch with CUDA imports, PyTorch eager, CUDA graph and torch.compile on
# the same networks with the vanilla cuDNN 3x3 conv of each SPConv layer's
# shape (bench/bench_torch.py), ending with a table of ratios. fp32, TF32 off.
# Also sp_resnet18_cifar built the other ways the generator could choose
# (VARIANTS below, timed into variants.txt).
# Without a GPU (nvidia-smi -L fails) or without nvcc it says so and exits 0.
# Environment: NVCC, BENCH_ARCH (default -arch=native), BENCH_TORCH=0 to skip
# PyTorch, BENCH_COMPILE=0 to skip torch.compile, BENCH_DIR (where the
# builds and results go, default build/bench_cuda), SPGEN (the generator,
# default build/spgen), BENCH_BASE (another generator, say a build of an
# earlier commit: its networks are timed too, as "spgen (base)").
set -eu
cd "$(dirname "$0")/.."
. tests/lib.sh
NVCC=$(find_nvcc)
if ! have_gpu; then
  echo "make bench-cuda: skipped: no GPU here (nvidia-smi -L fails)"; exit 0
fi
if [ -z "$NVCC" ]; then echo "make bench-cuda: skipped: no nvcc (set NVCC=/path/to/nvcc)"; exit 0; fi
ARCH=${BENCH_ARCH:--arch=native}
FLAGS="-O3 -std=c++17 $ARCH"
work=${BENCH_DIR:-build/bench_cuda}
mkdir -p "$work"
results=$work/spgen.txt
: >"$results"
: >"$work/variants.txt"
echo "GPU: $(nvidia-smi -L | head -1); nvcc: $($NVCC --version | tail -1); NVCCFLAGS: $FLAGS"
# build_bench DIR NET: the library of NET generated in DIR, and DIR/bench,
# bench/bench_cuda.cu's whole-network timer linked with it
build_bench() {
  make -s -C "$1" "lib$2_cuda.a" NVCC="$NVCC" NVCCFLAGS="$FLAGS"
  $NVCC $FLAGS -I"$1" -DNET=$2 -DUNET="$(echo "$2" | tr a-z A-Z)" -o "$1/bench" bench/bench_cuda.cu "$1/lib$2_cuda.a"
}
# build_layers DIR NET: DIR/bench_layers, the same kernels launched one by
# one with an event between layers
build_layers() {
  local N
  N=$(echo "$2" | tr a-z A-Z)
  $NVCC $FLAGS -D${N}_CUDA_LAYER_TIMES -D${N}_CUDA_NO_GRAPH -c -o "$1/layers.o" "$1/$2.cu"
  $NVCC $FLAGS -I"$1" -DLAYERS -DNET=$2 -DUNET=$N -o "$1/bench_layers" bench/bench_cuda.cu "$1/layers.o" \
    "$1/$2_weights.o"
}
# The generator's other choices, each sp_resnet18_cifar built
# another way (NAME BATCH [SPGEN ARGS]), timed against the default:
#   stats_kernel     SPConv statistics in kernels of their own
#   ptxas_occupancy  the launch bounds' blocks per SM dropped
#   threadsN         the tiling aiming at N threads per layer, not 32768
#   tilesN           blocks of up to N channel tiles sharing their inputs
#                    (at batch 1 with statistics kernels, as stats_kernel:
#                    blocks of 8 tiles hold too few pixels for the stores'
#                    sums, which would add 9 kernels)
#   channels4        tiles kept 4 channels wide (staged weights), the
#                    input channels split into slices instead (25 kernels:
#                    its blocks hold fewer pixels; with stats_kernel too)
#   map              the 16x16, 8x8 and 4x4 SPConvs as a block per (channel, sample) over
#                    its whole map, the attention from its own sums (no
#                    statistics); with threads65536 too, and at batch 256
#                    (its 4x4 layers against the tiled ones; last, as the
#                    slowest to time)
#   map_staged       map with its stride-1 layers' inputs staged in shared
#                    memory, a chunk of channels at a time
VARIANTS="stats_kernel 1 --cuda-stats kernel
ptxas_occupancy 1
threads65536 1 --cuda-threads 65536
tiles8_stats_kernel 1 --cuda-channel-tiles 8 --cuda-stats kernel
channels4 1 --cuda-tile-channels 4
channels4_stats_kernel 1 --cuda-tile-channels 4 --cuda-stats kernel
map 1 --cuda-spconv map
map_threads65536 1 --cuda-spconv map --cuda-threads 65536
map_staged 1 --cuda-spconv map-staged
tiles4 256 --cuda-channel-tiles 4
tiles8 256 --cuda-channel-tiles 8
map 256 --cuda-spconv map"
# variant NAME BATCH [SPGEN ARGS]: generates, edits and builds it, with its
# per-layer timer (after the default of its batch is generated)
variant() {
  local v=$1 batch=$2 d=$work/sp_resnet18_cifar_b$2_$1
  shift 2
  "$SPGEN" specs/sp_resnet18_cifar.lua --target cuda --batch "$batch" "$@" -o "$d" >/dev/null
  case $v in
    ptxas_occupancy)
      sed -i -E 's/__launch_bounds__\((L[0-9]+_NT), L[0-9]+_MINB\)/__launch_bounds__(\1)/' "$d/sp_resnet18_cifar.cu"
      if grep -q '_MINB)' "$d/sp_resnet18_cifar.cu"; then echo "bench_cuda: MINB left in the launch bounds" >&2; return 1; fi ;;
  esac
  # a variant that quietly stayed the default would time nothing new
  if cmp -s "$d/sp_resnet18_cifar.cu" "$work/sp_resnet18_cifar_b$batch/sp_resnet18_cifar.cu"; then
    echo "bench_cuda: variant $v emits the default's code" >&2; return 1
  fi
  build_bench "$d" sp_resnet18_cifar && build_layers "$d" sp_resnet18_cifar
}
# everything builds at once (a core each), then runs one at a time
pids=()
for net in sp_resnet18_cifar resnet18_cifar; do
  for batch in 1 256; do
    d=$work/${net}_b$batch
    "$SPGEN" specs/$net.lua --target cuda --batch $batch -o "$d" >/dev/null
    # (the layer timer links the weights object the library's build makes)
    { build_bench "$d" $net && build_layers "$d" $net; } &
    pids+=($!)
    if [ -n "${BENCH_BASE:-}" ]; then
      "$BENCH_BASE" specs/$net.lua --target cuda --batch $batch -o "${d}_base" >/dev/null
      build_bench "${d}_base" $net &
      pids+=($!)
    fi
  done
done
while read -r v; do
  variant $v &
  pids+=($!)
done <<<"$VARIANTS"
# the floor: as many empty kernels as sp_resnet18_cifar has at batch 1, as
# many blocks as its 32x32 layers
$NVCC $FLAGS -DKERNELS=21 -DBLOCKS=256 -o "$work/launch_floor" bench/launch_floor.cu &
pids+=($!)
for p in "${pids[@]}"; do wait "$p" || { echo "bench_cuda: a build failed" >&2; exit 1; }; done
for net in sp_resnet18_cifar resnet18_cifar; do
  for batch in 1 256; do
    d=$work/${net}_b$batch
    "$d/bench" | tee -a "$results"
    # (bench_torch.py reads batch 1's, as NET_layers.txt)
    "$d/bench_layers" | sed "s/^/$net /" >"$work/${net}$([ $batch = 1 ] || echo _b$batch)_layers.txt"
    if [ -n "${BENCH_BASE:-}" ]; then "${d}_base/bench" | sed "s/^spgen /spgen (base) /" | tee -a "$work/variants.txt"; fi
  done
done
while read -r v batch _; do
  d=$work/sp_resnet18_cifar_b${batch}_$v
  "$d/bench" | sed "s/^spgen /spgen ($v) /" | tee -a "$work/variants.txt"
  "$d/bench_layers" | sed "s/^/sp_resnet18_cifar ($v) /" >"${d}_layers.txt"
done <<<"$VARIANTS"
# each variant's layers against the default's of its batch, one line each:
# the default's time over the variant's (above 1: the variant is faster)
while read -r v batch _; do
  awk -v name="$v batch $batch" 'NR == FNR { d[$(NF - 1)] = $NF; next }
    $NF > 0 { r = r sprintf(" l%s %.2f", $(NF - 1), d[$(NF - 1)] / $NF) }
    END { print "layers, default / " name ":" r }' \
    "$work/sp_resnet18_cifar$([ "$batch" = 1 ] || echo _b$batch)_layers.txt" \
    "$work/sp_resnet18_cifar_b${batch}_${v}_layers.txt" | tee -a "$work/variants.txt"
done <<<"$VARIANTS"
"$work/launch_floor" | tee -a "$work/variants.txt"
if [ "${BENCH_TORCH:-1}" = 0 ]; then echo "PyTorch: skipped (BENCH_TORCH=0)"; exit 0; fi
if ! python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  echo "PyTorch: skipped (python3 cannot import torch with CUDA)"
  python3 bench/bench_torch.py --spgen-only "$work" || cat "$results"
  exit 0
fi
python3 bench/bench_torch.py "$work"
