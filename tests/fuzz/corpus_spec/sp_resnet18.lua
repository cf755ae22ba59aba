local net = network { name = "sp_resnet18", input = { 3, 32, 32 }, batch = 1, naming = "torch", seed = 1 }

local function sp(x, out, stride, name)
  return spconv(x, { out = out, stride = stride, ratio = 0.5, bias = "official", name = name })
end

local function basic_block(x, inplanes, planes, stride, name)
  local out = relu(batchnorm(sp(x, planes, stride, name .. ".conv1"), name .. ".bn1"))
  out = batchnorm(sp(out, planes, 1, name .. ".conv2"), name .. ".bn2")
  local identity = x
  if stride ~= 1 or inplanes ~= planes then
    identity = batchnorm(conv2d(x, { out = planes, k = 1, stride = stride, name = name .. ".downsample.0" }),
      name .. ".downsample.1")
  end
  return relu(add(out, identity))
end

local x = relu(batchnorm(conv2d(net.input, { out = 4, k = 7, stride = 2, pad = 3, name = "conv1" }), "bn1"))
x = maxpool(x, { k = 3, stride = 2, pad = 1 })
local inplanes = 4
for i, planes in ipairs({ 4, 8, 8, 8 }) do
  local stride = i > 1 and 2 or 1
  x = basic_block(x, inplanes, planes, stride, string.format("layer%d.0", i))
  inplanes = planes
end
return output(linear(flatten(global_avgpool(x)), { out = 5, name = "fc" }))
