"""Cost of one optimizer step on the MNIST net's 8 parameters (784-64-64-10, float32,
59,210 numbers), as µs per step and as a ratio to the same update written by hand in numpy
over one flat buffer (in-place ops where natural, the same subnormal flush every 16th step,
no checks,
gradients already in place).

Columns: `optim` (the fast path: one flat buffer per group), `per-param` (foreach=False,
the reference loop over the 8 arrays), `numpy` (by hand), and optim / numpy. A last
table shows the subnormal trap `optim` avoids: the hand-written Adam step without the
flush while a third of its first moment is in float32's subnormal range.

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
from optim.optimizer import FLUSH_EVERY

TINY = np.finfo(np.float32).tiny
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


def flush(a: np.ndarray, s: dict) -> None:
    """On every 16th step, zero the entries below float32's smallest normal number, as
    optim does."""
    if s["t"] % FLUSH_EVERY == 0:
        a[np.abs(a) < TINY] = 0


def sgd(x: np.ndarray, dx: np.ndarray, s: dict) -> None:
    x -= 0.01 * dx


def sgd_momentum(x: np.ndarray, dx: np.ndarray, s: dict) -> None:
    v = s["v"]
    v *= 0.9
    v -= 0.01 * dx                               # v = mu·v − lr·dx
    flush(v, s)
    x += v


def sgd_nesterov(x: np.ndarray, dx: np.ndarray, s: dict) -> None:
    v = s["v"]
    v *= 0.9
    v -= 0.01 * dx                               # v = mu·v − lr·dx
    flush(v, s)
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
    flush(cache, s)
    x -= 0.001 * dx / (np.sqrt(cache) + 1e-8)


def adam(x: np.ndarray, dx: np.ndarray, s: dict, decay: float = 0.0,
         flush_state: bool = True) -> None:
    m, v = s["m"], s["v"]
    if decay:
        x *= 1 - 0.001 * decay
    m *= 0.9
    m += 0.1 * dx
    v *= 0.999
    v += 0.001 * (dx * dx)
    if flush_state:
        flush(m, s)
        flush(v, s)
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

    print("\nthe subnormal trap: Adam by hand without the flush, on the first moments of")
    print("a third of the parameters (gradient 0, as for pixels that are never lit)")
    for label, m0 in (("m = 1e-3", 1e-3), ("m = 1e-40", 1e-40)):
        print(f"{label:<14}{subnormal_trap(m0, n, args.rounds) * 1e6:>10.1f} µs")
    print("(optim sets state below float32's smallest normal, 1.2e-38, to zero every 16th step)")


def subnormal_trap(m0: float, n: int, rounds: int, steps: int = 40) -> float:
    """Seconds per hand-written Adam step (no flush) when a third of m starts at m0 and
    decays by 0.9 a step: from 1e-40 it stays subnormal for ~100 steps."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal(n).astype(np.float32) * 0.05
    dx = rng.standard_normal(n).astype(np.float32) * 0.01
    dx[: n // 3] = 0
    best = math.inf
    for _ in range(rounds):
        state = {"m": np.full_like(x, 1e-3), "v": np.full_like(x, 1e-4), "t": 100}
        state["m"][: n // 3] = m0
        start = time.perf_counter()
        for _ in range(steps):
            state["t"] += 1
            adam(x, dx, state, flush_state=False)
        best = min(best, (time.perf_counter() - start) / steps)
    return best


if __name__ == "__main__":
    main()
