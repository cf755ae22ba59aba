#!/bin/sh
# tests/ref/test_ref_q.sh - the int8 reference (docs/int8.md): its arithmetic,
# its model files and its SPConv against the fp32 reference.
#
#   sh tests/ref/test_ref_q.sh [BUILD_DIR]   (default: build; needs make ref-tools)
#
# 1. build/asan/test_int8_ref: the primitives and operators against values
#    computed by hand (ASan and UBSan).
# 2. a model file using every operation but spconv and softmax, with a result
#    worked out by hand in the comments below.
# 3. SPConv layers (tests/ref/spconv_q_model.awk) folded and quantized as the
#    contract says, run by build/asan/ref_net_q, against build/ref_spconv on
#    the dequantized input: within TOL_LSB output steps, in both attention
#    forms; the two forms within 2 steps of each other; batch rows bit-exact
#    against the samples run alone; float input quantized as <name>_run does.
# 4. bad model files and command lines: exit status and message.
# Prints one `PASS int8ref/<case>` or `FAIL int8ref/<case>: why` line per case;
# exits 0 iff all pass. Needs only a POSIX sh, awk, cat, cmp, grep, mktemp,
# od, sed, tail and tr.

B=${1:-build}
H=$(dirname "$0")
for t in asan/test_int8_ref asan/ref_net_q ref_spconv mkfix; do
    if [ ! -x "$B/$t" ]; then
        echo "FAIL int8ref/setup: $B/$t not built (run: make ref-tools)"
        exit 1
    fi
done
Q=$B/asan/ref_net_q
T=$(mktemp -d "${TMPDIR:-/tmp}/test_ref_q.XXXXXX") || { echo "FAIL int8ref/setup: mktemp"; exit 1; }
trap 'rm -rf "$T"' EXIT INT TERM
# shellcheck disable=SC2034 # read by ref_lib.sh
REF_PREFIX=int8ref
# shellcheck source=tests/ref/ref_lib.sh
. "$H/ref_lib.sh"
# the N float32 values at the end of an .npy, one a line
values() { tail -c $((4 * $2)) "$1" | od -An -v -tf4 | tr -s ' ' '\n' | sed '/^$/d'; }

# ---------------------------------------------------------------------------
# 1. the unit tests
"$B/asan/test_int8_ref" > "$T/unit.out" 2>&1
st=$?
cat "$T/unit.out"
npass=$((npass + $(grep -c '^PASS ' "$T/unit.out")))
nfail=$((nfail + $(grep -c '^FAIL ' "$T/unit.out")))
if [ $st -ne 0 ] && ! grep -q '^FAIL ' "$T/unit.out"; then
    fail unit "test_int8_ref exited $st without a FAIL line"
fi

# ---------------------------------------------------------------------------
# 2. every_op: scales 1, zero points 0 but where said.
#    in [-3 5; 2 -1] -> relu [0 5; 2 0] -> avgpool 2: 7/4 -> 2
#    in -> maxpool 2: 5;  add: 2 + 5 = 7;  shortcut_a: [0 7 0]
#    conv2d 1x1, wscale 0.5: (2*0 + 1) / 2 = 0.5 -> 1, (4*7 + 6*0 - 3) / 2 = 12.5 -> 13
#    global_avgpool, flatten: [1 13];  linear [1 1; 1 -1]: [14 -12]
#    softmax of [14 -12] at scale 1/8 (tensor 10 -> 11): 3.25 apart, e^-3.25 = 0.03877:
#    p = [0.96268 0.03732] -> floor(256 p + 1/2) - 128 = [118 -118], shaped [1, 2]
cat > "$T/every_op.txt" <<'EOF'
spgen-int8 1
network every_op attention float
tensor 0 1 2 2 1 0
tensor 1 1 2 2 1 0   # relu keeps the input's parameters
tensor 2 1 1 1 1 0
tensor 3 1 1 1 1 0
tensor 4 1 1 1 1 0
tensor 5 3 1 1 1 0
tensor 6 2 1 1 1 0
tensor 7 2 1 1 1 0
tensor 8 2 1 1 1 0
tensor 9 2 1 1 1 0
tensor 10 2 1 1 0.125 0
tensor 11 2 1 1 0x1p-8 -128
input 0
relu r in 0 out 1
avgpool ap in 1 out 2 k 2 stride 2 pad 0 include_pad 1
maxpool mp in 0 out 3 k 2 stride 2 pad 0
add sum a 2 b 3 out 4 relu 0
shortcut_a sc in 4 out 5 stride 1
conv2d cv in 5 out 6 k 1 stride 1 pad 0 groups 1 relu 1
  weights 6 2 0 0  0 4 6
  bias 2 1 -3
  wscale 2 0.5 0.5
