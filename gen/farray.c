#include "farray.h"

#include <lauxlib.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#define FARRAY_MT "spgen.farray"
/* Bounded so that n * sizeof(float) cannot overflow and Lua indices stay exact. */
#define FARRAY_MAX ((size_t)1 << 34)

farray *farray_push(lua_State *L, size_t n)
{
    if (n > FARRAY_MAX)
        luaL_error(L, "array of %I floats is too large", (lua_Integer)n);
    farray *a = lua_newuserdatauv(L, sizeof(farray) + n * sizeof(float), 0);
    a->n = n;
    memset(a->v, 0, n * sizeof(float));
    luaL_setmetatable(L, FARRAY_MT);
    return a;
}

farray *farray_check(lua_State *L, int idx)
{
    return luaL_checkudata(L, idx, FARRAY_MT);
}

static size_t check_index(lua_State *L, const farray *a, int idx)
{
    lua_Integer i = luaL_checkinteger(L, idx);
    if (i < 0 || (size_t)i >= a->n)
        luaL_error(L, "array index %I out of range [0, %I)", i, (lua_Integer)a->n);
    return (size_t)i;
}

/* a[i] for integer i (0-based), methods otherwise */
static int fa_index(lua_State *L)
{
    farray *a = farray_check(L, 1);
    if (lua_type(L, 2) == LUA_TNUMBER) {
        lua_pushnumber(L, a->v[check_index(L, a, 2)]);
        return 1;
    }
    luaL_getmetatable(L, FARRAY_MT);
    lua_getfield(L, -1, "methods");
    lua_pushvalue(L, 2);
    lua_rawget(L, -2);
    return 1;
}

static int fa_newindex(lua_State *L)
{
    farray *a = farray_check(L, 1);
    size_t i = check_index(L, a, 2);
    a->v[i] = (float)luaL_checknumber(L, 3);
    return 0;
}

static int fa_len(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)farray_check(L, 1)->n);
    return 1;
}

int farray_new(lua_State *L)
{
    lua_Integer n = luaL_checkinteger(L, 1);
    luaL_argcheck(L, n >= 0, 1, "negative size");
    farray_push(L, (size_t)n);
    return 1;
}

/* The raw little-endian float32 bytes, for the weights blob. */
static int fa_bytes(lua_State *L)
{
    farray *a = farray_check(L, 1);
    luaL_Buffer b;
    unsigned char *p = (unsigned char *)luaL_buffinitsize(L, &b, a->n * 4);
    for (size_t i = 0; i < a->n; i++) {
        uint32_t u;
        memcpy(&u, &a->v[i], 4);
        p[4 * i] = (unsigned char)u;
        p[4 * i + 1] = (unsigned char)(u >> 8);
        p[4 * i + 2] = (unsigned char)(u >> 16);
        p[4 * i + 3] = (unsigned char)(u >> 24);
    }
    luaL_pushresultsize(&b, a->n * 4);
    return 1;
}

/* a:first_invalid(nonnegative): the index of the first value that is NaN or
   infinite, or negative when nonnegative is true; nil if there is none. */
static int fa_first_invalid(lua_State *L)
{
    farray *a = farray_check(L, 1);
    int nonnegative = lua_toboolean(L, 2);
    for (size_t i = 0; i < a->n; i++) {
        if (!isfinite(a->v[i]) || (nonnegative && a->v[i] < 0)) {
            lua_pushinteger(L, (lua_Integer)i);
            return 1;
        }
    }
    lua_pushnil(L);
    return 1;
}

/* Checks that a holds the n >= 1 values at, at + step, ... (step >= 1). */
static size_t check_span(lua_State *L, const farray *a, lua_Integer at, lua_Integer step, lua_Integer n)
{
    if (at < 0 || step < 1 || (size_t)at >= a->n || (size_t)(n - 1) > (a->n - 1 - (size_t)at) / (size_t)step)
        luaL_error(L, "%I values from index %I step %I lie outside [0, %I)", n, at, step, (lua_Integer)a->n);
    return (size_t)at;
}

/* dst[at + i * dstep] = s * src[from + i * sstep] for i in [0, n), or
   dst[...] + s * src[...] when add: double arithmetic, each operation rounded
   (-std=c11 keeps gcc from fusing them), the result rounded to float as
   a[j] = x stores a Lua number. */
static int scaled(lua_State *L, int add)
{
    farray *dst = farray_check(L, 1), *src = farray_check(L, 4);
    lua_Integer at = luaL_checkinteger(L, 2), dstep = luaL_checkinteger(L, 3);
    lua_Integer from = luaL_checkinteger(L, 5), sstep = luaL_checkinteger(L, 6);
    lua_Integer n = luaL_checkinteger(L, 7);
    double s = luaL_checknumber(L, 8);
    luaL_argcheck(L, n >= 0, 7, "negative count");
    if (n == 0)
        return 0;
    size_t j = check_span(L, dst, at, dstep, n), k = check_span(L, src, from, sstep, n);
    for (lua_Integer i = 0; i < n; i++, j += (size_t)dstep, k += (size_t)sstep) {
        double v = s * src->v[k];
        dst->v[j] = add ? (float)(dst->v[j] + v) : (float)v;
    }
    return 0;
}

/* dst:set_scaled(at, dstep, src, from, sstep, n, s) */
static int fa_set_scaled(lua_State *L)
{
    return scaled(L, 0);
}

/* dst:add_scaled(at, dstep, src, from, sstep, n, s) */
static int fa_add_scaled(lua_State *L)
{
    return scaled(L, 1);
}

void farray_register(lua_State *L)
{
    static const luaL_Reg meta[] = {
        {"__index", fa_index}, {"__newindex", fa_newindex}, {"__len", fa_len}, {NULL, NULL}};
    static const luaL_Reg methods[] = {{"bytes", fa_bytes},
                                        {"first_invalid", fa_first_invalid},
                                        {"set_scaled", fa_set_scaled},
                                        {"add_scaled", fa_add_scaled},
                                        {NULL, NULL}};
    luaL_newmetatable(L, FARRAY_MT);
    luaL_setfuncs(L, meta, 0);
    luaL_newlib(L, methods);
    lua_setfield(L, -2, "methods");
    lua_pop(L, 1);
}
