local net = network { name = "pool", input = { 2, 4, 4 } }
return output(maxpool(net.input, { k = 2 }))
