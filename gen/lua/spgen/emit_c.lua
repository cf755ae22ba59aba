-- The C backend: fills the templates with the kernels of each layer and the
-- run function, and returns the files to write.
local template = require("spgen.template")
local fold = require("spgen.fold")
local comment = require("spgen.comment")

local EMIT = require("spgen.emitters")("c")

local M = {}

local function pointer(ref, name)
  if ref == "input" or ref == "output" then return ref end
  return string.format("%s_arena + %d", name, ref // 4)
end

-- simd: floats per vector for GCC/Clang vector extensions, 0 for portable C.
-- Types and unaligned loads for every width up to simd: the tiling pass may
-- give a small plane a narrower vector.
local function simd_prelude(simd)
  if simd == 0 then return "" end
  local t = { string.format([[
#include <string.h>

/* --simd %d: vectors of up to %d floats (one pixel of %d channels in the
   channel-blocked layout, or pixels of a row) in GCC/Clang vector extensions
   (GCC 12 or later, Clang); compile with the matching -m flags (e.g.
   -march=native) for full width, and -ffp-contract=fast for fused multiply-adds. */]], simd, simd, simd) }
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

function M.run(g, kernels, plan, blob, weights_source, simd)
  local name = g.net.name
  local NAME = name:upper()
  local ctx = { prefix = name, batch = g.net.batch, simd = simd }
  local texts, calls, layers = {}, {}, {}
  for _, k in ipairs(kernels) do
    local e = EMIT[k.kind](k, ctx)
    local text = comment.text(g, k)
    if k.bt then
      text = text .. string.format(" *   blocked tiles: %d x %d output channels x %d pixels%s\n", k.bt.blocks, k.bt.block,
        k.bt.pixels, k.bt.flat and " (the whole plane, tile by tile)" or "")
    elseif k.vt then
      text = text .. string.format(" *   vector tiles: %d x %d pixels x %d output channels\n", k.vt.pixel_vectors, k.vt.geometry.lanes, k.vt.channels)
    end
    layers[#layers + 1] = text
    texts[#texts + 1] = "/*\n" .. text .. " */\n" .. e.text
    local ptrs = { inputs = {}, output = pointer(k.refs.output, name),
                   scratch = k.refs.scratch and pointer(k.refs.scratch, name) }
    for j, ref in ipairs(k.refs.inputs) do ptrs.inputs[j] = pointer(ref, name) end
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
  }
  return {
    { name = name .. ".h", data = template.render("net.h.in", vars) },
    { name = name .. ".c", data = template.render("net.c.in", vars) },
    { name = name .. "_weights.c", data = template.render("weights.c.in", vars) },
    { name = name .. "_weights.bin", data = fold.bytes(blob) },
    { name = name .. "_main.c", data = template.render("main.c.in", vars) },
    { name = "Makefile", data = template.render("Makefile.in", vars) },
  }
end

return M
