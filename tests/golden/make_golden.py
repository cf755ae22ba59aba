"""Writes the committed golden data of tests/golden/ (run once, offline).

    /usr/bin/python3 tests/golden/make_golden.py

For each case: tests/golden/<case>.lua (the spgen spec), and in
tests/golden/data/: <case>.safetensors (weights, F32), <case>_in.npy (random
float32 NCHW input) and <case>_out.npy (the PyTorch module's output on it,
computed in float64 from the float32 weights and input, rounded to float32).
Everything is seeded: rerunning gives the same files.

Besides the SPConv layer cases and tiny_block, the op cases (OP_CASES) are
small networks written with SpecNet, which mirrors the spgen DSL call by call:
each call appends one line to the spec and one standard PyTorch operation
(nn.Conv2d, nn.BatchNorm1d/2d, F.max_pool2d, ...) to the module, with the
DSL's documented defaults applied on the PyTorch side only (an option left out
of the call is left out of the spec too, so the defaults are tested).
"""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

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


# ----------------------------------------------------------------------------
# Op cases: SpecNet writes the spec and builds the PyTorch module together.


class T:
    """A tensor of a SpecNet: its Lua variable, its shape (C, H, W), flat."""

    def __init__(self, var, shape, flat=False):
        self.var, self.shape, self.flat = var, shape, flat

    @property
    def channels(self):
        return self.shape[0]


def lua_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"%s"' % v
    return repr(v)


def lua_opts(pairs):
    """{ k = v, ... } of the options that were given (None: left out)."""
    items = ["%s = %s" % (k, lua_value(v)) for k, v in pairs if v is not None]
    return "{ " + ", ".join(items) + " }"


