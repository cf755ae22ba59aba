local net = network { name = "s2", input = { 4, 5, 5 } }
return output(spconv(net.input, { out = 4, stride = 2 }))
