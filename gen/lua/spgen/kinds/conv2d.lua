-- conv2d: a direct convolution (ops/conv2d.lua), any kernel size, stride,
-- padding and groups, with the batchnorm after it folded into its weights and
-- bias, and the residual add, relu and pool that follow in its store.
return {
  ops = { conv2d = require("spgen.ops.conv2d") },
  absorbs = { "batchnorm", "add", "relu", "global_avgpool" },
  in_place = "residual",
  fold = require("spgen.fold.conv2d"),
  emit = {
    c = "spgen.emit_c.conv2d.emit",
    cuda = "spgen.emit_cuda.conv2d.emit",
    cuda_describe = "spgen.emit_cuda.conv2d.describe",
  },
  int8 = "spgen.emit_c.int8.conv.conv2d",
  lower = require("spgen.lower").conv2d,
  comment = { batchnorm = "folded into the weights" },
}
