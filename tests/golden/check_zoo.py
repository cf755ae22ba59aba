"""Offline end-to-end check of one model-zoo network against PyTorch.

Not part of the test suite (it needs torch). Run with Debian's python:

    /usr/bin/python3 tests/golden/check_zoo.py NET [--size S] [--batch N] [options]

NET: sp_resnet18 sp_resnet50 resnet18_cifar sp_resnet18_cifar sp_resnet20_cifar
     sp_vgg16_cifar, paddle18 (sp_resnet18, classes 10, bias "all", Paddle
     names: the spec specs/sp_resnet18.lua with --set naming=paddle), and
     spconv_layer (specs/spconv_layer.lua: one spconv + BN + ReLU, to test this
     script itself; --cin/--out/--stride set its shape).

Steps: build the PyTorch model (models.py), randomize weights and BN statistics,
export a safetensors file in the net's naming, draw a random input, compute the
reference (float64 forward on the float32 weights, unless --float32), run

    build/spgen specs/<spec>.lua --weights W --set size=S --set classes=K
        --set ratio=A --set naming=... --set bias=... --batch N -o DIR

build the emitted runner with make, run it on the input and print
max|got - ref| / max|ref| (the project's metric). Exit 0 when every compared
output is within --tol (default 1e-4), 1 otherwise.
Optionally (--ref-net) the same weights and input also go through the
project's C reference build/ref_net, and (--cuda) through <name>_run_cuda when
the Makefile built one.
"""
import argparse
import contextlib
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import models  # noqa: E402

STRICT = "-std=c99 -O2 -Wall -Wextra -Werror -pedantic"

# net -> (spec, ref_net arch, constructor, classes, size, naming, bias)
NETS = {name: ("specs/%s.lua" % name, name, ctor, classes, size, "torch", "official")
        for name, (ctor, classes, size, _) in models.ZOO.items()}
NETS["paddle18"] = ("specs/sp_resnet18.lua", "sp_resnet18", models.sp_resnet18, 10, 224,
                    "paddle", "all")
NETS["spconv_layer"] = ("specs/spconv_layer.lua", None, None, None, 32, "torch", "official")


def run(cmd, what, cwd=None):
    t = time.time()
    p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if p.returncode != 0:
        sys.stderr.write(p.stdout)
        raise SystemExit("FAIL %s: exit %d: %s" % (what, p.returncode, " ".join(cmd)))
    return time.time() - t


def net_args(ap, nets):
    """The arguments that choose the network and its shape."""
    ap.add_argument("net", choices=sorted(nets))
    ap.add_argument("--size", type=int, help="input height = width (default: 224 ImageNet, 32 CIFAR)")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--classes", type=int)
    ap.add_argument("--ratio", type=float, default=0.5)


def build_runner(gen, cflags, net):
    """make in the generated directory GEN; returns its one *_run and make's time."""
    t = run(["make", "-s", "-C", gen, "CFLAGS=" + cflags], "make")
    runners = [p for p in glob.glob(os.path.join(gen, "*_run")) if os.access(p, os.X_OK)]
    if len(runners) != 1:
        raise SystemExit("FAIL %s: expected one *_run in %s, found %s" % (net, gen, runners))
    return runners[0], t


@contextlib.contextmanager
def work_dir(prefix, keep):
    """A new temporary directory, removed afterwards unless keep."""
    work = tempfile.mkdtemp(prefix=prefix)
    try:
        yield work
    finally:
        if keep:
            print("kept", work)
        else:
            shutil.rmtree(work, ignore_errors=True)


