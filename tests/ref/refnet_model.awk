# refnet_model.awk - a closed-form model of build/ref_net for test_ref_net.sh.
#
#   awk -f refnet_model.awk -v arch=NAME -v dir=DIR -v want=FILE [-v infile=FILE]
#       [-v spatial=1] [-v maps=zero|flat|dense] [-v naming=paddle] [-v bias=all]
#       [-v ratio=A] [-v classes=N] [-v size=S] [-v batch=N] [-v seed=K] [-v debug=1]
#
# Writes, for one network of the model zoo, every weight the network needs
# (DIR/args: one "NAME SHAPE FILL" line per tensor for build/mkfix st, the
# values in DIR/t<k>.txt) and the logits the network must produce (FILE, one
# value a line, [batch, classes] row-major); with spatial=1 also the input
# (infile, [batch, 3, size, size]).
#
# The weights are chosen so that the network reduces to something awk can
# compute exactly without a second convolution implementation:
#   - every GWC weight, every vanilla 3x3 conv and the VGG first conv are zero
#     (the VGG first conv keeps a random bias), so only 1x1 maps, biases, BNs,
#     softmax blends, ReLUs, pooling, shortcuts and the linear head matter;
#   - spatial=0: the network is evaluated on constant maps (the stem conv is
#     zero, so its output is the same at every pixel of every layer); the
#     model keeps 1x1 maps and all spatial operators are the identity;
#   - spatial=1: the stem conv has two taps per output channel, the
#     1x1 shortcut convs (downsample.0) copy channel c % cin at their stride,
#     and the model keeps full maps (stride, padding, max pool, option A
#     subsampling, the SPConv AvgPool2d at stride 2 all show); the input is
#     random (multiples of 1/64) and different per sample;
#   - maps: the 1x1 maps (SPConv pwc / conv1x1, bottleneck conv1 / conv3, and
#     downsample.0 except with spatial=1) are zero (default), flat (every
#     weight of a tensor the same power-of-two fraction: out[c] = a * sum of the
#     inputs, so the values after each BN still differ per channel; cheap
#     for the big networks) or dense (random; small networks only).
# Every random value is a multiple of 1/64 (dense 1x1 maps: 1/1024), exact in
# float32; BNs are random (eps 1e-5), so ReLUs do clip. sp_vgg16_cifar is
# modelled with constant maps at size 32 only. debug=1 prints every SPConv
# softmax weight w3 on stderr (to see that the blends are not saturated).

