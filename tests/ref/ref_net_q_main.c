/* ref_net_q - run an int8 network described by a model file (docs/int8.md,
 * section 8) on an input .npy, with the int8 reference operators.
 *
 *   ref_net_q [--raw] MODEL IN.npy OUT.npy
 *
 * IN is float32 [N, C, H, W] or [N, C*H*W] for the model's input tensor (any
 * N >= 1), quantized as <name>_run does; OUT is float32, the output
 * dequantized as <name>_run does, [N, C] when the output tensor is flat, else
 * [N, C, H, W]. With --raw, IN holds the int8 values themselves and OUT gets
 * the int8 values (as floats).
 *
 * The whole file is read and checked (every rule of section 8, the bounds of
 * section 6, the per-layer constants) before the input is read. Exit status:
 * 0 ok; 1 bad model or input (message naming the file, line and layer);
 * 2 malformed command line. Shares no code with gen/.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "int8_ref.h"
#include "npy.h"

#define MAX_TENSORS 100000
#define MAX_DIM (1 << 20)

enum op_kind { OP_CONV2D, OP_LINEAR, OP_SPCONV, OP_ADD, OP_RELU, OP_MAXPOOL, OP_AVGPOOL, OP_GAP, OP_SOFTMAX,
               OP_FLATTEN, OP_SHORTCUT_A };

static const char *const op_names[] = {"conv2d", "linear", "spconv", "add", "relu", "maxpool", "avgpool",
                                       "global_avgpool", "softmax", "flatten", "shortcut_a"};

typedef struct {
    int declared, written, flat, line;
    q_shape shape; /* n is set when the network runs */
    int8_t *data;
} tensor;

typedef struct {
    enum op_kind kind;
    char layer[256];
    int line;
    int in, b, out; /* b: add's second operand */
    int k, stride, pad, groups, relu, r, include_pad;
    int8_t *weights;  /* conv2d, linear; spconv: g */
    int8_t *q;        /* spconv */
    int32_t *bias, *m;
    int *e;
    float *wscale, *s3, *s1, *b3, *b1, *pa, *pb;
    q_spconv_chan *chan;
} op;

typedef struct {
    const char *path;
    char *text, *pos;
    int line, tok_line;
    char tok[256];
    int fixed;
    tensor *t;
    int nt;
    op *ops;
    int nops, cap;
    int input, output;
} model;

/* ------------------------------------------------------------- messages */

static int model_err(const model *m, const op *o, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s:%d: ", m->path, o ? o->line : m->tok_line);
    if (o)
        fprintf(stderr, "%s '%s': ", op_names[o->kind], o->layer);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return -1;
}

/* ------------------------------------------------------------- tokens */

/* The next token into m->tok; -1 with a message at the end of the file. */
static int next(model *m)
{
    size_t n = 0;
    for (;;) {
        while (*m->pos == ' ' || *m->pos == '\t' || *m->pos == '\r' || *m->pos == '\n') {
            if (*m->pos == '\n')
                m->line++;
            m->pos++;
        }
        if (*m->pos != '#')
            break;
        while (*m->pos && *m->pos != '\n')
            m->pos++;
    }
    m->tok_line = m->line;
    if (!*m->pos)
        return model_err(m, NULL, "unexpected end of file");
    while (*m->pos && !strchr(" \t\r\n#", *m->pos)) {
        if (n + 1 >= sizeof m->tok)
            return model_err(m, NULL, "token too long");
        m->tok[n++] = *m->pos++;
    }
    m->tok[n] = '\0';
    return 0;
}

static int expect(model *m, const char *word)
{
    if (next(m))
        return -1;
    if (strcmp(m->tok, word) != 0)
        return model_err(m, NULL, "expected '%s', got '%s'", word, m->tok);
    return 0;
}

static int read_long(model *m, long lo, long hi, long *v)
{
    char *end;
    if (next(m))
        return -1;
    errno = 0;
    *v = strtol(m->tok, &end, 10);
    if (end == m->tok || *end || errno || *v < lo || *v > hi)
        return model_err(m, NULL, "expected an integer in [%ld, %ld], got '%s'", lo, hi, m->tok);
    return 0;
}

