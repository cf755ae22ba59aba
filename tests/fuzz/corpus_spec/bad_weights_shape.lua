local net = network { name = "w", input = { 4, 4, 4 }, weights = "w.safetensors" }
return output(conv2d(net.input, { out = 4, k = 1, name = "conv.gwc" }))
