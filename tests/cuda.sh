#!/usr/bin/env bash
# The CUDA backend (tests/cuda_one.sh per case): zoo networks, every golden
# case (each operation and its edge cases), a sample of the random layer
# grid, and the tiling extremes on tests/specs/cuda_paths.lua. Each case is
# built with nvcc -Werror where nvcc exists, run on the CPU emulator
# (tests/cudaemu) everywhere, and run on the GPU where there is one; all
# against the emitted C. Without --full (make test) every option and kernel
# form runs once; --full (make test-full, and the GPU check) adds the
# repetitions: the other zoo networks, each option again on the whole
# benchmark network and the other compile-only builds.
# usage: tests/cuda.sh [--full] [GRID_COUNT]
# Environment: NVCC (default: nvcc on PATH, else /usr/local/cuda/bin/nvcc),
# CUDA_TEST_ARCH (default: the GPU's own, -arch=native, with a GPU; sm_80
# and sm_90 without one), JOBS (default: nproc).
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh
full=0
if [ "${1:-}" = --full ]; then full=1; shift; fi
grid_count=${1:-6}
# more LINE: a case for --full only
more() { if [ "$full" = 1 ]; then echo "$1"; fi; }
work=$(mktemp -d "${TMPDIR:-/tmp}/spgen-cuda.XXXXXX")
trap 'rm -rf "$work"' EXIT

NVCC=$(find_nvcc)
HAVE_GPU=0
if have_gpu; then HAVE_GPU=1; fi
# Without a GPU the cases build for sm_80 and sm_90, the architectures the
# emitted Makefile builds, where ptxas must also keep every tile in registers
# (spills and local memory are warnings, -Werror makes them failures). A
# GPU's own build checks everything else.
spill_check=
if [ -z "${CUDA_TEST_ARCH:-}" ]; then
  if [ "$HAVE_GPU" = 1 ]; then CUDA_TEST_ARCH=-arch=native
  else
    CUDA_TEST_ARCH="-gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=sm_90"
    spill_check="-Xptxas -warn-spills,-warn-lmem-usage"
  fi
fi
NVCC_TEST_FLAGS="-O3 -std=c++17 $CUDA_TEST_ARCH -Werror all-warnings $spill_check -Xcompiler -Wall,-Wextra,-Werror"
# the emulator, once for all cases (with and without sanitizers)
EMU_OBJ_DIR=$work
g++ -std=c++17 -O1 -g -Itests/cudaemu/include -c -o "$work/cudaemu.o" tests/cudaemu/emu.cpp &&
  g++ -std=c++17 -O1 -g $SAN_CFLAGS -Itests/cudaemu/include -c -o "$work/cudaemu_san.o" tests/cudaemu/emu.cpp ||
  { fail cuda/emulator "tests/cudaemu/emu.cpp does not build"; exit 0; }
export NVCC NVCC_TEST_FLAGS HAVE_GPU EMU_OBJ_DIR
echo "nvcc: ${NVCC:-none}; GPU: $([ "$HAVE_GPU" = 1 ] && nvidia-smi -L | head -1 || echo none)"
# the emulator finds what it is there to find
bash tests/cudaemu/selftest.sh "$work/selftest"
# the same spec and options give the same bytes; --target all adds the CUDA
# files and Makefile rules to the C files, which stay as --target c writes them
s=specs/sp_resnet20_cifar.lua
$SPGEN $s -o "$work/d1" --target all --batch 2 >/dev/null && $SPGEN $s -o "$work/d2" --target all --batch 2 >/dev/null &&
  $SPGEN $s -o "$work/d3" --target c --batch 2 >/dev/null
if diff -r "$work/d1" "$work/d2" >/dev/null; then pass cuda/generator/deterministic
else fail cuda/generator/deterministic "two runs differ: $(diff -rq "$work/d1" "$work/d2" | head -1)"; fi
extra=$(diff -rq "$work/d1" "$work/d3" | sort | tr '\n' ' ')
want="Files $work/d1/Makefile and $work/d3/Makefile differ Only in $work/d1: sp_resnet20_cifar.cu Only in $work/d1: sp_resnet20_cifar_cuda.h "
if [ "$extra" = "$want" ] && head -c "$(wc -c <"$work/d3/Makefile")" "$work/d1/Makefile" | cmp -s - "$work/d3/Makefile"; then
  pass cuda/generator/c_files_unchanged
