-- Golden case linear_bn1d_relu (written by tests/golden/make_golden.py; do not edit).
-- flatten, linear 45 -> 12, batchnorm on the flat tensor (BatchNorm1d, folded
-- into the linear), relu, linear 12 -> 5; batch 3.
local net = network { name = "linear_bn1d_relu", input = { 5, 3, 3 }, batch = 3,
                      naming = "torch", weights = "data/linear_bn1d_relu.safetensors" }
local t1 = flatten(net.input)
local t2 = linear(t1, { out = 12, name = "fc1" })
local t3 = batchnorm(t2, "bn")
local t4 = relu(t3)
local t5 = linear(t4, { out = 5, name = "fc2" })
return output(t5)
