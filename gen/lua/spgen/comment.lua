-- The comments of the emitted code, the same in the C and CUDA backends:
-- above each layer, what it computes, its shapes and cost, and what it
-- fused; the network's input and output shapes.
local costs = require("spgen.costs")
local ops = require("spgen.ops")
local kinds = require("spgen.kinds")

local M = {}

-- "spconv 'layer1.0.conv1'" or "relu": names are validated, so they are
-- safe inside a C comment.
function M.label(node)
  return node.name and string.format("%s '%s'", node.op, node.name) or node.op
end

-- The file's base name and line: the same text whatever path spgen was given.
function M.where(node)
  return (node.where:gsub(" %(from .*%)$", "")):match("[^/]*$")
end

-- The kind's comment parts (kinds/*.lua) say what its fold merged and where
-- a batchnorm it applies goes.
local function fused_text(g, k)
  local parts, text = {}, kinds[k.kind].comment or {}
  if text.folded then parts[#parts + 1] = text.folded end
  if k.bn then parts[#parts + 1] = string.format("batchnorm '%s' %s", k.bn.name, text.batchnorm) end
  if k.residual then
    local r = g.nodes[k.residual]
    parts[#parts + 1] = string.format("residual add of %s (%s) in the store", M.label(r), M.where(r))
  end
  if k.relu then parts[#parts + 1] = "relu in the store" end
  if k.gap then parts[#parts + 1] = "global average pool in the store" end
  return #parts > 0 and table.concat(parts, "; ") or "nothing"
end

-- The comment above a layer's code in either backend: what it computes,
-- its cost, what it fused.
function M.text(g, k)
  local node = k.node
  local op = ops[node.op]
  local lines = {}
  local head = string.format(" * layer %d: %s (%s): %s -> %s", k.index, M.label(node), M.where(node),
    costs.shape(g.nodes[node.inputs[1]].shape), costs.shape(k.last.shape))
  lines[1] = head
  local options = (kinds[k.kind].comment or {}).options
  if options then lines[#lines + 1] = " *   " .. options(node.attrs) end
  if op.vanilla then
    local v = op.vanilla(node)
    lines[#lines + 1] = string.format(" *   params %s, MACs/image %s (the vanilla 3x3 it replaces: %s, %s)",
      costs.group(op.params(node)), costs.group(op.macs(node)), costs.group(v.params), costs.group(v.macs))
  elseif op.params(node) > 0 then
    lines[#lines + 1] = string.format(" *   params %s, MACs/image %s", costs.group(op.params(node)), costs.group(op.macs(node)))
  end
  lines[#lines + 1] = " *   fused: " .. fused_text(g, k)
  return table.concat(lines, "\n") .. "\n"
end

-- The network's input and output shapes as (N, C, H, W), or (N, C) for a
-- flat output.
function M.io_shapes(g)
  local ins, outs, batch = g.nodes[1].shape, g.output.shape, g.net.batch
  return string.format("(%d, %d, %d, %d)", batch, ins[1], ins[2], ins[3]),
    g.output.flat and string.format("(%d, %d)", batch, outs[1])
      or string.format("(%d, %d, %d, %d)", batch, outs[1], outs[2], outs[3])
end

return M
