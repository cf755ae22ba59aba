-- Golden case conv_stem_k7s2p3 (written by tests/golden/make_golden.py; do not edit).
-- The 224 networks' stem: conv2d k=7 stride 2 pad 3, batchnorm and relu fused,
-- 3 -> 20 channels (a padded last block at --simd 16) on 9x61 -> 5x31, rows
-- split into unequal tiles (16 + 15 pixels at --simd 16), then maxpool k=3
-- stride 2 pad 1 -> 3x16; batch 2.
local net = network { name = "conv_stem_k7s2p3", input = { 3, 9, 61 }, batch = 2,
                      naming = "torch", weights = "data/conv_stem_k7s2p3.safetensors" }
local t1 = conv2d(net.input, { out = 20, k = 7, stride = 2, pad = 3, name = "conv1" })
local t2 = batchnorm(t1, "bn1")
local t3 = relu(t2)
local t4 = maxpool(t3, { k = 3, stride = 2, pad = 1 })
return output(t4)
