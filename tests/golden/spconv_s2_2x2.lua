-- Golden case spconv_s2_2x2 (written by tests/golden/make_golden.py; do not edit).
-- spconv stride 2 on a 2x2 input (1x1 output), 8 -> 8; batch 2.
local net = network { name = "spconv_s2_2x2", input = { 8, 2, 2 }, batch = 2,
                      naming = "torch", weights = "data/spconv_s2_2x2.safetensors" }
local t1 = spconv(net.input, { out = 8, stride = 2, name = "sp" })
return output(t1)
