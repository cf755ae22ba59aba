# spconv_q_model.awk - one SPConv layer twice: float weights for the fp32
# reference (build/ref_spconv) and the same layer folded and quantized as
# docs/int8.md says (sections 3 and 5), as the body of a model file for the
# int8 reference (build/ref_net_q). tests/ref/test_ref_q.sh compares the two.
#
#   awk -f spconv_q_model.awk -v dir=D -v cin= -v cout= -v h= -v w= -v batch=
#       -v ratio= -v groups= -v stride= -v bias=official|all -v bn=0|1 -v relu=0|1 -v seed=
#
# writes D/args      mkfix st arguments: L.gwc/pwc/conv1x1 weights and biases,
#                    L.bn1, L.bn2 and (bn=1) the following batchnorm "after"
#        D/in_raw.txt the int8 input, one value a line (NCHW)
#        D/in_real.txt the same dequantized (s_in = 1/32, zero point 5: exact)
#        D/body.txt  "tensor 0 ..." and the spconv op reading tensor 0, writing 1
# Weights are multiples of 1/64 (exact in text); the fold follows design.md
# ("The one-pass form"): BN1's scale into the GWC and PWC, the PWC of a
# channel's own group merged into the taps it reads (centre, or the 2x2 pool
# window times 1/4), the other 1x1 weights times 1/4 at stride 2.

BEGIN {
    EPS = 1e-5
    SIN = 1 / 32; ZPIN = 5
    rs = (seed * 7919 + 1) % 65537
    r = int(cin * ratio); rg = r / groups; cog = cout / groups
    A = dir "/args"; printf "" > A

    # float weights
    for (c = 0; c < cout; c++) for (j = 0; j < rg; j++) for (t = 0; t < 9; t++) GW[c, j, t] = rnd() / 2
    for (c = 0; c < cout; c++) for (ci = 0; ci < r; ci++) PW[c, ci] = rnd() / 2
    for (c = 0; c < cout; c++) for (ci = 0; ci < cin - r; ci++) CW[c, ci] = rnd() / 2
    for (c = 0; c < cout; c++) { CB[c] = rnd(); GB[c] = bias == "all" ? rnd() : 0; PBI[c] = bias == "all" ? rnd() : 0 }
    emit4("L.gwc.weight", cout "x" rg "x3x3", GW, cout, rg, 9)
    emit4("L.pwc.weight", cout "x" r "x1x1", PW, cout, r, 1)
    emit4("L.conv1x1.weight", cout "x" (cin - r) "x1x1", CW, cout, cin - r, 1)
    emit1("L.conv1x1.bias", CB)
    if (bias == "all") { emit1("L.gwc.bias", GB); emit1("L.pwc.bias", PBI) }
    bnp("L.bn1", W1, B1, M1, V1); bnp("L.bn2", W2, B2, M2, V2)
    if (bn) bnp("after", W3, B3, M3, V3)

    # input
    for (i = 0; i < batch * cin * h * w; i++) {
        rs = (rs * 75 + 74) % 65537; q = rs % 256 - 128
        print q > (dir "/in_raw.txt"); printf "%.9g\n", SIN * (q - ZPIN) > (dir "/in_real.txt")
    }

    # fold
    for (c = 0; c < cout; c++) {
        a1 = W1[c] / sqrt(V1[c] + EPS); a2 = W2[c] / sqrt(V2[c] + EPS); g0 = int(c / cog) * rg
        for (j = 0; j < rg; j++) for (t = 0; t < 9; t++) {
            G[c, j, t] = a1 * GW[c, j, t]
            if (stride == 1 && t == 4) G[c, j, t] += a1 * PW[c, g0 + j]
            if (stride == 2 && (t == 4 || t == 5 || t == 7 || t == 8)) G[c, j, t] += a1 * PW[c, g0 + j] / 4
        }
        for (ci = 0; ci < cin; ci++)
            Q[c, ci] = (ci >= g0 && ci < g0 + rg) ? 0 : \
                       (ci < r ? a1 * PW[c, ci] : a2 * CW[c, ci - r]) / (stride == 2 ? 4 : 1)
        BB3[c] = a1 * (GB[c] + PBI[c] - M1[c]) + B1[c]
        BB1[c] = a2 * (CB[c] - M2[c]) + B2[c]
        PA[c] = bn ? W3[c] / sqrt(V3[c] + EPS) : 1
        PB[c] = bn ? B3[c] - M3[c] * PA[c] : 0
    }

    # quantize per channel and branch (section 3, 5.1)
    for (c = 0; c < cout; c++) {
        m3 = 0; m1 = 0
        for (j = 0; j < rg; j++) for (t = 0; t < 9; t++) m3 = max(m3, abs(G[c, j, t]))
        for (ci = 0; ci < cin; ci++) if (ci < r) m3 = max(m3, abs(Q[c, ci])); else m1 = max(m1, abs(Q[c, ci]))
        S3[c] = m3 < 1e-30 ? 1 : m3 / 127; S1[c] = m1 < 1e-30 ? 1 : m1 / 127
    }
    B = dir "/body.txt"
    printf "tensor 0 %d %d %d %.9g %d\n", cin, h, w, SIN, ZPIN > B
    printf "input 0\nspconv L in 0 out 1 stride %d groups %d r %d relu %d\ng %d", stride, groups, r, relu, cout * rg * 9 > B
    for (c = 0; c < cout; c++) for (j = 0; j < rg; j++) for (t = 0; t < 9; t++) printf " %d", qw(G[c, j, t] / S3[c]) > B
    printf "\nq %d", cout * cin > B
    for (c = 0; c < cout; c++) for (ci = 0; ci < cin; ci++) printf " %d", qw(Q[c, ci] / (ci < r ? S3[c] : S1[c])) > B
    vec("s3", S3); vec("s1", S1); vec("b3", BB3); vec("b1", BB1); vec("pa", PA); vec("pb", PB)
    printf "\n" > B
}

