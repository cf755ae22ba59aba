"""PyTorch's CPU inference paths on the CIFAR ResNet-18 pair, one thread,
batch 1, for `make bench` (scripts/bench.sh, part 4):

  eager         model.eval() under torch.inference_mode()
  TorchScript   torch.jit.trace + freeze + optimize_for_inference (oneDNN)

Models from tests/golden/models.py (the same modules the goldens come from),
random weights. Medians of many runs, like bench/timing.h. With argv[1], the
output of bench/bench.c on sp_resnet18_cifar vs resnet18_cifar from the same
`make bench`, it prints spgen's time beside them and the ratios.
"""
import os
import re
import sys
import time
import warnings

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "golden"))
import models  # noqa: E402


def median_ms(fn, runs=21):
    for _ in range(3):
        fn()
    reps, t = 1, time.perf_counter()
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


def spgen_times(path):
    got = {}
    if path and os.path.exists(path):
        for line in open(path):
            m = re.match(r"(\S+)\s+([0-9.]+) ms", line)
            if m:
                got[m.group(1)] = float(m.group(2))
    return got


def main():
    warnings.filterwarnings("ignore")  # the tracer on SPConv's channel split
    torch.set_num_threads(1)
    models.setup_torch()
    spgen = spgen_times(sys.argv[1] if len(sys.argv) > 1 else None)
    x = torch.randn(1, 3, 32, 32)
    print("PyTorch %s, threads %d, oneDNN %s" % (torch.__version__, torch.get_num_threads(),
                                                   torch.backends.mkldnn.is_available()))
    print("%-20s %12s %14s %10s %16s" % ("", "eager ms", "TorchScript ms", "spgen ms", "spgen/TorchScript"))
    for name in ("sp_resnet18_cifar", "resnet18_cifar"):
        model = getattr(models, name)(10)
        models.randomize(model, 1)
        model.eval()
        with torch.inference_mode():
            eager = median_ms(lambda: model(x))
        with torch.no_grad():
            ts = torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.trace(model, x)))
            scripted = median_ms(lambda: ts(x))
        s = spgen.get(name)
        print("%-20s %12.3f %14.3f %10s %16s" % (name, eager, scripted, "%.3f" % s if s else "-",
                                                  "%.2f" % (s / scripted) if s else "-"))


if __name__ == "__main__":
    main()
