-- C for a conv2d with its batchnorm folded into the weights and bias, and the
-- residual add, relu and global average pool that follow it in the store.
local tile = require("spgen.emit_c.tile")
local layer = require("spgen.emit_c.layer")
local vtile = require("spgen.emit_c.vtile")
local blocked = require("spgen.emit_c.blocked")
local gemm = require("spgen.emit_c.gemm")
local stem = require("spgen.emit_c.stem")
local blocks = require("spgen.blocks")
local lower = require("spgen.lower")

local M = {}

-- The output pass in vector tiles (k.vt): channel tiles of nc never
-- straddle a group; weights broadcast straight from WT[o][ci][ky][kx].
local function vector_out(w, k, d, bias)
  local a, vt = k.node.attrs, k.vt
  local plane = k.in_shape[2] * k.in_shape[3]
  local vec = vtile.vec(vt)
  w.line("const %s z = {0};", vec.t)
  w.line("int c0, oy, ox, j;")
  vtile.parallel(w, "oy, ox, j")
  w.open("for (c0 = 0; c0 < %d; c0 += %d) {", a.out, vt.channels)
  if a.groups > 1 then
    w.line("const int gb = c0 / %s_COG * %s_CIG; /* first input channel of the group */", d.P, d.P)
  end
  local steps = vtile.steps(d.P, d.conv, d.group, plane)
  vtile.plane(w, vt, steps, function(wr, c, p, idx, skip)
    layer.store_at(wr, k, string.format("a_%d_%d%s", c, p, bias(c)), c, idx, vec, skip)
  end)
  w.close()
end

-- The output pass in blocked tiles (k.bt): tiles of output-channel blocks
-- never straddle a group; weights from WB[block][ci][ky][kx][lane].
local function blocked_out(w, k, d)
  local a, bt = k.node.attrs, k.bt
  local vec = blocked.vec(bt.block)
  w.line("const %s z = {0};", vec.t)
  w.line("int cb, %s;", blocked.counters(d))
  vtile.parallel(w, blocked.counters(d))
  w.open("for (cb = 0; cb < %d; cb += %d) {", blocks.padded(a.out, bt.block) // bt.block, bt.blocks)
  if a.groups > 1 then
    w.line("const int gb = cb * %d / %s_COG * %s_CIG; /* first input channel of the group */", bt.block, d.P, d.P)
  end
  blocked.rows(w, d, function(wr, b, p, pixel)
    local bias = k.w.BB and string.format(" + %s(%s_BB + (cb + %d) * %d)", vec.load, d.P, b, bt.block) or ""
    blocked.store(wr, k, d, string.format("a_%d_%d%s", b, p, bias), b, pixel)
  end)
  w.close()
end

function M.emit(k, ctx)
  if k.bt and k.bt.stem then return stem.emit(k, ctx) end
  local a, node = k.node.attrs, k.node
  local P, fn = layer.names(k, ctx)
  local cig, cog = a.cin // a.groups, a.out // a.groups
  local d = {
    P = P, conv = lower.conv(k), group = a.groups == 1 and 0 or nil,
    h = k.in_shape[2], w = k.in_shape[3], ho = node.shape[2], wo = node.shape[3],
  }
  local bias = k.w.B and function(c) return string.format(" + %s_B[c0 + %d]", P, c) end or function() return "" end
  d.store = function(w, c, p)
    layer.store(w, P, k, string.format("a_%d_%d%s", c, p, bias(c)), c, p)
  end
  local w = layer.new_writer()
  layer.macros(w, P, {
    { "C", a.cin }, { "H", d.h }, { "W", d.w }, { "CO", a.out }, { "HO", d.ho }, { "WO", d.wo },
    { "S", a.stride }, { "CIG", cig }, { "COG", cog },
  }, k)
  w.line("")
  w.line("static void %s_out(const float *x, %sfloat *y%s)", fn, k.residual and "const float *r, " or "", layer.weight_param(k))
  w.open("{")
  if k.bt then
    d.bt, d.in_blocked, d.out_blocked, d.channels = k.bt, k.layout.inputs[1], k.layout.output, a.out
    if k.bt.gemm then
      d.stride = a.stride
      gemm.out(w, k, d)
    else blocked_out(w, k, d) end
  elseif k.vt then
    vector_out(w, k, d, bias)
  else
    w.line("int c0, oy, ox, j%s;", a.groups > 1 and ", cr, g" or "")
    tile.groups(w, d)
  end
  w.close()
  w.line("")
  local call = layer.wrapper(w, fn, P, k, ctx,
    blocked.sizes(k, a.cin, d.h * d.w, a.out, d.ho * d.wo), function()
      w.line("%s_out(xn, %syn, wt);", fn, k.residual and "rn, " or "")
    end)
  return { text = w.text(), call = call }
end

return M
