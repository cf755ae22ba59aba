-- int8 C for the producers (docs/int8.md): conv2d and linear (int32
-- accumulator, per-channel multiplier), and SPConv in one pass (5: window
-- and channel sums of x - zp, the attention per sample and channel, one pass
-- over the output with both branches). The convolutions walk lower.lua's
-- parts. Each kind's quantize(k, ctx) makes its arrays and model-file lines.
local native = require("spgen.native")
local fail = require("spgen.fail")
local lower = require("spgen.lower")
local qmath = require("spgen.int8.qmath")
local model = require("spgen.int8.model")
local common = require("spgen.emit_c.int8.common")
local float_pointwise = require("spgen.emit_c.pointwise")

local M = {}

local function overflow(k, what, c, bound)
  fail.raise(k.node.where, "%s '%s': --dtype int8: %s of output channel %d could overflow int32 (bound %d > 2^31 - 1)",
    k.node.op, model.label(k.node), what, c, bound)
end

-- The shifts of quantize_multiplier (in [-31, 30]) as int8 bytes.
local function shifts(values)
  local bytes = {}
  for i, v in ipairs(values) do bytes[i] = string.pack("i1", v) end
  return table.concat(bytes)
end

-- Whether every value fits int16_t: the offsets E* are stored in the
-- narrowest type that holds the layer's values exactly.
local function fits_int16(values)
  for _, v in ipairs(values) do
    if v < -32768 or v > 32767 then return false end
  end
  return true
end

-- Weight rows of n values from array fp, quantized per row (section 3):
-- returns the int8 bytes, the scales and the sums of magnitudes.
local function rows(fp, count, n)
  local bytes, scales, sums = {}, {}, {}
  for o = 0, count - 1 do
    local s = qmath.weight_scale(native.amax(fp, o * n, n))
    if s then bytes[o + 1], sums[o + 1] = native.quantize_row(fp, o * n, n, s)
    else bytes[o + 1], sums[o + 1] = string.rep("\0", n), 0 end
    scales[o + 1] = s or 1.0
  end
  return table.concat(bytes), scales, sums
end

-- conv2d, linear and a standalone batchnorm: weights WT (or the batchnorm's
-- scale A) in rows of n, bias B; int8 WT, int32 BQ, M, E.
local function quantize_affine_rows(k, ctx, weights, bias, count, n)
  local q = k.q
  local wq, scales, sums = rows(weights, count, n)
  local bq, m, e = {}, {}, {}
  for o = 0, count - 1 do
    local b = bias and bias[o] or 0.0
    bq[o + 1] = qmath.int32(qmath.round_away(b / (q.input.scale * scales[o + 1])))
    if not bq[o + 1] then
      fail.raise(k.node.where, "%s '%s': --dtype int8: the int32 bias of output channel %d does not fit", k.node.op,
        model.label(k.node), o)
    end
    local bound = 255 * sums[o + 1] + math.abs(bq[o + 1])
    if bound > qmath.INT32_MAX then overflow(k, "the accumulator", o, bound) end
    m[o + 1], e[o + 1] = qmath.quantize_multiplier((q.input.scale * scales[o + 1]) / q.own.scale)
  end
  ctx.int8("WT", wq) -- the name lower.lua's parts read
  ctx.int32("BQ", bq)
  ctx.int32("M", m)
  ctx.int8("E", shifts(e))
  return wq, bq, scales
end

