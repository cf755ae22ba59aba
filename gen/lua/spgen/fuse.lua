-- Groups graph nodes into kernels: each kernel reads one tensor and writes
-- one, and absorbs the batchnorm and relu that follow its producer, so those
-- never exist as separate passes over memory.
local M = {}

local function consumers(g)
  local users = {}
  for _, node in ipairs(g.nodes) do
    for _, src in ipairs(node.inputs) do
      users[src] = users[src] or {}
      table.insert(users[src], node)
    end
  end
  return users
end

-- The single consumer of node when it has op `op`, else nil.
local function sole(users, node, op)
  local u = users[node.id]
  if u and #u == 1 and u[1].op == op then return u[1] end
end

-- Returns a list of kernels in schedule order:
-- { kind = "spconv"|"affine", node, bn = node|nil, relu = bool, input = id, output = id }
-- where input/output are node ids naming tensors.
function M.run(g)
  local users, taken, kernels = consumers(g), {}, {}
  for _, node in ipairs(g.nodes) do
    if not taken[node.id] and (node.op == "spconv" or node.op == "batchnorm" or node.op == "relu") then
      local k = { kind = node.op == "spconv" and "spconv" or "affine", node = node, input = node.inputs[1] }
      local last = node
      if node.op == "batchnorm" then k.bn = node end
      if node.op == "relu" then k.relu = true end
      if not k.bn and not k.relu then
        local b = sole(users, last, "batchnorm")
        if b then k.bn, last = b, b end
      end
      if not k.relu then
        local r = sole(users, last, "relu")
        if r then k.relu, last = true, r end
      end
      taken[last.id] = true
      if k.bn then taken[k.bn.id] = true end
      k.output, k.last = last.id, last
      kernels[#kernels + 1] = k
    end
  end
  return kernels
end

return M
