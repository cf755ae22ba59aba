local net = network { name = "conv_layer", input = { 2, 5, 5 }, batch = 1, naming = "torch", seed = 1 }
local x = conv2d(net.input, { out = 2, k = 3, stride = 1, name = "conv" })
return output(relu(batchnorm(x, "bn")))
