-- The digits network that tests/digits/train.py trains on sklearn's 8x8
-- handwritten digits (input: pixel / 16, in [0, 1]); its layers, and their
-- key names, are train.py's DigitsNet. SPConv needs two input channels per
-- group, so a vanilla 3x3 conv widens the single input channel first.
local net = network {
  name = "sp_digits", input = { 1, 8, 8 }, batch = args.batch or 1,
  weights = args.weights or "sp_digits.safetensors",
}
local x = relu(batchnorm(conv2d(net.input, { out = 16, k = 3, name = "conv1" }), "bn1"))
x = relu(batchnorm(spconv(x, { out = 32, name = "sp1" }), "bn2"))
x = maxpool(x, { k = 2 })
x = relu(batchnorm(spconv(x, { out = 32, name = "sp2" }), "bn3"))
return output(linear(flatten(global_avgpool(x)), { out = 10, name = "fc" }))
