#!/usr/bin/env bash
# The emitted C as firmware. Generates specs/sp_tiny_cifar.lua with the golden
# weights (tests/golden/data/sp_tiny_cifar.*, from PyTorch) and checks:
#
#   firmware/cortex_m4     the bare-metal ELF of firmware/ (startup, linker
#                          script, semihosting) on QEMU mps2-an386, Cortex-M4F
#                          with the hard-float ABI; its 10 logits against the
#                          golden (max |got - want| / max |want| <= 1e-5) and
#                          against the host runner's output (same bound); then
#                          flash and RAM figures, the stack measured by painting,
#                          and instructions per inference
#   firmware/cortex_m4_int8  the network generated --dtype int8 (float
#                          attention) on the same board, bit for bit against
#                          build/ref_net_q on the model file spgen wrote
#   firmware/cortex_m3_int8  the same on mps2-an385, a Cortex-M3 without FPU
#                          (soft-float ABI), with the fixed-point attention
#   firmware/aarch64_qemu  the emitted C and its .npy runner cross-compiled with
#                          aarch64-linux-gnu-gcc -static -O2, run under
#                          qemu-aarch64 on the golden input (<= 1e-4)
#   firmware/aarch64_neon  the same with the network generated --simd 4: the
#                          vector tiles as 128-bit NEON code
#   firmware/cortex_m4_resnet20[_int8]  the paper's sp_resnet20_cifar (seeded
#                          weights) at -Os on the Cortex-M4F: float32 against
#                          the host runner (1e-5), int8 bit for bit against
#                          build/ref_net_q; and .../code: the network's code
#                          (its layers of the same shape share their
#                          functions) at most 64 KB
#
# Each prints PASS, FAIL or SKIP (a missing cross tool is a SKIP; install them
# with scripts/install-deps.sh firmware as root). Exit 1 on any FAIL, else 0.
# Needs build/spgen, build/npycmp, build/mknpy and build/ref_net_q (`make
# firmware-test` builds them). After the bare-metal cases come the figures:
# flash and RAM of float32 against int8, and instructions per inference,
# counted by running QEMU with -icount shift=0 (one instruction per nanosecond
# of the board's clocks) and reading the 25 MHz timer 0 around the call (40
# instructions a tick).
# Environment: FW_TIMEOUT (seconds per emulator run, default 120), FW_KEEP=1
# (keep the work directory and print its path).
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh
NET=sp_tiny_cifar
NET_UC=SP_TINY_CIFAR
IN=tests/golden/data/${NET}_in.npy
WANT=tests/golden/data/${NET}_out.npy
WEIGHTS=tests/golden/data/${NET}.safetensors
TIMEOUT=${FW_TIMEOUT:-120}
M4_TOL=1e-5
A64_TOL=1e-4
failed=0

work=$(mktemp -d "${TMPDIR:-/tmp}/spgen-firmware.XXXXXX")
if [ -n "${FW_KEEP:-}" ]; then
  echo "work directory: $work"
else
  trap 'rm -rf "$work"' EXIT
fi

