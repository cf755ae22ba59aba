local net = network { name = "t", input = { 8, 6, 6 } }
error(setmetatable({}, { __tostring = function() while true do end end }))
