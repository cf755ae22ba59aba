/* See interp.h. Every function reads its sizes from a table of named
   integers (dims) and checks each array against them before touching it. */
#include "interp.h"

#include <float.h>
#include <lauxlib.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "farray.h"

static int dim(lua_State *L, int idx, const char *name)
{
    lua_getfield(L, idx, name);
    lua_Integer v = luaL_checkinteger(L, -1);
    lua_pop(L, 1);
    if (v < 0 || v > (1 << 30))
        luaL_error(L, "dimension %s = %I out of range", name, v);
    return (int)v;
}

/* The array at idx holding at least n floats (NULL for nil when optional). */
static float *array(lua_State *L, int idx, size_t n, int optional)
{
    if (optional && lua_isnoneornil(L, idx))
        return NULL;
    farray *a = farray_check(L, idx);
    if (a->n < n)
        luaL_error(L, "argument %d holds %I floats, %I needed", idx, (lua_Integer)a->n, (lua_Integer)n);
    return a->v;
}

/* The output positions o in [0, n_out) whose input s * o + t - pad lies in
   [0, n_in): [*lo, *hi). */
static void valid(int n_out, int n_in, int s, int t, int pad, int *lo, int *hi)
{
    int a = pad - t, b = n_in - 1 + pad - t; /* s * o in [a, b] */
    *lo = a <= 0 ? 0 : (a + s - 1) / s;
    *hi = b < 0 ? 0 : b / s + 1;
    if (*hi > n_out)
        *hi = n_out;
    if (*lo > *hi)
        *lo = *hi;
}

/* acc[ho][wo] += the k x k window (stride s, padding pad) of input channels
   x[first .. first + n) (h x w planes) with weights wt[j][ky][kx]. */
static void window(float *acc, const float *x, int first, int n, const float *wt, int k, int s, int pad, int h,
                   int w, int ho, int wo)
{
    for (int j = 0; j < n; j++) {
        const float *xc = x + (size_t)(first + j) * h * w;
        for (int ky = 0; ky < k; ky++) {
            int ylo, yhi;
            valid(ho, h, s, ky, pad, &ylo, &yhi);
            for (int kx = 0; kx < k; kx++) {
                int xlo, xhi;
                float wv = wt[(j * k + ky) * k + kx];
                valid(wo, w, s, kx, pad, &xlo, &xhi);
                for (int oy = ylo; oy < yhi; oy++) {
                    const float *row = xc + (size_t)(s * oy + ky - pad) * w + kx - pad;
                    float *out = acc + (size_t)oy * wo;
                    for (int ox = xlo; ox < xhi; ox++)
                        out[ox] += wv * row[s * ox];
                }
            }
        }
    }
}

/* interp_conv(x, y, WT, B|nil, dims{c, h, w, co, ho, wo, k, stride, pad, groups}) */
static int interp_conv(lua_State *L)
{
    luaL_checktype(L, 5, LUA_TTABLE);
    int c = dim(L, 5, "c"), h = dim(L, 5, "h"), w = dim(L, 5, "w"), co = dim(L, 5, "co");
    int ho = dim(L, 5, "ho"), wo = dim(L, 5, "wo"), k = dim(L, 5, "k"), s = dim(L, 5, "stride");
    int pad = dim(L, 5, "pad"), groups = dim(L, 5, "groups");
    int cig = c / groups, cog = co / groups;
    const float *x = array(L, 1, (size_t)c * h * w, 0);
    float *y = array(L, 2, (size_t)co * ho * wo, 0);
    const float *wt = array(L, 3, (size_t)co * cig * k * k, 0), *b = array(L, 4, (size_t)co, 1);
    for (int o = 0; o < co; o++) {
        float *acc = y + (size_t)o * ho * wo;
        for (int i = 0; i < ho * wo; i++)
            acc[i] = b ? b[o] : 0.0f;
        window(acc, x, o / cog * cig, cig, wt + (size_t)o * cig * k * k, k, s, pad, h, w, ho, wo);
    }
    return 0;
}

