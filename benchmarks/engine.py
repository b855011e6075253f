"""Per-op cost of the engine, as ratios to the raw numpy call, in one run.

1. A chain of 1,000,000 scalar ops (y = y·c + d, alternating mul and add): graph
   building and backward, µs per op, against numpy doing the same forward on 0-d arrays.
2. Small (15×64) tensors: forward + backward of one op through autodiff against the
   same forward and backward written by hand in numpy.

Run: python -m benchmarks.engine [--chain N] [--rounds R]
"""
from __future__ import annotations

import argparse
import gc
import json
import time
from collections.abc import Callable

import numpy as np

import autodiff as ad


def best_of(rounds: int, fn: Callable[[], float]) -> float:
    return min(fn() for _ in range(rounds))


def chain_times(n: int) -> tuple[float, float]:
    """(build, backward) seconds for a chain of n scalar ops."""
    x = ad.tensor(np.float64(0.5), requires_grad=True)
    start = time.perf_counter()
    y = x
    for _ in range(n // 2):
        y = y * 1.0000001 + 1e-9
    built = time.perf_counter()
    y.backward()
    done = time.perf_counter()
    del y
    gc.collect()
    return built - start, done - built


def numpy_chain_time(n: int) -> float:
    a = np.asarray(0.5)
    start = time.perf_counter()
    for _ in range(n // 2):
        a = np.asarray(a * 1.0000001 + 1e-9)
    return time.perf_counter() - start


def time_per_call(fn: Callable[[], object], repeats: int) -> float:
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats


def small_tensor_cases(rng: np.random.Generator) -> dict[str, tuple[Callable, Callable]]:
    """name -> (autodiff forward+backward, the same by hand in numpy), on 15×64 float32."""
    xa = rng.standard_normal((15, 64)).astype(np.float32)
    wa = rng.standard_normal((64, 64)).astype(np.float32)
    g = np.ones((15, 64), dtype=np.float32)
    x = ad.tensor(xa, requires_grad=True)
    w = ad.tensor(wa, requires_grad=True)

    def run(y_fn: Callable[[], ad.Tensor]) -> Callable[[], None]:
        def step() -> None:
            x.grad = None
            w.grad = None
            y_fn().backward(g)
        return step

    def np_mul() -> None:
        y = xa * wa[:15]
        gx, gw = g * wa[:15], g * xa
        return y, gx, gw

    def np_matmul() -> None:
        y = xa @ wa
        return y, g @ wa.T, xa.T @ g

    def np_tanh() -> None:
        y = np.tanh(xa)
        return y, g * (1 - y * y)

    def np_relu() -> None:
        mask = xa > 0
        return xa * mask, g * mask

    def np_log_softmax() -> None:
        shifted = xa - xa.max(axis=1, keepdims=True)
        y = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        return y, g - np.exp(y) * g.sum(axis=1, keepdims=True)

    w15 = w[:15].detach().requires_grad_()
    return {
        "mul": (run(lambda: x * w15), np_mul),
        "matmul": (run(lambda: x @ w), np_matmul),
        "tanh": (run(lambda: x.tanh()), np_tanh),
        "relu": (run(lambda: x.relu()), np_relu),
        "log_softmax": (run(lambda: x.log_softmax(dim=1)), np_log_softmax),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chain", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()

    results: dict[str, dict[str, float]] = {}
    times = [chain_times(args.chain) for _ in range(args.rounds)]
    build = min(t[0] for t in times) / args.chain * 1e6
    back = min(t[1] for t in times) / args.chain * 1e6
    raw = best_of(args.rounds, lambda: numpy_chain_time(args.chain)) / args.chain * 1e6
    results["scalar chain"] = {"build_us": build, "backward_us": back,
                               "total_us": build + back, "numpy_forward_us": raw}
    print(f"Scalar chain of {args.chain:,} ops (y = y*c + d), best of {args.rounds}:")
    print(f"  build     {build:6.2f} µs/op")
    print(f"  backward  {back:6.2f} µs/op")
    print(f"  total     {build + back:6.2f} µs/op  = {(build + back) / raw:4.1f}× numpy's forward "
          f"alone ({raw:.2f} µs/op on 0-d arrays)")

    print("\nSmall tensors (15×64 float32): forward + backward of one op")
    print(f"  {'op':<12} {'autodiff µs':>12} {'numpy µs':>10} {'ratio':>6}")
    rng = np.random.default_rng(0)
    for name, (ours, by_hand) in small_tensor_cases(rng).items():
        repeats = 2000
        ours_us = best_of(args.rounds, lambda f=ours, n=repeats: time_per_call(f, n)) * 1e6
        hand_us = best_of(args.rounds, lambda f=by_hand, n=repeats: time_per_call(f, n)) * 1e6
        results[name] = {"autodiff_us": ours_us, "numpy_us": hand_us}
        print(f"  {name:<12} {ours_us:12.1f} {hand_us:10.1f} {ours_us / hand_us:5.1f}×")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
