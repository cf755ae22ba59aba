-- The operations a spec can call, one module each: option schema, shape
-- inference, the weight tensors it needs and what it costs.
local pool = require("spgen.ops.pool")
local shape_only = require("spgen.ops.shape_only")

return {
  spconv = require("spgen.ops.spconv"),
  conv2d = require("spgen.ops.conv2d"),
  linear = require("spgen.ops.linear"),
  batchnorm = require("spgen.ops.batchnorm"),
  maxpool = pool("max"),
  avgpool = pool("avg"),
  relu = shape_only.relu,
  softmax = shape_only.softmax,
  global_avgpool = shape_only.global_avgpool,
  flatten = shape_only.flatten,
  add = shape_only.add,
  shortcut_a = shape_only.shortcut_a,
}
