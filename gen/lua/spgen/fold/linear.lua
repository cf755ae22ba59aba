-- Folds a linear layer (and a batchnorm after it) to [out][in] row-major;
-- Paddle's [in, out] weight is transposed here, once. Over a blocked input
-- (k.gemv) the weights are packed for its tiles instead, [tile][in][block]
-- [lane], and the bias padded to whole blocks (both with plain, for the
-- CUDA backend).
local native = require("spgen.native")
local bn = require("spgen.bn")
local blocks = require("spgen.blocks")

return function(k, naming, weights, blob, plain)
  local a, p = k.node.attrs, k.node.name
  local w, b = weights[p .. ".weight"], weights[p .. ".bias"]
  local scale, shift
  if k.bn then scale, shift = bn.fold(k.bn.name, a.out, naming, k.bn.attrs.eps, weights) end
  local W, B = native.farray(a.out * a.cin), native.farray(a.out)
  for o = 0, a.out - 1 do
    local s = scale and scale[o + 1] or 1.0
    if naming == "paddle" then W:set_scaled(o * a.cin, 1, w, o, a.out, a.cin, s)
    else W:set_scaled(o * a.cin, 1, w, o * a.cin, 1, a.cin, s) end
    B[o] = s * (b and b[o] or 0.0) + (shift and shift[o + 1] or 0.0)
  end
  k.w = {}
  if not k.gemv or plain then
    k.w.WT = blob.add(W)
    if b or k.bn then k.w.B = blob.add(B) end
  end
  if k.gemv then
    k.w.WB = blob.add(blocks.rows(W, a.out, a.cin, k.gemv.block * k.gemv.blocks))
    if b or k.bn then k.w.BB = blob.add(blocks.vector(B, a.out, k.gemv.block)) end
  end
end
