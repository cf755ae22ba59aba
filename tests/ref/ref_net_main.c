/* ref_net - run a whole reference network (model zoo below) on an input .npy.
 *
 *   ref_net --arch NAME [--classes N] [--ratio A] [--naming torch|paddle]
 *           [--bias official|all] [--size S] [--batch N]
 *           WEIGHTS.safetensors IN.npy OUT.npy
 *
 * NAME: sp_resnet18 sp_resnet50 (ImageNet layout: default --classes 1000,
 * --size 224) | resnet18_cifar sp_resnet18_cifar sp_resnet20_cifar
 * sp_vgg16_cifar (default --classes 10, --size 32). --ratio 0.5, --naming
 * torch, --bias official and --batch 1 by default. IN.npy is float32
 * [N, 3, S, S]; OUT.npy is written float32 [N, classes] (the logits).
 *
 * Built only from the reference operators (ops_ref.c) and the reference
 * SPConv (spconv_ref.c): PyTorch eval-mode semantics, BN unfolded, every sum in
 * double, float32 activations between layers. Shares no code with gen/.
 * Every SPConv is 3x3 with groups 2 and the given ratio / bias convention; key
 * prefixes follow the PyTorch state_dicts of the model zoo (see the
 * architecture functions below; sp_vgg16_cifar flattens 512 x h x w after its
 * last max pool, so classifier.0 is Linear(512, 512) at size 32 and wider at
 * 64, 96, ...). Every tensor is fetched with its exact
 * expected shape: a missing or misshapen one is an error naming it and the
 * file. The whole network is first walked without computing (shapes and
 * weights only), so such errors come at once, before the input is read.
 * Tensors of the file that the network does not use draw one warning.
 *
 * Exit status: 0 ok; 1 bad input (weights, input, a size or ratio the
 * network cannot take), message naming the file, tensor or layer;
 * 2 malformed command line.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "npy.h"
#include "ops_ref.h"
#include "spconv_ref.h"
#include "st.h"

#define KEYLEN 512

typedef struct {
    float *d; /* NULL in the dry pass */
    int n, c, h, w;
} tens;

typedef struct {
    st *f;
    const char *wpath;
    const char *arch;
    int paddle, bias_all, dry;
    double ratio, eps;
    int ntens;
    unsigned char *used; /* per tensor of f: fetched at least once */
} net;

/* ---------------------------------------------------------------- helpers */

static int layer_err(const net *m, const char *layer, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "ref_net: %s: layer '%s': ", m->arch, layer);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return -1;
}

static size_t t_count(const tens *t)
{
    return (size_t)t->n * (size_t)t->c * (size_t)t->h * (size_t)t->w;
}

static void t_free(tens *t)
{
    free(t->d);
    memset(t, 0, sizeof *t);
}

/* *dst = *src (freeing the old *dst); *src is emptied. */
static void t_move(tens *dst, tens *src)
{
    t_free(dst);
    *dst = *src;
    memset(src, 0, sizeof *src);
}

static int t_new(const net *m, const char *layer, tens *t, int n, int c, int h, int w)
{
    memset(t, 0, sizeof *t);
    if (n < 1 || c < 1 || h < 1 || w < 1)
        return layer_err(m, layer, "output shape [%d, %d, %d, %d] is empty", n, c, h, w);
    if ((double)n * c * h * w > 4e9)
        return layer_err(m, layer, "output [%d, %d, %d, %d] too large for the reference", n, c, h, w);
    t->n = n;
    t->c = c;
    t->h = h;
    t->w = w;
    if (m->dry)
        return 0;
    t->d = malloc(t_count(t) * sizeof(float));
    if (!t->d)
        return layer_err(m, layer, "out of memory");
    return 0;
}

static const char *key(char *buf, const char *prefix, const char *suffix)
{
    if ((size_t)snprintf(buf, KEYLEN, "%s%s", prefix, suffix) >= KEYLEN)
        snprintf(buf, KEYLEN, "(name too long)");
    return buf;
}