/* interp_spconv(x, y, arrays{G, Q, B3, B1, PA, PB}, dims{c, r, h, w, co, ho, wo, stride, groups}):
   o3 = G * x + Q3 * P(x) + B3, o1 = Q1 * P(x) + B1 (P: the 2x2 pool window
   summed at stride 2, the 1/4 folded into G and Q), their means' softmax
   (w3, w1), y = PA * (w3 * o3 + w1 * o1) + PB (PA = 1, PB = 0 without the
   batchnorm). */
static int interp_spconv(lua_State *L)
{
    luaL_checktype(L, 3, LUA_TTABLE);
    luaL_checktype(L, 4, LUA_TTABLE);
    int c = dim(L, 4, "c"), r = dim(L, 4, "r"), h = dim(L, 4, "h"), w = dim(L, 4, "w");
    int co = dim(L, 4, "co"), ho = dim(L, 4, "ho"), wo = dim(L, 4, "wo"), s = dim(L, 4, "stride");
    int groups = dim(L, 4, "groups");
    int rg = r / groups, cg = co / groups;
    size_t plane = (size_t)ho * wo;
    const float *x = array(L, 1, (size_t)c * h * w, 0);
    float *y = array(L, 2, (size_t)co * plane, 0);
    const float *arr[6];
    static const char *names[6] = {"G", "Q", "B3", "B1", "PA", "PB"};
    const size_t sizes[6] = {(size_t)co * rg * 9, (size_t)co * c, (size_t)co, (size_t)co, (size_t)co, (size_t)co};
    for (int i = 0; i < 6; i++) {
        lua_getfield(L, 3, names[i]);
        arr[i] = array(L, lua_gettop(L), sizes[i], i >= 4);
        lua_pop(L, 1); /* the table keeps the array alive */
    }
    const float *G = arr[0], *Q = arr[1], *B3 = arr[2], *B1 = arr[3], *PA = arr[4], *PB = arr[5];
    float *pooled = malloc((size_t)c * plane * sizeof(float)), *o1 = malloc(plane * sizeof(float));
    if (!pooled || !o1) {
        free(pooled);
        free(o1);
        return luaL_error(L, "out of memory");
    }
    for (int ci = 0; ci < c; ci++) {
        const float *xc = x + (size_t)ci * h * w;
        float *pc = pooled + (size_t)ci * plane;
        for (int oy = 0; oy < ho; oy++)
            for (int ox = 0; ox < wo; ox++)
                pc[oy * wo + ox] = s == 1 ? xc[oy * w + ox]
                                          : xc[2 * oy * w + 2 * ox] + xc[2 * oy * w + 2 * ox + 1] +
                                                xc[(2 * oy + 1) * w + 2 * ox] + xc[(2 * oy + 1) * w + 2 * ox + 1];
    }
    for (int o = 0; o < co; o++) {
        float *o3 = y + (size_t)o * plane;
        const float *q = Q + (size_t)o * c;
        for (size_t i = 0; i < plane; i++)
            o3[i] = 0.0f, o1[i] = 0.0f;
        window(o3, x, o / cg * rg, rg, G + (size_t)o * rg * 9, 3, s, 1, h, w, ho, wo);
        for (int ci = 0; ci < c; ci++) {
            float *acc = ci < r ? o3 : o1;
            const float *pc = pooled + (size_t)ci * plane;
            if (q[ci] != 0.0f)
                for (size_t i = 0; i < plane; i++)
                    acc[i] += q[ci] * pc[i];
        }
        double m3 = 0.0, m1 = 0.0;
        for (size_t i = 0; i < plane; i++)
            m3 += o3[i], m1 += o1[i];
        m3 = m3 / (double)plane + B3[o];
        m1 = m1 / (double)plane + B1[o];
        double e = exp(-fabs(m3 - m1)), big = 1.0 / (1.0 + e);
        double w3 = m3 >= m1 ? big : e * big, w1 = m3 >= m1 ? e * big : big;
        double pa = PA ? PA[o] : 1.0, pb = PB ? PB[o] : 0.0;
        float a3 = (float)(pa * w3), a1 = (float)(pa * w1), be = (float)(pa * (w3 * B3[o] + w1 * B1[o]) + pb);
        for (size_t i = 0; i < plane; i++)
            o3[i] = a3 * o3[i] + a1 * o1[i] + be;
    }
    free(pooled);
    free(o1);
    return 0;
}

