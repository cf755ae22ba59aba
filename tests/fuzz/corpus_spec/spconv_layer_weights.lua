local net = network { name = "spconv_layer", input = { 4, 4, 4 }, weights = "w.safetensors" }
local x = spconv(net.input, { out = 4, stride = 1, ratio = 0.5, groups = 2, bias = "official", name = "conv" })
return output(relu(batchnorm(x, "bn")))
