local net = network { name = "dup", input = { 2, 2, 2 } }
local x = batchnorm(net.input, "n")
return output(batchnorm(x, "n"))