nok() { fail "$1" "$2"; failed=1; }
# 1234567 -> 1,234,567
commas() { echo "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }
# the value of rel= in npycmp's output
rel_of() { echo "$1" | sed -n 's/.*rel=\([^ ]*\).*/\1/p'; }
macro() { sed -n "s/^#define ${NET_UC}_$1 \([0-9]*\).*/\1/p" "$net_h"; }

# Which checks can run here.
m4_missing=""
for t in arm-none-eabi-gcc arm-none-eabi-size qemu-system-arm; do
  command -v "$t" >/dev/null 2>&1 || m4_missing="$m4_missing $t"
done
if [ -z "$m4_missing" ]; then
  case $(arm-none-eabi-gcc -print-file-name=nano.specs) in
    /*) ;;
    *) m4_missing=" newlib (libnewlib-arm-none-eabi)" ;;
  esac
  qemu-system-arm -M help 2>/dev/null | grep -q '^mps2-an386 ' || m4_missing=" qemu-system-arm with the mps2-an386 machine"
fi
a64_missing="" QEMU_A64=""
for t in aarch64-linux-gnu-gcc aarch64-linux-gnu-ar; do
  command -v "$t" >/dev/null 2>&1 || a64_missing="$a64_missing $t"
done
for t in qemu-aarch64 qemu-aarch64-static; do
  command -v "$t" >/dev/null 2>&1 && { QEMU_A64=$t; break; }
done
[ -n "$QEMU_A64" ] || a64_missing="$a64_missing qemu-aarch64"

m3_missing=$m4_missing
if [ -z "$m3_missing" ]; then
  qemu-system-arm -M help 2>/dev/null | grep -q '^mps2-an385 ' || m3_missing=" qemu-system-arm with the mps2-an385 machine"
fi
if [ -n "$m4_missing" ]; then
  for c in firmware/cortex_m4 firmware/cortex_m4_int8; do
    skip $c "missing$m4_missing (run scripts/install-deps.sh firmware as root)"
  done
fi
[ -n "$m3_missing" ] && skip firmware/cortex_m3_int8 "missing$m3_missing (run scripts/install-deps.sh firmware as root)"
if [ -n "$a64_missing" ]; then
  for c in firmware/aarch64_qemu firmware/aarch64_neon; do
    skip $c "missing$a64_missing (run scripts/install-deps.sh firmware as root)"
  done
fi
if [ -n "$m4_missing" ] && [ -n "$a64_missing" ]; then
  exit 0
fi
cases=()
[ -z "$m4_missing" ] && cases+=(firmware/cortex_m4 firmware/cortex_m4_int8)
[ -z "$m3_missing" ] && cases+=(firmware/cortex_m3_int8)
[ -z "$a64_missing" ] && cases+=(firmware/aarch64_qemu firmware/aarch64_neon)
all_fail() { for c in "${cases[@]}"; do nok "$c" "$1"; done; exit 1; }

# Generate once (through the firmware Makefile, which the ELF build reuses)
# and build the host runner on a copy: its output is the "host" reference.
for f in "$SPGEN" "$BUILD/npycmp" "$BUILD/mknpy" "$BUILD/ref_net_q" "$IN" "$WANT" "$WEIGHTS"; do
  [ -e "$f" ] || all_fail "missing $f (run make, and keep tests/golden/data)"
done
if ! make -s -C firmware O="$work/fw" SPGEN="$(realpath "$SPGEN")" "$work/fw/gen.stamp" >"$work/gen.log" 2>&1; then
  all_fail "spgen failed: $(grep -m1 . "$work/gen.log")"
fi
cp -r "$work/fw/gen" "$work/host"
cp -r "$work/fw/gen" "$work/a64"
if ! "$SPGEN" specs/$NET.lua --weights "$WEIGHTS" --simd 4 -o "$work/neon" >"$work/neon.log" 2>&1; then
  all_fail "spgen --simd 4 failed: $(grep -m1 . "$work/neon.log")"
fi
if ! make -s -C "$work/host" CFLAGS="$STRICT_CFLAGS" >"$work/host.log" 2>&1 ||
   ! "$work/host/${NET}_run" "$IN" "$work/host.npy" >>"$work/host.log" 2>&1; then
  all_fail "host runner failed: $(grep -m1 -i error "$work/host.log" || tail -1 "$work/host.log")"
fi
net_h=$work/fw/gen/$NET.h host_npy=$work/host.npy want_label=golden fw_args=()
out_size=$(macro OUT_SIZE)

# bare_metal CASE DIR DTYPE BOARD: firmware/'s ELF for that dtype and board
# (and the make variables fw_args), built in $work/DIR, under QEMU with
# -icount shift=0. Its printed logits (as exact bits) against the expected
# output (float32: $WANT, the $want_label, and the host runner's $host_npy;
# int8: build/ref_net_q, tolerance 0). Leaves the log in $work/DIR.log for
# the figures.
bare_metal() {
  local c=$1 o=$work/$2 dtype=$3 board=$4 log=$work/$2.log rc cmp_g cmp_h hexes n want tol
  if ! make -C firmware O="$o" SPGEN="$(realpath "$SPGEN")" MKNPY="$(realpath "$BUILD/mknpy")" \
       REF_NET_Q="$(realpath "$BUILD/ref_net_q")" DTYPE="$dtype" BOARD="$board" "${fw_args[@]}" >"$o.build.log" 2>&1; then
    nok $c "build failed: $(grep -m1 -i 'error' "$o.build.log" || tail -1 "$o.build.log")"; return
  fi
  timeout "$TIMEOUT" qemu-system-arm -M "mps2-$board" -icount shift=0 -nographic -semihosting \
    -kernel "$o/fw.elf" </dev/null >"$log" 2>&1
  rc=$?
  if [ $rc -eq 124 ]; then nok $c "QEMU timed out after $TIMEOUT s: $(tail -1 "$log")"; return; fi
  # logit[i] = <decimal> 0x<bits>: the bits, written back as a .npy with the
  # golden output's header (same shape, same dtype)
  hexes=$(sed -n 's/^logit\[[0-9]*\] = [^ ]* 0x\([0-9a-f]\{8\}\)$/\1/p' "$log")
  n=$(echo "$hexes" | grep -c .)
  if [ "$n" -ne "$out_size" ]; then
    nok $c "exit $rc, $n of $out_size logits printed: $(grep -m1 -e FAULT -e 'result:' "$log" || tail -1 "$log")"; return
  fi
  {
    head -c -$((4 * out_size)) "$WANT"
    for h in $hexes; do printf "\\x${h:6:2}\\x${h:4:2}\\x${h:2:2}\\x${h:0:2}"; done
  } >"$o.npy"
  if [ "$dtype" = int8 ]; then
    if ! cmp_h=$("$BUILD"/npycmp "$o.npy" "$o/ref_out.npy" 0 2>&1); then
      nok $c "logits differ from build/ref_net_q's: $(echo $cmp_h)"; return
    fi
  else
    if ! cmp_g=$("$BUILD"/npycmp "$o.npy" "$WANT" $M4_TOL 2>&1); then
      nok $c "logits differ from the $want_label: $(echo $cmp_g)"; return
    fi
    if ! cmp_h=$("$BUILD"/npycmp "$o.npy" "$host_npy" $M4_TOL 2>&1); then
      nok $c "logits differ from the host runner: $(echo $cmp_h)"; return
    fi
  fi
  if [ $rc -ne 0 ] || ! grep -q '^result: PASS' "$log"; then
    nok $c "firmware exit status $rc: $(grep -m1 -e FAULT -e 'result:' "$log" || tail -1 "$log")"; return
  fi
  if [ "$dtype" = int8 ]; then
    cmp_g=$("$BUILD"/npycmp "$o.npy" "$WANT" 1 2>&1)
    pass "$c (bit-exact against build/ref_net_q; rel=$(rel_of "$cmp_g") vs the float32 $want_label; exit 0)"
  else
    if [ "$WANT" = "$host_npy" ]; then pass "$c (rel=$(rel_of "$cmp_h") vs host runner, tol=$M4_TOL; exit 0)"
    else pass "$c (rel=$(rel_of "$cmp_g") vs $want_label, rel=$(rel_of "$cmp_h") vs host runner, tol=$M4_TOL; exit 0)"; fi
  fi
  printed+=("$2:$dtype on mps2-$board")
}

# code_of DIR: bytes of the network's code in $work/DIR (text and data of its
# kernel and arena objects).
code_of() {
  arm-none-eabi-size -B "$work/$1/$NET.o" "$work/$1/${NET}_arena.o" | awk 'NR > 1 { s += $1 + $2 } END { print s }'
}

# figures DIR:LABEL...: per build, the ELF's flash (.text + .rodata: everything
# read-only in the code memory) and RAM (.data + .bss + the painted stack's
# high-water mark); of those the network's code (text + data of its kernel and
# arena objects), its weights (its weights object) and its static arena (the
# arena object's .bss); and instructions per inference (timer ticks x 40 under
# -icount shift=0).
figures() {
  local d o text rodata data bss stack code weights arena ticks
  for d in "$@"; do
    o=$work/${d%%:*}
    read -r text rodata data bss < <(arm-none-eabi-size -A "$o/fw.elf" | awk '
      $1 == ".text" { t += $2 } $1 == ".data" { d += $2 } $1 == ".bss" { b += $2 }
      $1 == ".rodata" || $1 ~ /^\.ARM\.ex/ { r += $2 }
      END { print t + 0, r + 0, d + 0, b + 0 }')
    stack=$(sed -n 's/^stack: high-water \([0-9]*\) bytes.*/\1/p' "$o.log")
    code=$(code_of "${d%%:*}")
    weights=$(arm-none-eabi-size -B "$o/${NET}_weights.o" | awk 'NR == 2 { print $1 }')
    arena=$(arm-none-eabi-size -B "$o/${NET}_arena.o" | awk 'NR == 2 { print $3 }')
    ticks=$(sed -n 's/^timer: \([0-9]*\) ticks.*/\1/p' "$o.log")
    echo "  ${d#*:}: flash $(commas $((text + rodata))) (code $(commas "$code"), weights $(commas "$weights"))," \
         "RAM $(commas $((data + bss + stack))) (arena $(commas "$arena"), stack $(commas "$stack"))," \
         "$(commas $((ticks * 40))) instructions per inference"
  done
}

