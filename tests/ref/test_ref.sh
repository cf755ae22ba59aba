#!/bin/sh
# tests/ref/test_ref.sh - property tests of the reference SPConv and the tools.
#
#   sh tests/ref/test_ref.sh [BUILD_DIR]     (default: build; needs make ref-tools)
#
# Each case builds its weights and input at run time (build/mkfix), derives the
# expected output by hand-checkable arithmetic in awk (no second SPConv
# implementation: each case pins the layer to a form whose result is a
# closed-form expression), and compares with build/npycmp. Prints one
# `PASS ref/<case>` or `FAIL ref/<case>: why` line per case; exits 0 iff all pass.
# Needs only a POSIX sh, awk, cmp, grep, head, mktemp, tr and wc.

B=${1:-build}
for t in ref_spconv mknpy npycmp mkfix; do
    if [ ! -x "$B/$t" ]; then
        echo "FAIL ref/setup: $B/$t not built (run: make ref-tools)"
        exit 1
    fi
done
T=$(mktemp -d "${TMPDIR:-/tmp}/test_ref.XXXXXX") || { echo "FAIL ref/setup: mktemp"; exit 1; }
trap 'rm -rf "$T"' EXIT INT TERM
nfail=0
npass=0
pass() { echo "PASS ref/$1"; npass=$((npass + 1)); }
fail() { echo "FAIL ref/$1: $2"; nfail=$((nfail + 1)); }

# compare NAME GOT WANT TOL: npycmp, report
compare() {
    if out=$("$B/npycmp" "$2" "$3" "$4" 2>&1); then
        pass "$1"
    else
        fail "$1" "$(echo "$out" | tr '\n' ' ')"
    fi
}

# bn PREFIX NAMING W B MEAN VAR CO -> mkfix st arguments for one BatchNorm
bn() {
    if [ "$2" = paddle ]; then m=_mean; v=_variance; else m=running_mean; v=running_var; fi
    echo "$1.weight $7 v:$3 $1.bias $7 v:$4 $1.$m $7 v:$5 $1.$v $7 v:$6"
}

# identity BN (weight 1, bias 0, mean 0, var 1; exact with --eps 0)
bn_id() {
    ones=$(awk -v n="$3" 'BEGIN { s = "1"; for (i = 1; i < n; i++) s = s ",1"; print s }')
    zeros=$(awk -v n="$3" 'BEGIN { s = "0"; for (i = 1; i < n; i++) s = s ",0"; print s }')
    bn "$1" "$2" "$ones" "$zeros" "$zeros" "$ones" "$3"
}

# deterministic input values: input N C H W FILE  (one value a line, NCHW order)
input() {
    awk -v N="$1" -v C="$2" -v H="$3" -v W="$4" 'BEGIN {
        for (n = 0; n < N; n++) for (c = 0; c < C; c++) for (y = 0; y < H; y++) for (x = 0; x < W; x++)
            printf "%.9g\n", ((n * 131 + c * 37 + y * 11 + x * 5 + y * x) % 23) / 11.0 - 1
    }' > "$5"
}

# ---------------------------------------------------------------------------
# 1. zero_conv_official: every conv weight zero, so o3 = BN1(0) and
#    o1 = BN2(bias) are constant per channel and equal to their means:
#    out[c] = softmax-weighted blend of the two constants, at every pixel.
c=zero_conv_official
CO=6
CB=0.5,-1,2,0,-0.25,1.5
W1=1,0.5,2,1.5,0.75,1;   B1=0.1,-0.2,0.3,0,1,-1;  M1=0.2,-0.5,0,1,0.3,-0.1; V1=1,0.5,2,0.25,1.5,3
W2=0.8,1.2,1,0.6,2,1;    B2=0,0.4,-0.3,0.2,-1,0.5; M2=-0.3,0.1,0.6,0,0.2,1; V2=0.5,1,1,2,0.8,0.3
"$B/mkfix" st "$T/w1.st" L.gwc.weight 6x2x3x3 c:0 L.pwc.weight 6x4x1x1 c:0 \
    L.conv1x1.weight 6x4x1x1 c:0 L.conv1x1.bias 6 v:$CB \
    $(bn L.bn1 torch $W1 $B1 $M1 $V1 $CO) $(bn L.bn2 torch $W2 $B2 $M2 $V2 $CO) &&