static int read_int(model *m, long lo, long hi, int *v)
{
    long l;
    if (read_long(m, lo, hi, &l))
        return -1;
    *v = (int)l;
    return 0;
}

/* "WORD INT" */
static int field(model *m, const char *word, long lo, long hi, int *v)
{
    return expect(m, word) || read_int(m, lo, hi, v) ? -1 : 0;
}

static int read_float(model *m, float *v)
{
    char *end;
    if (next(m))
        return -1;
    *v = strtof(m->tok, &end);
    if (end == m->tok || *end || !isfinite(*v))
        return model_err(m, NULL, "expected a finite float, got '%s'", m->tok);
    return 0;
}

/* "WORD COUNT v..." with COUNT == want; the values into a new array */
static int array_head(model *m, const char *word, size_t want)
{
    long count;
    if (expect(m, word) || read_long(m, 0, 1L << 40, &count))
        return -1;
    if ((size_t)count != want)
        return model_err(m, NULL, "'%s' has %ld values, the layer needs %zu", word, count, want);
    return 0;
}

static int array_i8(model *m, const char *word, size_t want, int lo, int8_t **out)
{
    if (array_head(m, word, want) || !(*out = malloc(want ? want : 1)))
        return -1;
    for (size_t i = 0; i < want; i++) {
        int v;
        if (read_int(m, lo, 127, &v))
            return -1;
        (*out)[i] = (int8_t)v;
    }
    return 0;
}

static int array_i32(model *m, const char *word, size_t want, int32_t **out)
{
    if (array_head(m, word, want) || !(*out = malloc((want ? want : 1) * sizeof **out)))
        return -1;
    for (size_t i = 0; i < want; i++) {
        long v;
        if (read_long(m, -2147483647L - 1, 2147483647L, &v))
            return -1;
        (*out)[i] = (int32_t)v;
    }
    return 0;
}

/* positive: every value must be > 0 (scales) */
static int array_f32(model *m, const char *word, size_t want, int positive, float **out)
{
    if (array_head(m, word, want) || !(*out = malloc((want ? want : 1) * sizeof **out)))
        return -1;
    for (size_t i = 0; i < want; i++) {
        if (read_float(m, &(*out)[i]))
            return -1;
        if (positive && !((*out)[i] > 0.0f))
            return model_err(m, NULL, "'%s' value %zu is %s, a scale must be > 0", word, i, m->tok);
    }
    return 0;
}

/* ------------------------------------------------------------- tensors */

static tensor *tensor_ref(model *m, int id)
{
    return id < m->nt && m->t[id].declared ? &m->t[id] : NULL;
}

/* "WORD ID": a declared tensor */
static int tensor_field(model *m, const char *word, int *id)
{
    if (field(m, word, 0, MAX_TENSORS - 1, id))
        return -1;
    if (!tensor_ref(m, *id))
        return model_err(m, NULL, "tensor %d is not declared", *id);
    return 0;
}

static int declare(model *m)
{
    int id, c, h, w, zp;
    float scale;
    if (read_int(m, 0, MAX_TENSORS - 1, &id) || read_int(m, 1, MAX_DIM, &c) || read_int(m, 1, MAX_DIM, &h) ||
        read_int(m, 1, MAX_DIM, &w) || read_float(m, &scale) || read_int(m, -128, 127, &zp))
        return -1;
    if (!(scale > 0.0f))
        return model_err(m, NULL, "tensor %d: scale %s must be > 0", id, m->tok);
    if ((double)c * h * w > 1e9)
        return model_err(m, NULL, "tensor %d: %d x %d x %d is too large for the reference", id, c, h, w);
    if (id >= m->nt) {
        tensor *t = realloc(m->t, (size_t)(id + 1) * sizeof *t);
        if (!t)
            return model_err(m, NULL, "out of memory");
        memset(t + m->nt, 0, (size_t)(id + 1 - m->nt) * sizeof *t);
        m->t = t;
        m->nt = id + 1;
    }
    if (m->t[id].declared)
        return model_err(m, NULL, "tensor %d declared twice (first at line %d)", id, m->t[id].line);
    m->t[id].declared = 1;
    m->t[id].line = m->tok_line;
    m->t[id].shape.c = c;
    m->t[id].shape.h = h;
    m->t[id].shape.w = w;
    m->t[id].shape.scale = scale;
    m->t[id].shape.zp = zp;
    return 0;
}

