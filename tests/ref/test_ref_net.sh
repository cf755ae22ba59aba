#!/bin/sh
# tests/ref/test_ref_net.sh - property tests of the reference network build/ref_net.
#
#   sh tests/ref/test_ref_net.sh [BUILD_DIR]   (default: build; needs make ref-tools)
#
# Each network case writes its weights with tests/ref/refnet_model.awk, which
# pins the network to a form awk can evaluate exactly (zero 3x3 convs, random
# BNs / biases / linear heads, zero, flat or random 1x1 maps, and on full
# spatial maps a two-tap stem; see the awk file) and computes the logits the network
# must give. build/mkfix turns the values into a safetensors file; ref_net
# must match the logits (npycmp, rel 1e-5) and use every tensor of the file
# (no warning). Then: batch rows are independent (bit for bit), and bad
# inputs fail with exit 1 naming the tensor / file / layer, bad command lines
# with exit 2. Prints one `PASS refnet/<case>` or `FAIL refnet/<case>: why`
# line per case; exits 0 iff all pass. Needs only a POSIX sh, awk, cat, grep,
# mktemp, sed, tail, tr, cut and cmp.

# shellcheck disable=SC2086 # option lists ($R20, netcase's $6 and $7) split on purpose
B=${1:-build}
H=$(dirname "$0")
for t in ref_net mknpy npycmp mkfix; do
    if [ ! -x "$B/$t" ]; then
        echo "FAIL refnet/setup: $B/$t not built (run: make ref-tools)"
        exit 1
    fi
done
if [ ! -f "$H/refnet_model.awk" ]; then
    echo "FAIL refnet/setup: $H/refnet_model.awk missing"
    exit 1
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/test_ref_net.XXXXXX") || { echo "FAIL refnet/setup: mktemp"; exit 1; }
trap 'rm -rf "$T"' EXIT INT TERM
# shellcheck disable=SC2034 # read by ref_lib.sh
REF_PREFIX=refnet
# shellcheck source=tests/ref/ref_lib.sh
. "$H/ref_lib.sh"

# netcase CASE DIR BATCH CLASSES SIZE "MODEL VARS" "REF_NET OPTIONS"
#   model -> DIR/{args, t*.txt, want.txt[, in.txt]}; DIR/w.st; ref_net; compare
netcase() {
    c=$1 d=$2 n=$3 k=$4 s=$5
    mkdir -p "$d"
    # shellcheck disable=SC2086 # $6 and $7 are option lists
    if ! awk -f "$H/refnet_model.awk" -v dir="$d" -v want="$d/want.txt" -v infile="$d/in.txt" \
        -v batch="$n" -v classes="$k" -v size="$s" $6 2> "$d/err"; then
        fail "$c" "model: $(oneline "$d/err")"
        return
    fi
    if [ -f "$d/in.txt" ] && [ "$n" -gt 1 ] &&
        awk -v k="$k" '{ v[NR] = $1 } END { for (i = 1; i <= k; i++) if (v[i] != v[k + i]) exit 1 }' "$d/want.txt"; then
        fail "$c" "model: the first two samples give the same logits (the case would not test the input path)"
        return
    fi
    # shellcheck disable=SC2046
    if ! "$B/mkfix" st "$d/w.st" $(cat "$d/args") > "$d/err" 2>&1 ||
        ! "$B/mkfix" npy "$d/want.npy" "${n}x$k" "f:$d/want.txt" > "$d/err" 2>&1; then
        fail "$c" "mkfix: $(oneline "$d/err")"
        return
    fi
    if [ -f "$d/in.txt" ]; then
        "$B/mkfix" npy "$d/in.npy" "${n}x3x${s}x$s" "f:$d/in.txt" > "$d/err" 2>&1
    else
        "$B/mknpy" 5 "$d/in.npy" "$n" 3 "$s" "$s" > "$d/err" 2>&1
    fi || { fail "$c" "input: $(oneline "$d/err")"; return; }
    # shellcheck disable=SC2086
    if ! "$B/ref_net" $7 --batch "$n" --classes "$k" --size "$s" "$d/w.st" "$d/in.npy" "$d/out.npy" 2> "$d/err"; then
        fail "$c" "ref_net failed: $(oneline "$d/err")"
    elif [ -s "$d/err" ]; then
        fail "$c" "ref_net wrote to stderr: $(oneline "$d/err")"
    elif out=$("$B/npycmp" "$d/out.npy" "$d/want.npy" 1e-5 2>&1); then
        pass "$c"
    else
        fail "$c" "$(echo "$out" | tr '\n' ' ')"
    fi
}