/* st_get (which names the file and the tensor on failure), remembering the use. */
static const float *get(net *m, const char *name, int ndim, const long *shape)
{
    const float *p = st_get(m->f, name, ndim, shape);
    if (p)
        for (int i = 0; i < m->ntens; i++)
            if (strcmp(st_name(m->f, i), name) == 0) {
                m->used[i] = 1;
                break;
            }
    return p;
}

static int get_bn(net *m, const char *prefix, long c, ref_bn *bn)
{
    char k[KEYLEN];
    if (!(bn->weight = get(m, key(k, prefix, ".weight"), 1, &c)) ||
        !(bn->bias = get(m, key(k, prefix, ".bias"), 1, &c)) ||
        !(bn->mean = get(m, key(k, prefix, m->paddle ? "._mean" : ".running_mean"), 1, &c)) ||
        !(bn->var = get(m, key(k, prefix, m->paddle ? "._variance" : ".running_var"), 1, &c)))
        return -1;
    return 0;
}

/* ----------------------------------------------------------------- layers */

/* y = Conv2d(x), square kernel k, zero padding p, optional bias. */
static int L_conv(net *m, const char *name, const tens *x, int cout, int k, int s, int p, int groups, int has_bias,
                  tens *y)
{
    char kb[KEYLEN];
    const long co = cout;
    const float *wt, *b = NULL;
    int ho, wo;
    if (x->c % groups || cout % groups)
        return layer_err(m, name, "Conv2d %d -> %d channels: not divisible by groups %d", x->c, cout, groups);
    ho = ops_ref_pool_dim(x->h, k, s, p);
    wo = ops_ref_pool_dim(x->w, k, s, p);
    if (ho < 1 || wo < 1)
        return layer_err(m, name, "Conv2d kernel %d stride %d padding %d: input %dx%d is too small", k, s, p, x->h,
                         x->w);
    {
        const long ws[4] = {cout, x->c / groups, k, k};
        if (!(wt = get(m, key(kb, name, ".weight"), 4, ws)))
            return -1;
    }
    if (has_bias && !(b = get(m, key(kb, name, ".bias"), 1, &co)))
        return -1;
    if (t_new(m, name, y, x->n, cout, ho, wo))
        return -1;
    if (!m->dry && conv2d_ref(x->d, x->n, x->c, x->h, x->w, wt, b, cout, k, s, p, groups, y->d)) {
        t_free(y);
        return -1;
    }
    return 0;
}

/* BatchNorm2d (or BatchNorm1d on [n, f, 1, 1]) in place. */
static int L_bn(net *m, const char *name, tens *x)
{
    ref_bn bn;
    if (get_bn(m, name, x->c, &bn))
        return -1;
    if (!m->dry)
        batchnorm2d_ref(x->d, x->n, x->c, (size_t)x->h * (size_t)x->w, &bn, m->eps);
    return 0;
}

static void L_relu(const net *m, tens *x)
{
    if (!m->dry)
        relu_ref(x->d, t_count(x));
}

/* y = SPConv 3x3 (groups 2, the net's ratio and bias convention), no BN after. */
static int L_sp(net *m, const char *name, const tens *x, int cout, int stride, tens *y)
{
    spconv_ref_params p;
    char kb[KEYLEN], err[256];
    int ho, wo, r;
    const long co = cout;
    memset(&p, 0, sizeof p);
    p.cin = x->c;
    p.cout = cout;
    p.h = x->h;
    p.w = x->w;
    p.batch = x->n;
    p.groups = 2;
    p.stride = stride;
    p.ratio = m->ratio;
    p.eps = m->eps;
    if (spconv_ref_check(&p, &ho, &wo, err, sizeof err))
        return layer_err(m, name, "SPConv %d -> %d, stride %d, on a %dx%d input: %s", x->c, cout, stride, x->h, x->w,
                         err);
    r = spconv_ref_r(x->c, m->ratio);
    {
        const long gs[4] = {co, r / 2, 3, 3}, ps[4] = {co, r, 1, 1}, cs[4] = {co, x->c - r, 1, 1};
        if (!(p.gwc_w = get(m, key(kb, name, ".gwc.weight"), 4, gs)) ||
            !(p.pwc_w = get(m, key(kb, name, ".pwc.weight"), 4, ps)) ||
            !(p.c1_w = get(m, key(kb, name, ".conv1x1.weight"), 4, cs)) ||
            !(p.c1_b = get(m, key(kb, name, ".conv1x1.bias"), 1, &co)))
            return -1;
    }
    if (m->bias_all && (!(p.gwc_b = get(m, key(kb, name, ".gwc.bias"), 1, &co)) ||
                        !(p.pwc_b = get(m, key(kb, name, ".pwc.bias"), 1, &co))))
        return -1;
    if (get_bn(m, key(kb, name, ".bn1"), co, &p.bn1) || get_bn(m, key(kb, name, ".bn2"), co, &p.bn2))
        return -1;
    if (t_new(m, name, y, x->n, cout, ho, wo))
        return -1;
    if (!m->dry && spconv_ref_run(&p, x->d, y->d)) {
        t_free(y);
        return -1;
    }
    return 0;
}

