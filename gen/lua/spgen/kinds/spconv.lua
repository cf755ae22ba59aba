-- spconv: the one-pass SPConv layer (ops/spconv.lua). Its fold merges the
-- branches and their batchnorms into G, Q and biases; the code sums the input
-- statistics, computes the attention, then each output pixel with the
-- batchnorm, residual, relu and pool that follow in its store.
return {
  ops = { spconv = require("spgen.ops.spconv") },
  absorbs = { "batchnorm", "add", "relu", "global_avgpool" },
  in_place = "residual",
  fold = require("spgen.fold.spconv"),
  emit = {
    c = "spgen.emit_c.spconv.emit",
    cuda = "spgen.emit_cuda.spconv.emit",
    cuda_describe = "spgen.emit_cuda.spconv.describe",
  },
  int8 = "spgen.emit_c.int8.conv.spconv",
  lower = require("spgen.lower").spconv,
  comment = {
    options = function(a)
      return string.format("stride %d, ratio %s (%d representative, %d redundant channels), groups %d, bias %s",
        a.stride, tostring(a.ratio), a.r, a.cin - a.r, a.groups, a.bias)
    end,
    folded = "bn1, bn2 and pooling folded into the weights",
    -- after the attention has mixed the branches: not foldable into them
    batchnorm = "in the store",
  },
}
