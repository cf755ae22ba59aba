-- Golden case paddle_conv_linear_bn (written by tests/golden/make_golden.py; do not edit).
-- Paddle names (BN _mean/_variance, linear weight stored [in, out]): conv2d,
-- batchnorm, relu, global_avgpool, flatten, linear 6 -> 8, BatchNorm1d, relu,
-- linear 8 -> 4; batch 2.
local net = network { name = "paddle_conv_linear_bn", input = { 3, 6, 5 }, batch = 2,
                      naming = "paddle", weights = "data/paddle_conv_linear_bn.safetensors" }
local t1 = conv2d(net.input, { out = 6, k = 3, name = "conv" })
local t2 = batchnorm(t1, "bn")
local t3 = relu(t2)
local t4 = global_avgpool(t3)
local t5 = flatten(t4)
local t6 = linear(t5, { out = 8, name = "fc1" })
local t7 = batchnorm(t6, "bn1d")
local t8 = relu(t7)
local t9 = linear(t8, { out = 4, name = "fc2" })
return output(t9)
