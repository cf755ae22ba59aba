-- Golden case linear_softmax (written by tests/golden/make_golden.py; do not edit).
-- flatten (3x4x5 -> 60 features, in C, H, W order), linear 60 -> 10, softmax
-- over the features; batch 2, output [2, 10].
local net = network { name = "linear_softmax", input = { 3, 4, 5 }, batch = 2,
                      naming = "torch", weights = "data/linear_softmax.safetensors" }
local t1 = flatten(net.input)
local t2 = linear(t1, { out = 10, name = "fc" })
local t3 = softmax(t2)
return output(t3)
