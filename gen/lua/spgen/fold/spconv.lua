-- Folds an SPConv layer for the one-pass kernel (the math: docs/design.md):
--   G[c][j][tap]  3x3 weights over the in-group representative channels, with
--                 BN1 scale applied and the PWC weight merged into the taps it
--                 reads (the centre at stride 1, the 2x2 pool window at stride 2)
--   Q[c][ci]      1x1 weights over all input channels: PWC for representative
--                 channels outside c's group (BN1 scale), CONV1x1 for redundant
--                 ones (BN2 scale); pooling's 1/4 applied; zero where merged into G
--   B3, B1        branch biases after BN: o3 = G*x + Q3*x + B3, o1 = Q1*x + B1
--   PA, PB        the following batchnorm's scale and shift, when fused
local native = require("spgen.native")
local bn = require("spgen.bn")

return function(k, naming, weights, blob)
  local a, p = k.node.attrs, k.node.name
  local co, c, r, grp, s = a.out, a.cin, a.r, a.groups, a.stride
  local rg, cg = r // grp, co // grp
  local pool = s == 2 and 0.25 or 1.0
  local pwc_taps = s == 2 and { 4, 5, 7, 8 } or { 4 }
  local wg, wp = weights[p .. ".gwc.weight"], weights[p .. ".pwc.weight"]
  local w1, b1 = weights[p .. ".conv1x1.weight"], weights[p .. ".conv1x1.bias"]
  local bg, bp = weights[p .. ".gwc.bias"], weights[p .. ".pwc.bias"]
  local a1, sh1 = bn.fold(p .. ".bn1", co, naming, a.eps, weights)
  local a2, sh2 = bn.fold(p .. ".bn2", co, naming, a.eps, weights)

  local G, Q = native.farray(co * rg * 9), native.farray(co * c)
  local B3, B1 = native.farray(co), native.farray(co)
  for oc = 0, co - 1 do
    local s1, s2 = a1[oc + 1], a2[oc + 1]
    local gbase = oc // cg * rg
    for j = 0, rg - 1 do
      local at = (oc * rg + j) * 9
      for t = 0, 8 do G[at + t] = s1 * wg[at + t] end
      for _, t in ipairs(pwc_taps) do
        G[at + t] = G[at + t] + s1 * pool * wp[oc * r + gbase + j]
      end
    end
    for ci = 0, c - 1 do
      local v = 0.0
      if ci >= r then
        v = s2 * pool * w1[oc * (c - r) + ci - r]
      elseif ci < gbase or ci >= gbase + rg then
        v = s1 * pool * wp[oc * r + ci]
      end
      Q[oc * c + ci] = v
    end
    local bias3 = (bg and bg[oc] or 0) + (bp and bp[oc] or 0)
    B3[oc] = s1 * bias3 + sh1[oc + 1]
    B1[oc] = s2 * b1[oc] + sh2[oc + 1]
  end
  k.w = { G = blob.add(G), Q = blob.add(Q), B3 = blob.add(B3), B1 = blob.add(B1) }
  if k.bn then
    local pa, pb = bn.fold(k.bn.name, co, naming, k.bn.attrs.eps, weights)
    k.w.PA, k.w.PB = blob.add(pa), blob.add(pb)
  end
  -- per sample: window sums T[r][9], channel sums S[c], and on the portable
  -- path al3/al1/be[co] (vector tiles compute their coefficients in place)
  k.scratch = r * 9 + c + (k.vt and 0 or 3 * co)
end