"$B/mknpy" 7 "$T/in1.npy" 2 8 5 4 &&
awk -v cb=$CB -v w1=$W1 -v b1=$B1 -v m1=$M1 -v v1=$V1 -v w2=$W2 -v b2=$B2 -v m2=$M2 -v v2=$V2 'BEGIN {
    split(cb, CB, ","); split(w1, W1, ","); split(b1, B1, ","); split(m1, M1, ","); split(v1, V1, ",")
    split(w2, W2, ","); split(b2, B2, ","); split(m2, M2, ","); split(v2, V2, ",")
    for (n = 0; n < 2; n++) for (c = 1; c <= 6; c++) {
        o3 = (0 - M1[c]) / sqrt(V1[c] + 1e-5) * W1[c] + B1[c]
        o1 = (CB[c] - M2[c]) / sqrt(V2[c] + 1e-5) * W2[c] + B2[c]
        w3 = exp(o3) / (exp(o3) + exp(o1))
        for (i = 0; i < 20; i++) printf "%.17g\n", w3 * o3 + (1 - w3) * o1
    } }' > "$T/want1.txt" &&
"$B/mkfix" npy "$T/want1.npy" 2x6x5x4 "f:$T/want1.txt" &&
"$B/ref_spconv" --cin 8 --cout 6 --h 5 --w 4 --batch 2 --ratio 0.5 --groups 2 --stride 1 \
    --bias official --naming torch --name L "$T/w1.st" "$T/in1.npy" "$T/out1.npy" &&
compare $c "$T/out1.npy" "$T/want1.npy" 1e-6 || fail $c "could not run (see above)"

# ---------------------------------------------------------------------------
# 2. zero_conv_all_s2_bn_relu_paddle: bias "all" adds gwc.bias and pwc.bias to
#    u3; stride 2 gives a 3x2 map from 6x4; the trailing BN and ReLU apply to
#    the blended constant; paddle BN names; --eps 1e-3.
c=zero_conv_all_s2_bn_relu_paddle
GB=0.3,-0.6,1,0,0.2,-2;  PB=-0.1,0.5,0.5,-1,0.4,0.3; CB=1,0,-0.5,0.25,-1,2
W1=1,2,0.5,1,1.5,0.8;    B1=0,0.1,-0.1,0.2,0,0.3;  M1=0.1,0,0.2,-0.2,0,0.5;  V1=1,2,0.5,1,0.3,1
W2=1,1,1.5,0.5,1,2;      B2=0.2,0,0.1,-0.3,0.1,0;  M2=0,0.3,-0.1,0,0.4,0.1;  V2=1,0.7,1,2,1,0.4
W3=1,-1,2,-0.5,1,0.3;    B3=-0.2,0.1,0,0.5,-3,0.2; M3=0,0.1,0,0.2,0,-0.1;    V3=1,1,0.5,1,2,1
"$B/mkfix" st "$T/w2.st" P.gwc.weight 6x1x3x3 c:0 P.gwc.bias 6 v:$GB P.pwc.weight 6x3x1x1 c:0 \
    P.pwc.bias 6 v:$PB P.conv1x1.weight 6x3x1x1 c:0 P.conv1x1.bias 6 v:$CB \
    $(bn P.bn1 paddle $W1 $B1 $M1 $V1 6) $(bn P.bn2 paddle $W2 $B2 $M2 $V2 6) \
    $(bn after paddle $W3 $B3 $M3 $V3 6) &&
