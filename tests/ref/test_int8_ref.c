/* test_int8_ref - unit tests of the int8 reference's arithmetic (int8_ref.c)
 * against values computed by hand from docs/int8.md.
 *
 *   test_int8_ref        one `PASS int8ref/<case>` or `FAIL int8ref/<case>: why`
 *                        line per case; exit 0 iff all pass.
 *
 * The suite builds it with ASan and UBSan (build/asan/test_int8_ref).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "int8_ref.h"

static int nfail;

static void check_i64(const char *name, long long got, long long want)
{
    if (got == want)
        printf("PASS int8ref/%s\n", name);
    else {
        printf("FAIL int8ref/%s: got %lld, want %lld\n", name, got, want);
        nfail++;
    }
}

static void check_qm(const char *name, double M, int32_t want_m, int want_e)
{
    int32_t m;
    int e;
    q_quantize_multiplier(M, &m, &e);
    if (m == want_m && e == want_e)
        printf("PASS int8ref/%s\n", name);
    else {
        printf("FAIL int8ref/%s: got (%ld, %d), want (%ld, %d)\n", name, (long)m, e, (long)want_m, want_e);
        nfail++;
    }
}

/* int8 arrays of a few values, compared whole */
static void check_i8s(const char *name, const int8_t *got, const int8_t *want, int n)
{
    for (int i = 0; i < n; i++)
        if (got[i] != want[i]) {
            printf("FAIL int8ref/%s: element %d is %d, want %d\n", name, i, got[i], want[i]);
            nfail++;
            return;
        }
    printf("PASS int8ref/%s\n", name);
}

