-- C for one SPConv layer in the one-pass form (DESIGN.md section 1):
-- per sample, (1) window and channel sums of the input, (2) the branch means
-- and softmax from those sums, (3) one pass over the output in register tiles
-- of output channels x pixels, 3x3 window written out, epilogue fused.
-- Neither branch map is ever stored.
local writer = require("spgen.writer")

local M = {}

local CT, PT = 4, 4 -- register tile: output channels x output pixels

-- Runs of consecutive output positions whose valid-tap sets are equal:
-- { {first, last_excl, valid = {tap 0..2 -> bool}}, ... }
local function runs(n_out, n_in, s)
  local list = {}
  for o = 0, n_out - 1 do
    local valid, key = {}, ""
    for t = 0, 2 do
      local i = s * o + t - 1
      valid[t] = i >= 0 and i < n_in
      key = key .. (valid[t] and "1" or "0")
    end
    local last = list[#list]
    if last and last.key == key then last.stop = o + 1
    else list[#list + 1] = { start = o, stop = o + 1, key = key, valid = valid } end
  end
  return list
end

-- One register tile: nc channels from c0, np pixels from (oy, ox).
local function tile(w, d, grp, nc, np, ky_ok, kx_ok)
  local P = d.P
  w.open("{")
  local acc = {}
  for k = 0, nc - 1 do
    for p = 0, np - 1 do acc[#acc + 1] = string.format("a3_%d_%d = 0.0f, a1_%d_%d = 0.0f", k, p, k, p) end
  end
  w.line("float %s;", table.concat(acc, ", "))
  local xs, ws = {}, {}
  for p = 0, np - 1 do xs[#xs + 1] = "x" .. p end
  for k = 0, nc - 1 do ws[#ws + 1] = "w" .. k end
  w.line("float %s, %s;", table.concat(xs, ", "), table.concat(ws, ", "))
  w.line("const int o = (%s_S * oy - 1) * %s_W + %s_S * ox - 1; /* top-left tap of pixel 0 */", P, P, P)
  -- 3x3 over the in-group representative channels (GWC with PWC merged)
  w.open("for (j = 0; j < %s_RG; ++j) {", P)
  w.line("const float *xc = x + (%d + j) * %s_H * %s_W;", grp * d.rg, P, P)
  w.line("const float *wc = %s_G + (c0 * %s_RG + j) * 9;", P, P)
  for ky = 0, 2 do
    for kx = 0, 2 do
      if ky_ok[ky] and kx_ok[kx] then
        local tap = ky * 3 + kx
        local loads = {}
        for p = 0, np - 1 do
          loads[#loads + 1] = string.format("x%d = xc[o + %d * %s_W + %d]", p, ky, P, kx + d.s * p)
        end
        for k = 0, nc - 1 do
          loads[#loads + 1] = string.format("w%d = wc[%d * %s_RG * 9 + %d]", k, k, P, tap)
        end
        w.line("%s;", table.concat(loads, "; "))
        local fmas = {}
        for k = 0, nc - 1 do
          for p = 0, np - 1 do fmas[#fmas + 1] = string.format("a3_%d_%d += w%d * x%d;", k, p, k, p) end
        end
        w.line(table.concat(fmas, " "))
      end
    end
  end
  w.close()
  -- 1x1 over the other channels: PWC outside the group into a3, CONV1x1 into a1
  local ranges = {}
  if grp > 0 then ranges[#ranges + 1] = { 0, grp * d.rg, "a3" } end
  if (grp + 1) * d.rg < d.r then ranges[#ranges + 1] = { (grp + 1) * d.rg, d.r, "a3" } end
  ranges[#ranges + 1] = { d.r, d.c, "a1" }
  for _, rg in ipairs(ranges) do
    w.open("for (ci = %d; ci < %d; ++ci) {", rg[1], rg[2])
    w.line("const float *xc = x + ci * %s_H * %s_W + %s_S * (oy * %s_W + ox);", P, P, P, P)
    w.line("const float *wc = %s_Q + c0 * %s_C + ci;", P, P)
    local loads = {}
    for p = 0, np - 1 do
      if d.s == 1 then
        loads[#loads + 1] = string.format("x%d = xc[%d]", p, p)
      else -- the 2x2 average pool; its 1/4 is folded into Q
        loads[#loads + 1] = string.format("x%d = xc[%d] + xc[%d] + xc[%s_W + %d] + xc[%s_W + %d]",
          p, 2 * p, 2 * p + 1, P, 2 * p, P, 2 * p + 1)
      end
    end
    for k = 0, nc - 1 do loads[#loads + 1] = string.format("w%d = wc[%d * %s_C]", k, k, P) end
    w.line("%s;", table.concat(loads, "; "))
    local fmas = {}
    for k = 0, nc - 1 do
      for p = 0, np - 1 do fmas[#fmas + 1] = string.format("%s_%d_%d += w%d * x%d;", rg[3], k, p, k, p) end
    end
    w.line(table.concat(fmas, " "))
    w.close()
  end
  -- epilogue: softmax-weighted branches, fused BN and ReLU, one store
  for k = 0, nc - 1 do
    for p = 0, np - 1 do
      local v = string.format("al3[c0 + %d] * a3_%d_%d + al1[c0 + %d] * a1_%d_%d + be[c0 + %d]", k, k, p, k, k, p, k)
      if d.relu then
        w.line("{ const float v = %s; y[(c0 + %d) * %s_HO * %s_WO + oy * %s_WO + ox + %d] = v > 0.0f ? v : 0.0f; }",
          v, k, P, P, P, p)
      else
        w.line("y[(c0 + %d) * %s_HO * %s_WO + oy * %s_WO + ox + %d] = %s;", k, P, P, P, p, v)
      end
    end
  end
  w.close()
end

local function columns(w, d, grp, nc, ky_ok)
  for _, run in ipairs(d.col_runs) do
    local n = run.stop - run.start
    local full = n // PT * PT
    if full > 0 then
      w.open("for (ox = %d; ox < %d; ox += %d) {", run.start, run.start + full, PT)
      tile(w, d, grp, nc, PT, ky_ok, run.valid)
      w.close()
    end
    if n > full then
      w.line("ox = %d;", run.start + full)
      tile(w, d, grp, nc, n - full, ky_ok, run.valid)
    end
  end
end

local function rows(w, d, grp, nc)
  for _, run in ipairs(d.row_runs) do
    if run.stop - run.start == 1 then
      w.line("oy = %d;", run.start)
      columns(w, d, grp, nc, run.valid)
    else
      w.open("for (oy = %d; oy < %d; ++oy) {", run.start, run.stop)
      columns(w, d, grp, nc, run.valid)
      w.close()
    end
  end
end

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

local function output_pass(w, d)
  w.line("/* The one pass over the output: both branches accumulate in registers. */")
  w.line("static void %s_out(const float *restrict x, const float *restrict al3, const float *restrict al1,", d.fn)
  w.line("    const float *restrict be, float *restrict y)")
  w.open("{")
  w.line("int c0, oy, ox, j, ci;")
  local cg = d.co // d.groups
  local nct = math.min(CT, cg)
  for grp = 0, d.groups - 1 do
    local first, stop = grp * cg, (grp + 1) * cg
    local full = first + (cg // nct) * nct
    w.line("/* group %d: output channels %d..%d, representative inputs %d..%d */",
      grp, first, stop - 1, grp * d.rg, (grp + 1) * d.rg - 1)
    w.open("for (c0 = %d; c0 < %d; c0 += %d) {", first, full, nct)
    rows(w, d, grp, nct)
    w.close()
    if full < stop then
      w.line("c0 = %d;", full)
      rows(w, d, grp, stop - full)
    end
  end
  w.close()
end

-- Emits the layer's macros and functions; returns { defs = text, call = fn(in, out, scratch) }.
function M.emit(k, ctx)
  local a, node = k.node.attrs, k.node
  local P = string.upper(ctx.prefix) .. "_L" .. k.index
  local d = {
    P = P, fn = ctx.prefix .. "_l" .. k.index, c = a.cin, r = a.r, co = a.out, groups = a.groups,
    rg = a.r // a.groups, s = a.stride, relu = k.relu, post = k.bn ~= nil,
    h = k.in_shape[2], w = k.in_shape[3], ho = node.shape[2], wo = node.shape[3],
  }
  d.row_runs = runs(d.ho, d.h, d.s)
  d.col_runs = runs(d.wo, d.w, d.s)
  local w = writer.new()
  local macros = {
    { "C", d.c }, { "R", d.r }, { "H", d.h }, { "W", d.w }, { "S", d.s }, { "CO", d.co },
    { "HO", d.ho }, { "WO", d.wo }, { "RG", d.rg }, { "CG", d.co // d.groups },
  }
  for _, m in ipairs(macros) do w.line("#define %s_%s %d", P, m[1], m[2]) end
  local names = {}
  for name in pairs(k.w) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    w.line("#define %s_%s (%s_weights + %d)", P, name, ctx.prefix, k.w[name])
  end
  w.line("")
  stats(w, d)
  w.line("")
  attend(w, d)
  w.line("")
  output_pass(w, d)
  w.line("")
  w.line("static void %s(const float *x, float *y, float *scratch)", d.fn)
  w.open("{")
  w.line("float *t = scratch, *sum = t + %s_R * 9, *al3 = sum + %s_C, *al1 = al3 + %s_CO, *be = al1 + %s_CO;", P, P, P, P)
  w.line("int n;")
  w.open("for (n = 0; n < %d; ++n) {", ctx.batch)
  w.line("const float *xn = x + n * %s_C * %s_H * %s_W;", P, P, P)
  w.line("%s_stats(xn, t, sum);", d.fn)
  w.line("%s_attend(t, sum, al3, al1, be);", d.fn)
  w.line("%s_out(xn, al3, al1, be, y + n * %s_CO * %s_HO * %s_WO);", d.fn, P, P, P)
  w.close()
  w.close()
  return {
    text = w.text(),
    call = function(x, y, scratch) return string.format("%s(%s, %s, %s);", d.fn, x, y, scratch) end,
  }
end

return M
