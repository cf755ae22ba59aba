-- Golden case conv_bias_bn_relu (written by tests/golden/make_golden.py; do not edit).
-- conv2d with bias, then batchnorm and relu (all fused: bias and BN folded into
-- the weights), 4 -> 8 channels, 6x7, batch 2.
local net = network { name = "conv_bias_bn_relu", input = { 4, 6, 7 }, batch = 2,
                      naming = "torch", weights = "data/conv_bias_bn_relu.safetensors" }
local t1 = conv2d(net.input, { out = 8, k = 3, bias = true, name = "conv" })
local t2 = batchnorm(t1, "bn")
local t3 = relu(t2)
return output(t3)
