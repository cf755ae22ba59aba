-- The operations a spec can call, one module each: option schema, shape
-- inference, the weight tensors it needs and what it costs.
return {
  spconv = require("spgen.ops.spconv"),
  batchnorm = require("spgen.ops.batchnorm"),
  relu = require("spgen.ops.relu"),
}
