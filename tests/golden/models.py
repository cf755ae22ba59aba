"""PyTorch models of the spgen model zoo, for producing golden data offline.

Not used by the test suite (which needs no Python). Run with Debian's
/usr/bin/python3 (python3-torch 1.13, python3-numpy):

    /usr/bin/python3 tests/golden/models.py          # parameter and MAC counts

Attribute names follow the official code so that state_dict keys match the
names an spgen spec uses:

  SPConv_3x3   qiulinzhang/SPConv.pytorch, code/resnet_sp.py, verbatim apart from
               the `bias` switch ("official": bias on conv1x1 only; "all": bias
               on gwc, pwc and conv1x1 as in the Paddle version) and a `groups`
               switch for gwc (default 2, the official value)
  sp_resnet18 / sp_resnet50        torchvision ImageNet layout, SPConv block 3x3s
  resnet18_cifar / sp_resnet18_cifar   3x3 stem, no maxpool, 64..512 planes
  resnet20_cifar / sp_resnet20_cifar   16/32/64 planes, option-A shortcut, `linear`
  sp_vgg16_cifar                   `features` + `classifier` (with BatchNorm1d)

Helpers: randomize() (random weights and BN statistics), export_state()
(torch or paddle key conventions), write_safetensors(), save_npy(),
count_params(), count_macs(), reference() (float64 forward, float32 result).
"""
import json
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

BIASES = ("official", "all")


# ----------------------------------------------------------------------------
# SPConv, exactly as the official module


class SPConv_3x3(nn.Module):
    def __init__(self, inplanes, outplanes, stride=1, ratio=0.5, bias="official", groups=2):
        super().__init__()
        if bias not in BIASES:
            raise ValueError("bias must be 'official' or 'all', not %r" % (bias,))
        self.inplanes_3x3 = int(inplanes * ratio)
        self.inplanes_1x1 = inplanes - self.inplanes_3x3
        self.outplanes = outplanes
        self.stride = stride
        self.ratio = ratio
        all_bias = bias == "all"
        self.gwc = nn.Conv2d(self.inplanes_3x3, outplanes, kernel_size=3, stride=stride,
                             padding=1, groups=groups, bias=all_bias)
        self.pwc = nn.Conv2d(self.inplanes_3x3, outplanes, kernel_size=1, bias=all_bias)
        self.conv1x1 = nn.Conv2d(self.inplanes_1x1, outplanes, kernel_size=1)
        self.avgpool_s2_1 = nn.AvgPool2d(kernel_size=2, stride=2)
        self.avgpool_s2_3 = nn.AvgPool2d(kernel_size=2, stride=2)
        self.avgpool_add_1 = nn.AdaptiveAvgPool2d(1)
        self.avgpool_add_3 = nn.AdaptiveAvgPool2d(1)
        self.bn1 = nn.BatchNorm2d(outplanes)
        self.bn2 = nn.BatchNorm2d(outplanes)

    def forward(self, x):
        b, c, _, _ = x.size()
        x_3x3 = x[:, :int(c * self.ratio), :, :]
        x_1x1 = x[:, int(c * self.ratio):, :, :]
        out_3x3_gwc = self.gwc(x_3x3)
        if self.stride == 2:
            x_3x3 = self.avgpool_s2_3(x_3x3)
        out_3x3_pwc = self.pwc(x_3x3)
        out_3x3 = self.bn1(out_3x3_gwc + out_3x3_pwc)
        out_3x3_ratio = self.avgpool_add_3(out_3x3).squeeze(dim=3).squeeze(dim=2)
        if self.stride == 2:
            x_1x1 = self.avgpool_s2_1(x_1x1)
        out_1x1 = self.bn2(self.conv1x1(x_1x1))
        out_1x1_ratio = self.avgpool_add_1(out_1x1).squeeze(dim=3).squeeze(dim=2)
        out_31_ratio = torch.stack((out_3x3_ratio, out_1x1_ratio), 2)
        out_31_ratio = nn.Softmax(dim=2)(out_31_ratio)
        return (out_1x1 * out_31_ratio[:, :, 1].view(b, self.outplanes, 1, 1).expand_as(out_1x1)
                + out_3x3 * out_31_ratio[:, :, 0].view(b, self.outplanes, 1, 1).expand_as(out_3x3))


