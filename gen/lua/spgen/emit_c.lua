-- The C backend: fills the templates with the kernels of each layer and the
-- run function, and returns the files to write.
local template = require("spgen.template")
local fold = require("spgen.fold")
local comment = require("spgen.comment")

local EMIT = require("spgen.emitters")("c")
local int8_kinds = require("spgen.int8.kinds")
local int8_common = require("spgen.emit_c.int8.common")
local layer = require("spgen.emit_c.layer")

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

-- The checks that open an entry taking the caller's arena (`arena`) and, where
-- the calls address the arena, <name>_arena: that arena as the planner's
-- element type.
local function arena_head(name, NAME, element)
  if not element then
    return "    (void)arena; /* no layer keeps anything in an arena */\n    if (!input || !output)\n        return 1;\n"
  end
  return string.format("    %s *const %s_arena = (%s *)arena;\n", element, name, element) ..
    string.format("    if (!arena || (uintptr_t)arena %% %s_ARENA_ALIGN != 0 || !input || !output)\n        return 1;\n", NAME)
end

-- What --dtype int8 adds to the header, the network file and the runner's
-- entry: the tensors' parameters, <name>_run_q_with and <name>_run_with around
-- it (docs/int8.md, "the float entry points"), whose arena holds the quantized
-- input and output after the planner's bytes.
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
   %s_IN_ZERO_POINT, output[%s_OUT_SIZE] at %s_OUT_SCALE and %s_OUT_ZERO_POINT;
   the arena needs only %s_ARENA_BYTES bytes. */
int %s_run_q_with(void *arena, const int8_t *input, int8_t *output);
int %s_run_q(const int8_t *input, int8_t *output);]], NAME, NAME, NAME, NAME, NAME, NAME, NAME, name, name)
  vars.kernels = vars.kernels .. string.format([[

int %s_run_q_with(void *arena, const int8_t *input, int8_t *output)
{
%s%s    return 0;
}
]], name, arena_head(name, NAME, vars.arena_bytes > 0 and "int64_t"), calls)
  vars.run_q_static = string.format([[


int %s_run_q(const int8_t *input, int8_t *output)
{
    return %s_run_q_with(%s_arena, input, output);
}]], name, name, name)
  vars.run_with_head = string.format([[
    if (!arena || (uintptr_t)arena %% %s_ARENA_ALIGN != 0 || !input || !output)
        return 1;
]], NAME)
  vars.calls = string.format([[
    int8_t *const q_in = (int8_t *)arena + %s_ARENA_BYTES, *const q_out = q_in + %s_IN_SIZE;
    int i;
    for (i = 0; i < %s_IN_SIZE; ++i) {
        float v = input[i] / %s_IN_SCALE;
        if (v != v) /* NaN reads as 0 */
            v = 0.0f;
        v = v < -512.0f ? -512.0f : v > 512.0f ? 512.0f : v;
        {
            const int32_t q = %s_IN_ZERO_POINT + (int32_t)roundf(v);
            q_in[i] = (int8_t)(q < -128 ? -128 : q > 127 ? 127 : q);
        }
    }
    %s_run_q_with(arena, q_in, q_out);
    for (i = 0; i < %s_OUT_SIZE; ++i)
        output[i] = %s_OUT_SCALE * (float)(q_out[i] - %s_OUT_ZERO_POINT);
]], NAME, NAME, NAME, NAME, NAME, name, NAME, NAME, NAME)
  vars.simd = "#include <stdint.h>\n#include <string.h>\n\n" .. int8_common.prelude(uses)
  vars.weights_type = "int32_t"
  vars.weights_format = "int8 and int32"
  vars.weight_bytes = #q.blob_data
  vars.arena_type, vars.arena_align = "int64_t", 8 -- the scratch's int64 sums
  vars.run_with_bytes = (vars.arena_bytes + vars.in_size + vars.out_size + 7) // 8 * 8
  vars.run_with_bytes_note = "the planner's bytes, then the quantized input and output"
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

-- A layer's text with its macro prefix P and function name fn replaced by
-- placeholders: equal for layers whose code is the same. P and fn are
-- [%w_]+, and a longer layer number never continues them with "_" or "(".
local function anonymous(text, P, fn)
  return (text:gsub(P .. "_", "\0P_"):gsub(fn .. "([_(])", "\0F%1"))
end

