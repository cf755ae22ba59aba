#!/usr/bin/env bash
# The profiling hooks of the emitted C (<NAME>_LAYER_BEGIN/_END): defined
# by the user when compiling the network, they must be called once per layer,
# in order, BEGIN(i, "name") then END(i), for i = 1.. <NAME>_LAYERS, with the
# numbers and names of the layer comments. Every op kind at --simd 0, and a
# SPConv network at --simd 16 (its vector kernels), strict flags, ASan/UBSan.
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh
work=$(mktemp -d "${TMPDIR:-/tmp}/spgen-hooks.XXXXXX")
trap 'rm -rf "$work"' EXIT
cat >"$work/driver.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
static int open_layer; /* the layer begun and not yet ended; 0: none */
static void hook_begin(int i, const char *name)
{
    if (open_layer) {
        printf("BEGIN(%d) inside layer %d\n", i, open_layer);
        exit(1);
    }
    open_layer = i;
    printf("%d %s\n", i, name);
}
static void hook_end(int i)
{
    if (i != open_layer) {
        printf("END(%d) after BEGIN(%d)\n", i, open_layer);
        exit(1);
    }
    open_layer = 0;
}
#include NET_C
static float in[IN_SIZE], out[OUT_SIZE];
int main(void)
{
    int rc = RUN(in, out);
    printf("layers %d, run %d, open %d\n", LAYERS, rc, open_layer);
    return 0;
}
EOF
# case NAME SPEC SPGEN-OPTIONS...
case_() {
  local name=$1 spec=$2 dir=$work/$1 net NET; shift 2
  if ! $SPGEN "$spec" -o "$dir" "$@" >"$work/$name.log" 2>&1; then
    fail "hooks/$name" "spgen: $(tail -1 "$work/$name.log")"; return
  fi
  net=$(basename "$(ls "$dir"/*_weights.c)" _weights.c) NET=$(echo "$net" | tr a-z A-Z)
  # the numbers and names of the layer comments at the top of NAME.c
  awk '$0 == "*/" { exit }
       /^ \* layer [0-9]+: / { i = $3; sub(/:$/, "", i); name = $4; sub(/:$/, "", name)
                               if ($5 ~ /^\047/) { name = $5; gsub(/\047/, "", name) } print i, name; n++ }
       END { printf "layers %d, run 0, open 0\n", n }' "$dir/$net.c" >"$work/$name.want"
  if ! gcc $STRICT_CFLAGS $SAN_CFLAGS -I"$dir" -Wa,-I"$dir" -DNET_C="\"$dir/$net.c\"" -DRUN=${net}_run \
       -DIN_SIZE=${NET}_IN_SIZE -DOUT_SIZE=${NET}_OUT_SIZE -DLAYERS=${NET}_LAYERS \
       "-D${NET}_LAYER_BEGIN(i, name)=hook_begin(i, name)" "-D${NET}_LAYER_END(i)=hook_end(i)" \
       -o "$dir/driver" "$work/driver.c" "$dir/${net}_weights.c" "$dir/${net}_arena.c" -lm >>"$work/$name.log" 2>&1; then
    fail "hooks/$name" "build: $(grep -m1 error "$work/$name.log")"; return
  fi
  if ! "$dir/driver" >"$work/$name.got" 2>>"$work/$name.log"; then
    fail "hooks/$name" "run: $(tail -1 "$work/$name.got")"
  elif ! d=$(diff "$work/$name.want" "$work/$name.got"); then
    fail "hooks/$name" "calls differ from the layer comments: $(head -4 <<<"$d" | tr '\n' ' ')"
  else
    pass "hooks/$name ($(tail -1 "$work/$name.got"))"
  fi
}
case_ every_op_simd0 tests/snapshots/specs/every_op.lua --simd 0
case_ sp_tiny_cifar_simd16 specs/sp_tiny_cifar.lua --simd 16
