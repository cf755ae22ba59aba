#!/usr/bin/env bash
# The GPU checks in one run, most important first, each phase cut to what
# is left of GPU_DEADLINE seconds (default 420; give the outer time limit 30
# more). docs/cuda.md ("The GPU check runbook") says how to run it and what
# a good run shows.
#   1. build the test tools                                   setup.log
#   2. tests/cuda.sh --full on the GPU: each network's CUDA output
#      against its C output (the cuda/gpu/* cases)             cuda.log
#   3. spgen's side of make bench-cuda (BENCH_TORCH=0), with
#      the per-layer times at its end                         bench.log
#   4. compute-sanitizer memcheck, racecheck, synccheck and
#      initcheck on four networks' runners                    sanitize.log
#   5. Nsight Compute on four SPConv kernels, batch 1 and 256 ncu.log
#   6. PyTorch's side (bench/bench_torch.py): cuDNN per layer,
#      eager, CUDA graph, then torch.compile                  torch.log
# with summary.txt (counts, tables): seven files under $OUT (default
# ./gpu_out).
# A GPU machine without network access or a Lua library needs what
# `make gpu-carry` builds here (the generator with Lua linked in):
# build/spgen-static, build/mknpy and build/npycmp, not all of build/ (over
# a gigabyte); and optionally build/spgen-base, an earlier commit's static
# generator, whose networks are timed beside (BENCH_BASE in
# scripts/bench_cuda.sh). GPU_NCU=0 leaves phase 5 out; GPU_NCU_RUNS picks
# its builds, each a batch and generator options, ";" between them (default
# "1;256"; say "256 --cuda-channel-tiles 8;1 --cuda-spconv map"). CUDA_EMU=1 also
# runs the CPU emulator cases (done on every machine anyway, so off by default
# here); GPU_TORCH=0 leaves phase 6 out (its figures do not depend on
# spgen); JOBS defaults to nproc. On an H200 (16 cores) phases 1-5 take
# about 190 s and torch.compile's four compiles about 110 s more.
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh
OUT=${OUT:-gpu_out}
mkdir -p "$OUT"
export PATH=$PATH:/usr/local/cuda/bin:/usr/local/cuda/compute-sanitizer PYTHONUNBUFFERED=1
start=$(date +%s)
deadline=${GPU_DEADLINE:-420}
stamp() { echo "[$(($(date +%s) - start)) s] $*" | tee -a "$OUT/summary.txt"; }
# budget CAP: seconds for the next phase, at most CAP, leaving the phases
# after it RESERVE seconds (second argument, default 0)
budget() {
  local left=$((deadline - ($(date +%s) - start) - ${2:-0}))
  [ "$left" -lt 1 ] && left=1 # timeout 0 would mean no limit
  [ "$left" -lt "$1" ] && echo "$left" || echo "$1"
}
: >"$OUT/summary.txt"

{
  date; uname -a
  nvidia-smi || echo "nvidia-smi failed"
  nvcc --version || echo "no nvcc"
  gcc --version | head -1
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())' 2>&1
} >"$OUT/setup.log" 2>&1
stamp "GPU: $( (nvidia-smi -L 2>/dev/null || echo none) | head -1)"

# the packages cannot be installed from here: build with what there is, and
# take the carried static generator when it runs (make would rebuild it from
# sources whose times the copy changed, and needs Lua's headers for that)
[ -f build/.deps ] || { mkdir -p build && touch build/.deps; }
smoke=$(mktemp -d)
if build/spgen-static specs/spconv_layer.lua -o "$smoke/g" >/dev/null 2>>"$OUT/setup.log"; then
  export SPGEN=$PWD/build/spgen-static
  tools="build/mknpy build/npycmp"
else
  export SPGEN=$PWD/build/spgen
  tools="build/spgen build/mknpy build/npycmp"
fi
rm -rf "$smoke"
if ! make $tools >>"$OUT/setup.log" 2>&1; then
  stamp "build failed: $(grep -m1 -i error "$OUT/setup.log")"
  exit 1
fi
stamp "built; generator $SPGEN"

CUDA_EMU=${CUDA_EMU:-0} timeout "$(budget 200 180)" bash tests/cuda.sh --full >"$OUT/cuda.log" 2>&1
rc=$?
stamp "tests/cuda.sh: $(grep -c '^PASS' "$OUT/cuda.log") passed, $(grep -c '^FAIL' "$OUT/cuda.log") failed," \
  "$(grep -c '^SKIP' "$OUT/cuda.log") skipped (exit $rc)"
grep '^FAIL' "$OUT/cuda.log" | head -20 | tee -a "$OUT/summary.txt"

