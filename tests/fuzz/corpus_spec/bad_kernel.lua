local net = network { name = "kk", input = { 2, 2, 2 } }
local x = conv2d(net.input, { out = 2, k = 5, pad = 0 })
return output(x)
