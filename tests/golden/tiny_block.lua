-- Golden case tiny_block (written by tests/golden/make_golden.py; do not edit).
-- models.TinyBlock: a 3x3 stem, one SPConv BasicBlock 16 -> 32 at stride 2 with a
-- 1x1 downsample shortcut, global average pool and fc; torch names, batch 2.
local net = network { name = "tiny_block", input = { 3, 16, 16 }, batch = 2,
                      naming = "torch", weights = "data/tiny_block.safetensors" }
local x = relu(batchnorm(conv2d(net.input, { out = 16, k = 3, stride = 1, pad = 1, bias = false,
                                            name = "conv1" }), "bn1"))
local b = "layer1.0"
local y = spconv(x, { out = 32, stride = 2, ratio = 0.5, bias = "official", name = b .. ".conv1" })
y = relu(batchnorm(y, b .. ".bn1"))
y = spconv(y, { out = 32, stride = 1, ratio = 0.5, bias = "official", name = b .. ".conv2" })
y = batchnorm(y, b .. ".bn2")
local s = batchnorm(conv2d(x, { out = 32, k = 1, stride = 2, pad = 0, bias = false,
                                name = b .. ".downsample.0" }), b .. ".downsample.1")
x = relu(add(y, s))
return output(linear(flatten(global_avgpool(x)), { out = 10, name = "fc" }))
