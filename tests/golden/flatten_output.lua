-- Golden case flatten_output (written by tests/golden/make_golden.py; do not edit).
-- conv2d, relu, flatten as the network output (a view: output [2, 80]).
local net = network { name = "flatten_output", input = { 3, 4, 5 }, batch = 2,
                      naming = "torch", weights = "data/flatten_output.safetensors" }
local t1 = conv2d(net.input, { out = 4, k = 3, name = "conv" })
local t2 = relu(t1)
local t3 = flatten(t2)
return output(t3)
