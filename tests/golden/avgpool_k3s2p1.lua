-- Golden case avgpool_k3s2p1 (written by tests/golden/make_golden.py; do not edit).
-- avgpool k=3 stride 2 pad 1 on 9x10 -> 5x5; count_include_pad (border windows
-- divide by 9).
local net = network { name = "avgpool_k3s2p1", input = { 3, 9, 10 }, batch = 1,
                      naming = "torch", weights = "data/avgpool_k3s2p1.safetensors" }
local t1 = avgpool(net.input, { k = 3, stride = 2, pad = 1 })
return output(t1)
