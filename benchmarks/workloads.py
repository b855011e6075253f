"""One benchmark workload run by one variant, in this process; prints a JSON line.

    python -m benchmarks.workloads WORKLOAD VARIANT [--seed S] [--profile | --phases]

Workloads: mnist-15, mnist-128, mnist-1024 (document 004's net, the first epoch or its
first 4,000 steps, then test accuracy), cnn-64 (the mnist_cnn demo's two conv blocks and
Linear, the first 300 steps of batch 64, then test accuracy), regression (document 000's
net, one sample per step), xor (document 001's net, full batch), chain (1,000,000 scalar
ops, build + backward), memory (10,000 regression steps: resident memory must not grow).
Variants: autodiff (this project), compiled (its training step under ad.compile), numpy
(by hand), torch (eager), micrograd.
--profile prints a cProfile of the variant's training steps instead; --phases (MNIST, CNN
and regression) the time of each phase of a step, autodiff beside numpy by hand.
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

VARIANT_MODULES = {"autodiff": "benchmarks.with_autodiff", "compiled": "benchmarks.compiled",
                   "numpy": "benchmarks.by_hand",
                   "torch": "benchmarks.with_torch", "micrograd": "benchmarks.with_micrograd"}
MNIST_STEPS = 4000
CNN_STEPS = 300         # a CNN step costs ~100 MNIST-MLP steps: 300 are enough to time it
HERE = Path(__file__).resolve().parent


def mnist_arrays(train: bool) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 784) float32 in [0, 1] and labels int64, from the project's loader."""
    from nn.data import MNIST
    data = MNIST(train=train, download=True)
    images = data.data.numpy().reshape(len(data), 784).astype(np.float32) / np.float32(255)
    return images, data.targets.numpy().astype(np.int64)


def train(net: Any, batches: list[tuple[np.ndarray, np.ndarray]],
          profiler: cProfile.Profile | None = None) -> dict[str, float]:
    """µs per training step over the batches, and µs of the first step alone (for a
    compiled variant, the trace); profiled, when a profiler is given."""
    if profiler is not None:
        profiler.enable()
    start = time.perf_counter()
    net.train_step(*batches[0])
    first = time.perf_counter()
    for x, y in batches[1:]:
        net.train_step(x, y)
    seconds = time.perf_counter() - start
    if profiler is not None:
        profiler.disable()
    return {"us_per_step": seconds / len(batches) * 1e6, "steps": len(batches),
            "first_step_us": (first - start) * 1e6}


