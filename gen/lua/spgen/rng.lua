-- Deterministic random numbers (splitmix64 on Lua's 64-bit integers), the same
-- on every platform, so a seed always gives the same weights.
local M = {}

local function mix(z)
  z = (z ~ (z >> 30)) * 0xbf58476d1ce4e5b9
  z = (z ~ (z >> 27)) * 0x94d049bb133111eb
  return z ~ (z >> 31)
end

-- FNV-1a of a string: keys get streams that do not depend on tensor order.
local function hash(s)
  local h = 0xcbf29ce484222325
  for i = 1, #s do h = (h ~ s:byte(i)) * 1099511628211 end
  return h
end

-- A stream for (seed, key): returns a function giving floats in [lo, hi).
function M.stream(seed, key)
  local state = mix(seed ~ hash(key))
  return function(lo, hi)
    state = state + 0x9e3779b97f4a7c15
    local u = (mix(state) >> 11) * (1.0 / 9007199254740992.0)
    return lo + (hi - lo) * u
  end
end

return M
