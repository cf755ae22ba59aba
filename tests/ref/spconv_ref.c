/* spconv_ref.c - the reference SPConv layer. See spconv_ref.h.
 *
 * Deliberately plain: one sample at a time, both branches materialized in
 * double, BN applied unfolded, loops in the order the math is written. No
 * attempt at speed; the only goal is to be obviously right.
 */
#include "spconv_ref.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int spconv_ref_r(int cin, double ratio)
{
    return (int)floor((double)cin * ratio);
}

int spconv_ref_check(const spconv_ref_params *p, int *ho, int *wo, char *err, size_t errlen)
{
    int r;
    if (p->cin < 2) {
        snprintf(err, errlen, "cin %d: SPConv needs at least 2 input channels", p->cin);
        return -1;
    }
    if (p->cout < 1) {
        snprintf(err, errlen, "cout %d must be >= 1", p->cout);
        return -1;
    }
    if (p->h < 1 || p->w < 1) {
        snprintf(err, errlen, "input size %dx%d: H and W must be >= 1", p->h, p->w);
        return -1;
    }
    if (p->batch < 1) {
        snprintf(err, errlen, "batch %d must be >= 1", p->batch);
        return -1;
    }
    if (!(p->ratio > 0.0 && p->ratio < 1.0)) {
        snprintf(err, errlen, "ratio %g must be in (0, 1)", p->ratio);
        return -1;
    }
    if (p->groups < 1) {
        snprintf(err, errlen, "groups %d must be >= 1", p->groups);
        return -1;
    }
    if (p->stride != 1 && p->stride != 2) {
        snprintf(err, errlen, "stride %d must be 1 or 2", p->stride);
        return -1;
    }
    if (!(p->eps >= 0.0) || !isfinite(p->eps)) {
        snprintf(err, errlen, "eps %g must be finite and >= 0", p->eps);
        return -1;
    }
    r = spconv_ref_r(p->cin, p->ratio);
    if (r < 1 || p->cin - r < 1) {
        snprintf(err, errlen, "cin %d ratio %g gives r = %d representative and %d redundant channels; both must be >= 1",
                 p->cin, p->ratio, r, p->cin - r);
        return -1;
    }
    if (r % p->groups != 0) {
        snprintf(err, errlen, "r = floor(%d * %g) = %d is not divisible by groups %d", p->cin, p->ratio, r, p->groups);
        return -1;
    }
    if (p->cout % p->groups != 0) {
        snprintf(err, errlen, "cout %d is not divisible by groups %d", p->cout, p->groups);
        return -1;
    }
    if (p->stride == 2 && (p->h % 2 != 0 || p->w % 2 != 0)) {
        snprintf(err, errlen,
                 "stride 2 needs even H and W (got %dx%d): AvgPool2d gives floor(H/2), the 3x3 conv ceil(H/2)",
                 p->h, p->w);
        return -1;
    }
    {
        /* keep every index comfortably inside size_t and int */
        double total = (double)p->batch * (double)p->cin * (double)p->h * (double)p->w;
        double total_out = (double)p->batch * (double)p->cout * (double)p->h * (double)p->w;
        if (total > 1e10 || total_out > 1e10 || (double)p->cout * p->cin * 9.0 > 1e10) {
            snprintf(err, errlen, "layer too large for the reference");
            return -1;
        }
    }
    if (ho)
        *ho = (p->h + 2 - 3) / p->stride + 1;
    if (wo)
        *wo = (p->w + 2 - 3) / p->stride + 1;
    return 0;
}

static double bn_apply(const ref_bn *bn, int c, double v, double eps)
{
    return (v - (double)bn->mean[c]) / sqrt((double)bn->var[c] + eps) * (double)bn->weight[c] +
           (double)bn->bias[c];
}

