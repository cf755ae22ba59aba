-- The output pass of a direct convolution in register tiles: nc output
-- channels x np pixels accumulate in named locals, the kernel window is
-- written out tap by tap, loops keep literal bounds. Border columns are
-- peeled at generation time (each run of pixels with the same valid taps gets
-- its own code); border rows test one literal condition per kernel row.
local lower = require("spgen.lower")

local M = {}

M.CT = 4 -- output channels of a tile
M.REGISTERS = 32 -- the float registers of a Cortex-M4F (s0-s31) or an AArch64 core

-- The widest pixel tile, at most 4, whose accumulators (CT x pixels per
-- branch), weights (CT) and inputs (one per pixel) fit the registers: a
-- spilled accumulator costs a load and a store per tap. An SPConv's two
-- branches get 3 pixels (31 registers), a conv2d 4 (24).
function M.pixel_tile(conv)
  local pt = 4
  while pt > 1 and M.CT * pt * #conv.branches + M.CT + pt > M.REGISTERS do pt = pt - 1 end
  return pt
end

-- Runs of output positions with the same set of valid taps:
-- { { start, stop, valid = { [tap] = bool } }, ... }
function M.runs(n_out, n_in, k, pad, s)
  local list = {}
  for o = 0, n_out - 1 do
    local valid, key = {}, ""
    for t = 0, k - 1 do
      local i = s * o + t - pad
      valid[t] = i >= 0 and i < n_in
      key = key .. (valid[t] and "1" or "0")
    end
    local last = list[#list]
    if last and last.key == key then last.stop = o + 1
    else list[#list + 1] = { start = o, stop = o + 1, key = key, valid = valid } end
  end
  return list
end

-- The literal condition under which output row oy reads inside the input
-- (h rows) for kernel row ky: "" when always, nil when never.
function M.row_condition(ho, h, s, pad, ky)
  local lo, hi
  for oy = 0, ho - 1 do
    local iy = s * oy + ky - pad
    if iy >= 0 and iy < h then
      lo = lo or oy
      hi = oy
    end
  end
  if not lo then return nil end
  local conds = {}
  if lo > 0 then conds[#conds + 1] = "oy >= " .. lo end
  if hi < ho - 1 then conds[#conds + 1] = "oy <= " .. hi end
  return table.concat(conds, " && ")
end

local function names(prefix, n)
  local t = {}
  for i = 0, n - 1 do t[#t + 1] = prefix .. i end
  return table.concat(t, ", ")
end

local function fmas(w, acc, nc, np)
  local t = {}
  for c = 0, nc - 1 do
    for p = 0, np - 1 do t[#t + 1] = string.format("%s_%d_%d += w%d * x%d;", acc, c, p, c, p) end
  end
  w.line(table.concat(t, " "))
end

-- The C name of size `key` of the layer (lower.lua).
local function macro(d, key)
  return d.P .. "_" .. d.conv.macros[key]
end

-- The floats of an output channel's weight row, in macros.
local function row_text(d, weights)
  local row = macro(d, weights.row)
  return weights.taps and string.format("%s * %d", row, weights.taps) or row
end

-- The window taps over the group's input channels: d.group's literal, or
-- at run time from gb.
local function window_part(w, d, part, nc, np, kx_ok)
  local P, taps, weights = d.P, part.taps, part.weights
  local k, s, pad = taps.size, taps.stride, taps.pad
  local row = row_text(d, weights)
  local first = d.group and tostring(d.group * d.conv.sizes.group_inputs) or "gb"
  w.line("const int o = (%s_S * oy - %d) * %s_W + %s_S * ox - %d; /* first tap of pixel 0 */", P, pad, P, P, pad)
  w.open("for (j = 0; j < %s; ++j) {", macro(d, "group_inputs"))
  w.line("const float *xc = x + (%s + j) * %s_H * %s_W;", first, P, P)
  w.line("const float *wc = %s_%s + c0 * %s + j * %d;", P, weights.array, row, weights.taps)
  for ky = 0, k - 1 do
    local cond = M.row_condition(d.ho, d.h, s, pad, ky)
    if cond then
      if cond ~= "" then w.open("if (%s) {", cond) end
      for kx = 0, k - 1 do
        if kx_ok[kx] then
          local loads = {}
          for p = 0, np - 1 do
            loads[#loads + 1] = string.format("x%d = xc[o + %d * %s_W + %d]", p, ky, P, kx + s * p)
          end
          for c = 0, nc - 1 do
            loads[#loads + 1] = string.format("w%d = wc[%d * %s + %d]", c, c, row, ky * k + kx)
          end
          w.line("%s;", table.concat(loads, "; "))
          fmas(w, part.branch, nc, np)
        end
      end
      if cond ~= "" then w.close() end
    end
  end
  w.close()
end

-- The input channels a part reads for the tile's group, as lower.ranges
-- gives them: literal for d.group, else for the run-time gb, where ci runs
-- over literal bounds and `channel` is the C expression of the channel read.
local function ranges(d, part)
  if d.group then return lower.ranges(d.conv, part, d.group) end
  local i, size = part.inputs, d.conv.sizes
  local n = macro(d, "group_inputs")
  if i.kind == "group" then return { { first = 0, stop = size.group_inputs, channel = "gb + ci" } } end
  if i.kind == "outside_group" then
    return { { first = 0, stop = size[i.stop] - size.group_inputs, channel = "(ci < gb ? ci : ci + " .. n .. ")" } }
  end
  return { { first = size[i.start], stop = size[i.stop] } }
end

-- 1x1 taps at the output position, or the sum of a 2x2 pool window (its 1/4
-- is folded into the weights), over input channels [first, stop).
local function point_part(w, d, part, range, nc, np)
  local P = d.P
  local row = row_text(d, part.weights)
  w.open("for (ci = %d; ci < %d; ++ci) {", range.first, range.stop)
  local ch = "ci"
  if range.channel then
    w.line("const int ch = %s;", range.channel)
    ch = "ch"
  end
  w.line("const float *xc = x + %s * %s_H * %s_W + %s_S * (oy * %s_W + ox);", ch, P, P, P, P)
  w.line("const float *wc = %s_%s + c0 * %s + %s;", P, part.weights.array, row, ch)
  local loads = {}
  for p = 0, np - 1 do
    local terms = {}
    for _, at in ipairs(lower.point_reads(part.taps, p)) do
      local off = at.row == 0 and tostring(at.col) or string.format("%s_W + %d", P, at.col)
      terms[#terms + 1] = "xc[" .. off .. "]"
    end
    loads[#loads + 1] = string.format("x%d = %s", p, table.concat(terms, " + "))
  end
  for c = 0, nc - 1 do loads[#loads + 1] = string.format("w%d = wc[%d * %s]", c, c, row) end
  w.line("%s;", table.concat(loads, "; "))
  fmas(w, part.branch, nc, np)
  w.close()
end

local function tile(w, d, nc, np, kx_ok)
  w.open("{")
  local decl = {}
  for _, acc in ipairs(d.conv.branches) do
    for c = 0, nc - 1 do
      for p = 0, np - 1 do decl[#decl + 1] = string.format("%s_%d_%d = 0.0f", acc, c, p) end
    end
  end
  w.line("float %s;", table.concat(decl, ", "))
  w.line("float %s;", names("x", np))
  w.line("float %s;", names("w", nc))
  for _, part in ipairs(d.conv.parts) do
    if part.taps.kind == "window" then window_part(w, d, part, nc, np, kx_ok)
    else
      for _, range in ipairs(ranges(d, part)) do point_part(w, d, part, range, nc, np) end
    end
  end
  for c = 0, nc - 1 do
    for p = 0, np - 1 do d.store(w, c, p) end
  end
  w.close()
end

-- Pixels [start, stop) of one column run, pixel_tile at a time plus the rest.
local function scalar_tiles(w, d, nc, start, stop, valid)
  local n, pt = stop - start, M.pixel_tile(d.conv)
  local full = n // pt * pt
  if full > 0 then
    w.open("for (ox = %d; ox < %d; ox += %d) {", start, start + full, pt)
    tile(w, d, nc, pt, valid)
    w.close()
  end
  if n > full then
    w.line("ox = %d;", start + full)
    tile(w, d, nc, n - full, valid)
  end
end

-- All output rows and columns for the channel tile at c0 (nc channels).
function M.rows(w, d, nc)
  w.open("for (oy = 0; oy < %d; ++oy) {", d.ho)
  local win = d.conv.window
  for _, run in ipairs(M.runs(d.wo, d.w, win.size, win.pad, win.stride)) do
    scalar_tiles(w, d, nc, run.start, run.stop, run.valid)
  end
  w.close()
end

-- Channel tiles over [first, stop) (after the C expression d.channel_base
-- when given): full tiles of nct in a loop, the rest after. d: P (macro
-- prefix), conv (lower.conv), group (the channels' group, or nil: gb, which
-- the caller sets), h, w, ho, wo, store(w, c, p).
function M.channels(w, d, first, stop, nct)
  local full = first + (stop - first) // nct * nct
  if full > first then
    if d.channel_base then -- the loop counts from 0, keeping literal bounds
      w.open("for (cr = %d; cr < %d; cr += %d) {", first, full, nct)
      w.line("c0 = %s + cr;", d.channel_base)
    else
      w.open("for (c0 = %d; c0 < %d; c0 += %d) {", first, full, nct)
    end
    M.rows(w, d, nct)
    w.close()
  end
  if full < stop then
    w.open("{")
    w.line("c0 = %s%d;", d.channel_base and d.channel_base .. " + " or "", full)
    M.rows(w, d, stop - full)
    w.close()
  end
end

-- Every output channel, in channel tiles of at most CT that never straddle
-- a group: for one group, literal; else one loop over the groups (g, and gb
-- its first input channel of the group part), since the tiles written out
-- per group would take as many copies of the code and no fewer
-- instructions. The caller declares c0, and with groups cr and g.
function M.groups(w, d)
  local conv = d.conv
  local cg = conv.sizes.out_channels // conv.groups
  if conv.groups == 1 then
    d.group = 0
    M.channels(w, d, 0, cg, math.min(M.CT, cg))
    return
  end
  w.open("for (g = 0; g < %d; ++g) {", conv.groups)
  w.line("const int gb = g * %s; /* the first input channel of the group's window */", macro(d, "group_inputs"))
  d.group, d.channel_base = nil, "g * " .. cg
  M.channels(w, d, 0, cg, math.min(M.CT, cg))
  w.close()
end

return M
