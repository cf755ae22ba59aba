-- SP-ResNet-18 for CIFAR-10 (32x32): 3x3 stem without maxpool, both 3x3
-- convs of each BasicBlock SPConv, vanilla 1x1 downsample shortcuts.
-- specs/resnet18_cifar.lua is the vanilla network it is compared with.
local classes, ratio, bias = args.classes or 10, args.ratio or 0.5, args.bias or "official"
local size = args.size or 32
local net = network {
  name = "sp_resnet18_cifar", input = { 3, size, size }, batch = args.batch or 1,
  naming = args.naming or "torch", weights = args.weights, seed = args.seed or 1,
}

local function conv3x3(x, out, stride, name)
  return spconv(x, { out = out, stride = stride, ratio = ratio, bias = bias, name = name })
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

local x = relu(batchnorm(conv2d(net.input, { out = 64, k = 3, name = "conv1" }), "bn1"))
local inplanes = 64
for i, planes in ipairs({ 64, 128, 256, 512 }) do
  for b = 0, 1 do
    x = basic_block(x, inplanes, planes, (i > 1 and b == 0) and 2 or 1, string.format("layer%d.%d", i, b))
    inplanes = planes
  end
end
return output(linear(flatten(global_avgpool(x)), { out = classes, name = "fc" }))
