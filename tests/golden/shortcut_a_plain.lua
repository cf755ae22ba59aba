-- Golden case shortcut_a_plain (written by tests/golden/make_golden.py; do not edit).
-- shortcut_a out = 2 * C = 8 (stride left out: 2) on odd 7x9 -> 4x5, 2 zero
-- channels before and after; batch 2.
local net = network { name = "shortcut_a_plain", input = { 4, 7, 9 }, batch = 2,
                      naming = "torch", weights = "data/shortcut_a_plain.safetensors" }
local t1 = shortcut_a(net.input, { out = 8 })
return output(t1)
