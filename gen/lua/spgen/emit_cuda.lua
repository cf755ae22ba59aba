-- The CUDA backend: the same kernels list, folded weights blob and memory
-- plan as the C backend, emitted as shape-specialized CUDA kernels (one
-- module per operation kind under emit_cuda/) and the host code that uploads
-- the weights, captures the network into a graph and launches it.
-- Returns the files it adds: <name>.cu, <name>_cuda.h and the Makefile rules.
local template = require("spgen.template")
local comment = require("spgen.comment")
local stats = require("spgen.emit_cuda.stats")
local taps = require("spgen.emit_cuda.taps")

local emitters = require("spgen.emitters")

local EMIT = emitters("cuda")
-- the description of each kind that runs as a direct convolution
-- (emit_cuda/direct.lua): its tile and grid
local DESCRIBE = emitters("cuda_describe")

local M = {}

-- The comment above a layer's kernels: the shared layer comment, and how
-- the generator tiled it for CUDA.
local function layer_comment(g, k, e)
  local text = comment.text(g, k)
  if e.note then text = text .. " *   " .. e.note .. "\n" end
  if e.tile then
    local t = e.tile
    text = text .. string.format(" *   tile: %d channels x %d pixels per thread, %d input-channel slices,%s %d threads per block\n",
      t.channels, t.pixels, t.slices,
      t.channel_tiles > 1 and string.format(" %d channel tiles,", t.channel_tiles) or "", t.threads)
  end
  return text
end

-- The device helpers, each emitted only when some kernel calls it (nvcc
-- -Werror rejects an unused static function).
local HELPERS = {
  { name = "warp_sum", text = [[
/* The sum over the 32 lanes of a warp, every lane getting it, in a fixed
   order (the same on every run). */
static __device__ __forceinline__ float warp_sum(float v)
{
    v += __shfl_xor_sync(0xffffffffu, v, 16);
    v += __shfl_xor_sync(0xffffffffu, v, 8);
    v += __shfl_xor_sync(0xffffffffu, v, 4);
    v += __shfl_xor_sync(0xffffffffu, v, 2);
    v += __shfl_xor_sync(0xffffffffu, v, 1);
    return v;
}
]] },
  { name = "lanes_sum", text = [[
/* The sum over each aligned group of `width` lanes (a power of two below
   32: a channel tile narrower than a warp), every lane of the group getting
   it, in a fixed order. */
static __device__ __forceinline__ float lanes_sum(float v, int width)
{
    for (int o = width / 2; o > 0; o /= 2)
        v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}
]] },
}