global_avgpool gap in 6 out 7
flatten fl in 7 out 8
linear fc in 8 out 9 relu 0
  weights 4 1 1 1 -1
  bias 2 0 0
  wscale 2 1 1
conv2d scale8 in 9 out 10 k 1 stride 1 pad 0 groups 2 relu 0
  weights 2 1 1 bias 2 0 0 wscale 2 0.125 0.125
softmax sm in 10 out 11
output 11
end
EOF
# (tensor 10 is [14 -12] in steps of 1/8: a depthwise 1x1 with multiplier
# 1 * 0.125 / 0.125 = 1)
if ! "$B/mkfix" npy "$T/every_in.npy" 1x1x2x2 v:-3,5,2,-1 > "$T/err" 2>&1 ||
    ! "$Q" --raw "$T/every_op.txt" "$T/every_in.npy" "$T/every_out.npy" 2> "$T/err"; then
    fail every_op "ref_net_q failed: $(oneline "$T/err")"
elif [ -s "$T/err" ]; then
    fail every_op "ref_net_q wrote to stderr: $(oneline "$T/err")"
elif ! "$B/mkfix" npy "$T/every_want.npy" 1x2 v:118,-118 > "$T/err" 2>&1 ||
    ! cmp -s "$T/every_out.npy" "$T/every_want.npy"; then
    fail every_op "got $(values "$T/every_out.npy" 2 | tr '\n' ' ')(want 118 -118 shaped [1, 2])"
else
    pass every_op
fi

