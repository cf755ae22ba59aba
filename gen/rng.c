/* Deterministic random numbers: splitmix64 on 64-bit unsigned integers, the
   same on every platform, so a seed always gives the same weights. */
#include "rng.h"

#include <lauxlib.h>
#include <stdint.h>

#include "farray.h"

static uint64_t mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* FNV-1a of the key: each tensor's stream does not depend on tensor order. */
static uint64_t hash(const char *s, size_t len)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * UINT64_C(1099511628211);
    return h;
}

/* The stream for (seed, key): value i is lo + (hi - lo) * u with u the top
   53 bits of the (i + 1)th splitmix64 output times 2^-53, a double in
   [lo, hi), rounded to float. */
int rng_uniform(lua_State *L)
{
    lua_Integer n = luaL_checkinteger(L, 1);
    uint64_t seed = (uint64_t)luaL_checkinteger(L, 2);
    size_t len;
    const char *key = luaL_checklstring(L, 3, &len);
    double lo = luaL_checknumber(L, 4), hi = luaL_checknumber(L, 5);
    luaL_argcheck(L, n >= 0, 1, "negative size");
    farray *a = farray_push(L, (size_t)n);
    uint64_t state = mix(seed ^ hash(key, len));
    double span = hi - lo;
    for (size_t i = 0; i < a->n; i++) {
        state += UINT64_C(0x9e3779b97f4a7c15);
        double u = (double)(mix(state) >> 11) * 0x1p-53;
        /* a product and a sum, each rounded: -std=c11 keeps gcc from fusing
           them into one multiply-add */
        double offset = span * u;
        a->v[i] = (float)(lo + offset);
    }
    return 1;
}
