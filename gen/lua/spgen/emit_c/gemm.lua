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
-- each pixel reading the input pixel s times its coordinates. The loop over
-- tile columns of output blocks is outside the tile positions (each panel
-- of weights read by every tile in turn, the next one fetched ahead from
-- beyond L2), or inside them when tiling.lua says so (each tile's pixels
-- read once, the weights from L2). Each block of input channels fetches the
-- tile's pixels of the next one ahead.
local blocked = require("spgen.emit_c.blocked")
local vtile = require("spgen.emit_c.vtile")
local blocks = require("spgen.blocks")

local M = {}

local LINE = 16 -- floats in a cache line: one prefetch each

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
  -- with the tile positions inside, the next tile column's panel comes from
  -- beyond L2 while this one's tiles run
  local ahead = not bt.gemm.tiles_outer
  if ahead then
    local out_blocks = blocks.padded(a.out, B) // B
    w.line("const float *pf = %s_WB + (cb + %d) %% %d * %d; /* the next panel, fetched ahead */", d.P, nb, out_blocks, a.cin * B)
  end
  -- the input channels of block ib, lanes [0, lanes)
  local function channels(lanes)
    w.line("const float *xc = x + ib * %d + %s;", d.h * d.w * B, base)
    local in_blocks = blocks.padded(a.cin, B) // B
    if in_blocks > 1 then
      w.line("const float *xp = x + (ib + 1) %% %d * %d + %s; /* the next block's pixels, fetched ahead */",
        in_blocks, d.h * d.w * B, base)
      local t, line = {}, nil
      for p = 0, n - 1 do
        if at[p] // LINE ~= line then
          line = at[p] // LINE
          t[#t + 1] = string.format("__builtin_prefetch(xp + %d, 0, 3);", at[p])
        end
      end
      w.line(table.concat(t, " "))
    end
    w.open("for (l = 0; l < %d; ++l) {", lanes)
    local t = {}
    for b = 0, nb - 1 do t[#t + 1] = string.format("w%d = %s(wc + %d);", b, vec.load, b * B) end
    w.line(table.concat(t, " "))
    for p = 0, n - 1 do
      t = { string.format("xv = xc[l + %d];", at[p]) }
      for b = 0, nb - 1 do t[#t + 1] = string.format("a_%d_%d += w%d * xv;", b, p, b) end
      w.line(table.concat(t, " "))
    end
    if ahead then
      t = {}
      for at_float = 0, nb * B - 1, LINE do t[#t + 1] = string.format("__builtin_prefetch(pf + %d, 0, 2);", at_float) end
      w.line("%s pf += %d;", table.concat(t, " "), nb * B)
    end
    w.line("wc += %d;", nb * B)
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

-- A run of tiles of n pixels: `count` of them along the counter `var`
-- (q, oy or ox) from `first` in steps of `step`, or the one there when count
-- is 1; input pixel p at float at[p] from the tile's base, output pixel p at
-- pixel(p). With the output blocks inner (d.bt.gemm.tiles_outer) each tile
-- position loops over them; `private`: the counters of the loops inside
-- when OpenMP splits this run's tiles (for one tile with the output blocks
-- inside, its loop over them).
local function run(w, k, d, t, private)
  local bt = d.bt
  local out_blocks = blocks.padded(k.node.attrs.out, bt.block) // bt.block
  if t.count > 1 then
    if private then vtile.parallel(w, t.var .. ", " .. private) end
    w.open("for (%s = %d; %s < %d; %s += %d) {", t.var, t.first, t.var, t.first + t.count * t.step, t.var, t.step)
  else
    w.open("{")
    w.line("%s = %d;", t.var, t.first)
  end
  if bt.gemm.tiles_outer then
    if private and t.count == 1 then vtile.parallel(w, "cb, ib, l") end
    w.open("for (cb = 0; cb < %d; cb += %d) {", out_blocks, bt.blocks)
  end
  tile(w, k, d, t.n, t.base, t.at, t.pixel)
  if bt.gemm.tiles_outer then w.close() end
  w.close()
end

-- The output pass: d as emit_c/conv2d.lua's (P, h, w, ho, wo, bt,
-- out_blocked, channels) with the stride. The output blocks are the outer
-- loop, split over threads, unless tiling.lua put them inside.
function M.out(w, k, d)
  local bt = d.bt
  local B, s, np, outer = bt.block, d.stride, bt.pixels, bt.gemm.tiles_outer
  local out_blocks = blocks.padded(k.node.attrs.out, B) // B
  local list = d.stride == 1 and "q" or bt.gemm.rows and "oy" or "oy, ox"
  w.line("const %s z = {0};", blocked.vec(B).t)
  w.line("int cb, %s, ib, l;", list)
  -- threads split the channel tiles, or where there are fewer than 8 the
  -- pixel tiles of each: a thread then reads the same part of the input for
  -- every channel tile, from its own L2 (make bench, two threads against
  -- one: sp_resnet50's 512 -> 128 1x1s at 28x28 from 1.6x to 1.9-2.0x)
  local split_pixels = not outer and out_blocks // bt.blocks < 8
  if not outer then
    if not split_pixels then vtile.parallel(w, list .. ", ib, l") end
    w.open("for (cb = 0; cb < %d; cb += %d) {", out_blocks, bt.blocks)
  end
  local inner = outer and "cb, ib, l" or split_pixels and "ib, l"
  -- a range of `size` units (pixels, rows, columns) in runs of tiles of n
  -- units and one narrower tile for the rest; tiles(n) describes a tile
  local function split(size, n, tiles)
    if size // n > 0 then
      local t = tiles(n)
      t.first, t.count, t.step = 0, size // n, n
      run(w, k, d, t, inner)
    end
    if size % n > 0 then
      local t = tiles(size % n)
      t.first, t.count = size // n * n, 1
      run(w, k, d, t, inner)
    end
  end
  if s == 1 then
    split(d.ho * d.wo, np, function(n)
      local at = {}
      for p = 0, n - 1 do at[p] = p * B end
      return { var = "q", n = n, at = at, base = string.format("q * %d", B),
               pixel = function(p) return string.format("q + %d", p) end }
    end)
  elseif bt.gemm.rows then
    split(d.ho, bt.gemm.rows, function(rows)
      local at = {}
      for p = 0, rows * d.wo - 1 do at[p] = (s * (p // d.wo) * d.w + s * (p % d.wo)) * B end
      return { var = "oy", n = rows * d.wo, at = at, base = string.format("oy * %d", s * d.w * B),
               pixel = function(p) return string.format("oy * %d + %d", d.wo, p) end }
    end)
  else
    if outer then vtile.parallel(w, "ox, cb, ib, l")
    elseif split_pixels then vtile.parallel(w, "ox, ib, l") end
    w.open("for (oy = 0; oy < %d; ++oy) {", d.ho)
    inner = nil
    split(d.wo, np, function(n)
      local at = {}
      for p = 0, n - 1 do at[p] = s * p * B end
      return { var = "ox", n = n, at = at, base = string.format("(oy * %d + ox) * %d", d.w, s * B),
               pixel = function(p) return string.format("oy * %d + ox + %d", d.wo, p) end }
    end)
    w.close()
  end
  if not outer then w.close() end
end

return M
