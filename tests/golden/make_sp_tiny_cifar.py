"""Writes the golden case sp_tiny_cifar (run once, offline), the network that
firmware/ runs on a Cortex-M4 under QEMU:

    /usr/bin/python3 tests/golden/make_sp_tiny_cifar.py

Like make_golden.py (whose write_case it uses) it writes
tests/golden/sp_tiny_cifar.lua and, in tests/golden/data/,
sp_tiny_cifar.safetensors (F32), sp_tiny_cifar_in.npy (1x3x32x32, standard
normal) and sp_tiny_cifar_out.npy (the module's output, computed in float64
from the float32 weights and input, rounded to float32). Seeded: rerunning
writes the same files.

The spec is specs/sp_tiny_cifar.lua itself. A spec cannot include another
file, so tests/golden/sp_tiny_cifar.lua is a copy of it whose network points
at the golden weights (`weights = args.weights or "data/..."`, relative to the
golden spec); this script writes that copy from the shipped spec, so the two
only ever differ in that line and the header comment.
"""
import os
import sys

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import make_golden  # noqa: E402
import models  # noqa: E402

NAME = "sp_tiny_cifar"
SEED = 500  # weights; the input uses SEED + 1000
SPEC = os.path.join(ROOT, "specs", NAME + ".lua")
WEIGHTS_LINE = "weights = args.weights,"
GOLDEN_WEIGHTS_LINE = 'weights = args.weights or "data/%s.safetensors",' % NAME


class SPTinyCifar(nn.Module):
    """specs/sp_tiny_cifar.lua: 3x3 stem (16), SPConv BasicBlocks 16 -> 16,
    16 -> 32 (stride 2), 32 -> 64 (stride 2) with 1x1 downsample shortcuts
    where the shape changes, global average pool, fc."""

    def __init__(self, classes=10, ratio=0.5, bias="official"):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        kw = dict(sp=True, ratio=ratio, bias=bias)
        self.layer1 = nn.Sequential(models.BasicBlock(16, 16, 1, **kw))
        self.layer2 = nn.Sequential(models.BasicBlock(16, 32, 2, **kw))
        self.layer3 = nn.Sequential(models.BasicBlock(32, 64, 2, **kw))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def golden_spec():
    with open(SPEC) as f:
        text = f.read()
    if text.count(WEIGHTS_LINE) != 1:
        raise SystemExit("%s: expected exactly one '%s'" % (SPEC, WEIGHTS_LINE))
    head = ("-- Golden case %s (written by tests/golden/make_sp_tiny_cifar.py; do not edit).\n"
            "-- specs/%s.lua with the golden weights; 1x3x32x32 input, torch names.\n" % (NAME, NAME))
    return head + text.replace(WEIGHTS_LINE, GOLDEN_WEIGHTS_LINE)


def main():
    models.setup_torch()
    os.makedirs(make_golden.DATA, exist_ok=True)
    torch.manual_seed(SEED)
    m = models.randomize(SPTinyCifar(), SEED)
    x = models.random_input((1, 3, 32, 32), SEED + 1000)
    make_golden.write_case(NAME, m, "torch", "", x, golden_spec())
    print("params %d, MACs/image %d" % (models.count_params(m), models.count_macs(m, (3, 32, 32))))


if __name__ == "__main__":
    main()
