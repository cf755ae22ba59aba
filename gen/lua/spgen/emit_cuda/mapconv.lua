-- CUDA for an SPConv of a small output map (M.fits: at most 16 pixels, or
-- up to 16 groups of 16 pixels in whole rows: the 16x16, 8x8 and 4x4
-- layers of a CIFAR ResNet), with spgen --cuda-spconv map: one block per (output channel, sample), which holds
-- the whole map. Its warps are PG
-- pixel groups (threadIdx.z: whole rows, 16 pixels each, or the whole map
-- when smaller) x KW slices of the input channels (threadIdx.y); a warp's
-- lanes split its slice's channels. Each lane accumulates its group's
-- pixels of both branches over its channels, so one weight load serves up to
-- 16 multiply-adds, and since the block holds the map, the branch means are
-- the sums of its own outputs: the layer needs no statistics (no writer's
-- store sums, no statistics kernel, no attention prologue from them). Then
--   a reduce-scatter over the warp's lanes leaves each lane the warp's total
--   of one (branch, pixel) value (lane / L: values 0 .. NV/2 - 1 the 3x3
--   branch's pixels, the rest the 1x1 branch's, each held by L = 32 / NV
--   lanes); the KW slices' totals are added in shared memory, in order;
--   each group sums its branches over its half of the lanes, the groups'
--   sums are added in shared memory, in order; every warp computes the
--   attention and the first slice's stores al3 * o3 + al1 * o1 + be with the
--   residual, relu or global average pool fused.
local attention_text = require("spgen.attention")
local common = require("spgen.emit_cuda.common")
local tiling = require("spgen.emit_cuda.tiling")
local taps = require("spgen.emit_cuda.taps")
local lower = require("spgen.lower")

local M = {}

M.GROUP = 16 -- pixels of a warp's group: as many as half its lanes
M.MAX_GROUPS = 16
M.MAX_WARPS = 8 -- input-channel slices
-- threads a block: at 1024 a thread gets 64 registers, and a 16x16 map's
-- rows and accumulators spilled (72 bytes, 2 slices of 16 groups, sm_90)
M.MAX_THREADS = 512
-- staged (--cuda-spconv map-staged): the chunk's bytes, and float4 a
-- thread holds of the next chunk
M.STAGE_BYTES = 40960
M.MAX_SHARE = 4

local FULL = "0xffffffffu"
local ZERO4 = "make_float4(0.0f, 0.0f, 0.0f, 0.0f)"

function M.fits(k)
  local ho, wo = k.node.shape[2], k.node.shape[3]
  if ho * wo <= M.GROUP then return true end
  return M.GROUP % wo == 0 and (ho * wo) % M.GROUP == 0 and ho * wo // M.GROUP <= M.MAX_GROUPS
end