# ---------------------------------------------------------------------------
# 3. SPConv against the fp32 reference
# measured: 1.15 to 2.56 steps (weight rounding; the input is exact), the same in both forms
TOL_LSB=3
# spcase NAME "CIN COUT H W BATCH RATIO GROUPS STRIDE BIAS BN RELU SEED"
spcase() {
    c=$1 d=$T/$1
    # shellcheck disable=SC2086 # the layer's numbers become $1 .. $12
    set -- $2
    mkdir -p "$d"
    if ! awk -f "$H/spconv_q_model.awk" -v dir="$d" -v cin="$1" -v cout="$2" -v h="$3" -v w="$4" -v batch="$5" \
        -v ratio="$6" -v groups="$7" -v stride="$8" -v bias="$9" -v bn="${10}" -v relu="${11}" -v seed="${12}" \
        2> "$d/err"; then
        fail "spconv/$c" "model: $(oneline "$d/err")"
        return
    fi
    ho=$((($3 - 1) / $8 + 1)) wo=$((($4 - 1) / $8 + 1))
    n=$(($5 * $2 * ho * wo))
    bnopt=
    [ "${10}" = 1 ] && bnopt="--bn after"
    [ "${11}" = 1 ] && bnopt="$bnopt --relu"
    # shellcheck disable=SC2046,SC2086
    if ! "$B/mkfix" st "$d/w.st" $(cat "$d/args") > "$d/err" 2>&1 ||
        ! "$B/mkfix" npy "$d/in_real.npy" "$5x$1x$3x$4" "f:$d/in_real.txt" > "$d/err" 2>&1 ||
        ! "$B/mkfix" npy "$d/in_raw.npy" "$5x$1x$3x$4" "f:$d/in_raw.txt" > "$d/err" 2>&1 ||
        ! "$B/ref_spconv" --cin "$1" --cout "$2" --h "$3" --w "$4" --batch "$5" --ratio "$6" --groups "$7" \
            --stride "$8" --bias "$9" --naming torch --name L $bnopt "$d/w.st" "$d/in_real.npy" "$d/ref.npy" \
            > "$d/err" 2>&1; then
        fail "spconv/$c" "fp32 reference: $(oneline "$d/err")"
        return
    fi
    values "$d/ref.npy" $n > "$d/ref.txt"
    # the output's parameters from its fp32 range (docs/int8.md, section 3),
    # the scale a multiple of 2^-24 (so that awk computes in float32's values)
    awk -v co="$2" -v ho=$ho -v wo=$wo 'NR == 1 { lo = $1; hi = $1 } { if ($1 < lo) lo = $1; if ($1 > hi) hi = $1 }
        END { if (lo > 0) lo = 0; if (hi < 0) hi = 0; s = int((hi - lo) / 255 * 16777216 + 0.5) / 16777216
              z = -128 - lo / s
              z = z < 0 ? -int(-z + 0.5) : int(z + 0.5); if (z < -128) z = -128; if (z > 127) z = 127
              printf "tensor 1 %d %d %d %.17g %d\n", co, ho, wo, s, z }' "$d/ref.txt" > "$d/out_tensor.txt"
    for att in float fixed; do
        { echo "spgen-int8 1"; echo "network $c attention $att"; cat "$d/out_tensor.txt" "$d/body.txt"
          echo "output 1"; echo end; } > "$d/$att.txt"
        if ! "$Q" --raw "$d/$att.txt" "$d/in_raw.npy" "$d/q_$att.npy" 2> "$d/err"; then
            fail "spconv/$c/$att" "ref_net_q failed: $(oneline "$d/err")"
            continue
        fi
        values "$d/q_$att.npy" $n > "$d/q_$att.txt"
        # worst |dequantized - fp32| in output steps
        worst=$(awk -v t="$d/out_tensor.txt" 'BEGIN { getline l < t; split(l, f, " "); s = f[6]; z = f[7] }
            NR == FNR { r[FNR] = $1; next } { e = s * ($1 - z) - r[FNR]; if (e < 0) e = -e; if (e / s > m) m = e / s }
            END { printf "%.2f\n", m }' "$d/ref.txt" "$d/q_$att.txt")
        if awk -v m="$worst" -v tol=$TOL_LSB 'BEGIN { exit !(m <= tol) }'; then
            pass "spconv/$c/$att"
        else
            fail "spconv/$c/$att" "dequantized output $worst steps from the fp32 reference (tolerance $TOL_LSB)"
        fi
    done
    if [ -f "$d/q_float.txt" ] && [ -f "$d/q_fixed.txt" ]; then
        diff=$(awk 'NR == FNR { a[FNR] = $1; next } { e = a[FNR] - $1; if (e < 0) e = -e; if (e > m) m = e }
            END { print m + 0 }' "$d/q_float.txt" "$d/q_fixed.txt")
        if [ "$diff" -le 2 ]; then
            pass "spconv/$c/float_vs_fixed"
        else
            fail "spconv/$c/float_vs_fixed" "the attention forms differ by $diff steps"
        fi
    fi
}
spcase s1_g2_official_bn_relu "8 6 5 4 2 0.5 2 1 official 1 1 11"
spcase s2_g3_all "6 6 6 4 1 0.5 3 2 all 0 0 12"
spcase s1_odd_r03_g1_bn "7 5 3 7 1 0.3 1 1 official 1 0 13"
spcase s2_g2_all_bn_negative "12 4 4 6 2 0.25 1 2 all 1 0 14"
spcase s1_c96_bn_relu "96 32 8 8 1 0.5 2 1 official 1 1 15"

# batch rows: the batch-2 layer's two samples alone give the same bytes
d=$T/s1_g2_official_bn_relu
if [ -f "$d/float.txt" ] && [ -f "$d/q_float.npy" ]; then
    head -n 160 "$d/in_raw.txt" > "$d/a.txt"
    tail -n 160 "$d/in_raw.txt" > "$d/b.txt"
    "$B/mkfix" npy "$d/a.npy" 1x8x5x4 "f:$d/a.txt" > /dev/null && "$B/mkfix" npy "$d/b.npy" 1x8x5x4 "f:$d/b.txt" > /dev/null &&
    "$Q" --raw "$d/float.txt" "$d/a.npy" "$d/o_a.npy" && "$Q" --raw "$d/float.txt" "$d/b.npy" "$d/o_b.npy"
    tail -c $((4 * 2 * 120)) "$d/q_float.npy" > "$d/ab.bin"
    { tail -c $((4 * 120)) "$d/o_a.npy"; tail -c $((4 * 120)) "$d/o_b.npy"; } > "$d/a_b.bin"
    if ! cmp -s "$d/ab.bin" "$d/a_b.bin"; then
        fail batch_rows "batch-2 rows differ from the two batch-1 runs"
    elif cmp -s "$d/o_a.npy" "$d/o_b.npy"; then
        fail batch_rows "two different samples gave the same output"
    else
        pass batch_rows
    fi
    # the float input path: the dequantized input quantizes back to the same
    # int8 values, so the output is scale * (q - zero_point) of the raw run's
    awk -v t="$d/out_tensor.txt" 'BEGIN { getline l < t; split(l, f, " "); s = f[6]; z = f[7] }
        { printf "%.17g\n", s * ($1 - z) }' "$d/q_float.txt" > "$d/deq_want.txt"
    "$B/mkfix" npy "$d/deq_want.npy" 2x6x5x4 "f:$d/deq_want.txt" > /dev/null
    if ! "$Q" "$d/float.txt" "$d/in_real.npy" "$d/deq.npy" 2> "$d/err"; then
        fail float_io "ref_net_q failed: $(oneline "$d/err")"
    elif cmp -s "$d/deq.npy" "$d/deq_want.npy"; then
        pass float_io
    else
        fail float_io "the float run's output is not scale * (q - zero_point) of the raw run"
    fi
else
    fail batch_rows "no layer (an earlier case failed to set up)"
fi

# ---------------------------------------------------------------------------
# 4. errors: exit 1 with a message naming the file, line and layer; usage: 2
# badmodel NAME SED_EXPRESSION PATTERN: every_op.txt edited fails with PATTERN
IN=$T/every_in.npy
badmodel() {
    sed "$2" "$T/every_op.txt" > "$T/bad_$1.txt"
    expect_err "err_$1" 1 "$3" "$Q" --raw "$T/bad_$1.txt" "$IN" "$T/o.npy"
}
badmodel count 's/^  weights 6 2 0 0  0 4 6/  weights 5 2 0 0 0 4/' \
    "bad_count.txt:22: 'weights' has 5 values, the layer needs 6"
badmodel keyword 's/^flatten fl/flatten2 fl/' \
    "bad_keyword.txt:26: unknown keyword 'flatten2'"
badmodel params 's/^tensor 3 1 1 1 1 0/tensor 3 1 1 1 1 4/' \
    "bad_params.txt:18: maxpool 'mp': output tensor 3 has scale 1 zero point 4; it must keep the input's 1 and 0"
badmodel shape 's/^tensor 2 1 1 1 1 0/tensor 2 1 2 1 1 0/' \
    "avgpool 'ap': output tensor 2 is declared 1 x 2 x 1, the layer gives 1 x 1 x 1"
badmodel softmax 's/^tensor 11 2 1 1 0x1p-8 -128/tensor 11 2 1 1 0x1p-7 -128/' \
    "softmax 'sm': output tensor 11 must have scale 0.00390625 and zero point -128"
badmodel undeclared 's/^add sum a 2 b 3/add sum a 2 b 30/' \
    "bad_undeclared.txt:19: tensor 30 is not declared"
badmodel twice 's/^maxpool mp in 0 out 3/maxpool mp in 0 out 2/' \
    "maxpool 'mp': tensor 2 is written twice"
badmodel int8 's/^  weights 6 2 0 0  0 4 6/  weights 6 2 0 0 0 4 -128/' \
    "expected an integer in \[-127, 127\], got '-128'"
badmodel scale 's/^  wscale 2 0.5 0.5/  wscale 2 0.5 -0.5/' \
    "'wscale' value 1 is -0.5, a scale must be > 0"
badmodel bound 's/^  bias 2 1 -3/  bias 2 2147483200 -3/' \
    "conv2d 'cv': output channel 0: accumulator bound 2147483710 exceeds 2^31 - 1"
badmodel version 's/^spgen-int8 1/spgen-int8 2/' \
    "format version '2'"
# shellcheck disable=SC2016 # a sed address, not a shell expansion
badmodel truncated '/^output/,$d' \
    "bad_truncated.txt:.*unexpected end of file"
d=$T/s1_g2_official_bn_relu
if [ -f "$d/float.txt" ]; then
    # a weight in the group's own representative column (channel 0 reads 0..1: q[0][0])
    awk '/^q / { $3 = 1 } { print }' "$d/float.txt" > "$T/bad_own.txt"
    expect_err err_own_column 1 "spconv 'L': q\[0\]\[0\] = 1: the group's own representative columns must be 0" \
        "$Q" --raw "$T/bad_own.txt" "$d/in_raw.npy" "$T/o.npy"
    sed 's/stride 1 groups 2 r 4/stride 1 groups 3 r 4/' "$d/float.txt" > "$T/bad_groups.txt"
    expect_err err_spconv_groups 1 "spconv 'L': r = 4 of 8 input channels, groups 3" \
        "$Q" --raw "$T/bad_groups.txt" "$d/in_raw.npy" "$T/o.npy"
fi
"$B/mkfix" npy "$T/in_bad.npy" 1x1x2x3 c:0 > /dev/null
expect_err err_input_shape 1 "in_bad.npy: input shape \[1, 1, 2, 3\] does not match the model's input \[N, 1, 2, 2\]" \
    "$Q" --raw "$T/every_op.txt" "$T/in_bad.npy" "$T/o.npy"
"$B/mkfix" npy "$T/in_frac.npy" 1x1x2x2 v:1,2.5,3,4 > /dev/null
expect_err err_raw_value 1 "in_frac.npy: element 1 is 2.5, not an int8 value" \
    "$Q" --raw "$T/every_op.txt" "$T/in_frac.npy" "$T/o.npy"
expect_err err_missing_model 1 "nonexistent.txt: cannot open" "$Q" "$T/nonexistent.txt" "$IN" "$T/o.npy"
expect_err usage_positional 2 "expected MODEL IN.npy OUT.npy" "$Q" "$T/every_op.txt" "$IN"
expect_err usage_option 2 "unknown option --frob" "$Q" --frob "$T/every_op.txt" "$IN" "$T/o.npy"

echo "int8ref: $npass passed, $nfail failed"
[ $nfail -eq 0 ]
