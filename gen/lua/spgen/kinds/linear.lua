-- linear: a fully connected layer on a flat input (ops/linear.lua), with the
-- batchnorm after it folded into its weights and bias, and the residual add
-- and relu that follow in its store. It absorbs no global average pool: its
-- output is 1x1 already, pooling in the store pays off where there are
-- pixels to pool.
return {
  ops = { linear = require("spgen.ops.linear") },
  absorbs = { "batchnorm", "add", "relu" },
  in_place = "residual",
  fold = require("spgen.fold.linear"),
  emit = { c = "spgen.emit_c.linear.emit", cuda = "spgen.emit_cuda.linear.emit" },
  int8 = "spgen.emit_c.int8.conv.linear",
  comment = { batchnorm = "folded into the weights" },
}
