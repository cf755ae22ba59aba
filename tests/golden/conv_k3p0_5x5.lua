-- Golden case conv_k3p0_5x5 (written by tests/golden/make_golden.py; do not edit).
-- Valid (pad 0) k=3 convolutions: 5x5 -> 3x3, relu, then 3x3 -> 1x1 (a 4-D
-- N x 4 x 1 x 1 output); batch 2.
local net = network { name = "conv_k3p0_5x5", input = { 3, 5, 5 }, batch = 2,
                      naming = "torch", weights = "data/conv_k3p0_5x5.safetensors" }
local t1 = conv2d(net.input, { out = 5, k = 3, pad = 0, bias = true, name = "c1" })
local t2 = relu(t1)
local t3 = conv2d(t2, { out = 4, k = 3, pad = 0, name = "c2" })
return output(t3)