"$B/mknpy" 8 "$T/in2.npy" 1 6 6 4 &&
awk -v gb=$GB -v pb=$PB -v cb=$CB -v w1=$W1 -v b1=$B1 -v m1=$M1 -v v1=$V1 -v w2=$W2 -v b2=$B2 \
    -v m2=$M2 -v v2=$V2 -v w3=$W3 -v b3=$B3 -v m3=$M3 -v v3=$V3 'BEGIN {
    split(gb, GB, ","); split(pb, PB, ","); split(cb, CB, ",")
    split(w1, W1, ","); split(b1, B1, ","); split(m1, M1, ","); split(v1, V1, ",")
    split(w2, W2, ","); split(b2, B2, ","); split(m2, M2, ","); split(v2, V2, ",")
    split(w3, W3, ","); split(b3, B3, ","); split(m3, M3, ","); split(v3, V3, ",")
    e = 1e-3
    for (c = 1; c <= 6; c++) {
        o3 = (GB[c] + PB[c] - M1[c]) / sqrt(V1[c] + e) * W1[c] + B1[c]
        o1 = (CB[c] - M2[c]) / sqrt(V2[c] + e) * W2[c] + B2[c]
        w = exp(o3) / (exp(o3) + exp(o1))
        v = ((w * o3 + (1 - w) * o1) - M3[c]) / sqrt(V3[c] + e) * W3[c] + B3[c]
        if (v < 0) v = 0
        for (i = 0; i < 6; i++) printf "%.17g\n", v
    } }' > "$T/want2.txt" &&
"$B/mkfix" npy "$T/want2.npy" 1x6x3x2 "f:$T/want2.txt" &&
"$B/ref_spconv" --cin 6 --cout 6 --h 6 --w 4 --batch 1 --ratio 0.5 --groups 3 --stride 2 \
    --bias all --naming paddle --name P --bn after --relu --eps 1e-3 "$T/w2.st" "$T/in2.npy" "$T/out2.npy" &&
compare $c "$T/out2.npy" "$T/want2.npy" 1e-6 || fail $c "could not run (see above)"
if [ -f "$T/want2.txt" ] && ! grep -qx 0 "$T/want2.txt"; then
    fail zero_conv_relu_clips "case 2 was meant to have a channel clipped by ReLU"
fi

# ---------------------------------------------------------------------------
# 3. equal_means_half: identity BNs (--eps 0), gwc zero, pwc and conv1x1 the
#    identity 4x4 maps, no bias; the input's x1 = x3 mirrored in space, so
#    o3 and o1 differ pixel by pixel but have equal means: both softmax
#    weights are 1/2 and out[c, i] = (x3[c, i] + x3[c, HW-1-i]) / 2.
c=equal_means_half
EYE=1,0,0,0,0,1,0,0,0,0,1,0,0,0,0,1
ZB=0,0,0,0
awk -v want="$T/want3.txt" 'BEGIN { for (c = 0; c < 4; c++) for (i = 0; i < 15; i++) a[c, i] = ((c * 7 + i * 13 + i * i) % 17) / 8.0 - 1
             for (c = 0; c < 4; c++) for (i = 0; i < 15; i++) printf "%.9g\n", a[c, i]
             for (c = 0; c < 4; c++) for (i = 0; i < 15; i++) printf "%.9g\n", a[c, 14 - i]
             for (c = 0; c < 4; c++) for (i = 0; i < 15; i++) printf "%.17g\n", (a[c, i] + a[c, 14 - i]) / 2 > want
     }' > "$T/in3.txt" &&
"$B/mkfix" npy "$T/in3.npy" 1x8x3x5 "f:$T/in3.txt" &&
"$B/mkfix" npy "$T/want3.npy" 1x4x3x5 "f:$T/want3.txt" &&
"$B/mkfix" st "$T/w3.st" E.gwc.weight 4x2x3x3 c:0 E.pwc.weight 4x4x1x1 v:$EYE \
    E.conv1x1.weight 4x4x1x1 v:$EYE E.conv1x1.bias 4 v:$ZB $(bn_id E.bn1 torch 4) $(bn_id E.bn2 torch 4) &&
"$B/ref_spconv" --cin 8 --cout 4 --h 3 --w 5 --batch 1 --ratio 0.5 --groups 2 --stride 1 \
    --bias official --naming torch --name E --eps 0 "$T/w3.st" "$T/in3.npy" "$T/out3.npy" &&
