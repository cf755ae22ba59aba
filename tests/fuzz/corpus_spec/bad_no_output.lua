local net = network { name = "noout", input = { 1, 1, 1 } }
local y = relu(net.input)
