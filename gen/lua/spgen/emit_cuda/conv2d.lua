-- CUDA for a conv2d with its batchnorm folded into the weights and bias
-- (fold/conv2d.lua: WT[co][ci/g][k][k], B), and the residual add, relu and
-- global average pool that follow it in the store: one direct-convolution
-- kernel (direct.lua).
local common = require("spgen.emit_cuda.common")
local direct = require("spgen.emit_cuda.direct")
local lower = require("spgen.lower")

local M = {}

-- The layer for direct.lua, tiled.
function M.describe(k, ctx)
  local a, node = k.node.attrs, k.node
  local P, fn = common.names(k, ctx)
  local cog = a.out // a.groups
  return direct.layout {
    P = P, tiling = ctx.tiling, fn = fn, k = k, batch = ctx.batch, h = k.in_shape[2], w = k.in_shape[3],
    out_channels = a.out, ho = node.shape[2], wo = node.shape[3], conv = lower.conv(k),
    group_outputs = cog, group_size_macro = P .. "_COG", uses_group = a.groups > 1,
    combine = function(c, p) return string.format("a_%d_%d", c, p) end,
    bias = k.w.B and function(c) return string.format("__ldg(%s_B + c0 + %d)", P, c) end or nil,
  }
end

-- Emits the layer described in ctx.direct; returns { text, launch, tile }.
function M.emit(k, ctx)
  local a, node, d = k.node.attrs, k.node, ctx.direct[k.index]
  local P, fn = d.P, d.fn
  local w = common.new_writer()
  local out = direct.emit(w, d)
  local list = {
    { "C", a.cin }, { "H", d.h }, { "W", d.w }, { "CO", a.out }, { "HO", d.ho }, { "WO", d.wo },
    { "S", a.stride }, { "PAD", a.pad }, { "CIG", a.cin // a.groups }, { "COG", d.group_outputs },
  }
  for _, m in ipairs(out.macros) do list[#list + 1] = m end
  common.macros(w, P, list, k, ctx)
  w.line("")
  out.body()
  common.check_grid(k, out.grid, out.block)
  local label = string.format("layer %d (conv2d '%s')", k.index, node.name or "")
  return {
    text = w.text(),
    tile = out.tile,
    launch = function(ptrs) return common.launch(fn, out.grid, out.block, common.args(k, ptrs), label) end,
  }
end

return M