-- q (--dtype int8): { blob_data, input, output (tensors), attention }, else nil.
function M.run(g, kernels, plan, blob, weights_source, simd, q)
  local name = g.net.name
  local NAME = name:upper()
  local ctx = { prefix = name, batch = g.net.batch, simd = simd }
  if q then ctx.uses, ctx.attention = {}, q.attention end
  local texts, calls, layers = {}, {}, {}
  local first_with = {} -- a layer's text with its own names taken out -> the first layer that emitted it
  for _, k in ipairs(kernels) do
    local e = q and int8_kinds.of(k.kind).emit(k, ctx) or EMIT[k.kind](k, ctx)
    local text = comment.text(g, k)
    if k.bt then
      local kind = k.bt.gemm and "GEMM tiles" or k.bt.stem and "stem tiles (over the input copied with its zero border)"
        or "blocked tiles"
      text = text .. string.format(" *   %s: %d x %d output channels x %d pixels%s\n", kind, k.bt.blocks, k.bt.block,
        k.bt.pixels, k.bt.flat and " (the whole plane, tile by tile)" or "")
    elseif k.gemv then
      text = text .. string.format(" *   GEMV tiles: %d x %d outputs\n", k.gemv.blocks, k.gemv.block)
    elseif k.vt then
      text = text .. string.format(" *   vector tiles: %d x %d pixels x %d output channels\n", k.vt.pixel_vectors, k.vt.geometry.lanes, k.vt.channels)
    end
    if e.note then text = text .. " *   " .. e.note .. "\n" end
    local at = q and pointer_int8 or pointer
    local ptrs = { inputs = {}, output = at(k.refs.output, name),
                   scratch = k.refs.scratch and at(k.refs.scratch, name, true) }
    for j, ref in ipairs(k.refs.inputs) do ptrs.inputs[j] = at(ref, name) end
    -- the layer's first weight, in elements of the blob: floats, or int8's int32 words
    local base
    if q then base = int8_common.weight_base(k); base = base and base // 4
    else base = layer.weight_base(k) end
    if base then ptrs.weights = string.format("%s_weights + %d", name, base) end
    local call = e.call(ptrs)
    local P, fn = layer.names(k, ctx)
    assert(call:sub(1, #fn + 1) == fn .. "(", "a layer's call starts with its function")
    local key = anonymous(e.text, P, fn)
    local first = first_with[key]
    if first then
      -- the same code as an earlier layer: call its functions instead
      local first_fn = select(2, layer.names(first, ctx))
      text = text .. string.format(" *   kernels: those of layer %d (the same shape, fusions and weight layout)\n", first.index)
      call = first_fn .. call:sub(#fn + 1)
      texts[#texts + 1] = "/*\n" .. text .. " */\n"
    else
      first_with[key] = k
      texts[#texts + 1] = "/*\n" .. text .. " */\n" .. e.text
    end
    layers[#layers + 1] = text
    -- the profiling hooks of net.c.in around each call; names are validated
    -- ([%w_.]), so they are safe in a C string
    calls[#calls + 1] = string.format("    %s_LAYER_BEGIN(%d, \"%s\");\n    %s\n    %s_LAYER_END(%d);\n",
      NAME, k.index, k.node.name or k.node.op, call, NAME, k.index)
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
    layers = table.concat(layers, " *\n"), layer_count = #kernels, kernels = table.concat(texts, "\n"), calls = table.concat(calls),
    simd = simd_prelude(simd),
    -- vector code needs contraction into FMAs, which -std=c99 turns off
    cflags = "-std=c99 -O2 -Wall -Wextra" .. (simd > 0 and " -ffp-contract=fast" or ""),
    quant_macros = "", run_q_decl = "", weights_type = "float", weights_format = "float32",
    arena_type = "float", arena_align = 4, run_with_bytes = plan.arena_bytes, run_with_bytes_note = "the planner's bytes",
    run_with_head = arena_head(name, NAME, plan.arena_bytes > 0 and "float"), run_q_static = "",
    -- CMake's own variable, which the template cannot spell
    cmake_source_dir = "${CMAKE_CURRENT_SOURCE_DIR}",
    cmake_options = simd > 0 and "\n# vector code needs contraction into FMAs\ntarget_compile_options(" .. name .. " PRIVATE -ffp-contract=fast)" or "",
  }
  if q then int8_vars(vars, q, name, NAME, vars.calls, ctx.uses) end
  -- the static arena of <name>_arena.c, aligned as its element type
  vars.arena = string.format([[

#ifndef %s_ARENA_SECTION
#define %s_ARENA_SECTION ".bss.%s_arena"
#endif

/* activations and scratch, placed by the memory planner */
static %s %s_arena[%s_RUN_WITH_BYTES / %d] __attribute__((section(%s_ARENA_SECTION)));
]], NAME, NAME, name, vars.arena_type, name, NAME, vars.arena_align, NAME)
  if vars.run_with_bytes == 0 then vars.arena, vars.static_arena = "", "(void *)0"
  else vars.static_arena = name .. "_arena" end
  return {
    { name = name .. ".h", data = template.render("net.h.in", vars) },
    { name = name .. ".c", data = template.render("net.c.in", vars) },
    { name = name .. "_weights.c", data = template.render("weights.c.in", vars) },
    { name = name .. "_weights.bin", data = q and q.blob_data or fold.bytes(blob) },
    { name = name .. "_arena.c", data = template.render("arena.c.in", vars) },
    { name = name .. "_main.c", data = template.render("main.c.in", vars) },
    { name = "Makefile", data = template.render("Makefile.in", vars) },
    { name = "CMakeLists.txt", data = template.render("CMakeLists.txt.in", vars) },
  }
end

return M
