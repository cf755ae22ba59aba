-- A small SP-ResNet for CIFAR-10 sized for a microcontroller: a 3x3 stem and
-- three BasicBlocks (16, 32, 64 channels) whose 3x3 convs are SPConv, 1x1
-- downsample shortcuts, global average pool and a linear classifier. Its
-- arena fits in well under 256 KB at 32x32.
local blocks = import("resnet_blocks")
local size = args.size or 32
local net = network {
  name = "sp_tiny_cifar", input = { 3, size, size }, batch = args.batch or 1,
  naming = args.naming or "torch", weights = args.weights, seed = args.seed or 1,
}
local conv3x3 = blocks.conv3x3 { ratio = args.ratio or 0.5, bias = args.bias or "official" }
return blocks.resnet(net, {
  width = 16, classes = args.classes or 10, block = blocks.basic_block(conv3x3),
  stages = { { 16, 1, 1 }, { 32, 1, 2 }, { 64, 1, 2 } },
})