/* y = Linear(flatten(x)) -> [n, fout, 1, 1]. */
static int L_linear(net *m, const char *name, const tens *x, int fout, tens *y)
{
    char kb[KEYLEN];
    const long fin = (long)x->c * x->h * x->w, fo = fout;
    const long ws[2] = {m->paddle ? fin : fo, m->paddle ? fo : fin};
    const float *wt, *b;
    if (!(wt = get(m, key(kb, name, ".weight"), 2, ws)) || !(b = get(m, key(kb, name, ".bias"), 1, &fo)))
        return -1;
    if (t_new(m, name, y, x->n, fout, 1, 1))
        return -1;
    if (!m->dry)
        linear_ref(x->d, x->n, (int)fin, wt, b, fout, m->paddle, y->d);
    return 0;
}

static int L_maxpool(const net *m, const char *name, const tens *x, int k, int s, int p, tens *y)
{
    const int ho = ops_ref_pool_dim(x->h, k, s, p), wo = ops_ref_pool_dim(x->w, k, s, p);
    if (ho < 1 || wo < 1)
        return layer_err(m, name, "MaxPool2d kernel %d stride %d padding %d: input %dx%d is too small", k, s, p,
                         x->h, x->w);
    if (t_new(m, name, y, x->n, x->c, ho, wo))
        return -1;
    if (!m->dry)
        maxpool2d_ref(x->d, x->n, x->c, x->h, x->w, k, s, p, y->d);
    return 0;
}

static int L_gap(const net *m, const tens *x, tens *y)
{
    if (t_new(m, "avgpool", y, x->n, x->c, 1, 1))
        return -1;
    if (!m->dry)
        global_avgpool_ref(x->d, x->n, x->c, x->h, x->w, y->d);
    return 0;
}

/* y += x, shapes must agree. */
static int L_add(const net *m, const char *name, tens *y, const tens *x)
{
    if (y->n != x->n || y->c != x->c || y->h != x->h || y->w != x->w)
        return layer_err(m, name, "residual add of [%d, %d, %d, %d] and shortcut [%d, %d, %d, %d]", y->n, y->c, y->h,
                         y->w, x->n, x->c, x->h, x->w);
    if (!m->dry)
        add_ref(y->d, x->d, t_count(y));
    return 0;
}

/* ----------------------------------------------------------------- blocks */

enum { CONV_VANILLA, CONV_SP };
enum { SHORTCUT_B, SHORTCUT_A };

/* 3x3 block conv: SPConv or vanilla Conv2d(3x3, pad 1, no bias). */
static int block_conv(net *m, int kind, const char *name, const tens *x, int cout, int stride, tens *y)
{
    return kind == CONV_SP ? L_sp(m, name, x, cout, stride, y) : L_conv(m, name, x, cout, 3, stride, 1, 1, 0, y);
}

/* BasicBlock (expansion 1) with prefix pfx:
 *   out = relu(bn1(conv1(x))); out = bn2(conv2(out)); relu(out + shortcut(x)) */
