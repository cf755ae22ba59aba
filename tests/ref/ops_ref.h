/* ops_ref.h - reference CNN operators for the reference network (ref_net).
 *
 * Part of the independent test reference of spgen: shares no code with gen/.
 * Each operator follows the PyTorch definition literally: NCHW float32 in and
 * out, every sum (and the BN arithmetic) in double, rounded to float only when
 * stored. Nothing is fused or folded; no attempt at speed.
 *
 * The operators do no allocation and trust their arguments: the caller checks
 * the shapes (ops_ref_pool_dim and friends) and sizes the output. SPConv is
 * in spconv_ref.h.
 */
#ifndef SPGEN_REF_OPS_H
#define SPGEN_REF_OPS_H

#include <stddef.h>

#include "spconv_ref.h" /* ref_bn */

/* Output extent of a convolution or pooling window along one axis, as
 * PyTorch computes it (floor mode, dilation 1):
 *     floor((in + 2 * pad - k) / stride) + 1
 * Returns -1 when the padded input is smaller than the window (or any
 * argument is out of range: in < 1, k < 1, stride < 1, pad < 0). */
int ops_ref_pool_dim(int in, int k, int stride, int pad);

/* torch.nn.functional.conv2d: in [n, cin, h, w], weight [cout, cin/groups, k, k]
 * (square kernel), bias [cout] or NULL, zero padding `pad` on every side;
 * out [n, cout, ho, wo] with ho, wo from ops_ref_pool_dim. cin and cout must
 * be divisible by groups. Output channel c sees input channels
 * (c / (cout/groups)) * (cin/groups) ... + cin/groups - 1.
 * Returns 0, or -1 (message on stderr) when out of memory. */
int conv2d_ref(const float *in, int n, int cin, int h, int w, const float *weight, const float *bias,
               int cout, int k, int stride, int pad, int groups, float *out);

/* BatchNorm2d in eval mode, in place on x [n, c, hw]:
 *     x = (x - running_mean) / sqrt(running_var + eps) * weight + bias
 * BatchNorm1d on [n, features] is the same with hw = 1. */
void batchnorm2d_ref(float *x, int n, int c, size_t hw, const ref_bn *bn, double eps);
void batchnorm1d_ref(float *x, int n, int features, const ref_bn *bn, double eps);

/* ReLU in place: x = max(x, 0) (NaN stays NaN). */
void relu_ref(float *x, size_t count);

/* y += x elementwise (the residual add). */
void add_ref(float *y, const float *x, size_t count);

/* MaxPool2d(kernel k, stride, padding pad), floor mode, dilation 1: padding
 * counts as -infinity. in [n, c, h, w], out [n, c, ho, wo] with ho, wo from
 * ops_ref_pool_dim. PyTorch requires pad <= k / 2 (checked by the caller). */
void maxpool2d_ref(const float *in, int n, int c, int h, int w, int k, int stride, int pad, float *out);

/* AdaptiveAvgPool2d(1) + flatten: in [n, c, h, w], out [n, c]. */
void global_avgpool_ref(const float *in, int n, int c, int h, int w, float *out);

/* nn.Linear: in [n, fin], out [n, fout], bias [fout] or NULL.
 * weight is [fout, fin] (torch) or, with transposed != 0, [fin, fout]
 * (paddle.nn.Linear). */
void linear_ref(const float *in, int n, int fin, const float *weight, const float *bias, int fout,
                int transposed, float *out);

/* The CIFAR ResNet "option A" shortcut (no weights):
 *     F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, pad, pad), "constant", 0)
 * in [n, c, h, w], out [n, c + 2 * pad, (h + 1) / 2, (w + 1) / 2]; output
 * channels 0 .. pad-1 and c+pad .. c+2*pad-1 are zero, channel pad + i is
 * input channel i subsampled. */
void shortcut_a_ref(const float *in, int n, int c, int h, int w, int pad, float *out);

#endif