/* ------------------------------------------------------------- ops */

static int pool_dim(int in, int k, int stride, int pad)
{
    return in + 2 * pad < k ? -1 : (in + 2 * pad - k) / stride + 1;
}

static int want_shape(const model *m, const op *o, const tensor *out, int c, int h, int w)
{
    if (out->shape.c != c || out->shape.h != h || out->shape.w != w)
        return model_err(m, o, "output tensor %d is declared %d x %d x %d, the layer gives %d x %d x %d", o->out,
                         out->shape.c, out->shape.h, out->shape.w, c, h, w);
    return 0;
}

/* relu, pools, flatten, shortcut_a: the output keeps the input's parameters */
static int same_params(const model *m, const op *o, const tensor *in, const tensor *out)
{
    if (in->shape.scale != out->shape.scale || in->shape.zp != out->shape.zp)
        return model_err(m, o, "output tensor %d has scale %.9g zero point %d; it must keep the input's %.9g and %d",
                         o->out, (double)out->shape.scale, out->shape.zp, (double)in->shape.scale, in->shape.zp);
    return 0;
}

static int window(model *m, op *o)
{
    return field(m, "k", 1, 15, &o->k) || field(m, "stride", 1, 15, &o->stride) || field(m, "pad", 0, 7, &o->pad)
               ? -1
               : 0;
}

/* conv2d and linear: weights [co][taps], bias and wscale [co] */
static int conv_arrays(model *m, op *o, size_t co, size_t taps)
{
    return array_i8(m, "weights", co * taps, -127, &o->weights) || array_i32(m, "bias", co, &o->bias) ||
                   array_f32(m, "wscale", co, 1, &o->wscale)
               ? -1
               : 0;
}

/* Reads the op's fields and arrays (the op keyword and layer are read). */
static int parse_op(model *m, op *o)
{
    if (o->kind == OP_ADD) {
        if (tensor_field(m, "a", &o->in) || tensor_field(m, "b", &o->b))
            return -1;
    } else if (tensor_field(m, "in", &o->in)) {
        return -1;
    }
    if (tensor_field(m, "out", &o->out))
        return -1;
    switch (o->kind) {
    case OP_CONV2D: {
        const tensor *in = &m->t[o->in], *out = &m->t[o->out];
        size_t co = (size_t)out->shape.c;
        if (window(m, o) || field(m, "groups", 1, MAX_DIM, &o->groups) || field(m, "relu", 0, 1, &o->relu))
            return -1;
        if (in->shape.c % o->groups || out->shape.c % o->groups)
            return model_err(m, o, "groups %d does not divide %d input and %d output channels", o->groups,
                             in->shape.c, out->shape.c);
        return conv_arrays(m, o, co, (size_t)(in->shape.c / o->groups) * (size_t)o->k * (size_t)o->k);
    }
    case OP_LINEAR: {
        const q_shape *in = &m->t[o->in].shape;
        size_t co = (size_t)m->t[o->out].shape.c;
        o->k = o->stride = o->groups = 1;
        if (field(m, "relu", 0, 1, &o->relu))
            return -1;
        return conv_arrays(m, o, co, (size_t)in->c * (size_t)in->h * (size_t)in->w);
    }
    case OP_SPCONV: {
        const q_shape *in = &m->t[o->in].shape;
        size_t co = (size_t)m->t[o->out].shape.c;
        if (field(m, "stride", 1, 2, &o->stride) || field(m, "groups", 1, MAX_DIM, &o->groups) ||
            field(m, "r", 1, MAX_DIM, &o->r) || field(m, "relu", 0, 1, &o->relu))
            return -1;
        if (o->r >= in->c || o->r % o->groups || (int)co % o->groups)
            return model_err(m, o, "r = %d of %d input channels, groups %d, %zu output channels: need 1 <= r < C and "
                             "groups dividing r and the output channels", o->r, in->c, o->groups, co);
        return array_i8(m, "g", co * (size_t)(o->r / o->groups) * 9, -127, &o->weights) ||
                       array_i8(m, "q", co * (size_t)in->c, -127, &o->q) || array_f32(m, "s3", co, 1, &o->s3) ||
                       array_f32(m, "s1", co, 1, &o->s1) || array_f32(m, "b3", co, 0, &o->b3) ||
                       array_f32(m, "b1", co, 0, &o->b1) || array_f32(m, "pa", co, 0, &o->pa) ||
                       array_f32(m, "pb", co, 0, &o->pb)
                   ? -1
                   : 0;
    }
    case OP_ADD:
        return field(m, "relu", 0, 1, &o->relu);
    case OP_MAXPOOL:
        return window(m, o);
    case OP_AVGPOOL:
        return window(m, o) || field(m, "include_pad", 0, 1, &o->include_pad) ? -1 : 0;
    case OP_SHORTCUT_A:
        return field(m, "stride", 1, 8, &o->stride);
    default:
        return 0;
    }
}