function rnd() { rs = (rs * 75 + 74) % 65537; return (rs % 128 - 64) / 64 }
function rpos() { rs = (rs * 75 + 74) % 65537; return 0.5 + (rs % 64) / 64 }
function abs(v) { return v < 0 ? -v : v }
function max(a, b) { return a > b ? a : b }
function round_away(v) { return v < 0 ? -int(-v + 0.5) : int(v + 0.5) }
function qw(v) { v = round_away(v); return v > 127 ? 127 : v < -127 ? -127 : v }
function vec(name, V,   c) { printf "\n%s %d", name, cout > B; for (c = 0; c < cout; c++) printf " %.9g", V[c] > B }

function emit4(name, shape, V, n0, n1, n2,   i, j, k, f) {
    f = dir "/" name ".txt"
    for (i = 0; i < n0; i++) for (j = 0; j < n1; j++) for (k = 0; k < n2; k++) printf "%.17g\n", (n2 == 9 ? V[i, j, k] : V[i, j]) > f
    close(f); print name, shape, "f:" f > A
}
function emit1(name, V,   c, f) {
    f = dir "/" name ".txt"
    for (c = 0; c < cout; c++) printf "%.17g\n", V[c] > f
    close(f); print name, cout, "f:" f > A
}
function bnp(pfx, Wt, Bt, Mt, Vt,   c) {
    for (c = 0; c < cout; c++) { Wt[c] = rnd() < 0 && pfx == "after" ? -rpos() : rpos(); Bt[c] = rnd(); Mt[c] = rnd() / 2; Vt[c] = rpos() }
    emit1(pfx ".weight", Wt); emit1(pfx ".bias", Bt); emit1(pfx ".running_mean", Mt); emit1(pfx ".running_var", Vt)
}
