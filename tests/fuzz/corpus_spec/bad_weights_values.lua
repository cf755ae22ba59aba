local net = network { name = "spconv_layer", input = { 4, 4, 4 }, weights = "w_bad.safetensors" }
local x = spconv(net.input, { out = 4, name = "conv" })
return output(relu(batchnorm(x, "bn")))
