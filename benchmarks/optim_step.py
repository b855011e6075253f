"""Cost of one optimizer step on the MNIST net's 8 parameters (784-64-64-10, float32,
59,210 numbers), as µs per step and as a ratio to the same update written by hand in numpy
over one flat buffer (in-place ops where natural, no checks, gradients already in place).

Columns: `optim` (the fast path: one flat buffer per group), `per-param` (foreach=False,
the reference loop over the 8 arrays), `numpy` (by hand), and optim / numpy.

Run: python -m benchmarks.optim_step [--steps N] [--rounds R]
"""
from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable

import numpy as np

import autodiff as ad
import optim

SHAPES = [(64, 784), (64,), (64, 64), (64,), (64, 64), (64,), (10, 64), (10,)]

CONFIGS = {   # name -> (optim class, keyword arguments)
    "SGD": (optim.SGD, dict(lr=0.01)),
    "SGD momentum": (optim.SGD, dict(lr=0.01, momentum=0.9)),
    "SGD Nesterov": (optim.SGD, dict(lr=0.01, momentum=0.9, nesterov=True)),
    "Adagrad": (optim.Adagrad, dict(lr=0.01)),
    "RMSprop": (optim.RMSprop, dict(lr=0.001)),
    "Adam": (optim.Adam, dict(lr=0.001)),
    "AdamW": (optim.AdamW, dict(lr=0.001)),
}


def sgd(x: np.ndarray, dx: np.ndarray, s: dict) -> None:
    x -= 0.01 * dx


def sgd_momentum(x: np.ndarray, dx: np.ndarray, s: dict) -> None:
    v = s["v"]
    v *= 0.9
    v -= 0.01 * dx                               # v = mu·v − lr·dx
    x += v


def sgd_nesterov(x: np.ndarray, dx: np.ndarray, s: dict) -> None:
    v = s["v"]
    v *= 0.9
    v -= 0.01 * dx                               # v = mu·v − lr·dx
    x += 0.9 * v                                 # x += −mu·v_prev + (1 + mu)·v
    x -= 0.01 * dx                               #    = mu·v − lr·dx


def adagrad(x: np.ndarray, dx: np.ndarray, s: dict) -> None:
    cache = s["v"]
    cache += dx * dx
    x -= 0.01 * dx / (np.sqrt(cache) + 1e-10)


def rmsprop(x: np.ndarray, dx: np.ndarray, s: dict) -> None:
    cache = s["v"]
    cache *= 0.99
    cache += 0.01 * (dx * dx)
    x -= 0.001 * dx / (np.sqrt(cache) + 1e-8)


def adam(x: np.ndarray, dx: np.ndarray, s: dict, decay: float = 0.0) -> None:
    m, v = s["m"], s["v"]
    if decay:
        x *= 1 - 0.001 * decay
    m *= 0.9
    m += 0.1 * dx
    v *= 0.999
    v += 0.001 * (dx * dx)
    denom = np.sqrt(v)
    denom /= math.sqrt(1 - 0.999 ** s["t"])
    denom += 1e-8
    x -= 0.001 / (1 - 0.9 ** s["t"]) * (m / denom)


BY_HAND = {"SGD": sgd, "SGD momentum": sgd_momentum, "SGD Nesterov": sgd_nesterov,
           "Adagrad": adagrad, "RMSprop": rmsprop, "Adam": adam,
           "AdamW": lambda x, dx, s: adam(x, dx, s, decay=0.01)}


def by_hand(name: str, x: np.ndarray, dx: np.ndarray) -> tuple[Callable[[], None], dict]:
    """One step of `name` on the flat float32 buffer x with gradient dx, as a person
    would write it in numpy (the formulas of document 002, docs/sources.md; Adam bias-corrected),
    and the state it keeps."""
    state = {"m": np.zeros_like(x), "v": np.zeros_like(x), "t": 0}
    rule = BY_HAND[name]

    def step() -> None:
        state["t"] += 1
        rule(x, dx, state)
    return step, state


def best_seconds_per_step(steps_fns: list[Callable[[], object]], steps: int,
                          rounds: int) -> list[float]:
    """Best time per call of each function; the functions alternate within each round."""
    best = [math.inf] * len(steps_fns)
    for step in steps_fns:
        step()                                           # first step: allocate state
    for _ in range(rounds):
        for i, step in enumerate(steps_fns):
            start = time.perf_counter()
            for _ in range(steps):
                step()
            best[i] = min(best[i], (time.perf_counter() - start) / steps)
    return best


def optim_step(name: str, foreach: bool | None, rng: np.random.Generator
               ) -> Callable[[], object]:
    cls, kwargs = CONFIGS[name]
    params = [ad.tensor(rng.standard_normal(s).astype(np.float32) * 0.05, requires_grad=True)
              for s in SHAPES]
    for p in params:
        p.grad = rng.standard_normal(p.shape).astype(np.float32) * 0.01
    return cls(params, **kwargs, foreach=foreach).step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    n = sum(math.prod(s) for s in SHAPES)
    print(f"optimizer step, MNIST net: {len(SHAPES)} float32 parameters, {n:,} numbers; "
          f"best of {args.rounds} rounds of {args.steps} steps\n")
    print(f"{'optimizer':<14}{'optim µs':>10}{'per-param µs':>14}{'numpy µs':>10}"
          f"{'optim/numpy':>13}")
    for name in CONFIGS:
        x = rng.standard_normal(n).astype(np.float32) * 0.05
        dx = rng.standard_normal(n).astype(np.float32) * 0.01
        fast, slow, hand = best_seconds_per_step(
            [optim_step(name, None, rng), optim_step(name, False, rng),
             by_hand(name, x, dx)[0]], args.steps, args.rounds)
        print(f"{name:<14}{fast * 1e6:>10.1f}{slow * 1e6:>14.1f}{hand * 1e6:>10.1f}"
              f"{fast / hand:>13.2f}")


if __name__ == "__main__":
    main()