compare $c "$T/out3.npy" "$T/want3.npy" 1e-6 || fail $c "could not run (see above)"

# ---------------------------------------------------------------------------
# 4. gwc_shift_groups_s2: each GWC filter is a single 1 at (cl, ky, kx), so
#    out[c, y, x] = x[grp(c) * r/g + cl, 2y + ky - 1, 2x + kx - 1] (0 in the
#    padding); pwc and conv1x1 zero, conv1x1 bias -100 pins o1 = -100, whose
#    softmax weight e^-100 vanishes. C 8, r 4, g 2, Co 4, 6x6 -> 3x3, batch 2.
c=gwc_shift_groups_s2
# (cl, ky, kx) per output channel: c0 (1,0,0) c1 (0,2,1) c2 (0,1,2) c3 (1,2,2)
GW=$(awk 'BEGIN { split("1 0 0 1", CL, " "); split("0 2 1 2", KY, " "); split("0 1 2 2", KX, " ")
    s = ""; for (c = 1; c <= 4; c++) for (l = 0; l < 2; l++) for (ky = 0; ky < 3; ky++) for (kx = 0; kx < 3; kx++)
        s = s (s == "" ? "" : ",") ((l == CL[c] && ky == KY[c] && kx == KX[c]) ? 1 : 0)
    print s }')
input 2 8 6 6 "$T/in4.txt"
awk 'BEGIN { split("1 0 0 1", CL, " "); split("0 2 1 2", KY, " "); split("0 1 2 2", KX, " ") }
     { v[NR - 1] = $1 }
     END { for (n = 0; n < 2; n++) for (c = 0; c < 4; c++) for (y = 0; y < 3; y++) for (x = 0; x < 3; x++) {
             ci = int(c / 2) * 2 + CL[c + 1]; iy = 2 * y + KY[c + 1] - 1; ix = 2 * x + KX[c + 1] - 1
             printf "%.9g\n", (iy < 0 || ix < 0 || iy >= 6 || ix >= 6) ? 0 : v[((n * 8 + ci) * 6 + iy) * 6 + ix] } }' \
    "$T/in4.txt" > "$T/want4.txt" &&
"$B/mkfix" npy "$T/in4.npy" 2x8x6x6 "f:$T/in4.txt" &&
"$B/mkfix" npy "$T/want4.npy" 2x4x3x3 "f:$T/want4.txt" &&
"$B/mkfix" st "$T/w4.st" S.gwc.weight 4x2x3x3 v:$GW S.pwc.weight 4x4x1x1 c:0 \
    S.conv1x1.weight 4x4x1x1 c:0 S.conv1x1.bias 4 c:-100 $(bn_id S.bn1 torch 4) $(bn_id S.bn2 torch 4) &&
"$B/ref_spconv" --cin 8 --cout 4 --h 6 --w 6 --batch 2 --ratio 0.5 --groups 2 --stride 2 \
    --bias official --naming torch --name S --eps 0 "$T/w4.st" "$T/in4.npy" "$T/out4.npy" &&
compare $c "$T/out4.npy" "$T/want4.npy" 1e-6 || fail $c "could not run (see above)"

# ---------------------------------------------------------------------------
# 5. pwc_avgpool_s2: gwc zero, pwc the permutation c <- x3[3 - c], o1 pinned
#    to -100: out[c] = AvgPool2d(2,2)(x)[3 - c]. 4x6 -> 2x3, batch 2.
c=pwc_avgpool_s2
PERM=0,0,0,1,0,0,1,0,0,1,0,0,1,0,0,0
input 2 8 4 6 "$T/in5.txt"
awk '{ v[NR - 1] = $1 }
     END { for (n = 0; n < 2; n++) for (c = 0; c < 4; c++) for (y = 0; y < 2; y++) for (x = 0; x < 3; x++) {
             ci = 3 - c; b = (n * 8 + ci) * 24
             printf "%.17g\n", (v[b + 2*y*6 + 2*x] + v[b + 2*y*6 + 2*x + 1] + v[b + (2*y+1)*6 + 2*x] + v[b + (2*y+1)*6 + 2*x + 1]) / 4 } }' \
    "$T/in5.txt" > "$T/want5.txt" &&
