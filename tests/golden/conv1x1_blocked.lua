-- Golden case conv1x1_blocked (written by tests/golden/make_golden.py; do not edit).
-- 1x1 convolutions over channel-blocked tensors (with --simd, GEMM tiles):
-- 20 -> 36 at stride 1 (a padded last input block at --simd 16; bias,
-- batchnorm and relu in the store); a stride-2 1x1 shortcut 36 -> 24,
-- 20x36 -> 10x18, with the residual add of a 3x3 stride-2 branch and relu in
-- its store (tiles within a row); stride-2 1x1s 24 -> 32, 10x18 -> 5x9, and
-- 32 -> 32, 5x9 -> 3x5 (tiles of whole rows), relu and global_avgpool fused
-- into the last, and linear 32 -> 7 over the pooled blocked features; batch 2.
local net = network { name = "conv1x1_blocked", input = { 5, 20, 36 }, batch = 2,
                      naming = "torch", weights = "data/conv1x1_blocked.safetensors" }
local t1 = conv2d(net.input, { out = 20, k = 3, name = "c0" })
local t2 = relu(t1)
local t3 = conv2d(t2, { out = 36, k = 1, bias = true, name = "c1" })
local t4 = batchnorm(t3, "bn1")
local t5 = relu(t4)
local t6 = conv2d(t5, { out = 24, k = 3, stride = 2, name = "c2" })
local t7 = batchnorm(t6, "bn2")
local t8 = conv2d(t5, { out = 24, k = 1, stride = 2, name = "down" })
local t9 = batchnorm(t8, "bn3")
local t10 = add(t7, t9)
local t11 = relu(t10)
local t12 = conv2d(t11, { out = 32, k = 1, stride = 2, name = "c3" })
local t13 = relu(t12)
local t14 = conv2d(t13, { out = 32, k = 1, stride = 2, name = "c4" })
local t15 = relu(t14)
local t16 = global_avgpool(t15)
local t17 = flatten(t16)
local t18 = linear(t17, { out = 7, name = "fc" })
return output(t18)
