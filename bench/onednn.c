/* Times spgen's emitted SPConv layer against oneDNN on this CPU, in one
   process, one thread, and checks that they compute the same thing.

   Rows (batch 1, C -> CO channels on H x W as A and B were generated, 3x3
   pad 1 stride 1 or 2, SPConv ratio 1/2 groups 2, then BatchNorm and ReLU;
   the text below says 64 for C and CO and 32 for C/2):
     spgen SPConv in-network the SPConv layer as it runs inside a network:
                             layer 2 of NET (specs/spconv_layer.lua --set
                             in_network=1: a 1x1 conv 'pre', the SPConv with
                             BN and ReLU, a 1x1 conv 'post'), timed through
                             its profiling hooks; with --simd it reads and
                             writes channel-blocked activations, so no layout
                             conversion is in its time (like oneDNN's rows)
     spgen SPConv one-layer  A, the SPConv layer as a one-layer network
                             (specs/spconv_layer.lua): its API reads and
                             writes NCHW, so its time includes reading NCHW
                             and storing NCHW
     spgen vanilla one-layer B, the vanilla layer as a one-layer network
                             (specs/conv_layer.lua), NCHW at its API
     oneDNN vanilla          one 3x3 convolution 64 -> 64, BN folded into the
                             weights and bias, ReLU as an eltwise post-op
     oneDNN SPConv composed  SPConv the way a framework runs it on oneDNN:
                             grouped 3x3 conv on x[0:32] (BN1 folded), 1x1 conv
                             on x[0:32] accumulated into it with a sum post-op
                             (BN1 folded), 1x1 conv with bias on x[32:64] (BN2
                             folded), then plain C loops: per-channel means of
                             both maps, softmax, weighted combine with the
                             final BN and ReLU fused into the same pass.
                             At stride 2 the grouped conv has stride 2 and
                             the official module's 2x2 average pools before
                             the two 1x1 convs are one oneDNN pooling of the
                             whole input, which the 1x1 convs read as views.
   oneDNN picks every activation and weight layout (format_tag any); input
   and output reorders from/to NCHW and weight reorders are done once,
   outside the timed region, as a framework keeping blocked layouts between
   layers would. x[0:32] and x[32:64] are zero-copy views of the blocked
   input (batch 1, channel-blocked or plain layout).

   The weights are the ones compiled into the spgen layers, read back from
   spgen --dump-weights files (argv[1]: A's, argv[2]: B's, argv[3]: NET's,
   whose SPConv, drawn from the same seed and keys, is A's). Checked before
   timing: A against oneDNN SPConv composed, B against oneDNN vanilla, and
   NET against post(oneDNN SPConv composed(pre(x))), pre and post as plain
   C loops. Built by scripts/bench.sh with -DA=name -DB=name -DUA=NAME
   -DUB=NAME like bench/bench.c, -DNET=name -DUNET=NAME -DNET_C='"net.c"'
   and the hooks -D'NAME_LAYER_BEGIN(i, n)=bench_layer_begin(i)',
   -D'NAME_LAYER_END(i)=bench_layer_end(i)' like bench/layers.c, plus NET's
   weights and arena .c, tests/ref/st.c, -ldnnl and (OpenMP runtime)
   -lgomp. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <dnnl.h>
#include <dnnl_debug.h>

#include "st.h"
#include "peak.h"
#include "timing.h"

#include "pair.h"

#if DNNL_VERSION_MAJOR != 2
#error "bench/onednn.c uses the oneDNN 2.x C API (op descriptors)"
#endif

#if DNNL_CPU_RUNTIME == DNNL_RUNTIME_OMP
void omp_set_num_threads(int);
int omp_get_max_threads(void);
#elif DNNL_CPU_RUNTIME == DNNL_RUNTIME_THREADPOOL
#include <dnnl_threadpool.h>
#endif

/* ---- the layer ---------------------------------------------------------- */

/* the shape of the spgen layers (specs/spconv_layer.lua, specs/conv_layer.lua) */
enum { N = 1, C = CAT(UA, _IN_C), CO = CAT(UA, _OUT_C), H = CAT(UA, _IN_H), W = CAT(UA, _IN_W), HW = H * W };
enum { HO = CAT(UA, _OUT_H), WO = CAT(UA, _OUT_W), HWO = HO * WO, S = H / HO };
enum { R = C / 2, G = 2, RG = R / G };
_Static_assert((S == 1 || S == 2) && H == S * HO && W == S * WO && CAT(UA, _BATCH) == 1,
               "stride 1 or 2 on an even plane, batch 1 only");
