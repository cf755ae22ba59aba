-- Golden case torch_c40_h10w14_s2_r025 (written by tests/golden/make_golden.py; do not edit).
-- One SPConv_3x3 layer, 40 -> 24 channels, 10x14, stride 2, ratio 0.25,
-- batch 2, torch key names, bias "official"; weights from PyTorch.
local net = network { name = "torch_c40_h10w14_s2_r025", input = { 40, 10, 14 }, batch = 2,
                      naming = "torch", weights = "data/torch_c40_h10w14_s2_r025.safetensors" }
return output(spconv(net.input, { out = 24, stride = 2, ratio = 0.25, bias = "official",
                                  name = "layer" }))
