-- Golden case add_self (written by tests/golden/make_golden.py; do not edit).
-- add(y, y) of one conv output, then relu.
local net = network { name = "add_self", input = { 3, 5, 4 }, batch = 1,
                      naming = "torch", weights = "data/add_self.safetensors" }
local t1 = conv2d(net.input, { out = 4, k = 3, name = "conv" })
local t2 = add(t1, t1)
local t3 = relu(t2)
return output(t3)
