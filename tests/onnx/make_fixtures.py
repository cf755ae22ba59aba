"""Writes the committed ONNX fixtures of tests/onnx/ (run once, offline).

    /usr/bin/python3 tests/onnx/make_fixtures.py

Needs Debian's python3-torch (1.13) and python3-onnx; not used by the suite
(tests/onnx.sh needs no Python). Every seed is fixed, so rerunning writes
the same files.

For each fixture NAME, tests/onnx/fixtures/ gets NAME.onnx, what
torch.onnx.export wrote for a small PyTorch module in eval mode (a few are
edited afterwards with the onnx package, said at the case), and for those
expected to import, NAME_in.npy (float32 NCHW, standard normal) and
NAME_out.npy (the module's output, computed in float64 from the float32
weights and input, rounded to float32, as tests/golden/ does).

tests/onnx/cases lists each fixture, one a line:

    NAME  SPCONVS  ok     TOL         the import must succeed, the spec must
                                      hold SPCONVS `spconv(` calls, and the
                                      generated network's output must be within
                                      TOL of NAME_out.npy (build/npycmp: max
                                      |got - want| / max |want|)
    NAME  -        error  -  TEXT     the import must exit 1 with a message
                                      that contains TEXT, and write nothing
"""
import os
import sys

import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "golden"))
import make_sp_tiny_cifar  # noqa: E402
import models  # noqa: E402

FIXTURES = os.path.join(HERE, "fixtures")
CASES = os.path.join(HERE, "cases")
TOL = "1e-4"
# what the importer says of an SPConv-like subgraph that it did not take for one
NEAR_MISS = "the SPConv pattern does not match"


# ----------------------------------------------------------------------------
# Modules that the zoo does not have