bench=build/bench_cuda
# a carried build/spgen-base (an earlier commit's generator, static) is timed too
[ -x build/spgen-base ] && export BENCH_BASE=$PWD/build/spgen-base
BENCH_TORCH=0 BENCH_DIR=$bench timeout "$(budget 200 90)" bash scripts/bench_cuda.sh >"$OUT/bench.log" 2>&1
stamp "scripts/bench_cuda.sh, spgen's side: exit $?"
cat "$bench"/*_layers.txt >>"$OUT/bench.log" 2>/dev/null
grep -E '^(spgen|launch floor|layers, default)' "$OUT/bench.log" | tee -a "$OUT/summary.txt"

# runner DIR SPGEN-ARGS...: DIR/run (one inference, DIR/in.npy to
# DIR/out.npy) of the network the arguments generate, or FAIL on stdout
runner() {
  local d=$1 net
  shift
  "$SPGEN" "$@" --target cuda -o "$d" >/dev/null || { echo "FAIL $d: spgen"; return 1; }
  net=$(net_input "$d" 5 "$d/in.npy") || { echo "FAIL $d: input"; return 1; }
  make -s -C "$d" "${net}_run_cuda" NVCCFLAGS="-O3 -std=c++17 -arch=native -lineinfo" || { echo "FAIL $d: build"; return 1; }
  ln -sf "${net}_run_cuda" "$d/run"
}

# compute-sanitizer on one run of each runner: the whole benchmark network
# (statistics in the writers' stores) and cuda_paths at batch 3 with the
# largest tiles (statistics kernels, blocks across samples, weights staged in
# shared memory), sp_resnet18_cifar at 16x16 in blocks of channel tiles
# (their sums per tile, in shared memory and within warps), and at 16x16 with
# --cuda-spconv map-staged (16x16 to 2x2 maps, the staged chunks' barriers,
# slices and groups summed in shared memory)
rm -rf build/gpu_check
{
  command -v compute-sanitizer || echo "SKIP sanitize: no compute-sanitizer"
  command -v compute-sanitizer >/dev/null && for c in "r18 specs/sp_resnet18_cifar.lua" "paths tests/specs/cuda_paths.lua --batch 3 --cuda-threads 1" \
      "tiles specs/sp_resnet18_cifar.lua --set size=16 --batch 2 --cuda-threads 1 --cuda-channel-tiles 8" \
      "map specs/sp_resnet18_cifar.lua --set size=16 --batch 2 --cuda-spconv map-staged --cuda-threads 65536"; do
    set -- $c
    d=build/gpu_check/$1; shift
    runner "$d" "$@" || continue
    for tool in memcheck racecheck synccheck initcheck; do
      if timeout "$(budget 60 90)" compute-sanitizer --tool $tool --error-exitcode 1 \
           "$d/run" "$d/in.npy" "$d/out.npy" >"$d/$tool.log" 2>&1; then
        echo "PASS sanitize/$tool/$c: $(tail -1 "$d/$tool.log")"
      else
        echo "FAIL sanitize/$tool/$c:"; head -40 "$d/$tool.log"
      fi
    done
  done
} >"$OUT/sanitize.log" 2>&1
stamp "compute-sanitizer: $(grep -c '^PASS' "$OUT/sanitize.log") passed, $(grep -c '^FAIL' "$OUT/sanitize.log") failed"
grep '^FAIL' "$OUT/sanitize.log" | tee -a "$OUT/summary.txt"

# Nsight Compute on one SPConv output kernel per map size of
# sp_resnet18_cifar (32x32, 16x16, 8x8, 4x4), at batch 1 and 256: where the
# time goes, for the next tiling decisions
NCU_KERNELS=${NCU_KERNELS:-'regex:_l(2|7|12|17)_out$'}
{
  if [ "${GPU_NCU:-1}" = 0 ]; then echo "SKIP ncu: GPU_NCU=0"
  elif ! command -v ncu >/dev/null; then echo "SKIP ncu: not installed"
  else
    IFS=';' read -ra runs <<<"${GPU_NCU_RUNS:-1;256}"
    for i in "${!runs[@]}"; do
      set -- ${runs[$i]}
      b=$1 d=build/gpu_check/ncu_$i
      shift
      runner "$d" specs/sp_resnet18_cifar.lua --batch "$b" "$@" || continue
      echo "== sp_resnet18_cifar batch ${runs[$i]}"
      timeout "$(budget 60 60)" ncu --clock-control none -k "$NCU_KERNELS" --section SpeedOfLight --section LaunchStats \
        --section Occupancy --section WarpStateStats --section ComputeWorkloadAnalysis \
        --section MemoryWorkloadAnalysis "$d/run" "$d/in.npy" "$d/out.npy" 2>&1 || echo "FAIL ncu batch $b: exit $?"
    done
  fi
} >"$OUT/ncu.log" 2>&1
stamp "ncu: $(grep -c 'Duration' "$OUT/ncu.log") kernels profiled"

if [ "${GPU_TORCH:-1}" = 0 ]; then
  stamp "PyTorch: skipped (GPU_TORCH=0)"
elif python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  timeout "$(budget 600 5)" python3 bench/bench_torch.py "$bench" >"$OUT/torch.log" 2>&1
  stamp "bench/bench_torch.py: exit $?"
  grep -E '^(\||torch|PyTorch)' "$OUT/torch.log" | tee -a "$OUT/summary.txt"
else
  stamp "PyTorch with CUDA does not import: no PyTorch figures"
fi
