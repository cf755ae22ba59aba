local net = network { name = "w", input = { 4, 4, 4 }, weights = "w.safetensors", naming = "paddle" }
return output(spconv(net.input, { out = 4, name = "conv" }))