local function model_arrays(lines, wq, bq, scales)
  lines[#lines + 1] = model.array("weights", wq)
  lines[#lines + 1] = model.array("bias", bq)
  lines[#lines + 1] = model.array("wscale", scales, true)
end

local function calibrated() return true end

-- The 1x1 channels a point part reads in one pass over an output row, each
-- pass one load and store of the row's int32: on the Cortex-M4F (firmware/
-- run.sh) 8 took 5.5% fewer instructions than 4, 16 another 0.6% for 1.7 KB
-- more code.
local POINT_RUN = 8

-- The output columns [first, stop) whose k taps at stride s with padding
-- pad all fall inside an input row of n: empty (first == stop == n_out)
-- when none does.
local function interior(n_out, n, k, s, pad)
  local first = (pad + s - 1) // s
  local stop = math.min(n_out, (n - k + pad) // s + 1)
  if stop <= first then return n_out, n_out end
  return first, stop
end

-- " + cz" where the zero point's correction cz is not 0.
local function plus_correction(zp)
  return zp == 0 and "" or " + cz"
end

-- The point taps (reads: lower.point_reads's, at stride st) of runs of
-- input channels, each { x = first input channel, w = its weight's index
-- in the output channel's row (C expressions), count }, POINT_RUN
-- channels per pass over the output row; row: the C expression of the
-- output channel's weights.
local function point_runs(w, P, acc, zp, wo, reads, st, row, runs)
  local function chunk(n, x_first, w_first)
    local names, terms, sum, ptrs = {}, {}, {}, {}
    for i = 0, n - 1 do
      ptrs[#ptrs + 1] = string.format("*x%d = xr + %d * %s_H * %s_W", i, i, P, P)
      names[#names + 1] = string.format("q%d = wq[%d]", i, i)
      sum[#sum + 1] = "q" .. i
      local at = {}
      for _, r in ipairs(reads) do
        at[#at + 1] = string.format("x%d[%s%s%s]", i, r.row == 0 and "" or (P .. "_W + "),
          st == 1 and "ox" or (st .. " * ox"), r.col == 0 and "" or (" + " .. r.col))
      end
      terms[#terms + 1] = string.format("q%d * %s", i, #at == 1 and at[1] or "(" .. table.concat(at, " + ") .. ")")
    end
    w.line("const int8_t *xr = xn + (%s) * %s_H * %s_W + %d * oy * %s_W, %s;", x_first, P, P, st, P,
      table.concat(ptrs, ", "))
    w.line("const int8_t *wq = %s + %s;", row, w_first)
    w.line("const int32_t %s;", table.concat(names, ", "))
    if zp ~= 0 then w.line("const int32_t cz = -(%s) * %d;", table.concat(sum, " + "), zp * #reads) end
    w.line("for (ox = 0; ox < %d; ++ox)", wo)
    w.line("    %s[ox] += (%s)%s;", acc, table.concat(terms, " + "), plus_correction(zp))
  end
  for _, run in ipairs(runs) do
    local full = run.count // POINT_RUN * POINT_RUN
    if full > 0 then
      w.open("{")
      w.line("int ci;")
      w.open("for (ci = 0; ci < %d; ci += %d) {", full, POINT_RUN)
      chunk(POINT_RUN, run.x .. " + ci", run.w .. " + ci")
      w.close()
      w.close()
    end
    if run.count > full then
      w.open("{")
      chunk(run.count - full, run.x .. " + " .. full, run.w .. " + " .. full)
      w.close()
    end
  end
end

-- The C expression of output channel c's weights of the part.
local function weights_of(P, conv, part)
  local weights = part.weights
  return string.format("%s_%s + c * %s_%s * %d", P, weights.array, P, conv.macros[weights.row], weights.taps or 1)
end

-- The accumulation of the parts of conv (lower.lua) for output channel c
-- and output row oy into their branches' int32 rows (row_a3[ox], ...):
-- group, the channels' group as a literal, or nil for the run-time gb.
-- Each part's weights are hoisted out of the pixel loop, and x - zp is
-- summed as w * x plus the correction -zp * (sum of w) per group of terms:
-- every group adds its exact integer, so no partial sum leaves the bounds
-- docs/int8.md, section 6 proves.
local function accumulate_row(w, P, conv, group, zp, ht, wd, ho, wo)
  local s = conv.sizes
  for _, part in ipairs(conv.parts) do
    local taps, weights, acc = part.taps, part.weights, "row_" .. part.branch
    local row = string.format("%s_%s * %d", P, conv.macros[weights.row], weights.taps or 1)
    if taps.kind == "window" and taps.size == 1 and taps.pad == 0 then
      point_runs(w, P, acc, zp, wo, { { row = 0, col = 0 } }, taps.stride, weights_of(P, conv, part),
        { { x = group and tostring(group * s.group_inputs) or "gb", w = "0", count = lower.count(conv, part) } })
    elseif taps.kind == "window" then
      local k, st, pad = taps.size, taps.stride, taps.pad
      local first, stop = interior(wo, wd, k, st, pad)
      local row_first, row_stop = interior(ho, ht, k, st, pad)
      -- the taps of kernel rows kys (xr: the input row of the first),
      -- weights w<ky>_<kx>: their declarations, and the row's update over
      -- the interior columns, then the border columns with bounds tests
      local function taps_of(kys, weight_of)
        local names, terms, sum = {}, {}, {}
        for i, ky in ipairs(kys) do
          for kx = 0, k - 1 do
            local name = string.format("w%d_%d", ky, kx)
            names[#names + 1] = string.format("%s = %s", name, weight_of(ky, kx))
            sum[#sum + 1] = name
            local off = kx - pad
            terms[#terms + 1] = string.format("%s * xr[%s%s%s]", name,
              i == 1 and "" or (i == 2 and (P .. "_W + ") or string.format("%d * %s_W + ", i - 1, P)),
              st == 1 and "ox" or (st .. " * ox"),
              off == 0 and "" or string.format(" %s %d", off < 0 and "-" or "+", math.abs(off)))
          end
        end
        if first < stop then -- the interior columns' update is their only reader
          w.line("const int32_t %s;", table.concat(names, ", "))
          if zp ~= 0 then w.line("const int32_t cz = -(%s) * %d;", table.concat(sum, " + "), zp) end
        end
        return terms
      end
      local function update(terms, rows, weight)
        if first < stop then
          w.line("for (ox = %d; ox < %d; ++ox)", first, stop)
          w.line("    %s[ox] += (%s)%s;", acc, table.concat(terms, " + "), plus_correction(zp))
        end
        for _, span in ipairs({ { 0, first }, { stop, wo } }) do
          if span[1] < span[2] then
            w.open("for (ox = %d; ox < %d; ++ox) {", span[1], span[2])
            w.line("int r, kx;")
            w.open("for (r = 0; r < %d; ++r) {", rows)
            w.open("for (kx = 0; kx < %d; ++kx) {", k)
            w.line("const int ix = %d * ox + kx - %d;", st, pad)
            w.line("if (ix >= 0 && ix < %s_W) %s[ox] += %s * (xr[r * %s_W + ix]%s);", P, acc, weight, P,
              common.minus(zp))
            w.close()
            w.close()
            w.close()
          end
        end
      end
      w.open("{")
      w.line("int j;")
      w.open("for (j = 0; j < %d; ++j) {", lower.count(conv, part))
      w.line("const int8_t *xc = xn + (%s + j) * %s_H * %s_W;", group and tostring(group * s.group_inputs) or "gb", P, P)
      w.line("const int8_t *wc = %s_%s + c * %s + j * %d;", P, weights.array, row, weights.taps)
      -- rows whose k taps all fall inside the input: all k x k taps in one
      -- pass over the row; the others one kernel row at a time
      local all = {}
      for ky = 0, k - 1 do all[#all + 1] = ky end
      if row_first < row_stop then
        w.open("if (oy >= %d && oy < %d) {", row_first, row_stop)
        w.line("const int8_t *xr = xc + (%d * oy - %d) * %s_W;", st, pad, P)
        update(taps_of(all, function(ky, kx) return string.format("wc[%d]", ky * k + kx) end), k,
          string.format("wc[r * %d + kx]", k))
        w.close()
        w.open("else {")
      end
      w.line("int ky;")
      w.open("for (ky = 0; ky < %d; ++ky) {", k)
      w.line("const int iy = %d * oy + ky - %d;", st, pad)
      w.line("const int8_t *xr, *wr = wc + ky * %d;", k)
      local terms = taps_of({ 0 }, function(_, kx) return string.format("wr[%d]", kx) end)
      w.line("if (iy < 0 || iy >= %s_H) continue;", P)
      w.line("xr = xc + iy * %s_W;", P)
      update(terms, 1, "wr[kx]")
      w.close()
      if row_first < row_stop then w.close() end
      w.close()
      w.close()
    else
      -- an SPConv's int8 Q rows leave out the group's own representative
      -- columns (zeros: their PWC is in G), so the columns after them
      -- move down by RG
      local runs, own_stop = {}, (group + 1) * s.group_inputs
      for _, range in ipairs(lower.ranges(conv, part, group)) do
        local at = range.first >= own_stop and range.first - s.group_inputs or range.first
        runs[#runs + 1] = { x = tostring(range.first), w = tostring(at), count = range.stop - range.first }
      end
      point_runs(w, P, acc, zp, wo, lower.point_reads(taps, 0), taps.stride,
        string.format("%s_%s + c * (%s_C - %s_RG)", P, weights.array, P, P), runs)
    end
  end
end

-- The output pass over channels [first, stop) of one group: per output
-- row, setup_row(w) (the branches' rows accumulated), then per pixel
-- pixel(w) (the accumulators a3, a1 or a) and value (a C int64 expression)
-- stored.
local function output_pass(w, k, ctx, first, stop, ho, wo, setup, setup_row, pixel, value)
  w.open("for (c = %d; c < %d; ++c) {", first, stop)
  setup(w)
  common.pool_open(w, k)
  w.open("for (oy = 0; oy < %d; ++oy) {", ho)
  setup_row(w)
  w.open("for (ox = 0; ox < %d; ++ox) {", wo)
  pixel(w)
  common.store(w, k, ctx, value, string.format("(c * %d + oy) * %d + ox", ho, wo))
  w.close()
  w.close()
  common.pool_close(w, k, ctx, "c", ho * wo)
  w.close()
end

-- The row of each branch of conv set to init (a C expression), then
-- accumulated; per pixel, the branch's accumulator read back.
local function row_pass(P, conv, group, zp, ht, wd, ho, wo, init)
  local function setup_row(w)
    for _, b in ipairs(conv.branches) do w.line("for (ox = 0; ox < %d; ++ox) row_%s[ox] = %s;", wo, b, init) end
    accumulate_row(w, P, conv, group, zp, ht, wd, ho, wo)
  end
  local function pixel(w)
    for _, b in ipairs(conv.branches) do w.line("const int32_t %s = row_%s[ox];", b, b) end
  end
  return setup_row, pixel
end

-- The declarations of the branches' rows.
local function row_declarations(w, conv, wo)
  local rows = {}
  for _, b in ipairs(conv.branches) do rows[#rows + 1] = string.format("row_%s[%d]", b, wo) end
  w.line("int32_t %s;", table.concat(rows, ", "))
end

M.conv2d = { calibrated = calibrated }

function M.conv2d.quantize(k, ctx)
  local a = k.node.attrs
  local n = a.cin // a.groups * a.k * a.k
  local wq, bq, scales = quantize_affine_rows(k, ctx, ctx.fp("WT"), k.w.B and ctx.fp("B"), a.out, n)
  local q = k.q
  local lines = { string.format("conv2d %s in %d out %d k %d stride %d pad %d groups %d relu %d", model.label(k.node),
    q.input.id, q.own.id, a.k, a.stride, a.pad, a.groups, (k.relu and not k.residual) and 1 or 0) }
  model_arrays(lines, wq, bq, scales)
  for _, line in ipairs(model.epilogue(k)) do lines[#lines + 1] = line end
  q.model = lines
end

function M.conv2d.emit(k, ctx)
  local a, node = k.node.attrs, k.node
  local P, fn = common.names(k, ctx)
  local conv = lower.conv(k)
  local h, wd, ho, wo = k.in_shape[2], k.in_shape[3], node.shape[2], node.shape[3]
  local w = common.new_writer()
  common.macros(w, P, { { "C", a.cin }, { "H", h }, { "W", wd }, { "CO", a.out }, { "HO", ho }, { "WO", wo },
    { "CIG", a.cin // a.groups }, { "COG", a.out // a.groups } }, k)
  w.line("")
  ctx.uses.rq = true
  local call = common.wrapper(w, fn, k, ctx, { input = a.cin * h * wd, output = a.out * ho * wo, channels = a.out },
    function()
      w.line("int c, oy, ox;")
      row_declarations(w, conv, wo)
      local setup_row, pixel = row_pass(P, conv, a.groups == 1 and 0 or nil, k.q.input.zp, h, wd, ho, wo,
        string.format("%s_BQ[c]", P))
      output_pass(w, k, ctx, 0, a.out, ho, wo, function(wr)
        if a.groups > 1 then wr.line("const int gb = c / %s_COG * %s_CIG; /* the group's first input channel */", P, P) end
        wr.line("const int32_t m = %s_M[c], e = %s_E[c]; /* in registers: the stores may alias them */", P, P)
      end, setup_row, pixel, string.format("(int64_t)%d + spgen_rq(a, m, e)", k.q.own.zp))
    end)
  return { text = w.text(), call = call }
end

M.linear = { calibrated = calibrated }

function M.linear.quantize(k, ctx)
  local a = k.node.attrs
  local wq, bq, scales = quantize_affine_rows(k, ctx, ctx.fp("WT"), k.w.B and ctx.fp("B"), a.out, a.cin)
  local q = k.q
  local lines = { string.format("linear %s in %d out %d relu %d", model.label(k.node), q.input.id, q.own.id,
    (k.relu and not k.residual) and 1 or 0) }
  model_arrays(lines, wq, bq, scales)
  for _, line in ipairs(model.epilogue(k)) do lines[#lines + 1] = line end
  q.model = lines
end

function M.linear.emit(k, ctx)
  local a = k.node.attrs
  local P, fn = common.names(k, ctx)
  local w = common.new_writer()
  common.macros(w, P, { { "IN", a.cin }, { "OUT", a.out } }, k)
  w.line("")
  ctx.uses.rq = true
  local call = common.wrapper(w, fn, k, ctx, { input = a.cin, output = a.out, channels = a.out }, function()
    w.line("int c, oy, ox, i;")
    output_pass(w, k, ctx, 0, a.out, 1, 1, function() end, function() end, function(wr)
      wr.line("int32_t a = %s_BQ[c];", P)
      wr.line("for (i = 0; i < %s_IN; ++i)", P)
      wr.line("    a += %s_WT[c * %s_IN + i] * (xn[i]%s);", P, P, common.minus(k.q.input.zp))
    end, string.format("(int64_t)%d + spgen_rq(a, %s_M[c], %s_E[c])", k.q.own.zp, P, P))
  end)
  return { text = w.text(), call = call }
end

-- A standalone batchnorm (and relu) is a conv2d with k = 1, groups = C
-- (docs/int8.md, section 4); a relu alone keeps its input's parameters.
M.affine = { calibrated = function(k) return k.bn ~= nil end }

function M.affine.quantize(k, ctx)
  local q, s = k.q, k.node.shape
  local name = model.label(k.node)
  if not k.bn then
    q.model = { string.format("relu %s in %d out %d", name, q.input.id, q.own.id) }
    return
  end
  local wq, bq, scales = quantize_affine_rows(k, ctx, ctx.fp("A"), ctx.fp("B"), s[1], 1)
  local lines = { string.format("conv2d %s in %d out %d k 1 stride 1 pad 0 groups %d relu %d", name, q.input.id,
    q.own.id, s[1], k.relu and 1 or 0) }
  model_arrays(lines, wq, bq, scales)
  q.model = lines
end

function M.affine.emit(k, ctx)
  local s, q = k.node.shape, k.q
  local P, fn = common.names(k, ctx)
  local w = common.new_writer()
  common.macros(w, P, { { "C", s[1] }, { "HW", s[2] * s[3] } }, k)
  w.line("")
  ctx.uses.clamp8 = true
  w.line("static void %s(const int8_t *x, int8_t *y%s)", fn, common.weight_param(k))
  w.open("{")
  w.line("int c, i;")
  w.open("for (c = 0; c < %d; ++c) {", ctx.batch * s[1])
  w.line("const int8_t *xc = x + c * %s_HW;", P)
  w.line("int8_t *yc = y + c * %s_HW;", P)
  w.open("for (i = 0; i < %s_HW; ++i) {", P)
  if k.bn then
    ctx.uses.rq = true
    w.line("const int32_t a = %s_BQ[c %% %s_C] + %s_WT[c %% %s_C] * (xc[i]%s);", P, P, P, P, common.minus(q.input.zp))
    w.line("yc[i] = spgen_clamp8((int64_t)%d + spgen_rq(a, %s_M[c %% %s_C], %s_E[c %% %s_C]), %d);", q.own.zp, P, P,
      P, P, common.low(q.own, k.relu))
  else
    w.line("yc[i] = spgen_clamp8(xc[i], %d);", common.low(q.own, true))
  end
  w.close()
  w.close()
  w.close()
  return float_pointwise.finish(w, fn, 1, common.weight_base(k) ~= nil)
end

M.spconv = { calibrated = calibrated }

function M.spconv.quantize(k, ctx)
  local a, q = k.node.attrs, k.q
  local co, c, r, rg = a.out, a.cin, a.r, a.r // a.groups
  local G, Q, B3, B1 = ctx.fp("G"), ctx.fp("Q"), ctx.fp("B3"), ctx.fp("B1")
  local PA, PB = k.w.PA and ctx.fp("PA"), k.w.PB and ctx.fp("PB")
  local pool = a.stride == 2 and 4 or 1
  local plane = k.node.shape[2] * k.node.shape[3]
  local gq, qq, s3, s1 = {}, {}, {}, {}
  local consts = { MA3 = {}, EA3 = {}, MA1 = {}, EA1 = {}, E3 = {}, E1 = {}, E0 = {} }
  local attention = ctx.attention == "float" and { K3 = {}, K1 = {}, B3 = {}, B1 = {} }
    or { MD3 = {}, ED3 = {}, MD1 = {}, ED1 = {}, DB = {} }
  local s_in, s_out = q.input.scale, q.own.scale
  for o = 0, co - 1 do
    local i = o + 1
    local three = qmath.weight_scale(math.max(native.amax(G, o * rg * 9, rg * 9), native.amax(Q, o * c, r)))
    local one = qmath.weight_scale(native.amax(Q, o * c + r, c - r))
    local sum_g, sum_q3, sum_q1 = 0, 0, 0
    if three then
      gq[#gq + 1], sum_g = native.quantize_row(G, o * rg * 9, rg * 9, three)
      qq[#qq + 1], sum_q3 = native.quantize_row(Q, o * c, r, three)
    else
      gq[#gq + 1], qq[#qq + 1] = string.rep("\0", rg * 9), string.rep("\0", r)
    end
    if one then qq[#qq + 1], sum_q1 = native.quantize_row(Q, o * c + r, c - r, one)
    else qq[#qq + 1] = string.rep("\0", c - r) end
    s3[i], s1[i] = three or 1.0, one or 1.0
    local bound3, bound1 = 255 * (sum_g + pool * sum_q3), 255 * pool * sum_q1
    if bound3 > qmath.INT32_MAX then overflow(k, "the 3x3 branch's accumulator", o, bound3) end
    if bound1 > qmath.INT32_MAX then overflow(k, "the 1x1 branch's accumulator", o, bound1) end
    if math.max(bound3, bound1) > math.maxinteger // plane then
      overflow(k, "the int64 plane sum of a branch", o, math.max(bound3, bound1) * plane)
    end
    local pa, pb = PA and PA[o] or 1.0, PB and PB[o] or 0.0
    consts.MA3[i], consts.EA3[i] = qmath.quantize_multiplier(((pa * s_in) * s3[i]) / s_out)
    consts.MA1[i], consts.EA1[i] = qmath.quantize_multiplier(((pa * s_in) * s1[i]) / s_out)
    for _, offset in ipairs({ { "E3", (pa * B3[o]) / s_out * 256.0 }, { "E1", (pa * B1[o]) / s_out * 256.0 },
                              { "E0", pb / s_out * 256.0 } }) do
      local name = offset[1]
      consts[name][i] = qmath.int32(qmath.round_away(offset[2]))
      if not consts[name][i] then
        fail.raise(k.node.where, "spconv '%s': --dtype int8: the offset %s of output channel %d does not fit int32",
          model.label(k.node), name, o)
      end
    end
    if ctx.attention == "float" then
      attention.K3[i], attention.K1[i] = qmath.f32(s_in * s3[i]), qmath.f32(s_in * s1[i])
      attention.B3[i], attention.B1[i] = B3[o], B1[o]
    else
      attention.MD3[i], attention.ED3[i] = qmath.quantize_multiplier((s_in * s3[i]) * 256.0)
      attention.MD1[i], attention.ED1[i] = qmath.quantize_multiplier((s_in * s1[i]) * 256.0)
      attention.DB[i] = math.tointeger(qmath.clamp(qmath.round_away((B3[o] - B1[o]) * 256.0), -(1 << 24), 1 << 24))
    end
  end
  ctx.int8("G", table.concat(gq))
  -- the blob's Q rows leave out the zero columns of the group's own
  -- representative channels (the model file keeps them: its Q is [Co][C])
  local compact = {}
  for o = 0, co - 1 do
    local own, three_row = o // (co // a.groups) * rg, qq[2 * o + 1]
    assert(three_row:sub(own + 1, own + rg) == string.rep("\0", rg), "own-group Q columns are zero")
    compact[o + 1] = three_row:sub(1, own) .. three_row:sub(own + rg + 1) .. qq[2 * o + 2]
  end
  ctx.int8("Q", table.concat(compact))
  for _, set in ipairs({ consts, attention }) do
    local names = {}
    for name in pairs(set) do names[#names + 1] = name end
    table.sort(names) -- a fixed blob layout
    for _, name in ipairs(names) do
      if name:match("^[KB]") then ctx.float(name, set[name])
      elseif name:match("^E[AD]") then ctx.int8(name, shifts(set[name]))
      elseif name:match("^E") and fits_int16(set[name]) then ctx.int16(name, set[name])
      else ctx.int32(name, set[name]) end
    end
  end
  -- int64 words: the window sums T[r][9] and channel sums S[c], then per
  -- output channel its two multipliers and offset
  k.scratch = 2 * (r * 9 + c + 3 * co)
  local pa, pb = {}, {}
  for o = 0, co - 1 do pa[o + 1], pb[o + 1] = PA and PA[o] or 1.0, PB and PB[o] or 0.0 end
  local b3, b1 = {}, {}
  for o = 0, co - 1 do b3[o + 1], b1[o + 1] = B3[o], B1[o] end
  local lines = { string.format("spconv %s in %d out %d stride %d groups %d r %d relu %d", model.label(k.node),
    q.input.id, q.own.id, a.stride, a.groups, r, (k.relu and not k.residual) and 1 or 0) }
  lines[#lines + 1] = model.array("g", table.concat(gq))
  lines[#lines + 1] = model.array("q", table.concat(qq))
  for _, array in ipairs({ { "s3", s3 }, { "s1", s1 }, { "b3", b3 }, { "b1", b1 }, { "pa", pa }, { "pb", pb } }) do
    lines[#lines + 1] = model.array(array[1], array[2], true)
  end
  for _, line in ipairs(model.epilogue(k)) do lines[#lines + 1] = line end
  q.model = lines
end

-- The first and last input row (or column) that tap t reads for some
-- output position, at stride s with padding 1: nil when none.
local function tap_span(n_out, n_in, s, t)
  local lo, hi
  for o = 0, n_out - 1 do
    local i = s * o + t - 1
    if i >= 0 and i < n_in then lo, hi = lo or i, i end
  end
  return lo, hi
end

-- T[ci][ky][kx]: the sum of x - zp over the input pixels tap (ky, kx)
-- reads for the output plane (padding reads 0), for the representative
-- channels; S[ci]: over the whole plane, for all channels.
local function stats(w, P, fn, d)
  w.line("/* Window sums T[ci][ky][kx] of x - zp over the pixels each tap reads, and channel")
  w.line("   sums S[ci], exact in int64 (docs/int8.md, 5.2). */")
  w.line("static void %s_stats(const int8_t *x, int64_t *t, int64_t *sum)", fn)
  w.open("{")
  w.line("int c, iy, ix, j;")
  w.open("for (c = 0; c < %s_C; ++c) {", P)
  w.line("const int8_t *p = x + c * %s_H * %s_W;", P, P)
  w.line("int64_t all = 0, tc[9] = {0};")
  w.open("for (iy = 0; iy < %s_H; ++iy) {", P)
  w.line("const int8_t *row = p + iy * %s_W;", P)
  w.line("int32_t rs = 0, cs[3] = {0, 0, 0};")
  w.line("for (ix = 0; ix < %s_W; ++ix)", P)
  w.line("    rs += row[ix]%s;", common.minus(d.zp))
  for kx = 0, 2 do
    local lo, hi = tap_span(d.wo, d.w, d.stride, kx)
    if lo then
      w.line("for (ix = %d; ix <= %d; ix += %d)", lo, hi, d.stride)
      w.line("    cs[%d] += row[ix]%s;", kx, common.minus(d.zp))
    end
  end
  w.line("all += rs;")
  for ky = 0, 2 do
    local lo, hi = tap_span(d.ho, d.h, d.stride, ky)
    if lo then
      local cond = string.format("iy >= %d && iy <= %d", lo, hi)
      if d.stride > 1 then cond = cond .. string.format(" && (iy - %d) %% %d == 0", lo, d.stride) end
      w.line("if (%s) { tc[%d] += cs[0]; tc[%d] += cs[1]; tc[%d] += cs[2]; }", cond, 3 * ky, 3 * ky + 1, 3 * ky + 2)
    end
  end
  w.close()
  w.line("sum[c] = all;")
  w.line("if (c < %s_R)", P)
  w.line("    for (j = 0; j < 9; ++j) t[c * 9 + j] = tc[j];")
  w.close()
  w.close()
end

-- Per output channel: the branch means from the sums, the attention weight
-- w3 (float or fixed), the multipliers and offset of the store (5.3).
local function attend(w, P, fn, ctx)
  w.line("/* Per output channel: the branch means, the attention, the store's multipliers and offset. */")
  w.line("static void %s_attend(const int64_t *t, const int64_t *sum, int64_t *coef, const int32_t *wt)", fn)
  w.open("{")
  w.line("int c, j;")
  w.open("for (c = 0; c < %s_CO; ++c) {", P)
  w.line("const int8_t *g = %s_G + c * %s_RG * 9, *q = %s_Q + c * (%s_C - %s_RG);", P, P, P, P, P)
  w.line("const int own = c / %s_CG * %s_RG; /* the group's first representative channel, left out of q */", P, P)
  w.line("const int64_t *tg = t + own * 9;")
  w.line("int64_t a3 = 0, a1 = 0;")
  w.line("int32_t mean3, mean1, w3, w1;")
  w.line("for (j = 0; j < %s_RG * 9; ++j)", P)
  w.line("    a3 += g[j] * tg[j];")
  w.line("for (j = 0; j < %s_R - %s_RG; ++j)", P, P)
  w.line("    a3 += q[j] * sum[j < own ? j : j + %s_RG];", P)
  w.line("for (j = %s_R; j < %s_C; ++j)", P, P)
  w.line("    a1 += q[j - %s_RG] * sum[j];", P)
  w.line("mean3 = (int32_t)spgen_rdiv_away(a3, %s_HO * %s_WO);", P, P)
  w.line("mean1 = (int32_t)spgen_rdiv_away(a1, %s_HO * %s_WO);", P, P)
  ctx.uses.rdiv = true
  if ctx.attention == "float" then
    ctx.uses.w3_float = true
    w.open("{")
    w.line("float k3, k1, b3, b1;")
    w.line("memcpy(&k3, %s_K3 + c, 4); memcpy(&k1, %s_K1 + c, 4);", P, P)
    w.line("memcpy(&b3, %s_B3 + c, 4); memcpy(&b1, %s_B1 + c, 4);", P, P)
    w.line("w3 = spgen_w3(mean3, mean1, k3, k1, b3, b1);")
    w.close()
  else
    ctx.uses.w3_fixed = true
    w.line("w3 = spgen_w3(mean3, mean1, %s_MD3[c], %s_ED3[c], %s_MD1[c], %s_ED1[c], %s_DB[c]);", P, P, P, P, P)
  end
  w.line("w1 = (1 << 30) - w3;")
  w.line("coef[3 * c] = (int32_t)(((int64_t)%s_MA3[c] * w3 + (1 << 29)) >> 30);", P)
  w.line("coef[3 * c + 1] = (int32_t)(((int64_t)%s_MA1[c] * w1 + (1 << 29)) >> 30);", P)
  w.line("coef[3 * c + 2] = (int32_t)(((int64_t)w3 * %s_E3[c] + (int64_t)w1 * %s_E1[c] + (int64_t)%s_E0[c] * (1 << 30)", P, P, P)
  w.line("    + ((int64_t)1 << 37)) >> 38);")
  w.close()
  w.close()
end

function M.spconv.emit(k, ctx)
  local a, node = k.node.attrs, k.node
  local P, fn = common.names(k, ctx)
  local conv = lower.conv(k)
  local d = { h = k.in_shape[2], w = k.in_shape[3], ho = node.shape[2], wo = node.shape[3], stride = a.stride,
              zp = k.q.input.zp }
  local w = common.new_writer()
  common.macros(w, P, { { "C", a.cin }, { "R", a.r }, { "H", d.h }, { "W", d.w }, { "CO", a.out }, { "HO", d.ho },
    { "WO", d.wo }, { "RG", a.r // a.groups }, { "CG", a.out // a.groups } }, k)
  w.line("")
  stats(w, P, fn, d)
  w.line("")
  attend(w, P, fn, ctx)
  w.line("")
  ctx.uses.rq = true
  local cg = a.out // a.groups
  w.line("/* The one pass over the output: both branches accumulate in int32. */")
  w.line("static void %s_out(const int8_t *xn, %sconst int64_t *coef, int8_t *yn, const int32_t *wt)", fn,
    k.residual and "const int8_t *rn, " or "")
  w.open("{")
  w.line("int c, oy, ox;")
  row_declarations(w, conv, d.wo)
  for grp = 0, a.groups - 1 do
    w.line("/* group %d: output channels %d..%d */", grp, grp * cg, (grp + 1) * cg - 1)
    local setup_row, pixel = row_pass(P, conv, grp, d.zp, d.h, d.w, d.ho, d.wo, "0")
    output_pass(w, k, ctx, grp * cg, (grp + 1) * cg, d.ho, d.wo, function(wr)
      wr.line("const int32_t m3 = (int32_t)coef[3 * c], m1 = (int32_t)coef[3 * c + 1];")
      wr.line("const int64_t off = coef[3 * c + 2];")
      wr.line("const int32_t ea3 = %s_EA3[c], ea1 = %s_EA1[c]; /* in registers: the stores may alias them */", P, P)
    end, setup_row, pixel, string.format("(int64_t)%d + spgen_rq(a3, m3, ea3) + spgen_rq(a1, m1, ea1) + off", k.q.own.zp))
  end
  w.close()
  w.line("")
  local call = common.wrapper(w, fn, k, ctx, { input = a.cin * d.h * d.w, output = a.out * d.ho * d.wo, channels = a.out },
    function()
      w.line("int64_t *t = scratch, *sum = t + %s_R * 9, *coef = sum + %s_C;", P, P)
      w.line("%s_stats(xn, t, sum);", fn)
      w.line("%s_attend(t, sum, coef, wt);", fn)
      w.line("%s_out(xn, %scoef, yn, wt);", fn, k.residual and "rn, " or "")
    end)
  return { text = w.text(), call = call }
end

return M
