-- Golden case spconv_g4 (written by tests/golden/make_golden.py; do not edit).
-- spconv with groups = 4 (8 representative channels, 2 per group), 16 -> 8, 6x6.
local net = network { name = "spconv_g4", input = { 16, 6, 6 }, batch = 1,
                      naming = "torch", weights = "data/spconv_g4.safetensors" }
local t1 = spconv(net.input, { out = 8, groups = 4, name = "sp" })
return output(t1)
