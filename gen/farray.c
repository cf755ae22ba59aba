#include "farray.h"

#include <lauxlib.h>
#include <stdint.h>
#include <string.h>

#define FARRAY_MT "spgen.farray"
/* Bounded so that n * sizeof(float) cannot overflow and Lua indices stay exact. */
#define FARRAY_MAX ((size_t)1 << 34)

farray *farray_push(lua_State *L, size_t n)
{
    if (n > FARRAY_MAX)
        luaL_error(L, "array of %zu floats is too large", n);
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
        luaL_error(L, "array index %d out of range [0, %d)", (int)i, (int)a->n);
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

void farray_register(lua_State *L)
{
    static const luaL_Reg meta[] = {
        {"__index", fa_index}, {"__newindex", fa_newindex}, {"__len", fa_len}, {NULL, NULL}};
    static const luaL_Reg methods[] = {{"bytes", fa_bytes}, {NULL, NULL}};
    luaL_newmetatable(L, FARRAY_MT);
    luaL_setfuncs(L, meta, 0);
    luaL_newlib(L, methods);
    lua_setfield(L, -2, "methods");
    lua_pop(L, 1);
}
