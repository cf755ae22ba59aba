-- The building blocks the ResNet specs share; a spec gets them with
--   local blocks = import("resnet_blocks")
-- Key names follow torchvision: NAME.conv1, NAME.bn1, ..., NAME.downsample.0/1.

local M = {}

-- The 3x3 convolution of a block: SPConv, or a vanilla conv when ratio is nil.
function M.conv3x3(opts)
  return function(x, out, stride, name)
    if not opts.ratio then return conv2d(x, { out = out, k = 3, stride = stride, name = name }) end
    return spconv(x, { out = out, stride = stride, ratio = opts.ratio, bias = opts.bias, name = name })
  end
end

-- The 1x1 projection shortcut.
function M.downsample(x, out, stride, name)
  return batchnorm(conv2d(x, { out = out, k = 1, stride = stride, name = name .. ".downsample.0" }),
    name .. ".downsample.1")
end

-- BasicBlock: two 3x3 convs; shortcut(x, planes) replaces the 1x1 projection
-- when given (the CIFAR option A).
function M.basic_block(conv3x3, shortcut)
  return function(x, inplanes, planes, stride, name)
    local out = relu(batchnorm(conv3x3(x, planes, stride, name .. ".conv1"), name .. ".bn1"))
    out = batchnorm(conv3x3(out, planes, 1, name .. ".conv2"), name .. ".bn2")
    local identity = x
    if stride ~= 1 or inplanes ~= planes then
      identity = shortcut and shortcut(x, planes) or M.downsample(x, planes, stride, name)
    end
    return relu(add(out, identity))
  end
end

-- Bottleneck: 1x1, 3x3 (carrying the stride), 1x1 to 4x the planes.
function M.bottleneck(conv3x3)
  return function(x, inplanes, planes, stride, name)
    local out = relu(batchnorm(conv2d(x, { out = planes, k = 1, name = name .. ".conv1" }), name .. ".bn1"))
    out = relu(batchnorm(conv3x3(out, planes, stride, name .. ".conv2"), name .. ".bn2"))
    out = batchnorm(conv2d(out, { out = planes * 4, k = 1, name = name .. ".conv3" }), name .. ".bn3")
    local identity = x
    if stride ~= 1 or inplanes ~= planes * 4 then identity = M.downsample(x, planes * 4, stride, name) end
    return relu(add(out, identity))
  end
end

-- Stages of blocks: stages = { {planes, blocks, first stride}, ... }, names
-- layer1.0, layer1.1, ...; returns the output and its channel count.
function M.stages(x, inplanes, block, expansion, stages)
  for i, st in ipairs(stages) do
    for b = 0, st[2] - 1 do
      x = block(x, inplanes, st[1], b == 0 and st[3] or 1, string.format("layer%d.%d", i, b))
      inplanes = st[1] * expansion
    end
  end
  return x, inplanes
end

-- The stem, the stages and the classifier of a torchvision-style ResNet.
function M.resnet(net, cfg)
  local stem = cfg.stem or { k = 3, stride = 1, pad = 1 }
  local x = relu(batchnorm(conv2d(net.input, { out = cfg.width, k = stem.k, stride = stem.stride, pad = stem.pad,
    name = "conv1" }), "bn1"))
  if cfg.maxpool then x = maxpool(x, { k = 3, stride = 2, pad = 1 }) end
  x = M.stages(x, cfg.width, cfg.block, cfg.expansion or 1, cfg.stages)
  return output(linear(flatten(global_avgpool(x)), { out = cfg.classes, name = cfg.fc or "fc" }))
end

return M
