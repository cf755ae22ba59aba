-- Memory planning: a pass over buffer lifetimes that places every activation
-- and scratch buffer in one static arena (greedy by size, lowest free offset,
-- as TVM's USMP and TinyEngine do). A kernel writes in place over an input
-- it reads last when it may: elementwise kernels over any such input,
-- producers over their residual (each output element reads only its own).
-- The network's input and output live in the caller's buffers.
local kinds = require("spgen.kinds")

local M = {}

local ALIGN = 64

-- kind -> "any" or "residual": the inputs a kernel may overwrite (kinds/*.lua)
local IN_PLACE = {}
for name, kind in pairs(kinds) do IN_PLACE[name] = kind.in_place end

local function align(n) return (n + ALIGN - 1) // ALIGN * ALIGN end

-- Greedy by size: each buffer ({ bytes, first, last, index } with the
-- first and last kernel steps it is live) at the lowest offset free over its
-- lifetime; sets b.offset, returns the arena's bytes. The CUDA backend
-- places its statistics buffers with it too.
--
-- The placed buffers are found by lifetime, not by scanning them all: those
-- live at a step through a segment tree over the steps (each buffer kept in
-- the O(log steps) nodes that tile its lifetime), those that begin within a
-- span through a list per step. Their offsets are walked sorted: few are
-- sorted on their own, many in the order of a kept sorted list of every
-- offset used. Placing a buffer then costs its lifetime and about the
-- buffers live beside it, so a chain of layers is placed in linear time.
function M.place(buffers)
  local order, steps = {}, 0
  for i, b in ipairs(buffers) do order[i], steps = b, math.max(steps, b.last) end
  table.sort(order, function(x, y)
    if x.bytes ~= y.bytes then return x.bytes > y.bytes end
    return x.index < y.index
  end)
  local leaves = 1
  while leaves < steps do leaves = 2 * leaves end
  local tree, starting, offsets, used, arena = {}, {}, {}, {}, 0
  local function keep(list, key, b)
    local t = list[key]
    if not t then t = {} list[key] = t end
    t[#t + 1] = b
  end
  for _, b in ipairs(order) do
    -- First fit below the live buffers in offset order; of those at one
    -- offset only the furthest end matters.
    local ends, live_offsets = {}, {}
    local function see(live)
      for _, p in ipairs(live) do
        local offset, e = p.offset, align(p.offset + p.bytes)
        local known = ends[offset]
        if not known then live_offsets[#live_offsets + 1], ends[offset] = offset, e
        elseif e > known then ends[offset] = e end
      end
    end
    local node = leaves + b.first - 1 -- live at b.first: its leaf and the nodes above
    while node >= 1 do
      if tree[node] then see(tree[node]) end
      node = node // 2
    end
    for step = b.first + 1, b.last do -- or beginning later in b's lifetime
      if starting[step] then see(starting[step]) end
    end
    -- the live offsets sorted, or all offsets when there are few more of those
    local walk = offsets
    if 8 * #live_offsets < #offsets then
      table.sort(live_offsets)
      walk = live_offsets
    end
    local at = 0
    for _, offset in ipairs(walk) do
      if at + b.bytes <= offset then break end
      local e = ends[offset]
      if e and e > at then at = e end
    end
    b.offset = at
    arena = math.max(arena, at + b.bytes)
    if not used[at] then
      local lo, hi = 1, #offsets + 1 -- insert at the first offset above at
      while lo < hi do
        local mid = (lo + hi) // 2
        if offsets[mid] < at then lo = mid + 1 else hi = mid end
      end
      table.insert(offsets, lo, at)
      used[at] = true
    end
    local lo, hi = leaves + b.first - 1, leaves + b.last -- the tree nodes tiling [lo, hi)
    while lo < hi do
      if lo % 2 == 1 then keep(tree, lo, b) lo = lo + 1 end
      if hi % 2 == 1 then hi = hi - 1 keep(tree, hi, b) end
      lo, hi = lo // 2, hi // 2
    end
    keep(starting, b.first, b)
  end
  return align(arena)
end

-- Returns { arena_bytes, sum_bytes, lower_bound, buffers } (buffers: each
-- with offset, bytes, first and last step, names, scratch); sets on each
-- kernel k.refs = { inputs = {...}, output =, scratch = } where a ref is
-- "input", "output" or an arena byte offset. element_bytes: an activation's
-- bytes per value (4 for float32, 1 for int8); scratch is k.scratch 4-byte words.
function M.run(g, kernels, views, element_bytes)
  local batch, nodes = g.net.batch, g.nodes
  local final = g.output.inputs[1]
  final = views[final] or final
  -- a blocked tensor (tiling.lua) holds its channels padded to whole blocks
  local block = {}
  for _, k in ipairs(kernels) do
    if k.layout then
      for i, t in ipairs(k.inputs) do
        if k.layout.inputs[i] then block[t] = k.layout.block end
      end
      if k.layout.output then block[k.output] = k.layout.block end
    end
  end
  local function bytes(id)
    local s, b = nodes[id].shape, block[id] or 1
    return element_bytes * batch * ((s[1] + b - 1) // b * b) * s[2] * s[3]
  end
  local reads = {}
  for _, k in ipairs(kernels) do
    for _, t in ipairs(k.inputs) do reads[t] = (reads[t] or 0) + 1 end
  end

  -- names: the layers whose results the buffer holds in turn (in place)
  local buffers, by_tensor, scratch_of = {}, {}, {}
  local function new_buffer(size, step, name, scratch)
    local b = { bytes = size, first = step, last = step, index = #buffers + 1, names = { name }, scratch = scratch }
    buffers[#buffers + 1] = b
    return b
  end
  for step, k in ipairs(kernels) do
    for _, t in ipairs(k.inputs) do
      local b = by_tensor[t]
      if b then b.last = math.max(b.last, step) end
    end
    if k.output ~= final then
      local mode, reuse = IN_PLACE[k.kind], nil
      for i, t in ipairs(k.inputs) do
        -- a producer reads its main input around each pixel: never overwrite that
        local eligible = mode == "any" or (mode == "residual" and i == 2 and t ~= k.inputs[1])
        if eligible and by_tensor[t] and reads[t] == 1 and bytes(t) == bytes(k.output) then reuse = by_tensor[t] end
      end
      local name = k.node.name or k.kind
      if reuse then reuse.names[#reuse.names + 1] = name end
      by_tensor[k.output] = reuse or new_buffer(bytes(k.output), step, name)
    end
    if k.scratch > 0 then scratch_of[k] = new_buffer(4 * k.scratch, step, k.node.name or k.kind, true) end
  end
  local arena = M.place(buffers)

  local sum, lower = 0, 0
  for _, b in ipairs(buffers) do sum = sum + b.bytes end
  -- the live bytes at each step, from what starts and ends there
  local change = {}
  for _, b in ipairs(buffers) do
    change[b.first] = (change[b.first] or 0) + b.bytes
    change[b.last + 1] = (change[b.last + 1] or 0) - b.bytes
  end
  local live = 0
  for step = 1, #kernels do
    live = live + (change[step] or 0)
    lower = math.max(lower, live)
  end

  local function ref(id)
    if id == 1 then return "input" end
    if id == final then return "output" end
    return by_tensor[id].offset
  end
  for _, k in ipairs(kernels) do
    local ins, sizes = {}, {}
    for i, t in ipairs(k.inputs) do ins[i], sizes[i] = ref(t), bytes(t) end
    k.refs = { inputs = ins, input_bytes = sizes, output = ref(k.output), output_bytes = bytes(k.output),
               scratch = scratch_of[k] and scratch_of[k].offset }
  end
  return { arena_bytes = arena, sum_bytes = sum, lower_bound = lower, buffers = buffers }
end

-- The plan as text for tests/plan_check, which replays it independently:
--   arena BYTES
--   kernel STEP KIND in=REF:BYTES[*],... out=REF:BYTES scratch=REF:BYTES
-- REF is an arena byte offset, "input" or "output"; * marks an input the
-- kernel may overwrite in place.
function M.text(p, kernels)
  local lines = { "arena " .. p.arena_bytes }
  for step, k in ipairs(kernels) do
    local ins = {}
    for i, ref in ipairs(k.refs.inputs) do
      local mode = IN_PLACE[k.kind]
      local star = (mode == "any" or (mode == "residual" and i == 2)) and "*" or ""
      ins[i] = string.format("%s:%d%s", ref, k.refs.input_bytes[i], star)
    end
    local line = string.format("kernel %d %s in=%s out=%s:%d", step, k.kind, table.concat(ins, ","),
      k.refs.output, k.refs.output_bytes)
    if k.refs.scratch then line = line .. string.format(" scratch=%d:%d", k.refs.scratch, 4 * k.scratch) end
    lines[#lines + 1] = line
  end
  return table.concat(lines, "\n") .. "\n"
end

return M
