local net = network { name = "noop", input = { 2, 2, 2 } }
return output(net.input)
