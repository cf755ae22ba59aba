-- The operations a spec can call, one module each (ops/*.lua: option schema,
-- shape inference, the weight tensors it needs and what it costs): those the
-- kernel kinds name (kinds/*.lua), and flatten, a view that makes no kernel.
local kinds = require("spgen.kinds")
local shape_only = require("spgen.ops.shape_only")

local M = { flatten = shape_only.flatten }

for _, kind in pairs(kinds) do
  for op, module in pairs(kind.ops) do
    assert(not M[op], op .. " is named by two kinds")
    M[op] = module
  end
end

return M