/* interp_linear(x, y, WT, B|nil, dims{in, out}) */
static int interp_linear(lua_State *L)
{
    luaL_checktype(L, 5, LUA_TTABLE);
    int in = dim(L, 5, "in"), out = dim(L, 5, "out");
    const float *x = array(L, 1, (size_t)in, 0);
    float *y = array(L, 2, (size_t)out, 0);
    const float *wt = array(L, 3, (size_t)in * out, 0), *b = array(L, 4, (size_t)out, 1);
    for (int o = 0; o < out; o++) {
        float v = b ? b[o] : 0.0f;
        for (int i = 0; i < in; i++)
            v += wt[(size_t)o * in + i] * x[i];
        y[o] = v;
    }
    return 0;
}

/* interp_pool(x, y, max, dims{c, h, w, ho, wo, k, stride, pad, include_pad}):
   max ignores the padding, avg divides by k * k (include_pad 1) or by the taps
   inside the input (0). */
static int interp_pool(lua_State *L)
{
    int max = lua_toboolean(L, 3);
    luaL_checktype(L, 4, LUA_TTABLE);
    int c = dim(L, 4, "c"), h = dim(L, 4, "h"), w = dim(L, 4, "w"), ho = dim(L, 4, "ho"), wo = dim(L, 4, "wo");
    int k = dim(L, 4, "k"), s = dim(L, 4, "stride"), pad = dim(L, 4, "pad"), include_pad = dim(L, 4, "include_pad");
    const float *x = array(L, 1, (size_t)c * h * w, 0);
    float *y = array(L, 2, (size_t)c * ho * wo, 0);
    for (int ci = 0; ci < c; ci++)
        for (int oy = 0; oy < ho; oy++)
            for (int ox = 0; ox < wo; ox++) {
                float v = max ? -INFINITY : 0.0f;
                int n = 0;
                for (int ky = 0; ky < k; ky++)
                    for (int kx = 0; kx < k; kx++) {
                        int iy = s * oy + ky - pad, ix = s * ox + kx - pad;
                        if (iy < 0 || iy >= h || ix < 0 || ix >= w)
                            continue;
                        float t = x[((size_t)ci * h + iy) * w + ix];
                        v = max ? (t > v ? t : v) : v + t;
                        n++;
                    }
                y[((size_t)ci * ho + oy) * wo + ox] = max ? v : v / (float)(include_pad ? k * k : n);
            }
    return 0;
}

/* interp_affine(x, y, A|nil, B|nil, dims{c, hw}): y = A[c] * x + B[c] */
static int interp_affine(lua_State *L)
{
    luaL_checktype(L, 5, LUA_TTABLE);
    int c = dim(L, 5, "c"), hw = dim(L, 5, "hw");
    const float *x = array(L, 1, (size_t)c * hw, 0);
    float *y = array(L, 2, (size_t)c * hw, 0);
    const float *a = array(L, 3, (size_t)c, 1), *b = array(L, 4, (size_t)c, 1);
    for (int ci = 0; ci < c; ci++)
        for (int i = 0; i < hw; i++) {
            size_t at = (size_t)ci * hw + i;
            y[at] = (a ? a[ci] : 1.0f) * x[at] + (b ? b[ci] : 0.0f);
        }
    return 0;
}

/* interp_add(a, b, y, n) */
static int interp_add(lua_State *L)
{
    lua_Integer n = luaL_checkinteger(L, 4);
    luaL_argcheck(L, n >= 0, 4, "negative count");
    const float *a = array(L, 1, (size_t)n, 0), *b = array(L, 2, (size_t)n, 0);
    float *y = array(L, 3, (size_t)n, 0);
    for (lua_Integer i = 0; i < n; i++)
        y[i] = a[i] + b[i];
    return 0;
}

/* interp_relu(y, n): in place */
static int interp_relu(lua_State *L)
{
    lua_Integer n = luaL_checkinteger(L, 2);
    luaL_argcheck(L, n >= 0, 2, "negative count");
    float *y = array(L, 1, (size_t)n, 0);
    for (lua_Integer i = 0; i < n; i++)
        y[i] = y[i] > 0.0f ? y[i] : 0.0f;
    return 0;
}