def conv3x3(inplanes, planes, stride, sp, ratio, bias):
    if sp:
        return SPConv_3x3(inplanes, planes, stride=stride, ratio=ratio, bias=bias)
    return nn.Conv2d(inplanes, planes, 3, stride=stride, padding=1, bias=False)


# ----------------------------------------------------------------------------
# Blocks


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, sp=True, ratio=0.5, bias="official"):
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride, sp, ratio, bias)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes, 1, sp, ratio, bias)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(
                nn.Conv2d(inplanes, planes, 1, stride=stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, sp=True, ratio=0.5, bias="official"):
        super().__init__()
        width = planes
        self.conv1 = nn.Conv2d(inplanes, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = conv3x3(width, width, stride, sp, ratio, bias)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or inplanes != planes * 4:
            self.downsample = nn.Sequential(
                nn.Conv2d(inplanes, planes * 4, 1, stride=stride, bias=False),
                nn.BatchNorm2d(planes * 4))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class ShortcutA(nn.Module):
    """CIFAR ResNet option A: subsample, zero-pad the channels."""

    def __init__(self, planes):
        super().__init__()
        self.pad = planes // 4

    def forward(self, x):
        return F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad))


class BasicBlockA(nn.Module):
    def __init__(self, inplanes, planes, stride=1, sp=True, ratio=0.5, bias="official"):
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride, sp, ratio, bias)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes, 1, sp, ratio, bias)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Identity()
        if stride != 1 or inplanes != planes:
            self.shortcut = ShortcutA(planes)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


# ----------------------------------------------------------------------------
# Networks


class ResNet(nn.Module):
    """ImageNet layout (imagenet=True) or the CIFAR 3x3-stem variant."""

    def __init__(self, block, layers, classes, imagenet, sp, ratio, bias):
        super().__init__()
        self.inplanes = 64
        if imagenet:
            self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        else:
            self.conv1 = nn.Conv2d(3, 64, 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1) if imagenet else None
        kw = dict(sp=sp, ratio=ratio, bias=bias)
        self.layer1 = self._make_layer(block, 64, layers[0], 1, kw)
        self.layer2 = self._make_layer(block, 128, layers[1], 2, kw)
        self.layer3 = self._make_layer(block, 256, layers[2], 2, kw)
        self.layer4 = self._make_layer(block, 512, layers[3], 2, kw)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512 * block.expansion, classes)

    def _make_layer(self, block, planes, blocks, stride, kw):
        layers = []
        for i in range(blocks):
            layers.append(block(self.inplanes, planes, stride if i == 0 else 1, **kw))
            self.inplanes = planes * block.expansion
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        if self.maxpool is not None:
            x = self.maxpool(x)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class ResNetCifarA(nn.Module):
    """ResNet-20/32/... for CIFAR (He et al. 2016, option-A shortcuts)."""

    def __init__(self, n, classes, sp, ratio, bias):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        inplanes = 16
        for li, (planes, stride) in enumerate(((16, 1), (32, 2), (64, 2))):
            blocks = []
            for i in range(n):
                blocks.append(BasicBlockA(inplanes, planes, stride if i == 0 else 1, sp, ratio, bias))
                inplanes = planes
            setattr(self, "layer%d" % (li + 1), nn.Sequential(*blocks))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.linear = nn.Linear(64, classes)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.linear(torch.flatten(self.avgpool(x), 1))


VGG16_CFG = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]