-- A kernel argument: the caller's buffers, or a planned arena offset.
local function pointer(ref, ctx)
  if ref == "input" or ref == "output" then return ref end
  ctx.uses_arena = true
  return string.format("arena + %d", ref // 4)
end

local function device_buffers(name, NAME, ctx, blob, stats_bytes, stats_macros)
  local t = {}
  if blob.floats > 0 then
    t[#t + 1] = string.format("__device__ __align__(256) float %s_dweights[%s_WEIGHT_BYTES / 4];", name, NAME)
  end
  if ctx.taps.floats > 0 then t[#t + 1] = taps.declare(ctx.taps, name, NAME) end
  if ctx.uses_arena then
    t[#t + 1] = "/* activations, placed by the memory planner (offsets in the launches below) */"
    t[#t + 1] = string.format("__device__ __align__(256) float %s_darena[%s_ARENA_BYTES / 4];", name, NAME)
  end
  if stats_bytes > 0 then
    t[#t + 1] = string.format("__device__ __align__(256) float %s_dstats[%s_CUDA_STATS_BYTES / 4];", name, NAME)
    t[#t + 1] = stats_macros
  end
  return #t > 0 and table.concat(t, "\n") .. "\n" or ""
end

local function uploads(name, NAME, ctx, blob)
  local t = {}
  if blob.floats > 0 then
    t[#t + 1] = string.format("    CHECK(cudaMemcpyToSymbol(%s_dweights, %s_weights, %s_WEIGHT_BYTES), \"uploading the weights\");\n",
      name, name, NAME)
  end
  if ctx.taps.floats > 0 then t[#t + 1] = taps.launches(ctx.taps, name) end
  if ctx.uses_arena then
    t[#t + 1] = string.format("    CHECK(cudaGetSymbolAddress((void **)&arena, %s_darena), \"finding the arena\");\n", name)
  end
  return table.concat(t)
end

-- target: "cuda" (the Makefile builds only the CUDA library and runner) or
-- "all" (its rules are added to the C Makefile, c_makefile). opts: tiling
-- (the options of emit_cuda/tiling.lua's conv: threads, tiles, channels),
-- stats ("store" or "kernel": where SPConv statistics are summed,
-- emit_cuda/stats.lua), spconv ("tile", or "map": SPConvs of small maps as
-- emit_cuda/mapconv.lua's kernel, "map-staged": with its inputs staged).
function M.run(g, kernels, blob, weights_source, target, c_makefile, opts)
  local name = g.net.name
  local NAME = name:upper()
  local ctx = { prefix = name, batch = g.net.batch, tiling = opts.tiling, spconv = opts.spconv, direct = {},
    taps = taps.new() }
  -- before any code: each direct convolution's tile and grid, then where
  -- each SPConv's statistics are summed, which depends on its writer's tile
  for _, k in ipairs(kernels) do
    if DESCRIBE[k.kind] then ctx.direct[k.index] = DESCRIBE[k.kind](k, ctx) end
  end
  local stats_buffers = stats.plan(kernels, ctx.direct, g.net.batch, opts.stats == "store")
  local texts, launches, layers, used = {}, {}, {}, {}
  for i, k in ipairs(kernels) do
    local e = EMIT[k.kind](k, ctx)
    for _, h in ipairs(HELPERS) do
      if e.text:find(h.name .. "(", 1, true) then used[h.name] = true end
    end
    local c = layer_comment(g, k, e)
    layers[#layers + 1] = c
    texts[#texts + 1] = "/*\n" .. c .. " */\n" .. e.text
    local ptrs = { inputs = {}, output = pointer(k.refs.output, ctx) }
    for j, ref in ipairs(k.refs.inputs) do ptrs.inputs[j] = pointer(ref, ctx) end
    launches[#launches + 1] = e.launch(ptrs) .. string.format("    LAYER_DONE(s, %d);\n", i)
  end
  local stats_bytes, stats_macros = stats.place(stats_buffers, name .. "_dstats")
  local helpers = {}
  for _, h in ipairs(HELPERS) do
    if used[h.name] then helpers[#helpers + 1] = h.text end
  end
  helpers = table.concat(helpers)
  local in_shape, out_shape = comment.io_shapes(g)
  local vars = {
    name = name, NAME = NAME, spec = g.spec_name, weights_source = weights_source,
    in_shape = in_shape, out_shape = out_shape,
    stats_bytes = stats_bytes, taps_bytes = ctx.taps.floats * 4, layer_count = #kernels,
    layers = table.concat(layers, " *\n"), kernels = table.concat(texts, "\n"), launches = table.concat(launches),
    device_buffers = device_buffers(name, NAME, ctx, blob, stats_bytes, stats_macros),
    uploads = uploads(name, NAME, ctx, blob),
    helpers = helpers,
    host_arena = ctx.uses_arena and string.format("static float *arena;               /* device address of %s_darena */\n", name) or "",
  }
  local head = target == "all" and c_makefile or template.render("Makefile_cuda_only.in", vars)
  return {
    { name = name .. ".cu", data = template.render("net.cu.in", vars) },
    { name = name .. "_cuda.h", data = template.render("net_cuda.h.in", vars) },
    { name = "Makefile", data = head .. template.render("Makefile_cuda.in", vars) },
  }
end

return M
