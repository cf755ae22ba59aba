-- ResNet-18 for CIFAR-10 (32x32), vanilla: the baseline of sp_resnet18_cifar.lua,
-- with the same layout and keys but plain 3x3 convs in the blocks.
local blocks = import("resnet_blocks")
local size = args.size or 32
local net = network {
  name = "resnet18_cifar", input = { 3, size, size }, batch = args.batch or 1,
  naming = args.naming or "torch", weights = args.weights, seed = args.seed or 1,
}
return blocks.resnet(net, {
  width = 64, classes = args.classes or 10, block = blocks.basic_block(blocks.conv3x3 {}),
  stages = { { 64, 2, 1 }, { 128, 2, 2 }, { 256, 2, 2 }, { 512, 2, 2 } },
})