int spconv_ref_run(const spconv_ref_params *p, const float *in, float *out)
{
    char err[256];
    int ho, wo;
    if (spconv_ref_check(p, &ho, &wo, err, sizeof err)) {
        fprintf(stderr, "spconv_ref: %s\n", err);
        return -1;
    }
    const int C = p->cin, Co = p->cout, H = p->h, W = p->w, s = p->stride, g = p->groups;
    const int r = spconv_ref_r(C, p->ratio), r1 = C - r;
    const int rg = r / g;    /* input channels per GWC group */
    const int cog = Co / g;  /* output channels per GWC group */
    const size_t plane = (size_t)ho * (size_t)wo;

    double *xd = malloc((size_t)C * (size_t)H * (size_t)W * sizeof(double)); /* x of one sample */
    double *px = malloc((size_t)C * plane * sizeof(double));                /* P(x), all channels */
    double *o3 = malloc((size_t)Co * plane * sizeof(double));
    double *o1 = malloc((size_t)Co * plane * sizeof(double));
    if (!xd || !px || !o3 || !o1) {
        fprintf(stderr, "spconv_ref: out of memory\n");
        free(xd);
        free(px);
        free(o3);
        free(o1);
        return -1;
    }

#define X(ci, y, x) xd[((size_t)(ci) * (size_t)H + (size_t)(y)) * (size_t)W + (size_t)(x)]
#define PX(ci, y, x) px[((size_t)(ci) * (size_t)ho + (size_t)(y)) * (size_t)wo + (size_t)(x)]
#define O(buf, c, y, x) buf[((size_t)(c) * (size_t)ho + (size_t)(y)) * (size_t)wo + (size_t)(x)]

    for (int n = 0; n < p->batch; n++) {
        const float *xs = in + (size_t)n * (size_t)C * (size_t)H * (size_t)W;
        float *os = out + (size_t)n * (size_t)Co * plane;

        for (size_t i = 0; i < (size_t)C * (size_t)H * (size_t)W; i++)
            xd[i] = (double)xs[i];

        /* P: identity at stride 1, AvgPool2d(kernel 2, stride 2) at stride 2 */
        for (int ci = 0; ci < C; ci++)
            for (int y = 0; y < ho; y++)
                for (int x = 0; x < wo; x++) {
                    if (s == 1)
                        PX(ci, y, x) = X(ci, y, x);
                    else
                        PX(ci, y, x) = (X(ci, 2 * y, 2 * x) + X(ci, 2 * y, 2 * x + 1) +
                                        X(ci, 2 * y + 1, 2 * x) + X(ci, 2 * y + 1, 2 * x + 1)) / 4.0;
                }

        /* representative branch: u3 = GWC(x3) + PWC(P(x3)), o3 = BN1(u3) */
        for (int c = 0; c < Co; c++) {
            const int grp = c / cog;
            for (int y = 0; y < ho; y++)
                for (int x = 0; x < wo; x++) {
                    double gwc = 0.0, pwc = 0.0;
                    for (int cl = 0; cl < rg; cl++) {
                        const int ci = grp * rg + cl; /* channel of x3 (= channel of x) */
                        for (int ky = 0; ky < 3; ky++) {
                            const int iy = s * y + ky - 1;
                            if (iy < 0 || iy >= H)
                                continue; /* zero padding */
                            for (int kx = 0; kx < 3; kx++) {
                                const int ix = s * x + kx - 1;
                                if (ix < 0 || ix >= W)
                                    continue;
                                gwc += (double)p->gwc_w[(((size_t)c * rg + cl) * 3 + ky) * 3 + kx] * X(ci, iy, ix);
                            }
                        }
                    }
                    if (p->gwc_b)
                        gwc += (double)p->gwc_b[c];
                    for (int ci = 0; ci < r; ci++)
                        pwc += (double)p->pwc_w[(size_t)c * r + ci] * PX(ci, y, x);
                    if (p->pwc_b)
                        pwc += (double)p->pwc_b[c];
                    O(o3, c, y, x) = bn_apply(&p->bn1, c, gwc + pwc, p->eps);
                }
        }

        /* redundant branch: o1 = BN2(CONV1x1(P(x1)) + bias) */
        for (int c = 0; c < Co; c++)
            for (int y = 0; y < ho; y++)
                for (int x = 0; x < wo; x++) {
                    double v = 0.0;
                    for (int ci = 0; ci < r1; ci++)
                        v += (double)p->c1_w[(size_t)c * r1 + ci] * PX(r + ci, y, x);
                    if (p->c1_b)
                        v += (double)p->c1_b[c];
                    O(o1, c, y, x) = bn_apply(&p->bn2, c, v, p->eps);
                }

        /* per-channel means of the materialized branches, softmax, blend */
        for (int c = 0; c < Co; c++) {
            double m3 = 0.0, m1 = 0.0, mx, e3, e1, w3, w1;
            for (int y = 0; y < ho; y++)
                for (int x = 0; x < wo; x++) {
                    m3 += O(o3, c, y, x);
                    m1 += O(o1, c, y, x);
                }
            m3 /= (double)plane;
            m1 /= (double)plane;
            mx = m3 > m1 ? m3 : m1;
            e3 = exp(m3 - mx);
            e1 = exp(m1 - mx);
            w3 = e3 / (e3 + e1);
            w1 = e1 / (e3 + e1);
            for (int y = 0; y < ho; y++)
                for (int x = 0; x < wo; x++) {
                    double v = w3 * O(o3, c, y, x) + w1 * O(o1, c, y, x);
                    if (p->has_bn)
                        v = bn_apply(&p->bn, c, v, p->eps);
                    if (p->relu && v < 0.0)
                        v = 0.0;
                    os[((size_t)c * (size_t)ho + (size_t)y) * (size_t)wo + (size_t)x] = (float)v;
                }
        }
    }
#undef X
#undef PX
#undef O
    free(xd);
    free(px);
    free(o3);
    free(o1);
    return 0;
}
