local net = network { name = "sp_resnet50", input = { 3, 16, 16 }, naming = "paddle", seed = 3 }

local function bottleneck(x, inplanes, planes, stride, name)
  local out = relu(batchnorm(conv2d(x, { out = planes, k = 1, name = name .. ".conv1" }), name .. ".bn1"))
  out = relu(batchnorm(spconv(out, { out = planes, stride = stride, ratio = 0.5, bias = "all",
    name = name .. ".conv2" }), name .. ".bn2"))
  out = batchnorm(conv2d(out, { out = planes * 4, k = 1, name = name .. ".conv3" }), name .. ".bn3")
  local identity = x
  if stride ~= 1 or inplanes ~= planes * 4 then
    identity = batchnorm(conv2d(x, { out = planes * 4, k = 1, stride = stride, name = name .. ".downsample.0" }),
      name .. ".downsample.1")
  end
  return relu(add(out, identity))
end

local x = relu(batchnorm(conv2d(net.input, { out = 4, k = 7, stride = 2, pad = 3, name = "conv1" }), "bn1"))
x = maxpool(x, { k = 3, stride = 2, pad = 1 })
local inplanes = 4
for i, layer in ipairs({ { 4, 1 }, { 4, 1 } }) do
  local planes, blocks = layer[1], layer[2]
  for b = 0, blocks - 1 do
    x = bottleneck(x, inplanes, planes, (i > 1 and b == 0) and 2 or 1, string.format("layer%d.%d", i, b))
    inplanes = planes * 4
  end
end
return output(linear(flatten(global_avgpool(x)), { out = 4, name = "fc" }))
