-- BatchNorm2d at inference: a per-channel affine map, folded away wherever a
-- producing kernel can absorb it.
local bn = require("spgen.bn")

local M = {}

M.schema = {
  eps = { type = "number", gt = 0, lt = 1, default = 1e-5 },
  name = { type = "string" },
}

function M.infer(_, shape)
  return { shape[1], shape[2], shape[3] }
end

function M.weights(node, naming)
  return bn.tensors(node.name, node.shape[1], naming)
end

function M.params(node) return bn.params(node.shape[1]) end
function M.macs() return 0 end

return M
