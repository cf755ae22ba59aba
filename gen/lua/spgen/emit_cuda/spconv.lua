-- CUDA for one SPConv layer in the one-pass form (DESIGN.md section 1), from
-- the same folded arrays as the C backend (fold/spconv.lua: G, Q, B3, B1,
-- PA, PB). Two kernels:
--   _stats  block (input channel, sample): the window sums T[ci][9] of the
--           representative channels and the channel sums S[ci], into the
--           statistics buffer (per sample, so the batch runs in parallel)
--   _out    the direct-convolution pass (direct.lua); each block first
--           turns the statistics into the attention of its channels (branch
--           means, softmax, epilogue coefficients) in shared memory, so no
--           launch is spent on it, then accumulates both branches and stores
--           al3 * o3 + al1 * o1 + be with the residual, relu or pool fused.
local attention_text = require("spgen.attention")
local common = require("spgen.emit_cuda.common")
local direct = require("spgen.emit_cuda.direct")

local M = {}

M.STATS_THREADS = 256

-- Kernel row (or column) t reads input row i for some output o < n_out iff
-- i = s * o + t - 1: the literal test of `var`, or "true" when every row is.
local function reads(s, t, n_out, n_in, var)
  local all = true
  for i = 0, n_in - 1 do
    local d = i + 1 - t
    if not (d >= 0 and d < s * n_out and d % s == 0) then all = false end
  end
  if all then return "true" end
  local shifted = t == 1 and var or string.format("%s %s 1", var, t == 0 and "+" or "-")
  local test = string.format("(unsigned)(%s) < %du", shifted, s * n_out)
  if s > 1 then test = test .. string.format(" && (%s) %% %d == 0", shifted, s) end
  return test
end

