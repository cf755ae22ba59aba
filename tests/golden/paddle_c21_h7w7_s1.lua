-- Golden case paddle_c21_h7w7_s1 (written by tests/golden/make_golden.py; do not edit).
-- One SPConv_3x3 layer, 21 -> 10 channels, 7x7, stride 1, ratio 0.5,
-- batch 1, paddle key names, bias "all"; weights from PyTorch.
local net = network { name = "paddle_c21_h7w7_s1", input = { 21, 7, 7 }, batch = 1,
                      naming = "paddle", weights = "data/paddle_c21_h7w7_s1.safetensors" }
return output(spconv(net.input, { out = 10, stride = 1, ratio = 0.5, bias = "all",
                                  name = "layer" }))
