-- The direct convolution kernel shared by conv2d and the SPConv output pass
-- (the CUDA counterpart of emit_c/tile.lua): each thread accumulates a
-- register tile of NC output channels x NP pixels over its slice of the
-- input channels, the slices are summed in shared memory, and the epilogue
-- (bias, residual, relu, store or global average pool) runs once per output.
--
-- Index math, in one place (every size a literal macro):
--   blockIdx.y      channel tile: channels c0 .. c0 + NC - 1, c0 = blockIdx.y * NC
--                   (with TC tiles per block: the block's channels cb ..
--                   cb + NCB - 1, cb = blockIdx.y * NCB, and threadIdx.z the
--                   thread's tile, c0 = cb + cl, cl = threadIdx.z * NC)
--   blockIdx.x, tx  pixel group g = blockIdx.x * TX + tx over the whole batch
--                   (with gap: over one sample n = blockIdx.x, in NPB rounds),
--                   pixels q .. q + NP - 1 with q = g * NP, all in one row
--                   because NP divides WO
--   threadIdx.y     input-channel slice ks: channels j = ks, ks + KS, ...
--                   (staged: j = j0 + jj, jj = ks, ks + KS, ... within each
--                   chunk of input channels j0 .. j0 + CH - 1)
-- The generator asserts that these cover every output exactly once.
local common = require("spgen.emit_cuda.common")
local tiling = require("spgen.emit_cuda.tiling")
local stats = require("spgen.emit_cuda.stats")
local lower = require("spgen.lower")

local M = {}

-- The multiply-adds of NC channels x the pixels in `ps`, pixel p reading
-- xname(p).
local function fmas(w, acc, nc, ps, xname)
  local t = {}
  for c = 0, nc - 1 do
    for _, p in ipairs(ps) do t[#t + 1] = string.format("%s_%d_%d += w%d * %s;", acc, c, p, c, xname(p)) end
  end
  w.line(table.concat(t, " "))
end

local function all_pixels(np)
  local ps = {}
  for p = 0, np - 1 do ps[#ps + 1] = p end
  return ps
end

-- The slice loop header over `count` input channels (j: the channel).
local function slices(w, d, count, var)
  var = var or "j"
  if d.tile.slices == 1 then w.open("for (int %s = 0; %s < %s; ++%s) {", var, var, count, var)
  else w.open("for (int %s = ks; %s < %s; %s += %s_KS) {", var, var, count, var, d.P) end
end

-- Shared-memory weight staging, for tiles of 4 or 8 channels: a part's
-- weights come in chunks of CH input channels, which the block copies
-- (coalesced, each weight once) into sw[CH][taps][NCB], and each thread reads
-- a tap's NC weights as NC/4 float4 broadcasts instead of NC loads through
-- L1 (which at batch 256 thrashes: the blocks of one SM hold different
-- channel tiles). STAGE_FLOATS bounds sw.
M.STAGE_FLOATS = 2304

-- The weights of a part per input channel.
local function part_taps(part)
  return part.weights.taps or 1
end

-- Chunk size: the whole part when it fits, else the largest power of two
-- that divides count and fits (nc: the block's channels).
local function chunk(count, taps, nc)
  if count * taps * nc <= M.STAGE_FLOATS then return count end
  local ch = 1
  while count % (ch * 2) == 0 and ch * 2 * taps * nc <= M.STAGE_FLOATS do ch = ch * 2 end
  return ch
end

-- The unrolling of a channel loop of `iters` iterations, or nil for
-- nvcc's own. Under launch bounds ptxas hoists the loads of what is
-- unrolled into the registers it is given, and past them it spills:
-- - nvcc unrolls a 1x1 loop whole; past 32 channels, under a budget short
--   of the 255 registers a thread may have, by 4 only (sp_vgg16_cifar at
--   batch 2, layer 5, 64 channels: 16 bytes spilled at 128 registers);
-- - a staged chunk it would also unroll whole (a 256-channel 1x1 conv: 384
--   bytes), so by 4, and by 2 under launch bounds where that is one or two
--   bodies between the barriers (sp_resnet20_cifar at batch 256, layer 8,
--   chunks of 4, 4 and 8: 20 bytes at 128 registers).
local function unroll(d, taps, iters)
  if d.stage then return (d.min_blocks and iters <= 8) and 2 or 4 end
  if taps == 1 and d.min_blocks and tiling.budget(d.tile, d.min_blocks) < tiling.MAX_REGS and iters > 32 then
    return 4
  end
  return nil
end

-- Opens the loops over a part's input channels, j the channel; with
-- staging, the chunk loop, its copy into sw and the slice loop within the
-- chunk (jj). src is the address of the weight of the block's channel c at chunk
-- offset r (jj * taps + tap) in the part's layout, after the statement pre
-- (or nil). Returns the number of blocks opened.
local function channel_loops(w, d, part, src, pre)
  local taps, count = part_taps(part), lower.count(d.conv, part)
  if not d.stage then
    local u = unroll(d, taps, common.ceil_div(count, d.tile.slices))
    if u then w.line("#pragma unroll %d", u) end
    slices(w, d, count)
    return 1
  end
  local P, nc = d.P, d.tile.block_channels
  local ch = chunk(count, taps, nc)
  w.open("for (int j0 = 0; j0 < %d; j0 += %d) {", count, ch)
  w.line("__syncthreads(); /* every thread is done with the last chunk */")
  w.open("for (int e = tid; e < %d; e += %s_NT) {", ch * taps * nc, P)
  w.line("const int c = e / %d, r = e %% %d; /* consecutive e read consecutive weights */", ch * taps, ch * taps)
  if pre then w.line(pre) end
  w.line("sw[r * %s + c] = __ldg(%s);", d.block_channels_macro, src)
  w.close()
  w.line("__syncthreads();")
  w.line("#pragma unroll %d", unroll(d, taps, common.ceil_div(ch, d.tile.slices)))
  slices(w, d, ch, "jj")
  w.line("const int j = j0 + jj;")
  return 2
end

-- wc: the thread's staged weights of input channel jj of the chunk (stride:
-- the floats of one input channel in sw).
local function staged_weights(w, d, stride)
  w.line("const float *wc = sw + jj * %s%s;", stride, d.tile.channel_tiles > 1 and " + cl" or "")
end

-- The NC weights w0 .. of one tap: loads at wc + c * (the part's weight
-- row) + off, or (staged) float4s at wc + off * NCB.
local function tap_weights(w, d, part, off)
  local nc, ws = d.tile.channels, {}
  if d.stage then
    local vs = {}
    for v = 0, nc // 4 - 1 do
      vs[#vs + 1] = string.format("v%d = *(const float4 *)(wc + %d)", v, off * d.tile.block_channels + 4 * v)
      for i, f in ipairs({ "x", "y", "z", "w" }) do ws[#ws + 1] = string.format("w%d = v%d.%s", 4 * v + i - 1, v, f) end
    end
    w.line("const float4 %s;", table.concat(vs, ", "))
  else
    local row = lower.row_floats(d.conv, part)
    for c = 0, nc - 1 do ws[#ws + 1] = string.format("w%d = __ldg(wc + %d)", c, c * row + off) end
  end
  w.line("const float %s;", table.concat(ws, ", "))
end

-- A KxK window over the group's input channels: for each kernel row,
-- the S*(NP-1)+K inputs that the NP pixels' taps read, loaded once (zero
-- outside the input: the padding), then K taps x NC channels x NP pixels.
-- Rows, inputs and taps that only ever read padding have no code.
local function window_part(w, d, part)
  local P, t, k, s = d.P, d.tile, part.taps.size, part.taps.stride
  local span = s * (t.pixels - 1) + k
  local array, row = P .. "_" .. part.weights.array, lower.row_floats(d.conv, part)
  local opened = channel_loops(w, d, part,
    string.format("%s + (%s + c) * %d + j0 * %d + r", array, d.block_first, row, k * k))
  w.line("const float *xc = xn + (%s) * (%s_H * %s_W);", common.input_channel(P, d.conv, part, "j", d.uses_group), P, P)
  if d.stage then staged_weights(w, d, k * k * t.block_channels)
  else w.line("const float *wc = %s + c0 * %d + j * %d;", array, row, k * k) end
  for ky = 0, k - 1 do
    if d.row_ok[ky] ~= false then
      w.open("{ /* kernel row %d */", ky)
      w.line("const int o = (iy + %d) * %s_W + ix;", ky, P)
      local zero = {}
      for i = 0, span - 1 do
        local cond = common.all(d.row_ok[ky], d.col_ok[i])
        local load = string.format("__ldg(xc + o + %d)", i)
        if cond == "" then w.line("const float x%d = %s;", i, load)
        elseif cond then w.line("const float x%d = %s ? %s : 0.0f;", i, cond, load)
        else zero[i] = true end
      end
      for kx = 0, k - 1 do
        local ps = {}
        for p = 0, t.pixels - 1 do
          if not zero[s * p + kx] then ps[#ps + 1] = p end
        end
        if #ps > 0 then
          w.open("{")
          tap_weights(w, d, part, ky * k + kx)
          fmas(w, part.branch, t.channels, ps, function(p) return "x" .. (s * p + kx) end)
          w.close()
        end
      end
      w.close()
    end
  end
  for _ = 1, opened do w.close() end
end

-- 1x1 taps over the part's input channels (ci), or pooled the sum of the
-- 2x2 average-pool window (its 1/4 is in the weights).
local function point_part(w, d, part)
  local P, t = d.P, d.tile
  local array, row = P .. "_" .. part.weights.array, lower.row_floats(d.conv, part)
  local chan = common.input_channel(P, d.conv, part, "j", d.uses_group)
  local opened = channel_loops(w, d, part, string.format("%s + (%s + c) * %d + ci", array, d.block_first, row),
    string.format("const int j = j0 + r, ci = %s;", chan))
  w.line("const int ci = %s;", chan)
  w.line("const float *xc = xn + ci * (%s_H * %s_W) + %s_S * (oy * %s_W + ox);", P, P, P, P)
  if d.stage then staged_weights(w, d, d.block_channels_macro)
  else w.line("const float *wc = %s + c0 * %d + ci;", array, row) end
  local xs = {}
  for p = 0, t.pixels - 1 do
    local terms = {}
    for _, at in ipairs(lower.point_reads(part.taps, p)) do
      local off = at.row == 0 and tostring(at.col) or string.format("%s_W + %d", P, at.col)
      terms[#terms + 1] = "__ldg(xc + " .. off .. ")"
    end
    xs[#xs + 1] = string.format("x%d = %s", p, table.concat(terms, " + "))
  end
  w.line("const float %s;", table.concat(xs, ", "))
  tap_weights(w, d, part, 0)
  fmas(w, part.branch, t.channels, all_pixels(t.pixels), function(p) return "x" .. p end)
  for _ = 1, opened do w.close() end
end

-- The accumulation over all parts for this thread's tile.
local function compute(w, d)
  local P, t = d.P, d.tile
  w.line("const float *xn = x + n * (%s_C * %s_H * %s_W);", P, P, P)
  w.line("const int iy = %s_S * oy - %s_PAD, ix = %s_S * ox - %s_PAD; /* first tap of pixel 0 */", P, P, P, P)
  local decl = {}
  for _, acc in ipairs(d.conv.branches) do
    for c = 0, t.channels - 1 do
      for p = 0, t.pixels - 1 do decl[#decl + 1] = string.format("%s_%d_%d = 0.0f", acc, c, p) end
    end
  end
  w.line("float %s;", table.concat(decl, ", "))
  -- staged, every thread takes part in the copies and meets the barriers
  -- (an idle one computes its block's first group, and stores nothing)
  w.open(d.stage and "{" or "if (on) {")
  for _, part in ipairs(d.conv.parts) do
    if lower.count(d.conv, part) > 0 then
      if part.taps.kind == "window" then window_part(w, d, part) else point_part(w, d, part) end
    end
  end
  w.close()
end

-- The output index of channel c, pixel p of the thread's tile.
local function out_index(d, c, p)
  return string.format("(n * %s_CO + c0 + %d) * %s_HOWO + pix + %d", d.P, c, d.P, p)
end

-- Channel c of the thread's tile among the block's channels.
local function column(d, c)
  return d.tile.channel_tiles > 1 and ("cl + " .. c) or tostring(c)
end

-- One output's epilogue: v holds the reduced value; bias, residual, relu,
-- then the store and the next SPConv's statistics, or (gap) the running
-- pooled sum of channel c.
local function finish(w, d, c, p, v)
  local idx = out_index(d, c, p)
  local bias = d.bias and (" + " .. d.bias(c, column(d, c))) or ""
  local tail = d.k.gap and string.format("gs%d += v;", c) or string.format("y[%s] = v;", idx)
  if d.sums then tail = tail .. " " .. stats.add(d.sums, c, p) end
  local mid = common.epilogue(d.k, idx)
  w.line("{ float v = %s%s; %s%s%s }", v, bias, mid, mid ~= "" and " " or "", tail)
end

-- Sums the KS slices through shared memory (slot c * NP + p, owned by slice
-- (c * NP + p) % KS, so the epilogue is spread over the slices), or with one
-- slice finishes straight from the registers.
local function reduce_and_finish(w, d)
  local P, t = d.P, d.tile
  if t.slices == 1 then
    w.open("if (on) {")
    for c = 0, t.channels - 1 do
      for p = 0, t.pixels - 1 do finish(w, d, c, p, d.combine(c, p, column(d, c))) end
    end
    w.close()
    return
  end
  for c = 0, t.channels - 1 do
    for p = 0, t.pixels - 1 do w.line("red[ks][%d][tx] = %s;", c * t.pixels + p, d.combine(c, p, column(d, c))) end
  end
  w.line("__syncthreads();")
  w.open("if (on) {")
  for owner = 0, math.min(t.slices, t.channels * t.pixels) - 1 do
    w.open("if (ks == %d) {", owner)
    for slot = owner, t.channels * t.pixels - 1, t.slices do
      local c, p = slot // t.pixels, slot % t.pixels
      w.open("{")
      w.line("float s = 0.0f;")
      w.line("for (int i = 0; i < %s_KS; ++i) /* the slices, in order */", P)
      w.line("    s += red[i][%d][tx];", slot)
      finish(w, d, c, p, "s")
      w.close()
    end
    w.close()
  end
  w.close()
end

-- The pooled sums of the tile's NC channels over its threads, in a fixed
-- order (common.tile_totals).
local function gap_reduce(w, d)
  local P, t = d.P, d.tile
  w.line("/* the fused global average pool: this block holds every pixel of sample n */")
  local gs = {}
  for c = 0, t.channels - 1 do gs[#gs + 1] = "gs" .. c end
  common.tile_totals(w, P, t, "gsum", gs, P .. "_NC", "c")
  w.line("y[n * %s_CO + c0 + c] = v * (1.0f / (float)%s_HOWO);", P, P)
  w.close()
end

-- The most samples one block's pixel range [b*BP, (b+1)*BP) touches.
local function samples_per_block(d, blocks, bp)
  local most, total = 1, d.batch * d.ho * d.wo
  for b = 0, blocks - 1 do
    local first = b * bp // (d.ho * d.wo)
    local last = (math.min((b + 1) * bp, total) - 1) // (d.ho * d.wo)
    most = math.max(most, last - first + 1)
  end
  return most
end

-- The kernel's tiling (tiling.conv) and grid, into d: tile, stage, pixels
-- (of one output map), pixel_groups (per block's domain), pixel_blocks
-- (with gap, rounds of one block), grid, block_samples (the most samples
-- one block touches), block_first and block_channels_macro (the C names of
-- the block's first channel and of its channel count).
-- d: fn, k (the kernel: residual, relu, gap), conv (lower.conv), batch,
-- out_channels, ho, wo, group_outputs (the output channels of a group),
-- tiling (the options of tiling.conv).
function M.layout(d)
  local gap = d.k.gap
  d.pixels = d.ho * d.wo
  local t = tiling.conv({ batch = d.batch, out_channels = d.out_channels, group_outputs = d.group_outputs,
                          pixels = d.pixels, wo = d.wo, window = d.conv.window.size,
                          macs = lower.macs_per_output(d.conv), gap = gap }, d.tiling)
  d.tile, d.stage = t, t.stage
  d.pixel_groups = d.pixels // t.pixels * (gap and 1 or d.batch)
  d.pixel_blocks = common.ceil_div(d.pixel_groups, t.block_groups)
  d.grid = { gap and d.batch or d.pixel_blocks, d.out_channels // t.block_channels }
  -- coverage: NP | WO keeps a group in one row; a block's channel tiles
  -- split CO within groups; pixel blocks cover the groups, no block idle
  assert(d.wo % t.pixels == 0 and d.group_outputs % t.block_channels == 0
    and d.grid[2] * t.block_channels == d.out_channels, d.fn .. ": channel tiling")
  local tiled = t.channel_tiles > 1
  d.block_first, d.block_channels_macro = tiled and "cb" or "c0", d.P .. (tiled and "_NCB" or "_NC")
  common.assert_cover(d.fn .. " pixel groups", d.pixel_blocks, t.block_groups, d.pixel_groups)
  d.block_samples = gap and 1 or samples_per_block(d, d.pixel_blocks, t.block_groups * t.pixels)
  return d
end

-- After M.layout, d also: P, h, w, combine(c, p, col)
-- (the value of slot c, p before the slice sum; may use sal3/sal1 of sample
-- sn, column col of the block's channels), bias(c, col) or nil,
-- uses_group (the kernel has grp, its channels' group), group_size_macro
-- (of group_outputs), prologue(w, first_sample_expr) or nil, sums (the
-- statistics its store sums for the next SPConv, stats.plan) or nil.
-- Returns { macros (for common.macros), body = fn() writing the kernel to w,
-- grid, block, tile }.
function M.emit(w, d)
  local P, t = d.P, d.tile
  local gap = d.k.gap
  local howo, groups, npb, grid, nspan = d.pixels, d.pixel_groups, d.pixel_blocks, d.grid, d.block_samples
  local staged = 0
  if d.stage then
    for _, part in ipairs(d.conv.parts) do
      local taps, count = part_taps(part), lower.count(d.conv, part)
      if count > 0 then staged = math.max(staged, chunk(count, taps, t.block_channels) * taps * t.block_channels) end
    end
  end
  -- static shared memory: the slice sums, the attention and its warps'
  -- parts, the pooled sums, the statistics' segment sums, the staged weights
  local seg = tiling.segments(t)
  local nseg = t.threads // seg
  local shared = 4 * ((t.slices > 1 and t.slices * t.channels * t.pixels * t.block_groups or 0)
    + (d.prologue and 3 * nspan * t.block_channels + 2 * t.threads // 32 or 0)
    + (gap and t.channels * nseg or 0) + (d.sums and 10 * t.channels * nseg or 0) + staged)
  assert(shared <= 48 * 1024, d.fn .. ": " .. shared .. " bytes of shared memory")

  local win = d.conv.window
  d.row_ok, d.col_ok = {}, {}
  for ky = 0, win.size - 1 do
    d.row_ok[ky] = common.inside(common.range(d.ho), win.stride, win.pad, ky, d.h, "iy + " .. ky)
  end
  for i = 0, win.stride * (t.pixels - 1) + win.size - 1 do
    d.col_ok[i] = common.inside(common.range(d.wo, t.pixels), win.stride, win.pad, i, d.w, "ix + " .. i)
  end
  local macros = {
    { "NC", t.channels, "output channels per thread" },
    { "NP", t.pixels, "pixels per thread, consecutive in a row" },
    { "TX", t.block_groups, "pixel groups per block (threadIdx.x)" },
    { "KS", t.slices, "input-channel slices per block (threadIdx.y), summed in shared memory" },
    { "NT", t.threads, "threads per block" },
    { "HOWO", howo },
  }
  if t.channel_tiles > 1 then
    table.insert(macros, 5,
      { "TC", t.channel_tiles, "channel tiles per block (threadIdx.z), sharing their input loads" })
    table.insert(macros, 6, { "NCB", t.block_channels, "output channels per block" })
  end
  if gap then
    macros[#macros + 1] = { "PG", groups, "pixel groups of one sample" }
    macros[#macros + 1] = { "NPB", npb, "rounds of the block over them" }
  else
    macros[#macros + 1] = { "MG", groups, "pixel groups of the batch" }
  end
  macros[#macros + 1] = { "NSPAN", nspan, "most samples one block's pixels touch" }
  local why
  d.min_blocks, why = tiling.min_blocks(t, { blocks = grid[1] * grid[2], accumulator_sets = #d.conv.branches,
                                       span = win.stride * (t.pixels - 1) + win.size,
                                       extra = d.sums and 10 * t.channels })
  if d.min_blocks then macros[#macros + 1] = { "MINB", d.min_blocks, why } end
  if d.sums then
    for _, m in ipairs(stats.macros(d.sums)) do macros[#macros + 1] = m end
  end

  local body = function()
    common.kernel_head(w, P .. "_NT" .. (d.min_blocks and (", " .. P .. "_MINB") or ""), d.fn, common.params(d.k))
    w.line("const int tx = threadIdx.x%s;", t.slices > 1 and ", ks = threadIdx.y" or "")
    if gap or d.prologue or d.sums or d.stage then
      w.line("const int tid = threadIdx.%s * %s_TX + tx;", t.channel_tiles > 1 and "z" or "y", P)
    end
    if t.channel_tiles > 1 then
      w.line("const int cl = threadIdx.z * %s_NC; /* the tile's place among the block's channels */", P)
      w.line("const int cb = blockIdx.y * %s_NCB, c0 = cb + cl; /* first output channel of the block, of the tile */", P)
    else
      w.line("const int c0 = blockIdx.y * %s_NC; /* first output channel of the tile */", P)
    end
    if d.uses_group then w.line("const int grp = c0 / %s; /* its group */", d.group_size_macro) end
    if t.slices > 1 then w.line("__shared__ float red[%s_KS][%s_NC * %s_NP][%s_TX];", P, P, P, P) end
    if d.stage then w.line("__shared__ __align__(16) float sw[%d]; /* the staged weights of a chunk */", staged) end
    if gap then
      w.line("const int n = blockIdx.x;")
      local gs = {}
      for c = 0, t.channels - 1 do gs[#gs + 1] = string.format("gs%d = 0.0f", c) end
      w.line("float %s; /* this thread's part of the pooled sums */", table.concat(gs, ", "))
      if d.prologue then d.prologue(w, "n") end
      w.open("for (int pb = 0; pb < %s_NPB; ++pb) {", P)
      w.line("const int g = pb * %s_TX + tx;", P)
      w.line("const bool on = g < %s_PG;", P)
      w.line("const int pix = (on ? g : 0) * %s_NP, oy = pix / %s_WO, ox = pix %% %s_WO;", P, P, P)
      if d.prologue then w.line("const int sn = 0;") end
    else
      if d.prologue then d.prologue(w, string.format("blockIdx.x * (%s_TX * %s_NP) / %s_HOWO", P, P, P)) end
      w.line("const int g = blockIdx.x * %s_TX + tx; /* pixel group over the batch */", P)
      w.line("const bool on = g < %s_MG;", P)
      -- an idle thread takes the block's first group: its indices stay in range
      w.line("const int q = (on ? g : blockIdx.x * %s_TX) * %s_NP; /* its first pixel */", P, P)
      w.line("const int n = q / %s_HOWO, pix = q %% %s_HOWO, oy = pix / %s_WO, ox = pix %% %s_WO;", P, P, P, P)
      if d.prologue then
        w.line("const int sn = n - blockIdx.x * (%s_TX * %s_NP) / %s_HOWO; /* sample in the block's span */", P, P, P)
      end
    end
    compute(w, d)
    if d.sums then stats.declare(w, d.sums, t.channels) end
    reduce_and_finish(w, d)
    if d.sums then stats.store(w, d.sums, d) end
    if gap then
      if t.slices > 1 then w.line("__syncthreads(); /* red is refilled next round */") end
      w.close()
      gap_reduce(w, d)
    end
    w.close()
  end
  return { macros = macros, body = body, grid = grid, block = { t.block_groups, t.slices, t.channel_tiles }, tile = t }
end

return M
