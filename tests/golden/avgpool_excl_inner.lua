-- Golden case avgpool_excl_inner (written by tests/golden/make_golden.py; do not edit).
-- the same pool between two convolutions, 20 channels: with --simd the pool
-- runs channel-blocked (a padded last block at --simd 16), dividing border
-- windows by the taps inside.
local net = network { name = "avgpool_excl_inner", input = { 5, 9, 10 }, batch = 1,
                      naming = "torch", weights = "data/avgpool_excl_inner.safetensors" }
local t1 = conv2d(net.input, { out = 20, k = 3, bias = true, name = "a" })
local t2 = avgpool(t1, { k = 3, stride = 2, pad = 1, count_include_pad = false })
local t3 = conv2d(t2, { out = 6, k = 1, name = "b" })
return output(t3)
