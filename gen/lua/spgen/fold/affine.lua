-- Folds a standalone batchnorm (and/or relu) into per-channel scale and shift.
local bn = require("spgen.bn")
local blocks = require("spgen.blocks")

return function(k, naming, weights, blob)
  if k.bn then
    local c = k.bn.shape[1]
    local a, b = bn.fold(k.bn.name, c, naming, k.bn.attrs.eps, weights)
    k.w.A, k.w.B = blob.add(a), blob.add(b)
    if k.layout and k.layout.output then -- blocked: padded, the padding channels stay zero
      k.w.AB, k.w.BB = blob.add(blocks.vector(a, c, k.layout.block)), blob.add(blocks.vector(b, c, k.layout.block))
    end
  end
end
