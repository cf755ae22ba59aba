-- The int8 calibration: each tensor's range, found by running the folded
-- float32 network on the samples of --calibration, one at a time, with the
-- interpreter in the host (gen/interp.c). Deterministic: the same samples
-- and weights give the same ranges.
local native = require("spgen.native")
local fail = require("spgen.fail")

local M = {}

local function shape_text(shape)
  local t = {}
  for i, d in ipairs(shape) do t[i] = tostring(d) end
  return "(" .. table.concat(t, ", ") .. ")"
end

-- Reads CALIB.npy: float32 NCHW, N >= 1 samples of the network input
-- { C, H, W }, every value finite. Returns the array and N.
function M.read(path, input)
  local npy, err = native.read_npy(path)
  if not npy then fail.raise(nil, "%s", err) end
  local s = npy.shape
  local want = string.format("(N, %d, %d, %d)", input[1], input[2], input[3])
  if #s ~= 4 or s[2] ~= input[1] or s[3] ~= input[2] or s[4] ~= input[3] then
    fail.raise(nil, "%s: shape %s does not match the network input %s", path, shape_text(s), want)
  end
  if s[1] == 0 then fail.raise(nil, "%s: empty: shape %s holds no sample", path, shape_text(s)) end
  local bad = npy.data:first_invalid(false)
  if bad then
    local per, plane = input[1] * input[2] * input[3], input[2] * input[3]
    local at = bad % per
    fail.raise(nil, "%s: sample %d holds %s at (%d, %d, %d)", path, bad // per,
      npy.data[bad] ~= npy.data[bad] and "NaN" or npy.data[bad] > 0 and "Inf" or "-Inf", at // plane, at % plane // input[3], at % input[3])
  end
  return npy.data, s[1]
end

local function count(shape) return shape[1] * shape[2] * shape[3] end

local function new_range() return { min = math.huge, max = -math.huge } end

-- The folded arrays of kernel k (kinds' fold), by name.
local function arrays_of(k, by_offset)
  local t = {}
  for name, off in pairs(k.w) do t[name] = by_offset[off] end
  return t
end

-- The product of kernel k (before its fused residual, relu and pool) into a
-- new array, from the tensors so far.
local function product(k, x, arr, tensors)
  local a, s, si = k.node.attrs, k.node.shape, k.in_shape
  local y = native.farray(count(s))
  if k.kind == "conv2d" then
    native.interp_conv(x, y, arr.WT, arr.B, { c = si[1], h = si[2], w = si[3], co = s[1], ho = s[2], wo = s[3],
      k = a.k, stride = a.stride, pad = a.pad, groups = a.groups })
  elseif k.kind == "spconv" then
    native.interp_spconv(x, y, arr, { c = si[1], r = a.r, h = si[2], w = si[3], co = s[1], ho = s[2], wo = s[3],
      stride = a.stride, groups = a.groups })
  elseif k.kind == "linear" then
    native.interp_linear(x, y, arr.WT, arr.B, { ["in"] = a.cin, out = a.out })
  elseif k.kind == "affine" then
    native.interp_affine(x, y, arr.A, arr.B, { c = s[1], hw = s[2] * s[3] })
  elseif k.kind == "add" then
    native.interp_add(x, tensors[k.inputs[2]], y, count(s))
  elseif k.kind == "pool" then
    native.interp_pool(x, y, k.node.op == "maxpool", { c = s[1], h = si[2], w = si[3], ho = s[2], wo = s[3],
      k = a.k, stride = a.stride, pad = a.pad, include_pad = a.count_include_pad and 1 or 0 })
  elseif k.kind == "gap" then
    native.interp_gap(x, y, { c = s[1], hw = si[2] * si[3] })
  elseif k.kind == "softmax" then
    native.interp_softmax(x, y, { c = s[1], hw = s[2] * s[3] })
  elseif k.kind == "shortcut_a" then
    native.interp_shortcut_a(x, y, { c = si[1], h = si[2], w = si[3], co = s[1], ho = s[2], wo = s[3],
      stride = a.stride, before = a.before })
  else
    error("no interpreter for kind " .. k.kind)
  end
  return y
end

local function widen(range, lo, hi)
  if lo < range.min then range.min = lo end
  if hi > range.max then range.max = hi end
end

-- Runs the folded network on each of the n samples in data, calling
-- observe(slot, values) with each calibrated tensor's values (a sample's):
-- slots.input, and per kernel slots[k.index].own and, with a fused
-- residual add, .sum.
local function forward(g, kernels, blob, data, n, slots, observe)
  local by_offset, arrays = {}, {}
  for _, a in ipairs(blob.arrays) do by_offset[a.offset] = a.data end
  for _, k in ipairs(kernels) do arrays[k] = arrays_of(k, by_offset) end
  local per = count(g.nodes[1].shape)
  for sample = 0, n - 1 do
    local x = native.farray(per)
    x:set_scaled(0, 1, data, sample * per, 1, per, 1.0)
    observe(slots.input, x)
    local tensors = { [1] = x }
    for _, k in ipairs(kernels) do
      local slot = slots[k.index]
      local y = product(k, tensors[k.inputs[1]], arrays[k], tensors)
      if k.residual then
        observe(slot.own, y)
        native.interp_add(y, tensors[k.residual], y, #y)
      end
      if k.relu then native.interp_relu(y, #y) end
      observe(slot.sum or slot.own, y)
      if k.gap then
        local s = k.node.shape
        local pooled = native.farray(s[1])
        native.interp_gap(y, pooled, { c = s[1], hw = s[2] * s[3] })
        y = pooled
      end
      tensors[k.output] = y
    end
  end
end

-- The percentile ranges (docs/int8.md, section 3) of every slot: two
-- passes, the first counting the values' top key bits, the second the low
-- bits within the bin that holds each end's rank.
local function percentiles(run, slots, percentile)
  local all = { slots.input }
  for _, slot in ipairs(slots) do
    all[#all + 1] = slot.own
    all[#all + 1] = slot.sum
  end
  run(function(slot, y)
    slot.count = (slot.count or 0) + #y
    slot.top = slot.top or native.histogram()
    native.histogram_add(slot.top, y)
  end)
  for _, slot in ipairs(all) do
    local n = slot.count
    local k = math.min(math.max(math.ceil(percentile / 100 * n) - 1, 0), n - 1)
    slot.ends = {}
    for side, rank in pairs({ max = k, min = n - 1 - k }) do
      local bin, within = native.histogram_rank(slot.top, rank)
      slot.ends[side] = { bin = bin, within = within, low = native.histogram() }
    end
  end
  run(function(slot, y)
    for _, e in pairs(slot.ends) do native.histogram_add(e.low, y, e.bin) end
  end)
  for _, slot in ipairs(all) do
    for side, e in pairs(slot.ends) do slot[side] = native.key_value(e.bin, (native.histogram_rank(e.low, e.within))) end
    slot.top, slot.ends = nil, nil
  end
end

-- Runs the folded network (fold.run's blob, the kernels' k.w) on the n
-- samples in data. Returns { input = range, [k.index] = { own = range,
-- sum = range } }, range = { min, max }, the ranges docs/int8.md (section
-- 3) calibrates: own is the kernel's own result after the batchnorm and,
-- unless a residual add comes first, the relu it applies; sum, for a kernel
-- with a fused residual add, the sum after the relu. min and max are the
-- smallest and largest values, or with percentile P its ends.
function M.run(g, kernels, blob, data, n, percentile)
  local ranges = { input = new_range() }
  for _, k in ipairs(kernels) do ranges[k.index] = { own = new_range(), sum = k.residual and new_range() } end
  local function run(observe) forward(g, kernels, blob, data, n, ranges, observe) end
  if percentile then percentiles(run, ranges, percentile)
  else run(function(slot, y) widen(slot, native.interp_range(y)) end) end
  return ranges
end

return M
