-- Golden case residual_input (written by tests/golden/make_golden.py; do not edit).
-- Residual add whose shortcut is the network input itself:
-- relu(batchnorm(conv2d(x)) + x), 6 -> 6 channels, 5x7, batch 2.
local net = network { name = "residual_input", input = { 6, 5, 7 }, batch = 2,
                      naming = "torch", weights = "data/residual_input.safetensors" }
local t1 = conv2d(net.input, { out = 6, k = 3, name = "conv" })
local t2 = batchnorm(t1, "bn")
local t3 = add(t2, net.input)
local t4 = relu(t3)
return output(t4)
