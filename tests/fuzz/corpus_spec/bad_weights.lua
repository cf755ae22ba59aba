local net = network { name = "w", input = { 2, 2, 2 }, weights = "missing.safetensors" }
return output(conv2d(net.input, { out = 2, k = 1 }))
