-- C for one SPConv layer in the one-pass form (DESIGN.md section 1):
-- per sample, (1) window and channel sums of the input, (2) the branch means
-- and softmax from those sums, (3) one pass over the output in register tiles
-- with the epilogue fused. Neither branch map is ever stored.
local tile = require("spgen.emit_c.tile")
local layer = require("spgen.emit_c.layer")

local M = {}

local function stats(w, d)
  local P = d.P
  w.line("/* Window sums T[ci][ky][kx] of the representative channels (what the mean of the")
  w.line("   3x3 branch needs) and channel sums S[ci], in one read of the input. */")
  w.line("static void %s_stats(const float *x, float *t, float *sum)", d.fn)
  w.open("{")
  w.line("int c, i, j;")
  w.open("for (c = 0; c < %s_C; ++c) {", P)
  w.line("const float *p = x + c * %s_H * %s_W;", P, P)
  if d.s == 1 then
    -- c0/c2: a row's sum without its last/first column; rows likewise
    w.line("float all0 = 0.0f, all1 = 0.0f, all2 = 0.0f, f0 = 0.0f, f1 = 0.0f, f2 = 0.0f, c0 = 0.0f, c1 = 0.0f, c2 = 0.0f;")
    w.open("for (i = 0; i < %s_H; ++i) {", P)
    w.line("const float *row = p + i * %s_W;", P)
    w.line("float rs = 0.0f;")
    w.line("for (j = 0; j < %s_W; ++j)", P)
    w.line("    rs += row[j];")
    w.line("c0 = rs - row[%s_W - 1]; c1 = rs; c2 = rs - row[0];", P)
    w.line("if (i == 0) { f0 = c0; f1 = c1; f2 = c2; }")
    w.line("all0 += c0; all1 += c1; all2 += c2;")
    w.close()
    w.line("sum[c] = all1;")
    w.open("if (c < %s_R) {", P)
    w.line("float *tc = t + c * 9;")
    w.line("tc[0] = all0 - c0; tc[1] = all1 - c1; tc[2] = all2 - c2; /* rows 0 .. H-2 */")
    w.line("tc[3] = all0; tc[4] = all1; tc[5] = all2;")
    w.line("tc[6] = all0 - f0; tc[7] = all1 - f1; tc[8] = all2 - f2; /* rows 1 .. H-1 */")
    w.close()
  else
    -- stride 2, H and W even: taps read odd or even rows/columns
    w.line("float ev0 = 0.0f, ev1 = 0.0f, ev2 = 0.0f, od0 = 0.0f, od1 = 0.0f, od2 = 0.0f, l0 = 0.0f, l1 = 0.0f, l2 = 0.0f;")
    w.open("for (i = 0; i < %s_H; i += 2) {", P)
    w.line("const float *re = p + i * %s_W, *ro = re + %s_W;", P, P)
    w.line("float e0 = 0.0f, o0 = 0.0f, e1 = 0.0f, o1 = 0.0f;")
    w.open("for (j = 0; j < %s_W; j += 2) {", P)
    w.line("e0 += re[j]; o0 += re[j + 1]; e1 += ro[j]; o1 += ro[j + 1];")
    w.close()
    w.line("/* column taps: kx = 0 odd columns but the last, 1 even, 2 odd */")
    w.line("ev0 += o0 - re[%s_W - 1]; ev1 += e0; ev2 += o0;", P)
    w.line("l0 = o1 - ro[%s_W - 1]; l1 = e1; l2 = o1;", P)
    w.line("od0 += l0; od1 += l1; od2 += l2;")
    w.close()
    w.line("sum[c] = ev1 + ev2 + od1 + od2;")
    w.open("if (c < %s_R) {", P)
    w.line("float *tc = t + c * 9;")
    w.line("tc[0] = od0 - l0; tc[1] = od1 - l1; tc[2] = od2 - l2; /* odd rows but the last */")
    w.line("tc[3] = ev0; tc[4] = ev1; tc[5] = ev2; /* even rows */")
    w.line("tc[6] = od0; tc[7] = od1; tc[8] = od2; /* odd rows */")
    w.close()
  end
  w.close()
  w.close()
end

