local net = network { name = "resnet18_cifar", input = { 3, 8, 8 }, batch = 1, naming = "torch", seed = 1 }

local function conv3x3(x, out, stride, name)
  return conv2d(x, { out = out, k = 3, stride = stride, name = name })
end

local function basic_block(x, inplanes, planes, stride, name)
  local out = relu(batchnorm(conv3x3(x, planes, stride, name .. ".conv1"), name .. ".bn1"))
  out = batchnorm(conv3x3(out, planes, 1, name .. ".conv2"), name .. ".bn2")
  local identity = x
  if stride ~= 1 or inplanes ~= planes then
    identity = batchnorm(conv2d(x, { out = planes, k = 1, stride = stride, name = name .. ".downsample.0" }),
      name .. ".downsample.1")
  end
  return relu(add(out, identity))
end

local x = relu(batchnorm(conv2d(net.input, { out = 2, k = 3, name = "conv1" }), "bn1"))
local inplanes = 2
for i, planes in ipairs({ 2, 4 }) do
  x = basic_block(x, inplanes, planes, i > 1 and 2 or 1, string.format("layer%d.0", i))
  inplanes = planes
end
return output(linear(flatten(global_avgpool(x)), { out = 3, name = "fc" }))
