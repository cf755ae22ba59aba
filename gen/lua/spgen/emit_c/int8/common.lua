-- What the int8 C kernels share (docs/int8.md): the arithmetic helpers,
-- emitted once each into the network's file, only those a kernel used; the
-- layer's macros; the store of a producer (its own int8 result, a fused
-- residual add, relu, global average pool); the loop over the batch.
local writer = require("spgen.writer")
local layer = require("spgen.emit_c.layer")
local qmath = require("spgen.int8.qmath")

local M = {}

-- The helpers, in the order they are emitted, each with those it calls.
local HELPERS = {
  { name = "rq", needs = {}, text = [[
/* docs/int8.md, section 2: gemmlowp's SaturatingRoundingDoublingHighMul,
   RoundingDivideByPOT (half away from zero) and their composition. A right
   shift of a negative value is arithmetic in GCC and Clang. Inline, so that
   what depends on the multiplier and shift alone leaves the pixel loops. */
static inline int32_t spgen_srdhm(int32_t a, int32_t b)
{
    if (a == INT32_MIN && b == INT32_MIN)
        return INT32_MAX;
    /* (ab + nudge) / 2^31 truncated toward zero, one shift for both signs:
       for ab < 0 the nudge 1 - 2^30 plus the 2^31 - 1 that turns the
       truncation into a floor is + 2^30, as for ab >= 0 */
    return (int32_t)(((int64_t)a * b + (1 << 30)) >> 31);
}

static inline int32_t spgen_rdivpot(int32_t x, int n)
{
    const int32_t mask = (int32_t)(((int64_t)1 << n) - 1);
    const int32_t remainder = x & mask, threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> n) + (remainder > threshold ? 1 : 0);
}

static inline int32_t spgen_rq(int32_t x, int32_t m, int e)
{
    int64_t shifted;
    if (e <= 0) /* no left shift: the common case, all in 32-bit operands */
        return spgen_rdivpot(spgen_srdhm(x, m), -e);
    shifted = (int64_t)x * ((int64_t)1 << e);
    return spgen_srdhm((int32_t)(shifted < INT32_MIN ? INT32_MIN : shifted > INT32_MAX ? INT32_MAX : shifted), m);
}
]] },
  { name = "clamp8", needs = {}, text = [[
/* v clamped to [lo, 127]: lo is -128, or the zero point where a relu clamps */
static int8_t spgen_clamp8(int64_t v, int32_t lo)
{
    return (int8_t)(v < lo ? lo : v > 127 ? 127 : v);
}
]] },
  { name = "rdiv", needs = {}, text = [[
/* n / d rounded half away from zero, d > 0 */
static int64_t spgen_rdiv_away(int64_t n, int64_t d)
{
    return n >= 0 ? (n + d / 2) / d : -((-n + d / 2) / d);
}
]] },
  { name = "add", needs = { "rq" }, text = [[
/* docs/int8.md, "add": both operands (q - zp) rescaled to twice the larger
   scale with 20 bits of headroom, summed, then to the output scale. */
static int32_t spgen_add(int32_t a, int32_t b, int32_t ma, int ea, int32_t mb, int eb, int32_t mo, int eo)
{
    const int32_t sum = spgen_rq(a * (1 << 20), ma, ea) + spgen_rq(b * (1 << 20), mb, eb);
    return spgen_rq(sum, mo, eo);
}
]] },
  { name = "float_ops", needs = {}, text = [[
/* The float attention and softmax round every operation as written
   (docs/int8.md, 5.4): no fused multiply-add. GCC keeps to that whatever
   the flags; Clang 14 ignores the pragma under -ffp-contract=fast, so do
   not compile this file with that flag under Clang. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#define SPGEN_AS_WRITTEN
#elif defined(__GNUC__)
#define SPGEN_AS_WRITTEN __attribute__((optimize("fp-contract=off")))
#else
#define SPGEN_AS_WRITTEN
#endif
]] },
  { name = "exp_neg", needs = { "float_ops" }, text = [[
/* e^t for t <= 0 from + - * / only (docs/int8.md, 5.4) */
SPGEN_AS_WRITTEN static float spgen_exp_neg(float t)
{
    float kf, r, p, scale;
    int32_t k;
    uint32_t bits;
    if (t < -80.0f)
        return 0.0f;
    kf = t * 0x1.715476p+0f;
    k = (int32_t)(kf - 0.5f);
    r = t - (float)k * 0x1.62e4p-1f;
    r = r - (float)k * 0x1.7f7d1cp-20f;
    p = 0x1.a01a02p-13f;
    p = p * r + 0x1.6c16c2p-10f;
    p = p * r + 0x1.111112p-7f;
    p = p * r + 0x1.555556p-5f;
    p = p * r + 0x1.555556p-3f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    bits = (uint32_t)(k + 127) << 23;
    memcpy(&scale, &bits, 4);
    return p * scale;
}
]] },
  { name = "w3_float", needs = { "exp_neg" }, text = [[
/* The attention weight of the 3x3 branch in Q30 from the branch means, in
   float (docs/int8.md, 5.4); k3, k1: s_in * s3, s_in * s1. */
SPGEN_AS_WRITTEN static int32_t spgen_w3(int32_t mean3, int32_t mean1, float k3, float k1, float b3, float b1)
{
    const float m3 = (float)mean3 * k3 + b3, m1 = (float)mean1 * k1 + b1;
    const float d = m3 - m1;
    const float e = spgen_exp_neg(-fabsf(d));
    const float big = 1.0f / (1.0f + e);
    const int32_t wbig = (int32_t)(big * 1073741824.0f);
    return d >= 0.0f ? wbig : (1 << 30) - wbig;
}
]] },
  { name = "w3_fixed", needs = { "rq" }, text = [[
/* sigmoid(i / 8) in Q30, i = 0..64 (docs/int8.md, 5.5) */
static const int32_t spgen_sigmoid_q30[65] = {
    536870912, 570381721, 603632421, 636370916, 668360618, 699386960, 729262575, 757830903,
    784968172, 810583795, 834619371, 857046527, 877863909, 897093617, 914777356, 930972558,
    945748661, 959183671, 971361116, 982367420, 992289723, 1001214117, 1009224275, 1016400435,
    1022818680, 1028550470, 1033662384, 1038216025, 1042268056, 1045870324, 1049070061, 1051910126,
    1054429278, 1056662466, 1058641119, 1060393441, 1061944684, 1063317427, 1064531819, 1065605823,
    1066555430, 1067394862, 1068136757, 1068792334, 1069371547, 1069883223, 1070335182, 1070734352,
    1071086865, 1071398150, 1071673008, 1071915687, 1072129942, 1072319092, 1072486072, 1072633474,
    1072763590, 1072878443, 1072979821, 1073069303, 1073148282, 1073217991, 1073279517, 1073333819,
    1073381745};

/* The attention weight of the 3x3 branch in Q30 from the branch means, in
   integers (docs/int8.md, 5.5): the mean difference in Q8, the table
   interpolated. */
static int32_t spgen_w3(int32_t mean3, int32_t mean1, int32_t md3, int ed3, int32_t md1, int ed1, int32_t db)
{
    const int64_t dq = (int64_t)spgen_rq(mean3, md3, ed3) - spgen_rq(mean1, md1, ed1) + db;
    const int32_t a = (int32_t)(dq < 0 ? (-dq > 2048 ? 2048 : -dq) : (dq > 2048 ? 2048 : dq));
    const int32_t i = a >> 5, f = a & 31;
    const int32_t wbig = i == 64 ? spgen_sigmoid_q30[64]
        : spgen_sigmoid_q30[i] + (int32_t)(((int64_t)(spgen_sigmoid_q30[i + 1] - spgen_sigmoid_q30[i]) * f + 16) >> 5);
    return dq >= 0 ? wbig : (1 << 30) - wbig;
}
]] },
}