# aarch64_qemu CASE DIR: the runner generated in DIR, under qemu-aarch64.
aarch64_qemu() {
  local c=$1 dir=$work/$2 rc cmp_g cmp_h
  if ! make -s -C "$dir" CC=aarch64-linux-gnu-gcc AR=aarch64-linux-gnu-ar \
       CFLAGS="-std=c99 -O2 -static -Wall -Wextra -Werror -pedantic" >"$dir.log" 2>&1; then
    nok $c "build failed: $(grep -m1 -i error "$dir.log" || tail -1 "$dir.log")"; return
  fi
  timeout "$TIMEOUT" "$QEMU_A64" "$dir/${NET}_run" "$IN" "$dir.npy" >>"$dir.log" 2>&1
  rc=$?
  if [ $rc -eq 124 ]; then nok $c "$QEMU_A64 timed out after $TIMEOUT s"; return; fi
  if [ $rc -ne 0 ]; then nok $c "runner exit $rc under $QEMU_A64: $(tail -1 "$dir.log")"; return; fi
  if ! cmp_g=$("$BUILD"/npycmp "$dir.npy" "$WANT" $A64_TOL 2>&1); then
    nok $c "output differs from the golden: $(echo $cmp_g)"; return
  fi
  cmp_h=$("$BUILD"/npycmp "$dir.npy" "$work/host.npy" $A64_TOL 2>&1)
  pass "$c (rel=$(rel_of "$cmp_g") vs golden, tol=$A64_TOL; rel=$(rel_of "$cmp_h") vs host runner)"
}

