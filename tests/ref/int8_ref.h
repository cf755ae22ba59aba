/* int8_ref.h - the int8 reference: the arithmetic of docs/int8.md and the
 * quantized operators, written from that page alone.
 *
 * Part of the independent test reference of spgen: shares no code with gen/.
 * Every function is the pseudocode of docs/int8.md transcribed (section
 * numbers in the comments); activations are int8 NCHW, [n, c, h, w].
 * Build with -ffp-contract=off: the float attention and softmax must round
 * every operation as written (docs/int8.md, 5.4).
 */
#ifndef SPGEN_REF_INT8_H
#define SPGEN_REF_INT8_H

#include <stddef.h>
#include <stdint.h>

/* ---- section 1 and 2: rounding and requantization */

double q_round_away(double v);                    /* half away from zero */
int64_t q_rdiv_away(int64_t n, int64_t d);        /* d > 0, half away from zero */
int32_t q_srdhm(int32_t a, int32_t b);            /* SaturatingRoundingDoublingHighMul */
int32_t q_rdivpot(int32_t x, int n);              /* RoundingDivideByPOT, 0 <= n <= 31 */
int32_t q_rq(int32_t x, int32_t m, int e);        /* x * m * 2^(e - 31), rounded */
void q_quantize_multiplier(double M, int32_t *m, int *e);

/* ---- section 4: the float entry points */

int8_t q_quantize_input(float x, float scale, int32_t zp);
float q_dequantize(int8_t q, float scale, int32_t zp);

/* ---- section 5.4 and 5.5: the attention weight w3 in Q30 */

float q_exp_neg(float t);                          /* e^t for t <= 0 */
extern const int32_t q_sigmoid_q30[65];
int32_t q_w3_float(int32_t mean3, int32_t mean1, float k3, float k1, float b3, float b1);
int32_t q_w3_fixed(int32_t mean3, int32_t mean1, int32_t md3, int ed3, int32_t md1, int ed1, int32_t db);

/* ---- the operators (section 4, 5). Each returns 0, or -1 with a message in
 * err when an accumulator leaves the range section 6 guarantees (which the
 * bounds checked at load time exclude; kept as a second line of defence). */

typedef struct {
    int n, c, h, w;
    float scale;
    int32_t zp;
} q_shape;

/* conv2d / standalone batchnorm / linear (k = 1 on [fin, 1, 1]):
 * w [co][c/groups][k][k], bias [co], m/e per output channel. */
int q_conv2d(const q_shape *in, const int8_t *x, const int8_t *wt, const int32_t *bias, const int32_t *m,
             const int *e, int k, int stride, int pad, int groups, int relu, const q_shape *out, int8_t *y,
             char *err, size_t errlen);

/* The multiplier of a conv2d/linear channel: (s_in * s_w) / s_out (section 4). */
void q_conv_multiplier(float s_in, float s_w, float s_out, int32_t *m, int *e);

/* 255 * sum |w| + |bias| of one output channel (section 6), in int64. */
int64_t q_conv_bound(const int8_t *w, size_t taps, int32_t bias);

typedef struct {
    int stride, groups, r, relu, fixed; /* fixed: attention fixed (5.5), else float (5.4) */
    const int8_t *g, *q;                /* [co][r/groups][9], [co][c] */
    const float *s3, *s1, *b3, *b1, *pa, *pb;
} q_spconv_w;

/* Per-layer constants of 5.3 and 5.5 (ma/ea, E, md/ed, DB) and the bounds of
 * section 6; -1 with a message when one does not fit. */
typedef struct {
    int32_t ma3, ma1, md3, md1, e3q8, e1q8, e0q8, db;
    int ea3, ea1, ed3, ed1;
} q_spconv_chan;
int q_spconv_prepare(const q_shape *in, const q_spconv_w *p, const q_shape *out, q_spconv_chan *chan,
                     char *err, size_t errlen);
int q_spconv(const q_shape *in, const int8_t *x, const q_spconv_w *p, const q_spconv_chan *chan,
             const q_shape *out, int8_t *y, char *err, size_t errlen);

void q_add(const q_shape *a, const int8_t *xa, const q_shape *b, const int8_t *xb, int relu, const q_shape *out,
           int8_t *y);
void q_relu(const q_shape *in, const int8_t *x, int8_t *y);
void q_maxpool(const q_shape *in, const int8_t *x, int k, int stride, int pad, const q_shape *out, int8_t *y);
/* include_pad: divide by k * k, else by the taps inside the input */
void q_avgpool(const q_shape *in, const int8_t *x, int k, int stride, int pad, int include_pad, const q_shape *out,
               int8_t *y);
void q_global_avgpool(const q_shape *in, const int8_t *x, int8_t *y);
void q_softmax(const q_shape *in, const int8_t *x, int8_t *y);
void q_shortcut_a(const q_shape *in, const int8_t *x, int stride, const q_shape *out, int8_t *y);

#endif
