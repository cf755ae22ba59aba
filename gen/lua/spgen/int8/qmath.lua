-- The generator's side of docs/int8.md's arithmetic that is fixed at
-- generation: rounding, float32 rounding of a double, QuantizeMultiplier,
-- and a tensor's scale and zero point from its calibrated range. Lua numbers
-- are doubles, so each formula is written in the doc's order.
local M = {}

M.INT32_MAX = (1 << 31) - 1

-- round half away from zero (section 1)
function M.round_away(v)
  if v < 0 then return -math.floor(-v + 0.5) end
  return math.floor(v + 0.5)
end

function M.clamp(v, lo, hi)
  return v < lo and lo or v > hi and hi or v
end

-- The double rounded to the nearest float32, back as a double.
function M.f32(v)
  return (string.unpack("<f", string.pack("<f", v)))
end

-- v = q * 2^ex, 0.5 <= |q| < 1 (v ~= 0): halving and doubling are exact.
local function frexp(v)
  local q, ex = math.abs(v), 0
  while q >= 1 do q, ex = q / 2, ex + 1 end
  while q < 0.5 do q, ex = q * 2, ex - 1 end
  return v < 0 and -q or q, ex
end

-- QuantizeMultiplier (section 2): m (int32) and e with M ~= m * 2^(e - 31).
function M.quantize_multiplier(value)
  if value == 0 then return 0, 0 end
  local q, ex = frexp(value)
  local qf = math.tointeger(M.round_away(q * 2147483648.0))
  if qf == 1 << 31 or qf == -(1 << 31) then qf, ex = qf // 2, ex + 1 end
  if ex < -31 then qf, ex = 0, 0 end
  if ex > 30 then qf, ex = qf > 0 and M.INT32_MAX or -M.INT32_MAX, 30 end
  return qf, ex
end

-- A tensor's scale (float32) and zero point from its range (section 3).
function M.tensor_params(lo, hi)
  lo, hi = math.min(lo, 0), math.max(hi, 0)
  if hi - lo < 1e-20 then return 1.0, -128 end
  local scale = M.f32((hi - lo) / 255.0)
  return scale, math.tointeger(M.clamp(M.round_away(-128.0 - lo / scale), -128, 127))
end

-- A per-channel weight scale (float32) from the channel's largest
-- magnitude; nil for an all-zero channel (scale 1, weights 0).
function M.weight_scale(amax)
  if amax < 1e-30 then return nil end
  return M.f32(amax / 127.0)
end

-- The int32 of a rounded double, or nil when it does not fit [-2^31 + 1, 2^31 - 1].
function M.int32(v)
  if v ~= v or math.abs(v) > M.INT32_MAX then return nil end
  return math.tointeger(v)
end

return M
