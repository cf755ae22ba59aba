#!/usr/bin/env bash
# The GPU checks in one run, for a session with a GPU lease (a few minutes of
# device time): build spgen and the test tools, run tests/cuda.sh on the GPU
# (each network's CUDA output against its C output, cuda/gpu/* cases), then
# make bench-cuda; logs under $OUT (default ./gpu_out):
#   env.log    nvidia-smi, nvcc, compilers, PyTorch
#   build.log  make
#   cuda.log   tests/cuda.sh (PASS/FAIL/SKIP lines)
#   bench.log  scripts/bench_cuda.sh (the tables for the README)
#   summary.txt  the counts and the bench tables
# The device machine cannot reach the network and has no Lua library: run
# `make gpu-carry` here first (the generator with Lua linked in) and carry
# what it built, not all of build/ (over a gigabyte): the run tool's carry
# ["build/spgen-static", "build/mknpy", "build/npycmp"]. CUDA_EMU=1 also
# runs the CPU emulator cases (done on every machine anyway, so off by default
# here); JOBS defaults to nproc. The logs and the bench's four .txt files
# are the nine files the run tool brings back.
set -u
cd "$(dirname "$0")/.."
OUT=${OUT:-gpu_out}
mkdir -p "$OUT"
export PATH=$PATH:/usr/local/cuda/bin
start=$(date +%s)
stamp() { echo "[$(($(date +%s) - start)) s] $*" | tee -a "$OUT/summary.txt"; }
: >"$OUT/summary.txt"

{
  date; uname -a
  nvidia-smi || echo "nvidia-smi failed"
  nvcc --version || echo "no nvcc"
  gcc --version | head -1
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())' 2>&1
} >"$OUT/env.log" 2>&1
stamp "GPU: $( (nvidia-smi -L 2>/dev/null || echo none) | head -1)"

# the packages cannot be installed from here: build with what there is, and
# take the carried static generator when it runs (make would rebuild it from
# sources whose times the copy changed, and needs Lua's headers for that)
[ -f build/.deps ] || { mkdir -p build && touch build/.deps; }
smoke=$(mktemp -d)
if build/spgen-static specs/spconv_layer.lua -o "$smoke/g" >/dev/null 2>>"$OUT/build.log"; then
  export SPGEN=$PWD/build/spgen-static
  tools="build/mknpy build/npycmp"
else
  export SPGEN=$PWD/build/spgen
  tools="build/spgen build/mknpy build/npycmp"
fi
rm -rf "$smoke"
if ! make $tools >>"$OUT/build.log" 2>&1; then
  stamp "build failed: $(grep -m1 -i error "$OUT/build.log")"
  exit 1
fi
stamp "built; generator $SPGEN"

CUDA_EMU=${CUDA_EMU:-0} timeout 420 bash tests/cuda.sh >"$OUT/cuda.log" 2>&1
rc=$?
stamp "tests/cuda.sh: $(grep -c '^PASS' "$OUT/cuda.log") passed, $(grep -c '^FAIL' "$OUT/cuda.log") failed," \
  "$(grep -c '^SKIP' "$OUT/cuda.log") skipped (exit $rc)"
grep '^FAIL' "$OUT/cuda.log" | head -20 | tee -a "$OUT/summary.txt"

timeout 420 bash scripts/bench_cuda.sh >"$OUT/bench.log" 2>&1
rc=$?
stamp "scripts/bench_cuda.sh (make bench-cuda): exit $rc"
cp build/bench_cuda/*.txt "$OUT/" 2>/dev/null
grep -E '^(\||spgen |torch |PyTorch|GPU:)' "$OUT/bench.log" | tee -a "$OUT/summary.txt"