else fail cuda/generator/c_files_unchanged "$extra"; fi
# where SPConv statistics are summed: in the writer's store for every SPConv
# of sp_resnet18_cifar at batch 1 (21 kernels, no statistics kernel), or
# with --cuda-stats kernel in a kernel of their own (37 kernels); in a
# kernel of their own where a map has two SPConv readers (cuda_paths: sp3
# and sp5, layers 4 and 6, read z)
$SPGEN specs/sp_resnet18_cifar.lua -o "$work/f1" --target cuda >/dev/null &&
  $SPGEN specs/sp_resnet18_cifar.lua -o "$work/f3" --target cuda --cuda-stats kernel >/dev/null &&
  $SPGEN tests/specs/cuda_paths.lua -o "$work/f2" --target cuda >/dev/null
got="$(grep -c '^__global__' "$work/f1/sp_resnet18_cifar.cu") $(grep -o '_l[0-9]*_stats(' "$work/f1/sp_resnet18_cifar.cu" | sort -u | tr -d '\n')"
got="$got / $(grep -c '^__global__' "$work/f3/sp_resnet18_cifar.cu")"
got="$got / $(grep -o '_l[0-9]*_stats(' "$work/f2/cuda_paths.cu" | sort -u | tr -d '\n')"
if [ "$got" = "21  / 37 / _l4_stats(_l6_stats(" ]; then pass cuda/generator/stats_in_writer_store
else fail cuda/generator/stats_in_writer_store "kernels, statistics kernels: $got"; fi
# --cuda-spconv map: the twelve 16x16, 8x8 and 4x4 SPConvs of sp_resnet18_cifar as
# whole-map blocks (each comment twice: the file's layer list and above its
# kernel), with no statistics at all, nor their sums in the layers before;
# init makes each one's tap-major weights (one more kernel, 12 launches,
# 10838016 bytes), which the default has none of
$SPGEN specs/sp_resnet18_cifar.lua -o "$work/f4" --target cuda --cuda-spconv map >/dev/null
f4=$work/f4/sp_resnet18_cifar.cu
got="$(grep -c '^__global__' "$f4") $(grep -c '^ \*   map: .* 4x4 map; 2 warps split' "$f4")"
got="$got $(grep -c '^ \*   map: .* 8x8 map, 4 warps of 2 rows each; the 32 lanes split' "$f4")"
got="$got $(grep -c '^ \*   map: .* 16x16 map, 16 warps of 1 row each; the 32 lanes split' "$f4")"
got="$got $(grep -c -E '_l[0-9]+_stats\(|L(6|7|9|10|11|12|14|15|16|17|19|20)_STATS' "$f4")"
got="$got / $(grep -c '_taps_major<<<' "$f4") $(grep -c '_taps_major' "$work/f1/sp_resnet18_cifar.cu")"
got="$got $(grep -h '_CUDA_TAPS_BYTES [0-9]' "$work/f4/sp_resnet18_cifar_cuda.h" "$work/f1/sp_resnet18_cifar_cuda.h" | tr -d '\n')"
want="22 8 8 8 0 / 12 0 #define SP_RESNET18_CIFAR_CUDA_TAPS_BYTES 10838016#define SP_RESNET18_CIFAR_CUDA_TAPS_BYTES 0"
if [ "$got" = "$want" ]; then pass cuda/generator/map_without_statistics
else fail cuda/generator/map_without_statistics "kernels, whole-map layers, their statistics / tap copies: $got"; fi

# compile only: batch 256, which the cases below do not reach (they run
# every kernel form at small batches): the largest tiles under launch bounds,
# with staged weights, build without spills, with and without channel tiles;
# and --cuda-threads 65536 (faster at batch 1) on the layers where its launch
# bounds once made ptxas spill. They build at once (nvcc is one core each).
LINTS=("batch256/sp_resnet18_cifar sp_resnet18_cifar --batch 256"
       "threads65536/sp_resnet18_b8 sp_resnet18 --batch 8 --cuda-threads 65536")
