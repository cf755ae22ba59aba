-- Golden case torch_c20_h9w11_s1 (written by tests/golden/make_golden.py; do not edit).
-- One SPConv_3x3 layer, 20 -> 12 channels, 9x11, stride 1, ratio 0.5,
-- batch 1, torch key names, bias "official"; weights from PyTorch.
local net = network { name = "torch_c20_h9w11_s1", input = { 20, 9, 11 }, batch = 1,
                      naming = "torch", weights = "data/torch_c20_h9w11_s1.safetensors" }
return output(spconv(net.input, { out = 12, stride = 1, ratio = 0.5, bias = "official",
                                  name = "layer" }))
