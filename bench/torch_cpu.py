"""PyTorch's best CPU path against spgen, one thread, batch 1, for `make bench`
(scripts/bench.sh, part 4). For each SPConv network and its vanilla
counterpart (sp_resnet18 and resnet18 at 224, sp_resnet50 and resnet50 at
224, the CIFAR ResNet-18 pair at 32), from tests/golden/models.py (the
modules the goldens come from, the official SPConv_3x3), random weights:

  eager      model.eval() under torch.inference_mode()
  traced     torch.jit.trace, freeze, optimize_for_inference (oneDNN)
  scripted   torch.jit.script, freeze, optimize_for_inference; the official
             SPConv_3x3 cannot be scripted (it builds nn.Softmax in forward)

"PyTorch-best" is the fastest of the three. Medians of many runs, like
bench/timing.h. spgen's time comes from its bench/one.c binary for the
network, run by this script right after the PyTorch timings of its pair:

    python3 bench/torch_cpu.py [--spgen NAME=BINARY]...
"""
import argparse
import os
import re
import subprocess
import sys
import time
import warnings

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "golden"))
import models  # noqa: E402

# SPConv network, vanilla counterpart, input size, classes, goals of issue 16:
# spgen / PyTorch-best vanilla at most, PyTorch-best SP / spgen at least
PAIRS = (
    ("sp_resnet18", "resnet18", 224, 1000, 0.40, 2.0),
    ("sp_resnet50", "resnet50", 224, 1000, 0.70, 1.4),
    ("sp_resnet18_cifar", "resnet18_cifar", 32, 10, 0.25, 3.0),
)
PATHS = ("eager", "traced", "scripted")


def median_ms(fn, runs=21):
    for _ in range(3):
        fn()
    t = time.perf_counter()
    fn()
    one = time.perf_counter() - t
    reps = max(1, int(0.02 / max(one, 1e-6)))
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        for _ in range(reps):
            fn()
        times.append((time.perf_counter() - t) / reps * 1e3)
    return sorted(times)[runs // 2]


def time_paths(name, classes, x):
    """{path: ms or None}, {path: why it has no time}"""
    model = models.randomize(getattr(models, name)(classes), 1)
    ms, why = {}, {}
    with torch.inference_mode():
        ms["eager"] = median_ms(lambda: model(x))
    for path in ("traced", "scripted"):
        try:
            with torch.no_grad():
                m = torch.jit.trace(model, x) if path == "traced" else torch.jit.script(model)
                m = torch.jit.optimize_for_inference(torch.jit.freeze(m.eval()))
                ms[path] = median_ms(lambda: m(x))
        except Exception as e:  # the official SPConv_3x3 under torch.jit.script
            ms[path], why[path] = None, str(e).strip().splitlines()[0][:80]
    return ms, why


def spgen_ms(binary):
    out = subprocess.run([binary], check=True, capture_output=True, text=True).stdout
    m = re.search(r"median ([0-9.]+) ms per run", out)
    if not m:
        raise SystemExit("torch_cpu.py: no time in the output of %s: %r" % (binary, out))
    return float(m.group(1))


def fmt(v):
    return "-" if v is None else "%.2f" % v


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spgen", action="append", default=[], metavar="NAME=BINARY",
                    help="spgen's bench/one.c binary for network NAME")
    a = ap.parse_args()
    binaries = dict(s.split("=", 1) for s in a.spgen)
    warnings.filterwarnings("ignore")  # the tracer on SPConv's channel split
    torch.set_num_threads(1)  # PyTorch's defaults otherwise (not the goldens' deterministic mode)
    print("PyTorch %s, %d thread, batch 1, oneDNN %s; medians" % (
        torch.__version__, torch.get_num_threads(), torch.backends.mkldnn.is_available()))
    print()
    print("| model | input | eager ms | traced ms | scripted ms | PyTorch-best ms |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    rows, notes = [], []
    for sp, vanilla, size, classes, goal_vanilla, goal_sp in PAIRS:
        x = torch.randn(1, 3, size, size)
        best = {}
        for name in (sp, vanilla):
            ms, why = time_paths(name, classes, x)
            path = min((p for p in PATHS if ms[p] is not None), key=lambda p: ms[p])
            best[name] = ms[path]
            print("| %s | %dx%d | %s | %s | %s | %.2f (%s) |" % (name, size, size, fmt(ms["eager"]), fmt(ms["traced"]),
                                                          fmt(ms["scripted"]), ms[path], path))
            notes += ["%s, no %s time: %s" % (name, p, w) for p, w in why.items()]
            sys.stdout.flush()
        s = spgen_ms(binaries[sp]) if sp in binaries else None
        rows.append((sp, s, best[vanilla], best[sp], goal_vanilla, goal_sp))
    print()
    for note in notes:
        print(note)
    print()
    print("| network | spgen ms | PyTorch-best vanilla ms | PyTorch-best SP ms | spgen / vanilla (goal) |"
          " PyTorch SP / spgen (goal) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for sp, s, v, p, goal_vanilla, goal_sp in rows:
        print("| %s | %s | %.2f | %.2f | %s (<= %.2f) | %s (>= %.1f) |" % (
            sp, fmt(s), v, p, fmt(s / v) if s else "-", goal_vanilla, fmt(p / s) if s else "-", goal_sp))


if __name__ == "__main__":
    main()
