-- SP-ResNet-50 for ImageNet: torchvision's layout with the 3x3 conv2 of each
-- Bottleneck replaced by SPConv, as in qiulinzhang/SPConv.pytorch
-- (resnet_sp.py); keys match its state_dict.
local blocks = import("resnet_blocks")
local size = args.size or 224
local net = network {
  name = "sp_resnet50", input = { 3, size, size }, batch = args.batch or 1,
  naming = args.naming or "torch", weights = args.weights, seed = args.seed or 1,
}
local conv3x3 = blocks.conv3x3 { ratio = args.ratio or 0.5, bias = args.bias or "official" }
return blocks.resnet(net, {
  width = 64, stem = { k = 7, stride = 2, pad = 3 }, maxpool = true, classes = args.classes or 1000,
  block = blocks.bottleneck(conv3x3), expansion = 4,
  stages = { { 64, 3, 1 }, { 128, 4, 2 }, { 256, 6, 2 }, { 512, 3, 2 } },
})