static int basic_block(net *m, const char *pfx, const tens *x, int planes, int stride, int kind, int shortcut,
                       tens *y)
{
    char nb[KEYLEN];
    tens a = {0}, b = {0}, id = {0};
    int rc = -1;
    if (block_conv(m, kind, key(nb, pfx, ".conv1"), x, planes, stride, &a) || L_bn(m, key(nb, pfx, ".bn1"), &a))
        goto done;
    L_relu(m, &a);
    if (block_conv(m, kind, key(nb, pfx, ".conv2"), &a, planes, 1, &b) || L_bn(m, key(nb, pfx, ".bn2"), &b))
        goto done;
    if (stride != 1 || x->c != planes) {
        if (shortcut == SHORTCUT_B) {
            if (L_conv(m, key(nb, pfx, ".downsample.0"), x, planes, 1, stride, 0, 1, 0, &id) ||
                L_bn(m, key(nb, pfx, ".downsample.1"), &id))
                goto done;
        } else {
            const int pad = planes / 4;
            if (x->c + 2 * pad != planes) {
                layer_err(m, pfx, "option A shortcut pads %d channels by %d on each side, giving %d, not %d", x->c,
                          pad, x->c + 2 * pad, planes);
                goto done;
            }
            if (t_new(m, pfx, &id, x->n, planes, (x->h + 1) / 2, (x->w + 1) / 2))
                goto done;
            if (!m->dry)
                shortcut_a_ref(x->d, x->n, x->c, x->h, x->w, pad, id.d);
        }
        if (L_add(m, pfx, &b, &id))
            goto done;
    } else if (L_add(m, pfx, &b, x)) {
        goto done;
    }
    L_relu(m, &b);
    t_move(y, &b);
    rc = 0;
done:
    t_free(&a);
    t_free(&b);
    t_free(&id);
    return rc;
}

/* Bottleneck (expansion 4), SPConv in the middle:
 *   relu(bn1(conv1 1x1)); relu(bn2(SP conv2, stride)); bn3(conv3 1x1 -> 4 planes);
 *   relu(out + shortcut(x)), shortcut = downsample.0/1 (1x1 conv stride, BN) when needed */
static int bottleneck(net *m, const char *pfx, const tens *x, int planes, int stride, tens *y)
{
    char nb[KEYLEN];
    tens a = {0}, b = {0}, c = {0}, id = {0};
    int rc = -1;
    if (L_conv(m, key(nb, pfx, ".conv1"), x, planes, 1, 1, 0, 1, 0, &a) || L_bn(m, key(nb, pfx, ".bn1"), &a))
        goto done;
    L_relu(m, &a);
    if (L_sp(m, key(nb, pfx, ".conv2"), &a, planes, stride, &b) || L_bn(m, key(nb, pfx, ".bn2"), &b))
        goto done;
    L_relu(m, &b);
    if (L_conv(m, key(nb, pfx, ".conv3"), &b, 4 * planes, 1, 1, 0, 1, 0, &c) || L_bn(m, key(nb, pfx, ".bn3"), &c))
        goto done;
    if (stride != 1 || x->c != 4 * planes) {
        if (L_conv(m, key(nb, pfx, ".downsample.0"), x, 4 * planes, 1, stride, 0, 1, 0, &id) ||
            L_bn(m, key(nb, pfx, ".downsample.1"), &id) || L_add(m, pfx, &c, &id))
            goto done;
    } else if (L_add(m, pfx, &c, x)) {
        goto done;
    }
    L_relu(m, &c);
    t_move(y, &c);
    rc = 0;
done:
    t_free(&a);
    t_free(&b);
    t_free(&c);
    t_free(&id);
    return rc;
}

typedef struct {
    int nlayers;
    int planes[4], blocks[4], strides[4];
    int bottleneck;   /* Bottleneck blocks (else BasicBlock) */
    int kind;         /* BasicBlock convs: CONV_SP or CONV_VANILLA */
    int shortcut;     /* BasicBlock shortcut: SHORTCUT_B or SHORTCUT_A */
} res_cfg;

/* layer1 .. layerN on *x (replaced by the result). */
static int res_layers(net *m, const res_cfg *cfg, tens *x)
{
    for (int l = 0; l < cfg->nlayers; l++)
        for (int bi = 0; bi < cfg->blocks[l]; bi++) {
            char pfx[64];
            tens y = {0};
            const int stride = bi == 0 ? cfg->strides[l] : 1;
            snprintf(pfx, sizeof pfx, "layer%d.%d", l + 1, bi);
            if (cfg->bottleneck ? bottleneck(m, pfx, x, cfg->planes[l], stride, &y)
                                : basic_block(m, pfx, x, cfg->planes[l], stride, cfg->kind, cfg->shortcut, &y))
                return -1;
            t_move(x, &y);
        }
    return 0;
}

