local net = network { name = "sp_vgg16_cifar", input = { 3, 8, 8 }, batch = 1, naming = "torch", seed = 1 }
local cfg = { 4, 4, "M", 8, "M" }
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
      x = spconv(x, { out = v, ratio = 0.5, bias = "official", name = name })
    end
    x = relu(batchnorm(x, "features." .. (i + 1)))
    i = i + 3
  end
end
x = relu(batchnorm(linear(flatten(x), { out = 6, name = "classifier.0" }), "classifier.1"))
return output(linear(x, { out = 2, name = "classifier.3" }))
