-- Golden case gap_fused_linear (written by tests/golden/make_golden.py; do not edit).
-- conv2d, batchnorm, relu, global_avgpool (all fused into the conv), flatten,
-- linear 8 -> 5; batch 2.
local net = network { name = "gap_fused_linear", input = { 3, 6, 6 }, batch = 2,
                      naming = "torch", weights = "data/gap_fused_linear.safetensors" }
local t1 = conv2d(net.input, { out = 8, k = 3, name = "conv" })
local t2 = batchnorm(t1, "bn")
local t3 = relu(t2)
local t4 = global_avgpool(t3)
local t5 = flatten(t4)
local t6 = linear(t5, { out = 5, name = "fc" })
return output(t6)
