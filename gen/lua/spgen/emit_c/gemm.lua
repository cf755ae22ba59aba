-- The output pass of a 1x1 convolution without padding over a blocked input
-- (--simd B; tiling.lua chose k.bt with k.bt.gemm) as a GEMM micro-kernel:
-- a register tile of `blocks` vectors of B output channels x `pixels`
-- pixels accumulates over every input channel in named locals. Per input
-- channel the tile loads its weight vectors, contiguous in the panel that
-- fold/conv2d.lua packed as [tile's first block][input channel][block][lane],
-- then broadcasts each pixel's input value in turn into the multiply-adds of
-- every block (one broadcast live at a time, so accumulators, weights and
-- the broadcast fit the register file). At stride 1 the tiles run over the
-- plane as one flat range of pixels, the last tile narrower; at stride s a
-- tile is whole output rows (rows of at most a tile) or a run within a row,
-- each pixel reading the input pixel s times its coordinates.
local blocked = require("spgen.emit_c.blocked")
local vtile = require("spgen.emit_c.vtile")
local blocks = require("spgen.blocks")

local M = {}

-- One register tile of n pixels: input pixel p at float at[p] from the
-- tile's base `base` (a C expression of the tile's first input pixel, in
-- floats), output pixel p at the C expression pixel(p).
local function tile(w, k, d, n, base, at, pixel)
  local bt, a = d.bt, k.node.attrs
  local B, nb = bt.block, bt.blocks
  local vec = blocked.vec(B)
  local decl, weights = {}, {}
  for b = 0, nb - 1 do
    for p = 0, n - 1 do decl[#decl + 1] = string.format("a_%d_%d = z", b, p) end
    weights[#weights + 1] = "w" .. b
  end
  w.line("%s %s;", vec.t, table.concat(decl, ", "))
  w.line("%s %s;", vec.t, table.concat(weights, ", "))
  w.line("float xv;")
  w.line("const float *wc = %s_WB + cb * %d;", d.P, a.cin * B)
  local out_blocks = blocks.padded(a.out, B) // B
  w.line("const float *pf = %s_WB + (cb + %d) %% %d * %d; /* the next panel, fetched ahead */", d.P, nb, out_blocks, a.cin * B)
  -- the input channels of block ib, lanes [0, lanes)
  local function channels(lanes)
    w.line("const float *xc = x + ib * %d + %s;", d.h * d.w * B, base)
    w.open("for (l = 0; l < %d; ++l) {", lanes)
    local t = {}
    for b = 0, nb - 1 do t[#t + 1] = string.format("w%d = %s(wc + %d);", b, vec.load, b * B) end
    w.line(table.concat(t, " "))
    for p = 0, n - 1 do
      t = { string.format("xv = xc[l + %d];", at[p]) }
      for b = 0, nb - 1 do t[#t + 1] = string.format("a_%d_%d += w%d * xv;", b, p, b) end
      w.line(table.concat(t, " "))
    end
    t = {}
    for line = 0, nb * B * 4 // 64 - 1 do t[#t + 1] = string.format("__builtin_prefetch(pf + %d, 0, 2);", line * 16) end
    w.line(table.concat(t, " "))
    w.line("wc += %d; pf += %d;", nb * B, nb * B)
    w.close()
  end
  local full = a.cin // B
  if full > 0 then
    w.open("for (ib = 0; ib < %d; ++ib) {", full)
    channels(B)
    w.close()
  end
  if a.cin % B > 0 then
    w.open("{")
    w.line("ib = %d;", full)
    channels(a.cin % B)
    w.close()
  end
  for b = 0, nb - 1 do
    local bias = k.w.BB and string.format(" + %s(%s_BB + (cb + %d) * %d)", vec.load, d.P, b, B) or ""
    for p = 0, n - 1 do blocked.store(w, k, d, string.format("a_%d_%d%s", b, p, bias), b, pixel(p)) end
  end
end

-- A loop of `count` tiles of n pixels from pixel `first` of a flat range
-- (stride 1), or the one tile there when count is 1.
local function flat_run(w, k, d, first, count, n)
  local B = d.bt.block
  if count > 1 then w.open("for (q = %d; q < %d; q += %d) {", first, first + count * n, n)
  else
    w.open("{")
    w.line("q = %d;", first)
  end
  local at = {}
  for p = 0, n - 1 do at[p] = p * B end
  tile(w, k, d, n, string.format("q * %d", B), at, function(p) return string.format("q + %d", p) end)
  w.close()
end

-- Tiles of `rows` whole output rows from row oy (stride s): count of them
-- from row `first`, or the one there.
local function row_run(w, k, d, first, count, rows)
  local B, s = d.bt.block, d.stride
  if count > 1 then w.open("for (oy = %d; oy < %d; oy += %d) {", first, first + count * rows, rows)
  else
    w.open("{")
    w.line("oy = %d;", first)
  end
  local at = {}
  for p = 0, rows * d.wo - 1 do at[p] = (s * (p // d.wo) * d.w + s * (p % d.wo)) * B end
  tile(w, k, d, rows * d.wo, string.format("oy * %d", s * d.w * B), at,
    function(p) return string.format("oy * %d + %d", d.wo, p) end)
  w.close()
end

-- Tiles of n pixels within row oy (stride s) from column `first`: count of
-- them, or the one there.
local function column_run(w, k, d, first, count, n)
  local B, s = d.bt.block, d.stride
  if count > 1 then w.open("for (ox = %d; ox < %d; ox += %d) {", first, first + count * n, n)
  else
    w.open("{")
    w.line("ox = %d;", first)
  end
  local at = {}
  for p = 0, n - 1 do at[p] = s * p * B end
  tile(w, k, d, n, string.format("(oy * %d + ox) * %d", d.w, s * B), at,
    function(p) return string.format("oy * %d + ox + %d", d.wo, p) end)
  w.close()
end

-- The counters of the tile loops, as a C list.
local function counters(d)
  if d.stride == 1 then return "q, ib, l" end
  return d.bt.gemm.rows and "oy, ib, l" or "oy, ox, ib, l"
end

-- The output pass: d as emit_c/conv2d.lua's (P, h, w, ho, wo, bt,
-- out_blocked, channels) with the stride.
function M.out(w, k, d)
  local bt = d.bt
  local np = bt.pixels
  w.line("const %s z = {0};", blocked.vec(bt.block).t)
  w.line("int cb, %s;", counters(d))
  vtile.parallel(w, counters(d))
  w.open("for (cb = 0; cb < %d; cb += %d) {", blocks.padded(k.node.attrs.out, bt.block) // bt.block, bt.blocks)
  -- a range of `size` units (pixels, rows, columns) in runs of tiles of n
  -- units and one narrower tile for the rest
  local function split(size, n, run)
    if size // n > 0 then run(0, size // n, n) end
    if size % n > 0 then run(size // n * n, 1, size % n) end
  end
  if d.stride == 1 then
    split(d.ho * d.wo, np, function(first, count, n) flat_run(w, k, d, first, count, n) end)
  elseif bt.gemm.rows then
    split(d.ho, bt.gemm.rows, function(first, count, rows) row_run(w, k, d, first, count, rows) end)
  else
    w.open("for (oy = 0; oy < %d; ++oy) {", d.ho)
    split(d.wo, np, function(first, count, n) column_run(w, k, d, first, count, n) end)
    w.close()
  end
  w.close()
end

return M
