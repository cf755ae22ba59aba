-- C for one SPConv layer in the one-pass form (docs/design.md, "The one-pass form"):
-- per sample, (1) window and channel sums of the input, (2) the branch means
-- and softmax from those sums, (3) one pass over the output in register tiles
-- with the epilogue fused. Neither branch map is ever stored.
local tile = require("spgen.emit_c.tile")
local layer = require("spgen.emit_c.layer")
local attention = require("spgen.attention")
local vtile = require("spgen.emit_c.vtile")
local lower = require("spgen.lower")
local blocked = require("spgen.emit_c.blocked")
local blocks = require("spgen.blocks")

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
  if d.stride == 1 then
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

-- The widest vector of at most d.vlanes floats that divides n (0: none).
local function lanes_for(d, n)
  local L = d.vlanes or 0
  while L >= 4 and n % L ~= 0 do L = L // 2 end
  return L >= 4 and L or 0
end

-- The window sums from column sums kept in vectors: per channel the column
-- sums of the row classes the taps combine (stride 1: all rows, the first,
-- the last; stride 2: even rows, odd rows, the last, which is odd) and of
-- each its total, even-column part, first and last column.
local ROWS = {
  [1] = { "(%s[0] - %s[2])", "%s[0]", "(%s[0] - %s[1])" }, -- all but the last, all, all but the first
  [2] = { "(%s[1] - %s[2])", "%s[0]", "%s[1]" }, -- odd but the last, even, odd
}

local function stats_vec(w, d, L)
  local P, nv, W, H = d.P, d.w // L, d.w, d.h
  w.line("/* Window sums T[ci][ky][kx] of the representative channels and channel sums S[ci],")
  w.line("   from column sums of the input added up in vectors of %d. */", L)
  w.line("static void %s_stats(const float *x, float *t, float *sum)", d.fn)
  w.open("{")
  w.line("int c, i, k, v;")
  w.open("for (c = 0; c < %s_C; ++c) {", P)
  w.line("const float *p = x + c * %s_H * %s_W;", P, P)
  w.line("spgen_f%d e[%d], o[%d]; /* even rows, odd rows */", L, nv, nv)
  local part = d.stride == 1 and "first" or "ev" -- the other column class the taps need
  w.line("float col[3][%d], tot[3], %s[3], last[3];", W, part)
  w.open("for (k = 0; k < %d; ++k) {", nv)
  w.line("e[k] = spgen_ld%d(p + k * %d);", L, L)
  w.line("o[k] = spgen_ld%d(p + %d + k * %d);", L, W, L)
  w.close()
  w.open("for (i = 2; i < %d; i += 2) {", H - 1)
  w.open("for (k = 0; k < %d; ++k) {", nv)
  w.line("e[k] += spgen_ld%d(p + i * %d + k * %d);", L, W, L)
  w.line("o[k] += spgen_ld%d(p + (i + 1) * %d + k * %d);", L, W, L)
  w.close()
  w.close()
  if H % 2 == 1 then
    w.line("for (k = 0; k < %d; ++k)", nv)
    w.line("    e[k] += spgen_ld%d(p + %d + k * %d);", L, (H - 1) * W, L)
  end
  if d.stride == 1 then
    w.line("for (k = 0; k < %d; ++k)", nv)
    w.line("    e[k] += o[k];")
    w.line("memcpy(col[0], e, sizeof col[0]); /* all rows */")
    w.line("memcpy(col[1], p, sizeof col[1]); /* the first row */")
  else
    w.line("memcpy(col[0], e, sizeof col[0]);")
    w.line("memcpy(col[1], o, sizeof col[1]);")
  end
  w.line("memcpy(col[2], p + %d, sizeof col[2]); /* the last row */", (H - 1) * W)
  w.open("for (v = 0; v < 3; ++v) {")
  w.line("float s0 = 0.0f, s1 = 0.0f;")
  w.open("for (i = 0; i < %d; i += 2) {", W)
  w.line("s0 += col[v][i]; s1 += col[v][i + 1];")
  w.close()
  w.line("tot[v] = s0 + s1; %s[v] = %s; last[v] = col[v][%d];", part, d.stride == 1 and "col[v][0]" or "s0", W - 1)
  w.close()
  w.line("sum[c] = %s;", d.stride == 1 and "tot[0]" or "tot[0] + tot[1]")
  w.open("if (c < %s_R) {", P)
  w.line("float *tc = t + c * 9;")
  for ky = 1, 3 do
    local function r(name) return string.format(ROWS[d.stride][ky], name, name) end
    if d.stride == 1 then -- columns: all but the last, all, all but the first
      w.line("tc[%d] = %s - %s; tc[%d] = %s; tc[%d] = %s - %s;", 3 * ky - 3, r("tot"), r("last"),
        3 * ky - 2, r("tot"), 3 * ky - 1, r("tot"), r("first"))
    else -- columns: odd but the last, even, odd
      w.line("tc[%d] = %s - %s - %s; tc[%d] = %s; tc[%d] = %s - %s;", 3 * ky - 3, r("tot"), r("ev"), r("last"),
        3 * ky - 2, r("ev"), 3 * ky - 1, r("tot"), r("ev"))
    end
  end
  w.close()
  w.close()
  w.close()
