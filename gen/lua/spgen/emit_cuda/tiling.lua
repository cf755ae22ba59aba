-- Tiling of the direct convolutions (conv2d and the SPConv output pass),
-- chosen per layer from its shape.
--
-- A thread owns a register tile of NC output channels x NP pixels (NP
-- consecutive pixels of one row, so one row of input values serves all NP
-- window positions) and, with KS > 1, a 1/KS slice of the input channels;
-- slices are summed in shared memory. A block is TX pixel groups x KS slices
-- of one channel tile, so all its threads read the same weights (broadcast
-- loads), or with --cuda-channel-tiles TX pixel groups x TC channel tiles,
-- so its threads share their input loads (a warp of more than one tile, TX <
-- 32, reads as many weight addresses as it holds tiles). The generator
-- starts from the largest tile and halves it until the layer has enough
-- threads to fill the GPU at this batch (batch 1 at CIFAR sizes is
-- latency-bound: parallelism beats reuse), then splits the reduction while
-- threads are still short and each slice keeps enough work.
local M = {}

M.BLOCK_THREADS = 128
M.MIN_SLICE = 64 -- multiply-adds per output a slice must keep
M.MAX_KS = 16
-- The multiprocessors of the H100 SXM and H200, which the CUDA tiling is
-- for. On a GPU with fewer (A100: 108), a batch-1 grid sized for 132 may
-- need a second wave of blocks under these launch bounds.
M.SMS = 132
M.REGS_PER_SM = 65536
-- what launch bounds may ask of any sm_80 or later GPU (sm_86 and sm_89
-- have the fewest: 1536 threads, 16 blocks per SM)
M.THREADS_PER_SM = 1536
M.BLOCKS_PER_SM = 16
M.OVERHEAD_REGS = 32 -- indices, pointers, loop counters, hoisted loads

-- The largest of `choices` (descending powers of two) dividing n.
local function largest_divisor(choices, n)
  for _, c in ipairs(choices) do
    if n % c == 0 then return c end
  end
  return 1
end

