-- Golden case conv1x1_big_input (written by tests/golden/make_golden.py; do not edit).
-- 1x1 convolutions over a blocked 64x96x96 input larger than L2 (with --simd,
-- the tile positions outside the output blocks): 64 -> 24 at stride 2
-- (96x96 -> 48x48, tiles within a row) and at stride 1, maxpool k=2 of the
-- latter, add, relu, and a stride-2 1x1 24 -> 8 as the NCHW output.
local net = network { name = "conv1x1_big_input", input = { 3, 96, 96 }, batch = 1,
                      naming = "torch", weights = "data/conv1x1_big_input.safetensors" }
local t1 = conv2d(net.input, { out = 64, k = 3, name = "c0" })
local t2 = relu(t1)
local t3 = conv2d(t2, { out = 24, k = 1, stride = 2, name = "down" })
local t4 = conv2d(t2, { out = 24, k = 1, bias = true, name = "c1" })
local t5 = maxpool(t4, { k = 2 })
local t6 = add(t3, t5)
local t7 = relu(t6)
local t8 = conv2d(t7, { out = 8, k = 1, stride = 2, name = "c2" })
return output(t8)
