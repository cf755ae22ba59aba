-- The lowering of a convolution (a conv2d, or an SPConv as fold/spconv.lua
-- folds it) into its parts: each part is one set of taps over one set of
-- input channels, with its weights in one folded array, adding into one
-- branch's accumulators. Every convolution emitter (C portable and vector,
-- CUDA direct and map) walks these parts in order instead of writing the
-- breakdown itself. Parts hold no text of any backend: they name sizes by
-- their keys in conv.sizes, and conv.macros gives the name of each size's
-- macro (P_C, P_RG, ...), which both backends define.
--
-- conv = M.conv(k):
--   kind       "conv2d" or "spconv"
--   sizes      in_channels, out_channels, group_inputs (the input channels
--              a group part reads: an SPConv's representative channels of
--              one group, a conv2d's input channels of one group), and an
--              SPConv's representative channels
--   macros     the macro of each size: C, CO, RG (SPConv) or CIG, R
--   groups     output channel o is in group o // (out_channels / groups)
--   stride     of the window, and of the point parts
--   window     the window part's taps (every convolution has one)
--   branches   the accumulator sets, in order: an SPConv's 3x3 branch "a3"
--              and 1x1 branch "a1", or a conv2d's one "a"
--   parts      in the order they accumulate; each part:
--     branch   the one of conv.branches it adds into
--     taps     { kind = "window" | "point", taps = { { ky, kx }, ... }, pad,
--              stride, size (a window's k), pooled }: a window's k x k taps,
--              each with its own weight; a point part's tap reads the output
--              pixel's input, or when pooled (stride 2) its 4 taps the 2x2
--              window, whose sum meets one weight (the 1/4 is folded in)
--     inputs   the input channels read for an output channel of group g:
--              { kind = "group" }: g * n .. (g + 1) * n - 1, n the
--              group_inputs
--              { kind = "outside_group", stop }: 0 .. stop - 1 but the
--              group's own, in order
--              { kind = "span", start, stop }: start .. stop - 1, any group
--              (start, stop: keys of conv.sizes); about: them in words
--     weights  { array, row, taps }: the folded array (its key in k.w);
--              output channel o's weights start at o * sizes[row] * (taps or
--              1); within them input channel ci's at (a group part: ci's
--              place in the group; else ci) * taps, tap t at + t; no taps:
--              one weight per input channel
local M = {}

-- The taps of a k x k window with padding pad at stride s.
function M.window(k, pad, s)
  local taps = {}
  for ky = 0, k - 1 do
    for kx = 0, k - 1 do taps[#taps + 1] = { ky, kx } end
  end
  return { kind = "window", taps = taps, pad = pad, stride = s, size = k }
end

-- The 1x1 taps of an SPConv's PWC and CONV1x1: the output pixel, or at
-- stride 2 the 2x2 average-pool window.
function M.point(s)
  if s == 1 then return { kind = "point", taps = { { 0, 0 } }, pad = 0, stride = 1 } end
  return { kind = "point", taps = { { 0, 0 }, { 0, 1 }, { 1, 0 }, { 1, 1 } }, pad = 0, stride = 2, pooled = true }
end

-- SPConv (kinds/spconv.lua).
function M.spconv(a)
  local conv = {
    kind = "spconv", groups = a.groups, stride = a.stride, branches = { "a3", "a1" },
    sizes = { in_channels = a.cin, out_channels = a.out, representative = a.r, group_inputs = a.r // a.groups },
    macros = { in_channels = "C", out_channels = "CO", representative = "R", group_inputs = "RG" },
    window = M.window(3, 1, a.stride),
  }
  local point = M.point(a.stride)
  -- the GWC with the PWC of the group's channels merged into its taps; the
  -- PWC of the other representative channels; the CONV1x1 of the redundant
  conv.parts = {
    { branch = "a3", taps = conv.window,
      inputs = { kind = "group", about = "the group's representative channels" },
      weights = { array = "G", row = "group_inputs", taps = 9 } },
    { branch = "a3", taps = point,
      inputs = { kind = "outside_group", stop = "representative", about = "the other representative channels" },
      weights = { array = "Q", row = "in_channels" } },
    { branch = "a1", taps = point,
      inputs = { kind = "span", start = "representative", stop = "in_channels", about = "the redundant channels" },
      weights = { array = "Q", row = "in_channels" } },
  }
  return conv
end

-- conv2d (kinds/conv2d.lua): one window part over the group's input channels.
function M.conv2d(a)
  local conv = {
    kind = "conv2d", groups = a.groups, stride = a.stride, branches = { "a" },
    sizes = { in_channels = a.cin, out_channels = a.out, group_inputs = a.cin // a.groups },
    macros = { in_channels = "C", out_channels = "CO", group_inputs = "CIG" },
    window = M.window(a.k, a.pad, a.stride),
  }
  conv.parts = {
    { branch = "a", taps = conv.window,
      inputs = { kind = "group", about = "the group's input channels" },
      weights = { array = "WT", row = "group_inputs", taps = a.k * a.k } },
  }
  return conv
end

-- The parts of convolution kernel k: its kind record's lowering. The records
-- are required here, not at load, since they name this module's lowerings.
function M.conv(k)
  local lower = assert(require("spgen.kinds")[k.kind].lower, "not a convolution")
  return lower(k.node.attrs)
end

-- The distinct tap sets of k's parts, window first.
function M.tap_sets(k)
  local sets, seen = {}, {}
  for _, part in ipairs(M.conv(k).parts) do
    if not seen[part.taps.kind] then
      seen[part.taps.kind] = true
      sets[#sets + 1] = part.taps
    end
  end
  return sets
end

-- How many input channels the part reads for one output channel.
function M.count(conv, part)
  local s, i = conv.sizes, part.inputs
  if i.kind == "group" then return s.group_inputs end
  if i.kind == "outside_group" then return s[i.stop] - s.group_inputs end
  return s[i.stop] - s[i.start]
end

-- The input channels the part reads for group g, as ranges
-- { { first =, stop = }, ... } in order, empty ones left out.
function M.ranges(conv, part, g)
  local s, i = conv.sizes, part.inputs
  local n, list = s.group_inputs, nil
  if i.kind == "group" then list = { { g * n, (g + 1) * n } }
  elseif i.kind == "outside_group" then list = { { 0, g * n }, { (g + 1) * n, s[i.stop] } }
  else list = { { s[i.start], s[i.stop] } } end
  local out = {}
  for _, r in ipairs(list) do
    if r[1] < r[2] then out[#out + 1] = { first = r[1], stop = r[2] } end
  end
  return out
end

-- Where the taps of a point part read for pixel p of a run of pixels in one
-- output row: { row, col } from pixel 0's input (row 0 or 1: a pool
-- window's rows), in order; their sum meets one weight.
function M.point_reads(taps, p)
  local reads = {}
  for _, tap in ipairs(taps.taps) do
    assert(tap[1] <= 1, "a point part reads two rows at most")
    reads[#reads + 1] = { row = tap[1], col = taps.stride * p + tap[2] }
  end
  return reads
end

-- The floats of one output channel's row of the part's weights.
function M.row_floats(conv, part)
  return conv.sizes[part.weights.row] * (part.weights.taps or 1)
end

-- Multiply-adds per output value (a pool window's sum is additions).
function M.macs_per_output(conv)
  local n = 0
  for _, part in ipairs(conv.parts) do n = n + M.count(conv, part) * (part.weights.taps or 1) end
  return n
end

return M
