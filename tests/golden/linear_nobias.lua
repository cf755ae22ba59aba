-- Golden case linear_nobias (written by tests/golden/make_golden.py; do not edit).
-- linear without bias, 24 -> 9 (9 is not a multiple of the 4-output block).
local net = network { name = "linear_nobias", input = { 6, 2, 2 }, batch = 1,
                      naming = "torch", weights = "data/linear_nobias.safetensors" }
local t1 = flatten(net.input)
local t2 = linear(t1, { out = 9, bias = false, name = "fc" })
return output(t2)
