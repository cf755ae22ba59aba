-- The output pass of a direct convolution in register tiles: nc output
-- channels x np pixels accumulate in named locals, the kernel window is
-- written out tap by tap, loops keep literal bounds. Border columns are
-- peeled at generation time (each run of pixels with the same valid taps gets
-- its own code); border rows test one literal condition per kernel row.
local lower = require("spgen.lower")

local M = {}

M.CT, M.PT = 4, 4 -- default tile: output channels x pixels

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

-- 1x1 taps at the output position, or the sum of a 2x2 pool window (its 1/4
-- is folded into the weights), over input channels [first, stop).
local function point_part(w, d, part, range, nc, np)
  local P = d.P
  local row = row_text(d, part.weights)
  w.open("for (ci = %d; ci < %d; ++ci) {", range.first, range.stop)
  w.line("const float *xc = x + ci * %s_H * %s_W + %s_S * (oy * %s_W + ox);", P, P, P, P)
  w.line("const float *wc = %s_%s + c0 * %s + ci;", P, part.weights.array, row)
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
      for _, range in ipairs(lower.ranges(d.conv, part, d.group)) do point_part(w, d, part, range, nc, np) end
    end
  end
  for c = 0, nc - 1 do
    for p = 0, np - 1 do d.store(w, c, p) end
  end
  w.close()
end

-- Pixels [start, stop) of one column run, PT at a time plus the rest.
local function scalar_tiles(w, d, nc, start, stop, valid)
  local n = stop - start
  local full = n // M.PT * M.PT
  if full > 0 then
    w.open("for (ox = %d; ox < %d; ox += %d) {", start, start + full, M.PT)
    tile(w, d, nc, M.PT, valid)
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

-- Channel tiles over [first, stop): full tiles of nct in a loop, the rest
-- after. d: P (macro prefix), conv (lower.conv), group (the channels' group,
-- or nil: gb, which per_tile(w) sets per tile), h, w, ho, wo, store(w, c, p).
function M.channels(w, d, first, stop, nct)
  local full = first + (stop - first) // nct * nct
  if full > first then
    w.open("for (c0 = %d; c0 < %d; c0 += %d) {", first, full, nct)
    if d.per_tile then d.per_tile(w) end
    M.rows(w, d, nct)
    w.close()
  end
  if full < stop then
    w.open("{")
    w.line("c0 = %d;", full)
    if d.per_tile then d.per_tile(w) end
    M.rows(w, d, stop - full)
    w.close()
  end
end

return M