# ---------------------------------------------------------------------------
# 1. constant maps: every conv but the 1x1 maps is zero, so every activation is
#    constant in space. zero: the 1x1 maps too, so the logits follow from the
#    BNs, SPConv biases and blends, ReLUs, residual adds and shortcuts, and the
#    head. flat: each 1x1 map has one weight for all its entries (out[c] = a *
#    sum of the inputs; the SPConv branches see the ratio split), so every
#    layer shows in the logits. (The other networks are in the full-map
#    cases of 3, which include all this.)
netcase zero/sp_resnet20_cifar "$T/z20" 1 10 8 "-v arch=sp_resnet20_cifar" "--arch sp_resnet20_cifar"
netcase flat/sp_resnet50 "$T/f50" 1 10 32 "-v arch=sp_resnet50 -v maps=flat" "--arch sp_resnet50"
netcase flat/sp_vgg16_cifar "$T/fvgg" 1 10 32 "-v arch=sp_vgg16_cifar -v maps=flat" "--arch sp_vgg16_cifar"

# 2. constant maps with random 1x1 maps (SPConv pwc / conv1x1); paddle naming
#    (Linear weight [in, out]), bias all, ratio 0.25.
netcase dense/sp_resnet20_cifar "$T/d20" 1 10 8 "-v arch=sp_resnet20_cifar -v maps=dense" "--arch sp_resnet20_cifar"
netcase dense_paddle_all_r025/sp_resnet20_cifar "$T/d20p" 2 7 8 \
    "-v arch=sp_resnet20_cifar -v maps=dense -v naming=paddle -v bias=all -v ratio=0.25" \
    "--arch sp_resnet20_cifar --naming paddle --bias all --ratio 0.25"

# 3. full maps: one-tap stem conv (stride, padding), SPConv 1x1 maps on
#    AvgPool2d(2, 2) at stride 2, option A (::2 and the channel placement),
#    MaxPool2d(3, 2, 1), one-tap downsample.0 at stride 2, per-sample inputs.
netcase spatial_dense/sp_resnet20_cifar "$T/s20" 2 10 8 \
    "-v arch=sp_resnet20_cifar -v spatial=1 -v maps=dense" "--arch sp_resnet20_cifar"
netcase spatial_dense_paddle_all_r025/sp_resnet20_cifar "$T/s20p" 1 7 8 \
    "-v arch=sp_resnet20_cifar -v spatial=1 -v maps=dense -v naming=paddle -v bias=all -v ratio=0.25" \
    "--arch sp_resnet20_cifar --naming paddle --bias all --ratio 0.25"
netcase spatial_flat/sp_resnet18 "$T/s18" 2 5 32 "-v arch=sp_resnet18 -v spatial=1 -v maps=flat" "--arch sp_resnet18"
netcase spatial/resnet18_cifar "$T/s18c" 1 5 8 "-v arch=resnet18_cifar -v spatial=1" "--arch resnet18_cifar"
netcase spatial_flat_paddle_all/sp_resnet18_cifar "$T/ss18c" 2 5 8 \
    "-v arch=sp_resnet18_cifar -v spatial=1 -v maps=flat -v naming=paddle -v bias=all" \
    "--arch sp_resnet18_cifar --naming paddle --bias all"

