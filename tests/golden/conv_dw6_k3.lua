-- Golden case conv_dw6_k3 (written by tests/golden/make_golden.py; do not edit).
-- Depthwise conv2d: groups = C = out = 6, k=3 (pad left out: 1), bias, 7x8, batch 3.
local net = network { name = "conv_dw6_k3", input = { 6, 7, 8 }, batch = 3,
                      naming = "torch", weights = "data/conv_dw6_k3.safetensors" }
local t1 = conv2d(net.input, { out = 6, k = 3, groups = 6, bias = true, name = "dw" })
return output(t1)