/* interp_gap(x, y, dims{c, hw}): each channel's mean */
static int interp_gap(lua_State *L)
{
    luaL_checktype(L, 3, LUA_TTABLE);
    int c = dim(L, 3, "c"), hw = dim(L, 3, "hw");
    const float *x = array(L, 1, (size_t)c * hw, 0);
    float *y = array(L, 2, (size_t)c, 0);
    for (int ci = 0; ci < c; ci++) {
        double v = 0.0;
        for (int i = 0; i < hw; i++)
            v += x[(size_t)ci * hw + i];
        y[ci] = (float)(v / hw);
    }
    return 0;
}

/* interp_softmax(x, y, dims{c, hw}): over the channels at each pixel */
static int interp_softmax(lua_State *L)
{
    luaL_checktype(L, 3, LUA_TTABLE);
    int c = dim(L, 3, "c"), hw = dim(L, 3, "hw");
    const float *x = array(L, 1, (size_t)c * hw, 0);
    float *y = array(L, 2, (size_t)c * hw, 0);
    for (int p = 0; p < hw; p++) {
        float m = -FLT_MAX;
        double sum = 0.0;
        for (int ci = 0; ci < c; ci++)
            m = x[(size_t)ci * hw + p] > m ? x[(size_t)ci * hw + p] : m;
        for (int ci = 0; ci < c; ci++)
            sum += y[(size_t)ci * hw + p] = expf(x[(size_t)ci * hw + p] - m);
        for (int ci = 0; ci < c; ci++)
            y[(size_t)ci * hw + p] = (float)(y[(size_t)ci * hw + p] / sum);
    }
    return 0;
}

/* interp_shortcut_a(x, y, dims{c, h, w, co, ho, wo, stride, before}) */
static int interp_shortcut_a(lua_State *L)
{
    luaL_checktype(L, 3, LUA_TTABLE);
    int c = dim(L, 3, "c"), h = dim(L, 3, "h"), w = dim(L, 3, "w"), co = dim(L, 3, "co");
    int ho = dim(L, 3, "ho"), wo = dim(L, 3, "wo"), s = dim(L, 3, "stride"), before = dim(L, 3, "before");
    const float *x = array(L, 1, (size_t)c * h * w, 0);
    float *y = array(L, 2, (size_t)co * ho * wo, 0);
    for (int o = 0; o < co; o++)
        for (int oy = 0; oy < ho; oy++)
            for (int ox = 0; ox < wo; ox++) {
                int ci = o - before;
                y[((size_t)o * ho + oy) * wo + ox] =
                    ci < 0 || ci >= c ? 0.0f : x[((size_t)ci * h + s * oy) * w + s * ox];
            }
    return 0;
}

/* interp_range(a) -> min, max of its values (+inf, -inf when empty) */
static int interp_range(lua_State *L)
{
    farray *a = farray_check(L, 1);
    float lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < a->n; i++) {
        lo = a->v[i] < lo ? a->v[i] : lo;
        hi = a->v[i] > hi ? a->v[i] : hi;
    }
    lua_pushnumber(L, lo);
    lua_pushnumber(L, hi);
    return 2;
}

/* quantize_row(a, at, n, scale) -> bytes, sum: the n values from a[at] as
   int8 at that scale (docs/int8.md, section 3: round half away from zero in
   double, clamped to [-127, 127]), and the sum of their magnitudes (for the
   overflow bounds). */
static int quantize_row(lua_State *L)
{
    farray *a = farray_check(L, 1);
    lua_Integer at = luaL_checkinteger(L, 2), n = luaL_checkinteger(L, 3);
    double scale = luaL_checknumber(L, 4);
    luaL_argcheck(L, at >= 0 && n >= 0 && (size_t)at <= a->n && (size_t)n <= a->n - (size_t)at, 3, "out of range");
    luaL_argcheck(L, scale > 0, 4, "scale must be positive");
    luaL_Buffer b;
    char *out = luaL_buffinitsize(L, &b, (size_t)n);
    lua_Integer sum = 0;
    for (lua_Integer i = 0; i < n; i++) {
        double v = (double)a->v[at + i] / scale;
        double r = v < 0 ? -floor(-v + 0.5) : floor(v + 0.5);
        int q = r < -127 ? -127 : r > 127 ? 127 : (int)r;
        out[i] = (char)(signed char)q;
        sum += q < 0 ? -q : q;
    }
    luaL_pushresultsize(&b, (size_t)n);
    lua_pushinteger(L, sum);
    return 2;
}

