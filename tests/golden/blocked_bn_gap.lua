-- Golden case blocked_bn_gap (written by tests/golden/make_golden.py; do not edit).
-- A standalone batchnorm and a standalone global average pool on
-- channel-blocked tensors (with --simd): two 3x3 convs 8 -> 20 added, the
-- batchnorm of the sum (nothing to fold it into), a 3x3 conv whose output is
-- added to it, maxpool k=2 of that sum, its global average pool (nothing to
-- fuse it into), linear 20 -> 5; batch 2.
local net = network { name = "blocked_bn_gap", input = { 8, 6, 6 }, batch = 2,
                      naming = "torch", weights = "data/blocked_bn_gap.safetensors" }
local t1 = conv2d(net.input, { out = 20, k = 3, name = "c1" })
local t2 = conv2d(net.input, { out = 20, k = 3, name = "c2" })
local t3 = add(t1, t2)
local t4 = batchnorm(t3, "bn")
local t5 = conv2d(t4, { out = 20, k = 3, name = "c3" })
local t6 = add(t5, t4)
local t7 = maxpool(t6, { k = 2 })
local t8 = global_avgpool(t7)
local t9 = flatten(t8)
local t10 = linear(t9, { out = 5, name = "fc" })
return output(t10)
