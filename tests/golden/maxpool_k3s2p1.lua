-- Golden case maxpool_k3s2p1 (written by tests/golden/make_golden.py; do not edit).
-- maxpool k=3 stride 2 pad 1 on odd 9x11 -> 5x6, batch 2.
local net = network { name = "maxpool_k3s2p1", input = { 3, 9, 11 }, batch = 2,
                      naming = "torch", weights = "data/maxpool_k3s2p1.safetensors" }
local t1 = maxpool(net.input, { k = 3, stride = 2, pad = 1 })
return output(t1)
