-- softmax: over the channels at each pixel (over the features of a flat
-- tensor).
local shape_only = require("spgen.ops.shape_only")

return {
  ops = { softmax = shape_only.softmax },
  absorbs = {},
  emit = { c = "spgen.emit_c.pointwise.softmax", cuda = "spgen.emit_cuda.pointwise.softmax" },
  int8 = "spgen.emit_c.int8.pointwise.softmax",
}
