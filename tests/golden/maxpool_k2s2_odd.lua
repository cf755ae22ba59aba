-- Golden case maxpool_k2s2_odd (written by tests/golden/make_golden.py; do not edit).
-- maxpool k=2 (stride and pad left out: 2 and 0) on odd 7x9: floor mode -> 3x4,
-- the last row and column are dropped; batch 2.
local net = network { name = "maxpool_k2s2_odd", input = { 3, 7, 9 }, batch = 2,
                      naming = "torch", weights = "data/maxpool_k2s2_odd.safetensors" }
local t1 = maxpool(net.input, { k = 2 })
return output(t1)