BEGIN {
    if (ratio == "") ratio = 0.5
    if (naming == "") naming = "torch"
    if (bias == "") bias = "official"
    if (batch == "") batch = 1
    if (seed == "") seed = 1
    PADDLE = naming == "paddle"
    ALL = bias == "all"
    CONST = !spatial
    if (maps == "") maps = "zero"
    if (maps != "zero" && maps != "flat" && maps != "dense") { print "refnet_model: bad maps " maps > "/dev/stderr"; exit 1 }
    dense = maps == "dense"
    DSMODE = (spatial && !dense) ? "tap" : maps
    EPS = 1e-5
    rs = (seed * 7919 + 1) % 65537
    nfile = 0
    ARGS = dir "/args"
    printf "" > ARGS
    imagenet = arch == "sp_resnet18" || arch == "sp_resnet50"
    if (classes == "") classes = imagenet ? 1000 : 10
    if (size == "") size = imagenet ? 224 : 32

    # input
    tnew(X, 3, CONST ? 1 : size, CONST ? 1 : size)
    if (spatial) {
        for (n = 0; n < batch; n++) for (c = 0; c < 3; c++) for (y = 0; y < size; y++) for (x = 0; x < size; x++) {
            X[n, c, y, x] = rnd()
            printf "%.17g\n", X[n, c, y, x] > infile
        }
        close(infile)
    } else {
        for (n = 0; n < batch; n++) for (c = 0; c < 3; c++) X[n, c, 0, 0] = 0
    }

    if (arch == "sp_resnet18" || arch == "sp_resnet50") {
        stemconv("conv1", X, Y, 64, 7, 2, 3, 0); tcopy(Y, X)
        bn("bn1", X); relu(X)
        maxpool(X, Y, 3, 2, 1); tcopy(Y, X)
        nb[1] = 2; nb[2] = 2; nb[3] = 2; nb[4] = 2
        if (arch == "sp_resnet50") { nb[1] = 3; nb[2] = 4; nb[3] = 6; nb[4] = 3 }
        for (l = 1; l <= 4; l++) for (b = 0; b < nb[l]; b++) {
            planes = 64 * 2 ^ (l - 1); s = (b == 0 && l > 1) ? 2 : 1
            if (arch == "sp_resnet50") bottleneck("layer" l "." b, X, planes, s)
            else basic("layer" l "." b, X, planes, s, "sp", "B")
        }
        head("fc", X)
    } else if (arch == "resnet18_cifar" || arch == "sp_resnet18_cifar") {
        stemconv("conv1", X, Y, 64, 3, 1, 1, 0); tcopy(Y, X)
        bn("bn1", X); relu(X)
        for (l = 1; l <= 4; l++) for (b = 0; b < 2; b++)
            basic("layer" l "." b, X, 64 * 2 ^ (l - 1), (b == 0 && l > 1) ? 2 : 1,
                  arch == "resnet18_cifar" ? "vanilla" : "sp", "B")
        head("fc", X)
    } else if (arch == "sp_resnet20_cifar") {
        stemconv("conv1", X, Y, 16, 3, 1, 1, 0); tcopy(Y, X)
        bn("bn1", X); relu(X)
        for (l = 1; l <= 3; l++) for (b = 0; b < 3; b++)
            basic("layer" l "." b, X, 16 * 2 ^ (l - 1), (b == 0 && l > 1) ? 2 : 1, "sp", "A")
        head("linear", X)
    } else if (arch == "sp_vgg16_cifar") {
        if (spatial || size != 32) { print "refnet_model: sp_vgg16_cifar: constant maps at size 32 only" > "/dev/stderr"; exit 1 }
        ncfg = split("64 64 M 128 128 M 256 256 256 M 512 512 512 M 512 512 512 M", cfg, " ")
        i = 0; first = 1
        for (j = 1; j <= ncfg; j++) {
            if (cfg[j] == "M") { maxpool(X, Y, 2, 2, 0); tcopy(Y, X); i++; continue }
            if (first) stemconv("features." i, X, Y, cfg[j] + 0, 3, 1, 1, 1)
            else sp("features." i, X, Y, cfg[j] + 0, 1)
            first = 0
            tcopy(Y, X); bn("features." (i + 1), X); relu(X)
            i += 3
        }
        linear("classifier.0", X, Y, 512); tcopy(Y, X)
        bn("classifier.1", X); relu(X)
        linear("classifier.3", X, Y, classes); tcopy(Y, X)
    } else {
        print "refnet_model: unknown arch " arch > "/dev/stderr"; exit 1
    }
    for (n = 0; n < batch; n++) for (c = 0; c < classes; c++) printf "%.17g\n", X[n, c, 0, 0] > want
    close(want)
    close(ARGS)
}

# --- values: an LCG mod 65537; every value a multiple of 1/64
function rnd() { rs = (rs * 75 + 74) % 65537; return (rs % 128 - 64) / 64 }
function rpos() { rs = (rs * 75 + 74) % 65537; return 0.5 + (rs % 64) / 64 }

function emit_zero(name, shape) { print name, shape, "c:0" > ARGS }
function emit_vals(name, shape, cnt, V,   f, i) {
    f = dir "/t" (++nfile) ".txt"
    for (i = 0; i < cnt; i++) printf "%.17g\n", V[i] > f
    close(f)
    print name, shape, "f:" f > ARGS
}

