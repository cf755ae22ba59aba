-- SP-ResNet-18 for ImageNet: torchvision's layout with both 3x3 convs of each
-- BasicBlock replaced by SPConv, as in qiulinzhang/SPConv.pytorch
-- (resnet_sp.py); keys match its state_dict. With
--   --set classes=10 --set naming=paddle --set bias=all
-- it is the seed article's Paddle model (bias on all three SPConv convs).
local blocks = import("resnet_blocks")
local size = args.size or 224
local net = network {
  name = "sp_resnet18", input = { 3, size, size }, batch = args.batch or 1,
  naming = args.naming or "torch", weights = args.weights, seed = args.seed or 1,
}
local conv3x3 = blocks.conv3x3 { ratio = args.ratio or 0.5, bias = args.bias or "official" }
return blocks.resnet(net, {
  width = 64, stem = { k = 7, stride = 2, pad = 3 }, maxpool = true, classes = args.classes or 1000,
  block = blocks.basic_block(conv3x3), stages = { { 64, 2, 1 }, { 128, 2, 2 }, { 256, 2, 2 }, { 512, 2, 2 } },
})
