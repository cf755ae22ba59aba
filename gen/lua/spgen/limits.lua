-- The most a spec may ask for, checked as each operation is declared, before
-- any weight is read, drawn or folded. Every zoo network fits with a wide
-- margin (sp_resnet50: about 175 operations and 18.4M weights; ResNet-152
-- would be about 520 operations, vanilla ResNet-50 25.6M weights). The
-- weights file's own limits are in gen/safetensors.h.
local M = {
  -- DSL operations (layers) in a spec: the passes are near-linear in them and
  -- the emitted code grows by up to about 45 KB of C and CUDA per operation
  -- (an spconv), so 2048 spconv layers generate in about 5 s.
  operations = 2048,
  -- float32 values the operations need (parameters and batchnorm statistics):
  -- 64M, 256 MiB, drawn or read, checked and folded by native loops
  -- (gen/rng.c, gen/farray.c): one 8192 x 8192 linear at the limit generates
  -- in about 1.2 s (0.4 s user, 0.7 s system CPU) and 1.3 GB. A batchnorm's
  -- fold is per channel in Lua: one over 16M channels takes about 8 s.
  weights = 1 << 26,
  -- elements of every tensor, activation (at the batch) or weight: C int
  -- indices; with it no size, count or byte total formed later can wrap
  elements = 1 << 31,
  -- bytes of the spec and of each file it imports: a spec is a few KB
  spec_bytes = 4 << 20,
}

-- The elements of a tensor of that shape (its product was checked against
-- M.elements when the tensor was declared).
function M.count(shape)
  local n = 1
  for _, d in ipairs(shape) do n = n * d end
  return n
end

-- Called as a spec declares operation op, before it exists; raise reports at
-- the spec line.
function M.declare_operation(g, op, raise)
  if #g.nodes - 1 >= M.operations then -- the nodes so far: the input and each operation
    raise("%s: the spec declares more than %d operations (the limit)", op, M.operations)
  end
end

-- Called with the weight tensors ({ key, shape }) an operation just declared
-- needs.
function M.declare_weights(g, node, tensors, raise)
  local n = 0
  for _, t in ipairs(tensors) do n = n + M.count(t.shape) end
  g.weight_count = (g.weight_count or 0) + n
  if g.weight_count > M.weights then
    raise("%s '%s': its %d weights take the network to %d, past the limit of %d (%d MiB as float32)",
      node.op, node.name, n, g.weight_count, M.weights, 4 * M.weights >> 20)
  end
end

return M
