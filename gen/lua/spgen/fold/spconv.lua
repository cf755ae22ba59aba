-- Folds an SPConv layer for the one-pass kernel (the math: docs/design.md):
--   G[c][j][tap]  3x3 weights over the in-group representative channels, with
--                 BN1 scale applied and the PWC weight merged into the taps it
--                 reads (the centre at stride 1, the 2x2 pool window at stride 2)
--   Q[c][ci]      1x1 weights over all input channels: PWC for representative
--                 channels outside c's group (BN1 scale), CONV1x1 for redundant
--                 ones (BN2 scale); pooling's 1/4 applied; zero where merged into G
--   B3, B1        branch biases after BN: o3 = G*x + Q3*x + B3, o1 = Q1*x + B1
--   PA, PB        the following batchnorm's scale and shift, when fused
--   GB, QB        G and Q laid out for a blocked tile (k.bt), which reads
--                 them instead of G and Q (kept only with plain, for CUDA)
local native = require("spgen.native")
local bn = require("spgen.bn")
local blocks = require("spgen.blocks")

return function(k, naming, weights, blob, plain)
  local a, p = k.node.attrs, k.node.name
  local co, c, r, grp, s = a.out, a.cin, a.r, a.groups, a.stride
  local rg, cg = r // grp, co // grp
  local pool = s == 2 and 0.25 or 1.0
  local pwc_taps = s == 2 and { 4, 5, 7, 8 } or { 4 }
  local wg, wp = weights[p .. ".gwc.weight"], weights[p .. ".pwc.weight"]
  local w1, b1 = weights[p .. ".conv1x1.weight"], weights[p .. ".conv1x1.bias"]
  local bg, bp = weights[p .. ".gwc.bias"], weights[p .. ".pwc.bias"]
  local a1, sh1 = bn.fold(p .. ".bn1", co, naming, a.eps, weights)
  local a2, sh2 = {}, {}
  if a.bn2 then a2, sh2 = bn.fold(p .. ".bn2", co, naming, a.eps, weights) end

  local G, Q = native.farray(co * rg * 9), native.farray(co * c)
  local B3, B1 = native.farray(co), native.farray(co)
  for oc = 0, co - 1 do
    local s1, s2 = a1[oc + 1], a2[oc + 1] or 1
    local gbase, g_at, q_at = oc // cg * rg, oc * rg * 9, oc * c
    -- G[oc][j][tap] = s1 * gwc[oc][j][tap] (+ s1 * pool * pwc[oc][gbase + j] on the PWC taps)
    G:set_scaled(g_at, 1, wg, g_at, 1, rg * 9, s1)
    for _, t in ipairs(pwc_taps) do G:add_scaled(g_at + t, 9, wp, oc * r + gbase, 1, rg, s1 * pool) end
    -- Q[oc][ci]: PWC outside the group [gbase, gbase + rg) (left zero), CONV1x1 from r on
    Q:set_scaled(q_at, 1, wp, oc * r, 1, gbase, s1 * pool)
    Q:set_scaled(q_at + gbase + rg, 1, wp, oc * r + gbase + rg, 1, r - gbase - rg, s1 * pool)
    Q:set_scaled(q_at + r, 1, w1, oc * (c - r), 1, c - r, s2 * pool)
    local bias3 = (bg and bg[oc] or 0) + (bp and bp[oc] or 0)
    B3[oc] = s1 * bias3 + sh1[oc + 1]
    B1[oc] = s2 * b1[oc] + (sh2[oc + 1] or 0)
  end
  k.w = {}
  if not k.bt or plain then k.w.G, k.w.Q = blob.add(G), blob.add(Q) end
  k.w.B3, k.w.B1 = blob.add(B3), blob.add(B1)
  if k.bt then -- blocked: G and Q as [output block][row][block]
    k.w.GB = blob.add(blocks.rows(G, co, rg * 9, k.bt.block))
    k.w.QB = blob.add(blocks.rows(Q, co, c, k.bt.block))
  end
  if k.bn then
    local pa, pb = bn.fold(k.bn.name, co, naming, k.bn.attrs.eps, weights)
    k.w.PA, k.w.PB = blob.add(pa), blob.add(pb)
  end
  -- per sample (emit_c/spconv.lua): blocked at stride 2 over a blocked
  -- input, first the input's 2x2 window sums, blocked, HO x WO, which the 1x1
  -- parts read (k.pooled floats); the window sums T[r][9] and channel sums
  -- S[c], but for blocked tiles over a small plane (flat), which take the
  -- branch means from their own sums; on the portable path al3/al1/be[co]
  -- (vector and blocked tiles compute their coefficients in place)
  k.pooled = 0
  if k.bt and k.layout.inputs[1] and s == 2 then k.pooled = blocks.padded(c, k.bt.block) * k.node.shape[2] * k.node.shape[3] end
  local sums = k.bt and k.bt.flat and 0 or r * 9 + c
  k.scratch = k.pooled + sums + ((k.vt or k.bt) and 0 or 3 * co)
end