end

-- acc += the dot product of a[0..n) and b[0..n): in vectors of the widest
-- lanes that divide n when the layer is vectorized (the scalar chain is
-- latency-bound: CO chains of RG*9 + C each), else a plain loop.
local function dot(w, d, acc, a, b, n, var)
  local L = lanes_for(d, n)
  if L == 0 then
    w.line("for (%s = 0; %s < %d; ++%s)", var, var, n, var)
    w.line("    %s += %s[%s] * %s[%s];", acc, a, var, b, var)
    return
  end
  w.open("{")
  w.line("spgen_f%d s = {0};", L)
  w.line("for (%s = 0; %s < %d; %s += %d)", var, var, n, var, L)
  w.line("    s += spgen_ld%d(%s + %s) * spgen_ld%d(%s + %s);", L, a, var, L, b, var)
  local function tree(lo, hi)
    if lo == hi then return string.format("s[%d]", lo) end
    local mid = (lo + hi) // 2
    return "(" .. tree(lo, mid) .. " + " .. tree(mid + 1, hi) .. ")"
  end
  w.line("%s += %s;", acc, tree(0, L - 1))
  w.close()
end

-- The coefficients of output channel `c` (a C expression; its group's
-- window sums at tg): branch means from the sums (the mean of a linear map is
-- the map of the sums), the softmax over the two branches, and the store's
-- scales and shift, assigned to the lvalues o.a3, o.a1, o.be.
local function coefficients(w, d, c, tg, o)
  local P, size = d.P, d.conv.sizes
  local rg9, r = size.group_inputs * 9, size.representative
  w.line("const float *g = %s_G + %s * %d, *tg = %s, *q = %s_Q + %s * %d;", P, c, rg9, tg, P, c, size.in_channels)
  w.line("float m3 = 0.0f, m1 = 0.0f;")
  dot(w, d, "m3", "g", "tg", rg9, "j")
  dot(w, d, "m3", "q", "sum", r, "j")
  dot(w, d, "m1", "(q + " .. r .. ")", "(sum + " .. r .. ")", size.in_channels - r, "j")
  attention.emit(w, P, d.post, function(name) return string.format("%s_%s[%s]", P, name, c) end, o)
end

local function attend(w, d)
  w.line("/* Per output channel: the branch means, their softmax, the epilogue coefficients. */")
  w.line("static void %s_attend(const float *t, const float *sum, float *al3, float *al1, float *be, const float *wt)", d.fn)
  w.open("{")
  w.line("int c, j;")
  w.open("for (c = 0; c < %s_CO; ++c) {", d.P)
  coefficients(w, d, "c", string.format("t + c / %s_CG * %s_RG * 9", d.P, d.P), { a3 = "al3[c]", a1 = "al1[c]", be = "be[c]" })
  w.close()
  w.close()
