"""One benchmark workload run by one variant, in this process; prints a JSON line.

    python -m benchmarks.workloads WORKLOAD VARIANT [--seed S]

Workloads: mnist-15, mnist-128, mnist-1024 (document 004's net, the first epoch or its
first 4,000 steps, then test accuracy), regression (document 000's net, one sample per
step), xor (document 001's net, full batch), chain (1,000,000 scalar ops, build +
backward), memory (10,000 regression steps: resident memory must not grow).
Variants: autodiff (this project), numpy (by hand), torch (eager), micrograd.
"""
from __future__ import annotations

import argparse
import cProfile
import gc
import importlib
import io
import json
import pstats
import resource
import time
from pathlib import Path
from typing import Any

import numpy as np

VARIANT_MODULES = {"autodiff": "benchmarks.with_autodiff", "numpy": "benchmarks.by_hand",
                   "torch": "benchmarks.with_torch", "micrograd": "benchmarks.with_micrograd"}
MNIST_STEPS = 4000
HERE = Path(__file__).resolve().parent


def mnist_arrays(train: bool) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 784) float32 in [0, 1] and labels int64, from the project's loader."""
    from nn.data import MNIST
    data = MNIST(train=train, download=True)
    images = data.data.numpy().reshape(len(data), 784).astype(np.float32) / np.float32(255)
    return images, data.targets.numpy().astype(np.int64)


def run_mnist(variant: Any, batch: int, seed: int) -> dict[str, float]:
    images, labels = mnist_arrays(train=True)
    order = np.random.default_rng(seed).permutation(len(images))
    steps = min(MNIST_STEPS, len(images) // batch)
    batches = [(images[order[i * batch:(i + 1) * batch]], labels[order[i * batch:(i + 1) * batch]])
               for i in range(steps)]
    net = variant.MnistNet(seed)
    start = time.perf_counter()
    for x, y in batches:
        net.train_step(x, y)
    seconds = time.perf_counter() - start
    test_images, test_labels = mnist_arrays(train=False)
    accuracy = float((net.logits(test_images).argmax(axis=1) == test_labels).mean())
    return {"us_per_step": seconds / steps * 1e6, "steps": steps, "accuracy": accuracy}


def regression_data(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Document 000: x = linspace(0, 3, 100), target the noise-free line 2.3x + 4.7."""
    x = np.linspace(0, 3, 100, dtype=np.float32).reshape(100, 1)
    return x, (2.3 * x + 4.7).astype(np.float32)


def run_regression(variant: Any, seed: int, steps: int = 4000) -> dict[str, float]:
    x, y = regression_data(seed)
    net = variant.RegressionNet(seed)
    samples = [(x[i:i + 1], y[i:i + 1]) for i in range(len(x))]
    start = time.perf_counter()
    for step in range(steps):
        net.train_step(*samples[step % len(samples)])
    seconds = time.perf_counter() - start
    return {"us_per_step": seconds / steps * 1e6, "steps": steps}


def run_xor(variant: Any, seed: int, steps: int = 2000) -> dict[str, float]:
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    y = np.array([[0], [1], [1], [0]], dtype=np.float32)
    net = variant.XorNet(seed)
    start = time.perf_counter()
    for _ in range(steps):
        net.train_step(x, y)
    seconds = time.perf_counter() - start
    return {"us_per_step": seconds / steps * 1e6, "steps": steps}


def run_chain(n: int = 1_000_000) -> dict[str, float]:
    from benchmarks.engine import chain_times
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    build, backward = chain_times(n)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"build_us_per_op": build / n * 1e6, "backward_us_per_op": backward / n * 1e6,
            "us_per_op": (build + backward) / n * 1e6, "peak_mb": (peak - before) / 1024}


def resident_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2 ** 20


def run_memory(variant: Any, seed: int, steps: int = 10_000) -> dict[str, float]:
    x, y = regression_data(seed)
    net = variant.RegressionNet(seed)
    marks = {}
    for step in range(1, steps + 1):
        net.train_step(x[step % 100:step % 100 + 1], y[step % 100:step % 100 + 1])
        if step in (1000, steps):
            gc.collect()
            marks[step] = resident_mb()
    return {"rss_mb_at_1000": marks[1000], f"rss_mb_at_{steps}": marks[steps],
            "growth_mb": marks[steps] - marks[1000]}


def run(workload: str, variant_name: str, seed: int) -> dict[str, float]:
    if workload == "chain":
        return run_chain()
    variant = importlib.import_module(VARIANT_MODULES[variant_name])
    if workload.startswith("mnist-"):
        return run_mnist(variant, int(workload.split("-")[1]), seed)
    runners = {"regression": run_regression, "xor": run_xor, "memory": run_memory}
    return runners[workload](variant, seed)


def profile(workload: str, variant: str, seed: int, top: int = 15) -> str:
    """The run under cProfile: the functions that take the most time of their own."""
    profiler = cProfile.Profile()
    profiler.runcall(run, workload, variant, seed)
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(top)
    lines = text.getvalue().splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls"))
    return "\n".join(line.replace(str(HERE.parent) + "/", "") for line in lines[start - 1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload")
    parser.add_argument("variant", choices=sorted(VARIANT_MODULES))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--profile", action="store_true",
                        help="print where the time goes (cProfile) instead of the timing")
    args = parser.parse_args()
    if args.profile:
        print(profile(args.workload, args.variant, args.seed))
    else:
        print(json.dumps(run(args.workload, args.variant, args.seed)))


if __name__ == "__main__":
    main()
