-- SPConv (Zhang et al., IJCAI 2020): shapes, weights and costs.
local bn = require("spgen.bn")

local M = {}

M.schema = {
  out = { type = "integer", required = true, min = 1, max = 1 << 16 },
  stride = { type = "integer", values = { 1, 2 }, default = 1 },
  ratio = { type = "number", gt = 0, lt = 1, default = 0.5 },
  groups = { type = "integer", min = 1, max = 1 << 16, default = 2 },
  bias = { type = "string", values = { "official", "all" }, default = "official" },
  eps = { type = "number", gt = 0, lt = 1, default = 1e-5 },
  -- false: no batchnorm on the 1x1 branch, as where an exporter folded bn2
  -- into conv1x1 (torch.onnx.export does); no N.bn2.* keys then
  bn2 = { type = "boolean", default = true },
  name = { type = "string" },
}

function M.infer(a, shape, raise)
  local c, h, w = shape[1], shape[2], shape[3]
  -- floor(C * a) exactly as the official int(c * self.ratio); a < 1 leaves
  -- at least one redundant channel
  local r = math.floor(c * a.ratio)
  if r < 1 then
    raise("%d input channels at ratio %s leave no representative channel (floor(%d * %s) = 0)",
      c, tostring(a.ratio), c, tostring(a.ratio))
  end
  if r % a.groups ~= 0 then
    raise("the %d representative channels (of %d at ratio %s) are not divisible by groups = %d",
      r, c, tostring(a.ratio), a.groups)
  end
  if a.out % a.groups ~= 0 then
    raise("out = %d is not divisible by groups = %d", a.out, a.groups)
  end
  local ho, wo = (h - 1) // a.stride + 1, (w - 1) // a.stride + 1
  if a.stride == 2 and (h % 2 ~= 0 or w % 2 ~= 0) then
    raise("stride 2 needs an even input height and width, got %dx%d: the pooled 1x1 branches "
      .. "would be %dx%d but the 3x3 branch %dx%d", h, w, h // 2, w // 2, ho, wo)
  end
  a.cin, a.r = c, r
  return { a.out, ho, wo }
end

function M.weights(node, naming)
  local a, p = node.attrs, node.name
  local co, r, c1 = a.out, a.r, a.cin - a.r
  local list = {
    { key = p .. ".gwc.weight", shape = { co, r // a.groups, 3, 3 }, init = "conv", fan_in = r // a.groups * 9 },
    { key = p .. ".pwc.weight", shape = { co, r, 1, 1 }, init = "conv", fan_in = r },
    { key = p .. ".conv1x1.weight", shape = { co, c1, 1, 1 }, init = "conv", fan_in = c1 },
    { key = p .. ".conv1x1.bias", shape = { co }, init = "conv", fan_in = c1 },
  }
  if a.bias == "all" then
    table.insert(list, { key = p .. ".gwc.bias", shape = { co }, init = "conv", fan_in = r // a.groups * 9 })
    table.insert(list, { key = p .. ".pwc.bias", shape = { co }, init = "conv", fan_in = r })
  end
  for _, t in ipairs(bn.tensors(p .. ".bn1", co, naming)) do list[#list + 1] = t end
  if a.bn2 then
    for _, t in ipairs(bn.tensors(p .. ".bn2", co, naming)) do list[#list + 1] = t end
  end
  return list
end

function M.params(node)
  local a = node.attrs
  local co, r, c1 = a.out, a.r, a.cin - a.r
  local biases = a.bias == "all" and 3 or 1
  return co * (r // a.groups * 9 + r + c1 + biases) + (a.bn2 and 2 or 1) * bn.params(co)
end

-- Multiply-accumulates per image: GWC + PWC + CONV1x1 (pooling and the
-- softmax are additions and a handful of exps).
function M.macs(node)
  local a, s = node.attrs, node.shape
  return s[2] * s[3] * a.out * (a.r // a.groups * 9 + a.r + (a.cin - a.r))
end

-- The vanilla 3x3 convolution this layer replaces (no bias, as in ResNets).
function M.vanilla(node)
  local a, s = node.attrs, node.shape
  return { params = a.out * a.cin * 9, macs = s[2] * s[3] * a.out * a.cin * 9 }
end

return M
