-- shortcut_a: the option-A shortcut of CIFAR ResNets (ops/shape_only.lua):
-- the input subsampled by the stride, with zero channels before and after.
local shape_only = require("spgen.ops.shape_only")

return {
  ops = { shortcut_a = shape_only.shortcut_a },
  absorbs = {},
  emit = { c = "spgen.emit_c.pointwise.shortcut_a", cuda = "spgen.emit_cuda.pointwise.shortcut_a" },
  int8 = "spgen.emit_c.int8.pointwise.shortcut_a",
}