printed=()
if [ -z "$m4_missing" ]; then
  bare_metal firmware/cortex_m4 fw float32 an386
  bare_metal firmware/cortex_m4_int8 m4_int8 int8 an386
fi
[ -z "$m3_missing" ] && bare_metal firmware/cortex_m3_int8 m3_int8 int8 an385
[ ${#printed[@]} -gt 0 ] && figures "${printed[@]}"
if [ -z "$a64_missing" ]; then
  aarch64_qemu firmware/aarch64_qemu a64
  aarch64_qemu firmware/aarch64_neon neon
fi

# The paper's sp_resnet20_cifar at -Os on the Cortex-M4F, float32 and int8:
# right (against the host runner's output, or bit for bit against
# build/ref_net_q) and, with layers of the same shape sharing their code, in
# at most 64 KB of code (CODE_LIMIT). Seeded weights, build/mknpy's input.
CODE_LIMIT=65536
if [ -n "$m4_missing" ]; then
  for c in firmware/cortex_m4_resnet20 firmware/cortex_m4_resnet20_int8; do
    skip $c "missing$m4_missing (run scripts/install-deps.sh firmware as root)"
  done
  exit $failed
fi
NET=sp_resnet20_cifar NET_UC=SP_RESNET20_CIFAR
r20=$work/r20
IN=$r20/in.npy WANT=$r20/host.npy host_npy=$r20/host.npy want_label="host runner" net_h=$r20/host/$NET.h
fw_args=(NET=$NET WEIGHTS= IN_NPY="$IN" OUT_NPY="$WANT" OPT=-Os)
if ! mkdir -p "$r20" || ! "$BUILD/mknpy" 7 "$IN" 1 3 32 32 >/dev/null ||
   ! "$SPGEN" specs/$NET.lua -o "$r20/host" >"$r20.log" 2>&1 ||
   ! make -s -C "$r20/host" CFLAGS="$STRICT_CFLAGS" >>"$r20.log" 2>&1 ||
   ! "$r20/host/${NET}_run" "$IN" "$WANT" >>"$r20.log" 2>&1; then
  for c in firmware/cortex_m4_resnet20 firmware/cortex_m4_resnet20_int8; do
    nok $c "host runner failed: $(grep -m1 -i error "$r20.log" || tail -1 "$r20.log")"
  done
  exit 1
fi
out_size=$(macro OUT_SIZE)
printed=()
for dtype in float32 int8; do
  c=firmware/cortex_m4_resnet20$([ $dtype = int8 ] && echo _int8) dir=r20_$dtype
  before=$failed
  bare_metal "$c" "$dir" $dtype an386
  [ "$failed" != "$before" ] && continue
  code=$(code_of "$dir")
  if [ "$code" -gt $CODE_LIMIT ]; then nok "$c/code" "$(commas "$code") bytes of code at -Os, more than $(commas $CODE_LIMIT)"
  else pass "$c/code ($(commas "$code") bytes of code at -Os, at most $(commas $CODE_LIMIT))"; fi
done
[ ${#printed[@]} -gt 0 ] && figures "${printed[@]}"
exit $failed
