-- CUDA for an SPConv whose output map has at most 16 pixels (the 4x4 layers
-- of a CIFAR ResNet), with spgen --cuda-spconv map: one block per (output
-- channel, sample), whose KW warps split the input channels over their
-- 32 * KW lanes. Each lane accumulates the whole map of both branches over
-- its channels, so one weight load serves every pixel, and the block holds
-- the whole map: the branch means are the sums of its own outputs, so the
-- layer needs no statistics (no writer's store sums, no statistics kernel,
-- no attention prologue from them). Then
--   a reduce-scatter over the warp's lanes leaves each lane the warp's total
--   of one (branch, pixel) value (lane / L: values 0 .. NV/2 - 1 the 3x3
--   branch's pixels, the rest the 1x1 branch's, each held by L = 32 / NV
--   lanes); the warps' totals are added in shared memory, in order;
--   the first warp sums each branch over its half of the lanes, computes the
--   attention (every lane alike) and stores al3 * o3 + al1 * o1 + be with
--   the residual, relu or global average pool fused.
local attention_text = require("spgen.attention")
local common = require("spgen.emit_cuda.common")
local tiling = require("spgen.emit_cuda.tiling")

local M = {}

M.MAX_PIXELS = 16
M.MAX_WARPS = 8

local FULL = "0xffffffffu"

function M.fits(k)
  return k.node.shape[2] * k.node.shape[3] <= M.MAX_PIXELS
end

-- The warps per block: as many as the thread target allows over the grid's
-- blocks (co x batch), while the longest part still gives each lane a channel.
function M.describe(k, ctx, P, fn)
  local a, node = k.node.attrs, k.node
  local c, r, co = a.cin, a.r, a.out
  local rg = r // a.groups
  local target = ctx.tiling.threads or tiling.TARGET_THREADS
  local most = math.max(rg, r - rg, c - r)
  local kw = 1
  while kw < M.MAX_WARPS and co * ctx.batch * 64 * kw <= target and 64 * kw <= most do kw = kw * 2 end
  local howo = node.shape[2] * node.shape[3]
  local half = 1
  while half < howo do half = half * 2 end
  return {
    map = true, P = P, fn = fn .. "_out", k = k, kw = kw, howo = howo, half = half,
    c = c, r = r, rg = rg, co = co, cg = co // a.groups, s = a.stride,
    h = k.in_shape[2], w = k.in_shape[3], ho = node.shape[2], wo = node.shape[3], post = k.bn ~= nil,
    -- float4 loads of a channel's map: whole maps of a multiple of 4 floats
    -- in the arena (64-byte aligned buffers); the caller's input may be any
    vec = (k.in_shape[2] * k.in_shape[3]) % 4 == 0 and k.refs.inputs[1] ~= "input",
  }
end

