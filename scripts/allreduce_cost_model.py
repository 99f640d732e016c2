#!/usr/bin/env python3
"""Ring all-reduce cost model for data-parallel training (docs/DISTRIBUTED.md's tables).

Per optimizer step, each rank computes for `compute` seconds and all-reduces S bytes of
gradients in buckets of at most 25 MiB. A ring all-reduce of b bytes over N ranks sends
2(N-1)/N * b bytes per rank and takes 2(N-1) latency steps:
    t(b) = 2(N-1)/N * b / bandwidth + 2(N-1) * latency
Buckets start during backward (about 2/3 of a step's compute), so what a step waits for is
    exposed = max(sum of t(bucket) - 2/3 * compute, t(last bucket))
and the parallel efficiency is compute / (compute + exposed): the fraction of N times one
rank's throughput that N ranks reach. Usage: scripts/allreduce_cost_model.py [--latency-us 20]
"""
import argparse
import math

BUCKET = 25 * 2**20


def step_seconds(gradient_bytes, compute, ranks, bandwidth_bits, latency):
    if ranks == 1:
        return compute, 0.0
    bandwidth = bandwidth_bits / 8
    buckets = [BUCKET] * (gradient_bytes // BUCKET) + ([gradient_bytes % BUCKET] if gradient_bytes % BUCKET else [])
    t = [2 * (ranks - 1) / ranks * b / bandwidth + 2 * (ranks - 1) * latency for b in buckets]
    exposed = max(sum(t) - 2 / 3 * compute, t[-1])
    return compute + exposed, sum(t)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency-us", type=float, default=20.0, help="per-message latency (TCP over Ethernet: 10-50 us)")
    args = parser.parse_args()
    latency = args.latency_us * 1e-6
    workloads = [
        # name, gradient bytes, compute seconds per step (per rank), what the compute figure is
        ("course CNN, batch 64", int(1.7e6), 0.057, "measured: 1 thread of this machine"),
        ("ResNet-50, batch 32, CPU node", int(25.6e6 * 4), 4.0, "2 Zen 4 cores at ~100 GFLOP/s, 12 GFLOP per image"),
        ("ResNet-50, batch 64, fast node", int(25.6e6 * 4), 0.064, "an accelerator at 1,000 images/s"),
    ]
    ranks = [2, 4, 8, 16, 32, 64]
    for name, size, compute, source in workloads:
        print(f"\n{name}: {size / 1e6:.1f} MB of gradients, {compute * 1000:.0f} ms compute per step ({source})")
        print("| link | " + " | ".join(f"N = {n}" for n in ranks) + " |")
        print("|---" * (len(ranks) + 1) + "|")
        for gbits in (10, 25, 100):
            cells = []
            for n in ranks:
                total, communication = step_seconds(size, compute, n, gbits * 1e9, latency)
                cells.append(f"{100 * compute / total:.0f}% ({communication * 1000:.1f} ms)")
            print(f"| {gbits} Gb/s | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