static void prims(void)
{
    /* SaturatingRoundingDoublingHighMul: round(a * b / 2^31), ties toward +inf */
    check_i64("srdhm_min_min_saturates", q_srdhm(INT32_MIN, INT32_MIN), INT32_MAX);
    check_i64("srdhm_half_half", q_srdhm(1 << 30, 1 << 30), 1 << 29);
    check_i64("srdhm_max_max", q_srdhm(INT32_MAX, INT32_MAX), 2147483646);
    check_i64("srdhm_min_max", q_srdhm(INT32_MIN, INT32_MAX), -2147483647);
    check_i64("srdhm_plus_half_up", q_srdhm(1, 1 << 30), 1);           /* 0.5 -> 1 */
    check_i64("srdhm_minus_half_to_zero", q_srdhm(-1, 1 << 30), 0);    /* -0.5 -> 0 */
    check_i64("srdhm_plus_1_5", q_srdhm(3, 1 << 30), 2);               /* 1.5 -> 2 */
    check_i64("srdhm_minus_1_5", q_srdhm(-3, 1 << 30), -1);            /* -1.5 -> -1 */
    check_i64("srdhm_minus_0_75", q_srdhm(-7, 1610612736), -5);        /* -5.25 -> -5 */

    /* RoundingDivideByPOT: half away from zero */
    check_i64("rdivpot_5_1", q_rdivpot(5, 1), 3);
    check_i64("rdivpot_neg5_1", q_rdivpot(-5, 1), -3);
    check_i64("rdivpot_neg6_2", q_rdivpot(-6, 2), -2);
    check_i64("rdivpot_neg7_2", q_rdivpot(-7, 2), -2);
    check_i64("rdivpot_6_2", q_rdivpot(6, 2), 2);
    check_i64("rdivpot_neg2_2", q_rdivpot(-2, 2), -1);
    check_i64("rdivpot_neg1_2", q_rdivpot(-1, 2), 0);
    check_i64("rdivpot_exp0", q_rdivpot(-12345, 0), -12345);
    check_i64("rdivpot_min_31", q_rdivpot(INT32_MIN, 31), -1);
    check_i64("rdivpot_max_31", q_rdivpot(INT32_MAX, 31), 1);
    check_i64("rdivpot_neg_half_31", q_rdivpot(-(1 << 30), 31), -1);
    check_i64("rdivpot_half_31", q_rdivpot(1 << 30, 31), 1);

    /* rq = rdivpot(srdhm(x << left, m), right) */
    check_i64("rq_half", q_rq(100, 1 << 30, 0), 50);
    check_i64("rq_one", q_rq(100, 1 << 30, 1), 100);
    check_i64("rq_quarter_rounds", q_rq(3, 1 << 30, -1), 1);       /* 0.75 -> 1 */
    check_i64("rq_left_shift_saturates", q_rq(INT32_MAX, 1 << 30, 2), 1 << 30);
    check_i64("rq_negative_multiplier", q_rq(10, -(1 << 30), 1), -10);

    /* QuantizeMultiplier */
    check_qm("qm_zero", 0.0, 0, 0);
    check_qm("qm_one", 1.0, 1 << 30, 1);
    check_qm("qm_half", 0.5, 1 << 30, 0);
    check_qm("qm_three_quarters", 0.75, 1610612736, 0);
    check_qm("qm_just_below_one_carries", 1.0 - ldexp(1.0, -40), 1 << 30, 1);
    check_qm("qm_just_above_one", 1.0 + ldexp(1.0, -20), 1073742848, 1); /* 0.5 + 2^-21: 2^30 + 2^10 */
    check_qm("qm_tenth", 0.1, 1717986918, -3);
    check_qm("qm_1e-9", 1e-9, 1152921505, -29);
    check_qm("qm_2^-32_smallest", ldexp(1.0, -32), 1 << 30, -31);
    check_qm("qm_2^-33_is_zero", ldexp(1.0, -33), 0, 0);
    check_qm("qm_large_saturates", 3e9, INT32_MAX, 30);
    check_qm("qm_minus_one", -1.0, -(1 << 30), 1);
    check_qm("qm_minus_three_quarters", -0.75, -1610612736, 0);

    /* rounding division of the pools */
    check_i64("rdiv_7_2", q_rdiv_away(7, 2), 4);
    check_i64("rdiv_neg7_2", q_rdiv_away(-7, 2), -4);
    check_i64("rdiv_neg6_4", q_rdiv_away(-6, 4), -2);
    check_i64("rdiv_neg5_4", q_rdiv_away(-5, 4), -1);
    check_i64("rdiv_6_4", q_rdiv_away(6, 4), 2);
    check_i64("rdiv_neg4_9", q_rdiv_away(-4, 9), 0);
    check_i64("rdiv_neg5_9", q_rdiv_away(-5, 9), -1);

    /* the bound of section 6: 255 * 127 * 66311 <= 2^31 - 1 < 255 * 127 * 66312 */
    {
        static int8_t w[66312];
        memset(w, 127, sizeof w);
        check_i64("bound_fits", q_conv_bound(w, 66311, 0), 2147481735LL);
        check_i64("bound_taps_exceed", q_conv_bound(w, 66312, 0) > INT32_MAX, 1);
        check_i64("bound_bias_exceeds", q_conv_bound(w, 66311, -2000) > INT32_MAX, 1);
    }

    /* the float entry points */
    check_i64("quantize_half_away", q_quantize_input(0.5f, 1.0f, 3), 4);
    check_i64("quantize_neg_half_away", q_quantize_input(-0.5f, 1.0f, 3), 2);
    check_i64("quantize_nan_is_zero_point", q_quantize_input(NAN, 0.25f, -7), -7);
    check_i64("quantize_saturates", q_quantize_input(1e30f, 0.01f, 0), 127);
    check_i64("quantize_saturates_low", q_quantize_input(-1e30f, 0.01f, 0), -128);
    check_i64("dequantize", q_dequantize(-128, 0.5f, -128) == 0.0f && q_dequantize(127, 0.5f, -128) == 127.5f, 1);
}

