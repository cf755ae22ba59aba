local net = network { name = "kk", input = { 1, 1, 1 } }
local x = net.input
x = add(x, relu(x))
return output(output(x))
