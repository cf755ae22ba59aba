-- CUDA for maxpool and avgpool: one thread per output, the window written
-- out, a tap's bounds test dropped where every output reads inside and the
-- tap dropped where none does (PyTorch
-- semantics as in the C backend: max ignores padding, avg divides by k*k).
local common = require("spgen.emit_cuda.common")

local M = {}

function M.emit(k, ctx)
  local a, s = k.node.attrs, k.node.shape
  local h, wd = k.in_shape[2], k.in_shape[3]
  local max = k.node.op == "maxpool"
  local by_taps = not max and not a.count_include_pad -- divide by the taps read, counted in n
  local w, P, launch = common.per_item(k, ctx, "const float *__restrict__ x, float *y", ctx.batch * s[1] * s[2] * s[3],
    { { "H", h }, { "W", wd }, { "HO", s[2] }, { "WO", s[3] } }, 1, "outputs (n, c, oy, ox) over the batch")
  w.line("const int oy = i %% (%s_HO * %s_WO) / %s_WO, ox = i %% %s_WO;", P, P, P, P)
  w.line("const float *xc = x + i / (%s_HO * %s_WO) * (%s_H * %s_W);", P, P, P, P)
  w.line("const int iy = %d * oy - %d, ix = %d * ox - %d;", a.stride, a.pad, a.stride, a.pad)
  w.line("float v = %s;", max and "-INFINITY" or "0.0f")
  local fixed = 0
  if by_taps then w.line("int n = 0;") end
  for ky = 0, a.k - 1 do
    local rok = common.inside(common.range(s[2]), a.stride, a.pad, ky, h, "iy + " .. ky)
    for kx = 0, a.k - 1 do
      local cok = common.inside(common.range(s[3]), a.stride, a.pad, kx, wd, "ix + " .. kx)
      local tap = string.format("__ldg(xc + (iy + %d) * %s_W + ix + %d)", ky, P, kx)
      local op = max and string.format("{ const float t = %s; v = t > v ? t : v; }", tap) or string.format("v += %s;", tap)
      local cond = common.all(rok, cok)
      if by_taps and cond == "" then fixed = fixed + 1 end
      if by_taps and cond and cond ~= "" then op = string.format("{ %s n += 1; }", op) end
      if cond == "" then w.line("%s", op) elseif cond then w.line("if (%s) %s", cond, op) end
    end
  end
  local result = max and "v" or string.format("v * (1.0f / %d.0f)", a.k * a.k)
  if by_taps then result = string.format("v / (float)(n + %d)", fixed) end
  w.line("y[i] = %s;", result)
  return common.finish(w, launch)
end

return M
