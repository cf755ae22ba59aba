-- Golden case conv1x1_output (written by tests/golden/make_golden.py; do not edit).
-- A 1x1 convolution 10 -> 19 with batchnorm over a blocked 9x11 input as the
-- network output (stored NCHW; 99 pixels, the last tile narrower).
local net = network { name = "conv1x1_output", input = { 6, 9, 11 }, batch = 1,
                      naming = "torch", weights = "data/conv1x1_output.safetensors" }
local t1 = conv2d(net.input, { out = 10, k = 3, name = "c0" })
local t2 = relu(t1)
local t3 = conv2d(t2, { out = 19, k = 1, name = "c1" })
local t4 = batchnorm(t3, "bn")
return output(t4)
