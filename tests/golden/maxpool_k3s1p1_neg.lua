-- Golden case maxpool_k3s1p1_neg (written by tests/golden/make_golden.py; do not edit).
-- maxpool k=3 stride 1 pad 1 on 6x7 with the input shifted by -3 (nearly all
-- negative): padding must count as -inf, not 0.
local net = network { name = "maxpool_k3s1p1_neg", input = { 4, 6, 7 }, batch = 1,
                      naming = "torch", weights = "data/maxpool_k3s1p1_neg.safetensors" }
local t1 = maxpool(net.input, { k = 3, stride = 1, pad = 1 })
return output(t1)