/* The shape and parameter rules, the bounds of section 6 and the per-layer
 * constants of one parsed op. */
static int check_op(const model *m, op *o)
{
    tensor *in = &m->t[o->in], *out = &m->t[o->out];
    const q_shape *is = &in->shape, *os = &out->shape;
    char err[256];
    if (o->out == m->input || out->written)
        return model_err(m, o, "tensor %d is written twice (or is the input)", o->out);
    if (!in->written || (o->kind == OP_ADD && !m->t[o->b].written))
        return model_err(m, o, "reads a tensor no earlier op wrote");
    switch (o->kind) {
    case OP_CONV2D:
    case OP_LINEAR: {
        const int taps = o->kind == OP_LINEAR ? is->c * is->h * is->w : is->c / o->groups * o->k * o->k;
        if (o->kind == OP_LINEAR) {
            if (want_shape(m, o, out, os->c, 1, 1))
                return -1;
        } else {
            const int ho = pool_dim(is->h, o->k, o->stride, o->pad), wo = pool_dim(is->w, o->k, o->stride, o->pad);
            if (ho < 1 || wo < 1)
                return model_err(m, o, "kernel %d stride %d pad %d: input %dx%d is too small", o->k, o->stride,
                                 o->pad, is->h, is->w);
            if (want_shape(m, o, out, os->c, ho, wo))
                return -1;
        }
        if (!(o->m = malloc((size_t)os->c * sizeof *o->m)) || !(o->e = malloc((size_t)os->c * sizeof *o->e)))
            return model_err(m, o, "out of memory");
        for (int c = 0; c < os->c; c++) {
            const int64_t bound = q_conv_bound(o->weights + (size_t)c * (size_t)taps, (size_t)taps, o->bias[c]);
            if (bound > INT32_MAX)
                return model_err(m, o, "output channel %d: accumulator bound %lld exceeds 2^31 - 1", c,
                                 (long long)bound);
            q_conv_multiplier(is->scale, o->wscale[c], os->scale, &o->m[c], &o->e[c]);
        }
        break;
    }
    case OP_SPCONV: {
        q_spconv_w w = {o->stride, o->groups, o->r, o->relu, m->fixed, o->weights, o->q,
                        o->s3, o->s1, o->b3, o->b1, o->pa, o->pb};
        if (o->stride == 2 && (is->h % 2 || is->w % 2))
            return model_err(m, o, "stride 2 needs even H and W, got %dx%d", is->h, is->w);
        if (want_shape(m, o, out, os->c, (is->h - 1) / o->stride + 1, (is->w - 1) / o->stride + 1))
            return -1;
        if (!(o->chan = malloc((size_t)os->c * sizeof *o->chan)))
            return model_err(m, o, "out of memory");
        if (q_spconv_prepare(is, &w, os, o->chan, err, sizeof err))
            return model_err(m, o, "%s", err);
        break;
    }
    case OP_ADD: {
        const q_shape *bs = &m->t[o->b].shape;
        if (bs->c != is->c || bs->h != is->h || bs->w != is->w)
            return model_err(m, o, "operands %d x %d x %d and %d x %d x %d differ", is->c, is->h, is->w, bs->c, bs->h,
                             bs->w);
        if (want_shape(m, o, out, is->c, is->h, is->w))
            return -1;
        break;
    }
    case OP_RELU:
        if (want_shape(m, o, out, is->c, is->h, is->w) || same_params(m, o, in, out))
            return -1;
        break;
    case OP_MAXPOOL:
    case OP_AVGPOOL: {
        const int ho = pool_dim(is->h, o->k, o->stride, o->pad), wo = pool_dim(is->w, o->k, o->stride, o->pad);
        if (o->pad > o->k / 2)
            return model_err(m, o, "pad %d exceeds k / 2 (k %d)", o->pad, o->k);
        if (ho < 1 || wo < 1)
            return model_err(m, o, "kernel %d stride %d pad %d: input %dx%d is too small", o->k, o->stride, o->pad,
                             is->h, is->w);
        if (want_shape(m, o, out, is->c, ho, wo) || same_params(m, o, in, out))
            return -1;
        break;
    }
    case OP_GAP:
        if ((int64_t)255 * is->h * is->w > INT32_MAX)
            return model_err(m, o, "a %dx%d plane: 255 * H * W exceeds 2^31 - 1", is->h, is->w);
        if (want_shape(m, o, out, is->c, 1, 1) || same_params(m, o, in, out))
            return -1;
        break;
    case OP_SOFTMAX:
        if (want_shape(m, o, out, is->c, is->h, is->w))
            return -1;
        if (os->scale != 0x1p-8f || os->zp != -128)
            return model_err(m, o, "output tensor %d must have scale 0.00390625 and zero point -128", o->out);
        break;
    case OP_FLATTEN:
        if (want_shape(m, o, out, is->c * is->h * is->w, 1, 1) || same_params(m, o, in, out))
            return -1;
        break;
    case OP_SHORTCUT_A:
        if (os->c < is->c || (os->c - is->c) % 2)
            return model_err(m, o, "%d output channels from %d: the padding must be even", os->c, is->c);
        if (want_shape(m, o, out, os->c, (is->h + o->stride - 1) / o->stride, (is->w + o->stride - 1) / o->stride) ||
            same_params(m, o, in, out))
            return -1;
        break;
    }
    out->written = 1;
    out->flat = o->kind == OP_LINEAR || o->kind == OP_FLATTEN || in->flat;
    return 0;
}

