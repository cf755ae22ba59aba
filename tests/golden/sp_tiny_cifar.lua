-- Golden case sp_tiny_cifar (written by tests/golden/make_sp_tiny_cifar.py; do not edit).
-- specs/sp_tiny_cifar.lua with the golden weights; 1x3x32x32 input, torch names.
-- A small SP-ResNet for CIFAR-10 sized for a microcontroller: a 3x3 stem and
-- three BasicBlocks (16, 32, 64 channels) whose 3x3 convs are SPConv, 1x1
-- downsample shortcuts, global average pool and a linear classifier. Its
-- arena fits in well under 256 KB at 32x32.
local classes, ratio, bias = args.classes or 10, args.ratio or 0.5, args.bias or "official"
local size = args.size or 32
local net = network {
  name = "sp_tiny_cifar", input = { 3, size, size }, batch = args.batch or 1,
  naming = args.naming or "torch", weights = args.weights or "data/sp_tiny_cifar.safetensors", seed = args.seed or 1,
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

local x = relu(batchnorm(conv2d(net.input, { out = 16, k = 3, name = "conv1" }), "bn1"))
x = basic_block(x, 16, 16, 1, "layer1.0")
x = basic_block(x, 16, 32, 2, "layer2.0")
x = basic_block(x, 32, 64, 2, "layer3.0")
return output(linear(flatten(global_avgpool(x)), { out = classes, name = "fc" }))
