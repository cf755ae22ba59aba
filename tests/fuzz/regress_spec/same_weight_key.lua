local net = network { name = "t", input = { 8, 6, 6 } }
local b = batchnorm(conv2d(net.input, { out = 16 }), "a.bn1")
return output(spconv(b, { out = 8, name = "a" }))
