-- Golden case flatten_bn_linear (written by tests/golden/make_golden.py; do not edit).
-- conv2d, flatten (36 features), a standalone BatchNorm1d on the flattened
-- tensor (no producer to fold into), relu, linear 36 -> 6; batch 2.
local net = network { name = "flatten_bn_linear", input = { 4, 3, 3 }, batch = 2,
                      naming = "torch", weights = "data/flatten_bn_linear.safetensors" }
local t1 = conv2d(net.input, { out = 4, k = 3, name = "conv" })
local t2 = flatten(t1)
local t3 = batchnorm(t2, "bn")
local t4 = relu(t3)
local t5 = linear(t4, { out = 6, name = "fc" })
return output(t5)