"$B/mkfix" npy "$T/in5.npy" 2x8x4x6 "f:$T/in5.txt" &&
"$B/mkfix" npy "$T/want5.npy" 2x4x2x3 "f:$T/want5.txt" &&
"$B/mkfix" st "$T/w5.st" S.gwc.weight 4x2x3x3 c:0 S.pwc.weight 4x4x1x1 v:$PERM \
    S.conv1x1.weight 4x4x1x1 c:0 S.conv1x1.bias 4 c:-100 $(bn_id S.bn1 torch 4) $(bn_id S.bn2 torch 4) &&
"$B/ref_spconv" --cin 8 --cout 4 --h 4 --w 6 --batch 2 --ratio 0.5 --groups 2 --stride 2 \
    --bias official --naming torch --name S --eps 0 "$T/w5.st" "$T/in5.npy" "$T/out5.npy" &&
compare $c "$T/out5.npy" "$T/want5.npy" 1e-6 || fail $c "could not run (see above)"

# ---------------------------------------------------------------------------
# 6. conv1x1_x1_slice_s2: gwc and pwc zero, BN1 bias -100 pins o3 = -100;
#    conv1x1[c] = 0.5 * x1[c] + 0.25 * x1[(c+1) % 4] on the pooled x1 =
#    channels r..C-1 of x, plus bias 0.125 * c. 4x6 -> 2x3, batch 1.
c=conv1x1_x1_slice_s2
C1W=$(awk 'BEGIN { s = ""; for (c = 0; c < 4; c++) for (i = 0; i < 4; i++)
    s = s (s == "" ? "" : ",") (i == c ? 0.5 : (i == (c + 1) % 4 ? 0.25 : 0)); print s }')
input 1 8 4 6 "$T/in6.txt"
awk '{ v[NR - 1] = $1 }
     function p(ci, y, x,  b) { b = ci * 24; return (v[b + 2*y*6 + 2*x] + v[b + 2*y*6 + 2*x + 1] + v[b + (2*y+1)*6 + 2*x] + v[b + (2*y+1)*6 + 2*x + 1]) / 4 }
     END { for (c = 0; c < 4; c++) for (y = 0; y < 2; y++) for (x = 0; x < 3; x++)
             printf "%.17g\n", 0.5 * p(4 + c, y, x) + 0.25 * p(4 + (c + 1) % 4, y, x) + 0.125 * c }' \
    "$T/in6.txt" > "$T/want6.txt" &&
"$B/mkfix" npy "$T/in6.npy" 1x8x4x6 "f:$T/in6.txt" &&
"$B/mkfix" npy "$T/want6.npy" 1x4x2x3 "f:$T/want6.txt" &&
"$B/mkfix" st "$T/w6.st" S.gwc.weight 4x2x3x3 c:0 S.pwc.weight 4x4x1x1 c:0 \
    S.conv1x1.weight 4x4x1x1 v:$C1W S.conv1x1.bias 4 v:0,0.125,0.25,0.375 \
    $(bn S.bn1 torch 1,1,1,1 -100,-100,-100,-100 0,0,0,0 1,1,1,1 4) $(bn_id S.bn2 torch 4) &&
"$B/ref_spconv" --cin 8 --cout 4 --h 4 --w 6 --batch 1 --ratio 0.5 --groups 2 --stride 2 \
    --bias official --naming torch --name S --eps 0 "$T/w6.st" "$T/in6.npy" "$T/out6.npy" &&
compare $c "$T/out6.npy" "$T/want6.npy" 1e-6 || fail $c "could not run (see above)"

# ---------------------------------------------------------------------------
# 7. ratio_floor: r = (int)floor(C * ratio) in double: 100 * 0.29 is
#    28.999999999999996, so r = 28 (not 29), as PyTorch's int(c * ratio).
c=ratio_floor
"$B/mkfix" st "$T/w7.st" R.gwc.weight 2x14x3x3 c:0 R.pwc.weight 2x28x1x1 c:0 \
    R.conv1x1.weight 2x72x1x1 c:0 R.conv1x1.bias 2 c:0 $(bn_id R.bn1 torch 2) $(bn_id R.bn2 torch 2) &&
