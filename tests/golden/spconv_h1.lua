-- Golden case spconv_h1 (written by tests/golden/make_golden.py; do not edit).
-- spconv stride 1 on a one-row 1x5 input (the 3x3 window's top and bottom rows
-- never valid), 8 -> 6, bias "all".
local net = network { name = "spconv_h1", input = { 8, 1, 5 }, batch = 1,
                      naming = "torch", weights = "data/spconv_h1.safetensors" }
local t1 = spconv(net.input, { out = 6, bias = "all", name = "sp" })
return output(t1)
