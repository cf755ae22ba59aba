-- add: an elementwise sum of two tensors that no producer absorbed as its
-- residual (both operands come after the producer, or are one tensor), and
-- a relu after it.
local shape_only = require("spgen.ops.shape_only")

return {
  ops = { add = shape_only.add },
  absorbs = { "relu" },
  in_place = "any",
  emit = { c = "spgen.emit_c.pointwise.add", cuda = "spgen.emit_cuda.pointwise.add" },
  int8 = "spgen.emit_c.int8.pointwise.add",
}