if [ "$full" = 1 ]; then
  LINTS+=("batch256/sp_tiny_cifar sp_tiny_cifar --batch 256"
          "batch256/sp_resnet18_cifar_tiles8 sp_resnet18_cifar --batch 256 --cuda-channel-tiles 8"
          "batch256/resnet18_cifar_tiles4 resnet18_cifar --batch 256 --cuda-channel-tiles 4"
          "threads65536/sp_vgg16_cifar_b2 sp_vgg16_cifar --batch 2 --cuda-threads 65536"
          "threads65536/sp_resnet18_cifar_b2 sp_resnet18_cifar --batch 2 --cuda-threads 65536")
fi
# the build variants (the cases below build the default): plain launches
# with per-layer events compile clean; the events without plain launches,
# which a graph capture would never time, stop the build with the reason
if [ -n "$NVCC" ]; then
  v="$NVCC $NVCC_TEST_FLAGS -DSP_RESNET20_CIFAR_CUDA_LAYER_TIMES -c -o /dev/null $work/d1/sp_resnet20_cifar.cu"
  if out=$($v -DSP_RESNET20_CIFAR_CUDA_NO_GRAPH 2>&1); then pass cuda/nvcc/variant_layer_times
  else fail cuda/nvcc/variant_layer_times "$(echo "$out" | grep -m1 -E 'error|warning')"; fi
  if out=$($v 2>&1); then fail cuda/nvcc/variant_times_need_no_graph "built"
  elif echo "$out" | grep -q "LAYER_TIMES needs SP_RESNET20_CIFAR_CUDA_NO_GRAPH"; then
    pass cuda/nvcc/variant_times_need_no_graph
  else fail cuda/nvcc/variant_times_need_no_graph "$(echo "$out" | grep -m1 error)"; fi
  lints=()
  for c in "${LINTS[@]}"; do
    (
      set -- $c
      d=$work/lint_${1//\//_} spec=$2
      shift 2
      $SPGEN specs/$spec.lua --target cuda "$@" -o "$d" >"$d.out" 2>&1 &&
        $NVCC $NVCC_TEST_FLAGS -c -o /dev/null "$d/$spec.cu" >"$d.out" 2>&1
      echo $? >"$d.rc"
    ) &
    lints+=($!)
  done
  wait "${lints[@]}"
  for c in "${LINTS[@]}"; do
    name=${c%% *}
    d=$work/lint_${name//\//_}
    if [ "$(cat "$d.rc")" = 0 ]; then pass cuda/nvcc/$name
    else fail cuda/nvcc/$name "$(grep -m1 -E 'error|warning|spgen' "$d.out")"; fi
  done
  # make bench-cuda's own sources, which only a GPU machine runs
  b="$NVCC $NVCC_TEST_FLAGS -Ibench -I$work/d1 -DNET=sp_resnet20_cifar -DUNET=SP_RESNET20_CIFAR -c -o /dev/null"
  if out=$($b bench/bench_cuda.cu 2>&1 && $b -DLAYERS bench/bench_cuda.cu 2>&1 &&
           $NVCC $NVCC_TEST_FLAGS -DKERNELS=21 -DBLOCKS=256 -c -o /dev/null bench/launch_floor.cu 2>&1); then
    pass cuda/nvcc/bench_sources
  else fail cuda/nvcc/bench_sources "$(echo "$out" | grep -m1 -E 'error|warning')"; fi
else
  skip cuda/nvcc/variant_layer_times "no nvcc"; skip cuda/nvcc/variant_times_need_no_graph "no nvcc"
  skip cuda/nvcc/bench_sources "no nvcc"
  for c in "${LINTS[@]}"; do skip "cuda/nvcc/${c%% *}" "no nvcc"; done
fi

{
  # the zoo: the benchmark networks at full size, the others reduced
  # (emulated without sanitizers: the small cases below cover every kernel
  # form); make test runs the SPConv benchmark network and the bottleneck one
  echo "zoo/sp_resnet18_cifar $work/z1 specs/sp_resnet18_cifar.lua --no-san"
  more "zoo/resnet18_cifar_b2 $work/z2 specs/resnet18_cifar.lua --no-san --batch 2"
  more "zoo/sp_resnet20_cifar_b3_r4 $work/z3 specs/sp_resnet20_cifar.lua --no-san --batch 3 --set ratio=0.25"
  more "zoo/sp_vgg16_cifar_b2_paddle $work/z4 specs/sp_vgg16_cifar.lua --no-san --batch 2 --set naming=paddle --set bias=all"
  more "zoo/sp_resnet18_32 $work/z5 specs/sp_resnet18.lua --no-san --set size=32 --set classes=10"
  echo "zoo/sp_resnet50_32 $work/z6 specs/sp_resnet50.lua --no-san --set size=32 --set classes=10"
  # --target cuda: its own Makefile
  echo "target_cuda/sp_tiny_cifar $work/t1 specs/sp_tiny_cifar.lua --target cuda"
  # every operation and its edge cases
  for f in tests/golden/*.lua; do
    c=$(basename "$f" .lua)
    echo "golden/$c $work/g_$c $f"
  done
  # the largest tiles (8 channels x 4 pixels, no slices) and the smallest
  # (1 x 1, 16 slices), batch 3 (blocks across samples), pooled maps wider
  # than a block (several rounds)
  for t in 1 16777216; do
    echo "paths/threads$t $work/p$t tests/specs/cuda_paths.lua --batch 3 --cuda-threads $t"
    # at batch 1 the statistics of sp1 and sp2 are summed in the stores of
    # these tiles (batch 3 straddles samples)
    echo "paths/threads${t}_b1 $work/p${t}b1 tests/specs/cuda_paths.lua --cuda-threads $t"
  done
  echo "paths/default_b1 $work/p0 tests/specs/cuda_paths.lua"
  echo "paths/stats_kernel_b2 $work/ps tests/specs/cuda_paths.lua --batch 2 --cuda-stats kernel"
  echo "paths/wide_depthwise $work/pw tests/specs/cuda_wide.lua"
  # (--full: the smallest tiles on the whole benchmark network too)
  more "paths/sp_resnet18_cifar_16_slices $work/p16 specs/sp_resnet18_cifar.lua --set size=8 --cuda-threads 16777216"
  # the largest tiles everywhere: every layer's weights staged in shared
  # memory, in chunks where a part's do not fit at once
  echo "paths/sp_resnet18_cifar_staged $work/pst specs/sp_resnet18_cifar.lua --set size=8 --batch 2 --cuda-threads 1"
  # channel tiles (--cuda-channel-tiles): pooled sums per tile over two warps
  # (cuda_paths' c4), over one and within a warp (the 1x1 maps of size 8);
  # unstaged one-channel tiles (cuda_paths at batch 1);
  # statistics summed per tile in the store, over one or two warps or within
  # one (size 16); attention for several samples (batch 2 and 3)
  echo "paths/channel_tiles2_b3 $work/pc2 tests/specs/cuda_paths.lua --batch 3 --cuda-threads 1 --cuda-channel-tiles 2"
  echo "paths/channel_tiles8_b1 $work/pc8 tests/specs/cuda_paths.lua --cuda-channel-tiles 8"
  echo "paths/sp_resnet18_cifar_tiles8 $work/pt8 specs/sp_resnet18_cifar.lua --set size=8 --batch 2 --cuda-threads 1 --cuda-channel-tiles 8"
  echo "paths/sp_resnet18_cifar_16_tiles2 $work/pt2 specs/sp_resnet18_cifar.lua --no-san --set size=16 --cuda-threads 1 --cuda-channel-tiles 2"
  # tiles kept 4 or 8 channels wide (--cuda-tile-channels): staged weights
  # read by 2 to 16 input-channel slices, blocks across samples at batch 3
  echo "paths/tile_channels8_slices_b3 $work/pch8 tests/specs/cuda_paths.lua --batch 3 --cuda-tile-channels 8 --cuda-threads 16777216"
  more "paths/sp_resnet18_cifar_channels4 $work/pch4 specs/sp_resnet18_cifar.lua --set size=8 --cuda-tile-channels 4"
  # small maps as whole-map blocks (--cuda-spconv map): 2x2 maps (each
  # value on 4 lanes), 1x1 and pooled maps, residuals (cuda_paths at size 2
  # and, at batch 3, 4); 8x8 and 16x16 maps in 4 and 16 groups of rows,
  # pooled over the groups (size 8 and 16); the network's input (scalar
  # loads) into a 3x3 map (fewer pixels than lanes), and in groups (rows
  # outside the map as zeros) at stride 2, into 2-pixel rows and into 16
  # groups of a 512-thread block; stride 2 into 3x3 over 5 groups; 8 and 4
  # warps of input channels summed in shared memory; the benchmark network
  echo "paths/map_2x2 $work/pm2 tests/specs/cuda_paths.lua --set size=2 --cuda-spconv map"
  echo "paths/map_4x4_b3 $work/pm4 tests/specs/cuda_paths.lua --set size=4 --batch 3 --cuda-spconv map"
  echo "paths/map_8x8 $work/pm8 tests/specs/cuda_paths.lua --set size=8 --cuda-spconv map"
  echo "paths/map_16x16 $work/pm16 tests/specs/cuda_paths.lua --set size=16 --cuda-spconv map"
  l="tests/specs/layer.lua --cuda-spconv map --set"
  echo "layer/map_input_3x3 $work/lm1 $l cin=40 --set out=24 --set h=3 --set w=3 --set ratio=0.25 --set bn=1 --set relu=1"
  echo "layer/map_input_s2_16x16 $work/lm4 $l cin=72 --set out=20 --set h=16 --set w=16 --set stride=2 --set groups=4 --set bn=1"
  echo "layer/map_input_16x2_b2 $work/lm5 $l cin=36 --set out=12 --set h=16 --set w=2 --set groups=3 --set batch=2"
  echo "layer/map_input_16x16 $work/lm7 $l cin=256 --set out=8 --set h=16 --set w=16 --set groups=4 --cuda-threads 16777216"
  echo "layer/map_s2_groups5_b2 $work/lm2 $l cin=100 --set out=40 --set h=6 --set w=6 --set stride=2 --set groups=5 --set bias=all --set batch=2"
  echo "layer/map_s2_warps8 $work/lm3 $l cin=512 --set out=16 --set h=8 --set w=8 --set stride=2 --set ratio=0.75 --set groups=1 --set relu=1 --cuda-threads 16777216"
  echo "layer/map_8x8_warps4_b2 $work/lm6 $l cin=256 --set out=24 --set h=8 --set w=8 --set relu=1 --set batch=2 --cuda-threads 16777216"
  more "zoo/sp_resnet18_cifar_map $work/zm specs/sp_resnet18_cifar.lua --no-san --cuda-spconv map"
  # map-staged: chunks of input channels in shared memory, the next one's
  # loads in flight (several chunks a part: cuda_paths' sp2 and the
  # benchmark network's 4x4 and 8x8 layers); one chunk of up to 256
  # channels over 2 to 8 warps, and 2 warps a group (size 16)
  echo "paths/map_staged_8x8_b2 $work/ps8 tests/specs/cuda_paths.lua --set size=8 --batch 2 --cuda-spconv map-staged"
  echo "paths/map_staged_sp_resnet18_cifar_16 $work/ps16 specs/sp_resnet18_cifar.lua --set size=16 --cuda-threads 16777216 --cuda-spconv map-staged"
  more "zoo/sp_resnet18_cifar_map_staged $work/zms specs/sp_resnet18_cifar.lua --no-san --cuda-spconv map-staged"
  # a sample of the layer grid, the same generator as tests/layer_grid.sh
  bash tests/layer_grid.sh --list "$grid_count" 20261205 | while read -r gname _ cin out h w batch ratio groups stride bias naming bn relu seed _; do
    echo "$gname $work/${gname//[\/:]/_} tests/specs/layer.lua --set cin=$cin --set out=$out --set h=$h --set w=$w" \
      "--set batch=$batch --set ratio=$ratio --set groups=$groups --set stride=$stride --set bias=$bias" \
      "--set naming=$naming --set bn=$bn --set relu=$relu --set seed=$seed"
  done
} | xargs -P "${JOBS:-$(nproc)}" -L 1 bash tests/cuda_one.sh
