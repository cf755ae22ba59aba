/* A float32 interpreter of the folded kernels, one sample at a time, for the
   int8 calibration (gen/lua/spgen/calibrate.lua): it runs the network the
   generator folded, in C since a Lua loop over 200 samples of a ResNet
   would take minutes. Also the per-row weight quantizer (docs/int8.md,
   section 3), for the same reason. Written from docs/design.md's folded form; it shares
   no code with tests/ref, the independent reference. */
#ifndef SPGEN_INTERP_H
#define SPGEN_INTERP_H
#include <lua.h>

/* Adds interp_conv, interp_spconv, ..., quantize_row, amax (interp.c) to the table on top of the stack. */
void interp_register(lua_State *L);

#endif