-- The slices per block: as many as the thread target allows over the
-- grid's blocks (co x batch) and their groups, while the longest part still
-- gives each lane a channel and the block stays within MAX_THREADS.
function M.describe(k, ctx, P, fn)
  local a, node = k.node.attrs, k.node
  local conv = lower.conv(k)
  local co = a.out
  local ho, wo = node.shape[2], node.shape[3]
  local pixels = ho * wo
  local pixel_groups = math.max(1, pixels // M.GROUP)
  local target = ctx.tiling.threads
  local most = 0 -- the longest part's channels
  for _, part in ipairs(conv.parts) do most = math.max(most, lower.count(conv, part)) end
  local slices = 1
  while slices < M.MAX_WARPS and co * ctx.batch * pixel_groups * 64 * slices <= target and 64 * slices <= most
    and 64 * slices * pixel_groups <= M.MAX_THREADS do
    slices = slices * 2
  end
  local group_pixels = pixels // pixel_groups
  local padded = 1 -- the group's pixels rounded up to a power of two
  while padded < group_pixels do padded = padded * 2 end
  local h, wd = k.in_shape[2], k.in_shape[3]
  local d = {
    map = true, P = P, fn = fn .. "_out", k = k, conv = conv, slices = slices, pixel_groups = pixel_groups,
    group_pixels = group_pixels, group_rows = ho // pixel_groups, pixels = pixels, padded_pixels = padded,
    stride = a.stride,
    h = h, w = wd, ho = ho, wo = wo, post = k.bn ~= nil,
    -- float4 loads: of a whole map of a multiple of 4 floats, or of rows of
    -- one, in the arena (64-byte aligned buffers); the caller's input may be
    -- anywhere
    vec = k.refs.inputs[1] ~= "input" and (pixel_groups == 1 and (h * wd) % 4 == 0 or wd % 4 == 0),
    -- staged: each channel's map padded to an odd number of float4, so
    -- that a quarter warp's float4 reads (a channel apart) fall in
    -- different banks
    staged_map_floats = h * wd + ((h * wd // 4) % 2 == 0 and 4 or 0),
    staged_float4s = h * wd // (4 * pixel_groups),
  }
  d.stage = ctx.spconv == "map-staged" and d.vec and (h * wd) % (4 * pixel_groups) == 0
    and d.staged_float4s <= M.MAX_SHARE and 32 * slices * d.staged_map_floats * 4 <= M.STAGE_BYTES
  return d
end

-- Input row r of the group (r = 0: the first row its first output row's
-- window reads, iy0; S rows further per output row) is inside the map for
-- every group (""), for none (false) or for some (the run-time test).
local function row_inside(d, r)
  local ins = 0
  for z = 0, d.pixel_groups - 1 do
    local iy = d.stride * d.group_rows * z - 1 + r
    if iy >= 0 and iy < d.h then ins = ins + 1 end
  end
  if ins == d.pixel_groups then return "" end
  if ins == 0 then return false end
  return string.format("(unsigned)(iy0 + %d) < %du", r, d.h)
end

-- The float4 component of element i.
local function component(i) return ("xyzw"):sub(i % 4 + 1, i % 4 + 1) end

-- A load of float (or float4) i after pointer p: through the read-only
-- cache from global memory, or from the staged chunk in shared memory.
local function fetch(d, p, i, vec)
  if vec then
    return d.stage and string.format("((const float4 *)(%s))[%d]", p, i)
      or string.format("__ldg((const float4 *)(%s) + %d)", p, i)
  end
  return d.stage and string.format("(%s)[%d]", p, i) or string.format("__ldg(%s + %d)", p, i)
end

-- Loads the cells (cells[r][ix] = true: group row r, column ix) of the
-- lane's input channel xc into registers, a row outside the map as zeros;
-- returns the name of cell (r, ix). A cell's number counts from the
-- group's row 0: with one group that is the padding row above the map, so
-- the number is the cell's index in the map and a float4 may span rows;
-- with several, from xc + iy0 * W (W a multiple of 4 where in float4).
local function load_cells(w, d, cells)
  local base, first = "xc", 1
  if d.pixel_groups > 1 then base, first = string.format("xc + iy0 * %s_W", d.P), 0 end
  local function at(r, ix) return (r - first) * d.w + ix end
  local es = {}
  for r, cols in pairs(cells) do
    for ix in pairs(cols) do es[#es + 1] = { r = r, e = at(r, ix) } end
  end
  table.sort(es, function(x, y) return x.e < y.e end)
  local plain, guarded, seen = {}, {}, {}
  for _, c in ipairs(es) do
    local i = d.vec and c.e // 4 or c.e
    if not seen[i] then
      seen[i] = true
      local name, load, cond = (d.vec and "q" or "x") .. i, fetch(d, base, i, d.vec), row_inside(d, c.r)
      if cond == "" then plain[#plain + 1] = name .. " = " .. load
      else
        guarded[#guarded + 1] = string.format("%s = %s ? %s : %s", name, cond, load,
          d.vec and ZERO4 or "0.0f")
      end
    end
  end
  local decl = d.vec and "const float4 %s;" or "const float %s;"
  w.rows(guarded, 1, ", ", decl)
  w.rows(plain, d.vec and 4 or 6, ", ", decl)
  return function(r, ix)
    local e = at(r, ix)
    return d.vec and string.format("q%d.%s", e // 4, component(e)) or "x" .. e
  end
end

-- Adds cell (r, ix) to cells when its row is inside the map for some
-- group and its column inside the map; returns whether it did.
local function use(d, cells, r, ix)
  if row_inside(d, r) == false or ix < 0 or ix >= d.w then return false end
  cells[r] = cells[r] or {}
  cells[r][ix] = true
  return true
end

-- The staged chunk's part of this thread: float4 i of the chunk's maps is
-- s<i>, at channel sc<i>, float4 sk<i> of its map; loaded for the chunk
-- from channel j0 of the part (chan(j): a part's channel j), or stored.
local function share_load(w, d, count, chan, j0)
  for i = 0, d.staged_float4s - 1 do
    local j = j0 and string.format("%s + sc%d", j0, i) or "sc" .. i
    w.line("s%d = %s < %s ? __ldg((const float4 *)(xn + (%s) * (%s_H * %s_W)) + sk%d) : %s;",
      i, j, count, chan(j), d.P, d.P, i, ZERO4)
  end
end

local function share_store(w, d)
  for i = 0, d.staged_float4s - 1 do w.line("*(float4 *)(sx + sc%d * %s_HWP + 4 * sk%d) = s%d;", i, d.P, i, i) end
end

-- The loop of a part over `count` input channels (chan(j): channel j of
-- the part), a channel a lane: xc the channel's map (global memory, or its
-- copy in the staged chunk), j its index in the part and (staged: with
-- uses_ci) ci the channel; weights(live) loads the lane's weights (zeros
-- where the run-time test live fails), fmas(xe) adds the taps of the cells
-- loaded. Staged, the block copies each chunk of KW * 32 channels
-- (coalesced, channels past the part as zeros); a lane past the part adds
-- zeros, so no branch parts the warp, and the next chunk's loads are
-- issued after the lane's own loads, to be in flight during its adds.
local function channel_loop(w, d, count, chan, what, unroll, cells, uses_ci, weights, fmas)
  local P = d.P
  if not d.stage then
    w.line("#pragma unroll %d", unroll)
    w.open("for (int j = tid; j < %s; j += %s_KW * 32) { /* %s */", count, P, what)
    w.line("const int ci = %s;", chan("j"))
    w.line("const float *xc = xn + ci * (%s_H * %s_W);", P, P)
    weights(nil)
    fmas(load_cells(w, d, cells))
    w.close()
    return
  end
  w.open("{ /* %s, in chunks of %s_KW * 32 */", what, P)
  share_load(w, d, count, chan, nil)
  w.line("#pragma unroll 1")
  w.open("for (int j0 = 0; j0 < %s; j0 += %s_KW * 32) {", count, P)
  w.line("__syncthreads(); /* every warp is done with the last chunk */")
  share_store(w, d)
  w.line("__syncthreads();")
  w.line("const int j = j0 + tid;")
  w.line("const bool live = j < %s;", count)
  if uses_ci then w.line("const int ci = %s;", chan("j")) end
  weights("live")
  w.line("const float *xc = sx + tid * %s_HWP;", P)
  local xe = load_cells(w, d, cells)
  w.open("if (j0 + %s_KW * 32 < %s) {", P, count)
  share_load(w, d, count, chan, "j0 + " .. P .. "_KW * 32")
  w.close()
  fmas(xe)
  w.close()
  w.close()
end

-- A weight load, zero where the run-time test live fails.
local function weight(live, load)
  return live and string.format("%s ? %s : 0.0f", live, load) or load
end

-- What a part's loop is over, for its comment.
local function about(part)
  local k = part.taps.size or 1
  return string.format("%dx%d taps over %s", k, k, part.inputs.about)
end

-- The window taps over the group's representative channels (the GWC with
-- the PWC of the group's channels merged in); taps that read only padding
-- are left out. The weights come from G's tap-major copy (taps.lua), where
-- a tap's lanes read consecutive floats.
local function window_part(w, d, part)
  local P, taps = d.P, part.taps
  local n = P .. "_" .. d.conv.macros.group_inputs
  local fm, cells = {}, {}
  for t, tap in ipairs(taps.taps) do
    for dy = 0, d.group_rows - 1 do
      for ox = 0, d.wo - 1 do
        local r, ix = taps.stride * dy + tap[1], taps.stride * ox + tap[2] - taps.pad
        if use(d, cells, r, ix) then fm[#fm + 1] = { t = t - 1, p = dy * d.wo + ox, r = r, ix = ix } end
      end
    end
  end
  channel_loop(w, d, common.input_count(P, d.conv, part),
    function(j) return common.input_channel(P, d.conv, part, j, true) end,
    about(part), 1, cells, false, function(live)
      w.line("const float *g = %s_GT + co * (%s * %d) + j; /* tap-major: the warp's lanes read consecutive floats */",
        P, n, part.weights.taps)
      local gs = {}
      for t = 0, #taps.taps - 1 do
        gs[#gs + 1] = string.format("g%d = %s", t, weight(live, string.format("__ldg(g + %d * %s)", t, n)))
      end
      w.rows(gs, 3, ", ", "const float %s;")
    end, function(xe)
      local t = {}
      for _, f in ipairs(fm) do
        t[#t + 1] = string.format("%s_%d += g%d * %s;", part.branch, f.p, f.t, xe(f.r, f.ix))
      end
      w.rows(t, 8, " ")
    end)
end

-- 1x1 taps over the part's channels; pooled, over the sums of the 2x2
-- average-pool windows (the 1/4 is in the weights).
local function point_part(w, d, part)
  local P, taps = d.P, part.taps
  local cells, src = {}, {}
  for dy = 0, d.group_rows - 1 do
    for ox = 0, d.wo - 1 do
      -- rows count from the first row the window reads, pad rows above
      local p, r, ix = dy * d.wo + ox, taps.stride * dy + d.conv.window.pad, taps.stride * ox
      src[p] = {}
      for _, tap in ipairs(taps.taps) do src[p][#src[p] + 1] = { r + tap[1] - taps.pad, ix + tap[2] - taps.pad } end
      for _, c in ipairs(src[p]) do assert(use(d, cells, c[1], c[2]), "a 1x1 tap inside the map") end
    end
  end
  local row = P .. "_" .. d.conv.macros[part.weights.row]
  channel_loop(w, d, common.input_count(P, d.conv, part),
    function(j) return common.input_channel(P, d.conv, part, j, true) end, about(part), 2, cells, true,
    function(live)
      local q = string.format("__ldg(%s_%s + co * %s + ci)", P, part.weights.array, row)
      w.line("const float q = %s;", weight(live, q))
    end, function(xe)
      local t = {}
      for p = 0, d.group_pixels - 1 do
        local terms = {}
        for _, c in ipairs(src[p]) do terms[#terms + 1] = xe(c[1], c[2]) end
        local x = #terms == 1 and terms[1] or "(" .. table.concat(terms, " + ") .. ")"
        t[#t + 1] = string.format("%s_%d += q * %s;", part.branch, p, x)
      end
      w.rows(t, 8, " ")
    end)
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
      w.rows(t, 2, " ")
      w.close()
      m = h
    else
      w.line("%s += __shfl_xor_sync(%s, %s, %d);", v[1], FULL, v[1], o)
    end
    o = o // 2
  end
end

-- The sums over the block's pixel groups of the floats `vals` (each alike
-- in a group's warps), through shared memory name[PG][#vals], in order;
-- every thread gets them.
local function group_sums(w, d, name, vals)
  w.line("__shared__ float %s[%s_PG][%d];", name, d.P, #vals)
  w.open("if (threadIdx.y == 0 && lane == 0) {")
  for i, v in ipairs(vals) do w.line("%s[z][%d] = %s;", name, i - 1, v) end
  w.close()
  w.line("__syncthreads();")
  for _, v in ipairs(vals) do w.line("%s = 0.0f;", v) end
  w.open("for (int i = 0; i < %s_PG; ++i) { /* the groups' sums, in order */", d.P)
  for i, v in ipairs(vals) do w.line("%s += %s[i][%d];", v, name, i - 1) end
  w.close()
end

-- The store: lane l < 16 with l % L == 0 holds the group's pixel l / L of
-- the 3x3 branch (t) and gets its 1x1 branch's from lane l + 16; the first
-- slice's warps store.
local function store(w, d, L)
  local P, k = d.P, d.k
  w.line("const float o1 = __shfl_xor_sync(%s, t, 16); /* the same pixel's 1x1 branch */", FULL)
  local pix = L > 1 and string.format("lane / %d", L) or "lane"
  if d.pixel_groups > 1 then pix = string.format("z * %d + %s", d.group_pixels, pix) end
  local own = { "lane < 16" }
  if L > 1 then own[#own + 1] = string.format("lane %% %d == 0", L) end
  if d.group_pixels < d.padded_pixels then own[#own + 1] = string.format("lane < %d", d.group_pixels * L) end
  local first = d.slices > 1 and "threadIdx.y == 0" or nil
  local idx = string.format("(n * %s_CO + co) * %s_HOWO + %s", P, P, pix)
  local mid = common.epilogue(k, idx)
  local v = "al3 * t + al1 * o1 + be" .. (mid ~= "" and "; " .. mid or ";")
  if not k.gap then
    if first then table.insert(own, 1, first) end
    w.line("if (%s) { float v = %s y[%s] = v; }", table.concat(own, " && "), v, idx)
    return
  end
  w.line("float v = 0.0f;")
  w.line("if (%s) { v = %s }", table.concat(own, " && "), v)
  w.line("v = lanes_sum(v, 16); /* the fused global average pool: the group's sum */")
  local one = { "lane == 0" }
  if d.pixel_groups > 1 then
    group_sums(w, d, "gpool", { "v" })
    table.insert(one, 1, "z == 0")
  end
  if first then table.insert(one, 1, first) end
  w.line("if (%s)", table.concat(one, " && "))
  w.line("    y[n * %s_CO + co] = v * (1.0f / (float)%s_HOWO);", P, P)
end

-- The staged chunk in shared memory, and where this thread's part of it
-- lies (channel sc<i>, float4 sk<i> of its map: consecutive threads copy
-- consecutive float4).
local function stage_setup(w, d)
  local P, q = d.P, d.h * d.w // 4
  w.line("__shared__ __align__(16) float sx[%s_KW * 32 * %s_HWP]; /* a chunk of KW * 32 input channels' maps */", P, P)
  w.line("const int ft = (threadIdx.z * %s_KW + threadIdx.y) * 32 + lane; /* the thread's place in the block */", P)
  local t, s = {}, {}
  for i = 0, d.staged_float4s - 1 do
    local e = i == 0 and "ft" or string.format("(ft + %d * %s_NT)", i, P)
    t[#t + 1] = string.format("sc%d = %s / %d, sk%d = %s %% %d", i, e, q, i, e, q)
    s[#s + 1] = "s" .. i
  end
  w.rows(t, 2, ", ", "const int %s;")
  w.line("float4 %s; /* the thread's part of the next chunk */", table.concat(s, ", "))
end

-- Emits the layer described by M.describe: { text, launch, note }.
function M.emit(k, ctx, d)
  local node = k.node
  local P, sizes = d.P, d.conv.sizes
  local L = 32 // (2 * d.padded_pixels)
  local w = common.new_writer()
  local list = {
    { "N", ctx.batch }, { "C", sizes.in_channels }, { "R", sizes.representative }, { "H", d.h }, { "W", d.w },
    { "S", d.stride }, { "CO", sizes.out_channels }, { "HO", d.ho }, { "WO", d.wo }, { "HOWO", d.pixels },
    { "RG", sizes.group_inputs }, { "CG", sizes.out_channels // d.conv.groups },
    { "KW", d.slices, "warps per pixel group, splitting the input channels (threadIdx.y)" },
    { "PG", d.pixel_groups, "pixel groups (threadIdx.z)" },
  }
  if d.pixel_groups > 1 then list[#list + 1] = { "RPG", d.group_rows, "output rows per pixel group" } end
  list[#list + 1] = { "NT", 32 * d.slices * d.pixel_groups, "threads per block" }
  if d.stage then list[#list + 1] = { "HWP", d.staged_map_floats, "floats a channel in the staged chunk: an odd number of float4" } end
  common.macros(w, P, list, k, ctx)
  w.line("#define %s_GT (%s_dtaps + %d) /* G tap-major, made at init */", P, ctx.prefix, taps.add(ctx.taps, k))
  w.line("")
  common.kernel_head(w, P .. "_NT", d.fn, common.params(k))
  w.line("const int lane = threadIdx.x, tid = threadIdx.y * 32 + lane; /* tid: the first input channel */")
  w.line("const int co = blockIdx.x, n = blockIdx.y, grp = co / %s_CG; /* output channel, sample, group */", P)
  if d.pixel_groups > 1 then
    w.line("const int z = threadIdx.z, iy0 = %s_S * %s_RPG * z - 1; /* pixel group; the first input row its window reads */", P, P)
  end
  w.line("const float *xn = x + n * (%s_C * %s_H * %s_W);", P, P, P)
  local v, decl = {}, {}
  for _, acc in ipairs(d.conv.branches) do
    for p = 0, d.padded_pixels - 1 do
      v[#v + 1] = string.format("%s_%d", acc, p)
      decl[#decl + 1] = v[#v] .. " = 0.0f"
    end
  end
  w.line("float %s;", table.concat(decl, ", "))
  if d.stage then stage_setup(w, d) end
  for _, part in ipairs(d.conv.parts) do
    if lower.count(d.conv, part) > 0 then
      if part.taps.kind == "window" then window_part(w, d, part) else point_part(w, d, part) end
    end
  end
  reduce_scatter(w, v)
  w.line("float t = %s; /* this lane's value, the warp's total */", v[1])
  local zi = d.pixel_groups > 1 and "z" or "0" -- the warp's group
  if d.slices > 1 then
    w.line("__shared__ float part[%s_PG][%s_KW][32];", P, P)
    w.line("part[%s][threadIdx.y][lane] = t;", zi)
    w.line("__syncthreads();")
    w.line("t = 0.0f;")
    w.line("for (int i = 0; i < %s_KW; ++i) /* the slices' totals, in order */", P)
    w.line("    t += part[%s][i][lane];", zi)
  end
  w.line("/* the branch sums: lanes 0-15 hold the 3x3 branch's pixels, 16-31 the 1x1 branch's */")
  w.line("const float m = lanes_sum(%s, 16), other = __shfl_xor_sync(%s, m, 16);",
    L > 1 and string.format("lane %% %d == 0 ? t : 0.0f", L) or "t", FULL)
  w.line("float m3 = lane < 16 ? m : other, m1 = lane < 16 ? other : m, al3, al1, be;")
  if d.pixel_groups > 1 then group_sums(w, d, "gsum", { "m3", "m1" }) end
  attention_text.emit(w, P, d.post, function(name) return string.format("__ldg(%s_%s + co)", P, name) end,
    { a3 = "al3", a1 = "al1", be = "be" })
  store(w, d, L)
  w.close()
  local grid, block = { sizes.out_channels, ctx.batch }, { 32, d.slices, d.pixel_groups }
  common.check_grid(k, grid, block)
  local label = string.format("layer %d (spconv '%s')", k.index, node.name or "")
  local map = d.ho .. "x" .. d.wo
  local groups = d.pixel_groups > 1 and string.format(", %d warps of %d row%s each", d.pixel_groups, d.group_rows, d.group_rows > 1 and "s" or "") or ""
  local staged = d.stage and string.format(" (staged in shared memory, %d a chunk)", 32 * d.slices) or ""
  return {
    text = w.text(),
    note = string.format("map: a block per (channel, sample) holds its whole %s map%s; %s split the input channels%s;"
      .. " the attention from the map's own sums", map, groups,
      d.slices > 1 and d.slices .. " warps" .. (d.pixel_groups > 1 and " per group" or "") or "the 32 lanes", staged),
    launch = function(ptrs)
      return common.launch(d.fn, grid, block, common.args(k, ptrs), label .. " output")
    end,
  }
end

return M