"$B/mknpy" 3 "$T/in7.npy" 1 100 2 2 &&
if "$B/ref_spconv" --cin 100 --cout 2 --h 2 --w 2 --batch 1 --ratio 0.29 --groups 2 --stride 1 \
    --bias official --naming torch --name R "$T/w7.st" "$T/in7.npy" "$T/out7.npy" 2> "$T/err7"; then
    pass $c
else
    fail $c "$(tr '\n' ' ' < "$T/err7")"
fi

# ---------------------------------------------------------------------------
# Errors: each must exit 1 with a message naming the file or tensor.
# expect_err NAME PATTERN CMD...
expect_err() {
    name=$1 pat=$2
    shift 2
    "$@" > "$T/err.out" 2> "$T/err.txt"
    st=$?
    if [ $st -ne 1 ]; then
        fail "$name" "exit status $st, want 1 ($(tr '\n' ' ' < "$T/err.txt"))"
    elif ! grep -q -- "$pat" "$T/err.txt"; then
        fail "$name" "message lacks '$pat': $(tr '\n' ' ' < "$T/err.txt")"
    else
        pass "$name"
    fi
}
REF="$B/ref_spconv --cin 8 --cout 6 --h 5 --w 4 --batch 2 --ratio 0.5 --groups 2 --stride 1 --bias official --name L"

"$B/mkfix" st "$T/w_nobn2.st" L.gwc.weight 6x2x3x3 c:0 L.pwc.weight 6x4x1x1 c:0 \
    L.conv1x1.weight 6x4x1x1 c:0 L.conv1x1.bias 6 c:0 $(bn_id L.bn1 torch 6)
expect_err err_missing_tensor "w_nobn2.st: tensor 'L.bn2.weight' not found" \
    $REF --naming torch "$T/w_nobn2.st" "$T/in1.npy" "$T/o.npy"
expect_err err_naming_hint "tensor 'L.bn1._mean' not found" \
    $REF --naming paddle "$T/w1.st" "$T/in1.npy" "$T/o.npy"
"$B/mkfix" st "$T/w_shape.st" L.gwc.weight 6x4x3x3 c:0 L.pwc.weight 6x4x1x1 c:0 \
    L.conv1x1.weight 6x4x1x1 c:0 L.conv1x1.bias 6 c:0 $(bn_id L.bn1 torch 6) $(bn_id L.bn2 torch 6)
expect_err err_weight_shape "tensor 'L.gwc.weight' has shape \[6, 4, 3, 3\], expected \[6, 2, 3, 3\]" \
    $REF --naming torch "$T/w_shape.st" "$T/in1.npy" "$T/o.npy"
expect_err err_bias_all_missing "tensor 'L.gwc.bias' not found" \
    $B/ref_spconv --cin 8 --cout 6 --h 5 --w 4 --batch 2 --ratio 0.5 --groups 2 --stride 1 \
    --bias all --naming torch --name L "$T/w1.st" "$T/in1.npy" "$T/o.npy"
expect_err err_input_shape "in2.npy: input shape \[1, 6, 6, 4\]" \
    $REF --naming torch "$T/w1.st" "$T/in2.npy" "$T/o.npy"
head -c 150 "$T/in1.npy" > "$T/trunc.npy"
expect_err err_truncated_npy "trunc.npy: data is" \
    $REF --naming torch "$T/w1.st" "$T/trunc.npy" "$T/o.npy"
printf 'not a numpy file at all' > "$T/junk.npy"
expect_err err_npy_magic "junk.npy: not a .npy file" \
    $REF --naming torch "$T/w1.st" "$T/junk.npy" "$T/o.npy"
expect_err err_not_safetensors "junk.npy: not a safetensors file" \
    $REF --naming torch "$T/junk.npy" "$T/in1.npy" "$T/o.npy"
expect_err err_missing_file "nonexistent.st: cannot open" \
    $REF --naming torch "$T/nonexistent.st" "$T/in1.npy" "$T/o.npy"
