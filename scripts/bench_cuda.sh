#!/usr/bin/env bash
# make bench-cuda: sp_resnet18_cifar and resnet18_cifar at batch 1 and 256,
# spgen's CUDA build (bench/bench_cuda.cu: whole-network graph launches, CUDA
# events, warm-up, medians), per-layer times of the batch-1 builds, and, when
# PyTorch with CUDA imports, PyTorch eager, CUDA graph and torch.compile on
# the same networks with the vanilla cuDNN 3x3 conv of each SPConv layer's
# shape (bench/bench_torch.py), ending with a table of ratios. fp32, TF32 off.
# Also sp_resnet18_cifar at batch 1 built the two other ways the generator
# could choose and has not timed (variants.txt).
# Without a GPU (nvidia-smi -L fails) or without nvcc it says so and exits 0.
# Environment: NVCC, BENCH_ARCH (default -arch=native), BENCH_TORCH=0 to skip
# PyTorch, BENCH_COMPILE=0 to skip torch.compile, BENCH_DIR (where the
# builds and results go, default build/bench_cuda), SPGEN (the generator,
# default build/spgen).
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
for net in sp_resnet18_cifar resnet18_cifar; do
  for batch in 1 256; do
    d=$work/${net}_b$batch N=$(echo "$net" | tr a-z A-Z)
    "$SPGEN" specs/$net.lua --target cuda --batch $batch -o "$d" >/dev/null
    build_bench "$d" $net
    "$d/bench" | tee -a "$results"
    if [ $batch = 1 ]; then
      # per layer: the same kernels launched one by one, an event between layers
      $NVCC $FLAGS -D${N}_CUDA_LAYER_TIMES -D${N}_CUDA_NO_GRAPH -c -o "$d/layers.o" "$d/$net.cu"
      $NVCC $FLAGS -I"$d" -DLAYERS -DNET=$net -DUNET=$N -o "$d/bench_layers" bench/bench_cuda.cu "$d/layers.o" \
        "$d/${net}_weights.o"
      "$d/bench_layers" | sed "s/^/$net /" >"$work/${net}_layers.txt"
    fi
  done
done
# the generator's two untimed choices, at batch 1, each against the default
# above: SPConv statistics in kernels of their own (--cuda-stats kernel), and
# ptxas's own occupancy (the launch bounds' blocks per SM dropped)
for v in stats_kernel ptxas_occupancy; do
  d=$work/sp_resnet18_cifar_b1_$v
  args=()
  [ $v = stats_kernel ] && args=(--cuda-stats kernel)
  "$SPGEN" specs/sp_resnet18_cifar.lua --target cuda --batch 1 "${args[@]}" -o "$d" >/dev/null
  if [ $v = ptxas_occupancy ]; then
    # a variant that quietly stayed the default would time nothing new
    grep -q '_MINB)' "$d/sp_resnet18_cifar.cu" || { echo "bench_cuda: no launch bounds with MINB to drop" >&2; exit 1; }
    sed -i -E 's/__launch_bounds__\((L[0-9]+_NT), L[0-9]+_MINB\)/__launch_bounds__(\1)/' "$d/sp_resnet18_cifar.cu"
    if grep -q '_MINB)' "$d/sp_resnet18_cifar.cu"; then echo "bench_cuda: MINB left in the launch bounds" >&2; exit 1; fi
  fi
  build_bench "$d" sp_resnet18_cifar
  "$d/bench" | sed "s/^spgen /spgen ($v) /" | tee -a "$work/variants.txt"
done
if [ "${BENCH_TORCH:-1}" = 0 ]; then echo "PyTorch: skipped (BENCH_TORCH=0)"; exit 0; fi
if ! python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  echo "PyTorch: skipped (python3 cannot import torch with CUDA)"
  python3 bench/bench_torch.py --spgen-only "$work" || cat "$results"
  exit 0
fi
python3 bench/bench_torch.py "$work"
