"""Writes the committed golden data of tests/golden/ (run once, offline).

    /usr/bin/python3 tests/golden/make_golden.py

For each case: tests/golden/<case>.lua (the spgen spec), and in
tests/golden/data/: <case>.safetensors (weights, F32), <case>_in.npy (random
float32 NCHW input) and <case>_out.npy (the PyTorch module's output on it,
computed in float64 from the float32 weights and input, rounded to float32).
Everything is seeded: rerunning gives the same files.
"""
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import models  # noqa: E402

DATA = os.path.join(HERE, "data")

# name, naming, bias, C, Co, H, W, stride, ratio, batch, seed
LAYER_CASES = [
    # (a) the official module, odd H and W, r = 10
    ("torch_c20_h9w11_s1", "torch", "official", 20, 12, 9, 11, 1, 0.5, 1, 101),
    # (b) the official module at ratio 1/4, stride 2, non-square, batch 2
    ("torch_c40_h10w14_s2_r025", "torch", "official", 40, 24, 10, 14, 2, 0.25, 2, 102),
    # (c) the Paddle module; odd C: r = int(21 * 0.5) = 10, C - r = 11
    ("paddle_c21_h7w7_s1", "paddle", "all", 21, 10, 7, 7, 1, 0.5, 1, 103),
    # (d) the Paddle module, stride 2, H > W, batch 2
    ("paddle_c36_h12w8_s2", "paddle", "all", 36, 20, 12, 8, 2, 0.5, 2, 104),
]

LAYER_SPEC = """\
-- Golden case {name} (written by tests/golden/make_golden.py; do not edit).
-- One SPConv_3x3 layer, {cin} -> {out} channels, {h}x{w}, stride {stride}, ratio {ratio},
-- batch {batch}, {naming} key names, bias "{bias}"; weights from PyTorch.
local net = network {{ name = "{name}", input = {{ {cin}, {h}, {w} }}, batch = {batch},
                      naming = "{naming}", weights = "data/{name}.safetensors" }}
return output(spconv(net.input, {{ out = {out}, stride = {stride}, ratio = {ratio}, bias = "{bias}",
                                  name = "layer" }}))
"""

TINY_SPEC = """\
-- Golden case tiny_block (written by tests/golden/make_golden.py; do not edit).
-- models.TinyBlock: a 3x3 stem, one SPConv BasicBlock 16 -> 32 at stride 2 with a
-- 1x1 downsample shortcut, global average pool and fc; torch names, batch 2.
local net = network { name = "tiny_block", input = { 3, 16, 16 }, batch = 2,
                      naming = "torch", weights = "data/tiny_block.safetensors" }
local x = relu(batchnorm(conv2d(net.input, { out = 16, k = 3, stride = 1, pad = 1, bias = false,
                                            name = "conv1" }), "bn1"))
local b = "layer1.0"
local y = spconv(x, { out = 32, stride = 2, ratio = 0.5, bias = "official", name = b .. ".conv1" })
y = relu(batchnorm(y, b .. ".bn1"))
y = spconv(y, { out = 32, stride = 1, ratio = 0.5, bias = "official", name = b .. ".conv2" })
y = batchnorm(y, b .. ".bn2")
local s = batchnorm(conv2d(x, { out = 32, k = 1, stride = 2, pad = 0, bias = false,
                                name = b .. ".downsample.0" }), b .. ".downsample.1")
x = relu(add(y, s))
return output(linear(flatten(global_avgpool(x)), { out = 10, name = "fc" }))
"""


def write_case(name, model, naming, prefix, x, spec_text):
    tensors = models.export_state(model, naming, prefix)
    models.write_safetensors(os.path.join(DATA, name + ".safetensors"), tensors)
    y = models.reference(model, x)
    with torch.no_grad():
        y32 = model(x)
    models.save_npy(os.path.join(DATA, name + "_in.npy"), x.numpy())
    models.save_npy(os.path.join(DATA, name + "_out.npy"), y.numpy())
    with open(os.path.join(HERE, name + ".lua"), "w") as f:
        f.write(spec_text)
    d = (y32 - y).abs().max().item() / max(y.abs().max().item(), 1e-30)
    print("%-28s in %-16s out %-16s %d tensors; float32 forward vs golden rel %.2g"
          % (name, tuple(x.shape), tuple(y.shape), len(tensors), d))


class Wrap(torch.nn.Module):
    """Puts the layer under the key prefix "layer"."""

    def __init__(self, layer):
        super().__init__()
        self.layer = layer

    def forward(self, x):
        return self.layer(x)


def main():
    models.setup_torch()
    os.makedirs(DATA, exist_ok=True)
    for (name, naming, bias, cin, out, h, w, stride, ratio, batch, seed) in LAYER_CASES:
        torch.manual_seed(seed)
        m = Wrap(models.SPConv_3x3(cin, out, stride=stride, ratio=ratio, bias=bias))
        models.randomize(m, seed)
        x = models.random_input((batch, cin, h, w), seed + 1000)
        spec = LAYER_SPEC.format(name=name, naming=naming, bias=bias, cin=cin, out=out, h=h, w=w,
                                 stride=stride, ratio=ratio, batch=batch)
        write_case(name, m, naming, "", x, spec)

    torch.manual_seed(200)
    m = models.randomize(models.TinyBlock(classes=10), 200)
    x = models.random_input((2, 3, 16, 16), 1200)
    write_case("tiny_block", m, "torch", "", x, TINY_SPEC)


if __name__ == "__main__":
    main()
