-- Conv2d (any kernel, stride, padding, groups, optional bias).
local M = {}

M.schema = {
  out = { type = "integer", required = true, min = 1, max = 1 << 16 },
  k = { type = "integer", min = 1, max = 15, default = 3 },
  stride = { type = "integer", min = 1, max = 8, default = 1 },
  pad = { type = "integer", min = 0, max = 7 },
  groups = { type = "integer", min = 1, max = 1 << 16, default = 1 },
  bias = { type = "boolean", default = false },
  name = { type = "string" },
}

function M.infer(a, shape, raise)
  local c, h, w = shape[1], shape[2], shape[3]
  a.pad = a.pad or a.k // 2
  if a.pad >= a.k then raise("pad = %d must be smaller than k = %d", a.pad, a.k) end
  if c % a.groups ~= 0 or a.out % a.groups ~= 0 then
    raise("groups = %d must divide the %d input and %d output channels", a.groups, c, a.out)
  end
  local ho = (h + 2 * a.pad - a.k) // a.stride + 1
  local wo = (w + 2 * a.pad - a.k) // a.stride + 1
  if ho < 1 or wo < 1 then
    raise("a %dx%d input is smaller than the %dx%d kernel with pad %d", h, w, a.k, a.k, a.pad)
  end
  a.cin = c
  return { a.out, ho, wo }
end

function M.weights(node)
  local a = node.attrs
  local list = {
    { key = node.name .. ".weight", shape = { a.out, a.cin // a.groups, a.k, a.k }, init = "conv",
      fan_in = a.cin // a.groups * a.k * a.k },
  }
  if a.bias then
    list[2] = { key = node.name .. ".bias", shape = { a.out }, init = "conv", fan_in = a.cin // a.groups * a.k * a.k }
  end
  return list
end

function M.params(node)
  local a = node.attrs
  return a.out * (a.cin // a.groups * a.k * a.k + (a.bias and 1 or 0))
end

function M.macs(node)
  local a, s = node.attrs, node.shape
  return s[2] * s[3] * a.out * (a.cin // a.groups) * a.k * a.k
end

return M