_Static_assert(R % 16 == 0, "the channel views need C/2 to be a multiple of 16");
#define EPS 1e-5
/* MACs per image: vanilla CO*C*9*HWO; SPConv GWC CO*RG*9*HWO + PWC CO*R*HWO + 1x1 CO*(C-R)*HWO */
static const double MACS_VANILLA = (double)CO * C * 9 * HWO;
static const double MACS_SPCONV = (double)CO * RG * 9 * HWO + (double)CO * R * HWO + (double)CO * (C - R) * HWO;


/* ---- helpers ------------------------------------------------------------ */

#define CK(f)                                                                                          \
    do {                                                                                               \
        dnnl_status_t s_ = (f);                                                                        \
        if (s_ != dnnl_success) {                                                                      \
            fprintf(stderr, "onednn.c:%d: %s: %s\n", __LINE__, #f, dnnl_status2str(s_));               \
            exit(1);                                                                                   \
        }                                                                                              \
    } while (0)

static dnnl_engine_t eng;
static dnnl_stream_t strm;

static float *falloc(size_t bytes)
{
    void *p = NULL;
    if (posix_memalign(&p, 64, bytes ? bytes : 64)) {
        fprintf(stderr, "onednn.c: out of memory\n");
        exit(1);
    }
    memset(p, 0, bytes);
    return p;
}

static const float *tensor(st *f, const char *name, int ndim, long d0, long d1, long d2, long d3)
{
    long shape[4] = {d0, d1, d2, d3};
    const float *p = st_get(f, name, ndim, shape);
    if (!p)
        exit(1);
    return p;
}

/* BN as scale and shift: y = s * x + t */
static void bn_fold(st *f, const char *prefix, float *s, float *t)
{
    char k[128];
    const float *g, *b, *m, *v;
    snprintf(k, sizeof k, "%s.weight", prefix);
    g = tensor(f, k, 1, CO, 0, 0, 0);
    snprintf(k, sizeof k, "%s.bias", prefix);
    b = tensor(f, k, 1, CO, 0, 0, 0);
    snprintf(k, sizeof k, "%s.running_mean", prefix);
    m = tensor(f, k, 1, CO, 0, 0, 0);
    snprintf(k, sizeof k, "%s.running_var", prefix);
    v = tensor(f, k, 1, CO, 0, 0, 0);
    for (int c = 0; c < CO; c++) {
        double sc = (double)g[c] / sqrt((double)v[c] + EPS);
        s[c] = (float)sc;
        t[c] = (float)((double)b[c] - (double)m[c] * sc);
    }
}

static dnnl_memory_desc_t md_tag(int ndims, const dnnl_dims_t dims, dnnl_format_tag_t tag)
{
    dnnl_memory_desc_t md;
    CK(dnnl_memory_desc_init_by_tag(&md, ndims, dims, dnnl_f32, tag));
    return md;
}

static dnnl_memory_t mem(const dnnl_memory_desc_t *md, void *handle)
{
    dnnl_memory_t m;
    CK(dnnl_memory_create(&m, md, eng, handle));
    return m;
}

static void exec1(dnnl_primitive_t p, int n, const dnnl_exec_arg_t *args)
{
    CK(dnnl_primitive_execute(p, strm, n, args));
}

/* One-off reorder between two layouts of the same tensor. */
static void reorder(const dnnl_memory_desc_t *smd, void *src, const dnnl_memory_desc_t *dmd, void *dst)
{
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t p;
    CK(dnnl_reorder_primitive_desc_create(&pd, smd, eng, dmd, eng, NULL));
    CK(dnnl_primitive_create(&p, pd));
    dnnl_memory_t s = mem(smd, src), d = mem(dmd, dst);
    dnnl_exec_arg_t a[2] = {{DNNL_ARG_FROM, s}, {DNNL_ARG_TO, d}};
    exec1(p, 2, a);
    CK(dnnl_stream_wait(strm));
    dnnl_memory_destroy(s);
    dnnl_memory_destroy(d);
    dnnl_primitive_destroy(p);
    dnnl_primitive_desc_destroy(pd);
}

/* A forward-inference direct convolution on an ih x iw input, pad k/2. src
   and dst may be format_tag any (NULL) or fixed; weights are always any. */
typedef struct {
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t prim;
    dnnl_memory_desc_t src, wei, bias, dst;
    dnnl_memory_t wmem, bmem;
    const char *impl;
} conv;

static void conv_make(conv *cv, int cin, int cout, int k, int stride, int ih, int iw, int groups,
                      const dnnl_memory_desc_t *src_md, const dnnl_memory_desc_t *dst_md, const float *w_oihw,
                      const float *bias, int post_sum, int post_relu)
{
    const int oh = (ih + 2 * (k / 2) - k) / stride + 1, ow = (iw + 2 * (k / 2) - k) / stride + 1;
    dnnl_dims_t sd = {N, cin, ih, iw}, dd = {N, cout, oh, ow}, bd = {cout};
    dnnl_dims_t strides = {stride, stride}, pad = {k / 2, k / 2};
    dnnl_memory_desc_t s_any = md_tag(4, sd, dnnl_format_tag_any), d_any = md_tag(4, dd, dnnl_format_tag_any);
    dnnl_memory_desc_t w_any, w_user, b_md = md_tag(1, bd, dnnl_x);
    if (groups == 1) {
        dnnl_dims_t wd = {cout, cin, k, k};
        w_any = md_tag(4, wd, dnnl_format_tag_any);
        w_user = md_tag(4, wd, dnnl_oihw);
    } else {
        dnnl_dims_t wd = {groups, cout / groups, cin / groups, k, k};
        w_any = md_tag(5, wd, dnnl_format_tag_any);
        w_user = md_tag(5, wd, dnnl_goihw);
    }
    dnnl_convolution_desc_t cd;
    CK(dnnl_convolution_forward_desc_init(&cd, dnnl_forward_inference, dnnl_convolution_direct,
                                          src_md ? src_md : &s_any, &w_any, bias ? &b_md : NULL,
                                          dst_md ? dst_md : &d_any, strides, pad, pad));
    dnnl_primitive_attr_t attr;
    dnnl_post_ops_t po;
    CK(dnnl_primitive_attr_create(&attr));
    CK(dnnl_post_ops_create(&po));
    if (post_sum)
        CK(dnnl_post_ops_append_sum(po, 1.0f));
    if (post_relu)
        CK(dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_relu, 0.0f, 0.0f));
    CK(dnnl_primitive_attr_set_post_ops(attr, po));
    CK(dnnl_primitive_desc_create(&cv->pd, &cd, attr, eng, NULL));
    dnnl_post_ops_destroy(po);
    dnnl_primitive_attr_destroy(attr);
    CK(dnnl_primitive_create(&cv->prim, cv->pd));
    cv->src = *dnnl_primitive_desc_query_md(cv->pd, dnnl_query_src_md, 0);
    cv->wei = *dnnl_primitive_desc_query_md(cv->pd, dnnl_query_weights_md, 0);
    cv->dst = *dnnl_primitive_desc_query_md(cv->pd, dnnl_query_dst_md, 0);
    CK(dnnl_primitive_desc_query(cv->pd, dnnl_query_impl_info_str, 0, &cv->impl));
    /* weights (and bias) into the layout the primitive chose, once */
    float *wb = falloc(dnnl_memory_desc_get_size(&cv->wei));
    reorder(&w_user, (void *)w_oihw, &cv->wei, wb);
    cv->wmem = mem(&cv->wei, wb);
    cv->bmem = NULL;
    if (bias) {
        cv->bias = *dnnl_primitive_desc_query_md(cv->pd, dnnl_query_weights_md, 1);
        float *bb = falloc(dnnl_memory_desc_get_size(&cv->bias));
        reorder(&b_md, (void *)bias, &cv->bias, bb);
        cv->bmem = mem(&cv->bias, bb);
    }
}

