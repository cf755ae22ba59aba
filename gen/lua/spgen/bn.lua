-- BatchNorm parameters: key names per convention, and the folded affine form
-- scale = gamma / sqrt(var + eps), shift = beta - mean * scale.
local M = {}

local SUFFIX = {
  torch = { "weight", "bias", "running_mean", "running_var" },
  paddle = { "weight", "bias", "_mean", "_variance" },
}

-- The four tensors of a BN over c channels, with how to draw random ones.
function M.tensors(prefix, c, naming)
  local s = SUFFIX[naming]
  return {
    { key = prefix .. "." .. s[1], shape = { c }, init = "bn_weight" },
    { key = prefix .. "." .. s[2], shape = { c }, init = "bn_bias" },
    { key = prefix .. "." .. s[3], shape = { c }, init = "bn_mean" },
    { key = prefix .. "." .. s[4], shape = { c }, init = "bn_var" },
  }
end

-- weights: key -> farray. Returns two Lua arrays (1-based) of doubles.
function M.fold(prefix, c, naming, eps, weights)
  local s = SUFFIX[naming]
  local g, b = weights[prefix .. "." .. s[1]], weights[prefix .. "." .. s[2]]
  local m, v = weights[prefix .. "." .. s[3]], weights[prefix .. "." .. s[4]]
  local scale, shift = {}, {}
  for i = 0, c - 1 do
    local a = g[i] / math.sqrt(v[i] + eps)
    scale[i + 1], shift[i + 1] = a, b[i] - m[i] * a
  end
  return scale, shift
end

-- Parameters as PyTorch counts them: the affine terms, not the running stats.
function M.params(c) return 2 * c end

return M
