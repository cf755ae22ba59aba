-- SP-ResNet-18 for ImageNet: torchvision's layout with both 3x3 convs of each
-- BasicBlock replaced by SPConv, as in qiulinzhang/SPConv.pytorch
-- (resnet_sp.py); keys match its state_dict. With
--   --set classes=10 --set naming=paddle --set bias=all
-- it is the seed article's Paddle model (bias on all three SPConv convs).
local classes, ratio, bias = args.classes or 1000, args.ratio or 0.5, args.bias or "official"
local size = args.size or 224
local net = network {
  name = "sp_resnet18", input = { 3, size, size }, batch = args.batch or 1,
  naming = args.naming or "torch", weights = args.weights, seed = args.seed or 1,
}

local function sp(x, out, stride, name)
  return spconv(x, { out = out, stride = stride, ratio = ratio, bias = bias, name = name })
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

local x = relu(batchnorm(conv2d(net.input, { out = 64, k = 7, stride = 2, pad = 3, name = "conv1" }), "bn1"))
x = maxpool(x, { k = 3, stride = 2, pad = 1 })
local inplanes = 64
for i, planes in ipairs({ 64, 128, 256, 512 }) do
  for b = 0, 1 do
    local stride = (i > 1 and b == 0) and 2 or 1
    x = basic_block(x, inplanes, planes, stride, string.format("layer%d.%d", i, b))
    inplanes = planes
  end
end
return output(linear(flatten(global_avgpool(x)), { out = classes, name = "fc" }))
