-- affine: a batchnorm that no producer absorbed, as a per-channel scale and
-- shift (fold/affine.lua), and/or a relu: fuse sets k.bn to a batchnorm node
-- of its own, k.relu for a relu of its own or one it absorbed.
local shape_only = require("spgen.ops.shape_only")

return {
  ops = { batchnorm = require("spgen.ops.batchnorm"), relu = shape_only.relu },
  absorbs = { "relu" },
  in_place = "any",
  fold = require("spgen.fold.affine"),
  emit = { c = "spgen.emit_c.pointwise.affine", cuda = "spgen.emit_cuda.pointwise.affine" },
  int8 = "spgen.emit_c.int8.conv.affine",
  comment = { batchnorm = "as scale and shift" },
}