-- The helpers text for the names used (ctx.uses), with what they need.
function M.prelude(uses)
  local want = {}
  local function mark(name)
    if want[name] then return end
    want[name] = true
    for _, h in ipairs(HELPERS) do
      if h.name == name then for _, n in ipairs(h.needs) do mark(n) end end
    end
  end
  for name in pairs(uses) do mark(name) end
  local out = {}
  for _, h in ipairs(HELPERS) do
    if want[h.name] then out[#out + 1] = h.text end
  end
  return table.concat(out, "\n")
end

-- " - zp" as C text: " + 128" for -128, "" for 0.
function M.minus(zp)
  if zp == 0 then return "" end
  return zp < 0 and string.format(" + %d", -zp) or string.format(" - %d", zp)
end

-- A float32 value as a C literal that gives it back exactly.
function M.float_literal(v)
  local text = string.format("%.9g", v)
  if not text:find("[.eEn]") then text = text .. ".0" end
  return text .. "f"
end

M.names, M.new_writer = layer.names, writer.new

-- The byte offset in the blob of the int32 word that holds k's first array,
-- nil without arrays: the layer's functions address its arrays from there
-- through their parameter wt (emit_c/layer.lua, weight_base).
function M.weight_base(k)
  local base
  for _, a in pairs(k.q.arrays) do base = math.min(base or a.offset, a.offset) end
  return base and base // 4 * 4
end

-- ", const int32_t *wt" for the functions of a layer with arrays.
function M.weight_param(k)
  return M.weight_base(k) and ", const int32_t *wt" or ""
end

-- The layer's #define lines: P_X value for each { "X", value } of list, then
-- each of k's int8 arrays at its place from wt.
function M.macros(w, P, list, k)
  for _, m in ipairs(list) do w.line("#define %s_%s %d", P, m[1], m[2]) end
  local names = {}
  for name in pairs(k.q.arrays) do names[#names + 1] = name end
  table.sort(names)
  local base = M.weight_base(k)
  for _, name in ipairs(names) do
    local a = k.q.arrays[name]
    local at = a.offset - base
    if a.type == "int8_t" then w.line("#define %s_%s ((const int8_t *)wt + %d)", P, name, at)
    elseif a.type == "int16_t" then w.line("#define %s_%s ((const int16_t *)wt + %d)", P, name, at // 2)
    else w.line("#define %s_%s (wt + %d)", P, name, at // 4) end
  end
end

-- The add's three multipliers (docs/int8.md, "add") for operands a, b and output.
function M.add_multipliers(a, b, out)
  local twice_max = 2.0 * math.max(a.scale, b.scale)
  local ma, ea = qmath.quantize_multiplier(a.scale / twice_max)
  local mb, eb = qmath.quantize_multiplier(b.scale / twice_max)
  local mo, eo = qmath.quantize_multiplier(twice_max / (1048576.0 * out.scale))
  return string.format("%d, %d, %d, %d, %d, %d", ma, ea, mb, eb, mo, eo)
end

-- The lowest value a store of tensor t keeps: its zero point under a relu.
function M.low(t, relu)
  return relu and math.max(-128, t.zp) or -128
end

-- The store of a producer's value (a C int64 expression at the output
-- tensor's scale, before clamping) at element idx of the sample: its own
-- clamp, then the fused residual add (rn[idx]) and relu, then either the
-- store or the global average pool's sum (gsum, see pool_open).
function M.store(w, k, ctx, value, idx)
  local q = k.q
  local t = { string.format("int32_t v = spgen_clamp8(%s, %d);", value, M.low(q.own, k.relu and not k.residual)) }
  ctx.uses.clamp8 = true
  if k.residual then
    ctx.uses.add = true
    t[#t + 1] = string.format("v = spgen_clamp8((int64_t)%d + spgen_add(v%s, rn[%s]%s, %s), %d);", q.sum.zp,
      M.minus(q.own.zp), idx, M.minus(q.residual.zp), M.add_multipliers(q.own, q.residual, q.sum), M.low(q.sum, k.relu))
  end
  local last = q.sum or q.own
  if k.gap then t[#t + 1] = string.format("gsum += v%s;", M.minus(last.zp))
  else t[#t + 1] = string.format("yn[%s] = (int8_t)v;", idx) end
  w.line("{ %s }", table.concat(t, " "))
end

-- With a fused global average pool: before a channel's pixels, its sum;
-- after them, the mean (docs/int8.md, global_avgpool).
function M.pool_open(w, k)
  if k.gap then w.line("int32_t gsum = 0;") end
end

function M.pool_close(w, k, ctx, c, plane)
  if k.gap then
    ctx.uses.rdiv, ctx.uses.clamp8 = true, true
    w.line("yn[%s] = spgen_clamp8(%d + spgen_rdiv_away(gsum, %d), -128);", c, k.q.out.zp, plane)
  end
end

-- The kernel function (layer.wrapper) on int8 values and int64 scratch.
function M.wrapper(w, fn, k, ctx, sizes, body)
  return layer.wrapper(w, fn, nil, k, ctx, sizes, body,
    { type = "int8_t", scratch = "int64_t", weights = M.weight_base(k) and "int32_t" })
end

-- A k x k window at stride s with padding pad around output pixel (oy, ox)
-- of an h x w input: body (a C statement) for each tap inside it, with ky,
-- kx (declared by the caller) and iy, ix in scope.
function M.window(w, P, size, stride, pad, body)
  w.open("for (ky = 0; ky < %d; ++ky) {", size)
  w.line("const int iy = %d * oy + ky - %d;", stride, pad)
  w.line("if (iy < 0 || iy >= %s_H) continue;", P)
  w.open("for (kx = 0; kx < %d; ++kx) {", size)
  w.line("const int ix = %d * ox + kx - %d;", stride, pad)
  w.line("if (ix < 0 || ix >= %s_W) continue;", P)
  w.line(body)
  w.close()
  w.close()
end

return M
