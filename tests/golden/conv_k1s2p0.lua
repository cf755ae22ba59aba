-- Golden case conv_k1s2p0 (written by tests/golden/make_golden.py; do not edit).
-- conv2d k=1 stride 2 pad 0 (bias left out: false), 5 -> 6 channels, 7x10 -> 4x5, batch 2.
local net = network { name = "conv_k1s2p0", input = { 5, 7, 10 }, batch = 2,
                      naming = "torch", weights = "data/conv_k1s2p0.safetensors" }
local t1 = conv2d(net.input, { out = 6, k = 1, stride = 2, pad = 0, name = "proj" })
return output(t1)
