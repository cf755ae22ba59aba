-- C for the kernels that visit each element once: a standalone batchnorm
-- and/or relu, an add (with relu), global average pool, softmax over
-- channels, and the option-A shortcut (subsample + zero channels).
local layer = require("spgen.emit_c.layer")
local blocked = require("spgen.emit_c.blocked")
local blocks = require("spgen.blocks")

local M = {}

-- The emitter's result: the text and a call of fn with its first nargs
-- inputs and the output, then the layer's weights when with_weights (the
-- int8 emitters use it too).
function M.finish(w, fn, nargs, with_weights)
  return { text = w.text(), call = function(p)
    local args = {}
    for i = 1, nargs do args[i] = p.inputs[i] end
    args[#args + 1] = p.output
    if with_weights then args[#args + 1] = p.weights end
    return string.format("%s(%s);", fn, table.concat(args, ", "))
  end }
end

local function relu(k, v) return k.relu and string.format("%s > 0.0f ? %s : 0.0f", v, v) or v end

-- A standalone batchnorm and/or relu in the blocked layout: a vector of
-- scales and shifts per channel block (padded with zeros).
local function blocked_affine(w, k, ctx, P)
  local s, B = k.node.shape, k.layout.block
  local vec = blocked.vec(B)
  local nb = blocks.padded(s[1], B) // B
  w.line("int c, i;")
  w.open("for (c = 0; c < %d; ++c) { /* channel blocks of the batch */", ctx.batch * nb)
  if k.bn then
    w.line("const %s a = %s(%s_AB + c %% %d * %d), b = %s(%s_BB + c %% %d * %d);",
      vec.t, vec.load, P, nb, B, vec.load, P, nb, B)
  end
  w.open("for (i = 0; i < %s_HW; ++i) {", P)
  w.line("%s v = %s;", vec.t, k.bn and string.format("a * %s(x + (c * %s_HW + i) * %d) + b", vec.load, P, B)
    or string.format("%s(x + (c * %s_HW + i) * %d)", vec.load, P, B))
  if k.relu then w.line("v = (%s)((%s)v & (v > 0.0f));", vec.t, vec.it) end
  w.line("memcpy(y + (c * %s_HW + i) * %d, &v, sizeof v);", P, B)
  w.close()
  w.close()
end

function M.affine(k, ctx)
  local s = k.node.shape
  local P, fn = layer.names(k, ctx)
  local w = layer.new_writer()
  layer.macros(w, P, { { "C", s[1] }, { "HW", s[2] * s[3] } }, k)
  w.line("")
  w.line("static void %s(const float *x, float *y%s)", fn, layer.weight_param(k))
  w.open("{")
  if k.layout and k.layout.output then
    blocked_affine(w, k, ctx, P)
    w.close()
    return M.finish(w, fn, 1, layer.weight_base(k) ~= nil)
  end
  w.line("int n, c, i;")
  w.open("for (n = 0; n < %d; ++n) {", ctx.batch)
  w.open("for (c = 0; c < %s_C; ++c) {", P)
  w.line("const float *xc = x + (n * %s_C + c) * %s_HW;", P, P)
  w.line("float *yc = y + (n * %s_C + c) * %s_HW;", P, P)
  w.open("for (i = 0; i < %s_HW; ++i) {", P)
  w.line("const float v = %s;", k.bn and string.format("%s_A[c] * xc[i] + %s_B[c]", P, P) or "xc[i]")
  w.line("yc[i] = %s;", relu(k, "v"))
  w.close()
  w.close()
  w.close()
  w.close()
  return M.finish(w, fn, 1, layer.weight_base(k) ~= nil)
end

function M.add(k, ctx)
  local s = k.node.shape
  local fn = select(2, layer.names(k, ctx))
  local w = layer.new_writer()
  w.line("static void %s(const float *a, const float *b, float *y)", fn)
  w.open("{")
  w.line("int i;")
  local sizes = blocked.sizes(k, s[1], s[2] * s[3], s[1], s[2] * s[3])
  w.open("for (i = 0; i < %d; ++i) {", ctx.batch * sizes.output)
  w.line("const float v = a[i] + b[i];")
  w.line("y[i] = %s;", relu(k, "v"))
  w.close()
  w.close()
  return M.finish(w, fn, 2)
end

-- A global average pool of a blocked input: one vector of sums per channel
-- block, written out lane by lane to the real channels.
local function blocked_gap(w, k, ctx)
  local s, B = k.in_shape, k.layout.block
  local vec = blocked.vec(B)
  local nb = blocks.padded(s[1], B) // B
  w.line("int n, c, i, l;")
  w.open("for (n = 0; n < %d; ++n) {", ctx.batch)
  w.open("for (c = 0; c < %d; ++c) {", nb)
  w.line("const float *xc = x + (n * %d + c) * %d;", nb, s[2] * s[3] * B)
  w.line("%s v = {0};", vec.t)
  w.line("for (i = 0; i < %d; ++i)", s[2] * s[3])
  w.line("    v += %s(xc + i * %d);", vec.load, B)
  w.line("for (l = 0; l < %d; ++l)", B)
  w.line("    if (c * %d + l < %d)", B, s[1])
  w.line("        y[n * %d + c * %d + l] = v[l] * (1.0f / %d.0f);", s[1], B, s[2] * s[3])
  w.close()
  w.close()
end

function M.gap(k, ctx)
  local s = k.in_shape
  local fn = select(2, layer.names(k, ctx))
  local w = layer.new_writer()
  w.line("static void %s(const float *x, float *y)", fn)
  w.open("{")
  if k.layout and k.layout.inputs[1] then
    blocked_gap(w, k, ctx)
    w.close()
    return M.finish(w, fn, 1)
  end
  w.line("int c, i;")
  w.open("for (c = 0; c < %d; ++c) {", ctx.batch * s[1])
  w.line("float v = 0.0f;")
  w.line("for (i = 0; i < %d; ++i)", s[2] * s[3])
  w.line("    v += x[c * %d + i];", s[2] * s[3])
  w.line("y[c] = v * (1.0f / %d.0f);", s[2] * s[3])
  w.close()
  w.close()
  return M.finish(w, fn, 1)
end

-- Softmax over the channels at each pixel, shifted by the maximum so exp
-- never overflows.
function M.softmax(k, ctx)
  local s = k.node.shape
  local fn = select(2, layer.names(k, ctx))
  local hw = s[2] * s[3]
  local w = layer.new_writer()
  w.line("static void %s(const float *x, float *y)", fn)
  w.open("{")
  w.line("int p, c;")
  w.open("for (p = 0; p < %d; ++p) {", ctx.batch * hw)
  w.line("const float *xp = x + p / %d * %d + p %% %d;", hw, s[1] * hw, hw)
  w.line("float *yp = y + p / %d * %d + p %% %d;", hw, s[1] * hw, hw)
  w.line("float m = xp[0], sum = 0.0f;")
  w.line("for (c = 1; c < %d; ++c)", s[1])
  w.line("    m = xp[c * %d] > m ? xp[c * %d] : m;", hw, hw)
  w.open("for (c = 0; c < %d; ++c) {", s[1])
  w.line("yp[c * %d] = expf(xp[c * %d] - m);", hw, hw)
  w.line("sum += yp[c * %d];", hw)
  w.close()
  w.line("for (c = 0; c < %d; ++c)", s[1])
  w.line("    yp[c * %d] /= sum;", hw)
  w.close()
  w.close()
  return M.finish(w, fn, 1)
end

-- element: the values' C type and the value of real 0 (int8: the zero
-- point), float and 0.0f when absent.
function M.shortcut_a(k, ctx, element)
  local a, s, si = k.node.attrs, k.node.shape, k.in_shape
  local fn = select(2, layer.names(k, ctx))
  local ctype, zero = element and element.type or "float", element and element.zero or "0.0f"
  local w = layer.new_writer()
  w.line("static void %s(const %s *x, %s *y)", fn, ctype, ctype)
  w.open("{")
  w.line("int n, c, oy, ox;")
  w.open("for (n = 0; n < %d; ++n) {", ctx.batch)
  w.open("for (c = 0; c < %d; ++c) {", s[1])
  w.line("%s *yc = y + (n * %d + c) * %d;", ctype, s[1], s[2] * s[3])
  w.open("if (c < %d || c >= %d) {", a.before, a.before + si[1])
  w.line("for (oy = 0; oy < %d; ++oy)", s[2] * s[3])
  w.line("    yc[oy] = %s;", zero)
  w.reopen("} else {")
  w.line("const %s *xc = x + (n * %d + c - %d) * %d;", ctype, si[1], a.before, si[2] * si[3])
  w.line("for (oy = 0; oy < %d; ++oy)", s[2])
  w.line("    for (ox = 0; ox < %d; ++ox)", s[3])
  w.line("        yc[oy * %d + ox] = xc[%d * oy * %d + %d * ox];", s[3], a.stride, si[3], a.stride)
  w.close()
  w.close()
  w.close()
  w.close()
  return M.finish(w, fn, 1)
end

return M
