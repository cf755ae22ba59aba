local net = network { name = "sp2", input = { 8, 6, 6 }, batch = 2, naming = "paddle", seed = 7 }
local x = spconv(net.input, { out = 4, stride = 2, ratio = 0.25, groups = 2, bias = "all", eps = 1e-3, name = "sp" })
x = relu(batchnorm(x, { name = "post", eps = 0.001 }))
return output(softmax(linear(flatten(x), { out = 3, bias = false, name = "fc" })))
