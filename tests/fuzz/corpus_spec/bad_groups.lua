local net = network { name = "x", input = { 4, 4, 4 } }
local y = spconv(net.input, { out = 3 })
return output(y)
