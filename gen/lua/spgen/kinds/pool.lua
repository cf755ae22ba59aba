-- pool: max or average pooling over a k x k window (ops/pool.lua); the
-- emitters read which from the node's op.
local pool = require("spgen.ops.pool")

return {
  ops = { maxpool = pool, avgpool = pool.avg },
  absorbs = {},
  emit = { c = "spgen.emit_c.pool.emit", cuda = "spgen.emit_cuda.pool.emit" },
  int8 = "spgen.emit_c.int8.pointwise.pool",
}
