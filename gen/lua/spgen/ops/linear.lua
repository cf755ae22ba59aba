-- Linear on a flat input (C x 1 x 1, e.g. after flatten). Paddle stores the
-- weight as [in, out], PyTorch as [out, in].
local M = { flattens = true }

M.schema = {
  out = { type = "integer", required = true, min = 1, max = 1 << 20 },
  bias = { type = "boolean", default = true },
  name = { type = "string" },
}

function M.infer(a, shape, raise)
  if shape[2] ~= 1 or shape[3] ~= 1 then
    raise("needs a flat input, got %dx%dx%d (use flatten or global_avgpool first)", shape[1], shape[2], shape[3])
  end
  a.cin = shape[1]
  return { a.out, 1, 1 }
end

function M.weights(node, naming)
  local a = node.attrs
  local shape = naming == "paddle" and { a.cin, a.out } or { a.out, a.cin }
  local list = { { key = node.name .. ".weight", shape = shape, init = "conv", fan_in = a.cin } }
  if a.bias then list[2] = { key = node.name .. ".bias", shape = { a.out }, init = "conv", fan_in = a.cin } end
  return list
end

function M.params(node) return node.attrs.out * (node.attrs.cin + (node.attrs.bias and 1 or 0)) end
function M.macs(node) return node.attrs.out * node.attrs.cin end

return M
