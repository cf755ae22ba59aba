-- Memory planning: a pass over tensor lifetimes that places every activation
-- and scratch buffer in one static arena (greedy by size, lowest free offset,
-- as in TVM's USMP and TinyEngine). The network's input and output live in
-- the caller's buffers and take no arena space.
local M = {}

local ALIGN = 64

local function align(n) return (n + ALIGN - 1) // ALIGN * ALIGN end

local function overlaps(a, b) return a.first <= b.last and b.first <= a.last end

-- Returns { buffers = {...}, arena_bytes, sum_bytes, lower_bound }. Each
-- kernel gets k.in_ref / k.out_ref ("input" | "output" | arena byte offset)
-- and k.scratch_at (arena byte offset) when it needs scratch.
function M.run(g, kernels)
  local batch = g.net.batch
  local nodes = g.nodes
  local final = g.output.inputs[1]
  local function bytes(id)
    local s = nodes[id].shape
    return 4 * batch * s[1] * s[2] * s[3]
  end

  local readers = {}
  for _, k in ipairs(kernels) do readers[k.input] = (readers[k.input] or 0) + 1 end
  local buffers, by_tensor = {}, {}
  for step, k in ipairs(kernels) do
    if k.output ~= final then
      local b = { what = "tensor " .. nodes[k.output].op .. " '" .. (nodes[k.output].name or k.output) .. "'",
                  bytes = bytes(k.output), first = step, last = step }
      -- elementwise kernels may overwrite their input once nothing else reads it
      local src = by_tensor[k.input]
      if k.kind == "affine" and src and readers[k.input] == 1 then
        src.last, by_tensor[k.output] = step, src
      else
        buffers[#buffers + 1], by_tensor[k.output] = b, b
      end
    end
    local src = by_tensor[k.input]
    if src then
      src.last = math.max(src.last, step)
    end
    if k.scratch > 0 then
      local b = { what = "scratch of kernel " .. step, bytes = 4 * k.scratch, first = step, last = step }
      buffers[#buffers + 1], k.scratch_buffer = b, b
    end
  end

  local order = {}
  for i, b in ipairs(buffers) do b.index, order[i] = i, b end
  table.sort(order, function(x, y)
    if x.bytes ~= y.bytes then return x.bytes > y.bytes end
    return x.index < y.index
  end)
  local placed, arena = {}, 0
  for _, b in ipairs(order) do
    local live = {}
    for _, p in ipairs(placed) do if overlaps(p, b) then live[#live + 1] = p end end
    table.sort(live, function(x, y) return x.offset < y.offset end)
    local at = 0
    for _, p in ipairs(live) do
      if at + b.bytes <= p.offset then break end
      at = math.max(at, align(p.offset + p.bytes))
    end
    b.offset = at
    placed[#placed + 1] = b
    arena = math.max(arena, at + b.bytes)
  end

  local sum, lower = 0, 0
  for _, b in ipairs(buffers) do sum = sum + b.bytes end
  for step = 1, #kernels do
    local live = 0
    for _, b in ipairs(buffers) do if b.first <= step and step <= b.last then live = live + b.bytes end end
    lower = math.max(lower, live)
  end

  local function ref(id)
    if id == 1 then return "input" end
    if id == final then return "output" end
    return by_tensor[id].offset
  end
  for _, k in ipairs(kernels) do
    k.in_ref, k.out_ref = ref(k.input), ref(k.output)
    k.scratch_at = k.scratch_buffer and k.scratch_buffer.offset
  end
  return { buffers = buffers, arena_bytes = align(arena), sum_bytes = sum, lower_bound = lower }
end

return M
