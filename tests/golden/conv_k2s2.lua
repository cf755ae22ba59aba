-- Golden case conv_k2s2 (written by tests/golden/make_golden.py; do not edit).
-- Even kernel: conv2d k=2 stride 2 pad 0, 3 -> 5 channels, 8x11 -> 4x5.
local net = network { name = "conv_k2s2", input = { 3, 8, 11 }, batch = 1,
                      naming = "torch", weights = "data/conv_k2s2.safetensors" }
local t1 = conv2d(net.input, { out = 5, k = 2, stride = 2, pad = 0, name = "patch" })
return output(t1)
