-- C for a convolution that reads an NCHW input and runs blocked (--simd B;
-- tiling.lua's k.bt.stem): the network's stem, few input channels and many
-- taps. The input is first copied with its zero border into the scratch
-- buffer, so every tap of every tile reads inside and one loop nest covers
-- the plane. A register tile is one vector of B output channels x `pixels`
-- pixels of one output row: per tap one weight vector, and one broadcast
-- input value per pixel. The store is a blocked convolution's
-- (emit_c/blocked.lua): bias, residual, relu and pool fused, the output
-- blocked or NCHW.
local layer = require("spgen.emit_c.layer")
local blocked = require("spgen.emit_c.blocked")
local vtile = require("spgen.emit_c.vtile")
local blocks = require("spgen.blocks")

local M = {}

-- The copy of the NCHW input x into xp with its zero border, row by row
-- and in each row channel by channel ([row][channel][column]), so that the
-- rows a tile reads, over kernel rows and input channels, lie one stride
-- apart.
local function pad_input(w, d)
  local hp, wp, pad = d.padded.h, d.padded.w, d.pad
  local inside = math.min(d.w, wp - pad) -- input columns the taps read
  w.line("int i, c;")
  w.open("for (i = 0; i < %d; ++i) {", hp)
  w.open("for (c = 0; c < %d; ++c) {", d.cin)
  w.line("float *row = xp + (i * %d + c) * %d;", d.cin, wp)
  w.open("if (i < %d || i >= %d) {", pad, pad + d.h)
  w.line("memset(row, 0, sizeof(float) * %d);", wp)
  w.reopen("} else {")
  if pad > 0 then w.line("memset(row, 0, sizeof(float) * %d);", pad) end
  w.line("memcpy(row + %d, x + (c * %d + i - %d) * %d, sizeof(float) * %d);", pad, d.h, pad, d.w, inside)
  if wp > pad + inside then w.line("memset(row + %d, 0, sizeof(float) * %d);", pad + inside, wp - pad - inside) end
  w.close()
  w.close()
  w.close()
end

-- One register tile of n pixels at (oy, ox) for block cb. The kernel
-- columns are the outer loop, the kernel rows and input channels (row =
-- ky * C + j) the inner one, so that consecutive inner iterations read
-- different input values: each is broadcast from memory (a load). Where the
-- next iteration read a value again (the kernel columns inner, or
-- unrolled), the compiler kept it in a scalar register and broadcast it on
-- the shuffle port the multiply-adds need (make bench, per layer: the 7x7
-- stride-2 stem at 44% of the peak unrolled, 37% with the columns inner,
-- 85-92% so).
local function tile_body(w, k, d, n)
  local K, s, C, B = d.size, d.stride, d.cin, d.bt.block
  local vec = blocked.vec(B)
  local acc, xs = {}, {}
  for p = 0, n - 1 do
    acc[#acc + 1] = string.format("a_%d = z", p)
    xs[#xs + 1] = "x" .. p
  end
  w.line("%s w, %s;", vec.t, table.concat(acc, ", "))
  w.line("float %s;", table.concat(xs, ", "))
  w.open("for (kx = 0; kx < %d; ++kx) {", K)
  w.line("const float *xr = xp + %d * oy * %d + %d * ox + kx;", s * C, d.padded.w, s)
  w.line("const float *wr = %s_WB + cb * %d + kx * %d;", d.P, K * K * C * B, K * C * B)
  w.open("for (row = 0; row < %d; ++row) {", K * C)
  local loads, fmas = { string.format("w = %s(wr + row * %d)", vec.load, B) }, {}
  for p = 0, n - 1 do
    loads[#loads + 1] = string.format("x%d = xr[row * %d + %d]", p, d.padded.w, s * p)
    fmas[#fmas + 1] = string.format("a_%d += w * x%d;", p, p)
  end
  w.line("%s;", table.concat(loads, "; "))
  w.line(table.concat(fmas, " "))
  w.close()
  w.close()
  local bias = d.biased and string.format(" + %s(%s_BB + cb * %d)", vec.load, d.P, B) or ""
  for p = 0, n - 1 do
    blocked.store(w, k, d, string.format("a_%d%s", p, bias), 0, string.format("oy * %d + ox + %d", d.wo, p))
  end
end

function M.emit(k, ctx)
  local a, node = k.node.attrs, k.node
  local P, fn = layer.names(k, ctx)
  local d = {
    P = P, bt = k.bt, size = a.k, stride = a.stride, pad = a.pad, cin = a.cin,
    h = k.in_shape[2], w = k.in_shape[3], ho = node.shape[2], wo = node.shape[3],
    padded = k.bt.padded, biased = k.w.BB ~= nil,
    out_blocked = k.layout.output, channels = a.out,
  }
  local bt = k.bt
  local w = layer.new_writer()
  layer.macros(w, P, {
    { "C", a.cin }, { "H", d.h }, { "W", d.w }, { "CO", a.out }, { "HO", d.ho }, { "WO", d.wo },
    { "S", a.stride },
  }, k)
  w.line("")
  w.line("static void %s_pad(const float *x, float *xp)", fn)
  w.open("{")
  pad_input(w, d)
  w.close()
  w.line("")
  w.line("static void %s_out(const float *xp, %sfloat *y%s)", fn, k.residual and "const float *r, " or "", layer.weight_param(k))
  w.open("{")
  w.line("const %s z = {0};", blocked.vec(bt.block).t)
  w.line("int cb, oy, ox, kx, row;")
  vtile.parallel(w, "oy, ox, kx, row")
  w.open("for (cb = 0; cb < %d; ++cb) {", blocks.padded(a.out, bt.block) // bt.block)
  w.open("for (oy = 0; oy < %d; ++oy) {", d.ho)
  local whole = d.wo // bt.pixels * bt.pixels
  if whole > 0 then
    w.open("for (ox = 0; ox < %d; ox += %d) {", whole, bt.pixels)
    tile_body(w, k, d, bt.pixels)
    w.close()
  end
  if whole < d.wo then
    w.open("{")
    w.line("ox = %d;", whole)
    tile_body(w, k, d, d.wo - whole)
    w.close()
  end
  w.close()
  w.close()
  w.close()
  w.line("")
  local call = layer.wrapper(w, fn, P, k, ctx, blocked.sizes(k, a.cin, d.h * d.w, a.out, d.ho * d.wo), function()
    w.line("%s_pad(xn, scratch);", fn)
    w.line("%s_out(scratch, %syn, wt);", fn, k.residual and "rn, " or "")
  end)
  return { text = w.text(), call = call }
end

return M
