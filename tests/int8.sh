#!/usr/bin/env bash
# --dtype int8 (docs/int8.md): the calibration file's errors and the
# options int8 needs or excludes (exact message, exit code, nothing written).
set -u
. "$(dirname "$0")/lib.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/spgen-int8.XXXXXX")
trap 'rm -rf "$work"' EXIT

cat > "$work/net.lua" <<'SPEC'
local net = network { name = "q", input = { 8, 6, 6 } }
return output(relu(spconv(net.input, { out = 8, name = "sp" })))
SPEC

# npy OUT DESCR SHAPE DATA_BYTES: a version-1 .npy header for that dtype and
# shape (text as numpy writes it), then DATA_BYTES zero bytes
npy() {
  local hdr="{'descr': '$2', 'fortran_order': False, 'shape': $3, }"
  local len=$(( (10 + ${#hdr} + 1 + 63) / 64 * 64 - 10 ))
  { printf '\x93NUMPY\x01\x00'
    printf "\\x$(printf %02x $((len & 255)))\\x$(printf %02x $((len >> 8)))"
    printf '%-*s\n' $((len - 1)) "$hdr"
    head -c "$4" /dev/zero; } > "$1"
}
# poke FILE DATA_BYTES FLOAT_INDEX BYTES: overwrites float FLOAT_INDEX of the
# data (the file's last DATA_BYTES)
poke() {
  printf "$4" | dd of="$1" bs=1 seek=$(($(stat -c %s "$1") - $2 + 4 * $3)) conv=notrunc status=none
}

# refuses NAME CODE MESSAGE ARGS...: spgen exits CODE with exactly MESSAGE on
# stderr, and neither $work/out nor $work/plan.txt appears
refuses() {
  local name=$1 code=$2 want=$3; shift 3
  rm -rf "$work/out" "$work/plan.txt"
  $SPGEN "$work/net.lua" -o "$work/out" --plan "$work/plan.txt" "$@" >/dev/null 2>"$work/stderr"
  local rc=$? got; got=$(head -c 600 "$work/stderr")
  if [ $rc -ne "$code" ]; then fail "int8/$name" "exit $rc, expected $code: $got"
  elif [ "$code" = 1 ] && [ "$got" != "$want" ]; then fail "int8/$name" "message '$got', expected '$want'"
  elif [ "$code" = 2 ] && [ "$(head -n 1 "$work/stderr")" != "$want" ]; then
    fail "int8/$name" "message '$got', expected '$want' first"
  elif [ -e "$work/out" ] || [ -e "$work/plan.txt" ]; then fail "int8/$name" "something was written"
  else pass "int8/$name"; fi
}

c=$work/calib.npy
"$BUILD/mknpy" 1 "$c" 2 8 6 6
refuses no_calibration 2 "spgen: --dtype int8 needs --calibration CALIB.npy" --dtype int8
refuses calibration_without_int8 2 "spgen: --calibration is only for --dtype int8" --calibration "$c"
refuses simd 2 "spgen: --dtype int8 has portable C only: --simd must be 0" --dtype int8 --calibration "$c" --simd 8
refuses target 2 "spgen: --dtype int8 has the C backend only: --target must be c" --dtype int8 --calibration "$c" --target all
refuses dump_without_int8 2 "spgen: --dump-int8 is only for --dtype int8" --dump-int8 "$work/model.txt"
refuses percentile_without_int8 2 "spgen: --calibration-percentile is only for --dtype int8" --calibration-percentile 99
refuses percentile_range 2 "spgen: --calibration-percentile needs a number P, 0 < P < 100: 100" --dtype int8 \
  --calibration "$c" --calibration-percentile 100
refuses percentile_text 2 "spgen: --calibration-percentile needs a number P, 0 < P < 100: 99x" --dtype int8 \
  --calibration "$c" --calibration-percentile 99x
refuses bad_dtype 2 "spgen: --dtype must be float32 or int8: int4" --dtype int4

"$BUILD/mknpy" 1 "$work/shape.npy" 2 8 5 6
refuses shape_mismatch 1 "$work/shape.npy: shape (2, 8, 5, 6) does not match the network input (N, 8, 6, 6)" \
  --dtype int8 --calibration "$work/shape.npy"
"$BUILD/mknpy" 1 "$work/rank.npy" 8 6 6
refuses rank_mismatch 1 "$work/rank.npy: shape (8, 6, 6) does not match the network input (N, 8, 6, 6)" \
  --dtype int8 --calibration "$work/rank.npy"
npy "$work/nan.npy" '<f4' '(2, 8, 6, 6)' $((4 * 576))
poke "$work/nan.npy" $((4 * 576)) $((288 + 2 * 36 + 3 * 6 + 4)) '\x00\x00\xc0\x7f'
refuses nan 1 "$work/nan.npy: sample 1 holds NaN at (2, 3, 4)" --dtype int8 --calibration "$work/nan.npy"
npy "$work/inf.npy" '<f4' '(2, 8, 6, 6)' $((4 * 576))
poke "$work/inf.npy" $((4 * 576)) 5 '\x00\x00\x80\xff'
refuses inf 1 "$work/inf.npy: sample 0 holds -Inf at (0, 0, 5)" --dtype int8 --calibration "$work/inf.npy"
: > "$work/empty.npy"
refuses empty_file 1 "$work/empty.npy: empty file" --dtype int8 --calibration "$work/empty.npy"
npy "$work/none.npy" '<f4' '(0, 8, 6, 6)' 0
refuses no_samples 1 "$work/none.npy: empty: shape (0, 8, 6, 6) holds no sample" --dtype int8 --calibration "$work/none.npy"
npy "$work/short.npy" '<f4' '(2, 8, 6, 6)' 1000
refuses truncated 1 "$work/short.npy: truncated: shape (2, 8, 6, 6) needs 2304 bytes of data, the file has 1000" \
  --dtype int8 --calibration "$work/short.npy"
head -c 40 "$work/nan.npy" > "$work/cut.npy"
refuses truncated_header 1 "$work/cut.npy: truncated .npy header" --dtype int8 --calibration "$work/cut.npy"
npy "$work/long.npy" '<f4' '(1, 8, 6, 6)' 1200
refuses trailing 1 "$work/long.npy: 48 bytes past the data of shape (1, 8, 6, 6)" --dtype int8 --calibration "$work/long.npy"
npy "$work/f8.npy" '<f8' '(1, 8, 6, 6)' $((8 * 288))
refuses dtype 1 "$work/f8.npy: dtype must be little-endian float32 ('<f4'), not '<f8'" \
  --dtype int8 --calibration "$work/f8.npy"
echo 'not numpy at all' > "$work/text.npy"
refuses not_npy 1 "$work/text.npy: not a .npy file" --dtype int8 --calibration "$work/text.npy"
refuses missing 1 "$work/nope.npy: cannot open: No such file or directory" --dtype int8 --calibration "$work/nope.npy"
mkfifo "$work/fifo.npy"
refuses fifo 1 "$work/fifo.npy: not a regular file (it is a FIFO)" --dtype int8 --calibration "$work/fifo.npy"

# bitexact NAME SEED SPEC ARGS...: the int8 build (strict flags, ASan and
# UBSan) and build/ref_net_q on its model file
# (--dump-int8) give the same output, bit for bit, on a random input; the
# calibration is 8 random samples (seed SEED) of the input's shape. Its
# memory plan passes plan_check, its C the contract checker. Leaves the
# build in $work/NAME.
bitexact() {
  local name=$1 seed=$2 spec=$3; shift 3
  local d=$work/$name net shape
  mkdir -p "$d"
  if ! $SPGEN "$spec" -o "$d/f32" "$@" >/dev/null 2>"$d/err"; then fail "int8/$name" "float32: $(head -c 300 "$d/err")"; return; fi
  net=$(basename "$(ls "$d"/f32/*_main.c)" _main.c)
  shape=$(for k in BATCH IN_C IN_H IN_W; do awk -v k="#define ${net^^}_$k" 'index($0, k " ") == 1 { print $3 }' "$d/f32/$net.h"; done)
  set -- "$@" --dtype int8 --calibration "$d/calib.npy" -o "$d/q" --dump-int8 "$d/model.txt" --plan "$d/plan.txt"
  "$BUILD/mknpy" "$seed" "$d/calib.npy" 8 $(echo $shape | cut -d' ' -f2-) >/dev/null
  "$BUILD/mknpy" $((seed + 1)) "$d/in.npy" $shape >/dev/null
  if ! $SPGEN "$spec" "$@" >/dev/null 2>"$d/err"; then fail "int8/$name" "spgen: $(head -c 300 "$d/err")"
  elif ! "$BUILD/plan_check" "$d/plan.txt" >"$d/err" 2>&1; then fail "int8/$name" "plan: $(tail -c 300 "$d/err")"
  elif ! "$BUILD/contract_check" "$d/q/$net.c" "$d/q/${net}_weights.c" "$d/q/${net}_arena.c" >"$d/err" 2>&1; then
    fail "int8/$name" "contract: $(head -c 300 "$d/err")"
  elif ! make -s -C "$d/q" CFLAGS="$STRICT_CFLAGS $SAN_CFLAGS" >"$d/err" 2>&1; then
    fail "int8/$name" "build: $(head -c 300 "$d/err")"
  elif ! "$d/q/${net}_run" "$d/in.npy" "$d/got.npy" 2>"$d/err"; then fail "int8/$name" "run: $(head -c 300 "$d/err")"
  elif ! "$BUILD/ref_net_q" "$d/model.txt" "$d/in.npy" "$d/want.npy" 2>"$d/err"; then fail "int8/$name" "reference: $(head -c 300 "$d/err")"
  elif ! "$BUILD/npycmp" "$d/got.npy" "$d/want.npy" 0 >"$d/err" 2>&1; then fail "int8/$name" "not bit-exact: $(head -c 300 "$d/err")"
  else pass "int8/$name"; fi
}
bitexact conv_layer 11 specs/conv_layer.lua --set cin=8 --set out=12 --set size=9 --batch 2
bitexact spconv_layer 12 specs/spconv_layer.lua --set cin=16 --set out=16 --set size=10
bitexact spconv_layer_s2 13 specs/spconv_layer.lua --set cin=24 --set out=21 --set size=8 --set stride=2 --set ratio=0.25 --set groups=3 --batch 2
bitexact spconv_layer_fixed 14 specs/spconv_layer.lua --set cin=16 --set out=16 --set size=10 --attention fixed
bitexact spconv_layer_all_bias 15 specs/spconv_layer.lua --set cin=12 --set out=8 --set size=6 --set bias=all --set bn=0
bitexact sp_tiny_cifar 16 specs/sp_tiny_cifar.lua --set size=16
bitexact sp_tiny_cifar_fixed 17 specs/sp_tiny_cifar.lua --set size=16 --batch 2 --attention fixed
bitexact sp_resnet20_cifar 18 specs/sp_resnet20_cifar.lua --set size=8
bitexact sp_vgg16_cifar 19 specs/sp_vgg16_cifar.lua
for g in softmax_4d softmax_big linear_softmax flatten_bn_linear avgpool_k3s2p1 avgpool_k3s2p1_excl avgpool_excl_inner \
         maxpool_k3s2p1 add_two_convs bn_relu_input conv_k5s2p2g4_bias gap_standalone shortcut_a_block spconv_res_gap; do
  bitexact "golden_$g" 20 "tests/golden/$g.lua"
done
# With INT8_ZOO set (make test-full), every zoo network at batch 1 and 2
# (reduced sizes where full size would be slow, as tests/zoo.sh does)
if [ -n "${INT8_ZOO:-}" ]; then
  for net in sp_resnet18_cifar resnet18_cifar sp_resnet20_cifar sp_tiny_cifar sp_vgg16_cifar sp_resnet18 sp_resnet50 \
             spconv_layer conv_layer; do
    size=16
    case $net in sp_vgg16_cifar|sp_resnet18|sp_resnet50) size=32 ;; esac
    for batch in 1 2; do bitexact "zoo_${net}_b$batch" 30 "specs/$net.lua" --set size=$size --batch $batch; done
  done
fi

# SPConv layers from the float layer grid's generator (tests/layer_grid.sh:
# odd channel counts and splits, ratios, groups, strides, sizes, batches 1
# to 3, both bias variants and namings, with and without batchnorm and
# relu), INT8_GRID of them (default 12), in the other attention form every
# second one
i=0
while read -r name _ cin out h w batch ratio groups stride bias naming bn relu seed _; do
  form=float; [ $((i % 2)) = 1 ] && form=fixed
  bitexact "${name%_v*}_$form" "$seed" tests/specs/layer.lua --set cin="$cin" --set out="$out" --set h="$h" \
    --set w="$w" --set batch="$batch" --set ratio="$ratio" --set groups="$groups" --set stride="$stride" \
    --set bias="$bias" --set naming="$naming" --set bn="$bn" --set relu="$relu" --set seed="$seed" --attention "$form"
  i=$((i + 1))
done < <(bash "$(dirname "$0")/layer_grid.sh" --list "${INT8_GRID:-12}")

# The float attention and softmax round every operation as written
# (docs/int8.md, 5.4): gcc fuses no multiply-add in them even when told to
# fuse and the CPU has the instruction (without the emitted attribute it
# fuses a dozen). Too rare to show in the outputs above.
if echo | gcc -march=native -dM -E - 2>/dev/null | grep -Eq '__FMA__|__ARM_FEATURE_FMA'; then
  for net in sp_tiny_cifar golden_softmax_big; do
    c=$(ls "$work/$net/q/"*_weights.c) c=${c%_weights.c}.c
    gcc -O2 -march=native -ffp-contract=fast -S -o "$work/$net.s" "$c" 2>"$work/err"
    fused=$(grep -Ec '\s(v?fn?madd|v?fn?msub|fmla|fmls)[a-z0-9]*\s' "$work/$net.s")
    if [ "$fused" = 0 ]; then pass "int8/no_fma_$net"; else fail "int8/no_fma_$net" "$fused fused multiply-adds: $(head -c 200 "$work/err")"; fi
  done
else
  skip "int8/no_fma" "the CPU has no fused multiply-add"
fi

# The bit-exact cases check the kernels against the model file the
# generator wrote; this checks what it wrote, its scales and weights,
# against the float32 build: at most 5% of the output's largest magnitude
# (measured 0.6% to 3.2% on these networks: a few output steps of 1/255 of
# the range, more where the attention amplifies an input step).
near_float() {
  local name=$1 d=$work/$1
  make -s -C "$d/f32" >/dev/null 2>&1 && "$d/f32/$(basename "$(ls "$d"/f32/*_main.c)" _main.c)_run" "$d/in.npy" "$d/float.npy" &&
    "$BUILD/npycmp" "$d/got.npy" "$d/float.npy" 0.05 >"$d/err" 2>&1
  if [ $? -eq 0 ]; then pass "int8/near_float_$name"; else fail "int8/near_float_$name" "$(head -c 300 "$d/err")"; fi
}
near_float spconv_layer
near_float sp_tiny_cifar

# the same samples give the same files
a=$work/same_a b=$work/same_b
$SPGEN specs/sp_tiny_cifar.lua --set size=16 --dtype int8 --calibration "$work/sp_tiny_cifar/calib.npy" -o "$a" >/dev/null &&
  $SPGEN specs/sp_tiny_cifar.lua --set size=16 --dtype int8 --calibration "$work/sp_tiny_cifar/calib.npy" -o "$b" >/dev/null
if diff -r "$a" "$b" >/dev/null; then pass "int8/deterministic"; else fail "int8/deterministic" "two runs differ"; fi

# --summary gives the int8 build's bytes: for the firmware network at 32x32
# the arena is at most 30% of float32's, the weights at most 35% (the int8
# weights and 44 bytes of int32 and float constants per SPConv channel)
"$BUILD/mknpy" 5 "$work/calib32.npy" 2 3 32 32 >/dev/null
f32=$($SPGEN specs/sp_tiny_cifar.lua -o "$work/s32" --summary | grep '^total:')
q8=$($SPGEN specs/sp_tiny_cifar.lua --dtype int8 --calibration "$work/calib32.npy" -o "$work/s8" --summary | grep '^total:')
w32=${f32##*weight_bytes=} w8=${q8##*weight_bytes=} a32=${f32##*arena_bytes=} a8=${q8##*arena_bytes=}
a32=${a32%% *} a8=${a8%% *}
if [ "$w8" = "$(stat -c %s "$work/s8/sp_tiny_cifar_weights.bin")" ] && [ $((100 * w8)) -le $((35 * w32)) ] &&
   [ $((100 * a8)) -le $((30 * a32)) ]; then pass "int8/summary_bytes"
else fail "int8/summary_bytes" "int8 weights $w8, arena $a8 bytes against float32 $w32, $a32"; fi

# --calibration-percentile P: the input's range from the sorted values -49 ..
# 50 (shuffled) at P = 75: v[74] = 25 and v[25] = -24, so the scale is
# float32(49 / 255) and the zero point round(-128 + 24 / scale) = -3
# (docs/int8.md, section 3); at P = 99.99999 the ends are the smallest and
# largest values, the files those of the default
cat > "$work/pct.lua" <<'SPEC'
local net = network { name = "pct", input = { 1, 10, 10 } }
return output(conv2d(net.input, { out = 2, k = 3, name = "conv" }))
SPEC
"$BUILD/mkfix" npy "$work/pct.npy" 1x1x10x10 v:42,-47,-19,-16,9,19,36,-42,25,-20,1,4,38,-10,49,43,35,12,29,-41,32,-24,26,-3,-21,-44,-8,28,-34,2,-7,-27,-13,-11,-12,14,47,-28,-45,16,31,8,-23,23,27,-30,-25,5,-5,-38,46,-9,-6,-15,-37,21,-31,41,6,-39,13,22,50,15,-49,17,-33,7,-32,-40,37,0,-26,-14,3,-22,-48,33,24,-36,20,-1,40,11,-2,-35,-29,-43,44,-18,10,-46,18,34,48,39,-4,45,-17,30 >/dev/null
$SPGEN "$work/pct.lua" --dtype int8 --calibration "$work/pct.npy" --calibration-percentile 75 -o "$work/pct75" >/dev/null
got=$(grep -E '^#define PCT_IN_(SCALE|ZERO_POINT) ' "$work/pct75/pct.h" | awk '{ print $3 }' | tr '\n' ' ')
if [ "$got" = "0.192156866f (-3) " ]; then pass "int8/percentile"; else fail "int8/percentile" "input scale and zero point: $got"; fi
$SPGEN "$work/pct.lua" --dtype int8 --calibration "$work/pct.npy" --calibration-percentile 99.99999 -o "$work/pct_all" >/dev/null
$SPGEN "$work/pct.lua" --dtype int8 --calibration "$work/pct.npy" -o "$work/pct_minmax" >/dev/null
if diff -r "$work/pct_all" "$work/pct_minmax" >/dev/null && ! diff -q "$work/pct75/pct.h" "$work/pct_minmax/pct.h" >/dev/null
then pass "int8/percentile_ends"; else fail "int8/percentile_ends" "P = 99.99999 differs from min/max, or P = 75 does not"; fi

# the overflow proof: 66,564 weights of 127 after quantization, times 255,
# pass 2^31 - 1 in the linear layer's int32 accumulator
cat > "$work/big.lua" <<'SPEC'
local net = network { name = "big", input = { 1, 258, 258 }, weights = "big.safetensors" }
return output(linear(flatten(net.input), { out = 1, name = "fc" }))
SPEC
"$BUILD/mkfix" st "$work/big.safetensors" fc.weight 1x66564 c:0.5 fc.bias 1 c:0 >/dev/null
"$BUILD/mknpy" 1 "$work/big.npy" 1 1 258 258 >/dev/null
cp "$work/big.lua" "$work/net.lua"
refuses overflow 1 "$work/net.lua:2: linear 'fc': --dtype int8: the accumulator of output channel 0 could overflow int32 (bound 2155675140 > 2^31 - 1)" \
  --dtype int8 --calibration "$work/big.npy" --weights "$work/big.safetensors"