def compare(label, got, ref, tol):
    note = ""
    if got.shape != ref.shape:
        if got.size != ref.size:
            print("FAIL %s: shape %s, reference %s" % (label, got.shape, ref.shape))
            return False
        note = " (shape %s, reference %s)" % (tuple(got.shape), tuple(ref.shape))
        got = got.reshape(ref.shape)
    if not np.all(np.isfinite(got)):
        print("FAIL %s: output holds NaN or infinity" % label)
        return False
    d = np.abs(got.astype(np.float64) - ref.astype(np.float64))
    rel = d.max() / max(np.abs(ref).max(), 1e-30)
    ok = rel <= tol
    print("%s %s: max_abs=%.3g rel=%.3g tol=%.3g max|ref|=%.3g%s"
          % ("PASS" if ok else "FAIL", label, d.max(), rel, tol, np.abs(ref).max(), note))
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    net_args(ap, NETS)
    ap.add_argument("--bias", choices=models.BIASES, help="override the net's bias flag")
    ap.add_argument("--naming", choices=("torch", "paddle"), help="override the net's naming")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--spec", help="spec file instead of the net's default")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="extra --set passed to spgen")
    ap.add_argument("--cin", type=int, default=64, help="spconv_layer only")
    ap.add_argument("--out", type=int, default=64, help="spconv_layer only")
    ap.add_argument("--stride", type=int, default=1, help="spconv_layer only")
    ap.add_argument("--float32", action="store_true", help="float32 PyTorch forward as the reference")
    ap.add_argument("--cflags", default=STRICT)
    ap.add_argument("--ref-net", action="store_true", help="also compare build/ref_net")
    ap.add_argument("--cuda", action="store_true", help="also compare <name>_run_cuda if built")
    ap.add_argument("--spgen", default=os.path.join(ROOT, "build", "spgen"))
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    a = ap.parse_args()

    spec, arch, ctor, classes, size, naming, bias = NETS[a.net]
    spec = a.spec or os.path.join(ROOT, spec)
    size = a.size or size
    classes = a.classes or classes
    naming = a.naming or naming
    bias = a.bias or bias
    models.setup_torch()
    torch.manual_seed(a.seed)

    sets = ["size=%d" % size, "ratio=%g" % a.ratio, "naming=" + naming, "bias=" + bias]
    if a.net == "spconv_layer":
        model = models.SPConvLayerNet(a.cin, a.out, a.stride, a.ratio, bias)
        sets += ["cin=%d" % a.cin, "out=%d" % a.out, "stride=%d" % a.stride]
        cin = a.cin
    else:
        model = ctor(classes=classes, ratio=a.ratio, bias=bias)
        sets.append("classes=%d" % classes)
        cin = 3
    sets += a.set
    models.randomize(model, a.seed)
    x = models.random_input((a.batch, cin, size, size), a.seed + 1000)
    t = time.time()
    try:
        with torch.no_grad():
            ref = (model(x) if a.float32 else models.reference(model, x)).numpy()
    except RuntimeError as e:
        print("FAIL %s: the PyTorch model rejects this shape: %s" % (a.net, str(e).splitlines()[0]))
        return 1
    t_ref = time.time() - t
    print("%s: %s params, input %s, output %s, ratio %g, naming %s, bias %s (torch %.1fs)"
          % (a.net, "{:,}".format(models.count_params(model)), tuple(x.shape), tuple(ref.shape),
             a.ratio, naming, bias, t_ref))

    ok = True
    with work_dir("spgen-zoo-", a.keep) as work:
        w = os.path.join(work, "weights.safetensors")
        models.write_safetensors(w, models.export_state(model, naming))
        fin, fref = os.path.join(work, "in.npy"), os.path.join(work, "ref.npy")
        models.save_npy(fin, x.numpy())
        models.save_npy(fref, ref)
        gen = os.path.join(work, "gen")
        cmd = [a.spgen, spec, "--weights", w, "--batch", str(a.batch), "-o", gen]
        for s in sets:
            cmd += ["--set", s]
        t_gen = run(cmd, "spgen")
        runner, t_make = build_runner(gen, a.cflags, a.net)
        todo = [("c", runner)]
        if a.cuda:
            cu = runner + "_cuda"
            if os.access(cu, os.X_OK):
                todo.append(("cuda", cu))
            else:
                print("SKIP %s/cuda: no %s built" % (a.net, os.path.basename(cu)))
        print("spgen %.1fs, make %.1fs" % (t_gen, t_make))
        for kind, exe in todo:
            got_path = os.path.join(work, "got_%s.npy" % kind)
            t_run = run([exe, fin, got_path], exe)
            ok &= compare("%s/%s (run %.2fs)" % (a.net, kind, t_run), np.load(got_path), ref, a.tol)
        if a.ref_net:
            if arch is None:
                print("SKIP %s/ref_net: no ref_net arch for this net" % a.net)
            else:
                rn = os.path.join(work, "ref_net.npy")
                run([os.path.join(ROOT, "build", "ref_net"), "--arch", arch, "--classes", str(classes),
                     "--ratio", "%g" % a.ratio, "--naming", naming, "--bias", bias, "--size", str(size),
                     "--batch", str(a.batch), w, fin, rn], "ref_net")
                ok &= compare("%s/ref_net" % a.net, np.load(rn), ref, a.tol)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
