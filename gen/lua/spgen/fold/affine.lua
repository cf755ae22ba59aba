-- Folds a standalone batchnorm (and/or relu) into per-channel scale and shift.
local bn = require("spgen.bn")

return function(k, naming, weights, blob)
  if k.bn then
    local c = k.bn.shape[1]
    local a, b = bn.fold(k.bn.name, c, naming, k.bn.attrs.eps, weights)
    k.w.A, k.w.B = blob.add(a), blob.add(b)
  end
end
