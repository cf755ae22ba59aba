#!/usr/bin/env bash
# The emitted CMakeLists.txt: a project adds the generated directory with
# add_subdirectory and links two programs against its library, one calling
# <name>_run (the static arena) and one calling <name>_run_with (its own
# arena, _Alignas(<NAME>_ARENA_ALIGN)), for sp_tiny_cifar in float32 and int8.
# Each output must equal the generated Makefile's runner's, bit for bit (int8:
# and build/ref_net_q's on the --dump-int8 model); the run_with program must
# refuse a misaligned arena, and must not link the static arena (nm; its .bss
# is at least <NAME>_RUN_WITH_BYTES smaller); <NAME>_ARENA_SECTION must place
# the static arena in the section it names.
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh
NET=sp_tiny_cifar NET_UC=SP_TINY_CIFAR
work=$(mktemp -d "${TMPDIR:-/tmp}/spgen-cmake.XXXXXX")
trap 'rm -rf "$work"' EXIT
if ! command -v cmake >/dev/null 2>&1; then
  for c in float32 int8; do skip "cmake/$c" "no cmake (apt-get install cmake)"; done
  exit 0
fi

cat >"$work/main.c" <<C
/* reads IN_SIZE raw floats, writes OUT_SIZE raw floats */
#include <stdio.h>
#include "$NET.h"

static float in[${NET_UC}_IN_SIZE], out[${NET_UC}_OUT_SIZE];
#ifdef USE_RUN_WITH
static _Alignas(${NET_UC}_ARENA_ALIGN) unsigned char arena[${NET_UC}_RUN_WITH_BYTES + ${NET_UC}_ARENA_ALIGN];
#endif

int main(int argc, char **argv)
{
    FILE *f;
    if (argc != 3 || !(f = fopen(argv[1], "rb")) || fread(in, sizeof in, 1, f) != 1)
        return 2;
    fclose(f);
#ifdef USE_RUN_WITH
    if (${NET}_run_with(arena + 1, in, out) != 1) {
        fputs("a misaligned arena was taken\n", stderr);
        return 3;
    }
    if (${NET}_run_with(arena, in, out) != 0)
        return 4;
#else
    if (${NET}_run(in, out) != 0)
        return 4;
#endif
    if (!(f = fopen(argv[2], "wb")) || fwrite(out, sizeof out, 1, f) != 1 || fclose(f) != 0)
        return 5;
    return 0;
}
C
cat >"$work/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.13)
project(app C)
add_subdirectory(\${GEN} net)
add_executable(uses_run main.c)
add_executable(uses_run_with main.c)
target_compile_definitions(uses_run_with PRIVATE USE_RUN_WITH)
foreach(t uses_run uses_run_with)
  set_target_properties(\${t} PROPERTIES C_STANDARD 11 C_STANDARD_REQUIRED ON)
  target_link_libraries(\${t} PRIVATE $NET)
endforeach()
CMAKE

"$BUILD/mknpy" 7 "$work/in.npy" 1 3 32 32 >/dev/null
"$BUILD/mknpy" 8 "$work/calib.npy" 4 3 32 32 >/dev/null
in_floats=$((3 * 32 * 32))
tail -c $((4 * in_floats)) "$work/in.npy" >"$work/in.raw"

# check NAME SPGEN_ARGS...: generate, build with make and with cmake, compare
check() {
  local c=cmake/$1 d=$work/$1 out_floats bss_run bss_with with_bytes; shift
  mkdir -p "$d"
  if ! "$SPGEN" specs/$NET.lua --weights tests/golden/data/$NET.safetensors -o "$d/gen" "$@" >"$d/log" 2>&1; then
    fail "$c" "spgen: $(head -c 300 "$d/log")"; return
  fi
  if ! make -s -C "$d/gen" CFLAGS="$STRICT_CFLAGS" >>"$d/log" 2>&1 ||
     ! "$d/gen/${NET}_run" "$work/in.npy" "$d/make.npy" >>"$d/log" 2>&1; then
    fail "$c" "the Makefile build: $(grep -m1 -i error "$d/log" || tail -1 "$d/log")"; return
  fi
  if ! cmake -S "$work" -B "$d/build" -DGEN="$d/gen" -DCMAKE_BUILD_TYPE=Release \
         -DCMAKE_C_FLAGS="-Wall -Wextra -Werror -pedantic" >>"$d/log" 2>&1 ||
     ! cmake --build "$d/build" >>"$d/log" 2>&1; then
    fail "$c" "cmake: $(grep -m1 -i error "$d/log" || tail -1 "$d/log")"; return
  fi
  out_floats=$(sed -n "s/^#define ${NET_UC}_OUT_SIZE \([0-9]*\).*/\1/p" "$d/gen/$NET.h")
  with_bytes=$(sed -n "s/^#define ${NET_UC}_RUN_WITH_BYTES \([0-9]*\).*/\1/p" "$d/gen/$NET.h")
  tail -c $((4 * out_floats)) "$d/make.npy" >"$d/make.raw"
  for p in uses_run uses_run_with; do
    if ! "$d/build/$p" "$work/in.raw" "$d/$p.raw" 2>>"$d/log"; then
      fail "$c" "$p exited $?: $(tail -1 "$d/log")"; return
    fi
    if ! cmp -s "$d/$p.raw" "$d/make.raw"; then
      fail "$c" "$p's output differs from the Makefile build's"; return
    fi
  done
  if [ -e "$d/model.txt" ]; then
    if ! "$BUILD/ref_net_q" "$d/model.txt" "$work/in.npy" "$d/ref.npy" >>"$d/log" 2>&1 ||
       ! "$BUILD/npycmp" "$d/make.npy" "$d/ref.npy" 0 >>"$d/log" 2>&1; then
      fail "$c" "not bit-exact against build/ref_net_q: $(tail -1 "$d/log")"; return
    fi
  fi
  if ! nm "$d/build/uses_run" | grep -q " ${NET}_arena$"; then
    fail "$c" "uses_run has no static arena: the test would not see one"; return
  fi
  if nm "$d/build/uses_run_with" | grep -q " ${NET}_arena$"; then
    fail "$c" "uses_run_with links the static arena"; return
  fi
  bss_run=$(size -A "$d/build/uses_run" | awk '$1 == ".bss" { print $2 }')
  bss_with=$(size -A "$d/build/uses_run_with" | awk '$1 == ".bss" { print $2 }')
  # uses_run_with's own arena is in its .bss too: the static one would double it
  if [ $((bss_with)) -ge $((bss_run + with_bytes)) ]; then
    fail "$c" "uses_run_with's .bss ($bss_with) holds a second arena (uses_run: $bss_run, arena $with_bytes)"; return
  fi
  # <NAME>_ARENA_SECTION places the static arena
  if ! cc -std=c99 -c -o "$d/placed.o" -I"$d/gen" "-D${NET_UC}_ARENA_SECTION=\".fast_ram\"" "$d/gen/${NET}_arena.c" ||
     [ "$(size -A "$d/placed.o" | awk '$1 == ".fast_ram" { print $2 }')" != "$with_bytes" ]; then
    fail "$c" "${NET_UC}_ARENA_SECTION did not give a .fast_ram section of $with_bytes bytes"; return
  fi
  pass "$c (run and run_with equal the Makefile build bit for bit; run_with links no static arena: .bss $bss_with with its own, $bss_run with the static one; the arena placed by ${NET_UC}_ARENA_SECTION)"
}
check float32
check int8 --dtype int8 --calibration "$work/calib.npy" --dump-int8 "$work/int8/model.txt"