static void conv_run(const conv *cv, dnnl_memory_t src, dnnl_memory_t dst)
{
    dnnl_exec_arg_t a[4] = {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, cv->wmem}, {DNNL_ARG_DST, dst}, {DNNL_ARG_BIAS, cv->bmem}};
    exec1(cv->prim, cv->bmem ? 4 : 3, a);
}

/* Channel-block width X of an activation layout we can index and slice by
   pointer: element (c, p) of a batch-1 h x w tensor is at ((c / X) * h * w
   + p) * X + c % X. nchw is X = 1, nChw8c/nChw16c X = 8/16, nhwc X =
   channels. 0 when the layout is none of these. */
static int block_of(const dnnl_memory_desc_t *md, int channels, int h, int w)
{
    dnnl_dims_t d = {N, channels, h, w};
    static const struct {
        dnnl_format_tag_t tag;
        int x;
    } t[] = {{dnnl_nchw, 1}, {dnnl_nChw8c, 8}, {dnnl_nChw16c, 16}, {dnnl_nhwc, -1}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        dnnl_memory_desc_t m = md_tag(4, d, t[i].tag);
        if (dnnl_memory_desc_equal(md, &m))
            return t[i].x < 0 ? channels : t[i].x;
    }
    return 0;
}

static const char *layout_name(int x, int channels)
{
    return x == 1 ? "nchw" : x == 8 ? "nChw8c" : x == 16 ? "nChw16c" : x == channels ? "nhwc" : "other";
}

