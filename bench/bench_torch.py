"""The PyTorch side of `make bench-cuda` (scripts/bench_cuda.sh runs it after
spgen's own timings): first the cuDNN vanilla 3x3 conv of each SPConv
layer's shape at batch 1 beside spgen's time for that layer; then PyTorch
eager and one CUDA graph replay on sp_resnet18_cifar and resnet18_cifar at
batch 1 and 256; then torch.compile (mode "reduce-overhead", static shapes)
on the same, the slow part, after which the whole-network table is printed
again, complete. fp32 with TF32 off, the models of tests/golden/models.py
(the ones the zoo specs match). Prints markdown tables with the ratios to
spgen.

    python3 bench/bench_torch.py [--spgen-only] WORK

WORK is scripts/bench_cuda.sh's directory: spgen.txt (one line per network
and batch), NET_layers.txt (per-layer medians) and NET_b1/NET.cu (the layer
names, from the comments). Timing: warm-up, then the median over 31 samples
of 20 back-to-back calls between CUDA events; per inference of the batch.
Environment: BENCH_COMPILE=0 skips torch.compile.
"""
import argparse
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
NETS = ("sp_resnet18_cifar", "resnet18_cifar")
BATCHES = (1, 256)
RUNS, REPS, WARM = 31, 20, 20


def read_spgen(work):
    """{(net, batch): ms}, {net: {layer: ms}}, {net: {layer: (op, name)}}"""
    whole, layers, labels = {}, {}, {}
    pat = re.compile(r"spgen (\w+) batch (\d+): median ([\d.]+) ms")
    with open(os.path.join(work, "spgen.txt")) as f:
        for line in f:
            m = pat.match(line)
            if m:
                whole[(m.group(1), int(m.group(2)))] = float(m.group(3))
    for net in NETS:
        path = os.path.join(work, net + "_layers.txt")
        if os.path.exists(path):
            with open(path) as f:
                layers[net] = {int(p[2]): float(p[3]) for p in (l.split() for l in f) if len(p) == 4}
        cu = os.path.join(work, net + "_b1", net + ".cu")
        if os.path.exists(cu):
            with open(cu) as f:
                labels[net] = {int(m.group(1)): (m.group(2), m.group(3))
                               for m in re.finditer(r"^ \* layer (\d+): (\w+) '([^']*)'", f.read(), re.M)}
    return whole, layers, labels


