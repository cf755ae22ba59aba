-- The paper's VGG-16 for CIFAR-10: cfg 64,64,M,128,128,M,256x3,M,512x3,M,512x3,M;
-- the first conv vanilla with bias, the other twelve SPConv, each followed by
-- BatchNorm and ReLU; classifier Linear(512,512)+BatchNorm1d+ReLU+Linear.
-- Keys follow torch Sequential indices (features.N, classifier.N).
local classes, ratio, bias = args.classes or 10, args.ratio or 0.5, args.bias or "official"
local size = args.size or 32
local net = network {
  name = "sp_vgg16_cifar", input = { 3, size, size }, batch = args.batch or 1,
  naming = args.naming or "torch", weights = args.weights, seed = args.seed or 1,
}

local cfg = { 64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M" }
local x, i = net.input, 0
for _, v in ipairs(cfg) do
  if v == "M" then
    x = maxpool(x, { k = 2, stride = 2 })
    i = i + 1
  else
    local name = "features." .. i
    if i == 0 then
      x = conv2d(x, { out = v, k = 3, bias = true, name = name })
    else
      x = spconv(x, { out = v, ratio = ratio, bias = bias, name = name })
    end
    x = relu(batchnorm(x, "features." .. (i + 1)))
    i = i + 3
  end
end
x = relu(batchnorm(linear(flatten(x), { out = 512, name = "classifier.0" }), "classifier.1"))
return output(linear(x, { out = classes, name = "classifier.3" }))