static void free_op(op *o)
{
    free(o->weights);
    free(o->q);
    free(o->bias);
    free(o->m);
    free(o->e);
    free(o->wscale);
    free(o->s3);
    free(o->s1);
    free(o->b3);
    free(o->b1);
    free(o->pa);
    free(o->pb);
    free(o->chan);
}

static int parse(model *m)
{
    if (expect(m, "spgen-int8"))
        return -1;
    if (next(m))
        return -1;
    if (strcmp(m->tok, "1") != 0)
        return model_err(m, NULL, "format version '%s', this reference reads version 1", m->tok);
    if (expect(m, "network") || next(m) || expect(m, "attention") || next(m))
        return -1;
    if (strcmp(m->tok, "float") != 0 && strcmp(m->tok, "fixed") != 0)
        return model_err(m, NULL, "attention must be float or fixed, got '%s'", m->tok);
    m->fixed = strcmp(m->tok, "fixed") == 0;
    m->input = m->output = -1;
    for (;;) {
        if (next(m))
            return -1;
        if (strcmp(m->tok, "tensor") == 0) {
            if (declare(m))
                return -1;
        } else if (strcmp(m->tok, "input") == 0) {
            if (m->input >= 0)
                return model_err(m, NULL, "a second 'input'");
            if (read_int(m, 0, MAX_TENSORS - 1, &m->input))
                return -1;
            if (!tensor_ref(m, m->input))
                return model_err(m, NULL, "tensor %d is not declared", m->input);
            m->t[m->input].written = 1;
        } else if (strcmp(m->tok, "output") == 0) {
            if (read_int(m, 0, MAX_TENSORS - 1, &m->output))
                return -1;
            if (!tensor_ref(m, m->output) || !m->t[m->output].written)
                return model_err(m, NULL, "output tensor %d is not written by any op", m->output);
            if (expect(m, "end"))
                return -1;
            if (m->input < 0)
                return model_err(m, NULL, "no 'input' line");
            return 0;
        } else {
            size_t k = 0;
            op *o;
            while (k < sizeof op_names / sizeof op_names[0] && strcmp(op_names[k], m->tok) != 0)
                k++;
            if (k == sizeof op_names / sizeof op_names[0])
                return model_err(m, NULL, "unknown keyword '%s'", m->tok);
            if (m->input < 0)
                return model_err(m, NULL, "an op before the 'input' line");
            if (m->nops == m->cap) {
                op *n = realloc(m->ops, (size_t)(m->cap ? 2 * m->cap : 16) * sizeof *n);
                if (!n)
                    return model_err(m, NULL, "out of memory");
                m->ops = n;
                m->cap = m->cap ? 2 * m->cap : 16;
            }
            o = &m->ops[m->nops++];
            memset(o, 0, sizeof *o);
            o->kind = (enum op_kind)k;
            o->line = m->tok_line;
            if (next(m))
                return -1;
            snprintf(o->layer, sizeof o->layer, "%s", m->tok);
            if (parse_op(m, o) || check_op(m, o))
                return -1;
        }
    }
}

