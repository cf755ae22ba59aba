-- Groups graph nodes into kernels. A producer (spconv, conv2d, linear)
-- absorbs what follows it when it is the only reader: batchnorm, a residual
-- add whose other operand already exists, relu, and a global average pool.
-- None of those then exists as a pass over memory. flatten is a view.
local native = require("spgen.native")

local M = {}

local PRODUCERS = { spconv = true, conv2d = true, linear = true }

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

-- Follows the chain of sole readers from first; returns the nodes absorbed.
local function absorb(k, users, first)
  local last, absorbed = first, {}
  local function take(op)
    local n = sole(users, last, op)
    if n then last, absorbed[#absorbed + 1] = n, n end
    return n
  end
  k.bn = take("batchnorm")
  local add = sole(users, last, "add")
  if add and add.inputs[1] ~= add.inputs[2] then
    -- the other operand must already exist when this kernel runs
    local other = add.inputs[1] == last.id and add.inputs[2] or add.inputs[1]
    if other < first.id then k.residual, last, absorbed[#absorbed + 1] = other, add, add end
  end
  k.relu = take("relu") ~= nil
  -- pooling in the store pays off where there are pixels to pool
  k.gap = k.kind ~= "linear" and take("global_avgpool") ~= nil
  return absorbed
end

local KIND = {
  batchnorm = "affine", relu = "affine", add = "add", maxpool = "pool", avgpool = "pool",
  global_avgpool = "gap", softmax = "softmax", shortcut_a = "shortcut_a",
}

-- Returns the kernels in schedule order and the views (tensor id -> the id
-- whose memory it shares). A kernel: { kind, node, inputs = {ids}, residual,
-- bn, relu, gap, output = id, last = node }.
function M.run(g)
  local users, live = readers(g), live_nodes(g)
  local taken, kernels, views = {}, {}, {}
  for _, node in ipairs(g.nodes) do
    if live[node.id] and not taken[node.id] and node.op ~= "input" and node.op ~= "output" then
      if node.op == "flatten" then
        views[node.id] = views[node.inputs[1]] or node.inputs[1]
      else
        local function view(id) return views[id] or id end
        local k = { node = node, inputs = { view(node.inputs[1]) } }
        local absorbed = {}
        if PRODUCERS[node.op] then
          k.kind = node.op
          absorbed = absorb(k, users, node)
          k.residual = k.residual and view(k.residual)
          k.inputs[2] = k.residual
        else
          k.kind = KIND[node.op]
          if node.op == "batchnorm" then k.bn = node end
          if node.op == "relu" then k.relu = true end
          if node.op == "add" then k.inputs[2] = view(node.inputs[2]) end
          local r = (node.op == "batchnorm" or node.op == "add") and sole(users, node, "relu")
          if r then k.relu, absorbed[1] = true, r end
        end
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