static void attention(void)
{
    /* float form: d = 0 gives exactly one half; |d| >= 80 gives 1 and 0 */
    check_i64("exp_neg_zero", q_exp_neg(0.0f) == 1.0f, 1);
    check_i64("exp_neg_below_80", q_exp_neg(-80.5f) == 0.0f, 1);
    {
        double worst = 0;
        for (int i = 0; i <= 80000; i++) {
            const float t = -(float)i / 1000.0f;
            const double rel = fabs((double)q_exp_neg(t) / exp((double)t) - 1.0);
            if (rel > worst)
                worst = rel;
        }
        if (worst < 1e-6)
            printf("PASS int8ref/exp_neg_accuracy\n");
        else {
            printf("FAIL int8ref/exp_neg_accuracy: relative error %g on [-80, 0]\n", worst);
            nfail++;
        }
    }
    check_i64("w3_float_equal_means", q_w3_float(10, 5, 1.0f, 2.0f, 0.25f, 0.25f), 1 << 29);
    check_i64("w3_float_far_above", q_w3_float(0, 0, 1.0f, 1.0f, 100.0f, 0.0f), 1 << 30);
    check_i64("w3_float_far_below", q_w3_float(0, 0, 1.0f, 1.0f, 0.0f, 100.0f), 0);
    {
        /* sigmoid(1) = 0.7310585786; the float form is within 2^-20 */
        const int32_t w = q_w3_float(100, 0, 0.01f, 1.0f, 0.0f, 0.0f);
        check_i64("w3_float_sigmoid_1", fabs(w / 1073741824.0 - 0.7310585786300049) < 1e-6, 1);
        check_i64("w3_float_symmetric", q_w3_float(0, 100, 1.0f, 0.01f, 0.0f, 0.0f), (1 << 30) - w);
    }

    /* fixed form: the table at i/8, interpolation, the clamp at 8 */
    check_i64("w3_fixed_zero", q_w3_fixed(0, 0, 0, 0, 0, 0, 0), 536870912);
    check_i64("w3_fixed_one", q_w3_fixed(0, 0, 0, 0, 0, 0, 256), 784968172);
    check_i64("w3_fixed_minus_one", q_w3_fixed(0, 0, 0, 0, 0, 0, -256), 1073741824 - 784968172);
    check_i64("w3_fixed_interpolates", q_w3_fixed(0, 0, 0, 0, 0, 0, 16), 553626317);
    check_i64("w3_fixed_clamps_at_8", q_w3_fixed(0, 0, 0, 0, 0, 0, 5000), 1073381745);
    check_i64("w3_fixed_means", q_w3_fixed(1000, 0, 1 << 30, 0, 0, 0, 12), 945748661); /* 500 + 12 = 512: d = 2 */
}

/* A whole SPConv channel by hand: C = 2, r = 1, groups 1, one output channel,
 * all scales 1. At stride 1 on a 1x1 map the centre tap is the only one
 * inside; at stride 2 on a 2x2 map the taps (1,1) (1,2) (2,1) (2,2). */
/* Runs a one-channel, one-pixel layer in the attention form p->fixed names;
 * checks its output. */
static void spconv_one(const char *name, const q_shape *in, const int8_t *x, const q_spconv_w *p,
                       const q_shape *out, q_spconv_chan *chan, int want)
{
    char err[256], full[64];
    int8_t y[1];
    snprintf(full, sizeof full, "%s_%s", name, p->fixed ? "fixed" : "float");
    if (q_spconv_prepare(in, p, out, chan, err, sizeof err) || q_spconv(in, x, p, chan, out, y, err, sizeof err)) {
        printf("FAIL int8ref/%s: %s\n", full, err);
        nfail++;
        return;
    }
    check_i64(full, y[0], want);
}