local function stats_kernel(w, d)
  local P = d.P
  w.line("/* Window sums T[ci][ky][kx] of the representative channels (the inputs each 3x3 tap")
  w.line("   reads, summed over the output positions: what the 3x3 branch's mean needs) and")
  w.line("   channel sums S[ci]; one block per (channel, sample), in a fixed order. */")
  w.line("__global__ void __launch_bounds__(%s_STN) %s_stats(const float *__restrict__ x)", P, d.layer_fn)
  w.open("{")
  w.line("const int c = blockIdx.x, n = blockIdx.y, tid = threadIdx.x;")
  w.line("const float *xc = x + (n * %s_C + c) * (%s_H * %s_W);", P, P, P)
  w.line("float t0 = 0.0f, t1 = 0.0f, t2 = 0.0f, t3 = 0.0f, t4 = 0.0f, t5 = 0.0f, t6 = 0.0f, t7 = 0.0f, t8 = 0.0f, sum = 0.0f;")
  w.open("for (int e = tid; e < %s_H * %s_W; e += %s_STN) {", P, P, P)
  w.line("const int iy = e / %s_W, ix = e %% %s_W;", P, P)
  w.line("const float v = __ldg(xc + e);")
  w.line("/* does kernel row ky (column kx) read this input row (column) for some output? */")
  local rows, cols = {}, {}
  for t = 0, 2 do
    rows[#rows + 1] = string.format("r%d = %s", t, reads(d.s, t, d.ho, d.h, "iy"))
    cols[#cols + 1] = string.format("k%d = %s", t, reads(d.s, t, d.wo, d.w, "ix"))
  end
  w.line("const bool %s;", table.concat(rows, ", "))
  w.line("const bool %s;", table.concat(cols, ", "))
  w.line("sum += v;")
  local adds = {}
  for ky = 0, 2 do
    for kx = 0, 2 do adds[#adds + 1] = string.format("t%d += r%d && k%d ? v : 0.0f;", ky * 3 + kx, ky, kx) end
  end
  w.line(table.concat(adds, " "))
  w.close()
  common.warp_partials(w, "part", { "t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8", "sum" }, P .. "_STN / 32")
  w.open("if (tid < 10) {")
  w.line("float *st = %s_STATS + n * %s_SST; /* this sample's T[R][9], then S[C] */", P, P)
  common.partial_total(w, "part", P .. "_STN / 32")
  w.line("if (tid == 9)")
  w.line("    st[%s_R * 9 + c] = v;", P)
  w.line("else if (c < %s_R)", P)
  w.line("    st[c * 9 + tid] = v;")
  w.close()
  w.close()
end

-- The attention of the block's NC channels for samples first .. first +
-- NSPAN - 1, one warp per (sample, channel): the branch means from the
-- statistics (the mean of a linear map is the map of the sums), softmax over
-- the two branches, and the epilogue coefficients, into shared memory.
local function attention(w, d, first)
  local P = d.P
  w.line("__shared__ float sal3[%s_NSPAN][%s_NC], sal1[%s_NSPAN][%s_NC], sbe[%s_NSPAN][%s_NC];", P, P, P, P, P, P)
  w.open("{ /* the attention of this tile's channels */")
  w.line("const int first = %s, lane = tid %% 32;", first)
  w.open("for (int i = tid / 32; i < %s_NSPAN * %s_NC; i += %s_NT / 32) {", P, P, P)
  w.line("const int sn = i / %s_NC, c = i %% %s_NC, co = c0 + c;", P, P)
  w.open("if (first + sn < %s_N) {", P)
  w.line("const float *st = %s_STATS + (first + sn) * %s_SST;", P, P)
  w.line("const float *tg = st + grp * (%s_RG * 9), *sum = st + %s_R * 9; /* the group's window sums; channel sums */", P, P)
  w.line("const float *g = %s_G + co * (%s_RG * 9), *q = %s_Q + co * %s_C;", P, P, P, P)
  w.line("float m3 = 0.0f, m1 = 0.0f;")
  w.line("for (int j = lane; j < %s_RG * 9; j += 32)", P)
  w.line("    m3 += __ldg(g + j) * tg[j];")
  w.line("for (int j = lane; j < %s_R; j += 32)", P)
  w.line("    m3 += __ldg(q + j) * sum[j];")
  w.line("for (int j = %s_R + lane; j < %s_C; j += 32)", P, P)
  w.line("    m1 += __ldg(q + j) * sum[j];")
  w.line("m3 = warp_sum(m3);")
  w.line("m1 = warp_sum(m1);")
  w.open("if (lane == 0) {")
  attention_text.emit(w, P, d.post, function(name) return string.format("__ldg(%s_%s + co)", P, name) end,
    { a3 = "sal3[sn][c]", a1 = "sal1[sn][c]", be = "sbe[sn][c]" })
  w.close()
  w.close()
  w.close()
  w.line("__syncthreads();")
  w.close()
end

-- Emits the layer; returns { text, launch = fn(ptrs) }.
function M.emit(k, ctx)
  local a, node = k.node.attrs, k.node
  local P, fn = common.names(k, ctx)
  local c, r, co, g = a.cin, a.r, a.out, a.groups
  local rg, cg = r // g, co // g
  local h, wd, ho, wo = k.in_shape[2], k.in_shape[3], node.shape[2], node.shape[3]
  local sst = r * 9 + c
  ctx.stats_floats = math.max(ctx.stats_floats, ctx.batch * sst)
  local d = {
    P = P, threads = ctx.threads, fn = fn .. "_out", layer_fn = fn, k = k, n = ctx.batch, h = h, w = wd, co = co, ho = ho, wo = wo,
    k_size = 3, s = a.stride, pad = 1, cg = cg, grp_size = P .. "_CG", uses_grp = true, post = k.bn ~= nil,
    red = rg * 9 + (r - rg) + (c - r), accs = { "a3", "a1" },
    -- GWC with the PWC merged into its taps over the group's channels; the
    -- PWC of the other representative channels into a3, CONV1x1 into a1
    parts = {
      { kind = "window", acc = "a3", count = rg, base = "grp * " .. P .. "_RG", w = P .. "_G", wstride = rg * 9 },
      { kind = "point", acc = "a3", count = r - rg, chan = string.format("j + (j >= grp * %s_RG ? %s_RG : 0)", P, P),
        w = P .. "_Q", wstride = c, pool = a.stride == 2 },
      { kind = "point", acc = "a1", count = c - r, chan = P .. "_R + j", w = P .. "_Q", wstride = c, pool = a.stride == 2 },
    },
    combine = function(ch, p)
      return string.format("sal3[sn][%d] * a3_%d_%d + sal1[sn][%d] * a1_%d_%d", ch, ch, p, ch, ch, p)
    end,
    bias = function(ch) return string.format("sbe[sn][%d]", ch) end,
  }
  d.prologue = function(w, first) attention(w, d, first) end
  local w = common.new_writer()
  local out = direct.emit(w, d)
  local stn = math.min(M.STATS_THREADS, math.max(32, common.ceil_div(h * wd, 32) * 32))
  local list = {
    { "N", ctx.batch }, { "C", c }, { "R", r }, { "H", h }, { "W", wd }, { "S", a.stride }, { "PAD", 1 },
    { "CO", co }, { "HO", ho }, { "WO", wo }, { "RG", rg }, { "CG", cg },
    { "SST", sst, "statistics floats per sample" }, { "STN", stn, "threads of the statistics kernel" },
  }
  for _, m in ipairs(out.macros) do list[#list + 1] = m end
  common.macros(w, P, list, k, ctx)
  w.line("#define %s_STATS %s_dstats", P, ctx.prefix)
  w.line("")
  stats_kernel(w, d)
  w.line("")
  out.body()
  common.check_grid(k, { c, ctx.batch }, { stn })
  common.check_grid(k, out.grid, out.block)
  local label = string.format("layer %d (spconv '%s')", k.index, node.name or "")
  return {
    text = w.text(),
    tile = out.tile,
    launch = function(ptrs)
      return common.launch(fn .. "_stats", { c, ctx.batch }, { stn }, { ptrs.inputs[1] }, label .. " statistics")
        .. common.launch(d.fn, out.grid, out.block, common.args(k, ptrs), label .. " output")
    end,
  }
end

return M
