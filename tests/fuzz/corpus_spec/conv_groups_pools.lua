local net = network { name = "pools", input = { 4, 9, 7 } }
local x = conv2d(net.input, { out = 4, k = 5, stride = 2, pad = 1, groups = 2, bias = true, name = "c" })
local a = maxpool(x, { k = 2, stride = 1, pad = 1 })
local b = avgpool(x, { k = 3, stride = 1, pad = 1 })
x = add(relu(a), avgpool(b, { k = 2, stride = 1, pad = 1 }))
x = global_avgpool(x)
return output(linear(flatten(x), { out = 2, name = "fc" }))
