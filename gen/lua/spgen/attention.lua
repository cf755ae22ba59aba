-- SPConv's attention in emitted code, the same text in the C and CUDA
-- backends: from the branch sums m3 and m1 (in scope) to the means, the
-- softmax over the two branches and the store's coefficients. Declares e,
-- w3 and w1 in the enclosing block.
local M = {}

-- P: the layer's macro prefix; post: a batchnorm follows (PA, PB);
-- at(name): the C expression reading array P_<name> at the channel;
-- o: the lvalues o.a3, o.a1, o.be to assign.
function M.emit(w, P, post, at, o)
  w.line("float e, w3, w1;")
  w.line("m3 = m3 / (float)(%s_HO * %s_WO) + %s;", P, P, at("B3"))
  w.line("m1 = m1 / (float)(%s_HO * %s_WO) + %s;", P, P, at("B1"))
  w.line("/* exp of the non-positive difference only: never overflows */")
  w.open("if (m3 >= m1) {")
  w.line("e = expf(m1 - m3); w3 = 1.0f / (1.0f + e); w1 = e * w3;")
  w.reopen("} else {")
  w.line("e = expf(m3 - m1); w1 = 1.0f / (1.0f + e); w3 = e * w1;")
  w.close()
  if post then
    w.line("%s = %s * w3; %s = %s * w1;", o.a3, at("PA"), o.a1, at("PA"))
    w.line("%s = %s * (w3 * %s + w1 * %s) + %s;", o.be, at("PA"), at("B3"), at("B1"), at("PB"))
  else
    w.line("%s = w3; %s = w1; %s = w3 * %s + w1 * %s;", o.a3, o.a1, o.be, at("B3"), at("B1"))
  end
end

return M
