-- Golden case softmax_4d (written by tests/golden/make_golden.py; do not edit).
-- softmax of a 4-D tensor: over the 7 channels at each pixel of a 1x1 conv's
-- output (the softmax is the output), batch 2.
local net = network { name = "softmax_4d", input = { 4, 5, 6 }, batch = 2,
                      naming = "torch", weights = "data/softmax_4d.safetensors" }
local t1 = conv2d(net.input, { out = 7, k = 1, bias = true, name = "conv" })
local t2 = softmax(t1)
return output(t2)
