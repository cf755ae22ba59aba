-- Golden case paddle_c36_h12w8_s2 (written by tests/golden/make_golden.py; do not edit).
-- One SPConv_3x3 layer, 36 -> 20 channels, 12x8, stride 2, ratio 0.5,
-- batch 2, paddle key names, bias "all"; weights from PyTorch.
local net = network { name = "paddle_c36_h12w8_s2", input = { 36, 12, 8 }, batch = 2,
                      naming = "paddle", weights = "data/paddle_c36_h12w8_s2.safetensors" }
return output(spconv(net.input, { out = 20, stride = 2, ratio = 0.5, bias = "all",
                                  name = "layer" }))