static void spconv(void)
{
    char err[256];
    q_spconv_chan chan;
    const float one = 1.0f, zero = 0.0f;
    {
        /* acc3 = 2 * 5 = 10, acc1 = 2 * 5 = 10, so d = 0 and w3 = w1 = 1/2 */
        const q_shape in = {1, 2, 1, 1, 1.0f, 0}, out = {1, 1, 1, 1, 2.0f, 0};
        const int8_t x[2] = {5, 5}, g[9] = {7, 7, 7, 7, 2, 7, 7, 7, 7}, q[2] = {0, 2};
        const float b = 0.5f, pa = 2.0f, pb = -3.0f;
        for (int fixed = 0; fixed < 2; fixed++) {
            /* out = (2 * (10.5) - 3) / 2 = 9: 5 + 5 + off, off = floor(-0.5) = -1 */
            const q_spconv_w p = {1, 1, 1, 0, fixed, g, q, &one, &one, &b, &b, &pa, &pb};
            spconv_one("spconv_s1", &in, x, &p, &out, &chan, 9);
            check_i64(fixed ? "spconv_s1_fixed_offset" : "spconv_s1_float_offset", chan.e0q8, -384);
        }
    }
    {
        /* zero point 1: x - zp = [[1,2],[3,4]] and [[1,1],[1,1]]; the padding
         * taps (weight 9) read 0; acc3 = 1+4+9+16 = 30, acc1 = 5 * 4 = 20;
         * b1 = 10 makes d = 0: out = 15 + 10 + floor(5.5) = 30 */
        const q_shape in = {1, 2, 2, 2, 1.0f, 1}, out = {1, 1, 1, 1, 1.0f, 0};
        const int8_t x[8] = {2, 3, 4, 5, 2, 2, 2, 2}, g[9] = {9, 9, 9, 9, 1, 2, 9, 3, 4}, q[2] = {0, 5};
        const float b1 = 10.0f;
        for (int fixed = 0; fixed < 2; fixed++) {
            const q_spconv_w p = {2, 1, 1, 1, fixed, g, q, &one, &one, &zero, &b1, &one, &zero};
            spconv_one("spconv_s2", &in, x, &p, &out, &chan, 30);
        }
    }
    {
        /* a nonzero weight in the group's own 1x1 column is refused */
        const q_shape in = {1, 2, 1, 1, 1.0f, 0}, out = {1, 1, 1, 1, 1.0f, 0};
        const int8_t g[9] = {0}, q[2] = {1, 2};
        const q_spconv_w p = {1, 1, 1, 0, 0, g, q, &one, &one, &zero, &zero, &one, &zero};
        check_i64("spconv_own_column_refused", q_spconv_prepare(&in, &p, &out, &chan, err, sizeof err), -1);
    }
}

