/* spconv_ref.h - the reference SPConv layer, straight from docs/design.md ("SPConv").
 *
 * Part of the independent test reference of spgen: shares no code with gen/.
 * It computes SPConv the way the PyTorch module does (branches materialized,
 * BatchNorm not folded), with every sum, the BN arithmetic, the means and the
 * softmax in double; the result is rounded to float only when stored.
 *
 *   r  = (int)floor(C * ratio)               (in double)
 *   x3 = x[0:r], x1 = x[r:C]
 *   P  = identity (stride 1) | AvgPool2d(2, 2) (stride 2)
 *   u3 = GWC(x3) [+ gwc_b] + PWC(P(x3)) [+ pwc_b]   GWC: 3x3 pad 1 stride s groups g
 *   o3 = BN1(u3)
 *   o1 = BN2(CONV1x1(P(x1)) + c1_b)
 *   m3, m1 = per-sample, per-channel mean over Ho x Wo of o3, o1
 *   (w3, w1) = softmax(m3, m1)
 *   out = w3 * o3 + w1 * o1,  then optionally BN(out), then optionally ReLU
 *   BN(v) = (v - running_mean) / sqrt(running_var + eps) * weight + bias
 */
#ifndef SPGEN_REF_SPCONV_H
#define SPGEN_REF_SPCONV_H

#include <stddef.h>

typedef struct {
    const float *weight, *bias, *mean, *var; /* each [cout] */
} ref_bn;

typedef struct {
    int cin, cout, h, w, batch, groups, stride;
    double ratio;
    double eps;          /* for every BN of the layer; PyTorch's default is 1e-5 */

    const float *gwc_w;  /* [cout, r/groups, 3, 3] */
    const float *gwc_b;  /* [cout] or NULL (bias "official") */
    const float *pwc_w;  /* [cout, r, 1, 1] */
    const float *pwc_b;  /* [cout] or NULL (bias "official") */
    const float *c1_w;   /* [cout, cin - r, 1, 1] */
    const float *c1_b;   /* [cout] or NULL (no bias) */
    ref_bn bn1, bn2;

    int has_bn;          /* apply bn (its own weights) to the SPConv output */
    ref_bn bn;
    int relu;            /* then ReLU */
} spconv_ref_params;

/* r = (int)floor(cin * ratio), as the PyTorch module's int(c * ratio). */
int spconv_ref_r(int cin, double ratio);

/* Checks the shape rules of docs/design.md, "SPConv" (plus batch, H, W >= 1).
 * Returns 0, or -1 with a message in err. Computes ho, wo when non-NULL. */
int spconv_ref_check(const spconv_ref_params *p, int *ho, int *wo, char *err, size_t errlen);

/* Runs the layer: in is [batch, cin, h, w], out is [batch, cout, ho, wo].
 * Returns 0, or -1 with a message on stderr (bad parameters, out of memory). */
int spconv_ref_run(const spconv_ref_params *p, const float *in, float *out);

#endif
