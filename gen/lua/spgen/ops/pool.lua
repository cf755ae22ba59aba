-- maxpool and avgpool (PyTorch semantics: floor mode; max ignores padding,
-- avg divides by k*k including padding, count_include_pad = True, or with
-- count_include_pad = false by the taps inside the input).
local M = {}

M.schema = {
  k = { type = "integer", required = true, min = 1, max = 15 },
  stride = { type = "integer", min = 1, max = 15 },
  pad = { type = "integer", min = 0, max = 7, default = 0 },
}

function M.infer(a, shape, raise)
  a.stride = a.stride or a.k
  if 2 * a.pad > a.k then raise("pad = %d must be at most half of k = %d", a.pad, a.k) end
  local ho = (shape[2] + 2 * a.pad - a.k) // a.stride + 1
  local wo = (shape[3] + 2 * a.pad - a.k) // a.stride + 1
  if ho < 1 or wo < 1 then raise("a %dx%d input is smaller than the %dx%d window", shape[2], shape[3], a.k, a.k) end
  return { shape[1], ho, wo }
end

function M.params() return 0 end
function M.macs() return 0 end

-- avgpool: the same, and whether the padding counts in the divisor
M.avg = { infer = M.infer, params = M.params, macs = M.macs, schema = { count_include_pad = { type = "boolean", default = true } } }
for key, rule in pairs(M.schema) do M.avg.schema[key] = rule end

return M
