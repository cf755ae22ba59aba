-- Golden case avgpool_k3s2p1_excl (written by tests/golden/make_golden.py; do not edit).
-- avgpool k=3 stride 2 pad 1 on 9x10 -> 5x5, count_include_pad = false (border
-- windows divide by the taps inside: 4 or 6).
local net = network { name = "avgpool_k3s2p1_excl", input = { 3, 9, 10 }, batch = 1,
                      naming = "torch", weights = "data/avgpool_k3s2p1_excl.safetensors" }
local t1 = avgpool(net.input, { k = 3, stride = 2, pad = 1, count_include_pad = false })
return output(t1)