end

local function group_comment(w, d, grp)
  local cg, rg = d.conv.sizes.out_channels // d.conv.groups, d.conv.sizes.group_inputs
  w.line("/* group %d: output channels %d..%d, representative inputs %d..%d */",
    grp, grp * cg, (grp + 1) * cg - 1, grp * rg, (grp + 1) * rg - 1)
end

local function output_pass(w, d, k)
  w.line("/* The one pass over the output: both branches accumulate in registers. */")
  w.line("static void %s_out(const float *x, %sconst float *al3, const float *al1, const float *be, float *y, const float *wt)",
    d.fn, k.residual and "const float *r, " or "")
  w.open("{")
  w.line("int c0, oy, ox, j, ci%s;", d.conv.groups > 1 and ", cr, g" or "")
  tile.groups(w, d)
  w.close()
end

-- The output pass in vector tiles (k.vt). The 3x3 branch (window and the
-- representative 1x1 taps) accumulates first and moves aside, then the
-- redundant 1x1 taps; the store combines them with the channel's softmax
-- weights. Those come from dot products over the tile's weight rows: before
-- the tiles, or, when one tile covers the plane, after its accumulation,
-- which has just brought the rows into cache.
local function vector_out(w, d, k)
  local P, vt = d.P, k.vt
  local rg9, plane = d.conv.sizes.group_inputs * 9, d.h * d.w
  local vec = vtile.vec(vt)
  w.line("/* The softmax and the one pass over the output, in vector tiles of %d x %d pixels x %d channels. */",
    vt.pixel_vectors, vt.geometry.lanes, vt.channels)
  w.line("static void %s_out(const float *x, %sconst float *t, const float *sum, float *y, const float *wt)",
    d.fn, k.residual and "const float *r, " or "")
  w.open("{")
  w.line("const %s z = {0};", vec.t)
  w.line("int c0, oy, ox, j, c;")
  local cg = d.conv.sizes.out_channels // d.conv.groups
  for grp = 0, d.conv.groups - 1 do
    group_comment(w, d, grp)
    vtile.parallel(w, "oy, ox, j, c")
    w.open("for (c0 = %d; c0 < %d; c0 += %d) {", grp * cg, (grp + 1) * cg, vt.channels)
    w.line("float s3[%d], s1[%d], be[%d];", vt.channels, vt.channels, vt.channels)
    local function softmax(wr)
      wr.open("for (c = 0; c < %d; ++c) {", vt.channels)
      coefficients(wr, d, "(c0 + c)", grp == 0 and "t" or string.format("t + %d", grp * rg9),
        { a3 = "s3[c]", a1 = "s1[c]", be = "be[c]" })
      wr.close()
    end
    local steps = vtile.steps(P, d.conv, grp, plane)
    if vtile.positions(vt) == 1 then steps.before_store = softmax else softmax(w) end
    vtile.plane(w, vt, steps, function(wr, c, p, idx, skip)
      layer.store_at(wr, k, string.format("s3[%d] * h_%d_%d + s1[%d] * a_%d_%d + be[%d]", c, c, p, c, c, p, c),
        c, idx, vec, skip)
    end)
    w.close()
  end
  w.close()
end

