-- tensor fields, pcall, string/table/math helpers inside the sandbox
local net = network { name = "fields", input = { 6, 4, 4 }, batch = 3 }
local x = net.input
local ok, msg = pcall(function() return x.depth end)
assert(not ok and type(msg) == "string")
local c = x.channels * x.height * x.width
x = spconv(x, { out = x.channels, ratio = 1 / 3, groups = 2 })
x = relu(x)
x = shortcut_a(x, { out = x.channels + 2, stride = 1 })
local t = setmetatable({}, { __index = function() return 1 end })
assert(t.anything == 1 and c == 96 and math.max(1, 2) == 2 and #table.concat({ "a", "b" }) == 2)
return output(softmax(x))
