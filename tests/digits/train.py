"""Train the digits network and write the fixtures tests/digits.sh reads.

Run once by hand with Debian's /usr/bin/python3 (python3-torch 1.13,
python3-sklearn); the suite needs no Python:

    /usr/bin/python3 tests/digits/train.py

Data: sklearn.datasets.load_digits (1,797 8x8 images, pixel values 0..16,
shipped with sklearn, offline). Input normalisation: x = pixel / 16, so the
network's input lies in [0, 1]; no mean subtraction. Split: a permutation
from numpy's RandomState(SEED) puts 1,397 images in training and 400 in the
held-out set. Training: torch.manual_seed(SEED), one thread, deterministic
algorithms, Adam, fixed epochs. The network (sp_digits.lua, the same
layers): conv2d 1 -> 16 (SPConv needs at least two input channels per
group), batchnorm, relu; SPConv 16 -> 32, batchnorm, relu; maxpool 2 -> 4x4;
SPConv 32 -> 32, batchnorm, relu; global average pool; linear 32 -> 10. The
SPConv is models.SPConv_3x3, the official module.

Writes into tests/digits/:
  sp_digits.safetensors  the trained weights under the spec's key names
  heldout_images.npy     float32 [400, 1, 8, 8], normalised as above
  heldout_labels.npy     float32 [400], the digit 0..9 (float32: the test
                         tools read float32 .npy only)
  torch_logits.npy       float32 [400, 10], PyTorch's held-out logits,
                         computed in float64 from the float32 weights and
                         rounded to float32, as the goldens are
  calib.npy              float32 [200, 1, 8, 8], 200 TRAINING images
  torch_accuracy.txt     "CORRECT TOTAL": held-out images PyTorch classifies
                         right (argmax of torch_logits.npy), and their number
Every seed is fixed: rerunning writes byte-identical files.
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "golden"))
import models  # noqa: E402

SEED = 20261206
HELD_OUT = 400
CALIB = 200
EPOCHS = 60
BATCH = 32


class DigitsNet(nn.Module):
    """Attribute names are the spec's layer names."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.sp1 = models.SPConv_3x3(16, 32)
        self.bn2 = nn.BatchNorm2d(32)
        self.sp2 = models.SPConv_3x3(32, 32)
        self.bn3 = nn.BatchNorm2d(32)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.sp1(x)))
        x = F.max_pool2d(x, 2)
        x = F.relu(self.bn3(self.sp2(x)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def main():
    models.setup_torch()
    digits = load_digits()
    images = (digits.images.astype(np.float32) / 16.0).reshape(-1, 1, 8, 8)
    labels = digits.target.astype(np.int64)
    order = np.random.RandomState(SEED).permutation(len(labels))
    held, train = order[:HELD_OUT], order[HELD_OUT:]
    x_train, y_train = torch.from_numpy(images[train]), torch.from_numpy(labels[train])
    x_held, y_held = torch.from_numpy(images[held]), labels[held]

    torch.manual_seed(SEED)
    model = DigitsNet()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, EPOCHS)
    g = torch.Generator().manual_seed(SEED)
    for epoch in range(EPOCHS):
        model.train()
        perm = torch.randperm(len(y_train), generator=g)
        for i in range(0, len(perm), BATCH):
            idx = perm[i:i + BATCH]
            opt.zero_grad()
            F.cross_entropy(model(x_train[idx]), y_train[idx]).backward()
            opt.step()
        sched.step()
    model.eval()

    logits = models.reference(model, x_held).numpy()
    with torch.no_grad():
        logits32 = model(x_held).numpy()
    pred = logits.argmax(1)
    if not np.array_equal(pred, logits32.argmax(1)):
        sys.exit("float32 and float64 forwards disagree on a prediction")
    top2 = np.sort(logits, 1)[:, -2:]
    correct = int((pred == y_held).sum())
    print("held-out accuracy %d / %d = %.2f%%" % (correct, HELD_OUT, 100.0 * correct / HELD_OUT))
    print("smallest top-1 margin %.4g (largest |logit| %.4g)" % ((top2[:, 1] - top2[:, 0]).min(), np.abs(logits).max()))

    models.write_safetensors(os.path.join(HERE, "sp_digits.safetensors"), models.export_state(model))
    models.save_npy(os.path.join(HERE, "heldout_images.npy"), images[held])
    models.save_npy(os.path.join(HERE, "heldout_labels.npy"), y_held.astype(np.float32))
    models.save_npy(os.path.join(HERE, "torch_logits.npy"), logits)
    models.save_npy(os.path.join(HERE, "calib.npy"), images[train[:CALIB]])
    with open(os.path.join(HERE, "torch_accuracy.txt"), "w") as f:
        f.write("%d %d\n" % (correct, HELD_OUT))


if __name__ == "__main__":
    main()