# ---------------------------------------------------------------------------
# 4. batch rows: running [a; b] gives exactly (bit for bit) the rows of
#    running a and b alone. The full-map weights of 3 (where the input
#    matters), and for VGG (BatchNorm1d, Linear on a batch) the weights of 1
#    with every zero tensor refilled at random.
# batchcase ARCH DIR SIZE CLASSES WEIGHTS "REF_NET OPTIONS"
batchcase() {
    c=batch_rows/$1 d=$2 s=$3 k=$4 w=$5
    [ -f "$w" ] || { fail "$c" "no weights (an earlier case failed to set up)"; return; }
    awk -v s="$s" -v a="$d/a.txt" -v b="$d/b.txt" 'BEGIN {
        for (n = 0; n < 2; n++) for (i = 0; i < 3 * s * s; i++) {
            v = ((i * 37 + n * 101 + i * i) % 64) / 32 - 1
            print v
            print v > (n ? b : a)
        } }' > "$d/ab.txt"
    if ! "$B/mkfix" npy "$d/ab.npy" "2x3x${s}x$s" "f:$d/ab.txt" > "$d/err" 2>&1 ||
        ! "$B/mkfix" npy "$d/a.npy" "1x3x${s}x$s" "f:$d/a.txt" > "$d/err" 2>&1 ||
        ! "$B/mkfix" npy "$d/b.npy" "1x3x${s}x$s" "f:$d/b.txt" > "$d/err" 2>&1; then
        fail "$c" "mkfix: $(oneline "$d/err")"
        return
    fi
    for x in ab a b; do
        if [ $x = ab ]; then nb=2; else nb=1; fi
        # shellcheck disable=SC2086
        if ! "$B/ref_net" --arch "$1" $6 --classes "$k" --size "$s" --batch $nb "$w" "$d/$x.npy" "$d/o_$x.npy" \
            2> "$d/err"; then
            fail "$c" "ref_net --batch $nb failed: $(oneline "$d/err")"
            return
        fi
    done
    # the data are the last 4 * N * CLASSES bytes of each file
    tail -c $((8 * k)) "$d/o_ab.npy" > "$d/ab.bin"
    { tail -c $((4 * k)) "$d/o_a.npy"; tail -c $((4 * k)) "$d/o_b.npy"; } > "$d/a_b.bin"
    if ! cmp -s "$d/ab.bin" "$d/a_b.bin"; then
        fail "$c" "batch-2 rows differ from the two batch-1 runs"
    elif cmp -s "$d/o_a.npy" "$d/o_b.npy"; then
        fail "$c" "two different inputs gave the same logits"
    else
        pass "$c"
    fi
}
batchcase sp_resnet20_cifar "$T/s20" 8 10 "$T/s20/w.st" ""
batchcase sp_resnet18 "$T/s18" 32 5 "$T/s18/w.st" ""
batchcase sp_resnet18_cifar "$T/ss18c" 8 5 "$T/ss18c/w.st" "--naming paddle --bias all"
if [ -f "$T/fvgg/args" ]; then
    sed 's/ c:0$/ u:3:-0.25:0.25/' "$T/fvgg/args" > "$T/fvgg/args_r"
    # shellcheck disable=SC2046
    "$B/mkfix" st "$T/fvgg/wr.st" $(cat "$T/fvgg/args_r")
fi
batchcase sp_vgg16_cifar "$T/fvgg" 32 10 "$T/fvgg/wr.st" ""

# ---------------------------------------------------------------------------
# 5. errors: exit 1 with a message naming the tensor / file / layer.
D=$T/z20
R20="$B/ref_net --arch sp_resnet20_cifar --size 8"
if [ -f "$D/args" ]; then
    # shellcheck disable=SC2046
    grep -v '^layer2\.1\.conv2\.pwc\.weight ' "$D/args" > "$D/args_miss" &&
        "$B/mkfix" st "$D/miss.st" $(cat "$D/args_miss") &&
        sed 's/^linear\.weight 10x64 f:.*/linear.weight 10x32 c:0/' "$D/args" > "$D/args_shape" &&
        "$B/mkfix" st "$D/shape.st" $(cat "$D/args_shape") &&
        sed 's/^layer3\.2\.bn2\.running_var 64 /layer3.2.bn2.running_var 64x1 /' "$D/args" > "$D/args_shape2" &&
        "$B/mkfix" st "$D/shape2.st" $(cat "$D/args_shape2") &&
        { cat "$D/args"; echo "extra.thing 3 c:1"; } > "$D/args_extra" &&
        "$B/mkfix" st "$D/extra.st" $(cat "$D/args_extra")
fi
expect_err err_missing_tensor 1 "miss.st: tensor 'layer2.1.conv2.pwc.weight' not found" \
    $R20 "$D/miss.st" "$D/in.npy" "$T/o.npy"
expect_err err_tensor_shape 1 "shape.st: tensor 'linear.weight' has shape \[10, 32\], expected \[10, 64\]" \
    $R20 "$D/shape.st" "$D/in.npy" "$T/o.npy"
expect_err err_bn_shape 1 "tensor 'layer3.2.bn2.running_var' has shape \[64, 1\], expected \[64\]" \
    $R20 "$D/shape2.st" "$D/in.npy" "$T/o.npy"
expect_err err_naming 1 "tensor 'bn1._mean' not found" \
    $R20 --naming paddle "$D/w.st" "$D/in.npy" "$T/o.npy"
