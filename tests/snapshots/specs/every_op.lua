-- Snapshot spec: one layer of every operation kind on small maps, so that the
-- emitted code of each kind (standalone or fused into its producer) shows up
-- in tests/snapshots/every_op/. Random weights from the seed.
local net = network { name = "every_op", input = { 4, 6, 6 }, batch = 1, seed = 1 }
local x = relu(batchnorm(net.input, "bn0"))
x = conv2d(x, { out = 8, k = 3, stride = 1, pad = 1, name = "conv" })
local y = spconv(x, { out = 8, ratio = 0.5, name = "sp" })
x = add(y, x)
x = maxpool(x, { k = 2, stride = 2 })
x = add(conv2d(x, { out = 16, k = 1, stride = 2, name = "down" }), shortcut_a(x, { out = 16, stride = 2 }))
x = avgpool(x, { k = 2, stride = 1, pad = 1 })
x = flatten(global_avgpool(x))
return output(softmax(linear(x, { out = 5, name = "fc" })))
