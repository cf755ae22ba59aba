local net = network { name = "bad", input = { 1, 2 } }
return output(net.input)