def mnist_batches(batch: int, seed: int, steps: int = MNIST_STEPS
                  ) -> list[tuple[np.ndarray, np.ndarray]]:
    """The first epoch's batches (at most `steps` of them), shuffled by `seed`."""
    images, labels = mnist_arrays(train=True)
    order = np.random.default_rng(seed).permutation(len(images))
    steps = min(steps, len(images) // batch)
    return [(images[order[i * batch:(i + 1) * batch]], labels[order[i * batch:(i + 1) * batch]])
            for i in range(steps)]


def mnist_test_accuracy(net: Any, image_shape: tuple[int, ...]) -> float:
    """Accuracy on MNIST's 10,000 test images, each reshaped to `image_shape`."""
    test_images, test_labels = mnist_arrays(train=False)
    logits = net.logits(test_images.reshape(-1, *image_shape))
    return float((logits.argmax(axis=1) == test_labels).mean())


def run_mnist(variant: Any, batch: int, seed: int,
              profiler: cProfile.Profile | None = None) -> dict[str, float]:
    net = variant.MnistNet(seed)
    timing = train(net, mnist_batches(batch, seed), profiler)
    return {**timing, "accuracy": mnist_test_accuracy(net, (784,))}


def cnn_batches(batch: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The first CNN_STEPS batches of the epoch, as images (B, 1, 28, 28)."""
    return [(x.reshape(-1, 1, 28, 28), y) for x, y in mnist_batches(batch, seed, CNN_STEPS)]


def run_cnn(variant: Any, batch: int, seed: int,
            profiler: cProfile.Profile | None = None) -> dict[str, float]:
    net = variant.CnnNet(seed)
    timing = train(net, cnn_batches(batch, seed), profiler)
    return {**timing, "accuracy": mnist_test_accuracy(net, (1, 28, 28))}


def regression_data(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Document 000: x = linspace(0, 3, 100), target the noise-free line 2.3x + 4.7."""
    x = np.linspace(0, 3, 100, dtype=np.float32).reshape(100, 1)
    return x, (2.3 * x + 4.7).astype(np.float32)


def regression_batches(seed: int, steps: int = 4000) -> list[tuple[np.ndarray, np.ndarray]]:
    """One sample per step, going through the 100 points in order, `steps` times."""
    x, y = regression_data(seed)
    return [(x[i % len(x):i % len(x) + 1], y[i % len(x):i % len(x) + 1]) for i in range(steps)]


def run_regression(variant: Any, seed: int,
                   profiler: cProfile.Profile | None = None) -> dict[str, float]:
    return train(variant.RegressionNet(seed), regression_batches(seed), profiler)


def run_xor(variant: Any, seed: int, profiler: cProfile.Profile | None = None,
            steps: int = 2000) -> dict[str, float]:
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    y = np.array([[0], [1], [1], [0]], dtype=np.float32)
    return train(variant.XorNet(seed), [(x, y)] * steps, profiler)


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


def run(workload: str, variant_name: str, seed: int,
        profiler: cProfile.Profile | None = None) -> dict[str, float]:
    if workload == "chain":
        return run_chain()
    variant = importlib.import_module(VARIANT_MODULES[variant_name])
    if workload.startswith("mnist-"):
        return run_mnist(variant, int(workload.split("-")[1]), seed, profiler)
    if workload.startswith("cnn-"):
        return run_cnn(variant, int(workload.split("-")[1]), seed, profiler)
    if workload == "memory":
        return run_memory(variant, seed)
    runners = {"regression": run_regression, "xor": run_xor}
    return runners[workload](variant, seed, profiler)


def autodiff_phases(net: Any, batches: list[tuple[np.ndarray, np.ndarray]]) -> dict[str, float]:
    """µs per step in each phase of the project's training step."""
    clock = time.perf_counter
    forward = backward = step = 0.0
    for x, y in batches:
        t0 = clock()
        loss = net.loss(x, y)
        t1 = clock()
        net.opt.zero_grad()
        loss.backward()
        t2 = clock()
        net.opt.step()
        t3 = clock()
        loss.item()
        forward, backward, step = forward + t1 - t0, backward + t2 - t1, step + t3 - t2
    n = len(batches) / 1e6
    return {"forward": forward / n, "backward": backward / n, "step": step / n}


def by_hand_phases(net: Any, batches: list[tuple[np.ndarray, np.ndarray]]) -> dict[str, float]:
    """µs per step of the hand-written version: its Adam step, and the rest."""
    adam_step, in_step = net.adam.step, [0.0]

    def timed_step() -> None:
        start = time.perf_counter()
        adam_step()
        in_step[0] += time.perf_counter() - start
    net.adam.step = timed_step
    total = train(net, batches)["us_per_step"] * len(batches) / 1e6
    n = len(batches) / 1e6
    return {"forward + backward": (total - in_step[0]) / n, "step": in_step[0] / n}


def phases(workload: str, seed: int) -> str:
    """Where a step's time goes, autodiff beside numpy by hand (MNIST, CNN and regression)."""
    from autodiff.backward import topological_order
    from benchmarks import by_hand, with_autodiff
    if workload.startswith("mnist-"):
        batches, make = mnist_batches(int(workload.split("-")[1]), seed), "MnistNet"
    elif workload.startswith("cnn-"):
        batches, make = cnn_batches(int(workload.split("-")[1]), seed), "CnnNet"
    else:
        batches, make = regression_batches(seed), "RegressionNet"
    net = getattr(with_autodiff, make)(seed)
    ours = autodiff_phases(net, batches)
    theirs = by_hand_phases(getattr(by_hand, make)(seed), batches)
    ops = len(topological_order([net.loss(*batches[0])]))
    extra = ours["forward"] + ours["backward"] - theirs["forward + backward"]
    return (f"µs per step, autodiff: forward {ours['forward']:.0f}, backward "
            f"{ours['backward']:.0f}, optimizer step {ours['step']:.0f} "
            f"(total {sum(ours.values()):.0f})\n"
            f"µs per step, numpy by hand: forward + backward "
            f"{theirs['forward + backward']:.0f}, optimizer step {theirs['step']:.0f} "
            f"(total {sum(theirs.values()):.0f})\n"
            f"forward + backward cost {extra:.0f} µs more than by hand: {extra / ops:.1f} µs "
            f"for each of the {ops} ops in the graph")


def profile(workload: str, variant: str, seed: int, top: int = 15) -> str:
    """The training steps under cProfile: the functions that take the most time of their
    own (loading data and building the net are left out)."""
    profiler = cProfile.Profile()
    run(workload, variant, seed, profiler)
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(top)
    lines = text.getvalue().splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls"))
    return "\n".join(line.replace(str(HERE.parent) + "/", "") for line in lines[start:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload")
    parser.add_argument("variant", choices=sorted(VARIANT_MODULES))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--profile", action="store_true",
                        help="print where the time goes (cProfile) instead of the timing")
    parser.add_argument("--phases", action="store_true",
                        help="print the time of each phase of a step, autodiff beside numpy")
    args = parser.parse_args()
    if args.phases:
        print(phases(args.workload, args.seed))
    elif args.profile:
        print(profile(args.workload, args.variant, args.seed))
    else:
        print(json.dumps(run(args.workload, args.variant, args.seed)))


if __name__ == "__main__":
    main()
