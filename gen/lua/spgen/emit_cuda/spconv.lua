-- CUDA for one SPConv layer in the one-pass form (docs/design.md, "The one-pass form"), from
-- the same folded arrays as the C backend (fold/spconv.lua: G, Q, B3, B1,
-- PA, PB). One or two kernels:
--   _stats  block (input channel, sample): the window sums T[ci][9] of the
--           representative channels and the channel sums S[ci], into the
--           statistics buffer; only when the layer before does not sum them
--           in its store (stats.lua)
--   _out    the direct-convolution pass (direct.lua); each block first
--           turns the statistics into the attention of its channels (branch
--           means, softmax, epilogue coefficients) in shared memory, so no
--           launch is spent on it, then accumulates both branches and stores
--           al3 * o3 + al1 * o1 + be with the residual, relu or pool fused.
local attention_text = require("spgen.attention")
local common = require("spgen.emit_cuda.common")
local direct = require("spgen.emit_cuda.direct")
local mapconv = require("spgen.emit_cuda.mapconv")
local stats = require("spgen.emit_cuda.stats")
local lower = require("spgen.lower")

local M = {}

-- The attention of the block's NCB channels for samples first .. first +
-- NSPAN - 1: the branch means from the statistics (the mean of a linear map
-- is the map of the sums; each sum adds the NB partials of its sample in
-- order), softmax over the two branches, and the epilogue coefficients, into
-- shared memory. Every warp of the block takes part (at batch 1 a block has
-- one or two (sample, channel) pairs, and these sums are its first wait): a
-- pair's dot products are split over `per` warps, whose parts one thread
-- adds in order.
local function attention(w, d, first)
  local P, warps, NCB = d.P, d.tile.threads // 32, d.block_channels_macro
  local pairs = d.block_samples * d.tile.block_channels
  local per = math.max(1, warps // pairs)
  local group = warps // per -- pairs per round
  w.line("__shared__ float sal3[%s_NSPAN][%s], sal1[%s_NSPAN][%s], sbe[%s_NSPAN][%s];", P, NCB, P, NCB, P, NCB)
  w.open("{ /* the attention of this %s's %d (sample, channel) pairs, %d warps per pair */",
    d.tile.channel_tiles > 1 and "block" or "tile", pairs, per)
  w.line("__shared__ float sm[2][%s_NT / 32]; /* the warps' parts of m3, m1 */", P)
  w.line("const int first = %s, warp = tid / 32, part = warp %% %d * 32 + tid %% 32;", first, per)
  w.open("for (int i0 = 0; i0 < %d; i0 += %d) {", pairs, group)
  w.open("{")
  w.line("const int i = i0 + warp / %d, sn = i / %s, co = %s + i %% %s;", per, NCB, d.block_first, NCB)
  w.line("float m3 = 0.0f, m1 = 0.0f;")
  w.open("if (i < %d && first + sn < %s_N) {", pairs, P)
  w.line("const float *st = %s_STATS + (first + sn) * (%s_NB * %s_SST); /* the sample's partials */", P, P, P)
  w.line("const float *tg = st + grp * (%s_RG * 9), *sum = st + %s_R * 9; /* the group's window sums; channel sums */", P, P)
  w.line("const float *g = %s_G + co * (%s_RG * 9), *q = %s_Q + co * %s_C;", P, P, P, P)
  local function dot(acc, from, to, wv, sums)
    w.line("#pragma unroll 1")
    w.open("for (int j = %s; j < %s; j += %d) {", from, to, per * 32)
    w.line("float t = 0.0f;")
    w.line("for (int b = 0; b < %s_NB; ++b)", P)
    w.line("    t += %s[b * %s_SST + j];", sums, P)
    w.line("%s += __ldg(%s + j) * t;", acc, wv)
    w.close()
  end
  dot("m3", "part", P .. "_RG * 9", "g", "tg")
  dot("m3", "part", P .. "_R", "q", "sum")
  dot("m1", P .. "_R + part", P .. "_C", "q", "sum")
  w.close()
  w.line("m3 = warp_sum(m3);")
  w.line("m1 = warp_sum(m1);")
  w.open("if (tid % 32 == 0) {")
  w.line("sm[0][warp] = m3;")
  w.line("sm[1][warp] = m1;")
  w.close()
  w.close()
  w.line("__syncthreads();")
  w.line("const int i = i0 + tid, sn = i / %s, c = i %% %s, co = %s + c;", NCB, NCB, d.block_first)
  w.open("if (tid < %d && i < %d && first + sn < %s_N) { /* pair i: its warps' parts, in order */", group, pairs, P)
  w.line("float m3 = 0.0f, m1 = 0.0f;")
  w.open("for (int k = tid * %d; k < tid * %d + %d; ++k) {", per, per, per)
  w.line("m3 += sm[0][k];")
  w.line("m1 += sm[1][k];")
  w.close()
  attention_text.emit(w, P, d.post, function(name) return string.format("__ldg(%s_%s + co)", P, name) end,
    { a3 = "sal3[sn][c]", a1 = "sal1[sn][c]", be = "sbe[sn][c]" })
  w.close()
  w.line("__syncthreads(); /* sm is refilled next round; sal3, sal1, sbe are ready */")
  w.close()
  w.close()
end

-- The layer's output pass for direct.lua, tiled; or with --cuda-spconv
-- map, where the map is small enough, mapconv.lua's.
function M.describe(k, ctx)
  local a, node = k.node.attrs, k.node
  local P, fn = common.names(k, ctx)
  if ctx.spconv ~= "tile" and mapconv.fits(k) then return mapconv.describe(k, ctx, P, fn) end
  local c, r, co = a.cin, a.r, a.out
  local d = {
    P = P, tiling = ctx.tiling, fn = fn .. "_out", layer_fn = fn, k = k, batch = ctx.batch, conv = lower.conv(k),
    -- the statistics: T of the representative channels, then S of all
    representative = r, stats_floats = r * 9 + c,
    h = k.in_shape[2], w = k.in_shape[3], out_channels = co, ho = node.shape[2], wo = node.shape[3],
    group_outputs = co // a.groups, group_size_macro = P .. "_CG", uses_group = true,
    post = k.bn ~= nil,
    -- col: the channel's column among the block's (its tile's place added)
    combine = function(ch, p, col)
      return string.format("sal3[sn][%s] * a3_%d_%d + sal1[sn][%s] * a1_%d_%d", col, ch, p, col, ch, p)
    end,
    bias = function(_, col) return string.format("sbe[sn][%s]", col) end,
  }
  d.prologue = function(w, first) attention(w, d, first) end
  return direct.layout(d)
end

-- Emits the layer described in ctx.direct (with its statistics' place,
-- stats.plan); returns { text, launch, tile }.
function M.emit(k, ctx)
  local a, node, d = k.node.attrs, k.node, ctx.direct[k.index]
  if d.map then return mapconv.emit(k, ctx, d) end
  local P, fn, c, r = d.P, d.layer_fn, a.cin, a.r
  local h, wd, ho, wo = d.h, d.w, d.ho, d.wo
  local own_stats = d.own_stats
  local w = common.new_writer()
  local out = direct.emit(w, d)
  local stn = own_stats and stats.kernel_threads(h, wd)
  local list = {
    { "N", ctx.batch }, { "C", c }, { "R", r }, { "H", h }, { "W", wd }, { "S", a.stride }, { "PAD", 1 },
    { "CO", a.out }, { "HO", ho }, { "WO", wo }, { "RG", r // a.groups }, { "CG", d.group_outputs },
    { "SST", d.stats_floats, "statistics floats per partial" },
    { "NB", d.partials, own_stats and "statistics partials per sample" or
      string.format("statistics partials per sample, summed by layer %d's store", d.stats_writer) },
  }
  if own_stats then list[#list + 1] = { "STN", stn, "threads of the statistics kernel" } end
  for _, m in ipairs(out.macros) do list[#list + 1] = m end
  common.macros(w, P, list, k, ctx)
  w.line("")
  if own_stats then
    stats.kernel(w, d)
    w.line("")
    common.check_grid(k, { c, ctx.batch }, { stn })
  end
  out.body()
  common.check_grid(k, out.grid, out.block)
  local label = string.format("layer %d (spconv '%s')", k.index, node.name or "")
  return {
    text = w.text(),
    tile = out.tile,
    launch = function(ptrs)
      local first = own_stats and common.launch(fn .. "_stats", { c, ctx.batch }, { stn }, { ptrs.inputs[1] },
        label .. " statistics") or ""
      return first .. common.launch(d.fn, out.grid, out.block, common.args(k, ptrs), label .. " output")
    end,
  }
end

return M
