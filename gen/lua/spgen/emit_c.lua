-- The C backend: fills the templates with the kernels of each layer and the
-- run function, and returns the files to write.
local template = require("spgen.template")
local fold = require("spgen.fold")
local comment = require("spgen.comment")

local EMIT = require("spgen.emitters")("c")
local int8_kinds = require("spgen.int8.kinds")
local int8_common = require("spgen.emit_c.int8.common")

local M = {}

local function pointer(ref, name)
  if ref == "input" or ref == "output" then return ref end
  return string.format("%s_arena + %d", name, ref // 4)
end

-- int8: activations are bytes of the arena, scratch its int64 words.
local function pointer_int8(ref, name, scratch)
  if ref == "input" or ref == "output" then return ref end
  if scratch then return string.format("%s_arena + %d", name, ref // 8) end
  return string.format("(int8_t *)%s_arena + %d", name, ref)
end

-- What --dtype int8 adds to the header, the network file and the runner's
-- entry: the tensors' parameters, <name>_run_q, and <name>_run around it
-- (docs/int8.md, "the float entry points").
local function int8_vars(vars, q, name, NAME, calls, uses)
  local function lit(v) return int8_common.float_literal(v) end
  vars.quant_macros = string.format([[

#define %s_IN_SCALE %s
#define %s_IN_ZERO_POINT (%d)
#define %s_OUT_SCALE %s
#define %s_OUT_ZERO_POINT (%d)

#include <stdint.h>]], NAME, lit(q.input.scale), NAME, q.input.zp, NAME, lit(q.output.scale), NAME, q.output.zp)
  vars.run_q_decl = string.format([[


/* The same on int8 values: input[%s_IN_SIZE] at %s_IN_SCALE and
   %s_IN_ZERO_POINT, output[%s_OUT_SIZE] at %s_OUT_SCALE and %s_OUT_ZERO_POINT. */
int %s_run_q(const int8_t *input, int8_t *output);]], NAME, NAME, NAME, NAME, NAME, NAME, name)
  vars.kernels = vars.kernels .. string.format([[

int %s_run_q(const int8_t *input, int8_t *output)
{
    if (!input || !output)
        return 1;
%s    return 0;
}

/* the float entry's quantized input and output */
static int8_t %s_q_in[%s_IN_SIZE], %s_q_out[%s_OUT_SIZE];
]], name, calls, name, NAME, name, NAME)
  vars.calls = string.format([[
    int i;
    for (i = 0; i < %s_IN_SIZE; ++i) {
        float v = input[i] / %s_IN_SCALE;
        if (v != v) /* NaN reads as 0 */
            v = 0.0f;
        v = v < -512.0f ? -512.0f : v > 512.0f ? 512.0f : v;
        {
            const int32_t q = %s_IN_ZERO_POINT + (int32_t)roundf(v);
            %s_q_in[i] = (int8_t)(q < -128 ? -128 : q > 127 ? 127 : q);
        }
    }
    %s_run_q(%s_q_in, %s_q_out);
    for (i = 0; i < %s_OUT_SIZE; ++i)
        output[i] = %s_OUT_SCALE * (float)(%s_q_out[i] - %s_OUT_ZERO_POINT);
]], NAME, NAME, NAME, name, name, name, name, NAME, NAME, name, NAME)
  vars.simd = "#include <stdint.h>\n#include <string.h>\n\n" .. int8_common.prelude(uses)
  vars.weights_type = "int32_t"
  vars.weights_format = "int8 and int32"
  vars.arena = vars.arena:gsub("static float (%S+)%[(%S+) / 4%]", "static int64_t %1[%2 / 8]")
  vars.weight_bytes = #q.blob_data
end

-- simd: floats per vector for GCC/Clang vector extensions, 0 for portable C.
-- Types and unaligned loads for every width up to simd: the tiling pass may
-- give a small plane a narrower vector.
local function simd_prelude(simd)
  if simd == 0 then return "" end
  local t = { string.format([[
#include <string.h>

/* --simd %d: pixels go up to %d at a time in GCC/Clang vector extensions
   (GCC 12 or later, Clang); compile with the matching -m flags (e.g.
   -march=native) for full width, and -ffp-contract=fast for fused multiply-adds. */]], simd, simd) }
  local L = 4
  while L <= simd do
    t[#t + 1] = string.format([[
typedef float spgen_f%d __attribute__((vector_size(%d)));
typedef int spgen_i%d __attribute__((vector_size(%d)));
typedef float spgen_u%d __attribute__((vector_size(%d), aligned(4), may_alias)); /* unaligned */
#define spgen_ld%d(p) (*(const spgen_u%d *)(p))]], L, 4 * L, L, 4 * L, L, 4 * L, L, L)
    L = 2 * L
  end
  return table.concat(t, "\n") .. "\n"
end

-- q (--dtype int8): { blob_data, input, output (tensors), attention }, else nil.
function M.run(g, kernels, plan, blob, weights_source, simd, q)
  local name = g.net.name
  local NAME = name:upper()
  local ctx = { prefix = name, batch = g.net.batch, simd = simd }
  if q then ctx.uses, ctx.attention = {}, q.attention end
  local texts, calls, layers = {}, {}, {}
  for _, k in ipairs(kernels) do
    local e = q and int8_kinds.of(k.kind).emit(k, ctx) or EMIT[k.kind](k, ctx)
    local text = comment.text(g, k)
    if k.vt then
      text = text .. string.format(" *   vector tiles: %d x %d pixels x %d output channels\n", k.vt.pixel_vectors, k.vt.geometry.lanes, k.vt.channels)
    end
    layers[#layers + 1] = text
    texts[#texts + 1] = "/*\n" .. text .. " */\n" .. e.text
    local at = q and pointer_int8 or pointer
    local ptrs = { inputs = {}, output = at(k.refs.output, name),
                   scratch = k.refs.scratch and at(k.refs.scratch, name, true) }
    for j, ref in ipairs(k.refs.inputs) do ptrs.inputs[j] = at(ref, name) end
    calls[#calls + 1] = "    " .. e.call(ptrs) .. "\n"
  end
  local ins, outs = g.nodes[1].shape, g.output.shape
  local batch = g.net.batch
  local in_shape, out_shape = comment.io_shapes(g)
  local vars = {
    in_shape = in_shape, out_shape = out_shape,
    name = name, NAME = NAME, spec = g.spec_name, weights_source = weights_source, batch = batch,
    in_c = ins[1], in_h = ins[2], in_w = ins[3], out_c = outs[1], out_h = outs[2], out_w = outs[3],
    in_size = batch * ins[1] * ins[2] * ins[3], out_size = batch * outs[1] * outs[2] * outs[3],
    out_dims = g.output.flat and string.format("%s_BATCH, %s_OUT_C", NAME, NAME)
      or string.format("%s_BATCH, %s_OUT_C, %s_OUT_H, %s_OUT_W", NAME, NAME, NAME, NAME),
    arena_bytes = plan.arena_bytes, weight_bytes = 4 * blob.floats,
    layers = table.concat(layers, " *\n"), kernels = table.concat(texts, "\n"), calls = table.concat(calls),
    simd = simd_prelude(simd),
    -- vector code needs contraction into FMAs, which -std=c99 turns off
    cflags = "-std=c99 -O2 -Wall -Wextra" .. (simd > 0 and " -ffp-contract=fast" or ""),
    arena = plan.arena_bytes > 0
      and string.format("\n/* activations and scratch, placed by the memory planner */\nstatic float %s_arena[%s_ARENA_BYTES / 4];\n", name, NAME)
      or "",
    quant_macros = "", run_q_decl = "", weights_type = "float", weights_format = "float32",
  }
  if q then int8_vars(vars, q, name, NAME, vars.calls, ctx.uses) end
  return {
    { name = name .. ".h", data = template.render("net.h.in", vars) },
    { name = name .. ".c", data = template.render("net.c.in", vars) },
    { name = name .. "_weights.c", data = template.render("weights.c.in", vars) },
    { name = name .. "_weights.bin", data = q and q.blob_data or fold.bytes(blob) },
    { name = name .. "_main.c", data = template.render("main.c.in", vars) },
    { name = "Makefile", data = template.render("Makefile.in", vars) },
  }
end

return M
