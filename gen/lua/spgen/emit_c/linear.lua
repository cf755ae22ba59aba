-- C for a linear layer (batchnorm folded, relu and residual in the store):
-- 4 outputs at a time share each input load.
local layer = require("spgen.emit_c.layer")
local blocked = require("spgen.emit_c.blocked")

local M = {}

function M.emit(k, ctx)
  local a = k.node.attrs
  local P, fn = layer.names(k, ctx)
  local w = layer.new_writer()
  layer.macros(w, P, { { "IN", a.cin }, { "OUT", a.out }, { "HO", 1 }, { "WO", 1 } }, k)
  w.line("")
  w.line("static void %s_out(const float *x, %sfloat *y%s)", fn, k.residual and "const float *r, " or "", layer.weight_param(k))
  w.open("{")
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
  w.close()
  w.line("")
  -- a blocked input is one pixel (tiling.lua): the features padded at its end
  local call = layer.wrapper(w, fn, P, k, ctx, blocked.sizes(k, a.cin, 1, a.out, 1), function()
    w.line("%s_out(xn, %syn, wt);", fn, k.residual and "rn, " or "")
  end)
  return { text = w.text(), call = call }
end

return M