/* ---- oneDNN vanilla ------------------------------------------------------ */

static conv van;
static dnnl_memory_t van_src, van_dst;
static float *van_out; /* its output, in its layout */

static void run_vanilla(void)
{
    conv_run(&van, van_src, van_dst);
    CK(dnnl_stream_wait(strm));
}

/* ---- oneDNN SPConv composed ----------------------------------------------- */

static conv gwc, pwc, c1;
static dnnl_primitive_t pool; /* stride 2: the 2x2 average pool of x, else NULL */
static dnnl_memory_t sp_in, sp_pooled, sp_x3, sp_p3, sp_p1, sp_o3, sp_o1;
static float *o3b, *o1b, *spout; /* blocked maps and the blocked output */
static float bn_s[CO], bn_t[CO];  /* the final BN, applied in the combine */
static int sp_x;                  /* block width of o3, o1, spout */

static void run_sp_convs(void)
{
    if (pool) { /* p = avgpool2x2(x); p3, p1 its halves */
        dnnl_exec_arg_t a[2] = {{DNNL_ARG_SRC, sp_in}, {DNNL_ARG_DST, sp_pooled}};
        exec1(pool, 2, a);
    }
    conv_run(&gwc, sp_x3, sp_o3); /* o3  = GWC(x3) * s1 + t1 */
    conv_run(&pwc, sp_p3, sp_o3); /* o3 += PWC(p3) * s1      (sum post-op) */
    conv_run(&c1, sp_p1, sp_o1);  /* o1  = (CONV1x1(p1) + b) * s2 + t2 */
    CK(dnnl_stream_wait(strm));
}

/* means, softmax and the weighted combine with the final BN and ReLU, in
   whatever channel-blocked layout the convolutions chose; X is a constant
   in each instance and the maps are restrict, so the lane loops vectorize
   at -O2 (a framework's elementwise kernels are vectorized too). */
static inline __attribute__((always_inline)) void combine_x(const int X, const float *restrict u3,
                                                            const float *restrict u1, float *restrict y)
{
    float m3[CO], m1[CO], a3[CO], a1[CO];
    const int nb = CO / X;
    for (int c = 0; c < CO; c++)
        m3[c] = m1[c] = 0.0f;
    for (int b = 0; b < nb; b++)
        for (int p = 0; p < HWO; p++) {
            const size_t o = ((size_t)b * HWO + p) * X;
            for (int j = 0; j < X; j++) {
                m3[b * X + j] += u3[o + j];
                m1[b * X + j] += u1[o + j];
            }
        }
    for (int c = 0; c < CO; c++) {
        float x3 = m3[c] / HWO, x1 = m1[c] / HWO, mx = x3 > x1 ? x3 : x1;
        float e3 = expf(x3 - mx), e1 = expf(x1 - mx), d = e3 + e1;
        a3[c] = bn_s[c] * (e3 / d);
        a1[c] = bn_s[c] * (e1 / d);
    }
    for (int b = 0; b < nb; b++)
        for (int p = 0; p < HWO; p++) {
            const size_t o = ((size_t)b * HWO + p) * X;
            for (int j = 0; j < X; j++) {
                float r = a3[b * X + j] * u3[o + j] + a1[b * X + j] * u1[o + j] + bn_t[b * X + j];
                y[o + j] = r > 0.0f ? r : 0.0f;
            }
        }
}

static void run_sp_combine(void)
{
    switch (sp_x) {
    case 1: combine_x(1, o3b, o1b, spout); break;
    case 8: combine_x(8, o3b, o1b, spout); break;
    case 16: combine_x(16, o3b, o1b, spout); break;
    default: combine_x(CO, o3b, o1b, spout); break; /* nhwc */
    }
}

