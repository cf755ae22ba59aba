-- int8 C for the kernels without weights (docs/int8.md, section 4): add
-- (with relu), max and average pools, global average pool, softmax over
-- channels (dequantized, float, fixed output scale), the option-A shortcut.
-- All but add and softmax keep their input's scale and zero point.
local common = require("spgen.emit_c.int8.common")
local model = require("spgen.int8.model")
local float_pointwise = require("spgen.emit_c.pointwise")

local M = {}

local finish = float_pointwise.finish

-- A kernel whose model line is "OP LAYER in ID out ID" plus extra.
local function simple(op, extra)
  return function(k)
    local q = k.q
    q.model = { string.format("%s %s in %d out %d%s", op, model.label(k.node), q.input.id, q.own.id,
      extra and extra(k.node.attrs) or "") }
  end
end

-- maxpool and avgpool: the window, and whether an average counts the padding
-- (docs/int8.md, avgpool).
local function simple_pool(k)
  simple(k.node.op, function(a)
    local include = k.node.op == "avgpool" and string.format(" include_pad %d", a.count_include_pad and 1 or 0) or ""
    return string.format(" k %d stride %d pad %d%s", a.k, a.stride, a.pad, include)
  end)(k)
end

M.add = { calibrated = function() return true end }

function M.add.quantize(k)
  local q = k.q
  q.model = { string.format("add %s a %d b %d out %d relu %d", model.label(k.node), q.input.id, q.second.id,
    q.own.id, k.relu and 1 or 0) }
end

function M.add.emit(k, ctx)
  local s, q = k.node.shape, k.q
  local b = q.second
  local fn = select(2, common.names(k, ctx))
  local w = common.new_writer()
  ctx.uses.add, ctx.uses.clamp8 = true, true
  w.line("static void %s(const int8_t *a, const int8_t *b, int8_t *y)", fn)
  w.open("{")
  w.line("int i;")
  w.line("for (i = 0; i < %d; ++i)", ctx.batch * s[1] * s[2] * s[3])
  w.line("    y[i] = spgen_clamp8((int64_t)%d + spgen_add(a[i]%s, b[i]%s, %s), %d);", q.own.zp, common.minus(q.input.zp),
    common.minus(b.zp),
    common.add_multipliers(q.input, b, q.own), common.low(q.own, k.relu))
  w.close()
  return finish(w, fn, 2)
end

M.pool = { quantize = simple_pool }

-- The window as in the float pool, with a per-tap bounds test.
function M.pool.emit(k, ctx)
  local a, s, zp = k.node.attrs, k.node.shape, k.q.input.zp
  local P, fn = common.names(k, ctx)
  local h, wd = k.in_shape[2], k.in_shape[3]
  local max = k.node.op == "maxpool"
  local w = common.new_writer()
  common.macros(w, P, { { "H", h }, { "W", wd }, { "HO", s[2] }, { "WO", s[3] } }, k)
  w.line("")
  w.line("static void %s(const int8_t *x, int8_t *y)", fn)
  w.open("{")
  w.line("int c, oy, ox, ky, kx;")
  w.open("for (c = 0; c < %d; ++c) {", ctx.batch * s[1])
  w.line("const int8_t *xc = x + c * %s_H * %s_W;", P, P)
  w.line("int8_t *yc = y + c * %s_HO * %s_WO;", P, P)
  w.open("for (oy = 0; oy < %s_HO; ++oy) {", P)
  w.open("for (ox = 0; ox < %s_WO; ++ox) {", P)
  -- n: the taps inside the input, the divisor without count_include_pad
  local counts = not max and not a.count_include_pad
  w.line("int32_t v = %s%s;", max and "-128" or "0", counts and ", n = 0" or "")
  common.window(w, P, a.k, a.stride, a.pad, max and string.format("v = xc[iy * %s_W + ix] > v ? xc[iy * %s_W + ix] : v;", P, P)
    or string.format("v += xc[iy * %s_W + ix]%s;%s", P, common.minus(zp), counts and " ++n;" or ""))
  if max then w.line("yc[oy * %s_WO + ox] = (int8_t)v;", P)
  else
    ctx.uses.rdiv, ctx.uses.clamp8 = true, true
    w.line("yc[oy * %s_WO + ox] = spgen_clamp8(%d + spgen_rdiv_away(v, %s), -128);", P, zp, counts and "n" or a.k * a.k)
  end
  w.close()
  w.close()
  w.close()
  w.close()
  return finish(w, fn, 1)
end

M.gap = { quantize = simple("global_avgpool") }

function M.gap.emit(k, ctx)
  local s, zp = k.in_shape, k.q.input.zp
  local fn = select(2, common.names(k, ctx))
  local w = common.new_writer()
  ctx.uses.rdiv, ctx.uses.clamp8 = true, true
  w.line("static void %s(const int8_t *x, int8_t *y)", fn)
  w.open("{")
  w.line("int c, i;")
  w.open("for (c = 0; c < %d; ++c) {", ctx.batch * s[1])
  w.line("int32_t v = 0;")
  w.line("for (i = 0; i < %d; ++i)", s[2] * s[3])
  w.line("    v += x[c * %d + i]%s;", s[2] * s[3], common.minus(zp))
  w.line("y[c] = spgen_clamp8(%d + spgen_rdiv_away(v, %d), -128);", zp, s[2] * s[3])
  w.close()
  w.close()
  return finish(w, fn, 1)
end

-- softmax: scale 2^-8, zero point -128 (docs/int8.md, section 4)
M.softmax = { quantize = simple("softmax"), fixed_params = { scale = 2.0 ^ -8, zp = -128 } }

function M.softmax.emit(k, ctx)
  local s = k.node.shape
  local fn = select(2, common.names(k, ctx))
  local hw = s[2] * s[3]
  local w = common.new_writer()
  ctx.uses.exp_neg = true
  w.line("SPGEN_AS_WRITTEN static void %s(const int8_t *x, int8_t *y)", fn)
  w.open("{")
  w.line("int p, c;")
  w.open("for (p = 0; p < %d; ++p) {", ctx.batch * hw)
  w.line("const int8_t *xp = x + p / %d * %d + p %% %d;", hw, s[1] * hw, hw)
  w.line("int8_t *yp = y + p / %d * %d + p %% %d;", hw, s[1] * hw, hw)
  w.line("float e[%d], sum = 0.0f;", s[1])
  w.line("int32_t qmax = xp[0];")
  w.line("for (c = 1; c < %d; ++c)", s[1])
  w.line("    qmax = xp[c * %d] > qmax ? xp[c * %d] : qmax;", hw, hw)
  w.open("for (c = 0; c < %d; ++c) {", s[1])
  w.line("e[c] = spgen_exp_neg(%s * (float)(xp[c * %d] - qmax));", common.float_literal(k.q.input.scale), hw)
  w.line("sum = sum + e[c];")
  w.close()
  w.open("for (c = 0; c < %d; ++c) {", s[1])
  w.line("const int32_t v = (int32_t)(e[c] / sum * 256.0f + 0.5f) - 128;")
  w.line("yp[c * %d] = (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);", hw)
  w.close()
  w.close()
  w.close()
  return finish(w, fn, 1)
end

M.shortcut_a = { quantize = simple("shortcut_a", function(a) return string.format(" stride %d", a.stride) end) }

-- the float emitter's loops on int8 values, the zero point for real 0
function M.shortcut_a.emit(k, ctx)
  return float_pointwise.shortcut_a(k, ctx, { type = "int8_t", zero = tostring(k.q.input.zp) })
end

return M