-- Loads the input elements `need` (a set of flat indices in the channel's
-- map xc) into registers; returns the name of element e.
local function load_map(w, d, need)
  local idx = {}
  for e in pairs(need) do idx[#idx + 1] = e end
  table.sort(idx)
  if d.vec then
    local quads, t = {}, {}
    for _, e in ipairs(idx) do
      if not quads[e // 4] then
        quads[e // 4] = true
        t[#t + 1] = string.format("q%d = __ldg((const float4 *)xc + %d)", e // 4, e // 4)
      end
    end
    for i = 1, #t, 4 do w.line("const float4 %s;", table.concat(t, ", ", i, math.min(i + 3, #t))) end
    return function(e) return string.format("q%d.%s", e // 4, ("xyzw"):sub(e % 4 + 1, e % 4 + 1)) end
  end
  local t = {}
  for _, e in ipairs(idx) do t[#t + 1] = string.format("x%d = __ldg(xc + %d)", e, e) end
  for i = 1, #t, 6 do w.line("const float %s;", table.concat(t, ", ", i, math.min(i + 5, #t))) end
  return function(e) return "x" .. e end
end

local function lines(w, t, per)
  for i = 1, #t, per do w.line(table.concat(t, " ", i, math.min(i + per - 1, #t))) end
end

-- The 3x3 taps over the group's RG representative channels (the GWC with
-- the PWC of the group's channels merged in), into a3; padding taps are
-- left out.
local function window_part(w, d)
  local P = d.P
  local fm, need = {}, {}
  for t = 0, 8 do
    local ky, kx = t // 3, t % 3
    for oy = 0, d.ho - 1 do
      for ox = 0, d.wo - 1 do
        local iy, ix = d.s * oy + ky - 1, d.s * ox + kx - 1
        if iy >= 0 and iy < d.h and ix >= 0 and ix < d.w then
          fm[#fm + 1] = { t = t, p = oy * d.wo + ox, e = iy * d.w + ix }
          need[iy * d.w + ix] = true
        end
      end
    end
  end
  w.line("#pragma unroll 1")
  w.open("for (int j = tid; j < %s_RG; j += %s_NT) { /* 3x3 taps over the group's representative channels */", P, P)
  w.line("const float *xc = xn + (grp * %s_RG + j) * (%s_H * %s_W);", P, P, P)
  w.line("const float *g = %s_G + co * (%s_RG * 9) + j * 9;", P, P)
  local xe = load_map(w, d, need)
  local gs = {}
  for t = 0, 8 do gs[#gs + 1] = string.format("g%d = __ldg(g + %d)", t, t) end
  w.line("const float %s;", table.concat(gs, ", "))
  local t = {}
  for _, f in ipairs(fm) do t[#t + 1] = string.format("a3_%d += g%d * %s;", f.p, f.t, xe(f.e)) end
  lines(w, t, 8)
  w.close()
end

-- 1x1 taps over `count` channels (index `chan` of j), into acc; at stride 2
-- over the sums of the 2x2 average-pool windows (the 1/4 is in Q).
local function point_part(w, d, acc, count, chan, what)
  local P = d.P
  local need, src = {}, {}
  for oy = 0, d.ho - 1 do
    for ox = 0, d.wo - 1 do
      local p, e = oy * d.wo + ox, d.s * oy * d.w + d.s * ox
      src[p] = d.s == 2 and { e, e + 1, e + d.w, e + d.w + 1 } or { e }
      for _, i in ipairs(src[p]) do need[i] = true end
    end
  end
  w.line("#pragma unroll 2")
  w.open("for (int j = tid; j < %s; j += %s_NT) { /* %s */", count, P, what)
  w.line("const int ci = %s;", chan)
  w.line("const float *xc = xn + ci * (%s_H * %s_W);", P, P)
  w.line("const float q = __ldg(%s_Q + co * %s_C + ci);", P, P)
  local xe = load_map(w, d, need)
  local t = {}
  for p = 0, d.howo - 1 do
    local terms = {}
    for _, i in ipairs(src[p]) do terms[#terms + 1] = xe(i) end
    local x = #terms == 1 and terms[1] or "(" .. table.concat(terms, " + ") .. ")"
    t[#t + 1] = string.format("%s_%d += q * %s;", acc, p, x)
  end
  lines(w, t, 8)
  w.close()
end

-- The reduce-scatter of the NV values `v` over the warp: at each lane
-- offset o, while more than one value is left, a lane keeps the half its
-- bit o picks and adds its partner's copy of it (sent: the other half);
-- then whole sums. Lane l ends with the total of value l / (32 / NV) in
-- v[1], in a fixed order.
local function reduce_scatter(w, v)
  local m, o = #v, 16
  while o >= 1 do
    if m > 1 then
      local h = m // 2
      w.open("{")
      w.line("const bool up = (lane & %d) != 0;", o)
      local t = {}
      for i = 1, h do
        t[#t + 1] = string.format("%s = (up ? %s : %s) + __shfl_xor_sync(%s, up ? %s : %s, %d);",
          v[i], v[i + h], v[i], FULL, v[i], v[i + h], o)
      end
      lines(w, t, 2)
      w.close()
      m = h
    else
      w.line("%s += __shfl_xor_sync(%s, %s, %d);", v[1], FULL, v[1], o)
    end
    o = o // 2
  end
end

-- The store of the first warp: lane l < 16 with l % L == 0 holds pixel
-- l / L of the 3x3 branch (t) and gets its 1x1 branch's from lane l + 16.
local function store(w, d, L)
  local P, k = d.P, d.k
  w.line("const float o1 = __shfl_xor_sync(%s, t, 16); /* the same pixel's 1x1 branch */", FULL)
  local pix = L > 1 and string.format("lane / %d", L) or "lane"
  local own = { "lane < 16" }
  if L > 1 then own[#own + 1] = string.format("lane %% %d == 0", L) end
  if d.howo < d.half then own[#own + 1] = string.format("%s < %s_HOWO", pix, P) end
  local idx = string.format("(n * %s_CO + co) * %s_HOWO + %s", P, P, pix)
  local mid = common.epilogue(k, idx)
  local v = "al3 * t + al1 * o1 + be"
  if not k.gap then
    w.line("if (%s) { float v = %s;%s y[%s] = v; }", table.concat(own, " && "), v, mid ~= "" and " " .. mid or "", idx)
    return
  end
  w.line("float v = 0.0f;")
  w.line("if (%s) { v = %s;%s }", table.concat(own, " && "), v, mid ~= "" and " " .. mid or "")
  w.line("v = lanes_sum(v, 16); /* the fused global average pool */")
  w.line("if (lane == 0)")
  w.line("    y[n * %s_CO + co] = v * (1.0f / (float)%s_HOWO);", P, P)
end

-- Emits the layer described by M.describe: { text, launch, note }.
function M.emit(k, ctx, d)
  local node = k.node
  local P = d.P
  local L = 32 // (2 * d.half)
  local w = common.new_writer()
  common.macros(w, P, {
    { "N", ctx.batch }, { "C", d.c }, { "R", d.r }, { "H", d.h }, { "W", d.w }, { "S", d.s },
    { "CO", d.co }, { "HO", d.ho }, { "WO", d.wo }, { "HOWO", d.howo }, { "RG", d.rg }, { "CG", d.cg },
    { "KW", d.kw, "warps per block, splitting the input channels (threadIdx.y)" },
    { "NT", 32 * d.kw, "threads per block: the lanes over the input channels" },
  }, k, ctx)
  w.line("")
  common.kernel_head(w, P .. "_NT", d.fn, common.params(k))
  w.line("const int lane = threadIdx.x, tid = threadIdx.y * 32 + lane; /* tid: the first input channel */")
  w.line("const int co = blockIdx.x, n = blockIdx.y, grp = co / %s_CG; /* output channel, sample, group */", P)
  w.line("const float *xn = x + n * (%s_C * %s_H * %s_W);", P, P, P)
  local v, decl = {}, {}
  for _, acc in ipairs({ "a3", "a1" }) do
    for p = 0, d.half - 1 do
      v[#v + 1] = string.format("%s_%d", acc, p)
      decl[#decl + 1] = v[#v] .. " = 0.0f"
    end
  end
  w.line("float %s;", table.concat(decl, ", "))
  if d.rg > 0 then window_part(w, d) end
  if d.r - d.rg > 0 then
    point_part(w, d, "a3", P .. "_R - " .. P .. "_RG", string.format("j + (j >= grp * %s_RG ? %s_RG : 0)", P, P),
      "1x1 taps over the other representative channels")
  end
  if d.c - d.r > 0 then point_part(w, d, "a1", P .. "_C - " .. P .. "_R", P .. "_R + j", "1x1 taps over the redundant channels") end
  reduce_scatter(w, v)
  w.line("float t = %s; /* this lane's value, the warp's total */", v[1])
  if d.kw > 1 then
    w.line("__shared__ float part[%s_KW][32];", P)
    w.line("part[threadIdx.y][lane] = t;")
    w.line("__syncthreads();")
    w.line("if (threadIdx.y != 0)")
    w.line("    return;")
    w.line("t = 0.0f;")
    w.line("for (int i = 0; i < %s_KW; ++i) /* the warps' totals, in order */", P)
    w.line("    t += part[i][lane];")
  end
  w.line("/* the branch sums: lanes 0-15 hold the 3x3 branch's pixels, 16-31 the 1x1 branch's */")
  w.line("const float m = lanes_sum(%s, 16), other = __shfl_xor_sync(%s, m, 16);",
    L > 1 and string.format("lane %% %d == 0 ? t : 0.0f", L) or "t", FULL)
  w.line("float m3 = lane < 16 ? m : other, m1 = lane < 16 ? other : m, al3, al1, be;")
  attention_text.emit(w, P, d.post, function(name) return string.format("__ldg(%s_%s + co)", P, name) end,
    { a3 = "al3", a1 = "al1", be = "be" })
  store(w, d, L)
  w.close()
  local grid, block = { d.co, ctx.batch }, { 32, d.kw }
  common.check_grid(k, grid, block)
  local label = string.format("layer %d (spconv '%s')", k.index, node.name or "")
  local map = d.ho .. "x" .. d.wo
  return {
    text = w.text(),
    note = string.format("map: a block per (channel, sample) holds its whole %s map; %s split the input channels;"
      .. " the attention from the map's own sums", map, d.kw > 1 and d.kw .. " warps" or "its 32 lanes"),
    launch = function(ptrs)
      return common.launch(d.fn, grid, block, common.args(k, ptrs), label .. " output")
    end,
  }
end

return M
