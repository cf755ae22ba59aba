local net = network { name = "t", input = { 1 << 20, 1 << 20, 1 << 20 }, batch = 16 }
return output(relu(net.input))
