-- gap: a global average pool that no producer absorbed: each channel's
-- plane to its mean.
local shape_only = require("spgen.ops.shape_only")

return {
  ops = { global_avgpool = shape_only.global_avgpool },
  absorbs = {},
  emit = { c = "spgen.emit_c.pointwise.gap", cuda = "spgen.emit_cuda.pointwise.gap" },
  int8 = "spgen.emit_c.int8.pointwise.gap",
}