class SpecNet(nn.Module):
    """A network built the way a spec builds it. Weighted layers are
    registered under their dotted spec names, so state_dict keys are the keys
    spgen reads. forward() replays the recorded steps."""

    def __init__(self, name, input, batch=1, naming="torch"):
        super().__init__()
        self.case, self.batch, self.naming = name, batch, naming
        self.in_shape = tuple(input)
        self.steps = []  # (out var, op, input vars, attrs, module path)
        self.lines = []
        self.count = 0
        self.input = T("net.input", self.in_shape)
        self.result = None

    def _module(self, path, module):
        parent = self
        parts = path.split(".")
        for p in parts[:-1]:
            if not hasattr(parent, p):
                parent.add_module(p, nn.Module())
            parent = getattr(parent, p)
        assert not hasattr(parent, parts[-1]), "name used twice: " + path
        parent.add_module(parts[-1], module)

    def _step(self, op, inputs, attrs, shape, flat, call, path=None, module=None):
        self.count += 1
        var = "t%d" % self.count
        if module is not None:
            self._module(path, module)
        self.steps.append((var, op, [t.var for t in inputs], attrs, path))
        self.lines.append("local %s = %s" % (var, call))
        return T(var, shape, flat)

    # -- the DSL's ops; None means "left out of the spec" --

    def conv2d(self, x, out, k=None, stride=None, pad=None, groups=None, bias=None, name=None):
        assert not x.flat
        c, h, w = x.shape
        kk, s = (3 if k is None else k), (stride or 1)
        p, g = (kk // 2 if pad is None else pad), (groups or 1)
        ho, wo = (h + 2 * p - kk) // s + 1, (w + 2 * p - kk) // s + 1
        m = nn.Conv2d(c, out, kk, stride=s, padding=p, groups=g, bias=bool(bias))
        call = "conv2d(%s, %s)" % (x.var, lua_opts([("out", out), ("k", k), ("stride", stride), ("pad", pad),
                                                    ("groups", groups), ("bias", bias), ("name", name)]))
        return self._step("module", [x], {}, (out, ho, wo), False, call, name, m)

    def spconv(self, x, out, stride=None, ratio=None, groups=None, bias=None, name=None):
        c, h, w = x.shape
        s = stride or 1
        m = models.SPConv_3x3(c, out, stride=s, ratio=0.5 if ratio is None else ratio,
                              bias=bias or "official", groups=groups or 2)
        call = "spconv(%s, %s)" % (x.var, lua_opts([("out", out), ("stride", stride), ("ratio", ratio),
                                                    ("groups", groups), ("bias", bias), ("name", name)]))
        return self._step("module", [x], {}, (out, (h - 1) // s + 1, (w - 1) // s + 1), False, call, name, m)

    def batchnorm(self, x, name, eps=None):
        e = 1e-5 if eps is None else eps
        m = (nn.BatchNorm1d if x.flat else nn.BatchNorm2d)(x.channels, eps=e)
        arg = '"%s"' % name if eps is None else lua_opts([("name", name), ("eps", eps)])
        return self._step("module", [x], {}, x.shape, x.flat, "batchnorm(%s, %s)" % (x.var, arg), name, m)

    def linear(self, x, out, bias=None, name=None):
        assert x.flat, "linear needs a flat input"
        m = nn.Linear(x.channels, out, bias=True if bias is None else bias)
        call = "linear(%s, %s)" % (x.var, lua_opts([("out", out), ("bias", bias), ("name", name)]))
        return self._step("module", [x], {}, (out, 1, 1), True, call, name, m)

    def relu(self, x):
        return self._step("relu", [x], {}, x.shape, x.flat, "relu(%s)" % x.var)

    def softmax(self, x):
        return self._step("softmax", [x], {}, x.shape, x.flat, "softmax(%s)" % x.var)

    def add(self, a, b):
        assert a.shape == b.shape and a.flat == b.flat
        return self._step("add", [a, b], {}, a.shape, a.flat, "add(%s, %s)" % (a.var, b.var))

    def _pool(self, op, x, k, stride, pad, count_include_pad=None):
        c, h, w = x.shape
        s, p = stride or k, pad or 0
        attrs = {"k": k, "stride": s, "pad": p, "count_include_pad": count_include_pad is not False}
        shape = (c, (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1)
        call = "%s(%s, %s)" % (op, x.var, lua_opts([("k", k), ("stride", stride), ("pad", pad),
                                                    ("count_include_pad", count_include_pad)]))
        return self._step(op, [x], attrs, shape, False, call)

    def maxpool(self, x, k, stride=None, pad=None):
        return self._pool("maxpool", x, k, stride, pad)

    def avgpool(self, x, k, stride=None, pad=None, count_include_pad=None):
        return self._pool("avgpool", x, k, stride, pad, count_include_pad)

    def global_avgpool(self, x):
        return self._step("gap", [x], {}, (x.channels, 1, 1), False, "global_avgpool(%s)" % x.var)

    def flatten(self, x):
        c, h, w = x.shape
        return self._step("flatten", [x], {}, (c * h * w, 1, 1), True, "flatten(%s)" % x.var)

    def shortcut_a(self, x, out, stride=None):
        c, h, w = x.shape
        s = stride or 2
        attrs = {"stride": s, "before": (out - c) // 2}
        call = "shortcut_a(%s, %s)" % (x.var, lua_opts([("out", out), ("stride", stride)]))
        return self._step("shortcut_a", [x], attrs, (out, (h - 1) // s + 1, (w - 1) // s + 1), False, call)

    def output(self, x):
        self.result = x.var

    # -- PyTorch side --

    def forward(self, x):
        env = {"net.input": x}
        for var, op, ins, a, path in self.steps:
            v = [env[i] for i in ins]
            if op == "module":
                y = self.get_submodule(path)(v[0])
            elif op == "relu":
                y = F.relu(v[0])
            elif op == "softmax":
                y = F.softmax(v[0], dim=1)
            elif op == "add":
                y = v[0] + v[1]
            elif op == "maxpool":
                y = F.max_pool2d(v[0], a["k"], a["stride"], a["pad"])
            elif op == "avgpool":
                y = F.avg_pool2d(v[0], a["k"], a["stride"], a["pad"], count_include_pad=a["count_include_pad"])
            elif op == "gap":
                y = F.adaptive_avg_pool2d(v[0], 1)
            elif op == "flatten":
                y = torch.flatten(v[0], 1)
            elif op == "shortcut_a":
                s, b = a["stride"], a["before"]
                y = F.pad(v[0][:, :, ::s, ::s], (0, 0, 0, 0, b, b))
            else:
                raise ValueError(op)
            env[var] = y
        return env[self.result]

    def spec(self, about):
        c, h, w = self.in_shape
        head = ["-- Golden case %s (written by tests/golden/make_golden.py; do not edit)." % self.case]
        head += ["-- " + line for line in about.strip().splitlines()]
        head.append('local net = network { name = "%s", input = { %d, %d, %d }, batch = %d,'
                    % (self.case, c, h, w, self.batch))
        head.append('                      naming = "%s", weights = "data/%s.safetensors" }'
                    % (self.naming, self.case))
        return "\n".join(head + self.lines + ["return output(%s)" % self.result]) + "\n"


# Each case: (name, input (C, H, W), batch, naming, seed, input scale, input
# shift, build(n, x), about). The input is scale * N(0, 1) + shift.
OP_CASES = []


def case(name, input, batch=1, naming="torch", scale=1.0, shift=0.0, about=""):
    def register(build):
        OP_CASES.append((name, input, batch, naming, 300 + len(OP_CASES), scale, shift, build, about))
        return build
    return register


# --- conv2d ---

@case("conv_k5s2p2g4_bias", (8, 12, 9), about="""
conv2d k=5 stride 2 pad 2 groups 4 with bias on a non-square 12x9 input:
8 -> 12 channels (2 in / 3 out per group), 6x5 output.""")
def _(n, x):
    return n.conv2d(x, 12, k=5, stride=2, pad=2, groups=4, bias=True, name="conv")


@case("conv_k1s2p0", (5, 7, 10), batch=2, about="""
conv2d k=1 stride 2 pad 0 (bias left out: false), 5 -> 6 channels, 7x10 -> 4x5, batch 2.""")
def _(n, x):
    return n.conv2d(x, 6, k=1, stride=2, pad=0, name="proj")


@case("conv_dw6_k3", (6, 7, 8), batch=3, about="""
Depthwise conv2d: groups = C = out = 6, k=3 (pad left out: 1), bias, 7x8, batch 3.""")
def _(n, x):
    return n.conv2d(x, 6, k=3, groups=6, bias=True, name="dw")


@case("conv_k7s3p0", (2, 17, 20), about="""
conv2d k=7 stride 3 pad 0, 2 -> 4 channels on 17x20 -> 4x5 (the last rows and
columns of the input are not read).""")
def _(n, x):
    return n.conv2d(x, 4, k=7, stride=3, pad=0, name="conv")


@case("conv_k3p0_5x5", (3, 5, 5), batch=2, about="""
Valid (pad 0) k=3 convolutions: 5x5 -> 3x3, relu, then 3x3 -> 1x1 (a 4-D
N x 4 x 1 x 1 output); batch 2.""")
def _(n, x):
    y = n.relu(n.conv2d(x, 5, k=3, pad=0, bias=True, name="c1"))
    return n.conv2d(y, 4, k=3, pad=0, name="c2")


@case("conv_k2s2", (3, 8, 11), about="""
Even kernel: conv2d k=2 stride 2 pad 0, 3 -> 5 channels, 8x11 -> 4x5.""")
def _(n, x):
    return n.conv2d(x, 5, k=2, stride=2, pad=0, name="patch")


@case("conv_even_pad", (3, 5, 6), about="""
Even kernels with padding: k=2 stride 1 with pad left out (k // 2 = 1, so the
output grows to 6x7), relu, then k=4 stride 2 pad 1 -> 3x3.""")
def _(n, x):
    y = n.relu(n.conv2d(x, 4, k=2, name="c1"))
    return n.conv2d(y, 5, k=4, stride=2, pad=1, bias=True, name="c2")


@case("conv_bias_bn_relu", (4, 6, 7), batch=2, about="""
conv2d with bias, then batchnorm and relu (all fused: bias and BN folded into
the weights), 4 -> 8 channels, 6x7, batch 2.""")
def _(n, x):
    return n.relu(n.batchnorm(n.conv2d(x, 8, k=3, bias=True, name="conv"), "bn"))


# --- pooling ---

@case("maxpool_k3s2p1", (3, 9, 11), batch=2, about="""
maxpool k=3 stride 2 pad 1 on odd 9x11 -> 5x6, batch 2.""")
def _(n, x):
    return n.maxpool(x, 3, stride=2, pad=1)


@case("maxpool_k3s1p1_neg", (4, 6, 7), shift=-3.0, about="""
maxpool k=3 stride 1 pad 1 on 6x7 with the input shifted by -3 (nearly all
negative): padding must count as -inf, not 0.""")
def _(n, x):
    return n.maxpool(x, 3, stride=1, pad=1)


@case("maxpool_k2s2_odd", (3, 7, 9), batch=2, about="""
maxpool k=2 (stride and pad left out: 2 and 0) on odd 7x9: floor mode -> 3x4,
the last row and column are dropped; batch 2.""")
def _(n, x):
    return n.maxpool(x, 2)


@case("avgpool_k3s2p1", (3, 9, 10), about="""
avgpool k=3 stride 2 pad 1 on 9x10 -> 5x5; count_include_pad (border windows
divide by 9).""")
def _(n, x):
    return n.avgpool(x, 3, stride=2, pad=1)


@case("avgpool_k3s2p1_excl", (3, 9, 10), about="""
avgpool k=3 stride 2 pad 1 on 9x10 -> 5x5, count_include_pad = false (border
windows divide by the taps inside: 4 or 6).""")
def _(n, x):
    return n.avgpool(x, 3, stride=2, pad=1, count_include_pad=False)


@case("avgpool_k2", (4, 7, 8), batch=2, about="""
avgpool k=2 (stride left out: 2) on 7x8 -> 3x4 (floor mode), batch 2.""")
def _(n, x):
    return n.avgpool(x, 2)


# --- softmax, linear, batchnorm ---

@case("softmax_4d", (4, 5, 6), batch=2, about="""
softmax of a 4-D tensor: over the 7 channels at each pixel of a 1x1 conv's
output (the softmax is the output), batch 2.""")
def _(n, x):
    return n.softmax(n.conv2d(x, 7, k=1, bias=True, name="conv"))


@case("softmax_big", (6, 3, 4), scale=40.0, about="""
softmax straight on the network input, scaled by 40 (|x| up to ~100: exp
overflows float32 unless it is shifted by the maximum).""")
def _(n, x):
    return n.softmax(x)


@case("linear_softmax", (3, 4, 5), batch=2, about="""
flatten (3x4x5 -> 60 features, in C, H, W order), linear 60 -> 10, softmax
over the features; batch 2, output [2, 10].""")
def _(n, x):
    return n.softmax(n.linear(n.flatten(x), 10, name="fc"))


@case("linear_nobias", (6, 2, 2), about="""
linear without bias, 24 -> 9 (9 is not a multiple of the 4-output block).""")
def _(n, x):
    return n.linear(n.flatten(x), 9, bias=False, name="fc")


@case("linear_bn1d_relu", (5, 3, 3), batch=3, about="""
flatten, linear 45 -> 12, batchnorm on the flat tensor (BatchNorm1d, folded
into the linear), relu, linear 12 -> 5; batch 3.""")
def _(n, x):
    y = n.relu(n.batchnorm(n.linear(n.flatten(x), 12, name="fc1"), "bn"))
    return n.linear(y, 5, name="fc2")


@case("flatten_bn_linear", (4, 3, 3), batch=2, about="""
conv2d, flatten (36 features), a standalone BatchNorm1d on the flattened
tensor (no producer to fold into), relu, linear 36 -> 6; batch 2.""")
def _(n, x):
    y = n.flatten(n.conv2d(x, 4, k=3, name="conv"))
    return n.linear(n.relu(n.batchnorm(y, "bn")), 6, name="fc")


@case("flatten_output", (3, 4, 5), batch=2, about="""
conv2d, relu, flatten as the network output (a view: output [2, 80]).""")
def _(n, x):
    return n.flatten(n.relu(n.conv2d(x, 4, k=3, name="conv")))


@case("bn_relu_input", (5, 4, 6), batch=2, about="""
A standalone batchnorm (eps = 1e-3) and relu directly on the network input; batch 2.""")
def _(n, x):
    return n.relu(n.batchnorm(x, "bn", eps=1e-3))


# --- add ---

@case("add_relu_maxpool", (4, 6, 7), about="""
add of two branches no producer owns: relu(x) + maxpool(x, k=3 stride 1 pad 1).""")
def _(n, x):
    return n.add(n.relu(x), n.maxpool(x, 3, stride=1, pad=1))


@case("add_two_convs", (4, 6, 5), batch=3, about="""
add whose operands are both conv outputs: conv a (k=3, bias) and conv b (k=1)
+ batchnorm, relu after the add; batch 3.""")
def _(n, x):
    a = n.conv2d(x, 6, k=3, bias=True, name="a")
    b = n.batchnorm(n.conv2d(x, 6, k=1, name="b"), "bn")
    return n.relu(n.add(a, b))


@case("add_self", (3, 5, 4), about="""
add(y, y) of one conv output, then relu.""")
def _(n, x):
    y = n.conv2d(x, 4, k=3, name="conv")
    return n.relu(n.add(y, y))


@case("residual_input", (6, 5, 7), batch=2, about="""
Residual add whose shortcut is the network input itself:
relu(batchnorm(conv2d(x)) + x), 6 -> 6 channels, 5x7, batch 2.""")
def _(n, x):
    y = n.batchnorm(n.conv2d(x, 6, k=3, name="conv"), "bn")
    return n.relu(n.add(y, x))


@case("linear_residual", (3, 2, 2), batch=2, about="""
Residual add between linear outputs: h = relu(fc1(flatten(x))), 12 -> 16;
relu(fc2(h) + h); fc3 16 -> 3; batch 2.""")
def _(n, x):
    h = n.relu(n.linear(n.flatten(x), 16, name="fc1"))
    y = n.relu(n.add(n.linear(h, 16, name="fc2"), h))
    return n.linear(y, 3, name="fc3")


# --- global average pool, shortcut_a ---

@case("gap_fused_linear", (3, 6, 6), batch=2, about="""
conv2d, batchnorm, relu, global_avgpool (all fused into the conv), flatten,
linear 8 -> 5; batch 2.""")
def _(n, x):
    y = n.relu(n.batchnorm(n.conv2d(x, 8, k=3, name="conv"), "bn"))
    return n.linear(n.flatten(n.global_avgpool(y)), 5, name="fc")


@case("gap_standalone", (4, 7, 7), about="""
maxpool k=2, a standalone global_avgpool (no producer before it), flatten,
linear 4 -> 3 without bias.""")
def _(n, x):
    y = n.global_avgpool(n.maxpool(x, 2))
    return n.linear(n.flatten(y), 3, bias=False, name="fc")


@case("shortcut_a_plain", (4, 7, 9), batch=2, about="""
shortcut_a out = 2 * C = 8 (stride left out: 2) on odd 7x9 -> 4x5, 2 zero
channels before and after; batch 2.""")
def _(n, x):
    return n.shortcut_a(x, 8)


@case("shortcut_a_s1", (3, 4, 5), about="""
shortcut_a out = 5, stride 1: only the channel padding (1 zero channel before and after).""")
def _(n, x):
    return n.shortcut_a(x, 5, stride=1)


@case("shortcut_a_block", (4, 7, 9), batch=2, about="""
An option-A residual block on odd 7x9: s = shortcut_a(x, out = 8, stride = 2),
then relu(batchnorm(conv2d k=3 stride 2 (4 -> 8)) + s) (the add fused into the
conv, since s exists first); batch 2.""")
def _(n, x):
    s = n.shortcut_a(x, 8, stride=2)
    y = n.batchnorm(n.conv2d(x, 8, k=3, stride=2, name="conv"), "bn")
    return n.relu(n.add(y, s))


# --- spconv beyond the layer cases ---

@case("spconv_g4", (16, 6, 6), about="""
spconv with groups = 4 (8 representative channels, 2 per group), 16 -> 8, 6x6.""")
def _(n, x):
    return n.spconv(x, 8, groups=4, name="sp")


@case("spconv_s2_2x2", (8, 2, 2), batch=2, about="""
spconv stride 2 on a 2x2 input (1x1 output), 8 -> 8; batch 2.""")
def _(n, x):
    return n.spconv(x, 8, stride=2, name="sp")


@case("spconv_h1", (8, 1, 5), about="""
spconv stride 1 on a one-row 1x5 input (the 3x3 window's top and bottom rows
never valid), 8 -> 6, bias "all".""")
def _(n, x):
    return n.spconv(x, 6, bias="all", name="sp")


@case("spconv_res_gap", (8, 6, 4), batch=2, about="""
spconv, batchnorm, residual add of the network input, relu and
global_avgpool (all fused into the spconv), flatten, linear 8 -> 4; batch 2.""")
def _(n, x):
    y = n.batchnorm(n.spconv(x, 8, ratio=0.5, name="sp"), "bn")
    y = n.global_avgpool(n.relu(n.add(y, x)))
    return n.linear(n.flatten(y), 4, name="fc")


# --- Paddle names ---

@case("paddle_conv_linear_bn", (3, 6, 5), batch=2, naming="paddle", about="""
Paddle names (BN _mean/_variance, linear weight stored [in, out]): conv2d,
batchnorm, relu, global_avgpool, flatten, linear 6 -> 8, BatchNorm1d, relu,
linear 8 -> 4; batch 2.""")
def _(n, x):
    y = n.relu(n.batchnorm(n.conv2d(x, 6, k=3, name="conv"), "bn"))
    y = n.linear(n.flatten(n.global_avgpool(y)), 8, name="fc1")
    y = n.relu(n.batchnorm(y, "bn1d"))
    return n.linear(y, 4, name="fc2")


@case("avgpool_excl_inner", (5, 9, 10), about="""
the same pool between two convolutions, 20 channels: with --simd the pool
runs channel-blocked (a padded last block at --simd 16), dividing border
windows by the taps inside.""")
def _(n, x):
    y = n.conv2d(x, 20, k=3, bias=True, name="a")
    y = n.avgpool(y, 3, stride=2, pad=1, count_include_pad=False)
    return n.conv2d(y, 6, k=1, name="b")


# --- 1x1 convolutions as GEMM tiles, and the GEMV (with --simd) ---

@case("conv1x1_blocked", (5, 20, 36), batch=2, about="""
1x1 convolutions over channel-blocked tensors (with --simd, GEMM tiles):
20 -> 36 at stride 1 (a padded last input block at --simd 16; bias,
batchnorm and relu in the store); a stride-2 1x1 shortcut 36 -> 24,
20x36 -> 10x18, with the residual add of a 3x3 stride-2 branch and relu in
its store (tiles within a row); stride-2 1x1s 24 -> 32, 10x18 -> 5x9, and
32 -> 32, 5x9 -> 3x5 (tiles of whole rows), relu and global_avgpool fused
into the last, and linear 32 -> 7 over the pooled blocked features; batch 2.""")
def _(n, x):
    y = n.relu(n.conv2d(x, 20, k=3, name="c0"))
    y = n.relu(n.batchnorm(n.conv2d(y, 36, k=1, bias=True, name="c1"), "bn1"))
    a = n.batchnorm(n.conv2d(y, 24, k=3, stride=2, name="c2"), "bn2")
    s = n.batchnorm(n.conv2d(y, 24, k=1, stride=2, name="down"), "bn3")
    y = n.relu(n.add(a, s))
    y = n.relu(n.conv2d(y, 32, k=1, stride=2, name="c3"))
    y = n.global_avgpool(n.relu(n.conv2d(y, 32, k=1, stride=2, name="c4")))
    return n.linear(n.flatten(y), 7, name="fc")


@case("conv1x1_output", (6, 9, 11), about="""
A 1x1 convolution 10 -> 19 with batchnorm over a blocked 9x11 input as the
network output (stored NCHW; 99 pixels, the last tile narrower).""")
def _(n, x):
    y = n.relu(n.conv2d(x, 10, k=3, name="c0"))
    return n.batchnorm(n.conv2d(y, 19, k=1, name="c1"), "bn")


@case("conv1x1_big_input", (1, 66, 64), about="""
1x1 convolutions over a blocked 128x66x64 input larger than L2 (with --simd,
the tile positions outside the output blocks): 128 -> 24 at stride 2
(66x64 -> 33x32, tiles within a row) and at stride 1, maxpool k=2 of the
latter, add, relu, and a stride-2 1x1 24 -> 8 as the NCHW output.""")
def _(n, x):
    t = n.relu(n.conv2d(x, 128, k=3, name="c0"))
    a = n.conv2d(t, 24, k=1, stride=2, name="down")
    b = n.maxpool(n.conv2d(t, 24, k=1, bias=True, name="c1"), 2)
    return n.conv2d(n.relu(n.add(a, b)), 8, k=1, stride=2, name="c2")


@case("conv_stem_k7s2p3", (3, 9, 61), batch=2, about="""
The 224 networks' stem: conv2d k=7 stride 2 pad 3, batchnorm and relu fused,
3 -> 20 channels (a padded last block at --simd 16) on 9x61 -> 5x31, rows
split into unequal tiles (16 + 15 pixels at --simd 16), then maxpool k=3
stride 2 pad 1 -> 3x16; batch 2.""")
def _(n, x):
    y = n.relu(n.batchnorm(n.conv2d(x, 20, k=7, stride=2, pad=3, name="conv1"), "bn1"))
    return n.maxpool(y, 3, stride=2, pad=1)


@case("blocked_bn_gap", (8, 6, 6), batch=2, about="""
A standalone batchnorm and a standalone global average pool on
channel-blocked tensors (with --simd): two 3x3 convs 8 -> 20 added, the
batchnorm of the sum (nothing to fold it into), a 3x3 conv whose output is
added to it, maxpool k=2 of that sum, its global average pool (nothing to
fuse it into), linear 20 -> 5; batch 2.""")
def _(n, x):
    t = n.batchnorm(n.add(n.conv2d(x, 20, k=3, name="c1"), n.conv2d(x, 20, k=3, name="c2")), "bn")
    g = n.global_avgpool(n.maxpool(n.add(n.conv2d(t, 20, k=3, name="c3"), t), 2))
    return n.linear(n.flatten(g), 5, name="fc")


def write_op_cases():
    for (name, shape, batch, naming, seed, scale, shift, build, about) in OP_CASES:
        torch.manual_seed(seed)
        n = SpecNet(name, shape, batch, naming)
        n.output(build(n, n.input))
        models.randomize(n, seed)
        x = models.random_input((batch,) + tuple(shape), seed + 1000) * scale + shift
        write_case(name, n, naming, "", x, n.spec(about))


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

    write_op_cases()


if __name__ == "__main__":
    main()
