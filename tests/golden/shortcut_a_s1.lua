-- Golden case shortcut_a_s1 (written by tests/golden/make_golden.py; do not edit).
-- shortcut_a out = 5, stride 1: only the channel padding (1 zero channel before and after).
local net = network { name = "shortcut_a_s1", input = { 3, 4, 5 }, batch = 1,
                      naming = "torch", weights = "data/shortcut_a_s1.safetensors" }
local t1 = shortcut_a(net.input, { out = 5, stride = 1 })
return output(t1)
