-- Folds a conv2d and the batchnorm after it: W' = W * s[o], b' = b * s[o] + t[o];
-- a blocked convolution (k.bt) gets them laid out for its tile instead (both
-- with plain, for the CUDA backend).
local native = require("spgen.native")
local bn = require("spgen.bn")
local blocks = require("spgen.blocks")

-- The stem's weights (emit_c/stem.lua), W as [out][cin][ky][kx], laid out
-- in the order its tile reads them: [output block][kx][ky][input channel]
-- [lane], the padding channels zero.
local function stem_rows(W, out, cin, size, block)
  local dst = native.farray(blocks.padded(out, block) * cin * size * size)
  for o = 0, out - 1 do
    for j = 0, cin - 1 do
      for ky = 0, size - 1 do
        local at = ((o // block * size * size + ky) * cin + j) * block + o % block
        dst:set_scaled(at, size * cin * block, W, ((o * cin + j) * size + ky) * size, 1, size, 1.0)
      end
    end
  end
  return dst
end

return function(k, naming, weights, blob, plain)
  local a, p = k.node.attrs, k.node.name
  local per_out = a.cin // a.groups * a.k * a.k
  local w, b = weights[p .. ".weight"], weights[p .. ".bias"]
  local scale, shift
  if k.bn then scale, shift = bn.fold(k.bn.name, a.out, naming, k.bn.attrs.eps, weights) end
  local W, B = native.farray(a.out * per_out), native.farray(a.out)
  for o = 0, a.out - 1 do
    local s = scale and scale[o + 1] or 1.0
    W:set_scaled(o * per_out, 1, w, o * per_out, 1, per_out, s)
    B[o] = s * (b and b[o] or 0.0) + (shift and shift[o + 1] or 0.0)
  end
  k.w = {}
  if not k.bt or plain then
    k.w.WT = blob.add(W)
    if b or k.bn then k.w.B = blob.add(B) end
  end
  if k.bt then -- blocked: [output block][input channel][tap][block] (the stem's: stem_rows), bias padded;
    -- a GEMM tile's panel: [tile's first block][input channel][block][lane]
    local rows = k.bt.gemm and k.bt.block * k.bt.blocks or k.bt.block
    k.w.WB = blob.add(k.bt.stem and stem_rows(W, a.out, a.cin, a.k, k.bt.block)
      or blocks.rows(W, a.out, per_out, rows))
    if b or k.bn then k.w.BB = blob.add(blocks.vector(B, a.out, k.bt.block)) end
  end
  if k.bt and k.bt.stem then k.scratch = a.cin * k.bt.padded.h * k.bt.padded.w end -- the input with its zero border
end
