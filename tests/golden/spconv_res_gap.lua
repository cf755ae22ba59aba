-- Golden case spconv_res_gap (written by tests/golden/make_golden.py; do not edit).
-- spconv, batchnorm, residual add of the network input, relu and
-- global_avgpool (all fused into the spconv), flatten, linear 8 -> 4; batch 2.
local net = network { name = "spconv_res_gap", input = { 8, 6, 4 }, batch = 2,
                      naming = "torch", weights = "data/spconv_res_gap.safetensors" }
local t1 = spconv(net.input, { out = 8, ratio = 0.5, name = "sp" })
local t2 = batchnorm(t1, "bn")
local t3 = add(t2, net.input)
local t4 = relu(t3)
local t5 = global_avgpool(t4)
local t6 = flatten(t5)
local t7 = linear(t6, { out = 4, name = "fc" })
return output(t7)
