-- Golden case conv_k7s3p0 (written by tests/golden/make_golden.py; do not edit).
-- conv2d k=7 stride 3 pad 0, 2 -> 4 channels on 17x20 -> 4x5 (the last rows and
-- columns of the input are not read).
local net = network { name = "conv_k7s3p0", input = { 2, 17, 20 }, batch = 1,
                      naming = "torch", weights = "data/conv_k7s3p0.safetensors" }
local t1 = conv2d(net.input, { out = 4, k = 7, stride = 3, pad = 0, name = "conv" })
return output(t1)