/* amax(a, at, n) -> the largest magnitude of the n values from a[at] (0 for none) */
static int amax(lua_State *L)
{
    farray *a = farray_check(L, 1);
    lua_Integer at = luaL_checkinteger(L, 2), n = luaL_checkinteger(L, 3);
    luaL_argcheck(L, at >= 0 && n >= 0 && (size_t)at <= a->n && (size_t)n <= a->n - (size_t)at, 3, "out of range");
    double m = 0.0;
    for (lua_Integer i = 0; i < n; i++)
        m = fabs((double)a->v[at + i]) > m ? fabs((double)a->v[at + i]) : m;
    lua_pushnumber(L, m);
    return 1;
}

/* The exact percentiles of docs/int8.md, section 3, without keeping the
   values: a float's bits as a key that sorts as the float does, its top 16
   bits counted in one pass, then the low 16 bits of the values in the one
   top bin that holds the wanted rank in a second pass. */
#define BINS 65536
#define HISTOGRAM_MT "spgen.histogram"

typedef struct {
    int64_t count[BINS];
} histogram;

static uint32_t sort_key(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u & 0x80000000u ? ~u : u | 0x80000000u;
}

/* histogram() -> a new one, all counts 0 */
static int histogram_new(lua_State *L)
{
    histogram *h = lua_newuserdatauv(L, sizeof *h, 0);
    memset(h, 0, sizeof *h);
    luaL_setmetatable(L, HISTOGRAM_MT);
    return 1;
}

/* histogram_add(h, a [, top]): counts the top 16 bits of each value's key,
   or with top the low 16 bits of those whose top 16 bits are top */
static int histogram_add(lua_State *L)
{
    histogram *h = luaL_checkudata(L, 1, HISTOGRAM_MT);
    farray *a = farray_check(L, 2);
    lua_Integer top = luaL_optinteger(L, 3, -1);
    for (size_t i = 0; i < a->n; i++) {
        uint32_t key = sort_key(a->v[i]);
        if (top < 0)
            h->count[key >> 16]++;
        else if ((key >> 16) == (uint32_t)top)
            h->count[key & 0xffff]++;
    }
    return 0;
}

/* histogram_rank(h, rank) -> bin, rank within it: the bin holding the
   rank-th smallest (0-based) value counted */
static int histogram_rank(lua_State *L)
{
    histogram *h = luaL_checkudata(L, 1, HISTOGRAM_MT);
    lua_Integer rank = luaL_checkinteger(L, 2);
    for (int b = 0; b < BINS; b++) {
        if (rank < h->count[b]) {
            lua_pushinteger(L, b);
            lua_pushinteger(L, rank);
            return 2;
        }
        rank -= h->count[b];
    }
    return luaL_error(L, "rank past the values counted");
}

/* key_value(top, low) -> the float whose key has those halves */
static int key_value(lua_State *L)
{
    uint32_t key = (uint32_t)luaL_checkinteger(L, 1) << 16 | (uint32_t)luaL_checkinteger(L, 2);
    uint32_t u = key & 0x80000000u ? key & 0x7fffffffu : ~key;
    float f;
    memcpy(&f, &u, 4);
    lua_pushnumber(L, f);
    return 1;
}

void interp_register(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"interp_conv", interp_conv},     {"interp_spconv", interp_spconv}, {"interp_linear", interp_linear},
        {"interp_pool", interp_pool},     {"interp_affine", interp_affine}, {"interp_add", interp_add},
        {"interp_relu", interp_relu},     {"interp_gap", interp_gap},       {"interp_softmax", interp_softmax},
        {"interp_shortcut_a", interp_shortcut_a}, {"interp_range", interp_range},
        {"quantize_row", quantize_row},   {"amax", amax},
        {"histogram", histogram_new},     {"histogram_add", histogram_add}, {"histogram_rank", histogram_rank},
        {"key_value", key_value},         {NULL, NULL}};
    luaL_newmetatable(L, HISTOGRAM_MT);
    lua_pop(L, 1);
    luaL_setfuncs(L, fns, 0);
}
