local net = network { name = "spconv_layer", input = { 4, 4, 4 }, batch = 1, naming = "torch", seed = 1 }
local x = spconv(net.input, { out = 4, stride = 1, ratio = 0.5, groups = 2, bias = "official", name = "conv" })
x = batchnorm(x, "bn")
x = relu(x)
return output(x)