expect_err err_bias_all 1 "tensor 'layer1.0.conv1.gwc.bias' not found" \
    $R20 --bias all "$D/w.st" "$D/in.npy" "$T/o.npy"
expect_err err_classes 1 "tensor 'linear.weight' has shape \[10, 64\], expected \[100, 64\]" \
    $R20 --classes 100 "$D/w.st" "$D/in.npy" "$T/o.npy"
expect_err err_wrong_arch 1 "w.st: tensor 'conv1.weight' has shape \[16, 3, 3, 3\], expected \[64, 3, 3, 3\]" \
    "$B/ref_net" --arch sp_resnet18_cifar --size 8 "$D/w.st" "$D/in.npy" "$T/o.npy"
expect_err err_input_shape 1 "in.npy: input shape \[1, 3, 8, 8\] does not match --batch 1 --size 16" \
    "$B/ref_net" --arch sp_resnet20_cifar --size 16 "$D/w.st" "$D/in.npy" "$T/o.npy"
expect_err err_input_batch 1 "input shape \[1, 3, 8, 8\] does not match --batch 2" \
    $R20 --batch 2 "$D/w.st" "$D/in.npy" "$T/o.npy"
expect_err err_odd_size 1 "layer 'layer3.0.conv1'.*stride 2 needs even H and W" \
    "$B/ref_net" --arch sp_resnet20_cifar --size 6 "$D/w.st" "$D/in.npy" "$T/o.npy"
expect_err err_ratio_groups 1 "layer 'layer1.0.conv1'.*not divisible by groups 2" \
    $R20 --ratio 0.1 "$D/w.st" "$D/in.npy" "$T/o.npy"
expect_err err_vgg_size 1 "layer 'features.43': MaxPool2d kernel 2 stride 2 padding 0: input 1x1 is too small" \
    "$B/ref_net" --arch sp_vgg16_cifar --size 16 "$T/fvgg/w.st" "$D/in.npy" "$T/o.npy"
expect_err err_missing_file 1 "nonexistent.st: cannot open" \
    $R20 "$T/nonexistent.st" "$D/in.npy" "$T/o.npy"
expect_err err_not_safetensors 1 "in.npy: not a safetensors file" \
    $R20 "$D/in.npy" "$D/in.npy" "$T/o.npy"
expect_err err_missing_input 1 "nonexistent.npy: cannot open" \
    $R20 "$D/w.st" "$T/nonexistent.npy" "$T/o.npy"
expect_err warn_unused 0 "extra.st: warning: tensors not used by sp_resnet20_cifar: 'extra.thing'" \
    $R20 "$D/extra.st" "$D/in.npy" "$T/o.npy"
if [ -f "$T/d20p/w.st" ]; then
    expect_err warn_unused_bias 0 "tensors not used.*'layer1.0.conv1.gwc.bias'" \
        "$B/ref_net" --arch sp_resnet20_cifar --size 8 --naming paddle --ratio 0.25 --classes 7 \
        "$T/d20p/w.st" "$D/in.npy" "$T/o.npy"
fi
expect_err usage_arch 2 "unknown --arch resnet99" "$B/ref_net" --arch resnet99 "$D/w.st" "$D/in.npy" "$T/o.npy"
expect_err usage_no_arch 2 "missing required option --arch" "$B/ref_net" "$D/w.st" "$D/in.npy" "$T/o.npy"
expect_err usage_positional 2 "expected WEIGHTS.safetensors IN.npy OUT.npy" $R20 "$D/w.st" "$D/in.npy"
expect_err usage_naming 2 "--naming must be torch or paddle" $R20 --naming tf "$D/w.st" "$D/in.npy" "$T/o.npy"
expect_err usage_bias 2 "--bias must be official or all" $R20 --bias none "$D/w.st" "$D/in.npy" "$T/o.npy"
expect_err usage_ratio 2 "--ratio must be a number in (0, 1)" $R20 --ratio 1.5 "$D/w.st" "$D/in.npy" "$T/o.npy"
expect_err usage_size 2 "--size must be an integer" $R20 --size 0 "$D/w.st" "$D/in.npy" "$T/o.npy"
expect_err usage_option 2 "unknown option --frobnicate" $R20 --frobnicate 1 "$D/w.st" "$D/in.npy" "$T/o.npy"

echo "refnet: $npass passed, $nfail failed"
[ $nfail -eq 0 ]
