/* The Lua state that runs the generator pipeline, and the native functions it
   needs (weights I/O, float arrays, atomic output, the spec sandbox). */
#ifndef SPGEN_LUA_HOST_H
#define SPGEN_LUA_HOST_H
#include <lua.h>

typedef struct lua_host lua_host;

lua_host *lua_host_new(void);
lua_State *lua_host_state(lua_host *h);
void lua_host_free(lua_host *h);

#endif