/* ------------------------------------------------------------- running */

static int run_op(const model *m, const op *o)
{
    const tensor *in = &m->t[o->in], *out = &m->t[o->out];
    char err[256];
    switch (o->kind) {
    case OP_CONV2D:
        if (q_conv2d(&in->shape, in->data, o->weights, o->bias, o->m, o->e, o->k, o->stride, o->pad, o->groups,
                     o->relu, &out->shape, out->data, err, sizeof err))
            return model_err(m, o, "%s", err);
        break;
    case OP_LINEAR: {
        /* a 1x1 convolution on the flattened input */
        q_shape flat = in->shape;
        flat.c = in->shape.c * in->shape.h * in->shape.w;
        flat.h = flat.w = 1;
        if (q_conv2d(&flat, in->data, o->weights, o->bias, o->m, o->e, 1, 1, 0, 1, o->relu, &out->shape, out->data,
                     err, sizeof err))
            return model_err(m, o, "%s", err);
        break;
    }
    case OP_SPCONV: {
        q_spconv_w w = {o->stride, o->groups, o->r, o->relu, m->fixed, o->weights, o->q,
                        o->s3, o->s1, o->b3, o->b1, o->pa, o->pb};
        if (q_spconv(&in->shape, in->data, &w, o->chan, &out->shape, out->data, err, sizeof err))
            return model_err(m, o, "%s", err);
        break;
    }
    case OP_ADD:
        q_add(&in->shape, in->data, &m->t[o->b].shape, m->t[o->b].data, o->relu, &out->shape, out->data);
        break;
    case OP_RELU:
        q_relu(&in->shape, in->data, out->data);
        break;
    case OP_MAXPOOL:
        q_maxpool(&in->shape, in->data, o->k, o->stride, o->pad, &out->shape, out->data);
        break;
    case OP_AVGPOOL:
        q_avgpool(&in->shape, in->data, o->k, o->stride, o->pad, o->include_pad, &out->shape, out->data);
        break;
    case OP_GAP:
        q_global_avgpool(&in->shape, in->data, out->data);
        break;
    case OP_SOFTMAX:
        q_softmax(&in->shape, in->data, out->data);
        break;
    case OP_FLATTEN:
        memcpy(out->data, in->data, (size_t)in->shape.n * (size_t)in->shape.c * (size_t)in->shape.h *
                                        (size_t)in->shape.w);
        break;
    case OP_SHORTCUT_A:
        q_shortcut_a(&in->shape, in->data, o->stride, &out->shape, out->data);
        break;
    }
    return 0;
}

static size_t count_of(const q_shape *s)
{
    return (size_t)s->n * (size_t)s->c * (size_t)s->h * (size_t)s->w;
}

