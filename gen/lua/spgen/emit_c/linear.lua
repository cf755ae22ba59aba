-- C for a linear layer (batchnorm folded, relu and residual in the store):
-- 4 outputs at a time share each input load. Over a blocked input (k.gemv)
-- a GEMV in vectors of B outputs instead.
local layer = require("spgen.emit_c.layer")
local blocked = require("spgen.emit_c.blocked")
local blocks = require("spgen.blocks")
local vtile = require("spgen.emit_c.vtile")

local M = {}

-- The GEMV: tiles of nb blocks of B outputs, weights from the packed
-- WB[tile][in][block][lane] in one stream, each input broadcast into the
-- multiply-adds of every block; two accumulators a block (even and odd
-- inputs), so that 2 nb chains of multiply-adds hide their latency. The
-- output is flat, stored lane by lane without the last block's padding.
local function gemv_out(w, k, P)
  local a, B, nb = k.node.attrs, k.gemv.block, k.gemv.blocks
  local vec = blocked.vec(B)
  local out_blocks = blocks.padded(a.out, B) // B
  w.line("const %s z = {0};", vec.t)
  w.line("int cb, i;")
  vtile.parallel(w, "i")
  w.open("for (cb = 0; cb < %d; cb += %d) {", out_blocks, nb)
  local decl = {}
  for b = 0, nb - 1 do decl[#decl + 1] = string.format("a_%d_0 = z, a_%d_1 = z", b, b) end
  w.line("%s %s;", vec.t, table.concat(decl, ", "))
  w.line("const float *wc = %s_WB + cb * %d;", P, a.cin * B)
  local function step(lines, x, half, at)
    for b = 0, nb - 1 do
      lines[#lines + 1] = string.format("a_%d_%d += %s(wc + %d) * %s;", b, half, vec.load, at + b * B, x)
    end
  end
  local pairs_end = a.cin - a.cin % 2
  if pairs_end > 0 then
    w.open("for (i = 0; i < %d; i += 2) {", pairs_end)
    w.line("const float x0 = x[i], x1 = x[i + 1];")
    local t = {}
    step(t, "x0", 0, 0)
    step(t, "x1", 1, nb * B)
    w.line(table.concat(t, " "))
    w.line("wc += %d;", 2 * nb * B)
    w.close()
  end
  if a.cin % 2 == 1 then
    local t = { string.format("const float x0 = x[%d];", a.cin - 1) }
    step(t, "x0", 0, 0)
    w.line("{ %s }", table.concat(t, " "))
  end
  for b = 0, nb - 1 do
    local bias = k.w.BB and string.format(" + %s(%s_BB + (cb + %d) * %d)", vec.load, P, b, B) or ""
    local value = string.format("a_%d_0 + a_%d_1%s", b, b, bias)
    w.line("{ %s v = %s; int l;", vec.t, value)
    w.open("for (l = 0; l < %d; ++l) {", B)
    w.line("const int c = (cb + %d) * %d + l;", b, B)
    w.open("if (c < %d) {", a.out)
    local lane = { "float s = v[l];" }
    if k.residual then lane[#lane + 1] = "s += r[c];" end
    if k.relu then lane[#lane + 1] = "s = s > 0.0f ? s : 0.0f;" end
    lane[#lane + 1] = "y[c] = s;"
    w.line(table.concat(lane, " "))
    w.close()
    w.close()
    w.line("}")
  end
  w.close()
end

-- The portable body: 4 outputs at a time share each input load.
local function scalar_out(w, k, P)
  local a = k.node.attrs
  w.line("int c0, i;")
  w.line("const int oy = 0, ox = 0;")
  local nt = math.min(4, a.out)
  local function block(nc)
    local accs = {}
    for c = 0, nc - 1 do accs[#accs + 1] = string.format("a_%d_0 = 0.0f", c) end
    w.line("float %s;", table.concat(accs, ", "))
    w.open("for (i = 0; i < %s_IN; ++i) {", P)
    local t = { "const float xi = x[i];" }
    for c = 0, nc - 1 do t[#t + 1] = string.format("a_%d_0 += %s_WT[(c0 + %d) * %s_IN + i] * xi;", c, P, c, P) end
    w.line(table.concat(t, " "))
    w.close()
    for c = 0, nc - 1 do
      local bias = k.w.B and string.format(" + %s_B[c0 + %d]", P, c) or ""
      layer.store(w, P, k, string.format("a_%d_0%s", c, bias), c, 0)
    end
  end
  local full = a.out // nt * nt
  w.open("for (c0 = 0; c0 < %d; c0 += %d) {", full, nt)
  block(nt)
  w.close()
  if full < a.out then
    w.open("{")
    w.line("c0 = %d;", full)
    block(a.out - full)
    w.close()
  end
end

function M.emit(k, ctx)
  local a = k.node.attrs
  local P, fn = layer.names(k, ctx)
  local w = layer.new_writer()
  layer.macros(w, P, { { "IN", a.cin }, { "OUT", a.out }, { "HO", 1 }, { "WO", 1 } }, k)
  w.line("")
  w.line("static void %s_out(const float *x, %sfloat *y%s)", fn, k.residual and "const float *r, " or "", layer.weight_param(k))
  w.open("{")
  if k.gemv then gemv_out(w, k, P) else scalar_out(w, k, P) end
  w.close()
  w.line("")
  -- a blocked input is one pixel (tiling.lua): the features padded at its end
  local call = layer.wrapper(w, fn, P, k, ctx, blocked.sizes(k, a.cin, 1, a.out, 1), function()
    w.line("%s_out(xn, %syn, wt);", fn, k.residual and "rn, " or "")
  end)
  return { text = w.text(), call = call }
end

return M
