"""Adagrad: per-coordinate step sizes shrinking with the sum of squared gradients."""
from __future__ import annotations

from typing import Any

import numpy as np

from .optimizer import Optimizer, ParamsT, check_eps, check_nonnegative, decayed_gradient


class Adagrad(Optimizer):
    """Adagrad (Duchi et al., 2011): each coordinate's step is divided by the root of
    the sum of all its squared gradients so far.

    The update (PyTorch's algorithm box; γ lr, η lr_decay, λ weight decay, τ initial
    accumulator value)::

        s ← τ                               (state "sum", on the first step)
        for t = 1, 2, ...
            g ← ∇f(θ)                       (−∇f(θ) if maximize)
            γ̃ ← γ / (1 + (t − 1)η)
            if λ ≠ 0:  g ← g + λθ
            s ← s + g²
            θ ← θ − γ̃ g / (√s + ε)

    The lecture notes (document 002, docs/sources.md), with dx the gradient and cache the sum::

        cache += dx**2
        x -= lr * dx / (sqrt(cache) + eps)

    which is the box with τ = 0, η = 0, λ = 0. The notes suggest eps in [1e-9, 1e-4];
    PyTorch's default, kept here, is 1e-10. The sum only grows, so no subnormal flush
    is needed.

    Args:
        params: tensors to optimize, or dicts defining parameter groups.
        lr: learning rate γ. Default: 1e-2.
        lr_decay: η. Default: 0.
        weight_decay: λ, L2 penalty. Default: 0.
        initial_accumulator_value: τ, the sum's starting value. Default: 0.
        eps: ε, added to the denominator. Default: 1e-10.
        maximize: ascend the objective instead. Default: False.
        foreach: False runs the update once per parameter instead of once over each
            group's flat buffers (same numbers, slower). Default: None (flat buffers).

    Example::

        >>> import autodiff as ad, optim
        >>> x = ad.tensor([1.0, -2.0], dtype=ad.float64, requires_grad=True)
        >>> opt = optim.Adagrad([x], lr=0.5)
        >>> (x ** 2).sum().backward(); opt.step()    # first step: x -= lr · sign(dx)
        >>> x
        tensor([ 0.5, -1.5], dtype=float64, requires_grad=True)
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, lr_decay: float = 0,
                 weight_decay: float = 0, initial_accumulator_value: float = 0,
                 eps: float = 1e-10, *, maximize: bool = False,
                 foreach: bool | None = None) -> None:
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps, maximize=maximize, foreach=foreach))

    def _check(self, options: dict[str, Any]) -> None:
        for name in ("lr", "lr_decay", "weight_decay", "initial_accumulator_value"):
            check_nonnegative("Adagrad", name, options[name])
        check_eps("Adagrad", options["eps"])

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        if not state:
            state["step"] = 0
            state["sum"] = np.full_like(param, group["initial_accumulator_value"])  # s ← τ
        state["step"] += 1
        t, s = state["step"], state["sum"]
        lr = group["lr"] / (1 + (t - 1) * group["lr_decay"])    # γ̃ ← γ / (1 + (t − 1)η)
        g = decayed_gradient(param, grad, group)                # g ← ∇f(θ) + λθ
        s += g * g                                              # s ← s + g²
        denom = np.sqrt(s)
        denom += group["eps"]                                   # √s + ε
        param -= lr * (g / denom)                               # θ ← θ − γ̃ g / (√s + ε)
