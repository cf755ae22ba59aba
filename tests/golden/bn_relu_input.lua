-- Golden case bn_relu_input (written by tests/golden/make_golden.py; do not edit).
-- A standalone batchnorm (eps = 1e-3) and relu directly on the network input; batch 2.
local net = network { name = "bn_relu_input", input = { 5, 4, 6 }, batch = 2,
                      naming = "torch", weights = "data/bn_relu_input.safetensors" }
local t1 = batchnorm(net.input, { name = "bn", eps = 0.001 })
local t2 = relu(t1)
return output(t2)
