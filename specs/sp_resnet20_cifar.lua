-- The paper's CIFAR ResNet-20: 16/32/64 channels, three stages of three
-- BasicBlocks, vanilla 3x3 stem, both block convs SPConv, option-A shortcuts
-- (subsample and zero-pad channels, no weights), linear classifier.
local classes, ratio, bias = args.classes or 10, args.ratio or 0.5, args.bias or "official"
local size = args.size or 32
local net = network {
  name = "sp_resnet20_cifar", input = { 3, size, size }, batch = args.batch or 1,
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
    identity = shortcut_a(x, { out = planes, stride = 2 })
  end
  return relu(add(out, identity))
end

local x = relu(batchnorm(conv2d(net.input, { out = 16, k = 3, name = "conv1" }), "bn1"))
local inplanes = 16
for i, planes in ipairs({ 16, 32, 64 }) do
  for b = 0, 2 do
    x = basic_block(x, inplanes, planes, (i > 1 and b == 0) and 2 or 1, string.format("layer%d.%d", i, b))
    inplanes = planes
  end
end
return output(linear(flatten(global_avgpool(x)), { out = classes, name = "linear" }))