/* ------------------------------------------------------------ the networks */

/* stem conv (no bias) + bn1 + relu, on *x (replaced). */
static int stem(net *m, tens *x, int cout, int k, int s, int p)
{
    tens y = {0};
    if (L_conv(m, "conv1", x, cout, k, s, p, 1, 0, &y) || L_bn(m, "bn1", &y)) {
        t_free(&y);
        return -1;
    }
    L_relu(m, &y);
    t_move(x, &y);
    return 0;
}

/* global average pool + Linear NAME, on *x (replaced). */
static int head(net *m, const char *name, tens *x, int classes)
{
    tens p = {0}, y = {0};
    if (L_gap(m, x, &p) || L_linear(m, name, &p, classes, &y)) {
        t_free(&p);
        return -1;
    }
    t_free(&p);
    t_move(x, &y);
    return 0;
}

/* sp_resnet18 / sp_resnet50 (torchvision layout) */
static int net_resnet_imagenet(net *m, tens *x, int bottle, int classes)
{
    res_cfg cfg = {4, {64, 128, 256, 512}, {2, 2, 2, 2}, {1, 2, 2, 2}, bottle, CONV_SP, SHORTCUT_B};
    tens y = {0};
    if (bottle) {
        cfg.blocks[1] = 4;
        cfg.blocks[2] = 6;
        cfg.blocks[0] = cfg.blocks[3] = 3;
    }
    if (stem(m, x, 64, 7, 2, 3) || L_maxpool(m, "maxpool", x, 3, 2, 1, &y))
        return -1;
    t_move(x, &y);
    return res_layers(m, &cfg, x) || head(m, "fc", x, classes) ? -1 : 0;
}

/* resnet18_cifar / sp_resnet18_cifar */
static int net_resnet18_cifar(net *m, tens *x, int kind, int classes)
{
    const res_cfg cfg = {4, {64, 128, 256, 512}, {2, 2, 2, 2}, {1, 2, 2, 2}, 0, kind, SHORTCUT_B};
    return stem(m, x, 64, 3, 1, 1) || res_layers(m, &cfg, x) || head(m, "fc", x, classes) ? -1 : 0;
}

/* sp_resnet20_cifar (option A shortcuts, head "linear") */
static int net_resnet20_cifar(net *m, tens *x, int classes)
{
    const res_cfg cfg = {3, {16, 32, 64}, {3, 3, 3}, {1, 2, 2}, 0, CONV_SP, SHORTCUT_A};
    return stem(m, x, 16, 3, 1, 1) || res_layers(m, &cfg, x) || head(m, "linear", x, classes) ? -1 : 0;
}

/* sp_vgg16_cifar: features (Sequential), flatten, classifier.0-3 */
static int net_vgg16_cifar(net *m, tens *x, int classes)
{
    static const int cfg[] = {64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0};
    char nb[KEYLEN];
    int i = 0, first = 1;
    tens y = {0};
    for (size_t j = 0; j < sizeof cfg / sizeof cfg[0]; j++) {
        if (cfg[j] == 0) {
            snprintf(nb, sizeof nb, "features.%d", i);
            if (L_maxpool(m, nb, x, 2, 2, 0, &y))
                return -1;
            t_move(x, &y);
            i += 1;
            continue;
        }
        snprintf(nb, sizeof nb, "features.%d", i);
        if (first ? L_conv(m, nb, x, cfg[j], 3, 1, 1, 1, 1, &y) : L_sp(m, nb, x, cfg[j], 1, &y))
            return -1;
        first = 0;
        t_move(x, &y);
        snprintf(nb, sizeof nb, "features.%d", i + 1);
        if (L_bn(m, nb, x))
            return -1;
        L_relu(m, x);
        i += 3;
    }
    if (L_linear(m, "classifier.0", x, 512, &y))
        return -1;
    t_move(x, &y);
    if (L_bn(m, "classifier.1", x))
        return -1;
    L_relu(m, x);
    if (L_linear(m, "classifier.3", x, classes, &y))
        return -1;
    t_move(x, &y);
    return 0;
}