static void run_spconv(void)
{
    run_sp_convs();
    run_sp_combine();
}

/* ---- spgen --------------------------------------------------------------- */

static float in_nchw[N * C * HW], out_a[CAT(UA, _OUT_SIZE)], out_b[CAT(UB, _OUT_SIZE)];
static void run_spgen_a(void) { CAT(A, _run)(in_nchw, out_a); }
static void run_spgen_b(void) { CAT(B, _run)(in_nchw, out_b); }

/* NET's layers: 1 the 1x1 conv 'pre', 2 the SPConv (BN and ReLU in its
   store), 3 the 1x1 conv 'post'; its hooks keep layer 2's time of the
   latest run. */
enum { NET_SPCONV_LAYER = 2 };
static double layer_t0, net_spconv_ms;

static void bench_layer_begin(int i)
{
    if (i == NET_SPCONV_LAYER)
        layer_t0 = now();
}

static void bench_layer_end(int i)
{
    if (i == NET_SPCONV_LAYER)
        net_spconv_ms = (now() - layer_t0) * 1e3;
}

#include NET_C

_Static_assert(CAT(UNET, _LAYERS) == 3, "NET is pre, SPConv, post");
static float out_net[CAT(UNET, _OUT_SIZE)];
static void run_spgen_net(void) { CAT(NET, _run)(in_nchw, out_net); }

/* the median over RUNS of the mean of NET's SPConv layer's hook intervals
   in enough whole runs to last ~20 ms, after median_ms's warm-up of them
   (timing.h: the statistic of every other row) */
static double median_net_spconv_ms(void)
{
    double t[RUNS];
    const int reps = (int)(20 / median_ms(run_spgen_net, 3)) + 1;
    for (int r = 0; r < RUNS; r++) {
        double sum = 0;
        for (int i = 0; i < reps; i++) {
            run_spgen_net();
            sum += net_spconv_ms;
        }
        t[r] = sum / reps;
    }
    qsort(t, RUNS, sizeof t[0], cmp_double);
    return t[RUNS / 2];
}

/* y = W x for a 1x1 convolution without bias on a batch-1 NCHW map of hw
   pixels (W: cout x cin), accumulated in double: the reference of NET's
   'pre' and 'post'. */
static void conv1x1_ref(const float *w, const float *x, float *y, int cin, int cout, int hw)
{
    for (int o = 0; o < cout; o++)
        for (int p = 0; p < hw; p++) {
            double acc = 0;
            for (int i = 0; i < cin; i++)
                acc += (double)w[o * cin + i] * x[i * hw + p];
            y[o * hw + p] = (float)acc;
        }
}

/* ---- main ------------------------------------------------------------------ */

static double max_rel(const float *x, const float *ref, int n)
{
    double e = 0, m = 0;
    for (int i = 0; i < n; i++) {
        double d = fabs((double)x[i] - ref[i]);
        e = d > e ? d : e;
        m = fabs((double)ref[i]) > m ? fabs((double)ref[i]) : m;
    }
    return m > 0 ? e / m : e;
}

static const char *isa_name(dnnl_cpu_isa_t i)
{
    switch ((int)i) {
    case dnnl_cpu_isa_sse41: return "sse41";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    default: return "?";
    }
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr,
                "usage: %s A.safetensors B.safetensors NET.safetensors   (spgen --dump-weights of %s, %s and %s)\n",
                argv[0], STR(A), STR(B), STR(NET));
        return 2;
    }
    _Static_assert(CAT(UA, _IN_SIZE) == N * C * HW && CAT(UA, _OUT_SIZE) == N * CO * HWO, "A is not the bench shape");
    _Static_assert(CAT(UB, _IN_SIZE) == N * C * HW && CAT(UB, _OUT_SIZE) == N * CO * HWO, "B is not the bench shape");
    _Static_assert(CAT(UNET, _IN_SIZE) == N * C * HW && CAT(UNET, _OUT_SIZE) == N * CO * HWO,
                   "NET is not the bench shape");

    /* one thread, like spgen */
    const char *threads = "?";
#if DNNL_CPU_RUNTIME == DNNL_RUNTIME_OMP
    omp_set_num_threads(1);
    char tb[32];
    snprintf(tb, sizeof tb, "omp, %d thread%s", omp_get_max_threads(), omp_get_max_threads() == 1 ? "" : "s");
    threads = tb;
#elif DNNL_CPU_RUNTIME == DNNL_RUNTIME_THREADPOOL
    dnnl_threadpool_interop_set_max_concurrency(1);
    threads = "threadpool, 1 thread";
