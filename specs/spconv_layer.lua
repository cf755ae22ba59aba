-- One SPConv layer (ResNet's 3x3 conv replaced), followed by batchnorm and relu
-- as in a BasicBlock. Every size is a --set away:
--   build/spgen specs/spconv_layer.lua --set cin=64 --set out=64 --set size=32 --set stride=2
local net = network {
  name = args.in_network == 1 and "spconv_in_network" or "spconv_layer",
  input = { args.cin or 64, args.size or 32, args.size or 32 },
  batch = args.batch or 1, naming = args.naming or "torch", weights = args.weights, seed = args.seed or 1,
}
-- --set in_network=1: 1x1 convs 'pre' before and 'post' after, so that with --simd the
-- SPConv reads and writes channel-blocked activations as inside a network (bench/onednn.c)
local x = args.in_network == 1 and conv2d(net.input, { out = args.cin or 64, k = 1, name = "pre" }) or net.input
x = spconv(x, {
  out = args.out or 64,
  stride = args.stride or 1,
  ratio = args.ratio or 0.5,
  groups = args.groups or 2,
  bias = args.bias or "official",
  name = "conv",
})
if (args.bn or 1) ~= 0 then x = batchnorm(x, "bn") end
if (args.relu or 1) ~= 0 then x = relu(x) end
if args.in_network == 1 then x = conv2d(x, { out = args.out or 64, k = 1, name = "post" }) end
return output(x)