# --- tensors: T["c"], T["h"], T["w"], T[n, c, y, x]
function tnew(T, c, h, w) { split("", T); T["c"] = c; T["h"] = h; T["w"] = w }
function tcopy(S, D,   k) { split("", D); for (k in S) D[k] = S[k] }
function odim(h, k, s, p) { return CONST ? 1 : int((h + 2 * p - k) / s) + 1 }

function bnparams(pfx, C, Wt, Bt, Mt, Vt,   i) {
    for (i = 0; i < C; i++) { Wt[i] = rpos(); Bt[i] = rnd(); Mt[i] = rnd() / 2; Vt[i] = rpos() }
    emit_vals(pfx ".weight", C, C, Wt); emit_vals(pfx ".bias", C, C, Bt)
    emit_vals(pfx (PADDLE ? "._mean" : ".running_mean"), C, C, Mt)
    emit_vals(pfx (PADDLE ? "._variance" : ".running_var"), C, C, Vt)
}
function bnv(v, c, Wt, Bt, Mt, Vt) { return (v - Mt[c]) / sqrt(Vt[c] + EPS) * Wt[c] + Bt[c] }

function bn(pfx, T,   Wt, Bt, Mt, Vt, n, c, y, x) {
    bnparams(pfx, T["c"], Wt, Bt, Mt, Vt)
    for (n = 0; n < batch; n++) for (c = 0; c < T["c"]; c++) for (y = 0; y < T["h"]; y++) for (x = 0; x < T["w"]; x++)
        T[n, c, y, x] = bnv(T[n, c, y, x], c, Wt, Bt, Mt, Vt)
}
function relu(T,   k) { for (k in T) if (index(k, SUBSEP) && T[k] < 0) T[k] = 0 }
function add(T, S,   k) { for (k in T) if (index(k, SUBSEP)) T[k] += S[k] }

# stem conv, k x k, stride s, pad p: two taps per output channel (spatial:
# weight 1 on channel c % cin, weight 1/2 on the next channel, at other
# offsets) or zero; with hasbias a random bias (the VGG first conv)
function stemconv(pfx, X, Y, cout, k, s, p, hasbias,   Wt, Bv, n, c, y, x, ci, ky, kx, src, TY, TX, TY2, TX2, iy, ix, i, cin) {
    cin = X["c"]
    tnew(Y, cout, odim(X["h"], k, s, p), odim(X["w"], k, s, p))
    if (spatial) {
        for (c = 0; c < cout; c++) {
            src[c] = c % cin; TY[c] = (c * 5 + 1) % k; TX[c] = (c * 7 + 2 + int(c / k)) % k
            TY2[c] = (c * 3 + 2) % k; TX2[c] = (c * 5 + 1) % k
        }
        i = 0
        for (c = 0; c < cout; c++) for (ci = 0; ci < cin; ci++) for (ky = 0; ky < k; ky++) for (kx = 0; kx < k; kx++)
            Wt[i++] = (ci == src[c] && ky == TY[c] && kx == TX[c]) ? 1 : \
                      (ci == (src[c] + 1) % cin && ky == TY2[c] && kx == TX2[c]) ? 0.5 : 0
        emit_vals(pfx ".weight", cout "x" cin "x" k "x" k, i, Wt)
    } else {
        emit_zero(pfx ".weight", cout "x" cin "x" k "x" k)
    }
    for (c = 0; c < cout; c++) Bv[c] = 0
    if (hasbias) { for (c = 0; c < cout; c++) Bv[c] = rnd(); emit_vals(pfx ".bias", cout, cout, Bv) }
    for (n = 0; n < batch; n++) for (c = 0; c < cout; c++) for (y = 0; y < Y["h"]; y++) for (x = 0; x < Y["w"]; x++) {
        Y[n, c, y, x] = Bv[c]
        if (spatial) {
            iy = y * s + TY[c] - p; ix = x * s + TX[c] - p
            if (iy >= 0 && iy < X["h"] && ix >= 0 && ix < X["w"]) Y[n, c, y, x] += X[n, src[c], iy, ix]
            iy = y * s + TY2[c] - p; ix = x * s + TX2[c] - p
            if (iy >= 0 && iy < X["h"] && ix >= 0 && ix < X["w"]) Y[n, c, y, x] += 0.5 * X[n, (src[c] + 1) % cin, iy, ix]
        }
    }
}

