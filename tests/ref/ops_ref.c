/* ops_ref.c - reference CNN operators. See ops_ref.h.
 *
 * Deliberately plain: loops in the order the definition is written, sums in
 * double. The only concession to speed is that the convolution accumulates a
 * whole output plane at a time (same summation order per output element as
 * the textbook loop: input channel, then ky, then kx).
 */
#include "ops_ref.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int ops_ref_pool_dim(int in, int k, int stride, int pad)
{
    if (in < 1 || k < 1 || stride < 1 || pad < 0)
        return -1;
    if ((long)in + 2L * pad < (long)k)
        return -1;
    return (int)(((long)in + 2L * pad - k) / stride + 1);
}

int conv2d_ref(const float *in, int n, int cin, int h, int w, const float *weight, const float *bias,
               int cout, int k, int stride, int pad, int groups, float *out)
{
    const int ho = ops_ref_pool_dim(h, k, stride, pad), wo = ops_ref_pool_dim(w, k, stride, pad);
    const int cig = cin / groups;  /* input channels per group */
    const int cog = cout / groups; /* output channels per group */
    const size_t plane = (size_t)ho * (size_t)wo, iplane = (size_t)h * (size_t)w;
    double *acc = malloc(plane * sizeof(double));
    if (!acc) {
        fprintf(stderr, "conv2d_ref: out of memory\n");
        return -1;
    }
    for (int b = 0; b < n; b++)
        for (int co = 0; co < cout; co++) {
            const int grp = co / cog;
            for (size_t i = 0; i < plane; i++)
                acc[i] = 0.0;
            for (int cl = 0; cl < cig; cl++) {
                const float *xp = in + ((size_t)b * (size_t)cin + (size_t)(grp * cig + cl)) * iplane;
                for (int ky = 0; ky < k; ky++)
                    for (int kx = 0; kx < k; kx++) {
                        const double wv = (double)weight[(((size_t)co * (size_t)cig + (size_t)cl) * (size_t)k +
                                                          (size_t)ky) * (size_t)k + (size_t)kx];
                        for (int y = 0; y < ho; y++) {
                            const int iy = y * stride + ky - pad;
                            if (iy < 0 || iy >= h)
                                continue; /* zero padding */
                            for (int x = 0; x < wo; x++) {
                                const int ix = x * stride + kx - pad;
                                if (ix < 0 || ix >= w)
                                    continue;
                                acc[(size_t)y * (size_t)wo + (size_t)x] +=
                                    wv * (double)xp[(size_t)iy * (size_t)w + (size_t)ix];
                            }
                        }
                    }
            }
            {
                float *op = out + ((size_t)b * (size_t)cout + (size_t)co) * plane;
                const double bv = bias ? (double)bias[co] : 0.0;
                for (size_t i = 0; i < plane; i++)
                    op[i] = (float)(acc[i] + bv);
            }
        }
    free(acc);
    return 0;
}

void batchnorm2d_ref(float *x, int n, int c, size_t hw, const ref_bn *bn, double eps)
{
    for (int b = 0; b < n; b++)
        for (int ch = 0; ch < c; ch++) {
            const double mean = (double)bn->mean[ch], sd = sqrt((double)bn->var[ch] + eps);
            const double wv = (double)bn->weight[ch], bv = (double)bn->bias[ch];
            float *p = x + ((size_t)b * (size_t)c + (size_t)ch) * hw;
            for (size_t i = 0; i < hw; i++)
                p[i] = (float)(((double)p[i] - mean) / sd * wv + bv);
        }
}

void batchnorm1d_ref(float *x, int n, int features, const ref_bn *bn, double eps)
{
    batchnorm2d_ref(x, n, features, 1, bn, eps);
}

void relu_ref(float *x, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (x[i] < 0.0f)
            x[i] = 0.0f;
}

void add_ref(float *y, const float *x, size_t count)
{
    for (size_t i = 0; i < count; i++)
        y[i] = (float)((double)y[i] + (double)x[i]);
}

void maxpool2d_ref(const float *in, int n, int c, int h, int w, int k, int stride, int pad, float *out)
{
    const int ho = ops_ref_pool_dim(h, k, stride, pad), wo = ops_ref_pool_dim(w, k, stride, pad);
    for (int b = 0; b < n; b++)
        for (int ch = 0; ch < c; ch++) {
            const float *xp = in + ((size_t)b * (size_t)c + (size_t)ch) * (size_t)h * (size_t)w;
            float *op = out + ((size_t)b * (size_t)c + (size_t)ch) * (size_t)ho * (size_t)wo;
            for (int y = 0; y < ho; y++)
                for (int x = 0; x < wo; x++) {
                    double m = -INFINITY; /* padding is -inf: it never wins */
                    for (int ky = 0; ky < k; ky++) {
                        const int iy = y * stride + ky - pad;
                        if (iy < 0 || iy >= h)
                            continue;
                        for (int kx = 0; kx < k; kx++) {
                            const int ix = x * stride + kx - pad;
                            if (ix < 0 || ix >= w)
                                continue;
                            const double v = (double)xp[(size_t)iy * (size_t)w + (size_t)ix];
                            if (v > m || isnan(v))
                                m = v;
                        }
                    }
                    op[(size_t)y * (size_t)wo + (size_t)x] = (float)m;
                }
        }
}

void global_avgpool_ref(const float *in, int n, int c, int h, int w, float *out)
{
    const size_t plane = (size_t)h * (size_t)w;
    for (int b = 0; b < n; b++)
        for (int ch = 0; ch < c; ch++) {
            const float *xp = in + ((size_t)b * (size_t)c + (size_t)ch) * plane;
            double s = 0.0;
            for (size_t i = 0; i < plane; i++)
                s += (double)xp[i];
            out[(size_t)b * (size_t)c + (size_t)ch] = (float)(s / (double)plane);
        }
}

void linear_ref(const float *in, int n, int fin, const float *weight, const float *bias, int fout,
                int transposed, float *out)
{
    for (int b = 0; b < n; b++)
        for (int o = 0; o < fout; o++) {
            double s = 0.0;
            for (int i = 0; i < fin; i++) {
                const float wv = transposed ? weight[(size_t)i * (size_t)fout + (size_t)o]
                                            : weight[(size_t)o * (size_t)fin + (size_t)i];
                s += (double)wv * (double)in[(size_t)b * (size_t)fin + (size_t)i];
            }
            if (bias)
                s += (double)bias[o];
            out[(size_t)b * (size_t)fout + (size_t)o] = (float)s;
        }
}

void shortcut_a_ref(const float *in, int n, int c, int h, int w, int pad, float *out)
{
    const int ho = (h + 1) / 2, wo = (w + 1) / 2, co = c + 2 * pad;
    for (int b = 0; b < n; b++)
        for (int oc = 0; oc < co; oc++) {
            float *op = out + ((size_t)b * (size_t)co + (size_t)oc) * (size_t)ho * (size_t)wo;
            const int ic = oc - pad;
            for (int y = 0; y < ho; y++)
                for (int x = 0; x < wo; x++)
                    op[(size_t)y * (size_t)wo + (size_t)x] =
                        (ic < 0 || ic >= c)
                            ? 0.0f
                            : in[(((size_t)b * (size_t)c + (size_t)ic) * (size_t)h + (size_t)(2 * y)) * (size_t)w +
                                 (size_t)(2 * x)];
        }
}
