-- SP-ResNet-18 for CIFAR-10 (32x32): 3x3 stem without maxpool, both 3x3
-- convs of each BasicBlock SPConv, vanilla 1x1 downsample shortcuts.
-- specs/resnet18_cifar.lua is the vanilla network it is compared with.
local blocks = import("resnet_blocks")
local size = args.size or 32
local net = network {
  name = "sp_resnet18_cifar", input = { 3, size, size }, batch = args.batch or 1,
  naming = args.naming or "torch", weights = args.weights, seed = args.seed or 1,
}
local conv3x3 = blocks.conv3x3 { ratio = args.ratio or 0.5, bias = args.bias or "official" }
return blocks.resnet(net, {
  width = 64, classes = args.classes or 10, block = blocks.basic_block(conv3x3),
  stages = { { 64, 2, 1 }, { 128, 2, 2 }, { 256, 2, 2 }, { 512, 2, 2 } },
})
