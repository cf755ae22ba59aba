-- Vector tiling for --simd, a pass before folding: per convolution (a kind
-- with a lowering, kinds/*.lua) it picks the vector width L, how vectors of
-- L output pixels cover the output plane (NCHW is kept), and the register
-- tile of pixel_vectors vectors x channels output channels. A layer it
-- cannot tile keeps the portable kernels. The lane maps here say, for every vector and kernel tap,
-- which input pixels the lanes read; emit_c/vtile.lua turns them into code.
local kinds = require("spgen.kinds")
local lower = require("spgen.lower")
local blocks = require("spgen.blocks")

local M = {}

M.ACC = 24 -- accumulator vectors per tile: AVX-512 has 32 registers

-- Where each lane of a vector reads for one tap: f (flat index in the input
-- plane) or false in the padding. The vector's lanes are output pixels
-- q0 .. q0+L-1 in row-major order.
function M.lane_map(g, q0, ky, kx, pad, s)
  local f = {}
  for l = 0, g.lanes - 1 do
    local py, px = (q0 + l) // g.wo, (q0 + l) % g.wo
    local iy, ix = s * py + ky - pad, s * px + kx - pad
    f[l] = iy >= 0 and iy < g.h and ix >= 0 and ix < g.w and iy * g.w + ix
  end
  return f
end

-- How to build one vector from a lane map: nil when every lane is padding;
-- { kind = "load", off } one unaligned load; { kind = "shuf1", off, idx }
-- one load with zero lanes shuffled in; { kind = "shuf2", off, idx, zero }
-- two loads of 2L floats shuffled (and zero lanes after). idx[l] is the
-- lane's float in the loaded window, false in the padding. false if lanes span
-- more than 2L floats. Offsets are absolute in the plane. Loads stay within
-- the input row of the lanes when vectors lie in one row, so a tap's code is
-- the same for every output row that reads inside the input; else within
-- the plane.
function M.access(g, f)
  local L = g.lanes
  local lo, hi, contiguous = nil, nil, f[0] ~= false
  for l = 0, L - 1 do
    if f[l] then lo, hi = lo and math.min(lo, f[l]) or f[l], hi and math.max(hi, f[l]) or f[l] end
    if f[l] ~= (f[0] and f[0] + l) then contiguous = false end
  end
  if not lo then return nil end
  if contiguous then return { kind = "load", off = lo } end
  local first = g.row and lo // g.w * g.w or 0
  local last = g.row and first + g.w or g.h * g.w
  local width = hi - lo + 1 <= L and L or (hi - lo + 1 <= 2 * L and 2 * L)
  if not width or last - first < width then return false end
  local off = math.min(lo, last - width)
  local idx, zero = {}, false
  for l = 0, L - 1 do
    idx[l] = f[l] and f[l] - off
    zero = zero or not f[l]
  end
  return { kind = width == L and "shuf1" or "shuf2", off = off, idx = idx, zero = zero }
end

-- The geometry of vectors of L lanes over the ho x wo output plane, or nil:
-- "row" vectors lie within one row (L divides wo, or the last vector of a
-- row overlaps the one before it); "flat" vectors cover whole
-- rows (stride 1, wo divides L).
local function geometry(L, h, w, ho, wo, s)
  local g = { lanes = L, h = h, w = w, ho = ho, wo = wo }
  if wo % L == 0 then
    g.vectors = wo // L -- that a tile may group: those of one row
    g.row = true
  elseif s == 1 and L % wo == 0 and (ho * wo) % L == 0 then
    g.vectors = ho * wo // L
  elseif wo > L then
    g.vectors, g.row = 1, true
  else
    return nil
  end
  return g
end

-- The tiles of np vectors over the plane, in row-major order: { q0, skip }
-- where q0 is the first output pixel and skip the leading lanes an earlier
-- tile of the row has already written (the overlapping last vector).
function M.tiles(g, np)
  local list, span = {}, np * g.lanes
  if not g.row then
    for q0 = 0, g.ho * g.wo - 1, span do list[#list + 1] = { q0 = q0, skip = 0 } end
    return list
  end
  for oy = 0, g.ho - 1 do
    local ox = 0
    while ox + span <= g.wo do
      list[#list + 1] = { q0 = oy * g.wo + ox, skip = 0 }
      ox = ox + span
    end
    if ox < g.wo then list[#list + 1] = { q0 = oy * g.wo + g.wo - g.lanes, skip = ox - (g.wo - g.lanes) } end
  end
  return list
end

-- Every vector must be buildable for every tap.
local function feasible(g, tapsets)
  for _, t in ipairs(M.tiles(g, 1)) do
    for _, ts in ipairs(tapsets) do
      for _, tap in ipairs(ts.taps) do
        if M.access(g, M.lane_map(g, t.q0, tap[1], tap[2], ts.pad, ts.stride)) == false then return false end
      end
    end
  end
  return true
end

-- The register tile: np vectors (dividing the vectors of a tile row) x nc
-- channels (dividing the channels per group), the most accumulators within
-- ACC, then the fewest vectors: each vector built costs a load or a shuffle,
-- while weights come broadcast from memory in the multiply-add itself
-- (measured with make bench: 1 x 16 beats 2 x 8 and 4 x 4 on AVX-512).
local function register_tile(vectors, cg)
  local best
  for np = 1, math.min(4, vectors) do
    if vectors % np == 0 then
      for nc = math.min(cg, M.ACC // np), 1, -1 do
        if cg % nc == 0 then
          local key = { np * nc, -np }
          if not best or key[1] > best.key[1] or (key[1] == best.key[1] and key[2] > best.key[2]) then
            best = { np = np, nc = nc, key = key }
          end
          break
        end
      end
    end
  end
  return best.np, best.nc
end

-- The channel-blocked layout (--simd B): a blocked tensor of C x H x W is
-- ceil(C / B) blocks of H x W pixels x B channels, the padding channels zero;
-- a vector holds one pixel of B consecutive channels, so every plane size
-- fills every lane. A convolution runs blocked when no vector of B output
-- channels straddles two groups; its register tile is `blocks` channel
-- blocks x `pixels` pixels of one output row, each multiply-add a vector of
-- weights times one broadcast input value.
M.REGISTERS = { [16] = 32, [8] = 16, [4] = 16 } -- vector registers: AVX-512 32, AVX2 and SSE 16
-- a blocked tile's accumulators: the registers but 4 for its weight vectors
-- and broadcasts
M.BLOCK_ACC = {}
for block, registers in pairs(M.REGISTERS) do M.BLOCK_ACC[block] = registers - 4 end

local function blockable(k, block)
  local a = k.node.attrs
  return kinds[k.kind].lower ~= nil and (a.groups == 1 or (a.out // a.groups) % block == 0)
end

M.FLAT_PIXELS = 64 -- planes up to this size may be tiled whole, each tile's pixels written out

-- The stem (emit_c/stem.lua): a conv2d of one group reading an NCHW input,
-- copied with its zero border. Its tile is one block (one weight vector per
-- tap) x pixels of a row balanced over it, as many as a blocked tile's
-- accumulators (make bench, per layer: the 7x7 stride-2 stem at 224 at
-- 85-92% of the peak in 1 x 28, 84% in 4 x 5 and 2 x 10, 56-68% in 4 x 6
-- and 2 x 13, which spill; the CIFAR 3x3 stem at 77-81% in 1 x 16, 71% in
-- 2 x 8).
local function stem_tile(k, block)
  local a, shape = k.node.attrs, k.node.shape
  local wo = shape[3]
  local tiles = (wo + M.BLOCK_ACC[block] - 1) // M.BLOCK_ACC[block]
  return { block = block, blocks = 1, pixels = (wo + tiles - 1) // tiles, stem = true,
    padded = { h = a.stride * (shape[2] - 1) + a.k, w = a.stride * (wo - 1) + a.k } }
end

-- The register tile of a blocked convolution: blocks (dividing the blocks of
-- a group) x pixels, the most accumulators within the budget (an SPConv
-- keeps both branches), then the fewest cycles per step of its loads (nb
-- weight vectors and np broadcasts, two a cycle) or of its weight bytes from
-- L2, whichever is longer (a tile's weight rows do not fit L1), or on an
-- NCHW input the fewest blocks. Pixels lie in one row, balanced over it; on
-- a small plane whose rows are too short to fill a tile (flat), the tiles
-- run on over the rows. make bench, per layer: sp_resnet18_cifar's 16x16
-- SPConvs from 0.211 to 0.132 ms in 2 x 6 instead of 4 x 3 at 16 lanes
-- (the fewest loads, but twice the weight bytes), its 4x4 ones from 0.296 to
-- 0.216 ms.
M.L2_BYTES_PER_CYCLE = 32
local function block_tile(k, block)
  local a, wo = k.node.attrs, k.node.shape[3]
  if k.kind == "conv2d" and a.groups == 1 and not k.layout.inputs[1] then return stem_tile(k, block) end
  local plane_size = k.node.shape[2] * wo
  local budget = M.BLOCK_ACC[block] // #lower.conv(k).branches
  -- reading an NCHW input (an SPConv or grouped conv2d there: few channels,
  -- many taps, as a stem), one block's weights stay in L1 where four do not
  -- (make bench, per layer: the 7x7 stem, when it ran here, from 20% to 45%
  -- of the peak)
  local nchw_input = not k.layout.inputs[1]
  local group_blocks = blocks.padded(a.out // a.groups, block) // block
  local best
  for nb = 1, math.min(4, group_blocks, budget) do
    if group_blocks % nb == 0 then
      for _, flat in ipairs({ false, plane_size <= M.FLAT_PIXELS }) do
        local span = flat and plane_size or wo
        local np = math.min(budget // nb, span)
        np = (span + (span + np - 1) // np - 1) // ((span + np - 1) // np)
        local key = { nb * np, nchw_input and -nb or -math.max((nb + np) / 2, nb * block * 4 / M.L2_BYTES_PER_CYCLE) }
        if not best or key[1] > best.key[1] or (key[1] == best.key[1] and key[2] > best.key[2]) then
          best = { blocks = nb, pixels = np, flat = flat, key = key }
        end
      end
    end
  end
  return { block = block, blocks = best.blocks, pixels = best.pixels, flat = best.flat }
end

M.L2_BYTES = 2 * 1024 * 1024 -- a core's L2 on current Xeons (1-2 MiB)

-- A 1x1 convolution without padding over a blocked input runs as a GEMM
-- micro-kernel (emit_c/gemm.lua): blocks x pixels accumulators, plus one
-- register per block's weights and one for the broadcast input, within the
-- register file. At stride 1 the pixels run over the whole plane; at stride
-- s a tile is whole rows (gemm.rows of them) when rows fit, else a run of a
-- row. Of the tiles that fit, the fewest cycles by a model of one input
-- channel's step: a tile of n pixels takes max(blocks * n, blocks + n) / 2
-- (two FMA ports, two loads a cycle), summed over the plane's tiles and the
-- output's tile columns.
local function gemm_tile(k, block)
  local a = k.node.attrs
  if k.kind ~= "conv2d" or a.k ~= 1 or a.pad ~= 0 or a.groups ~= 1 or not k.layout.inputs[1] then return nil end
  local ho, wo = k.node.shape[2], k.node.shape[3]
  local out_blocks = blocks.padded(a.out, block) // block
  local best
  for nb = 1, math.min(4, out_blocks) do
    if out_blocks % nb == 0 then
      local most = (M.REGISTERS[block] - nb - 1) // nb
      local function step(n) return math.max(nb * n, nb + n) end
      -- the tiles of a range of `size` units of `unit` pixels, at most `most` pixels a tile
      local function cost(size, unit)
        local n = math.min(most // unit, size)
        if n == 0 then return nil end
        return (size // n) * step(n * unit) + (size % n > 0 and step(size % n * unit) or 0), n
      end
      local c, rows, np
      if a.stride == 1 then c, np = cost(ho * wo, 1)
      else
        c, rows = cost(ho, wo)
        if c then np = rows * wo
        else
          c, np = cost(wo, 1)
          c = c * ho
        end
      end
      c = c * out_blocks // nb
      if not best or c < best.cost then
        best = { cost = c, blocks = nb, pixels = np, rows = rows }
      end
    end
  end
  -- An input that does not fit L2 is read once per tile column of output
  -- blocks; when the weights fit, the tile positions go outside instead, each
  -- reading its pixels once and the weights from L2 (make bench, per layer:
  -- sp_resnet50's 256x56x56 -> 512x28x28 stride-2 shortcut from 70% to 86%
  -- of the peak; no change at stride 1).
  local in_bytes = 4 * blocks.padded(a.cin, block) * k.in_shape[2] * k.in_shape[3]
  local tiles_outer = in_bytes > M.L2_BYTES and 4 * a.cin * out_blocks * block <= M.L2_BYTES // 2
  return { block = block, blocks = best.blocks, pixels = best.pixels,
           gemm = { rows = best.rows, tiles_outer = tiles_outer } }
end

-- A linear layer over a blocked input (one pixel: its features, padded at
-- the end) is a GEMV in vectors of B outputs (emit_c/linear.lua): tiles of
-- the most blocks up to 4 that divide the output's blocks, so that each
-- broadcast input meets several weight vectors.
local function gemv_tile(k, block)
  local out_blocks = blocks.padded(k.node.attrs.out, block) // block
  for nb = math.min(4, out_blocks), 1, -1 do
    if out_blocks % nb == 0 then return { block = block, blocks = nb } end
  end
end

-- The layout of each tensor: blocked unless it is the network's input or
-- output, a flat view of more than one pixel, or a kernel that reads or
-- writes it keeps NCHW (softmax, shortcut_a; linear writes flat; a pool,
-- add or affine reads and writes one layout, as do a producer's store and
-- its residual). Sets k.layout = { block, inputs = { bool, ... }, output }
-- on every kernel, k.bt on the convolutions that run blocked, and k.gemv on
-- the linear layers over a blocked input.
local function layouts(g, kernels, views, block)
  local final = g.output.inputs[1]
  final = views[final] or final
  local blocked = {}
  for _, k in ipairs(kernels) do blocked[k.output] = k.output ~= final end
  local same = { pool = true, add = true, affine = true }
  local changed = true
  local function unblock(t)
    if blocked[t] then blocked[t], changed = false, true end
  end
  for _, t in pairs(views) do
    local s = g.nodes[t].shape
    if s[2] * s[3] > 1 then unblock(t) end
  end
  while changed do
    changed = false
    for _, k in ipairs(kernels) do
      local kind = kinds[k.kind]
      if (kind.lower and not blockable(k, block)) or not (kind.lower or same[k.kind]) then unblock(k.output) end
      if k.kind == "softmax" or k.kind == "shortcut_a" then unblock(k.inputs[1]) end
      local group = same[k.kind] and k.inputs or (k.residual and { k.residual }) or {}
      local all = blocked[k.output]
      for _, t in ipairs(group) do all = all and blocked[t] end
      if not all then
        unblock(k.output)
        for _, t in ipairs(group) do unblock(t) end
      end
    end
  end
  for _, k in ipairs(kernels) do
    local ins = {}
    for i, t in ipairs(k.inputs) do ins[i] = blocked[t] or false end
    k.layout = { block = block, inputs = ins, output = blocked[k.output] }
    if kinds[k.kind].lower and blockable(k, block) then k.bt = gemm_tile(k, block) or block_tile(k, block) end
    if k.kind == "linear" and ins[1] then k.gemv = gemv_tile(k, block) end
  end
end

-- With --simd, the layouts and blocked tiles (above); then k.vt = {
-- geometry, pixel_vectors, channels } for each convolution that does not
-- run blocked, at stride 1 or 2 (NCHW vectors along pixel rows).
function M.run(g, kernels, views, simd)
  if simd > 0 then layouts(g, kernels, views, simd) end
  for _, k in ipairs(kernels) do
    local a = k.node.attrs
    if simd > 0 and kinds[k.kind].lower and not k.bt and a.stride <= 2 then
      local ins, outs = k.in_shape, k.node.shape
      local cg = a.out // a.groups
      local tapsets = lower.tap_sets(k)
      local L = simd
      while L >= 4 do
        local geo = geometry(L, ins[2], ins[3], outs[2], outs[3], a.stride)
        if geo and feasible(geo, tapsets) then
          local np, nc = register_tile(geo.vectors, cg)
          k.vt = { geometry = geo, pixel_vectors = np, channels = nc }
          break
        end
        L = L // 2
      end
    end
  end
end

return M
