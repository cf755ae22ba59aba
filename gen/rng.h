/* Deterministic random weights: the seeded streams of gen/rng.c. */
#ifndef SPGEN_RNG_H
#define SPGEN_RNG_H
#include <lua.h>

/* Lua: random_uniform(n, seed, key, lo, hi) -> farray of n floats */
int rng_uniform(lua_State *L);

#endif