/* Quantizes IN into the input tensor (its shape checked first). */
static int load_input(model *m, const char *path, int raw)
{
    npy_array a;
    tensor *t = &m->t[m->input];
    const q_shape *s = &t->shape;
    const long per = (long)s->c * s->h * s->w;
    int rc = -1;
    if (npy_read(path, &a))
        return -1;
    if (!((a.ndim == 4 && a.shape[1] == s->c && a.shape[2] == s->h && a.shape[3] == s->w) ||
          (a.ndim == 2 && a.shape[1] == per)) ||
        a.shape[0] < 1 || a.shape[0] > 65536) {
        char got[256];
        npy_shape_str(a.ndim, a.shape, got, sizeof got);
        fprintf(stderr, "%s: input shape %s does not match the model's input [N, %d, %d, %d] (1 <= N <= 65536)\n",
                path, got, s->c, s->h, s->w);
        goto done;
    }
    for (int i = 0; i < m->nt; i++)
        m->t[i].shape.n = (int)a.shape[0];
    if (!(t->data = malloc(count_of(s)))) {
        fprintf(stderr, "ref_net_q: out of memory\n");
        goto done;
    }
    for (size_t i = 0; i < a.count; i++) {
        const float v = a.data[i];
        if (raw && !(v >= -128.0f && v <= 127.0f && v == floorf(v))) {
            fprintf(stderr, "%s: element %zu is %.9g, not an int8 value (--raw)\n", path, i, (double)v);
            goto done;
        }
        t->data[i] = raw ? (int8_t)v : q_quantize_input(v, s->scale, s->zp);
    }
    rc = 0;
done:
    npy_free(&a);
    return rc;
}

static int write_output(const model *m, const char *path, int raw)
{
    const tensor *t = &m->t[m->output];
    const q_shape *s = &t->shape;
    const size_t n = count_of(s);
    const long shape4[4] = {s->n, s->c, s->h, s->w}, shape2[2] = {s->n, (long)s->c * s->h * s->w};
    float *v = malloc((n ? n : 1) * sizeof *v);
    int rc;
    if (!v) {
        fprintf(stderr, "ref_net_q: out of memory\n");
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        v[i] = raw ? (float)t->data[i] : q_dequantize(t->data[i], s->scale, s->zp);
    rc = t->flat ? npy_write(path, v, 2, shape2) : npy_write(path, v, 4, shape4);
    free(v);
    return rc;
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, cap = 0, got;
    if (!f) {
        fprintf(stderr, "%s: cannot open: %s\n", path, strerror(errno));
        return NULL;
    }
    do {
        if (len + 65536 + 1 > cap) {
            char *n = realloc(buf, cap = 2 * cap + 65536 + 1);
            if (!n) {
                fprintf(stderr, "%s: out of memory\n", path);
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = n;
        }
        got = fread(buf + len, 1, 65536, f);
        len += got;
    } while (got == 65536);
    if (ferror(f) || memchr(buf, '\0', len)) {
        fprintf(stderr, "%s: %s\n", path, ferror(f) ? "read error" : "not a text file (NUL byte)");
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    buf[len] = '\0';
    return buf;
}

static void usage(void)
{
    fprintf(stderr, "usage: ref_net_q [--raw] MODEL IN.npy OUT.npy\n");
}

int main(int argc, char **argv)
{
    model m;
    const char *pos[3];
    int npos = 0, raw = 0, rc = 1;
    memset(&m, 0, sizeof m);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--raw") == 0) {
            raw = 1;
        } else if (argv[i][0] == '-' && argv[i][1] == '-') {
            fprintf(stderr, "ref_net_q: unknown option %s\n", argv[i]);
            usage();
            return 2;
        } else if (npos < 3) {
            pos[npos++] = argv[i];
        } else {
            npos++;
        }
    }
    if (npos != 3) {
        fprintf(stderr, "ref_net_q: expected MODEL IN.npy OUT.npy\n");
        usage();
        return 2;
    }
    m.path = pos[0];
    m.line = 1;
    if (!(m.text = read_text(pos[0])))
        goto done;
    m.pos = m.text;
    if (parse(&m) || load_input(&m, pos[1], raw))
        goto done;
    for (int i = 0; i < m.nt; i++)
        if (i != m.input && m.t[i].written && !(m.t[i].data = malloc(count_of(&m.t[i].shape)))) {
            fprintf(stderr, "ref_net_q: out of memory\n");
            goto done;
        }
    for (int i = 0; i < m.nops; i++)
        if (run_op(&m, &m.ops[i]))
            goto done;
    if (write_output(&m, pos[2], raw))
        goto done;
    rc = 0;
done:
    for (int i = 0; i < m.nops; i++)
        free_op(&m.ops[i]);
    for (int i = 0; i < m.nt; i++)
        free(m.t[i].data);
    free(m.ops);
    free(m.t);
    free(m.text);
    return rc;
}