local function attend(w, d)
  local P = d.P
  w.line("/* Branch means from the sums (the mean of a linear map is the map of the sums),")
  w.line("   softmax over the two branches, and the per-channel epilogue coefficients. */")
  w.line("static void %s_attend(const float *t, const float *sum, float *al3, float *al1, float *be)", d.fn)
  w.open("{")
  w.line("int c, j, ci;")
  w.open("for (c = 0; c < %s_CO; ++c) {", P)
  w.line("const float *g = %s_G + c * %s_RG * 9;", P, P)
  w.line("const float *tg = t + c / %s_CG * %s_RG * 9;", P, P)
  w.line("const float *q = %s_Q + c * %s_C;", P, P)
  w.line("float m3 = 0.0f, m1 = 0.0f, e, w3, w1;")
  w.line("for (j = 0; j < %s_RG * 9; ++j)", P)
  w.line("    m3 += g[j] * tg[j];")
  w.line("for (ci = 0; ci < %s_R; ++ci)", P)
  w.line("    m3 += q[ci] * sum[ci];")
  w.line("for (ci = %s_R; ci < %s_C; ++ci)", P, P)
  w.line("    m1 += q[ci] * sum[ci];")
  w.line("m3 = m3 / (float)(%s_HO * %s_WO) + %s_B3[c];", P, P, P)
  w.line("m1 = m1 / (float)(%s_HO * %s_WO) + %s_B1[c];", P, P, P)
  w.line("/* exp of the non-positive difference only: never overflows */")
  w.open("if (m3 >= m1) {")
  w.line("e = expf(m1 - m3); w3 = 1.0f / (1.0f + e); w1 = e * w3;")
  w.reopen("} else {")
  w.line("e = expf(m3 - m1); w1 = 1.0f / (1.0f + e); w3 = e * w1;")
  w.close()
  if d.post then
    w.line("al3[c] = %s_PA[c] * w3; al1[c] = %s_PA[c] * w1;", P, P)
    w.line("be[c] = %s_PA[c] * (w3 * %s_B3[c] + w1 * %s_B1[c]) + %s_PB[c];", P, P, P, P)
  else
    w.line("al3[c] = w3; al1[c] = w1; be[c] = w3 * %s_B3[c] + w1 * %s_B1[c];", P, P)
  end
  w.close()
  w.close()
end

local function output_pass(w, d, k)
  local P = d.P
  w.line("/* The one pass over the output: both branches accumulate in registers. */")
  w.line("static void %s_out(const float *x, %sconst float *al3, const float *al1, const float *be, float *y)",
    d.fn, k.residual and "const float *r, " or "")
  w.open("{")
  w.line("int c0, oy, ox, j, ci;")
  local cg = d.co // d.groups
  for grp = 0, d.groups - 1 do
    w.line("/* group %d: output channels %d..%d, representative inputs %d..%d */",
      grp, grp * cg, (grp + 1) * cg - 1, grp * d.rg, (grp + 1) * d.rg - 1)
    -- GWC with the PWC merged into its taps over the group's channels; the
    -- PWC of the other representative channels into a3, CONV1x1 into a1
    d.parts = {
      { kind = "window", acc = "a3", count = P .. "_RG", xbase = tostring(grp * d.rg), w = P .. "_G", wchan = P .. "_RG * 9" },
      { kind = "point", acc = "a3", lo = 0, hi = grp * d.rg, w = P .. "_Q", wchan = P .. "_C", pool = d.s == 2 },
      { kind = "point", acc = "a3", lo = (grp + 1) * d.rg, hi = d.r, w = P .. "_Q", wchan = P .. "_C", pool = d.s == 2 },
      { kind = "point", acc = "a1", lo = d.r, hi = d.c, w = P .. "_Q", wchan = P .. "_C", pool = d.s == 2 },
    }
    tile.channels(w, d, grp * cg, (grp + 1) * cg, math.min(tile.CT, cg))
  end
  w.close()
end

-- Emits the layer's macros and functions; returns { text, call = fn(ptrs) }.
function M.emit(k, ctx)
  local a, node = k.node.attrs, k.node
  local P, fn = layer.names(k, ctx)
  local d = {
    P = P, fn = fn, c = a.cin, r = a.r, co = a.out, groups = a.groups, rg = a.r // a.groups,
    s = a.stride, post = k.bn ~= nil, k = 3, pad = 1, accs = { "a3", "a1" },
    h = k.in_shape[2], w = k.in_shape[3], ho = node.shape[2], wo = node.shape[3], lanes = ctx.simd,
  }
  d.store = function(w, c, p, lanes)
    layer.store(w, P, k, string.format("al3[c0 + %d] * a3_%d_%d + al1[c0 + %d] * a1_%d_%d + be[c0 + %d]",
      c, c, p, c, c, p, c), c, p, lanes)
  end
  local w = layer.new_writer()
  layer.macros(w, P, {
    { "C", d.c }, { "R", d.r }, { "H", d.h }, { "W", d.w }, { "S", d.s }, { "CO", d.co },
    { "HO", d.ho }, { "WO", d.wo }, { "RG", d.rg }, { "CG", d.co // d.groups },
  }, k, ctx)
  w.line("")
  stats(w, d)
  w.line("")
  attend(w, d)
  w.line("")
  output_pass(w, d, k)
  w.line("")
  local call = layer.wrapper(w, fn, P, k, ctx,
    { input = d.c * d.h * d.w, output = d.co * d.ho * d.wo, channels = d.co }, function()
      w.line("float *t = scratch, *sum = t + %s_R * 9, *al3 = sum + %s_C, *al1 = al3 + %s_CO, *be = al1 + %s_CO;",
        P, P, P, P)
      w.line("%s_stats(xn, t, sum);", fn)
      w.line("%s_attend(t, sum, al3, al1, be);", fn)
      w.line("%s_out(xn, %sal3, al1, be, yn);", fn, k.residual and "rn, " or "")
    end)
  return { text = w.text(), call = call }
end

return M
