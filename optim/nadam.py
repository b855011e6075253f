"""NAdam: Adam with Nesterov momentum."""
from __future__ import annotations

from typing import Any

import numpy as np

from .optimizer import Optimizer, ParamsT, adam_moments, check_adam_options, check_nonnegative


class NAdam(Optimizer):
    """NAdam (Dozat, 2016): Adam whose momentum looks one step ahead, with the momentum
    coefficient warmed up over the first steps (PyTorch's schedule μₜ).

    The update (PyTorch's algorithm box; γ lr, β₁ β₂ betas, λ weight decay, ψ
    momentum_decay)::

        m ← 0;  v ← 0;  Π ← 1           (states "exp_avg", "exp_avg_sq", "mu_product")
        for t = 1, 2, ...
            g ← ∇f(θ)                   (−∇f(θ) if maximize)
            if λ ≠ 0:  g ← g + λθ       (decoupled: θ ← θ − γλθ)
            μₜ ← β₁(1 − ½·0.96^(tψ));  μₜ₊₁ ← β₁(1 − ½·0.96^((t+1)ψ))
            Π ← Π·μₜ
            m ← β₁m + (1 − β₁)g;  v ← β₂v + (1 − β₂)g²
            d ← √(v / (1 − β₂ᵗ)) + ε
            θ ← θ − γ(1 − μₜ)/(1 − Π) · g/d − γμₜ₊₁/(1 − Πμₜ₊₁) · m/d

    Args:
        params: tensors to optimize, or dicts defining parameter groups.
        lr: γ. Default: 2e-3.
        betas: (β₁, β₂), each in [0, 1). Default: (0.9, 0.999).
        eps: ε. Default: 1e-8.
        weight_decay: λ. Default: 0.
        momentum_decay: ψ. Default: 4e-3.
        decoupled_weight_decay: decay θ directly, as AdamW does. Default: False.
        maximize: ascend the objective instead. Default: False.
        foreach: False runs the update once per parameter. Default: None (flat buffers).
    """

    def __init__(self, params: ParamsT, lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None) -> None:
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, momentum_decay=momentum_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize, foreach=foreach))

    def _check(self, options: dict[str, Any]) -> None:
        check_adam_options(type(self).__name__, options)
        check_nonnegative(type(self).__name__, "momentum_decay", options["momentum_decay"])

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        lr, (beta1, beta2), psi = group["lr"], group["betas"], group["momentum_decay"]
        t, m, v, g = adam_moments(param, grad, state, group)
        state.setdefault("mu_product", 1.0)
        mu = beta1 * (1 - 0.5 * 0.96 ** (t * psi))
        mu_next = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
        # Π ← Π·μₜ, kept in float32 as PyTorch keeps it (a float32 scalar tensor)
        product = state["mu_product"] = float(np.float32(state["mu_product"]) * np.float32(mu))
        denom = np.sqrt(v / (1 - beta2 ** t)) + group["eps"]
        param -= lr * (1 - mu) / (1 - product) * g / denom
        param -= lr * mu_next / (1 - product * mu_next) * m / denom