# vanilla 3x3 conv, pad 1, no bias: zero weights
function conv3(pfx, X, Y, cout, s,   n, c, y, x) {
    emit_zero(pfx ".weight", cout "x" X["c"] "x3x3")
    tnew(Y, cout, odim(X["h"], 3, s, 1), odim(X["w"], 3, s, 1))
    for (n = 0; n < batch; n++) for (c = 0; c < cout; c++) for (y = 0; y < Y["h"]; y++) for (x = 0; x < Y["w"]; x++)
        Y[n, c, y, x] = 0
}

# the weight of a flat tensor with fan-in cin: (1 .. 4) / (4 * p), p the
# power of two >= cin (exact in float; the output is about the input mean)
function flatw(cin,   p) { p = 1; while (p < cin) p *= 2; rs = (rs * 75 + 74) % 65537; return (1 + rs % 4) / (4 * p) }

# 1x1 weight [cout, cin] in mode zero | flat | dense | tap (copy channel c % cin)
# into Wt (dense, tap) or the returned constant (flat); emitted as NAME
function w1x1(name, mode, cout, cin, Wt,   c, ci, a) {
    if (mode == "zero") { emit_zero(name, cout "x" cin "x1x1"); return 0 }
    if (mode == "flat") { a = flatw(cin); print name, cout "x" cin "x1x1", "c:" a > ARGS; return a }
    for (c = 0; c < cout; c++) for (ci = 0; ci < cin; ci++)
        Wt[c * cin + ci] = mode == "tap" ? (ci == c % cin ? 1 : 0) : rnd() / 16
    emit_vals(name, cout "x" cin "x1x1", cout * cin, Wt)
    return 0
}

# sum over channels c0 .. c1-1 of A[n, c, y, x] (A a map or P[c, y, x] with n "")
function csum(A, n, c0, c1, y, x,   c, v) {
    v = 0
    for (c = c0; c < c1; c++) v += (n == "") ? A[c, y, x] : A[n, c, y, x]
    return v
}

# 1x1 conv, stride s, no bias, weights in mode MODE
function conv1x1(pfx, X, Y, cout, s, mode,   Wt, n, c, y, x, ci, cin, v, a, t) {
    cin = X["c"]
    tnew(Y, cout, odim(X["h"], 1, s, 0), odim(X["w"], 1, s, 0))
    a = w1x1(pfx ".weight", mode, cout, cin, Wt)
    for (n = 0; n < batch; n++) for (y = 0; y < Y["h"]; y++) for (x = 0; x < Y["w"]; x++) {
        if (mode == "flat") t = a * csum(X, n, 0, cin, y * s, x * s)
        for (c = 0; c < cout; c++) {
            v = 0
            if (mode == "tap") v = X[n, c % cin, y * s, x * s]
            else if (mode == "flat") v = t
            else if (mode == "dense") for (ci = 0; ci < cin; ci++) v += Wt[c * cin + ci] * X[n, ci, y * s, x * s]
            Y[n, c, y, x] = v
        }
    }
}