static const struct {
    const char *name;
    int imagenet;
} archs[] = {
    {"sp_resnet18", 1},       {"sp_resnet50", 1},       {"resnet18_cifar", 0},
    {"sp_resnet18_cifar", 0}, {"sp_resnet20_cifar", 0}, {"sp_vgg16_cifar", 0},
};

/* Runs m->arch on *x ([N, 3, S, S], replaced by the logits [N, classes, 1, 1]). */
static int run_arch(net *m, tens *x, int classes)
{
    const char *a = m->arch;
    if (strcmp(a, "sp_resnet18") == 0)
        return net_resnet_imagenet(m, x, 0, classes);
    if (strcmp(a, "sp_resnet50") == 0)
        return net_resnet_imagenet(m, x, 1, classes);
    if (strcmp(a, "resnet18_cifar") == 0)
        return net_resnet18_cifar(m, x, CONV_VANILLA, classes);
    if (strcmp(a, "sp_resnet18_cifar") == 0)
        return net_resnet18_cifar(m, x, CONV_SP, classes);
    if (strcmp(a, "sp_resnet20_cifar") == 0)
        return net_resnet20_cifar(m, x, classes);
    return net_vgg16_cifar(m, x, classes);
}

/* ------------------------------------------------------------------- main */

static void usage(void)
{
    fprintf(stderr, "usage: ref_net --arch NAME [--classes N] [--ratio A] [--naming torch|paddle]\n"
                    "               [--bias official|all] [--size S] [--batch N]\n"
                    "               WEIGHTS.safetensors IN.npy OUT.npy\n"
                    "  NAME: sp_resnet18 sp_resnet50 (defaults --classes 1000 --size 224)\n"
                    "        resnet18_cifar sp_resnet18_cifar sp_resnet20_cifar sp_vgg16_cifar\n"
                    "        (defaults --classes 10 --size 32)\n"
                    "  defaults: --ratio 0.5 --naming torch --bias official --batch 1\n"
                    "  IN.npy: float32 [N, 3, S, S]; OUT.npy: float32 [N, classes]\n");
}

#define bad_usage(msg, arg) cli_bad_usage("ref_net", usage, msg, arg)

/* Warns (once) about tensors of the file that the network did not use;
 * PyTorch's integer BN counters num_batches_tracked are expected and skipped. */
static void warn_unused(const net *m)
{
    int unused = 0, shown = 0;
    static const char skip[] = "num_batches_tracked";
    for (int i = 0; i < m->ntens; i++) {
        const char *nm = st_name(m->f, i);
        size_t l = strlen(nm);
        if (m->used[i] || (l >= sizeof skip - 1 && strcmp(nm + l - (sizeof skip - 1), skip) == 0))
            continue;
        if (unused++ == 0)
            fprintf(stderr, "%s: warning: tensors not used by %s:", m->wpath, m->arch);
        if (shown < 8) {
            fprintf(stderr, "%s '%s'", shown ? "," : "", nm);
            shown++;
        }
    }
    if (unused > shown)
        fprintf(stderr, " and %d more", unused - shown);
    if (unused)
        fprintf(stderr, " (check --arch, --bias, --naming)\n");
}

