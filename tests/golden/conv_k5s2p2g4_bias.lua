-- Golden case conv_k5s2p2g4_bias (written by tests/golden/make_golden.py; do not edit).
-- conv2d k=5 stride 2 pad 2 groups 4 with bias on a non-square 12x9 input:
-- 8 -> 12 channels (2 in / 3 out per group), 6x5 output.
local net = network { name = "conv_k5s2p2g4_bias", input = { 8, 12, 9 }, batch = 1,
                      naming = "torch", weights = "data/conv_k5s2p2g4_bias.safetensors" }
local t1 = conv2d(net.input, { out = 12, k = 5, stride = 2, pad = 2, groups = 4, bias = true, name = "conv" })
return output(t1)
