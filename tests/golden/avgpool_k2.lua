-- Golden case avgpool_k2 (written by tests/golden/make_golden.py; do not edit).
-- avgpool k=2 (stride left out: 2) on 7x8 -> 3x4 (floor mode), batch 2.
local net = network { name = "avgpool_k2", input = { 4, 7, 8 }, batch = 2,
                      naming = "torch", weights = "data/avgpool_k2.safetensors" }
local t1 = avgpool(net.input, { k = 2 })
return output(t1)