int main(int argc, char **argv)
{
    const char *arch = NULL, *naming = "torch", *bias = "official";
    int classes = 0, size = 0, batch = 1, imagenet = 0;
    double ratio = 0.5;
    const char *pos[3];
    int npos = 0, rc = 1;
    net m;
    tens x = {0};
    npy_array in = {0};

    memset(&m, 0, sizeof m);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = NULL;
        char opt[CLI_OPT_MAX];
        if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
            if (npos == 3)
                return bad_usage("too many arguments at", a);
            pos[npos++] = a;
            continue;
        }
        if (cli_split(a, opt, &val) != 0)
            return bad_usage("unknown option", a);
        if (strcmp(opt, "--help") == 0) {
            usage();
            return 0;
        }
        if (!val) {
            if (i + 1 >= argc)
                return bad_usage("missing value for", opt);
            val = argv[++i];
        }
        if (strcmp(opt, "--arch") == 0) {
            arch = val;
        } else if (strcmp(opt, "--classes") == 0) {
            if (cli_int(val, 1, 1000000, &classes))
                return bad_usage("--classes must be an integer in 1 .. 1000000, not", val);
        } else if (strcmp(opt, "--size") == 0) {
            if (cli_int(val, 1, 100000, &size))
                return bad_usage("--size must be an integer in 1 .. 100000, not", val);
        } else if (strcmp(opt, "--batch") == 0) {
            if (cli_int(val, 1, 100000, &batch))
                return bad_usage("--batch must be an integer in 1 .. 100000, not", val);
        } else if (strcmp(opt, "--ratio") == 0) {
            if (cli_double(val, &ratio) || !(ratio > 0.0 && ratio < 1.0))
                return bad_usage("--ratio must be a number in (0, 1), not", val);
        } else if (strcmp(opt, "--naming") == 0) {
            if (strcmp(val, "torch") != 0 && strcmp(val, "paddle") != 0)
                return bad_usage("--naming must be torch or paddle, not", val);
            naming = val;
        } else if (strcmp(opt, "--bias") == 0) {
            if (strcmp(val, "official") != 0 && strcmp(val, "all") != 0)
                return bad_usage("--bias must be official or all, not", val);
            bias = val;
        } else {
            return bad_usage("unknown option", opt);
        }
    }
    if (!arch)
        return bad_usage("missing required option", "--arch");
    {
        size_t k, na = sizeof archs / sizeof archs[0];
        for (k = 0; k < na && strcmp(archs[k].name, arch) != 0; k++)
            ;
        if (k == na)
            return bad_usage("unknown --arch", arch);
        imagenet = archs[k].imagenet;
    }
    if (npos != 3)
        return bad_usage("expected WEIGHTS.safetensors IN.npy OUT.npy", NULL);
    if (!classes)
        classes = imagenet ? 1000 : 10;
    if (!size)
        size = imagenet ? 224 : 32;

    m.arch = arch;
    m.wpath = pos[0];
    m.paddle = strcmp(naming, "paddle") == 0;
    m.bias_all = strcmp(bias, "all") == 0;
    m.ratio = ratio;
    m.eps = 1e-5;

    if (!(m.f = st_open(pos[0])))
        goto done;
    m.ntens = st_count(m.f);
    if (!(m.used = calloc((size_t)m.ntens + 1, 1))) {
        fprintf(stderr, "ref_net: out of memory\n");
        goto done;
    }

    /* dry pass: every shape and every weight, nothing computed */
    m.dry = 1;
    x.n = batch;
    x.c = 3;
    x.h = x.w = size;
    if (run_arch(&m, &x, classes))
        goto done;
    if (x.n != batch || x.c != classes || x.h != 1 || x.w != 1) { /* cannot happen */
        fprintf(stderr, "ref_net: internal error: output [%d, %d, %d, %d]\n", x.n, x.c, x.h, x.w);
        goto done;
    }

    if (npy_read(pos[1], &in))
        goto done;
    {
        const long want[4] = {batch, 3, size, size};
        int same = in.ndim == 4;
        for (int k = 0; same && k < 4; k++)
            same = in.shape[k] == want[k];
        if (!same) {
            char got[256], need[256];
            npy_shape_str(in.ndim, in.shape, got, sizeof got);
            npy_shape_str(4, want, need, sizeof need);
            fprintf(stderr, "%s: input shape %s does not match --batch %d --size %d, which need %s\n", pos[1], got,
                    batch, size, need);
            goto done;
        }
    }

    m.dry = 0;
    x.n = batch;
    x.c = 3;
    x.h = x.w = size;
    x.d = in.data; /* x owns the input now */
    in.data = NULL;
    npy_free(&in);
    if (run_arch(&m, &x, classes))
        goto done;
    {
        const long oshape[2] = {batch, classes};
        if (npy_write(pos[2], x.d, 2, oshape))
            goto done;
    }
    warn_unused(&m);
    rc = 0;
done:
    t_free(&x);
    npy_free(&in);
    free(m.used);
    st_close(m.f);
    return rc;
}