def median_ms(torch, fn):
    """Median over RUNS samples of REPS calls, ms per call."""
    start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    for _ in range(WARM):
        fn()
    torch.cuda.synchronize()
    t = []
    for _ in range(RUNS):
        start.record()
        for _ in range(REPS):
            fn()
        stop.record()
        stop.synchronize()
        t.append(start.elapsed_time(stop) / REPS)
    t.sort()
    return t[len(t) // 2]


def graphed(torch, fn):
    """fn captured into one CUDA graph (after a warm-up on a side stream);
    returns the replay."""
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        for _ in range(3):
            fn()
    torch.cuda.current_stream().wait_stream(s)
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        fn()
    return g.replay


def fmt(v):
    return "-" if v is None else "%.4f" % v


def ratio(a, b):
    return "-" if a is None or b is None else "%.2f" % (a / b)


def print_whole(whole, torch_ms):
    print()
    print("| network | batch | spgen ms | eager ms | CUDA graph ms | torch.compile ms | eager/spgen | graph/spgen | compile/spgen |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for net in NETS:
        for batch in BATCHES:
            s = whole.get((net, batch))
            t = torch_ms.get((net, batch), {})
            print("| %s | %d | %s | %s | %s | %s | %s | %s | %s |" % (
                net, batch, fmt(s), fmt(t.get("eager")), fmt(t.get("graph")), fmt(t.get("compile")),
                ratio(t.get("eager"), s), ratio(t.get("graph"), s), ratio(t.get("compile"), s)))
    sys.stdout.flush()


def print_layers(layers, labels, vanilla):
    sp = [(i, name) for i, (op, name) in sorted(labels.get("sp_resnet18_cifar", {}).items()) if op == "spconv"]
    if not sp:
        return
    print()
    print("sp_resnet18_cifar, batch 1, per SPConv layer (spgen: its kernels launched one by one, events between"
          " layers; where the layer before sums this layer's input statistics in its store, that time is the"
          " layer before's; cuDNN: the vanilla 3x3 conv of the same shape, replayed from a CUDA graph)")
    print()
    print("| layer | spgen ms | cuDNN vanilla 3x3 ms | vanilla/spgen |")
    print("| --- | ---: | ---: | ---: |")
    for i, name in sp:
        s = layers.get("sp_resnet18_cifar", {}).get(i)
        print("| %d %s | %s | %s | %s |" % (i, name, fmt(s), fmt(vanilla.get(name)), ratio(vanilla.get(name), s)))
    sys.stdout.flush()


def time_vanilla(torch, models):
    """{SPConv layer name: ms of cuDNN's vanilla 3x3 conv of its shape}, batch 1"""
    model = models.randomize(models.sp_resnet18_cifar(classes=10), 1).cuda().eval()
    shapes = {}
    hooks = [m.register_forward_hook(lambda m, i, o, n=n: shapes.__setitem__(n, (i[0].shape, m.outplanes, m.stride)))
             for n, m in model.named_modules() if isinstance(m, models.SPConv_3x3)]
    with torch.no_grad():
        model(torch.randn(1, 3, 32, 32, device="cuda"))
    for h in hooks:
        h.remove()
    vanilla = {}
    with torch.no_grad():
        for name, (ishape, cout, stride) in shapes.items():
            conv = torch.nn.Conv2d(ishape[1], cout, 3, stride, 1, bias=False).cuda().eval()
            x = torch.randn(*ishape, device="cuda")
            vanilla[name] = median_ms(torch, graphed(torch, lambda: conv(x)))
    return vanilla


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("work")
    ap.add_argument("--spgen-only", action="store_true", help="print spgen's figures only (no torch)")
    a = ap.parse_args()
    whole, layers, labels = read_spgen(a.work)
    if a.spgen_only:
        print_whole(whole, {})
        print_layers(layers, labels, {})
        return
    import torch
    sys.path.insert(0, os.path.join(ROOT, "tests", "golden"))
    import models
    models.setup_torch()
    torch.use_deterministic_algorithms(False)
    torch.backends.cudnn.benchmark = True
    torch.set_float32_matmul_precision("highest")
    print("PyTorch %s, %s; TF32 off" % (torch.__version__, torch.cuda.get_device_name()))
    # the quick figures first, printed before torch.compile's minutes of
    # compiling, so that a run cut short still has them
    print_layers(layers, labels, time_vanilla(torch, models))
    nets = {net: models.randomize(getattr(models, net)(classes=10), 1).cuda().eval() for net in NETS}
    inputs = {b: torch.randn(b, 3, 32, 32, device="cuda") for b in BATCHES}
    torch_ms = {}
    with torch.no_grad():
        for net, model in nets.items():
            for batch, x in inputs.items():
                row = torch_ms[(net, batch)] = {}
                row["eager"] = median_ms(torch, lambda: model(x))
                row["graph"] = median_ms(torch, graphed(torch, lambda: model(x)))
                print("torch %s batch %d: eager %.4f ms, graph %.4f ms" % (net, batch, row["eager"], row["graph"]))
    print_whole(whole, torch_ms)
    if os.environ.get("BENCH_COMPILE", "1") == "0":
        return
    with torch.no_grad():
        for (net, batch), row in torch_ms.items():
            try:
                # static shapes: one compile per batch, not a dynamic-shape
                # kernel for the second batch
                cm = torch.compile(nets[net], mode="reduce-overhead", dynamic=False)
                x = inputs[batch]
                row["compile"] = median_ms(torch, lambda: cm(x))
                print("torch.compile %s batch %d: %.4f ms" % (net, batch, row["compile"]))
            except Exception as e:  # no triton, no compiler: say so, go on
                print("torch.compile %s batch %d: failed: %s" % (net, batch, str(e).splitlines()[0]))
            sys.stdout.flush()
    print_whole(whole, torch_ms)


if __name__ == "__main__":
    main()
