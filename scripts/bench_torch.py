#!/usr/bin/env python3
"""PyTorch peer of ConvKit's benchmark (Benchmarks/ConvKitBenchmarks).

Prints "torch VERSION", then for each JSON workload read from stdin prints
{"seconds": median seconds of one run}, timed the way the Swift side times ConvKit:
a warm-up, then repeats until 0.5 s have passed (3 to 5,000 runs); a workload marked
"once" (a whole run end to end) is timed once, without a warm-up.
"""
import gzip
import json
import os
import struct
import sys
import time

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError:
    print("no torch in " + sys.executable, flush=True)
    sys.exit(1)

torch.set_num_threads(os.cpu_count() or 1)
torch.manual_seed(1)
MIN_TIME = float(os.environ.get("CONVKIT_BENCH_MIN_TIME", "0.5"))


def settle_allocator():
    """Free one large block first, as any real PyTorch run does within its first steps.

    glibc raises its mmap threshold to the size of a freed mmapped block (up to 32 MiB), so
    later multi-megabyte tensors come from the heap instead of fresh, page-faulting mappings.
    Without this, whichever workload runs first pays ~10x for page faults (64x1x28^2 conv:
    5 ms instead of 0.5 ms), and the comparison would depend on the order of workloads.
    ConvKit's side gets the same effect from ProcessMemory.keepFreedMemory().
    """
    block = torch.empty(30 << 18)  # 30 MiB of float32
    block.fill_(0)
    del block


def measure(fn, once=False):
    if once:
        t0 = time.perf_counter()
        fn()
        return time.perf_counter() - t0
    fn()
    times, start = [], time.perf_counter()
    while len(times) < 3 or (len(times) < 5000 and time.perf_counter() - start < MIN_TIME):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2]


def course_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10))


def read_idx(path):
    """An IDX file (gzip), as a uint8 tensor of its shape."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return torch.frombuffer(bytearray(data[4 + 4 * dims:]), dtype=torch.uint8).reshape(shape)


def course_run(folder, epochs):
    """ConvKit's `Trainer.fit` run as a PyTorch user writes it: read and normalise the digits,
    Adam 0.001, shuffled batches of 64 with the running loss and accuracy, then evaluation
    (eval mode, no_grad, batches of 256: loss and accuracy) after every epoch."""
    def load(prefix):
        images = read_idx(os.path.join(folder, prefix + "-images-idx3-ubyte.gz")).float().div_(255).unsqueeze(1)
        labels = read_idx(os.path.join(folder, prefix + "-labels-idx1-ubyte.gz")).long()
        return (images - 0.1307) / 0.3081, labels
    x, y = load("train")
    xt, yt = load("t10k")
    model = course_cnn()
    opt = torch.optim.Adam(model.parameters(), lr=0.001)
    generator = torch.Generator().manual_seed(1)
    for _ in range(epochs):
        model.train()
        loss_sum, correct = 0.0, 0
        for batch in torch.randperm(len(x), generator=generator).split(64):
            opt.zero_grad()
            out = model(x[batch])
            loss = F.cross_entropy(out, y[batch])
            loss.backward()
            opt.step()
            loss_sum += loss.item()
            correct += (out.argmax(1) == y[batch]).sum().item()
        model.eval()
        with torch.no_grad():
            test_loss, test_correct = 0.0, 0
            for i in range(0, len(xt), 256):
                out = model(xt[i:i + 256])
                test_loss += F.cross_entropy(out, yt[i:i + 256], reduction="sum").item()
                test_correct += (out.argmax(1) == yt[i:i + 256]).sum().item()


def torchvision_model(name):
    torch.library.register_fake = lambda *args, **kwargs: (lambda f: f)  # see export_torchvision_keys.py
    import torchvision.models as models
    return getattr(models, name)()


def sgd_step(model, images, labels):
    """One training step as ConvKit's side runs it: forward, cross-entropy, backward, SGD with momentum."""
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step():
        opt.zero_grad()
        F.cross_entropy(model(images), labels).backward()
        opt.step()
    return step


def workload(w):
    if w["kind"] == "gemm":
        a, b = torch.randn(w["m"], w["k"]), torch.randn(w["k"], w["n"])
        return lambda: torch.mm(a, b)
    if w["kind"] == "conv":
        size, backward = w["size"], w["pass"] == "backward"
        x = torch.randn(w["n"], w["c"], *size, requires_grad=backward)
        weight = (torch.randn(w["k"], w["c"] // w["groups"], *[w["kernel"]] * len(size)) * 0.1).requires_grad_(backward)
        conv = F.conv1d if len(size) == 1 else F.conv2d
        run = lambda: conv(x, weight, None, w["stride"], w["pad"], 1, w["groups"])
        if not backward:
            def forward():
                with torch.no_grad():
                    run()
            return forward
        g = torch.randn_like(run())

        def step():
            x.grad = weight.grad = None
            run().backward(g)
        return step
    if w["kind"] == "jpeg":
        # Pillow (libjpeg-turbo), one thread, to 8-bit RGB: what ConvKit's decoder does.
        import io
        from PIL import Image
        with open(w["file"], "rb") as f:
            data = f.read()

        def decode():
            with Image.open(io.BytesIO(data)) as image:
                image.load()
        return decode
    if w["kind"] == "course_run":
        return lambda: course_run(w["folder"], w["epochs"])
    if w["kind"] == "zoo_train":
        images, labels = torch.randn(w["batch"], 3, 224, 224), torch.arange(w["batch"]) % 1000
        return sgd_step(torchvision_model(w["model"]).train(), images, labels)
    if w["kind"] == "zoo":
        # torchvision's model in eval mode, eager, no fusion: what a PyTorch user runs.
        net = torchvision_model(w["model"]).eval()
        images = torch.randn(w["batch"], 3, 224, 224)

        def infer_zoo():
            with torch.no_grad():
                net(images)
        return infer_zoo
    model = course_cnn()
    images, labels = torch.randn(w["batch"], 1, 28, 28), torch.arange(w["batch"]) % 10
    if w["pass"] == "inference":
        def infer():
            with torch.no_grad():
                model(images)
        return infer
    return sgd_step(model, images, labels)


def memory_run(steps=200, batch=64):
    """The peak-memory comparison (same as ConvKit's MemoryRun): train, report peak RSS."""
    import resource
    model = course_cnn()
    images, labels = torch.randn(batch, 1, 28, 28), torch.arange(batch) % 10
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    for _ in range(steps):
        opt.zero_grad()
        F.cross_entropy(model(images), labels).backward()
        opt.step()
    # VmHWM is this address space's peak; ru_maxrss survives exec on Linux and would include
    # the peak of the (large) benchmark process that started this one.
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        with open("/proc/self/status") as status:
            peak_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        pass
    print(json.dumps({"peakMB": peak_kb / 1024}), flush=True)


if "--memory-run" in sys.argv:
    memory_run()
    sys.exit(0)

settle_allocator()
print("torch " + torch.__version__, flush=True)
for line in sys.stdin:
    if line.strip():
        w = json.loads(line)
        print(json.dumps({"seconds": measure(workload(w), w.get("once", False))}), flush=True)
