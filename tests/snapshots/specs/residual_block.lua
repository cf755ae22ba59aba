-- Snapshot spec: one SPConv BasicBlock with its identity shortcut (spconv,
-- batchnorm, relu, spconv, batchnorm, add, relu) on a small map, batch 2.
-- Random weights from the seed.
local net = network { name = "residual_block", input = { 8, 4, 4 }, batch = 2, seed = 1 }
local y = relu(batchnorm(spconv(net.input, { out = 8, name = "conv1" }), "bn1"))
y = batchnorm(spconv(y, { out = 8, name = "conv2" }), "bn2")
return output(relu(add(y, net.input)))
