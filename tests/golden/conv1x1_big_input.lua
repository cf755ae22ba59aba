-- Golden case conv1x1_big_input (written by tests/golden/make_golden.py; do not edit).
-- 1x1 convolutions over a blocked 128x66x64 input larger than L2 (with --simd,
-- the tile positions outside the output blocks): 128 -> 24 at stride 2
-- (66x64 -> 33x32, tiles within a row) and at stride 1, maxpool k=2 of the
-- latter, add, relu, and a stride-2 1x1 24 -> 8 as the NCHW output.
local net = network { name = "conv1x1_big_input", input = { 1, 66, 64 }, batch = 1,
                      naming = "torch", weights = "data/conv1x1_big_input.safetensors" }
local t1 = conv2d(net.input, { out = 128, k = 3, name = "c0" })
local t2 = relu(t1)
local t3 = conv2d(t2, { out = 24, k = 1, stride = 2, name = "down" })
local t4 = conv2d(t2, { out = 24, k = 1, bias = true, name = "c1" })
local t5 = maxpool(t4, { k = 2 })
local t6 = add(t3, t5)
local t7 = relu(t6)
local t8 = conv2d(t7, { out = 8, k = 1, stride = 2, name = "c2" })
return output(t8)
