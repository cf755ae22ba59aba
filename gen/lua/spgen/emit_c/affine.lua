-- C for a standalone per-channel affine map (a batchnorm no producer could
-- absorb) and/or relu. Elementwise, so it may run in place.
local writer = require("spgen.writer")

local M = {}

function M.emit(k, ctx)
  local s = k.node.shape
  local P = string.upper(ctx.prefix) .. "_L" .. k.index
  local fn = ctx.prefix .. "_l" .. k.index
  local w = writer.new()
  w.line("#define %s_C %d", P, s[1])
  w.line("#define %s_HW %d", P, s[2] * s[3])
  if k.bn then
    w.line("#define %s_A (%s_weights + %d)", P, ctx.prefix, k.w.A)
    w.line("#define %s_B (%s_weights + %d)", P, ctx.prefix, k.w.B)
  end
  w.line("")
  w.line("static void %s(const float *x, float *y)", fn)
  w.open("{")
  w.line("int n, c, i;")
  w.open("for (n = 0; n < %d; ++n) {", ctx.batch)
  w.open("for (c = 0; c < %s_C; ++c) {", P)
  w.line("const float *xc = x + (n * %s_C + c) * %s_HW;", P, P)
  w.line("float *yc = y + (n * %s_C + c) * %s_HW;", P, P)
  local v = k.bn and string.format("%s_A[c] * xc[i] + %s_B[c]", P, P) or "xc[i]"
  w.open("for (i = 0; i < %s_HW; ++i) {", P)
  if k.relu then
    w.line("const float v = %s;", v)
    w.line("yc[i] = v > 0.0f ? v : 0.0f;")
  else
    w.line("yc[i] = %s;", v)
  end
  w.close()
  w.close()
  w.close()
  w.close()
  return {
    text = w.text(),
    call = function(x, y) return string.format("%s(%s, %s);", fn, x, y) end,
  }
end

return M