# SPConv with zero GWC: u3 = PWC(P(x3)) [+ biases], o3 = BN1(u3),
# o1 = BN2(CONV1x1(P(x1)) + bias), per-channel softmax of the means, blend
function sp(pfx, X, Y, cout, s,   cin, r, Wp, W1, Cb, Gb, Pb, P, n, c, y, x, ci, ho, wo, i, ap, a1, S3, S1, \
            W1t, B1t, M1t, V1t, W2t, B2t, M2t, V2t, O3, O1, m3, m1, w3, u, h, w) {
    cin = X["c"]; r = int(cin * ratio); h = X["h"]; w = X["w"]
    ho = odim(h, 3, s, 1); wo = odim(w, 3, s, 1)
    emit_zero(pfx ".gwc.weight", cout "x" int(r / 2) "x3x3")
    ap = w1x1(pfx ".pwc.weight", maps, cout, r, Wp)
    a1 = w1x1(pfx ".conv1x1.weight", maps, cout, cin - r, W1)
    for (c = 0; c < cout; c++) { Cb[c] = rnd(); Gb[c] = ALL ? rnd() : 0; Pb[c] = ALL ? rnd() : 0 }
    emit_vals(pfx ".conv1x1.bias", cout, cout, Cb)
    if (ALL) { emit_vals(pfx ".gwc.bias", cout, cout, Gb); emit_vals(pfx ".pwc.bias", cout, cout, Pb) }
    bnparams(pfx ".bn1", cout, W1t, B1t, M1t, V1t)
    bnparams(pfx ".bn2", cout, W2t, B2t, M2t, V2t)
    tnew(Y, cout, ho, wo)
    for (n = 0; n < batch; n++) {
        split("", P)
        if (maps != "zero") for (ci = 0; ci < cin; ci++) for (y = 0; y < ho; y++) for (x = 0; x < wo; x++)
            P[ci, y, x] = (s == 1 || CONST) ? X[n, ci, y, x] : \
                (X[n, ci, 2 * y, 2 * x] + X[n, ci, 2 * y, 2 * x + 1] + X[n, ci, 2 * y + 1, 2 * x] + X[n, ci, 2 * y + 1, 2 * x + 1]) / 4
        if (maps == "flat") for (y = 0; y < ho; y++) for (x = 0; x < wo; x++) {
            S3[y, x] = ap * csum(P, "", 0, r, y, x); S1[y, x] = a1 * csum(P, "", r, cin, y, x)
        }
        for (c = 0; c < cout; c++) {
            m3 = 0; m1 = 0
            for (y = 0; y < ho; y++) for (x = 0; x < wo; x++) {
                u = Gb[c] + Pb[c]
                if (dense) for (ci = 0; ci < r; ci++) u += Wp[c * r + ci] * P[ci, y, x]
                if (maps == "flat") u += S3[y, x]
                O3[y, x] = bnv(u, c, W1t, B1t, M1t, V1t)
                u = Cb[c]
                if (dense) for (ci = 0; ci < cin - r; ci++) u += W1[c * (cin - r) + ci] * P[r + ci, y, x]
                if (maps == "flat") u += S1[y, x]
                O1[y, x] = bnv(u, c, W2t, B2t, M2t, V2t)
                m3 += O3[y, x]; m1 += O1[y, x]
            }
            m3 /= ho * wo; m1 /= ho * wo
            w3 = 1 / (1 + exp(m1 - m3))
            if (debug) printf "%s %d w3 %.4f\n", pfx, c, w3 > "/dev/stderr"
            for (y = 0; y < ho; y++) for (x = 0; x < wo; x++) Y[n, c, y, x] = w3 * O3[y, x] + (1 - w3) * O1[y, x]
        }
    }
}

# F.pad(x[:, :, ::2, ::2], channels planes/4 before and after)
function shortcutA(X, Y, planes,   pad, n, c, y, x) {
    pad = int(planes / 4)
    tnew(Y, X["c"] + 2 * pad, CONST ? 1 : int((X["h"] + 1) / 2), CONST ? 1 : int((X["w"] + 1) / 2))
    for (n = 0; n < batch; n++) for (c = 0; c < Y["c"]; c++) for (y = 0; y < Y["h"]; y++) for (x = 0; x < Y["w"]; x++)
        Y[n, c, y, x] = (c < pad || c >= pad + X["c"]) ? 0 : X[n, c - pad, 2 * y, 2 * x]
}

