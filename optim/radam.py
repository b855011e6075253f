"""RAdam: Adam with its adaptive step switched on only once the variance is reliable."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .optimizer import Optimizer, ParamsT, adam_moments, check_adam_options


class RAdam(Optimizer):
    """RAdam (Liu et al., 2020): Adam's 1/√v̂ has too much variance in the first steps,
    so those are plain momentum steps; later ones are Adam's, scaled by a rectification
    factor r.

    The update (PyTorch's algorithm box; γ lr, β₁ β₂ betas, λ weight decay)::

        m ← 0;  v ← 0;  ρ∞ ← 2/(1 − β₂) − 1      (states "exp_avg", "exp_avg_sq")
        for t = 1, 2, ...
            g ← ∇f(θ)                   (−∇f(θ) if maximize)
            if λ ≠ 0:  g ← g + λθ       (decoupled: θ ← θ − γλθ)
            m ← β₁m + (1 − β₁)g;  v ← β₂v + (1 − β₂)g²
            m̂ ← m / (1 − β₁ᵗ)
            ρₜ ← ρ∞ − 2tβ₂ᵗ / (1 − β₂ᵗ)
            if ρₜ > 5:
                l ← √(1 − β₂ᵗ) / (√v + ε)
                r ← √((ρₜ − 4)(ρₜ − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρₜ))
                θ ← θ − γ m̂ r l
            else:
                θ ← θ − γ m̂

    Args:
        params: tensors to optimize, or dicts defining parameter groups.
        lr: γ. Default: 1e-3.
        betas: (β₁, β₂), each in [0, 1). Default: (0.9, 0.999).
        eps: ε. Default: 1e-8.
        weight_decay: λ. Default: 0.
        decoupled_weight_decay: decay θ directly, as AdamW does. Default: False.
        maximize: ascend the objective instead. Default: False.
        foreach: False runs the update once per parameter. Default: None (flat buffers).
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, decoupled_weight_decay: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None) -> None:
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize, foreach=foreach))

    def _check(self, options: dict[str, Any]) -> None:
        check_adam_options(type(self).__name__, options)

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        lr, (beta1, beta2) = group["lr"], group["betas"]
        t, m, v, _ = adam_moments(param, grad, state, group)
        m_hat = m / (1 - beta1 ** t)
        rho_inf = 2 / (1 - beta2) - 1
        rho = rho_inf - 2 * t * beta2 ** t / (1 - beta2 ** t)
        if rho > 5:
            adaptive = math.sqrt(1 - beta2 ** t) / (np.sqrt(v) + group["eps"])
            rect = math.sqrt((rho - 4) * (rho - 2) * rho_inf
                             / ((rho_inf - 4) * (rho_inf - 2) * rho))
            param -= lr * m_hat * rect * adaptive
        else:
            param -= lr * m_hat
