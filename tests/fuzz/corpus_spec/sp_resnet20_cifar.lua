local classes, ratio, bias = 3, 0.5, "official"
local net = network { name = "sp_resnet20_cifar", input = { 3, 8, 8 }, batch = 1, naming = "torch", seed = 1 }

local function conv3x3(x, out, stride, name)
  return spconv(x, { out = out, stride = stride, ratio = ratio, bias = bias, name = name })
end

local function basic_block(x, inplanes, planes, stride, name)
  local out = relu(batchnorm(conv3x3(x, planes, stride, name .. ".conv1"), name .. ".bn1"))
  out = batchnorm(conv3x3(out, planes, 1, name .. ".conv2"), name .. ".bn2")
  local identity = x
  if stride ~= 1 or inplanes ~= planes then
    identity = shortcut_a(x, { out = planes, stride = 2 })
  end
  return relu(add(out, identity))
end

local x = relu(batchnorm(conv2d(net.input, { out = 4, k = 3, name = "conv1" }), "bn1"))
local inplanes = 4
for i, planes in ipairs({ 4, 8, 16 }) do
  for b = 0, 0 do
    x = basic_block(x, inplanes, planes, (i > 1 and b == 0) and 2 or 1, string.format("layer%d.%d", i, b))
    inplanes = planes
  end
end
return output(linear(flatten(global_avgpool(x)), { out = classes, name = "linear" }))