expect_err err_odd_h_stride2 "stride 2 needs even H and W" \
    $B/ref_spconv --cin 8 --cout 6 --h 5 --w 4 --batch 2 --ratio 0.5 --groups 2 --stride 2 \
    --bias official --naming torch --name L "$T/w1.st" "$T/in1.npy" "$T/o.npy"
expect_err err_groups "not divisible by groups 3" \
    $B/ref_spconv --cin 8 --cout 6 --h 5 --w 4 --batch 2 --ratio 0.5 --groups 3 --stride 1 \
    --bias official --naming torch --name L "$T/w1.st" "$T/in1.npy" "$T/o.npy"
"$B/ref_spconv" --cin 8 > /dev/null 2>&1
st=$?
if [ $st -eq 2 ]; then pass usage_exit_2; else fail usage_exit_2 "exit status $st, want 2"; fi

# ---------------------------------------------------------------------------
# Tools: mknpy is deterministic and follows splitmix64; npycmp's metric.
c=mknpy_splitmix64
# splitmix64 seeded 0 starts 0xe220a8397b1dcdaf 0x6e789e6aa1b965f4 0x06c45d188009454f
# 0xf88bb8a8724c81ec; (z >> 40) * 2^-23 - 1 gives exactly these floats:
"$B/mknpy" 0 "$T/m0.npy" 2 2 && "$B/mknpy" 0 "$T/m0b.npy" 2 2 && "$B/mknpy" 1 "$T/m1.npy" 2 2 &&
"$B/mkfix" npy "$T/m0want.npy" 2x2 v:0.7666215896606445,-0.13694405555725098,-0.9471324682235718,0.9417638778686523 &&
if ! cmp -s "$T/m0.npy" "$T/m0b.npy"; then
    fail $c "two runs with seed 0 differ"
elif cmp -s "$T/m0.npy" "$T/m1.npy"; then
    fail $c "seeds 0 and 1 give the same array"
else
    compare $c "$T/m0.npy" "$T/m0want.npy" 0
fi
c=npy_layout
# np.save's layout: 10-byte preamble, the dict, 21 - len(str(shape[0])) spare
# spaces, padding to 64 and '\n' (128 bytes for a 2x2 array), then the data
sz=$(wc -c < "$T/m0.npy" | tr -d ' ')
if [ "$sz" -eq 144 ]; then pass $c; else fail $c "2x2 float32 file is $sz bytes, want 128 + 16"; fi

"$B/mkfix" npy "$T/a.npy" 4 v:1,-2,3,-4
"$B/mkfix" npy "$T/b.npy" 4 v:1,-2,3.002,-4
"$B/mkfix" npy "$T/nan.npy" 4 v:1,nan,3,-4
"$B/mkfix" npy "$T/inf.npy" 4 v:1,inf,3,-4
"$B/mkfix" npy "$T/s22.npy" 2x2 v:1,-2,3,-4
out=$("$B/npycmp" "$T/b.npy" "$T/a.npy" 1e-3 2>/dev/null); st=$?
case "$out" in
    "max_abs=0.002 rel=0.0005 tol=0.001") [ $st -eq 0 ] && pass npycmp_metric || fail npycmp_metric "exit $st" ;;
    *) fail npycmp_metric "printed '$out'" ;;
esac
"$B/npycmp" "$T/b.npy" "$T/a.npy" 1e-4 > /dev/null 2>&1
[ $? -eq 1 ] && pass npycmp_over_tol || fail npycmp_over_tol "rel 5e-4 > 1e-4 did not exit 1"
expect_err npycmp_nan "nan.npy: element \[1\] is NaN" "$B/npycmp" "$T/nan.npy" "$T/a.npy" 1
expect_err npycmp_inf "inf.npy: element \[1\] is infinite" "$B/npycmp" "$T/a.npy" "$T/inf.npy" 1
expect_err npycmp_shape "shape mismatch" "$B/npycmp" "$T/s22.npy" "$T/a.npy" 1

echo "ref: $npass passed, $nfail failed"
[ $nfail -eq 0 ]
