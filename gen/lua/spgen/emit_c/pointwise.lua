-- C for the kernels that visit each element once: a standalone batchnorm
-- and/or relu, an add (with relu), global average pool, softmax over
-- channels, and the option-A shortcut (subsample + zero channels).
local layer = require("spgen.emit_c.layer")

local M = {}

-- The emitter's result: the text and a call of fn with its first nargs
-- inputs and the output (the int8 emitters use it too).
function M.finish(w, fn, nargs)
  return { text = w.text(), call = function(p)
    local args = {}
    for i = 1, nargs do args[i] = p.inputs[i] end
    args[#args + 1] = p.output
    return string.format("%s(%s);", fn, table.concat(args, ", "))
  end }
end

local function relu(k, v) return k.relu and string.format("%s > 0.0f ? %s : 0.0f", v, v) or v end

function M.affine(k, ctx)
  local s = k.node.shape
  local P, fn = layer.names(k, ctx)
  local w = layer.new_writer()
  layer.macros(w, P, { { "C", s[1] }, { "HW", s[2] * s[3] } }, k, ctx)
  w.line("")
  w.line("static void %s(const float *x, float *y)", fn)
  w.open("{")
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
  return M.finish(w, fn, 1)
end

function M.add(k, ctx)
  local s = k.node.shape
  local fn = select(2, layer.names(k, ctx))
  local w = layer.new_writer()
  w.line("static void %s(const float *a, const float *b, float *y)", fn)
  w.open("{")
  w.line("int i;")
  w.open("for (i = 0; i < %d; ++i) {", ctx.batch * s[1] * s[2] * s[3])
  w.line("const float v = a[i] + b[i];")
  w.line("y[i] = %s;", relu(k, "v"))
  w.close()
  w.close()
  return M.finish(w, fn, 2)
end

function M.gap(k, ctx)
  local s = k.in_shape
  local fn = select(2, layer.names(k, ctx))
  local w = layer.new_writer()
  w.line("static void %s(const float *x, float *y)", fn)
  w.open("{")
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
