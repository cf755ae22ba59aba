-- C for maxpool and avgpool: the window written out, border columns peeled
-- and border rows tested as in the convolutions; avg divides by k*k
-- (PyTorch's count_include_pad), or without it by the taps read, counted
-- in n where a row is tested.
local tile = require("spgen.emit_c.tile")
local layer = require("spgen.emit_c.layer")
local blocked = require("spgen.emit_c.blocked")
local blocks = require("spgen.blocks")
local vtile = require("spgen.emit_c.vtile")

local M = {}

-- The blocked layout (tiling.lua): one vector of B channels per pixel and
-- tap; max selects lane by lane (a > v), as the scalar code does; avg
-- divides by k*k or, without count_include_pad, by the taps read.
local function blocked_pool(w, k, ctx, P, max, by_taps)
  local a, s, B = k.node.attrs, k.node.shape, k.layout.block
  local h, wd = k.in_shape[2], k.in_shape[3]
  local vec = blocked.vec(B)
  w.line("int c, oy, ox;")
  vtile.parallel(w, "oy, ox")
  w.open("for (c = 0; c < %d; ++c) { /* channel blocks of the batch */", ctx.batch * blocks.padded(s[1], B) // B)
  w.line("const float *xc = x + c * %d;", h * wd * B)
  w.line("float *yc = y + c * %d;", s[2] * s[3] * B)
  w.open("for (oy = 0; oy < %s_HO; ++oy) {", P)
  for _, col in ipairs(tile.runs(s[3], wd, a.k, a.pad, a.stride)) do
    w.open("for (ox = %d; ox < %d; ++ox) {", col.start, col.stop)
    w.line("const int o = ((%d * oy - %d) * %s_W + %d * ox - %d) * %d;", a.stride, a.pad, P, a.stride, a.pad, B)
    w.line("%s v = %s, t;", vec.t, max and "(" .. vec.t .. "){0} - INFINITY" or "(" .. vec.t .. "){0}")
    local fixed = 0 -- taps read for every output pixel of the run
    if by_taps then w.line("int n = 0;") end
    for ky = 0, a.k - 1 do
      local cond = tile.row_condition(s[2], h, a.stride, a.pad, ky)
      if cond then
        local t = {}
        for kx = 0, a.k - 1 do
          if col.valid[kx] then
            t[#t + 1] = string.format("t = %s(xc + o + %d);", vec.load, (ky * wd + kx) * B)
            t[#t + 1] = max and string.format("v = (%s)(((%s)t & (t > v)) | ((%s)v & ~(t > v)));", vec.t, vec.it, vec.it)
              or "v += t;"
          end
        end
        local taps = #t // 2
        if cond == "" then
          fixed = fixed + taps
          w.line(table.concat(t, " "))
        else
          if by_taps then t[#t + 1] = string.format("n += %d;", taps) end
          w.line("if (%s) { %s }", cond, table.concat(t, " "))
        end
      end
    end
    if by_taps then w.line("v /= (float)(n + %d);", fixed)
    elseif not max then w.line("v *= 1.0f / %d.0f;", a.k * a.k) end
    w.line("memcpy(yc + (oy * %s_WO + ox) * %d, &v, sizeof v);", P, B)
    w.close()
  end
  w.close()
  w.close()
end

function M.emit(k, ctx)
  local a, s = k.node.attrs, k.node.shape
  local P, fn = layer.names(k, ctx)
  local h, wd = k.in_shape[2], k.in_shape[3]
  local max = k.node.op == "maxpool"
  local by_taps = not max and not a.count_include_pad
  local w = layer.new_writer()
  layer.macros(w, P, { { "C", s[1] }, { "H", h }, { "W", wd }, { "HO", s[2] }, { "WO", s[3] } }, k)
  w.line("")
  w.line("static void %s(const float *x, float *y)", fn)
  w.open("{")
  if k.layout and k.layout.output then
    blocked_pool(w, k, ctx, P, max, by_taps)
    w.close()
    return { text = w.text(), call = function(p) return string.format("%s(%s, %s);", fn, p.inputs[1], p.output) end }
  end
  w.line("int c, oy, ox;")
  w.open("for (c = 0; c < %d; ++c) {", ctx.batch * s[1])
  w.line("const float *xc = x + c * %s_H * %s_W;", P, P)
  w.line("float *yc = y + c * %s_HO * %s_WO;", P, P)
  w.open("for (oy = 0; oy < %s_HO; ++oy) {", P)
  local rows = tile.runs(s[2], h, a.k, a.pad, a.stride)
  local cols = tile.runs(s[3], wd, a.k, a.pad, a.stride)
  for _, col in ipairs(cols) do
    w.open("for (ox = %d; ox < %d; ++ox) {", col.start, col.stop)
    w.line("const int o = (%d * oy - %d) * %s_W + %d * ox - %d;", a.stride, a.pad, P, a.stride, a.pad)
    w.line("float v = %s;", max and "-INFINITY" or "0.0f")
    local fixed = 0 -- taps read for every output pixel of the run
    if by_taps then w.line("int n = 0;") end
    for ky = 0, a.k - 1 do
      -- rows valid for some output row; tested where not valid for all
      local some, all = false, true
      for _, r in ipairs(rows) do some = some or r.valid[ky]; all = all and r.valid[ky] end
      if some then
        local cond = string.format("(unsigned)(%d * oy + %d) < %s_H", a.stride, ky - a.pad, P)
        local t = {}
        for kx = 0, a.k - 1 do
          if col.valid[kx] then
            local tap = string.format("xc[o + %d * %s_W + %d]", ky, P, kx)
            t[#t + 1] = max and string.format("v = %s > v ? %s : v;", tap, tap) or string.format("v += %s;", tap)
          end
        end
        if all then fixed = fixed + #t end
        if by_taps and not all then t[#t + 1] = string.format("n += %d;", #t) end
        if all then w.line(table.concat(t, " "))
        else w.line("if (%s) { %s }", cond, table.concat(t, " ")) end
      end
    end
    local result = max and "v" or string.format("v * (1.0f / %d.0f)", a.k * a.k)
    if by_taps then result = string.format("v / (float)(n + %d)", fixed) end
    w.line("yc[oy * %s_WO + ox] = %s;", P, result)
    w.close()
  end
  w.close()
  w.close()
  w.close()
  return { text = w.text(), call = function(p) return string.format("%s(%s, %s);", fn, p.inputs[1], p.output) end }
end

return M
