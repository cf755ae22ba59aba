/* A float32 array as Lua userdata: weights live here instead of in Lua tables,
   so a 20M-parameter network costs 4 bytes per weight, not 16. */
#ifndef SPGEN_FARRAY_H
#define SPGEN_FARRAY_H
#include <stddef.h>
#include <lua.h>

typedef struct {
    size_t n;
    float v[]; /* n values */
} farray;

void farray_register(lua_State *L);            /* the metatable */
int farray_new(lua_State *L);                 /* Lua: farray(n) */
farray *farray_push(lua_State *L, size_t n);  /* new zeroed array on the stack */
farray *farray_check(lua_State *L, int idx);  /* argument check */

#endif