#elif DNNL_CPU_RUNTIME == DNNL_RUNTIME_SEQ
    threads = "sequential";
#else
    threads = "runtime with its own thread count (set it to 1)";
#endif

    for (int i = 0; i < N * C * HW; i++)
        in_nchw[i] = (float)((i * 7919) % 2001 - 1000) / 1000.0f; /* bench.c's input */

    st *fa = st_open(argv[1]), *fb = st_open(argv[2]), *fnet = st_open(argv[3]);
    if (!fa || !fb || !fnet)
        return 1;

    CK(dnnl_engine_create(&eng, dnnl_cpu, 0));
    CK(dnnl_stream_create(&strm, eng, dnnl_stream_default_flags));
    dnnl_dims_t din = {N, C, H, W}, dout = {N, CO, HO, WO}, dhalf = {N, R, H, W};
    dnnl_memory_desc_t in_user = md_tag(4, din, dnnl_nchw), out_user = md_tag(4, dout, dnnl_nchw);

    /* (a) vanilla: BN folded into weights and bias, ReLU post-op */
    {
        static float w[CO * C * 9], b[CO], s[CO], t[CO];
        const float *w0 = tensor(fb, "conv.weight", 4, CO, C, 3, 3);
        bn_fold(fb, "bn", s, t);
        for (int o = 0; o < CO; o++) {
            for (int i = 0; i < C * 9; i++)
                w[o * C * 9 + i] = w0[o * C * 9 + i] * s[o];
            b[o] = t[o];
        }
        conv_make(&van, C, CO, 3, S, H, W, 1, NULL, NULL, w, b, 0, 1);
        float *src = falloc(dnnl_memory_desc_get_size(&van.src)), *dst = falloc(dnnl_memory_desc_get_size(&van.dst));
        reorder(&in_user, in_nchw, &van.src, src); /* outside the timed region */
        van_src = mem(&van.src, src);
        van_dst = mem(&van.dst, dst);
        van_out = dst;
    }

    /* (b) SPConv composed */
    int x_in;
    {
        static float gw[CO * RG * 9], pw[CO * R], cw[CO * (C - R)], gb[CO], cb[CO];
        float s1[CO], t1[CO], s2[CO], t2[CO];
        const float *gw0 = tensor(fa, "conv.gwc.weight", 4, CO, RG, 3, 3);
        const float *pw0 = tensor(fa, "conv.pwc.weight", 4, CO, R, 1, 1);
        const float *cw0 = tensor(fa, "conv.conv1x1.weight", 4, CO, C - R, 1, 1);
        const float *cb0 = tensor(fa, "conv.conv1x1.bias", 1, CO, 0, 0, 0);
        if (st_has(fa, "conv.gwc.bias") || st_has(fa, "conv.pwc.bias")) {
            fprintf(stderr, "onednn.c: %s has gwc/pwc biases; the bench handles bias \"official\" only\n", argv[1]);
            return 1;
        }
        bn_fold(fa, "conv.bn1", s1, t1);
        bn_fold(fa, "conv.bn2", s2, t2);
        bn_fold(fa, "bn", bn_s, bn_t);
        for (int o = 0; o < CO; o++) {
            for (int i = 0; i < RG * 9; i++)
                gw[o * RG * 9 + i] = gw0[o * RG * 9 + i] * s1[o];
            for (int i = 0; i < R; i++)
                pw[o * R + i] = pw0[o * R + i] * s1[o];
            for (int i = 0; i < C - R; i++)
                cw[o * (C - R) + i] = cw0[o * (C - R) + i] * s2[o];
            gb[o] = t1[o];
            cb[o] = cb0[o] * s2[o] + t2[o];
        }
        /* the grouped 3x3 conv picks the layouts; the two 1x1 convs are made
           to read the same input views and write the same map layout */
        conv_make(&gwc, R, CO, 3, S, H, W, G, NULL, NULL, gw, gb, 0, 0);
        x_in = block_of(&gwc.src, R, H, W);
        sp_x = block_of(&gwc.dst, CO, HO, WO);
        if (x_in == 0 || x_in == R || sp_x == 0) {
            /* nhwc or exotic: x[0:32] is no pointer view; ask for blocked */
            dnnl_memory_desc_t s16 = md_tag(4, dhalf, dnnl_nChw16c), d16 = md_tag(4, dout, dnnl_nChw16c);
            conv_make(&gwc, R, CO, 3, S, H, W, G, &s16, &d16, gw, gb, 0, 0);
            x_in = 16;
            sp_x = 16;
        }
        /* the 1x1 convs read halves of x (stride 1) or of its pool (stride
           2) in the layout of x, and write the layout of the GWC's output */
        const dnnl_format_tag_t tag_in = x_in == 1 ? dnnl_nchw : x_in == 8 ? dnnl_nChw8c : dnnl_nChw16c;
        dnnl_dims_t dhalf_o = {N, R, HO, WO}, dpool = {N, C, HO, WO};
        dnnl_memory_desc_t half_o = md_tag(4, dhalf_o, tag_in);
        conv_make(&pwc, R, CO, 1, 1, HO, WO, 1, &half_o, &gwc.dst, pw, NULL, 1, 0);
        conv_make(&c1, C - R, CO, 1, 1, HO, WO, 1, &half_o, &gwc.dst, cw, cb, 0, 0);

        /* the whole input in the chosen layout; batch 1 and channel blocks
           of x_in | 32 make x[32:64] start 32 * HW floats in (the pool's
           32 * HWO) */
        dnnl_memory_desc_t in_blk = md_tag(4, din, tag_in);
        float *xb = falloc(dnnl_memory_desc_get_size(&in_blk)), *pb = xb;
        reorder(&in_user, in_nchw, &in_blk, xb);
        sp_in = mem(&in_blk, xb);
        sp_x3 = mem(&gwc.src, xb);
        if (S == 2) {
            dnnl_memory_desc_t pool_md = md_tag(4, dpool, tag_in);
            dnnl_dims_t two = {2, 2}, zero = {0, 0};
            dnnl_pooling_desc_t pd;
            dnnl_primitive_desc_t ppd;
            CK(dnnl_pooling_forward_desc_init(&pd, dnnl_forward_inference, dnnl_pooling_avg_exclude_padding, &in_blk,
                                              &pool_md, two, two, zero, zero));
            CK(dnnl_primitive_desc_create(&ppd, &pd, NULL, eng, NULL));
            CK(dnnl_primitive_create(&pool, ppd));
            pb = falloc(dnnl_memory_desc_get_size(&pool_md));
            sp_pooled = mem(&pool_md, pb);
        }
        sp_p3 = mem(&half_o, pb);
        sp_p1 = mem(&half_o, pb + (size_t)R * HWO);
        o3b = falloc(dnnl_memory_desc_get_size(&gwc.dst));
        o1b = falloc(dnnl_memory_desc_get_size(&gwc.dst));
        spout = falloc(dnnl_memory_desc_get_size(&gwc.dst));
        sp_o3 = mem(&gwc.dst, o3b);
        sp_o1 = mem(&gwc.dst, o1b);
    }

    /* numerics: same input, same weights */
    static float ref_a[N * CO * HWO], ref_b[N * CO * HWO], dn_van[N * CO * HWO], dn_sp[N * CO * HWO];
    run_spgen_a();
    run_spgen_b();
    memcpy(ref_a, out_a, sizeof ref_a);
    memcpy(ref_b, out_b, sizeof ref_b);
    run_vanilla();
    reorder(&van.dst, van_out, &out_user, dn_van);
    run_spconv();
    reorder(&gwc.dst, spout, &out_user, dn_sp);
    double err_van = max_rel(dn_van, ref_b, N * CO * HWO), err_sp = max_rel(dn_sp, ref_a, N * CO * HWO);
    /* NET against post(oneDNN SPConv composed(pre(x))): pre(x) goes into the
       composed SPConv's input, then x again for the timing */
    double err_net;
    {
        static float pre_x[N * C * HW], dn_sp_pre[N * CO * HWO], ref_net[N * CO * HWO];
        const dnnl_memory_desc_t *in_blk;
        void *xb;
        CK(dnnl_memory_get_memory_desc(sp_in, &in_blk));
        CK(dnnl_memory_get_data_handle(sp_in, &xb));
        conv1x1_ref(tensor(fnet, "pre.weight", 4, C, C, 1, 1), in_nchw, pre_x, C, C, HW);
        reorder(&in_user, pre_x, in_blk, xb);
        run_spconv();
        reorder(&gwc.dst, spout, &out_user, dn_sp_pre);
        conv1x1_ref(tensor(fnet, "post.weight", 4, CO, CO, 1, 1), dn_sp_pre, ref_net, CO, CO, HWO);
        run_spgen_net();
        err_net = max_rel(out_net, ref_net, N * CO * HWO);
        reorder(&in_user, in_nchw, in_blk, xb);
    }

    const dnnl_version_t *v = dnnl_version();
    printf("oneDNN %d.%d.%d (%s), isa %s; layouts: input %s, maps %s\n", v->major, v->minor, v->patch, threads,
           isa_name(dnnl_get_effective_cpu_isa()), layout_name(x_in, R), layout_name(sp_x, CO));
    printf("  vanilla 3x3: %s; SPConv: gwc %s, pwc %s, 1x1 %s\n", van.impl, gwc.impl, pwc.impl, c1.impl);
    printf("max rel error (max|d|/max|ref|): oneDNN vanilla vs %s %.1e, oneDNN SPConv vs %s %.1e,"
           " post(oneDNN SPConv(pre)) vs %s %.1e\n",
           STR(B), err_van, STR(A), err_sp, STR(NET), err_net);
    if (!(err_van <= 1e-4 && err_sp <= 1e-4 && err_net <= 1e-4)) {
        printf("FAIL: oneDNN and spgen disagree (tolerance 1e-4); no timing\n");
        return 1;
    }

    double peak = fma_peak(1);
    /* interleave rounds so drift in machine load hits all rows alike; keep
       each row's best median */
    enum { NROW = 7 };
    static const char *name[NROW] = {"spgen SPConv in-network",    "spgen SPConv one-layer", "spgen vanilla one-layer",
                                     "oneDNN vanilla 3x3+BN+ReLU", "oneDNN SPConv composed", "  of which 3 convs",
                                     "  of which means+combine"};
    /* NULL: NET's SPConv layer through its hooks */
    void (*fn[NROW])(void) = {NULL, run_spgen_a, run_spgen_b, run_vanilla, run_spconv, run_sp_convs, run_sp_combine};
    const double macs[NROW] = {MACS_SPCONV, MACS_SPCONV, MACS_VANILLA, MACS_VANILLA, MACS_SPCONV, MACS_SPCONV, 0};
    double t[NROW];
    for (int round = 0; round < 3; round++)
        for (int r = 0; r < NROW; r++) {
            double ms = fn[r] ? median_ms(fn[r], 3) : median_net_spconv_ms();
            t[r] = round == 0 || ms < t[r] ? ms : t[r];
        }
    printf("what each row's time includes (ms: the best of 3 medians):\n"
           "  spgen SPConv in-network  layer 2 of %s (1x1 'pre', SPConv+BN+ReLU, 1x1 'post') between its\n"
           "                           profiling hooks: it reads and writes the activations as the network keeps\n"
           "                           them (channel-blocked with --simd), no layout conversion\n"
           "  spgen ... one-layer      %s_run, %s_run: NCHW in and out at their API, the conversions included\n"
           "  oneDNN ...               on the layouts oneDNN picks (above), reorders from/to NCHW not timed\n",
           STR(NET), STR(A), STR(B));
    printf("%-28s %9s %9s %8s\n", "", "ms", "GFLOP/s", "% peak");
    for (int r = 0; r < NROW; r++) {
        if (macs[r] > 0) {
            double gf = 2 * macs[r] / (t[r] * 1e-3) / 1e9;
            printf("%-28s %9.3f %9.1f %7.1f%%\n", name[r], t[r], gf, peak > 0 ? 100 * gf / peak : 0);
        } else
            printf("%-28s %9.3f %9s %8s\n", name[r], t[r], "-", "-");
    }
    printf("(GFLOP/s = 2 * MACs / time; MACs %.0f vanilla, %.0f SPConv)\n", MACS_VANILLA, MACS_SPCONV);
    printf("ratio spgen SPConv in-network / oneDNN vanilla: time %.2f (like for like: neither converts layouts)\n",
           t[0] / t[3]);
    printf("ratio spgen SPConv one-layer / oneDNN vanilla: time %.2f\n", t[1] / t[3]);
    printf("ratio spgen SPConv in-network / oneDNN SPConv composed: time %.2f\n", t[0] / t[4]);
    printf("ratio spgen vanilla one-layer / oneDNN vanilla: time %.2f\n", t[2] / t[3]);
    printf("ratio oneDNN SPConv composed / oneDNN vanilla: time %.2f\n", t[4] / t[3]);
    st_close(fa);
    st_close(fb);
    st_close(fnet);
    return 0;
}