static void ops(void)
{
    int8_t y[9];
    {
        /* avgpool 2x2: sums -6 -> -2 (half away), -5 -> -1, 6 -> 2; zp 10 */
        const q_shape in = {1, 3, 2, 2, 1.0f, 10}, out = {1, 3, 1, 1, 1.0f, 10};
        const int8_t x[12] = {9, 8, 9, 8, 9, 9, 9, 8, 11, 12, 11, 12}, want[3] = {8, 9, 12};
        q_avgpool(&in, x, 2, 2, 0, 1, &out, y);
        check_i8s("avgpool_rounding", y, want, 3);
    }
    {
        /* padding counts (count_include_pad) and reads the zero point */
        const q_shape in = {1, 1, 2, 2, 1.0f, 10}, out = {1, 1, 2, 2, 1.0f, 10};
        const int8_t x[4] = {4, 10, 10, 10}, want[4] = {8, 10, 10, 10};
        q_avgpool(&in, x, 2, 2, 1, 1, &out, y);
        check_i8s("avgpool_padding", y, want, 4);
    }
    {
        /* without count_include_pad: corners divide by 4, edges by 6 (half
           away from zero: 21 / 6 -> 4, 27 / 6 -> 5), the centre by 9 */
        const q_shape in = {1, 1, 3, 3, 1.0f, 0}, out = {1, 1, 3, 3, 1.0f, 0};
        const int8_t x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, want[9] = {3, 4, 4, 5, 5, 6, 6, 7, 7};
        q_avgpool(&in, x, 3, 1, 1, 0, &out, y);
        check_i8s("avgpool_exclude_padding", y, want, 9);
    }
    {
        /* global: (-1 -1 -1 -2) / 4 = -1.25 -> -1; (1 + 1 + 0 + 0) / 4 -> 1 */
        const q_shape in = {1, 2, 2, 2, 1.0f, -3};
        const int8_t x[8] = {-4, -4, -4, -5, -2, -2, -3, -3}, want[2] = {-4, -2};
        q_global_avgpool(&in, x, y);
        check_i8s("global_avgpool_rounding", y, want, 2);
    }
    {
        /* add at scales 1: 3 + 4 = 7; 100 + 100 saturates; relu clamps -2 to zp_out 0 */
        const q_shape a = {1, 3, 1, 1, 1.0f, 0}, out = {1, 3, 1, 1, 1.0f, 0};
        const int8_t xa[3] = {3, 100, -3}, xb[3] = {4, 100, 1}, want[3] = {7, 127, 0};
        q_add(&a, xa, &a, xb, 1, &out, y);
        check_i8s("add_scales_1", y, want, 3);
    }
    {
        /* add with zero points and a halving output scale: ((6-2) + (3+1)) / 2 + 5 = 9 */
        const q_shape a = {1, 1, 1, 1, 1.0f, 2}, b = {1, 1, 1, 1, 1.0f, -1}, out = {1, 1, 1, 1, 2.0f, 5};
        const int8_t xa[1] = {6}, xb[1] = {3}, want[1] = {9};
        q_add(&a, xa, &b, xb, 0, &out, y);
        check_i8s("add_zero_points", y, want, 1);
    }
    {
        /* softmax: two equal logits give 0.5 -> 0; a sure one 127 and -128 */
        const q_shape in = {1, 2, 1, 2, 1.0f, 0};
        const int8_t x[4] = {5, 0, 5, -100}, want[4] = {0, 127, 0, -128};
        q_softmax(&in, x, y);
        check_i8s("softmax", y, want, 4);
    }
    {
        const q_shape in = {1, 1, 2, 2, 1.0f, -5}, out = {1, 1, 1, 1, 1.0f, -5};
        const int8_t x[4] = {-128, -7, -6, -128}, want[1] = {-6};
        int8_t r[4];
        const int8_t rwant[4] = {-5, -5, -5, -5};
        q_maxpool(&in, x, 2, 2, 0, &out, y);
        check_i8s("maxpool", y, want, 1);
        q_relu(&in, x, r);
        check_i8s("relu_is_zero_point", r, rwant, 4);
    }
    {
        /* shortcut_a: 1 channel of 2x2 to 3 channels of 1x1, padding = zp */
        const q_shape in = {1, 1, 2, 2, 1.0f, 7}, out = {1, 3, 1, 1, 1.0f, 7};
        const int8_t x[4] = {1, 2, 3, 4}, want[3] = {7, 1, 7};
        q_shortcut_a(&in, x, 2, &out, y);
        check_i8s("shortcut_a", y, want, 3);
    }
    {
        /* conv2d 3x3 pad 1 on a 1x1 map: only the centre tap; bias 3;
         * s_in * s_w / s_out = 0.5: (2 * (9 - 1) + 3) * 0.5 = 9.5 -> 10 */
        const q_shape in = {1, 1, 1, 1, 1.0f, 1}, out = {1, 1, 1, 1, 2.0f, 0};
        const int8_t x[1] = {9}, w[9] = {5, 5, 5, 5, 2, 5, 5, 5, 5}, want[1] = {10};
        const int32_t bias[1] = {3};
        int32_t m;
        int e;
        char err[256];
        q_conv_multiplier(1.0f, 1.0f, 2.0f, &m, &e);
        if (q_conv2d(&in, x, w, bias, &m, &e, 3, 1, 1, 1, 0, &out, y, err, sizeof err)) {
            printf("FAIL int8ref/conv2d_centre: %s\n", err);
            nfail++;
        } else {
            check_i8s("conv2d_centre", y, want, 1);
        }
    }
}

int main(void)
{
    prims();
    attention();
    spconv();
    ops();
    return nfail ? 1 : 0;
}