-- The sums of a blocked input, B channels to a vector: per row the column
-- classes the taps read (all but the last, all, all but the first), added
-- into the window sums of the kernel rows that read the row. At stride 2
-- (d.pooled) per pair of rows: the column classes odd but the last, even
-- and odd of each, and the 2x2 window sums written to xp, blocked, for the
-- 1x1 parts (blocked.lua's point_part).
-- Inside a loop over pairs of input rows i (block cb at p): the 2x2
-- window sums of the pair to xp, blocked, HO x WO; the statistics pass
-- declares its row sums (decl) and adds each window's four vectors a, b
-- (row i) and c, d (row i + 1) into them (also).
local function pool_rows(w, d, decl, also)
  local B, W, vec = d.bt.block, d.w, blocked.vec(d.bt.block)
  w.line("const float *re = p + i * %d, *ro = re + %d;", W * B, W * B)
  w.line("float *pr = xp + cb * %d + i / 2 * %d;", d.ho * d.wo * B, d.wo * B)
  if decl then w.line(decl) end
  w.open("for (j = 0; j < %d; j += 2) {", W)
  w.line("const %s a = %s(re + j * %d), b = %s(re + (j + 1) * %d), c = %s(ro + j * %d), d = %s(ro + (j + 1) * %d);",
    vec.t, vec.load, B, vec.load, B, vec.load, B, vec.load, B)
  w.line("const %s v = a + b + c + d;", vec.t)
  if also then w.line(also) end
  w.line("memcpy(pr + j / 2 * %d, &v, sizeof v);", B)
  w.close()
end

local function stats_blocked(w, d)
  local P, B, W, H = d.P, d.bt.block, d.w, d.h
  local vec = blocked.vec(B)
  w.line("/* Window sums T[ci][ky][kx] of the representative channels and channel sums S[ci]")
  if d.pooled then
    w.line("   of the blocked input, %d channels to a vector, in one read, and the 2x2 window sums", B)
    w.line("   of the input (the pooled input of the stride-2 1x1 parts), blocked, to xp. */")
    w.line("static void %s_stats(const float *x, float *t, float *sum, float *xp)", d.fn)
  else
    w.line("   of the blocked input, %d channels to a vector, in one read. */", B)
    w.line("static void %s_stats(const float *x, float *t, float *sum)", d.fn)
  end
  w.open("{")
  w.line("const %s z = {0};", vec.t)
  w.line("int cb, i, j, l;")
  vtile.parallel(w, "i, j, l")
  w.open("for (cb = 0; cb < %d; ++cb) {", blocks.padded(d.conv.sizes.in_channels, B) // B)
  w.line("const float *p = x + cb * %d;", H * W * B)
  w.line("%s t0 = z, t1 = z, t2 = z, t3 = z, t4 = z, t5 = z, t6 = z, t7 = z, t8 = z, all = z;", vec.t)
  w.line("float tv[9][%d], sv[%d];", B, B)
  if d.pooled then
    w.open("for (i = 0; i < %d; i += 2) {", H)
    pool_rows(w, d, string.format("%s e0 = z, o0 = z, e1 = z, o1 = z, c0;", vec.t), "e0 += a; o0 += b; e1 += c; o1 += d;")
    w.line("/* the even row: kernel row 1 */")
    w.line("c0 = o0 - %s(re + %d);", vec.load, (W - 1) * B)
    w.line("all += e0 + o0;")
    w.line("t3 += c0; t4 += e0; t5 += o0;")
    w.line("/* the odd row: kernel row 2, and row 0 but for the last row */")
    w.line("c0 = o1 - %s(ro + %d);", vec.load, (W - 1) * B)
    w.line("all += e1 + o1;")
    w.line("if (i != %d) { t0 += c0; t1 += e1; t2 += o1; }", H - 2)
    w.line("t6 += c0; t7 += e1; t8 += o1;")
    w.close()
  else
    w.open("for (i = 0; i < %d; ++i) {", H)
    w.line("const float *row = p + i * %d;", W * B)
    w.line("%s rs = z, c0, c2;", vec.t)
    w.line("for (j = 0; j < %d; ++j)", W)
    w.line("    rs += %s(row + j * %d);", vec.load, B)
    w.line("c0 = rs - %s(row + %d); c2 = rs - %s(row);", vec.load, (W - 1) * B, vec.load)
    w.line("all += rs;")
    w.line("if (i < %d) { t0 += c0; t1 += rs; t2 += c2; }", H - 1)
    w.line("t3 += c0; t4 += rs; t5 += c2;")
    w.line("if (i >= 1) { t6 += c0; t7 += rs; t8 += c2; }")
    w.close()
  end
  for tap = 0, 8 do w.line("memcpy(tv[%d], &t%d, sizeof t%d);", tap, tap, tap) end
  w.line("memcpy(sv, &all, sizeof all);")
  w.open("for (l = 0; l < %d; ++l) {", B)
  w.line("const int c = cb * %d + l;", B)
  w.line("if (c < %s_C)", P)
  w.line("    sum[c] = sv[l];")
  w.line("if (c < %s_R)", P)
  w.line("    for (j = 0; j < 9; ++j)")
  w.line("        t[c * 9 + j] = tv[j][l];")
  w.close()
  w.close()
  w.close()
end

-- The 2x2 window sums of a blocked input to xp, blocked, for the stride-2
-- 1x1 parts of an SPConv whose tiles need no statistics (d.from_tiles).
local function pool_blocked(w, d)
  local B, W, H = d.bt.block, d.w, d.h
  w.line("/* The 2x2 window sums of the blocked input (the pooled input of the stride-2 1x1 parts), to xp. */")
  w.line("static void %s_pool(const float *x, float *xp)", d.fn)
  w.open("{")
  w.line("int cb, i, j;")
  vtile.parallel(w, "i, j")
  w.open("for (cb = 0; cb < %d; ++cb) {", blocks.padded(d.conv.sizes.in_channels, B) // B)
  w.line("const float *p = x + cb * %d;", H * W * B)
  w.open("for (i = 0; i < %d; i += 2) {", H)
  pool_rows(w, d)
  w.close()
  w.close()
  w.close()
end

-- The output pass in blocked tiles (k.bt): per tile of output-channel
-- blocks, the softmax weights of its channels from the window sums (the
-- branch means as vector dot products with the blocked weight rows), then
-- both branches accumulate in registers and the store combines them.
local function blocked_out(w, d, k)
  local P, bt = d.P, k.bt
  local B, nb = bt.block, bt.blocks
  local size = d.conv.sizes
  local rg9, vec = size.group_inputs * 9, blocked.vec(B)
  local plane, from_tiles = d.ho * d.wo, d.from_tiles
  if from_tiles then
    w.line("/* The one pass over the output in blocked tiles of %d x %d channels x %d pixels, each channel", nb, B, bt.pixels)
    w.line("   tile's branch sums kept for its plane, then the softmax from their means, then the store. */")
  else
    w.line("/* The softmax and the one pass over the output, in blocked tiles of %d x %d channels x %d pixels. */",
      nb, B, bt.pixels)
  end
  w.line("static void %s_out(const float *x, %s%s%sfloat *y, const float *wt)", d.fn, d.pooled and "const float *xp, " or "",
    k.residual and "const float *r, " or "", from_tiles and "" or "const float *t, const float *sum, ")
  w.open("{")
  w.line("const %s z = {0};", vec.t)
  w.line("int cb, %s;", blocked.counters(d))
  local group_blocks = blocks.padded(size.out_channels // d.conv.groups, B) // B
  -- threads split the channel tiles, or where a group has fewer than 4 (an
  -- early layer) the rows of each, after its softmax weights (make bench,
  -- two threads against one: sp_resnet50's 64-channel SPConvs from 0.97x,
  -- on one thread, to 1.9x)
  d.split_rows = not bt.flat and group_blocks // nb < 4
  for grp = 0, d.conv.groups - 1 do
    group_comment(w, d, grp)
    d.group = grp
    if not d.split_rows then vtile.parallel(w, blocked.counters(d)) end
    w.open("for (cb = %d; cb < %d; cb += %d) {", grp * group_blocks, (grp + 1) * group_blocks, nb)
    w.line("float s3[%d], s1[%d], be[%d];", nb * B, nb * B, nb * B)
    if from_tiles then
      w.line("%s r3[%d], r1[%d]; /* the branch sums of the tile's channels over the plane */", vec.t, nb * plane, nb * plane)
      blocked.rows(w, d, function(wr, b, p, pixel)
        wr.line("r3[%d + %s] = a3_%d_%d; r1[%d + %s] = a1_%d_%d;", b * plane, pixel, b, p, b * plane, pixel, b, p)
      end)
    end
    for b = 0, nb - 1 do
      w.open("{")
      if not from_tiles then
        w.line("const float *g = %s_GB + (cb + %d) * %d, *q = %s_QB + (cb + %d) * %d, *tg = t + %d;",
          P, b, rg9 * B, P, b, size.in_channels * B, grp * rg9)
      end
      w.line("%s m3v = z, m1v = z;", vec.t)
      w.line("float m3s[%d], m1s[%d];", B, B)
      w.line("int l;")
      if from_tiles then
        w.line("for (j = 0; j < %d; ++j) {", plane)
        w.line("    m3v += r3[%d + j]; m1v += r1[%d + j];", b * plane, b * plane)
        w.line("}")
      else
        w.line("for (j = 0; j < %d; ++j)", rg9)
        w.line("    m3v += %s(g + j * %d) * tg[j];", vec.load, B)
        w.line("for (j = 0; j < %d; ++j)", size.representative)
        w.line("    m3v += %s(q + j * %d) * sum[j];", vec.load, B)
        w.line("for (j = %d; j < %d; ++j)", size.representative, size.in_channels)
        w.line("    m1v += %s(q + j * %d) * sum[j];", vec.load, B)
      end
      w.line("memcpy(m3s, &m3v, sizeof m3v); memcpy(m1s, &m1v, sizeof m1v);")
      w.open("for (l = 0; l < %d; ++l) {", B)
      w.line("const int c = (cb + %d) * %d + l;", b, B)
      w.open("if (c < %s_CO) {", P)
      w.line("float m3 = m3s[l], m1 = m1s[l];")
      local at = string.format("%d + l", b * B)
      attention.emit(w, P, d.post, function(name) return string.format("%s_%s[c]", P, name) end,
        { a3 = "s3[" .. at .. "]", a1 = "s1[" .. at .. "]", be = "be[" .. at .. "]" })
      w.reopen("} else {")
      w.line("s3[%s] = 0.0f; s1[%s] = 0.0f; be[%s] = 0.0f; /* a padding channel */", at, at, at)
      w.close()
      w.close()
      w.close()
    end
    -- block b's output from its two branch sums
    local function combine(b, a3, a1)
      return string.format("%s(s3 + %d) * %s + %s(s1 + %d) * %s + %s(be + %d)",
        vec.load, b * B, a3, vec.load, b * B, a1, vec.load, b * B)
    end
    if from_tiles then
      w.open("for (j = 0; j < %d; ++j) {", plane)
      for b = 0, nb - 1 do
        blocked.store(w, k, d, combine(b, string.format("r3[%d + j]", b * plane), string.format("r1[%d + j]", b * plane)), b, "j")
      end
      w.close()
    else
      blocked.rows(w, d, function(wr, b, p, pixel)
        blocked.store(wr, k, d, combine(b, string.format("a3_%d_%d", b, p), string.format("a1_%d_%d", b, p)), b, pixel)
      end)
    end
    w.close()
  end
  w.close()
end

-- Emits the layer's macros and functions; returns { text, call = fn(ptrs),
-- note (a line for the layer comment, or nil) }.
function M.emit(k, ctx)
  local a, node = k.node.attrs, k.node
  local P, fn = layer.names(k, ctx)
  local d = {
    P = P, fn = fn, conv = lower.conv(k), stride = a.stride, post = k.bn ~= nil,
    h = k.in_shape[2], w = k.in_shape[3], ho = node.shape[2], wo = node.shape[3],
    vlanes = (k.vt or k.bt) and ctx.simd,
  }
  d.store = function(w, c, p)
    layer.store(w, P, k, string.format("al3[c0 + %d] * a3_%d_%d + al1[c0 + %d] * a1_%d_%d + be[c0 + %d]",
      c, c, p, c, c, p, c), c, p)
  end
  local w = layer.new_writer()
  layer.macros(w, P, {
    { "C", a.cin }, { "R", a.r }, { "H", d.h }, { "W", d.w }, { "S", d.stride }, { "CO", a.out },
    { "HO", d.ho }, { "WO", d.wo }, { "RG", d.conv.sizes.group_inputs }, { "CG", a.out // a.groups },
  }, k)
  w.line("")
  if k.bt then
    d.bt, d.in_blocked, d.out_blocked, d.channels = k.bt, k.layout.inputs[1], k.layout.output, a.out
    d.pooled = k.pooled > 0 -- fold/spconv.lua sizes the scratch
    -- A small plane (tiled flat) takes its branch means from its tiles'
    -- sums, kept for its channel tile's whole plane, not from the input's
    -- statistics and its weights: at batch 1 such a layer's weights come from
    -- L3, and the statistics read them a second time (make bench, per layer:
    -- sp_resnet18_cifar's 4x4 SPConvs 1.24x faster, its 8x8 ones 1.07-1.09x;
    -- the 224 networks' 7x7 ones, in row tiles, 0.93-1.09x by the run, so
    -- they keep the statistics)
    d.from_tiles = k.bt.flat
  end
  local sl = lanes_for(d, d.w)
  if d.from_tiles then
    if d.pooled then pool_blocked(w, d) end
  elseif d.in_blocked then stats_blocked(w, d)
  elseif sl > 0 and d.h >= 2 then stats_vec(w, d, sl) else stats(w, d) end
  w.line("")
  if k.bt then
    blocked_out(w, d, k)
  elseif k.vt then
    vector_out(w, d, k)
  else
    attend(w, d)
    w.line("")
    output_pass(w, d, k)
  end
  w.line("")
  local call = layer.wrapper(w, fn, P, k, ctx,
    blocked.sizes(k, a.cin, d.h * d.w, a.out, d.ho * d.wo), function()
      local sums = "scratch"
      if d.pooled then
        w.line("float *xp = scratch; /* the 2x2 window sums of the input, blocked: the stride-2 1x1 parts read them */")
        sums = string.format("xp + %d", k.pooled)
      end
      if d.from_tiles then
        if d.pooled then w.line("%s_pool(xn, xp);", fn) end
        w.line("%s_out(xn, %s%syn, wt);", fn, d.pooled and "xp, " or "", k.residual and "rn, " or "")
        return
      end
      w.line("float *t = %s, *sum = t + %s_R * 9;", sums, P)
      w.line("%s_stats(xn, t, sum%s);", fn, d.pooled and ", xp" or "")
      if k.vt or k.bt then
        w.line("%s_out(xn, %s%st, sum, yn, wt);", fn, d.pooled and "xp, " or "", k.residual and "rn, " or "")
      else
        w.line("float *al3 = sum + %s_C, *al1 = al3 + %s_CO, *be = al1 + %s_CO;", P, P, P)
        w.line("%s_attend(t, sum, al3, al1, be, wt);", fn)
        w.line("%s_out(xn, %sal3, al1, be, yn, wt);", fn, k.residual and "rn, " or "")
      end
    end)
  local notes = {}
  if d.from_tiles then notes[#notes + 1] = "the softmax from the branch means of the tiles' own sums (a small plane)" end
  if d.pooled then
    notes[#notes + 1] = string.format("the stride-2 1x1 parts read the input pooled once by the %s pass",
      d.from_tiles and "pooling" or "statistics")
  end
  return { text = w.text(), call = call, note = #notes > 0 and table.concat(notes, "; ") or nil }
end

return M
