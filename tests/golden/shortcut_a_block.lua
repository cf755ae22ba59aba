-- Golden case shortcut_a_block (written by tests/golden/make_golden.py; do not edit).
-- An option-A residual block on odd 7x9: s = shortcut_a(x, out = 8, stride = 2),
-- then relu(batchnorm(conv2d k=3 stride 2 (4 -> 8)) + s) (the add fused into the
-- conv, since s exists first); batch 2.
local net = network { name = "shortcut_a_block", input = { 4, 7, 9 }, batch = 2,
                      naming = "torch", weights = "data/shortcut_a_block.safetensors" }
local t1 = shortcut_a(net.input, { out = 8, stride = 2 })
local t2 = conv2d(net.input, { out = 8, k = 3, stride = 2, name = "conv" })
local t3 = batchnorm(t2, "bn")
local t4 = add(t3, t1)
local t5 = relu(t4)
return output(t5)
