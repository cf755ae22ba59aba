-- Golden case add_two_convs (written by tests/golden/make_golden.py; do not edit).
-- add whose operands are both conv outputs: conv a (k=3, bias) and conv b (k=1)
-- + batchnorm, relu after the add; batch 3.
local net = network { name = "add_two_convs", input = { 4, 6, 5 }, batch = 3,
                      naming = "torch", weights = "data/add_two_convs.safetensors" }
local t1 = conv2d(net.input, { out = 6, k = 3, bias = true, name = "a" })
local t2 = conv2d(net.input, { out = 6, k = 1, name = "b" })
local t3 = batchnorm(t2, "bn")
local t4 = add(t1, t3)
local t5 = relu(t4)
return output(t5)