function maxpool(X, Y, k, s, p,   n, c, y, x, ky, kx, iy, ix, m, any) {
    tnew(Y, X["c"], odim(X["h"], k, s, p), odim(X["w"], k, s, p))
    for (n = 0; n < batch; n++) for (c = 0; c < X["c"]; c++) for (y = 0; y < Y["h"]; y++) for (x = 0; x < Y["w"]; x++) {
        if (CONST) { Y[n, c, y, x] = X[n, c, 0, 0]; continue }
        any = 0
        for (ky = 0; ky < k; ky++) for (kx = 0; kx < k; kx++) {
            iy = y * s + ky - p; ix = x * s + kx - p
            if (iy < 0 || iy >= X["h"] || ix < 0 || ix >= X["w"]) continue
            if (!any || X[n, c, iy, ix] > m) m = X[n, c, iy, ix]
            any = 1
        }
        Y[n, c, y, x] = m
    }
}

function basic(pfx, X, planes, s, kind, sc,   A, B, I) {
    if (kind == "sp") sp(pfx ".conv1", X, A, planes, s); else conv3(pfx ".conv1", X, A, planes, s)
    bn(pfx ".bn1", A); relu(A)
    if (kind == "sp") sp(pfx ".conv2", A, B, planes, 1); else conv3(pfx ".conv2", A, B, planes, 1)
    bn(pfx ".bn2", B)
    if (s != 1 || X["c"] != planes) {
        if (sc == "B") { conv1x1(pfx ".downsample.0", X, I, planes, s, DSMODE); bn(pfx ".downsample.1", I) }
        else shortcutA(X, I, planes)
        add(B, I)
    } else add(B, X)
    relu(B); tcopy(B, X)
}

function bottleneck(pfx, X, planes, s,   A, B, C, I) {
    conv1x1(pfx ".conv1", X, A, planes, 1, maps); bn(pfx ".bn1", A); relu(A)
    sp(pfx ".conv2", A, B, planes, s); bn(pfx ".bn2", B); relu(B)
    conv1x1(pfx ".conv3", B, C, 4 * planes, 1, maps); bn(pfx ".bn3", C)
    if (s != 1 || X["c"] != 4 * planes) { conv1x1(pfx ".downsample.0", X, I, 4 * planes, s, DSMODE); bn(pfx ".downsample.1", I); add(C, I) }
    else add(C, X)
    relu(C); tcopy(C, X)
}

# Linear on the flattened [batch, c*h*w] (the model's maps are those of the
# network, or 1x1 for constant maps whose real size after the features is 1x1)
function linear(pfx, X, Y, fout,   fin, Wt, Bv, n, o, i, v, c, y, x) {
    fin = X["c"] * X["h"] * X["w"]
    for (o = 0; o < fout; o++) for (i = 0; i < fin; i++) Wt[o * fin + i] = rnd()
    for (o = 0; o < fout; o++) Bv[o] = rnd()
    if (PADDLE) {
        for (i = 0; i < fin; i++) for (o = 0; o < fout; o++) WT[i * fout + o] = Wt[o * fin + i]
        emit_vals(pfx ".weight", fin "x" fout, fin * fout, WT); split("", WT)
    } else emit_vals(pfx ".weight", fout "x" fin, fin * fout, Wt)
    emit_vals(pfx ".bias", fout, fout, Bv)
    tnew(Y, fout, 1, 1)
    for (n = 0; n < batch; n++) for (o = 0; o < fout; o++) {
        v = Bv[o]; i = 0
        for (c = 0; c < X["c"]; c++) for (y = 0; y < X["h"]; y++) for (x = 0; x < X["w"]; x++)
            v += Wt[o * fin + i++] * X[n, c, y, x]
        Y[n, o, 0, 0] = v
    }
}

# global average pool, then Linear
function head(pfx, X,   G, n, c, y, x, v) {
    tnew(G, X["c"], 1, 1)
    for (n = 0; n < batch; n++) for (c = 0; c < X["c"]; c++) {
        v = 0
        for (y = 0; y < X["h"]; y++) for (x = 0; x < X["w"]; x++) v += X[n, c, y, x]
        G[n, c, 0, 0] = v / (X["h"] * X["w"])
    }
    linear(pfx, G, X, classes)
}
