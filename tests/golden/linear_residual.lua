-- Golden case linear_residual (written by tests/golden/make_golden.py; do not edit).
-- Residual add between linear outputs: h = relu(fc1(flatten(x))), 12 -> 16;
-- relu(fc2(h) + h); fc3 16 -> 3; batch 2.
local net = network { name = "linear_residual", input = { 3, 2, 2 }, batch = 2,
                      naming = "torch", weights = "data/linear_residual.safetensors" }
local t1 = flatten(net.input)
local t2 = linear(t1, { out = 16, name = "fc1" })
local t3 = relu(t2)
local t4 = linear(t3, { out = 16, name = "fc2" })
local t5 = add(t4, t3)
local t6 = relu(t5)
local t7 = linear(t6, { out = 3, name = "fc3" })
return output(t7)