-- d: batch, out_channels, group_outputs (channels a tile may not straddle:
-- the output channels of a group), pixels (of one output map), wo, window
-- (its size), macs (multiply-adds per output), gap (the block owns all
-- pixels of one sample). opts (spgen's options,
-- their defaults from the host's option table): threads (wanted:
-- --cuda-threads), tiles (the most channel tiles a block may hold:
-- --cuda-channel-tiles), channels (the fewest channels a tile keeps while
-- threads are short: --cuda-tile-channels).
-- Returns the tile, its fields named after the macros of direct.lua:
-- { channels (NC), pixels (NP), slices (KS), channel_tiles (TC),
-- block_channels (NCB), block_groups (TX: pixel groups per block), threads
-- (NT: per block), stage (weights staged in shared memory) }.
function M.conv(d, opts)
  local target = opts.threads
  local nc = largest_divisor({ 8, 4, 2, 1 }, d.group_outputs)
  -- wide windows keep their whole row of inputs live: one pixel per thread
  local np = d.window > 3 and 1 or largest_divisor({ 4, 2, 1 }, d.wo)
  local function threads(c, p) return d.batch * (d.pixels // p) * (d.out_channels // c) end
  -- no narrower than the channel floor: past it, input-channel slices (next)
  -- supply the threads
  local floor = math.min(opts.channels, nc)
  while threads(nc, np) < target and (nc > floor or np > 1) do
    -- halve the larger side (channels when equal: a pixel shares its loads)
    if nc >= np and nc > floor then nc = nc // 2 else np = np // 2 end
  end
  local ks = 1
  while ks < M.MAX_KS and threads(nc, np) * ks * 2 <= target
    and d.macs // (ks * 2) >= M.MIN_SLICE do
    ks = ks * 2
  end
  -- weights staged in shared memory: tiles of 4 or 8 channels, but not the
  -- wide windows (a 7x7 stem): under launch bounds ptxas hoists their staged
  -- rows past its budget and spills (sp_resnet50 at 224x224, batch 1: 12
  -- bytes at 85 and at 128 registers), where the loads through L1 fit in 56
  local stage = nc % 4 == 0 and d.window <= 3
  -- channel tiles per block: not the wide windows either (the 7x7 stem
  -- spills even at 168 registers: sp_resnet18 at 224x224, batch 8, 8 tiles,
  -- 24 bytes), without slices (the slice sums would need a row per tile)
  -- and within one group (a block's channels share its inputs)
  local tc = 1
  while d.window <= 3 and ks == 1 and tc * 2 <= opts.tiles and d.group_outputs % (nc * tc * 2) == 0 do
    tc = tc * 2
  end
  -- pixel groups one block can take: one sample's with gap, else the batch's
  local groups = d.pixels // np * (d.gap and 1 or d.batch)
  local tx = M.BLOCK_THREADS // (ks * tc)
  -- no wholly idle warps: shrink the block to the groups there are, but keep
  -- whole warps (the reductions shuffle across all 32 lanes)
  while tx // 2 >= groups and (tx // 2) * ks * tc >= 32 do tx = tx // 2 end
  local t = { channels = nc, pixels = np, slices = ks, channel_tiles = tc, block_channels = nc * tc, block_groups = tx,
              threads = tx * ks * tc, stage = stage }
  assert(d.group_outputs % (nc * tc) == 0 and d.out_channels % nc == 0 and d.wo % np == 0,
    "tile does not divide the layer")
  assert(t.threads % 32 == 0 and t.threads <= 1024, "block is not whole warps")
  return t
end

-- How a block's sums are split (common.warp_partials): segments of seg
-- lanes, per of them to a channel tile. With one tile, whole warps, all of
-- them its; with several, a warp holds one tile's lanes, or (TX < 32) whole
-- tiles of TX lanes each.
function M.segments(t)
  local seg = t.channel_tiles > 1 and math.min(t.block_groups, 32) or 32
  return seg, t.threads // seg // t.channel_tiles
end

M.MAX_REGS = 255 -- a thread's registers at most
-- Staged weights come through registers as float4s, which ptxas loads well
-- ahead: under a smaller budget it spills (sp_resnet18 at batch 8, layers
-- 4 and 6, 4x4 tiles: at 85 registers).
M.STAGED_MIN_REGS = 96

-- The registers per thread that launch bounds of minb blocks per SM allow.
function M.budget(t, minb)
  return math.min(M.REGS_PER_SM // (t.threads * minb), M.MAX_REGS)
end

-- Staged channel-tiled blocks need more: left to itself, ptxas (CUDA 13,
-- sm_90) gives some of them 96 registers and spills (sp_resnet18_cifar and
-- resnet18_cifar at batch 256, 2 to 8 tiles: 4 to 20 bytes in the stride-2
-- layers), and under launch bounds of 4 blocks of 128 threads it spills in
-- others; 168 or more kept every build swept clean.
M.TILED_REGS = 168

-- The blocks per multiprocessor a direct convolution's launch bounds ask
-- for, or nil, and why (the comment of the MINB macro). Left to itself,
-- ptxas aims at full occupancy whatever the grid, and spills a few
-- registers to get there; a small grid (batch 1, or the 4x4 maps at batch
-- 256) gains nothing from that. Asking for the blocks the grid keeps
-- resident on SMS multiprocessors sets ptxas's register budget to
-- REGS_PER_SM / (threads * blocks) instead. When that budget would not hold
-- what the tile needs, or the hardware cannot keep that many blocks, the
-- grid is large enough for ptxas's own choice, except for staged channel
-- tiles, which then get the most blocks that leave them what they need.
-- d: blocks (the grid's), accumulator_sets, span (inputs of one
-- kernel row), extra (floats live at once outside the tile, e.g. the
-- statistics' sums).
function M.min_blocks(t, d)
  local tile_regs = d.accumulator_sets * t.channels * t.pixels + d.span + t.channels
  local need = math.max(tile_regs, d.extra or 0) + M.OVERHEAD_REGS
  if t.stage then need = math.max(need, t.channel_tiles > 1 and M.TILED_REGS or M.STAGED_MIN_REGS) end
  local most = math.min(M.REGS_PER_SM // (t.threads * ((need + 7) // 8 * 8)), M.BLOCKS_PER_SM,
    M.THREADS_PER_SM // t.threads)
  local want = (d.blocks + M.SMS - 1) // M.SMS
  if want <= most then return want, "blocks per SM its grid keeps resident: the register budget" end
  if t.channel_tiles > 1 and t.stage then
    assert(most >= 1, "a block of channel tiles too large for their registers")
    return most, string.format("blocks per SM that leave staged channel tiles %d registers", need)
  end
  return nil
end

return M
