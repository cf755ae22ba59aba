-- The vanilla 3x3 convolution that specs/spconv_layer.lua replaces, with the
-- same batchnorm and relu: the baseline of `make bench`.
local net = network {
  name = "conv_layer",
  input = { args.cin or 64, args.size or 32, args.size or 32 },
  batch = args.batch or 1,
  naming = args.naming or "torch",
  weights = args.weights,
  seed = args.seed or 1,
}
local x = conv2d(net.input, { out = args.out or 64, k = 3, stride = args.stride or 1, name = "conv" })
return output(relu(batchnorm(x, "bn")))