class VGGCifar(nn.Module):
    def __init__(self, cfg, classes, sp, ratio, bias):
        super().__init__()
        layers, cin = [], 3
        for v in cfg:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
                continue
            if cin == 3 or not sp:
                layers.append(nn.Conv2d(cin, v, 3, padding=1, bias=True))
            else:
                layers.append(SPConv_3x3(cin, v, stride=1, ratio=ratio, bias=bias))
            layers += [nn.BatchNorm2d(v), nn.ReLU(inplace=True)]
            cin = v
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Linear(512, 512), nn.BatchNorm1d(512),
                                        nn.ReLU(inplace=True), nn.Linear(512, classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


class TinyBlock(nn.Module):
    """The tiny_block golden: 3x3 stem, one SPConv BasicBlock 16->32 s2, fc."""

    def __init__(self, classes=10, ratio=0.5, bias="official"):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = nn.Sequential(BasicBlock(16, 32, 2, sp=True, ratio=ratio, bias=bias))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, classes)

    def forward(self, x):
        x = self.layer1(self.relu(self.bn1(self.conv1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class SPConvLayerNet(nn.Module):
    """specs/spconv_layer.lua: spconv "conv" -> batchnorm "bn" -> relu."""

    def __init__(self, cin=64, out=64, stride=1, ratio=0.5, bias="official", bn=True, relu=True):
        super().__init__()
        self.conv = SPConv_3x3(cin, out, stride=stride, ratio=ratio, bias=bias)
        self.bn = nn.BatchNorm2d(out) if bn else None
        self.relu = relu

    def forward(self, x):
        x = self.conv(x)
        if self.bn is not None:
            x = self.bn(x)
        return F.relu(x) if self.relu else x


def sp_resnet18(classes=1000, ratio=0.5, bias="official"):
    return ResNet(BasicBlock, [2, 2, 2, 2], classes, True, True, ratio, bias)


def resnet18(classes=1000, ratio=0.5, bias="official"):
    return ResNet(BasicBlock, [2, 2, 2, 2], classes, True, False, ratio, bias)


def sp_resnet50(classes=1000, ratio=0.5, bias="official"):
    return ResNet(Bottleneck, [3, 4, 6, 3], classes, True, True, ratio, bias)


def resnet50(classes=1000, ratio=0.5, bias="official"):
    return ResNet(Bottleneck, [3, 4, 6, 3], classes, True, False, ratio, bias)


def resnet18_cifar(classes=10, ratio=0.5, bias="official"):
    return ResNet(BasicBlock, [2, 2, 2, 2], classes, False, False, ratio, bias)


def sp_resnet18_cifar(classes=10, ratio=0.5, bias="official"):
    return ResNet(BasicBlock, [2, 2, 2, 2], classes, False, True, ratio, bias)


def resnet20_cifar(classes=10, ratio=0.5, bias="official"):
    return ResNetCifarA(3, classes, False, ratio, bias)


def sp_resnet20_cifar(classes=10, ratio=0.5, bias="official"):
    return ResNetCifarA(3, classes, True, ratio, bias)


def vgg16_cifar(classes=10, ratio=0.5, bias="official"):
    return VGGCifar(VGG16_CFG, classes, False, ratio, bias)


def sp_vgg16_cifar(classes=10, ratio=0.5, bias="official"):
    return VGGCifar(VGG16_CFG, classes, True, ratio, bias)


# name -> (constructor, default classes, default input size, vanilla counterpart)
ZOO = {
    "sp_resnet18": (sp_resnet18, 1000, 224, "resnet18"),
    "sp_resnet50": (sp_resnet50, 1000, 224, "resnet50"),
    "resnet18_cifar": (resnet18_cifar, 10, 32, None),
    "sp_resnet18_cifar": (sp_resnet18_cifar, 10, 32, "resnet18_cifar"),
    "sp_resnet20_cifar": (sp_resnet20_cifar, 10, 32, "resnet20_cifar"),
    "sp_vgg16_cifar": (sp_vgg16_cifar, 10, 32, "vgg16_cifar"),
}
VANILLA = {
    "resnet18": (resnet18, 1000, 224),
    "resnet50": (resnet50, 1000, 224),
    "resnet18_cifar": (resnet18_cifar, 10, 32),
    "resnet20_cifar": (resnet20_cifar, 10, 32),
    "vgg16_cifar": (vgg16_cifar, 10, 32),
}


# ----------------------------------------------------------------------------
# Randomization, export, files


def setup_torch():
    torch.set_default_dtype(torch.float32)
    torch.use_deterministic_algorithms(True)
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.set_num_threads(1)


def randomize(model, seed):
    """Fresh default init, then random BN affine terms and statistics; eval()."""
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            m.reset_parameters()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                n = m.num_features
                m.running_mean.copy_(torch.rand(n, generator=g) - 0.5)
                m.running_var.copy_(torch.rand(n, generator=g) * 1.5 + 0.5)
                m.weight.copy_(torch.rand(n, generator=g) + 0.5)
                m.bias.copy_(torch.rand(n, generator=g) - 0.5)
    model.eval()
    return model


def export_state(model, naming="torch", prefix=""):
    """state_dict as an ordered {key: float32 ndarray}; num_batches_tracked
    dropped. naming="paddle": BN running_mean -> _mean, running_var ->
    _variance, nn.Linear weight transposed to [in, out]."""
    if naming not in ("torch", "paddle"):
        raise ValueError("naming must be torch or paddle")
    linear_w = {name + ".weight" for name, m in model.named_modules() if isinstance(m, nn.Linear)}
    out = {}
    for k, v in model.state_dict().items():
        if k.endswith("num_batches_tracked"):
            continue
        a = v.detach().cpu().to(torch.float32).numpy()
        if naming == "paddle":
            if k in linear_w:
                a = a.T
            if k.endswith(".running_mean"):
                k = k[: -len("running_mean")] + "_mean"
            elif k.endswith(".running_var"):
                k = k[: -len("running_var")] + "_variance"
        out[prefix + k] = np.ascontiguousarray(a, dtype="<f4")
    return out


def write_safetensors(path, tensors):
    """tensors: {name: ndarray}; written F32, keys sorted, data in key order."""
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name], dtype="<f4")
        b = a.tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def save_npy(path, a):
    np.save(path, np.ascontiguousarray(a, dtype="<f4"))


def random_input(shape, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=torch.float32)


def reference(model, x):
    """Forward pass in float64 on the float32 weights and input; returns the
    float32-rounded result (a more exact golden than a float32 forward)."""
    import copy
    m = copy.deepcopy(model).double().eval()
    with torch.no_grad():
        return m(x.double()).to(torch.float32)


def count_params(model):
    return sum(p.numel() for p in model.parameters())


def count_macs(model, input_shape):
    """Conv and linear multiply-accumulates for one image."""
    total = [0]

    def conv_hook(m, inp, out):
        total[0] += out[0].numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]

    def linear_hook(m, inp, out):
        total[0] += m.in_features * m.out_features

    hooks = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            hooks.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            hooks.append(m.register_forward_hook(linear_hook))
    was_training = model.training
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, *input_shape))
    model.train(was_training)
    for h in hooks:
        h.remove()
    return total[0]


def _count_table():
    rows = []
    for name, (ctor, classes, size, vanilla) in ZOO.items():
        for ratio in ((0.5, 0.25) if name.startswith("sp_") else (0.5,)):
            m = ctor(classes, ratio)
            rows.append((name, ratio if name.startswith("sp_") else None, count_params(m),
                         count_macs(m, (3, size, size)), size))
    for name, (ctor, classes, size) in VANILLA.items():
        if name in ZOO:
            continue
        m = ctor(classes)
        rows.append((name, None, count_params(m), count_macs(m, (3, size, size)), size))
    return rows


if __name__ == "__main__":
    setup_torch()
    print("%-20s %6s %12s %16s  %s" % ("net", "ratio", "params", "MACs/image", "input"))
    for name, ratio, p, macs, size in _count_table():
        print("%-20s %6s %12s %16s  3x%dx%d" % (name, "-" if ratio is None else ratio,
                                                "{:,}".format(p), "{:,}".format(macs), size, size))
    sys.exit(0)
