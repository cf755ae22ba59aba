local net = network { name = "t", input = { 8, 6, 6 } }
local f = import("lib")
return output(f(net.input))
-- lib.lua
return function(x) return relu(x) end
