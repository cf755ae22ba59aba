-- Groups graph nodes into kernels. A node of an op that a kernel kind names
-- (kinds/*.lua) starts a kernel, which absorbs those that follow it as their
-- only reader, of the ops its record lists: batchnorm, a residual add whose
-- other operand already exists, relu and global average pool, in that order,
-- the order its store applies them. None of those then exists as a pass over
-- memory. flatten is a view.
local native = require("spgen.native")
local kinds = require("spgen.kinds")

local M = {}

-- The ops a store applies after its kernel's own result, in order.
local CHAIN = { batchnorm = 1, add = 2, relu = 3, global_avgpool = 4 }

local KIND_OF_OP, ABSORBS = {}, {}
for name, kind in pairs(kinds) do
  for op in pairs(kind.ops) do KIND_OF_OP[op] = name end
  ABSORBS[name] = {}
  for _, op in ipairs(kind.absorbs) do ABSORBS[name][op] = assert(CHAIN[op], op) end
end

local function readers(g)
  local users = {}
  for _, node in ipairs(g.nodes) do
    for _, src in ipairs(node.inputs) do
      users[src] = users[src] or {}
      table.insert(users[src], node)
    end
  end
  return users
end

-- Nodes the output depends on; anything else is reported and dropped.
local function live_nodes(g)
  local live, stack = {}, { g.output.id }
  while #stack > 0 do
    local id = table.remove(stack)
    if not live[id] then
      live[id] = true
      for _, src in ipairs(g.nodes[id].inputs) do stack[#stack + 1] = src end
    end
  end
  for _, node in ipairs(g.nodes) do
    if not live[node.id] then
      native.warn(string.format("%s: warning: the result of %s is never used", node.where, node.op))
    end
  end
  return live
end

-- The single reader of node when it is an `op`, else nil.
local function sole(users, node, op)
  local u = users[node.id]
  if u and #u == 1 and u[1].op == op then return u[1] end
end

-- Follows the chain of sole readers from the kernel's node, taking the ops
-- its kind absorbs; returns the nodes absorbed. A kernel whose own op is in
-- the chain applies it (a standalone batchnorm or relu) and takes only what
-- comes after it.
local function absorb(k, users, view)
  local first, takes = k.node, ABSORBS[k.kind]
  local from = CHAIN[first.op] or 0
  local last, absorbed = first, {}
  -- the sole reader of the chain's end when it is an `op` this kernel may take
  local function candidate(op)
    if CHAIN[op] > from and takes[op] then return sole(users, last, op) end
  end
  local function take(op)
    local n = candidate(op)
    if n then last, absorbed[#absorbed + 1] = n, n end
    return n
  end
  if first.op == "batchnorm" then k.bn = first end
  if first.op == "relu" then k.relu = true end
  k.bn = k.bn or take("batchnorm")
  local add = candidate("add")
  if add and add.inputs[1] ~= add.inputs[2] then
    -- the other operand must already exist when this kernel runs
    local other = add.inputs[1] == last.id and add.inputs[2] or add.inputs[1]
    if other < first.id then
      k.residual, last, absorbed[#absorbed + 1] = view(other), add, add
      k.inputs[#k.inputs + 1] = k.residual
    end
  end
  k.relu = k.relu or take("relu") ~= nil
  k.gap = take("global_avgpool") ~= nil
  return absorbed
end

-- Returns the kernels in schedule order (kinds.lua describes a kernel
-- record) and the views (tensor id -> the id whose memory it shares).
function M.run(g)
  local users, live = readers(g), live_nodes(g)
  local taken, kernels, views = {}, {}, {}
  for _, node in ipairs(g.nodes) do
    if live[node.id] and not taken[node.id] and node.op ~= "input" and node.op ~= "output" then
      if node.op == "flatten" then
        views[node.id] = views[node.inputs[1]] or node.inputs[1]
      else
        local function view(id) return views[id] or id end
        local k = { kind = assert(KIND_OF_OP[node.op], node.op), node = node, inputs = {} }
        for i, id in ipairs(node.inputs) do k.inputs[i] = view(id) end
        local absorbed = absorb(k, users, view)
        for _, n in ipairs(absorbed) do taken[n.id] = true end
        local last = absorbed[#absorbed] or node
        k.output, k.last = last.id, last
        kernels[#kernels + 1] = k
      end
    end
  end
  return kernels, views
end

return M
