-- The output pass of a direct convolution in register tiles: nc output
-- channels x np pixels accumulate in named locals, the kernel window is
-- written out tap by tap, loops keep literal bounds. Border columns are
-- peeled at generation time (each run of pixels with the same valid taps gets
-- its own code); border rows test one literal condition per kernel row.
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

local function window_part(w, d, part, nc, np, kx_ok)
  local P, k = d.P, d.k
  w.line("const int o = (%s_S * oy - %d) * %s_W + %s_S * ox - %d; /* first tap of pixel 0 */", P, d.pad, P, P, d.pad)
  w.open("for (j = 0; j < %s; ++j) {", part.count)
  w.line("const float *xc = x + (%s + j) * %s_H * %s_W;", part.xbase, P, P)
  w.line("const float *wc = %s + c0 * %s + j * %d;", part.w, part.wchan, k * k)
  for ky = 0, k - 1 do
    local cond = M.row_condition(d.ho, d.h, d.s, d.pad, ky)
    if cond then
      if cond ~= "" then w.open("if (%s) {", cond) end
      for kx = 0, k - 1 do
        if kx_ok[kx] then
          local loads = {}
          for p = 0, np - 1 do
            loads[#loads + 1] = string.format("x%d = xc[o + %d * %s_W + %d]", p, ky, P, kx + d.s * p)
          end
          for c = 0, nc - 1 do
            loads[#loads + 1] = string.format("w%d = wc[%d * %s + %d]", c, c, part.wchan, ky * k + kx)
          end
          w.line("%s;", table.concat(loads, "; "))
          fmas(w, part.acc, nc, np)
        end
      end
      if cond ~= "" then w.close() end
    end
  end
  w.close()
end

-- 1x1 taps at the output position, or the sum of a 2x2 pool window (its 1/4
-- is folded into the weights), over input channels [lo, hi).
local function point_part(w, d, part, nc, np)
  local P = d.P
  w.open("for (ci = %d; ci < %d; ++ci) {", part.lo, part.hi)
  w.line("const float *xc = x + ci * %s_H * %s_W + %s_S * (oy * %s_W + ox);", P, P, P, P)
  w.line("const float *wc = %s + c0 * %s + ci;", part.w, part.wchan)
  local loads = {}
  for p = 0, np - 1 do
    if part.pool then
      loads[#loads + 1] = string.format("x%d = xc[%d] + xc[%d] + xc[%s_W + %d] + xc[%s_W + %d]",
        p, 2 * p, 2 * p + 1, P, 2 * p, P, 2 * p + 1)
    else
      loads[#loads + 1] = string.format("x%d = xc[%d]", p, d.s * p)
    end
  end
  for c = 0, nc - 1 do loads[#loads + 1] = string.format("w%d = wc[%d * %s]", c, c, part.wchan) end
  w.line("%s;", table.concat(loads, "; "))
  fmas(w, part.acc, nc, np)
  w.close()
end

local function tile(w, d, nc, np, kx_ok)
  w.open("{")
  local decl = {}
  for _, acc in ipairs(d.accs) do
    for c = 0, nc - 1 do
      for p = 0, np - 1 do decl[#decl + 1] = string.format("%s_%d_%d = 0.0f", acc, c, p) end
    end
  end
  w.line("float %s;", table.concat(decl, ", "))
  w.line("float %s;", names("x", np))
  w.line("float %s;", names("w", nc))
  for _, part in ipairs(d.parts) do
    if part.kind == "window" then window_part(w, d, part, nc, np, kx_ok)
    elseif part.lo < part.hi then point_part(w, d, part, nc, np) end
  end
  for c = 0, nc - 1 do
    for p = 0, np - 1 do d.store(w, c, p) end
  end
  w.close()
end

-- All output rows and columns for the channel tile at c0 (nc channels).
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
  for _, run in ipairs(M.runs(d.wo, d.w, d.k, d.pad, d.s)) do scalar_tiles(w, d, nc, run.start, run.stop, run.valid) end
  w.close()
end

-- Channel tiles over [first, stop): full tiles of nct in a loop, the rest after.
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
