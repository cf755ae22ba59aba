/* int8_ref.c - the int8 reference. See int8_ref.h and docs/int8.md.
 *
 * Deliberately plain: loops in the order the math is written, SPConv with
 * both branch accumulators materialized and its means summed from them (the
 * emitted code gets them from window sums instead; both are exact integers).
 */
#include "int8_ref.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define Q30 ((int32_t)1 << 30)

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static double clampd(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* ------------------------------------------------------ rounding, section 1-2 */

double q_round_away(double v)
{
    return v < 0 ? -floor(-v + 0.5) : floor(v + 0.5);
}

int64_t q_rdiv_away(int64_t n, int64_t d)
{
    return n >= 0 ? (n + d / 2) / d : -((-n + d / 2) / d);
}

int32_t q_srdhm(int32_t a, int32_t b)
{
    if (a == INT32_MIN && b == INT32_MIN)
        return INT32_MAX;
    const int64_t ab = (int64_t)a * b;
    const int64_t nudge = ab >= 0 ? ((int64_t)1 << 30) : 1 - ((int64_t)1 << 30);
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

int32_t q_rdivpot(int32_t x, int n)
{
    const int32_t mask = (int32_t)(((int64_t)1 << n) - 1);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> n) + (remainder > threshold ? 1 : 0);
}

int32_t q_rq(int32_t x, int32_t m, int e)
{
    const int left = e > 0 ? e : 0, right = e > 0 ? 0 : -e;
    const int64_t shifted = (int64_t)x * ((int64_t)1 << left);
    return q_rdivpot(q_srdhm((int32_t)clamp64(shifted, INT32_MIN, INT32_MAX), m), right);
}

void q_quantize_multiplier(double M, int32_t *m, int *e)
{
    int ex;
    double q;
    int64_t qf;
    if (M == 0) {
        *m = 0;
        *e = 0;
        return;
    }
    q = frexp(M, &ex);
    qf = (int64_t)q_round_away(q * 2147483648.0);
    if (qf == ((int64_t)1 << 31) || qf == -((int64_t)1 << 31)) {
        qf /= 2;
        ex += 1;
    }
    if (ex < -31) {
        qf = 0;
        ex = 0;
    }
    if (ex > 30) {
        qf = qf > 0 ? INT32_MAX : -INT32_MAX;
        ex = 30;
    }
    *m = (int32_t)qf;
    *e = ex;
}

/* ------------------------------------------------------ entry points, section 4 */

int8_t q_quantize_input(float x, float scale, int32_t zp)
{
    float v = x / scale;
    if (v != v)
        v = 0.0f;
    v = v < -512.0f ? -512.0f : v > 512.0f ? 512.0f : v;
    return (int8_t)clamp64((int64_t)zp + (int32_t)roundf(v), -128, 127);
}

float q_dequantize(int8_t q, float scale, int32_t zp)
{
    return scale * (float)((int32_t)q - zp);
}

/* ------------------------------------------------------ attention, 5.4 and 5.5 */

float q_exp_neg(float t)
{
    float kf, r, p, scale;
    int32_t k;
    uint32_t bits;
    if (t < -80.0f)
        return 0.0f;
    kf = t * 0x1.715476p+0f;
    k = (int32_t)(kf - 0.5f);
    r = t - (float)k * 0x1.62e4p-1f;
    r = r - (float)k * 0x1.7f7d1cp-20f;
    p = 0x1.a01a02p-13f;
    p = p * r + 0x1.6c16c2p-10f;
    p = p * r + 0x1.111112p-7f;
    p = p * r + 0x1.555556p-5f;
    p = p * r + 0x1.555556p-3f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    bits = (uint32_t)(k + 127) << 23;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

const int32_t q_sigmoid_q30[65] = {
    536870912,  570381721,  603632421,  636370916,  668360618,  699386960,  729262575,  757830903,
    784968172,  810583795,  834619371,  857046527,  877863909,  897093617,  914777356,  930972558,
    945748661,  959183671,  971361116,  982367420,  992289723,  1001214117, 1009224275, 1016400435,
    1022818680, 1028550470, 1033662384, 1038216025, 1042268056, 1045870324, 1049070061, 1051910126,
    1054429278, 1056662466, 1058641119, 1060393441, 1061944684, 1063317427, 1064531819, 1065605823,
    1066555430, 1067394862, 1068136757, 1068792334, 1069371547, 1069883223, 1070335182, 1070734352,
    1071086865, 1071398150, 1071673008, 1071915687, 1072129942, 1072319092, 1072486072, 1072633474,
    1072763590, 1072878443, 1072979821, 1073069303, 1073148282, 1073217991, 1073279517, 1073333819,
    1073381745};

int32_t q_w3_float(int32_t mean3, int32_t mean1, float k3, float k1, float b3, float b1)
{
    const float m3 = (float)mean3 * k3 + b3;
    const float m1 = (float)mean1 * k1 + b1;
    const float d = m3 - m1;
    const float e = q_exp_neg(-fabsf(d));
    const float big = 1.0f / (1.0f + e);
    const int32_t wbig = (int32_t)(big * 1073741824.0f);
    return d >= 0.0f ? wbig : Q30 - wbig;
}

int32_t q_w3_fixed(int32_t mean3, int32_t mean1, int32_t md3, int ed3, int32_t md1, int ed1, int32_t db)
{
    const int64_t dq = (int64_t)q_rq(mean3, md3, ed3) - q_rq(mean1, md1, ed1) + db;
    const int32_t a = (int32_t)clamp64(dq < 0 ? -dq : dq, 0, 2048);
    const int32_t i = a >> 5, f = a & 31;
    const int32_t wbig =
        i == 64 ? q_sigmoid_q30[64]
                : q_sigmoid_q30[i] + (int32_t)(((int64_t)(q_sigmoid_q30[i + 1] - q_sigmoid_q30[i]) * f + 16) >> 5);
    return dq >= 0 ? wbig : Q30 - wbig;
}

/* ------------------------------------------------------ operators */

static int8_t store(int64_t v, int relu, int32_t zp_out)
{
    const int64_t lo = relu ? (zp_out > -128 ? zp_out : -128) : -128;
    return (int8_t)clamp64(v, lo, 127);
}

static size_t at(const q_shape *s, int n, int c, int y, int x)
{
    return (((size_t)n * (size_t)s->c + (size_t)c) * (size_t)s->h + (size_t)y) * (size_t)s->w + (size_t)x;
}

/* x - zp at (n, c, y, x), 0 outside the plane (padding is real zero) */
static int32_t xv(const q_shape *s, const int8_t *x, int n, int c, int y, int xx)
{
    if (y < 0 || y >= s->h || xx < 0 || xx >= s->w)
        return 0;
    return (int32_t)x[at(s, n, c, y, xx)] - s->zp;
}

void q_conv_multiplier(float s_in, float s_w, float s_out, int32_t *m, int *e)
{
    q_quantize_multiplier(((double)s_in * (double)s_w) / (double)s_out, m, e);
}

int64_t q_conv_bound(const int8_t *w, size_t taps, int32_t bias)
{
    int64_t s = 0;
    for (size_t i = 0; i < taps; i++)
        s += w[i] < 0 ? -w[i] : w[i];
    return 255 * s + (bias < 0 ? -(int64_t)bias : bias);
}

int q_conv2d(const q_shape *in, const int8_t *x, const int8_t *wt, const int32_t *bias, const int32_t *m,
             const int *e, int k, int stride, int pad, int groups, int relu, const q_shape *out, int8_t *y,
             char *err, size_t errlen)
{
    const int cig = in->c / groups, cog = out->c / groups;
    for (int n = 0; n < in->n; n++)
        for (int co = 0; co < out->c; co++)
            for (int oy = 0; oy < out->h; oy++)
                for (int ox = 0; ox < out->w; ox++) {
                    int64_t acc = bias[co];
                    for (int cl = 0; cl < cig; cl++)
                        for (int ky = 0; ky < k; ky++)
                            for (int kx = 0; kx < k; kx++)
                                acc += (int64_t)wt[(((size_t)co * (size_t)cig + (size_t)cl) * (size_t)k + (size_t)ky) *
                                                       (size_t)k + (size_t)kx] *
                                       xv(in, x, n, (co / cog) * cig + cl, oy * stride + ky - pad,
                                          ox * stride + kx - pad);
                    if (acc < INT32_MIN || acc > INT32_MAX) {
                        snprintf(err, errlen, "output channel %d: accumulator %lld leaves int32", co, (long long)acc);
                        return -1;
                    }
                    y[at(out, n, co, oy, ox)] =
                        store((int64_t)out->zp + q_rq((int32_t)acc, m[co], e[co]), relu, out->zp);
                }
    return 0;
}

/* ------------------------------------------------------ spconv, section 5 */

static int e_q8(double v, int32_t *r)
{
    const double q = q_round_away(v * 256.0);
    if (!(q >= -2147483647.0 && q <= 2147483647.0))
        return -1;
    *r = (int32_t)q;
    return 0;
}

int q_spconv_prepare(const q_shape *in, const q_spconv_w *p, const q_shape *out, q_spconv_chan *chan,
                     char *err, size_t errlen)
{
    const int rg = p->r / p->groups, cog = out->c / p->groups, pool = p->stride == 2 ? 4 : 1;
    const double s_in = in->scale, s_out = out->scale;
    const int64_t plane = (int64_t)out->h * out->w;
    for (int c = 0; c < out->c; c++) {
        q_spconv_chan *k = &chan[c];
        const double pa = p->pa[c], s3 = p->s3[c], s1 = p->s1[c];
        const int g0 = (c / cog) * rg;
        int64_t sum3 = 0, sum1 = 0;
        for (int i = 0; i < rg * 9; i++)
            sum3 += abs(p->g[(size_t)c * (size_t)rg * 9 + (size_t)i]);
        for (int ci = 0; ci < in->c; ci++) {
            const int v = p->q[(size_t)c * (size_t)in->c + (size_t)ci];
            if (ci >= g0 && ci < g0 + rg) {
                if (v) {
                    snprintf(err, errlen, "q[%d][%d] = %d: the group's own representative columns must be 0", c,
                             ci, v);
                    return -1;
                }
            } else if (ci < p->r) {
                sum3 += (int64_t)pool * abs(v);
            } else {
                sum1 += (int64_t)pool * abs(v);
            }
        }
        if (255 * sum3 > INT32_MAX || 255 * sum1 > INT32_MAX) {
            snprintf(err, errlen, "output channel %d: accumulator bound %lld exceeds 2^31 - 1", c,
                     (long long)(255 * (sum3 > sum1 ? sum3 : sum1)));
            return -1;
        }
        if ((sum3 > 0 && plane > INT64_MAX / (255 * sum3)) || (sum1 > 0 && plane > INT64_MAX / (255 * sum1))) {
            snprintf(err, errlen, "output channel %d: the plane sum of the accumulator may exceed int64", c);
            return -1;
        }
        q_quantize_multiplier(((pa * s_in) * s3) / s_out, &k->ma3, &k->ea3);
        q_quantize_multiplier(((pa * s_in) * s1) / s_out, &k->ma1, &k->ea1);
        if (e_q8((pa * (double)p->b3[c]) / s_out, &k->e3q8) || e_q8((pa * (double)p->b1[c]) / s_out, &k->e1q8) ||
            e_q8((double)p->pb[c] / s_out, &k->e0q8)) {
            snprintf(err, errlen, "output channel %d: an offset E3, E1 or E0 exceeds int32 in Q8", c);
            return -1;
        }
        q_quantize_multiplier((s_in * s3) * 256.0, &k->md3, &k->ed3);
        q_quantize_multiplier((s_in * s1) * 256.0, &k->md1, &k->ed1);
        k->db = (int32_t)clampd(q_round_away(((double)p->b3[c] - (double)p->b1[c]) * 256.0), -(double)(1 << 24),
                                (double)(1 << 24));
    }
    return 0;
}

int q_spconv(const q_shape *in, const int8_t *x, const q_spconv_w *p, const q_spconv_chan *chan,
             const q_shape *out, int8_t *y, char *err, size_t errlen)
{
    const int C = in->c, s = p->stride, r = p->r, rg = r / p->groups, cog = out->c / p->groups;
    const size_t plane = (size_t)out->h * (size_t)out->w;
    int64_t *acc3 = malloc(plane * sizeof *acc3), *acc1 = malloc(plane * sizeof *acc1);
    int rc = -1;
    if (!acc3 || !acc1) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    for (int n = 0; n < in->n; n++)
        for (int c = 0; c < out->c; c++) {
            const q_spconv_chan *k = &chan[c];
            const int g0 = (c / cog) * rg;
            int64_t sum3 = 0, sum1 = 0;
            int32_t mean3, mean1, w3, w1, m3, m1, off;
            for (int oy = 0; oy < out->h; oy++)
                for (int ox = 0; ox < out->w; ox++) {
                    int64_t a3 = 0, a1 = 0;
                    for (int j = 0; j < rg; j++)
                        for (int ky = 0; ky < 3; ky++)
                            for (int kx = 0; kx < 3; kx++)
                                a3 += (int64_t)p->g[((size_t)c * (size_t)rg + (size_t)j) * 9 + (size_t)(ky * 3 + kx)] *
                                      xv(in, x, n, g0 + j, s * oy + ky - 1, s * ox + kx - 1);
                    for (int ci = 0; ci < C; ci++) {
                        int32_t pv;
                        if (ci >= g0 && ci < g0 + rg)
                            continue; /* its PWC is in the merged taps */
                        pv = s == 1 ? xv(in, x, n, ci, oy, ox)
                                    : xv(in, x, n, ci, 2 * oy, 2 * ox) + xv(in, x, n, ci, 2 * oy, 2 * ox + 1) +
                                          xv(in, x, n, ci, 2 * oy + 1, 2 * ox) +
                                          xv(in, x, n, ci, 2 * oy + 1, 2 * ox + 1);
                        if (ci < r)
                            a3 += (int64_t)p->q[(size_t)c * (size_t)C + (size_t)ci] * pv;
                        else
                            a1 += (int64_t)p->q[(size_t)c * (size_t)C + (size_t)ci] * pv;
                    }
                    if (a3 < INT32_MIN || a3 > INT32_MAX || a1 < INT32_MIN || a1 > INT32_MAX) {
                        snprintf(err, errlen, "output channel %d: accumulator leaves int32", c);
                        goto done;
                    }
                    acc3[(size_t)oy * (size_t)out->w + (size_t)ox] = a3;
                    acc1[(size_t)oy * (size_t)out->w + (size_t)ox] = a1;
                    sum3 += a3;
                    sum1 += a1;
                }
            mean3 = (int32_t)q_rdiv_away(sum3, (int64_t)plane);
            mean1 = (int32_t)q_rdiv_away(sum1, (int64_t)plane);
            if (p->fixed)
                w3 = q_w3_fixed(mean3, mean1, k->md3, k->ed3, k->md1, k->ed1, k->db);
            else
                w3 = q_w3_float(mean3, mean1, in->scale * p->s3[c], in->scale * p->s1[c], p->b3[c], p->b1[c]);
            w1 = Q30 - w3;
            m3 = (int32_t)(((int64_t)k->ma3 * w3 + ((int64_t)1 << 29)) >> 30);
            m1 = (int32_t)(((int64_t)k->ma1 * w1 + ((int64_t)1 << 29)) >> 30);
            off = (int32_t)(((int64_t)w3 * k->e3q8 + (int64_t)w1 * k->e1q8 + (int64_t)k->e0q8 * Q30 +
                             ((int64_t)1 << 37)) >> 38);
            for (int oy = 0; oy < out->h; oy++)
                for (int ox = 0; ox < out->w; ox++) {
                    const size_t i = (size_t)oy * (size_t)out->w + (size_t)ox;
                    const int64_t v = (int64_t)out->zp + q_rq((int32_t)acc3[i], m3, k->ea3) +
                                      q_rq((int32_t)acc1[i], m1, k->ea1) + off;
                    y[at(out, n, c, oy, ox)] = store(v, p->relu, out->zp);
                }
        }
    rc = 0;
done:
    free(acc3);
    free(acc1);
    return rc;
}

/* ------------------------------------------------------ the other ops */

void q_add(const q_shape *a, const int8_t *xa, const q_shape *b, const int8_t *xb, int relu, const q_shape *out,
           int8_t *y)
{
    const double twice_max = 2.0 * ((double)a->scale > (double)b->scale ? (double)a->scale : (double)b->scale);
    int32_t ma, mb, mo;
    int ea, eb, eo;
    const size_t count = (size_t)out->n * (size_t)out->c * (size_t)out->h * (size_t)out->w;
    q_quantize_multiplier((double)a->scale / twice_max, &ma, &ea);
    q_quantize_multiplier((double)b->scale / twice_max, &mb, &eb);
    q_quantize_multiplier(twice_max / (1048576.0 * (double)out->scale), &mo, &eo);
    for (size_t i = 0; i < count; i++) {
        const int32_t va = ((int32_t)xa[i] - a->zp) * (1 << 20), vb = ((int32_t)xb[i] - b->zp) * (1 << 20);
        const int32_t sum = q_rq(va, ma, ea) + q_rq(vb, mb, eb);
        y[i] = store((int64_t)out->zp + q_rq(sum, mo, eo), relu, out->zp);
    }
}

void q_relu(const q_shape *in, const int8_t *x, int8_t *y)
{
    const size_t count = (size_t)in->n * (size_t)in->c * (size_t)in->h * (size_t)in->w;
    for (size_t i = 0; i < count; i++)
        y[i] = x[i] < in->zp ? (int8_t)in->zp : x[i];
}

void q_maxpool(const q_shape *in, const int8_t *x, int k, int stride, int pad, const q_shape *out, int8_t *y)
{
    for (int n = 0; n < in->n; n++)
        for (int c = 0; c < in->c; c++)
            for (int oy = 0; oy < out->h; oy++)
                for (int ox = 0; ox < out->w; ox++) {
                    int m = -129; /* below every int8: padding never wins */
                    for (int ky = 0; ky < k; ky++)
                        for (int kx = 0; kx < k; kx++) {
                            const int iy = oy * stride + ky - pad, ix = ox * stride + kx - pad;
                            if (iy >= 0 && iy < in->h && ix >= 0 && ix < in->w && x[at(in, n, c, iy, ix)] > m)
                                m = x[at(in, n, c, iy, ix)];
                        }
                    y[at(out, n, c, oy, ox)] = (int8_t)m;
                }
}

void q_avgpool(const q_shape *in, const int8_t *x, int k, int stride, int pad, int include_pad, const q_shape *out,
               int8_t *y)
{
    for (int n = 0; n < in->n; n++)
        for (int c = 0; c < in->c; c++)
            for (int oy = 0; oy < out->h; oy++)
                for (int ox = 0; ox < out->w; ox++) {
                    int64_t sum = 0, count = 0;
                    for (int ky = 0; ky < k; ky++)
                        for (int kx = 0; kx < k; kx++) {
                            const int iy = oy * stride + ky - pad, ix = ox * stride + kx - pad;
                            sum += xv(in, x, n, c, iy, ix);
                            count += iy >= 0 && iy < in->h && ix >= 0 && ix < in->w;
                        }
                    y[at(out, n, c, oy, ox)] =
                        store((int64_t)in->zp + q_rdiv_away(sum, include_pad ? (int64_t)k * k : count), 0, in->zp);
                }
}

void q_global_avgpool(const q_shape *in, const int8_t *x, int8_t *y)
{
    const int64_t plane = (int64_t)in->h * in->w;
    for (int n = 0; n < in->n; n++)
        for (int c = 0; c < in->c; c++) {
            int64_t sum = 0;
            for (int yy = 0; yy < in->h; yy++)
                for (int xx = 0; xx < in->w; xx++)
                    sum += xv(in, x, n, c, yy, xx);
            y[(size_t)n * (size_t)in->c + (size_t)c] = store((int64_t)in->zp + q_rdiv_away(sum, plane), 0, in->zp);
        }
}

void q_softmax(const q_shape *in, const int8_t *x, int8_t *y)
{
    for (int n = 0; n < in->n; n++)
        for (int yy = 0; yy < in->h; yy++)
            for (int xx = 0; xx < in->w; xx++) {
                int qmax = -128;
                float sum = 0.0f;
                for (int c = 0; c < in->c; c++)
                    if (x[at(in, n, c, yy, xx)] > qmax)
                        qmax = x[at(in, n, c, yy, xx)];
                for (int c = 0; c < in->c; c++)
                    sum = sum + q_exp_neg(in->scale * (float)(x[at(in, n, c, yy, xx)] - qmax));
                for (int c = 0; c < in->c; c++) {
                    const float p = q_exp_neg(in->scale * (float)(x[at(in, n, c, yy, xx)] - qmax)) / sum;
                    y[at(in, n, c, yy, xx)] = (int8_t)clamp64((int32_t)(p * 256.0f + 0.5f) - 128, -128, 127);
                }
            }
}

void q_shortcut_a(const q_shape *in, const int8_t *x, int stride, const q_shape *out, int8_t *y)
{
    const int before = (out->c - in->c) / 2;
    for (int n = 0; n < in->n; n++)
        for (int c = 0; c < out->c; c++)
            for (int oy = 0; oy < out->h; oy++)
                for (int ox = 0; ox < out->w; ox++) {
                    const int ic = c - before;
                    y[at(out, n, c, oy, ox)] =
                        ic < 0 || ic >= in->c ? (int8_t)in->zp : x[at(in, n, ic, oy * stride, ox * stride)];
                }
}
