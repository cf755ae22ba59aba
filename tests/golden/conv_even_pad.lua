-- Golden case conv_even_pad (written by tests/golden/make_golden.py; do not edit).
-- Even kernels with padding: k=2 stride 1 with pad left out (k // 2 = 1, so the
-- output grows to 6x7), relu, then k=4 stride 2 pad 1 -> 3x3.
local net = network { name = "conv_even_pad", input = { 3, 5, 6 }, batch = 1,
                      naming = "torch", weights = "data/conv_even_pad.safetensors" }
local t1 = conv2d(net.input, { out = 4, k = 2, name = "c1" })
local t2 = relu(t1)
local t3 = conv2d(t2, { out = 5, k = 4, stride = 2, pad = 1, bias = true, name = "c2" })
return output(t3)
