local net = network { name = "gc", input = { 1, 1, 1 } }
setmetatable({}, { __gc = function() end })
return output(net.input)
