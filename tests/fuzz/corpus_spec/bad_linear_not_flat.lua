local net = network { name = "fl", input = { 2, 2, 2 } }
return output(linear(net.input, { out = 2 }))
