-- The paper's CIFAR ResNet-20: 16/32/64 channels, three stages of three
-- BasicBlocks, vanilla 3x3 stem, both block convs SPConv, option-A shortcuts
-- (subsample and zero-pad channels, no weights), linear classifier.
local blocks = import("resnet_blocks")
local size = args.size or 32
local net = network {
  name = "sp_resnet20_cifar", input = { 3, size, size }, batch = args.batch or 1,
  naming = args.naming or "torch", weights = args.weights, seed = args.seed or 1,
}
local conv3x3 = blocks.conv3x3 { ratio = args.ratio or 0.5, bias = args.bias or "official" }
local function option_a(x, planes) return shortcut_a(x, { out = planes, stride = 2 }) end
return blocks.resnet(net, {
  width = 16, classes = args.classes or 10, fc = "linear", block = blocks.basic_block(conv3x3, option_a),
  stages = { { 16, 3, 1 }, { 32, 3, 2 }, { 64, 3, 2 } },
})