class Fn(nn.Module):
    """A parameterless function as a module."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


class TwoConvAdd(nn.Module):
    """relu(conv a (k3, bias) + conv b (k1)): an Add of two branches."""

    def __init__(self, c, out):
        super().__init__()
        self.a = nn.Conv2d(c, out, 3, padding=1, bias=True)
        self.b = nn.Conv2d(c, out, 1, bias=False)

    def forward(self, x):
        return F.relu(self.a(x) + self.b(x))


class Residual(nn.Module):
    """relu(bn(conv(x)) + x): an Add whose other operand is the graph input."""

    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(c)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)) + x)


class ViewLinear(nn.Module):
    """conv, x.view(x.size(0), -1), linear: Reshape fed by shape arithmetic."""

    def __init__(self, c, out, hw, classes):
        super().__init__()
        self.conv = nn.Conv2d(c, out, 3, padding=1)
        self.fc = nn.Linear(out * hw, classes)

    def forward(self, x):
        y = F.relu(self.conv(x))
        return self.fc(y.view(y.size(0), -1))


class MatMulAdd(nn.Module):
    """flatten, x @ W + b (MatMul then Add, not Gemm), W stored [in, out]."""

    def __init__(self, features, out):
        super().__init__()
        self.w = nn.Parameter(torch.randn(features, out) / features ** 0.5)
        self.b = nn.Parameter(torch.randn(out) * 0.1)

    def forward(self, x):
        return torch.flatten(x, 1) @ self.w + self.b


class ConvLinear(nn.Module):
    """conv, relu, flatten, linear (and a softmax over the classes when asked)."""

    def __init__(self, c, out, hw, classes, softmax=False):
        super().__init__()
        self.conv = nn.Conv2d(c, out, 3, padding=1)
        self.fc = nn.Linear(out * hw, classes)
        self.softmax = softmax

    def forward(self, x):
        y = self.fc(torch.flatten(F.relu(self.conv(x)), 1))
        return F.softmax(y, 1) if self.softmax else y


class PadConv(nn.Module):
    """F.pad (asymmetric, zeros) then a convolution without padding."""

    def __init__(self, c, out, k, pad, stride=1):
        super().__init__()
        self.pad = pad  # (left, right, top, bottom), F.pad's order
        self.conv = nn.Conv2d(c, out, k, stride=stride, padding=0, bias=True)

    def forward(self, x):
        return self.conv(F.pad(x, self.pad))


class GapLinear(nn.Module):
    """conv, bn, relu, a pooling to 1x1 (AdaptiveAvgPool2d or mean over H, W), flatten, linear."""

    def __init__(self, c, out, classes, mean):
        super().__init__()
        self.conv = nn.Conv2d(c, out, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(out)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.mean = mean
        self.fc = nn.Linear(out, classes)

    def forward(self, x):
        y = F.relu(self.bn(self.conv(x)))
        y = y.mean((2, 3), keepdim=True) if self.mean else self.pool(y)
        return self.fc(torch.flatten(y, 1))


class NearSPConv(models.SPConv_3x3):
    """SPConv_3x3 changed in one place, so that it is no SPConv:
    softmax_dim  the softmax over the channels (1) instead of the two branches (2)
    swap         each branch weighted by the other branch's share
    stats        "max": the statistics by AdaptiveMaxPool2d, not the mean
    relu         a relu on the 3x3 branch before its statistics
    gwc_k        the group conv's kernel (5: pad 2)
    pwc_k        the pointwise conv's kernel (3: pad 1)
    split_swap   the 3x3 branch reads the last channels, the 1x1 branch the first
    prebn_stats  the 3x3 branch's statistics taken before bn1"""

    def __init__(self, c, out, stride=1, softmax_dim=2, swap=False, stats="avg", relu=False, gwc_k=3,
                 pwc_k=1, split_swap=False, prebn_stats=False):
        super().__init__(c, out, stride=stride)
        self.softmax_dim, self.swap, self.relu = softmax_dim, swap, relu
        self.split_swap, self.prebn_stats = split_swap, prebn_stats
        if split_swap:
            self.inplanes_3x3, self.inplanes_1x1 = self.inplanes_1x1, self.inplanes_3x3
        if gwc_k != 3 or split_swap:
            self.gwc = nn.Conv2d(self.inplanes_3x3, out, gwc_k, stride=stride, padding=gwc_k // 2,
                                 groups=2, bias=False)
        if pwc_k != 1 or split_swap:
            self.pwc = nn.Conv2d(self.inplanes_3x3, out, pwc_k, padding=pwc_k // 2, bias=False)
        if split_swap:
            self.conv1x1 = nn.Conv2d(self.inplanes_1x1, out, 1)
        if stats == "max":
            self.avgpool_add_1 = nn.AdaptiveMaxPool2d(1)
            self.avgpool_add_3 = nn.AdaptiveMaxPool2d(1)

    def forward(self, x):
        b, c, _, _ = x.size()
        x_3x3 = x[:, :int(c * self.ratio), :, :]
        x_1x1 = x[:, int(c * self.ratio):, :, :]
        if self.split_swap:
            x_3x3, x_1x1 = x_1x1, x_3x3
        out_3x3_gwc = self.gwc(x_3x3)
        if self.stride == 2:
            x_3x3 = self.avgpool_s2_3(x_3x3)
        out_3x3_sum = out_3x3_gwc + self.pwc(x_3x3)
        out_3x3 = self.bn1(out_3x3_sum)
        if self.relu:
            out_3x3 = F.relu(out_3x3)
        out_3x3_ratio = self.avgpool_add_3(out_3x3_sum if self.prebn_stats else out_3x3)
        out_3x3_ratio = out_3x3_ratio.squeeze(dim=3).squeeze(dim=2)
        if self.stride == 2:
            x_1x1 = self.avgpool_s2_1(x_1x1)
        out_1x1 = self.bn2(self.conv1x1(x_1x1))
        out_1x1_ratio = self.avgpool_add_1(out_1x1).squeeze(dim=3).squeeze(dim=2)
        ratio = nn.Softmax(dim=self.softmax_dim)(torch.stack((out_3x3_ratio, out_1x1_ratio), 2))
        w3, w1 = (1, 0) if self.swap else (0, 1)
        return (out_1x1 * ratio[:, :, w1].view(b, self.outplanes, 1, 1).expand_as(out_1x1)
                + out_3x3 * ratio[:, :, w3].view(b, self.outplanes, 1, 1).expand_as(out_3x3))


class NoSplit(nn.Module):
    """SPConv's 3x3 branch on the whole input, with no split and no gate:
    relu(bn(gwc(x) + pwc(x))). Generic Conv, Conv, Add, BatchNormalization,
    Relu: no spconv."""

    def __init__(self, c, out):
        super().__init__()
        self.gwc = nn.Conv2d(c, out, 3, padding=1, groups=2, bias=False)
        self.pwc = nn.Conv2d(c, out, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out)

    def forward(self, x):
        return F.relu(self.bn1(self.gwc(x) + self.pwc(x)))


# ----------------------------------------------------------------------------
# Graph edits (onnx package) for what torch.onnx.export never writes


def to_typed_fields(model):
    """Every initializer and Constant tensor moved from raw_data to the typed
    field (float_data, int64_data), as other exporters write them; the
    models edited hold no other types."""
    def conv(t):
        a = onnx.numpy_helper.to_array(t)
        n = onnx.TensorProto()
        n.name, n.data_type = t.name, t.data_type
        n.dims.extend(t.dims)
        if a.dtype == np.float32:
            n.float_data.extend(a.flatten().tolist())
        elif a.dtype == np.int64:
            n.int64_data.extend(a.flatten().tolist())
        else:
            raise SystemExit("to_typed_fields: tensor %r is %s" % (t.name, a.dtype))
        return n

    inits = [conv(t) for t in model.graph.initializer]
    del model.graph.initializer[:]
    model.graph.initializer.extend(inits)
    for node in model.graph.node:
        for a in node.attribute:
            if a.type == onnx.AttributeProto.TENSOR:
                a.t.CopyFrom(conv(a.t))
    return model


def insert_after(model, op_type, new_op, **attrs):
    """Puts a node new_op between the first op_type node and its readers."""
    g = model.graph
    i, node = next((i, n) for i, n in enumerate(g.node) if n.op_type == op_type)
    old = node.output[0]
    mid = old + "_" + new_op.lower()
    for n in g.node:
        for k, name in enumerate(n.input):
            if name == old:
                n.input[k] = mid
    for o in g.output:
        if o.name == old:
            o.name = mid
    g.node.insert(i + 1, onnx.helper.make_node(new_op, [old], [mid], name=new_op + "_inserted", **attrs))
    return model


def set_conv_pads(model, pads):
    """The (only) Conv's pads attribute: [top, left, bottom, right]."""
    node = next(n for n in model.graph.node if n.op_type == "Conv")
    for a in node.attribute:
        if a.name == "pads":
            del a.ints[:]
            a.ints.extend(pads)
    return model


def fix_batch(model, batch):
    """A model exported with a symbolic batch (so that x.size(0) stays Shape
    and Gather nodes) gets the batch as a number on its input and output."""
    for v in list(model.graph.input) + list(model.graph.output):
        d = v.type.tensor_type.shape.dim[0]
        d.ClearField("dim_param")
        d.dim_value = batch
    return model


# ----------------------------------------------------------------------------
# The cases

ALL = []  # (name, spconvs, expect, message)


def export(name, make, shape, opset=13, fold=True, dynamic_batch=False, edit=None, exported=None,
           spconvs=0, expect="ok", message="", external=False):
    """Builds make() with the case's seed (700 + its index; the input's is
    1000 more), randomizes it (models.randomize), exports exported(model)
    (default the model itself; eval mode) on a random input of the shape to
    NAME.onnx; edit(onnx model) may change the graph. The expected output is
    the model's."""
    seed = 700 + len(ALL)
    torch.manual_seed(seed)
    model = models.randomize(make(), seed)
    x = models.random_input(shape, seed + 1000)
    path = os.path.join(FIXTURES, name + ".onnx")
    kw = dict(opset_version=opset, do_constant_folding=fold, input_names=["input"],
              output_names=["output"])
    if not fold:
        kw["training"] = torch.onnx.TrainingMode.PRESERVE
    if dynamic_batch:
        kw["dynamic_axes"] = {"input": {0: "batch"}, "output": {0: "batch"}}
    with torch.no_grad():
        torch.onnx.export(exported(model) if exported else model, x, path, **kw)
    m = onnx.load(path)
    if dynamic_batch:
        fix_batch(m, x.shape[0])
    if edit is not None:
        m = edit(m)
    onnx.checker.check_model(m)
    if external:
        onnx.save_model(m, path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location=name + ".data", size_threshold=0)
    else:
        onnx.save_model(m, path)
    if expect == "ok":
        y = models.reference(model, x)
        with torch.no_grad():
            y32 = model(x)
        d = (y32 - y).abs().max().item() / max(y.abs().max().item(), 1e-30)
        models.save_npy(os.path.join(FIXTURES, name + "_in.npy"), x.numpy())
        models.save_npy(os.path.join(FIXTURES, name + "_out.npy"), y.numpy())
        print("%-34s in %-16s out %-12s float32 vs float64 rel %.2g"
              % (name, tuple(x.shape), tuple(y.shape), d))
    else:
        print("%-34s %s: %s" % (name, expect, message))
    ALL.append((name, spconvs, expect, message))


def spconv_net(cin, out, stride, ratio, bias):
    return lambda: models.SPConvLayerNet(cin, out, stride, ratio, "all" if bias == "paddle" else "official")


def make_all():
    # -- Conv: kernels, strides, paddings, groups, bias
    convs = [
        ("conv_k3s1p1", 4, 6, 3, 1, 1, 1, False, (1, 4, 7, 8)),
        ("conv_k5s2p2_bias", 4, 6, 5, 2, 2, 1, True, (1, 4, 11, 9)),
        ("conv_k1s1p0_bias", 5, 7, 1, 1, 0, 1, True, (2, 5, 4, 6)),
        ("conv_k1s2p0", 5, 3, 1, 2, 0, 1, False, (1, 5, 7, 6)),
        ("conv_k2s2p0", 3, 5, 2, 2, 0, 1, False, (1, 3, 8, 11)),
        ("conv_k7s2p3", 3, 8, 7, 2, 3, 1, False, (1, 3, 16, 14)),
        ("conv_k3s2p0", 3, 4, 3, 2, 0, 1, True, (2, 3, 9, 10)),
        ("conv_g2_bias", 8, 6, 3, 1, 1, 2, True, (1, 8, 6, 7)),
        ("conv_g4_k3s2", 8, 12, 3, 2, 1, 4, False, (1, 8, 8, 9)),
        ("conv_dw6", 6, 6, 3, 1, 1, 6, True, (2, 6, 7, 8)),
    ]
    for name, c, out, k, st, p, g, b, shape in convs:
        export(name, lambda: nn.Conv2d(c, out, k, stride=st, padding=p, groups=g, bias=b), shape)

    # asymmetric padding, which the spec language cannot say (a conv2d pads
    # all sides alike), is refused: as torch.onnx.export writes F.pad (a Pad
    # whose pads are computed by ConstantOfShape, Concat, Slice, Transpose,
    # Cast) and as other exporters write it, on the Conv (the conv is exported
    # without padding, then its pads become top 1, left 0, bottom 0, right 1).
    # The zero Pad that the spec can say is among the last cases.
    export("refuse_fpad_asym", lambda: PadConv(3, 4, 2, (1, 0, 1, 0)), (1, 3, 6, 7),
           expect="error", message="(Pad): asymmetric padding (top 1, left 1, bottom 0, right 0)")
    export("refuse_conv_pads_asym", lambda: PadConv(3, 5, 2, (0, 1, 1, 0)), (1, 3, 7, 6),
           exported=lambda m: m.conv, edit=lambda g: set_conv_pads(g, [1, 0, 0, 1]),
           expect="error", message="(Conv): asymmetric padding (top 1, left 0, bottom 0, right 1)")
    # typed fields: the weights as float_data, not raw_data
    export("conv_typed_fields", lambda: nn.Conv2d(4, 5, 3, padding=1, bias=True), (1, 4, 5, 6),
           edit=to_typed_fields)

    # -- BatchNormalization: kept as a node, folded into the conv, standalone
    cbr = lambda: nn.Sequential(nn.Conv2d(4, 6, 3, padding=1, bias=False), nn.BatchNorm2d(6), nn.ReLU())
    export("bn_node", cbr, (2, 4, 6, 5), fold=False)
    export("bn_folded", cbr, (2, 4, 6, 5))
    export("bn_standalone", lambda: nn.Sequential(nn.BatchNorm2d(5), nn.ReLU()), (1, 5, 4, 6))

    # -- Relu, Add
    export("relu_conv", lambda: nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU()), (1, 3, 5, 5))
    export("add_two_convs", lambda: TwoConvAdd(4, 6), (2, 4, 6, 5))
    export("add_residual", lambda: Residual(5), (1, 5, 6, 7))

    # -- pools
    export("maxpool_k3s2p1", lambda: Fn(lambda t: F.max_pool2d(t, 3, 2, 1)), (2, 3, 9, 11))
    export("maxpool_k2s2", lambda: Fn(lambda t: F.max_pool2d(t, 2, 2)), (1, 4, 7, 9))
    export("avgpool_k3s2p1_incl", lambda: Fn(lambda t: F.avg_pool2d(t, 3, 2, 1, count_include_pad=True)),
           (1, 3, 9, 10))
    export("avgpool_k3s2p1_excl", lambda: Fn(lambda t: F.avg_pool2d(t, 3, 2, 1, count_include_pad=False)),
           (1, 3, 9, 10))
    export("avgpool_k2", lambda: Fn(lambda t: F.avg_pool2d(t, 2)), (2, 4, 7, 8))
    export("gap_linear", lambda: GapLinear(3, 6, 4, mean=False), (2, 3, 6, 6))
    export("reducemean_linear", lambda: GapLinear(3, 6, 4, mean=True), (2, 3, 6, 6))
    export("reducemean_linear_op17", lambda: GapLinear(3, 6, 4, mean=True), (1, 3, 5, 7), opset=17)

    # -- Flatten, Reshape, Gemm, MatMul + Add, Softmax
    export("flatten_gemm", lambda: ConvLinear(3, 4, 20, 5), (2, 3, 4, 5))
    # x.view(x.size(0), -1) with a symbolic batch keeps Shape, Gather,
    # Unsqueeze, Concat before the Reshape; fold=False keeps Unsqueeze and
    # Concat of constants
    export("reshape_view", lambda: ViewLinear(3, 4, 20, 5), (2, 3, 4, 5), dynamic_batch=True)
    export("reshape_view_op11", lambda: ViewLinear(3, 4, 20, 5), (2, 3, 4, 5), opset=11,
           dynamic_batch=True)
    export("reshape_view_const", lambda: ViewLinear(3, 4, 20, 5), (1, 3, 4, 5), fold=False)
    export("reshape_typed_fields", lambda: ViewLinear(3, 4, 20, 5), (2, 3, 4, 5),
           dynamic_batch=True, edit=to_typed_fields)
    export("matmul_add", lambda: MatMulAdd(12, 5), (2, 3, 2, 2))
    export("softmax_classes", lambda: ConvLinear(3, 4, 12, 7, softmax=True), (2, 3, 3, 4))
    export("softmax_classes_op11", lambda: ConvLinear(3, 4, 12, 7, softmax=True), (1, 3, 3, 4), opset=11)
    export("softmax_channels", lambda: nn.Sequential(nn.Conv2d(4, 7, 1), Fn(lambda t: F.softmax(t, 1))),
           (2, 4, 5, 6))

    # -- Dropout and Identity: the exporter drops both in eval mode, so they
    # are put back in: an Identity after the Relu, a Dropout after the Flatten
    export("dropout_identity", lambda: ConvLinear(3, 4, 20, 5), (2, 3, 4, 5),
           edit=lambda g: insert_after(insert_after(g, "Relu", "Identity"), "Flatten", "Dropout"))

    # -- SPConv (specs/spconv_layer.lua's spconv, batchnorm, relu): both bias
    # variants, both strides, opsets 11, 13, 17 (the exporter folds the
    # batchnorm after conv1x1 into it); the batchnorms as nodes; other ratios;
    # batch 2 with x.size(0) left as Shape and Gather; a BasicBlock
    for bias in ("official", "paddle"):
        for stride in (1, 2):
            for opset in (11, 13, 17):
                shape = (1, 8, 7, 9) if stride == 1 else (1, 8, 8, 10)
                export("spconv_%s_s%d_op%d" % (bias, stride, opset), spconv_net(8, 6, stride, 0.5, bias),
                       shape, opset=opset, spconvs=1)
    for bias, stride, opset in (("official", 1, 11), ("paddle", 2, 13), ("official", 2, 17)):
        shape = (2, 8, 6, 6) if stride == 1 else (2, 8, 6, 8)
        export("spconv_%s_s%d_op%d_bn_nodes" % (bias, stride, opset), spconv_net(8, 6, stride, 0.5, bias),
               shape, opset=opset, fold=False, spconvs=1)
    export("spconv_official_s2_r025", spconv_net(16, 8, 2, 0.25, "official"), (1, 16, 6, 6), spconvs=1)
    export("spconv_paddle_s1_r075", spconv_net(8, 6, 1, 0.75, "paddle"), (1, 8, 5, 6), spconvs=1)
    export("spconv_official_s1_batch2", spconv_net(8, 6, 1, 0.5, "official"), (2, 8, 5, 5),
           dynamic_batch=True, spconvs=1)
    export("spconv_basicblock", lambda: models.TinyBlock(10), (2, 3, 8, 8), spconvs=2)

    # -- networks
    export("sp_tiny_cifar", make_sp_tiny_cifar.SPTinyCifar, (1, 3, 32, 32), spconvs=6)
    export("sp_resnet20_cifar", models.sp_resnet20_cifar, (1, 3, 32, 32), spconvs=18)

    # -- near misses: an SPConv changed in one place is no SPConv. Those the
    # spec language cannot express op by op (a channel Slice, a 3-D Softmax,
    # Mul) are refused naming a node and saying that the SPConv pattern did
    # not match; the one it can is imported op by op.
    near = [
        ("near_softmax_axis1", dict(softmax_dim=1)),
        ("near_swapped_gates", dict(swap=True)),
        ("near_max_stats", dict(stats="max")),
        ("near_relu_branch", dict(relu=True)),
        ("near_gwc_k5", dict(gwc_k=5)),
    ]
    for name, kw in near:
        export(name, lambda: NearSPConv(8, 6, **kw), (1, 8, 6, 6), expect="error", message=NEAR_MISS)
    export("near_no_split", lambda: NoSplit(8, 6), (1, 8, 6, 7))

    # -- refused: what the spec language cannot express
    export("refuse_dilation2", lambda: nn.Conv2d(3, 4, 3, padding=2, dilation=2), (1, 3, 7, 7),
           expect="error", message="dilation")
    export("refuse_sigmoid", lambda: nn.Sequential(nn.Conv2d(3, 4, 1), nn.Sigmoid()), (1, 3, 4, 4),
           expect="error", message="Sigmoid")
    export("refuse_maxpool_ceil", lambda: Fn(lambda t: F.max_pool2d(t, 3, 2, 0, ceil_mode=True)),
           (1, 3, 8, 8), expect="error", message="ceil_mode")
    export("refuse_external_data", lambda: nn.Conv2d(3, 4, 3, padding=1), (1, 3, 5, 5),
           expect="error", message="external", external=True)

    # a zero Pad on all sides alike before a Conv (nn.ZeroPad2d, exported as a
    # Pad whose pads are computed) is the conv's padding. (Last so that the
    # cases before keep their seeds.)
    export("conv_zeropad_k3", lambda: nn.Sequential(nn.ZeroPad2d(1), nn.Conv2d(3, 4, 3)), (1, 3, 6, 7))
    export("conv_zeropad_k5p1", lambda: nn.Sequential(nn.ZeroPad2d(1), nn.Conv2d(3, 4, 5, padding=1)),
           (1, 3, 7, 6))

    # more near misses, each one check an SPConv matcher must make: which
    # channels each branch reads (the halves are of one size, so the shapes
    # agree), the pointwise kernel, where the statistics are taken
    for name, kw in (("near_split_swapped", dict(split_swap=True)), ("near_pwc_k3", dict(pwc_k=3)),
                     ("near_prebn_stats", dict(prebn_stats=True))):
        export(name, lambda: NearSPConv(8, 6, **kw), (1, 8, 6, 6), expect="error", message=NEAR_MISS)


def main():
    models.setup_torch()
    os.makedirs(FIXTURES, exist_ok=True)
    for f in os.listdir(FIXTURES):
        os.remove(os.path.join(FIXTURES, f))
    make_all()
    with open(CASES, "w") as f:
        f.write("# Written by tests/onnx/make_fixtures.py; do not edit. One fixture a line:\n"
                "# NAME SPCONVS ok TOL, or NAME - error - MESSAGE (see make_fixtures.py).\n")
        for name, spconvs, expect, message in ALL:
            if expect == "ok":
                f.write("%-34s %-2d ok    %s\n" % (name, spconvs, TOL))
            else:
                f.write("%-34s -  error -    %s\n" % (name, message))


if __name__ == "__main__":
    main()
