"""Offline end-to-end check of one model-zoo network through ONNX import.

Not part of the test suite (it needs torch and onnx). Run with Debian's python:

    /usr/bin/python3 tests/golden/check_onnx.py NET [--size S] [--batch N] [options]

NET: sp_resnet18 sp_resnet50 resnet18_cifar sp_resnet18_cifar sp_resnet20_cifar
     sp_vgg16_cifar (models.ZOO), sp_tiny_cifar (make_sp_tiny_cifar.py).

Steps: build the PyTorch model (models.py) at its full size, randomize weights
and BN statistics, draw a random input, compute the reference (float64
forward on the float32 weights), export the model with torch.onnx.export
(eval mode, --opset, the exporter's constant folding unless --bn-nodes), then

    build/spgen import NET.onnx -o DIR --name NET
    build/spgen DIR/NET.lua -o GEN

check that the imported spec has one `spconv(` call per SPConv_3x3 module,
build the emitted runner with make, run it on the input and print
max|got - ref| / max|ref| (the project's metric). Exit 0 when every SPConv
was recognised and the output is within --tol (default 1e-4), 1 otherwise.
"""
import argparse
import os
import re
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import check_zoo  # noqa: E402
import make_sp_tiny_cifar  # noqa: E402
import models  # noqa: E402

# net -> (constructor, classes, input size)
NETS = {name: (ctor, classes, size) for name, (ctor, classes, size, _) in models.ZOO.items()}
NETS["sp_tiny_cifar"] = (make_sp_tiny_cifar.SPTinyCifar, 10, 32)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    check_zoo.net_args(ap, NETS)
    ap.add_argument("--bias", choices=models.BIASES, default="official")
    ap.add_argument("--opset", type=int, default=13)
    ap.add_argument("--bn-nodes", action="store_true",
                    help="export without constant folding, so every batchnorm stays a node")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--cflags", default=check_zoo.STRICT)
    ap.add_argument("--spgen", default=os.path.join(ROOT, "build", "spgen"))
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    a = ap.parse_args()

    ctor, classes, size = NETS[a.net]
    size = a.size or size
    classes = a.classes or classes
    models.setup_torch()
    torch.manual_seed(a.seed)
    model = models.randomize(ctor(classes=classes, ratio=a.ratio, bias=a.bias), a.seed)
    x = models.random_input((a.batch, 3, size, size), a.seed + 1000)
    spconvs = sum(isinstance(m, models.SPConv_3x3) for m in model.modules())
    t = time.time()
    ref = models.reference(model, x).numpy()
    print("%s: %s params, %d SPConv, input %s, output %s, ratio %g, bias %s, opset %d%s (torch %.1fs)"
          % (a.net, "{:,}".format(models.count_params(model)), spconvs, tuple(x.shape), tuple(ref.shape),
             a.ratio, a.bias, a.opset, ", batchnorms as nodes" if a.bn_nodes else "", time.time() - t))

    ok = True
    with check_zoo.work_dir("spgen-onnx-", a.keep) as work:
        onnx_path = os.path.join(work, a.net + ".onnx")
        kw = dict(opset_version=a.opset, do_constant_folding=not a.bn_nodes)
        if a.bn_nodes:
            kw["training"] = torch.onnx.TrainingMode.PRESERVE
        t = time.time()
        with torch.no_grad():
            torch.onnx.export(model, x, onnx_path, **kw)
        t_export = time.time() - t
        fin, fref = os.path.join(work, "in.npy"), os.path.join(work, "ref.npy")
        models.save_npy(fin, x.numpy())
        models.save_npy(fref, ref)
        imp, gen = os.path.join(work, "import"), os.path.join(work, "gen")
        t_import = check_zoo.run([a.spgen, "import", onnx_path, "-o", imp, "--name", a.net], "spgen import")
        with open(os.path.join(imp, a.net + ".lua")) as f:
            found = len(re.findall(r"spconv\(", re.sub(r"--[^\n]*", "", f.read())))
        recognised = found == spconvs
        print("%s %s/spconv: the imported spec has %d spconv calls, the model %d SPConv modules"
              % ("PASS" if recognised else "FAIL", a.net, found, spconvs))
        ok &= recognised
        t_gen = check_zoo.run([a.spgen, os.path.join(imp, a.net + ".lua"), "-o", gen], "spgen")
        runner, t_make = check_zoo.build_runner(gen, a.cflags, a.net)
        print("export %.1fs, import %.1fs, spgen %.1fs, make %.1fs" % (t_export, t_import, t_gen, t_make))
        got_path = os.path.join(work, "got.npy")
        t_run = check_zoo.run([runner, fin, got_path], runner)
        ok &= check_zoo.compare("%s/onnx (run %.2fs)" % (a.net, t_run), np.load(got_path), ref, a.tol)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
