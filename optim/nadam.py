"""NAdam: Adam with Nesterov momentum."""
from __future__ import annotations

from typing import Any

import numpy as np

from .optimizer import (
    Optimizer,
    ParamsT,
    check_eps,
    check_nonnegative,
    check_unit_interval,
)


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
        name = type(self).__name__
        check_nonnegative(name, "lr", options["lr"])
        check_eps(name, options["eps"])
        check_unit_interval(name, "betas[0]", options["betas"][0])
        check_unit_interval(name, "betas[1]", options["betas"][1])
        check_nonnegative(name, "weight_decay", options["weight_decay"])
        check_nonnegative(name, "momentum_decay", options["momentum_decay"])

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        lr, (beta1, beta2), decay = group["lr"], group["betas"], group["weight_decay"]
        if not state:
            state["step"] = 0
            state["mu_product"] = 1.0
            state["exp_avg"] = np.zeros_like(param)
            state["exp_avg_sq"] = np.zeros_like(param)
        state["step"] += 1
        t, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]
        g = -grad if group["maximize"] else grad
        if decay != 0:
            if group["decoupled_weight_decay"]:
                param *= 1 - lr * decay                         # θ ← θ − γλθ
            else:
                g = g + decay * param                           # g ← g + λθ
        psi = group["momentum_decay"]
        mu = beta1 * (1 - 0.5 * 0.96 ** (t * psi))
        mu_next = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
        # Π ← Π·μₜ, kept in float32 as PyTorch keeps it (a float32 scalar tensor)
        product = state["mu_product"] = float(np.float32(state["mu_product"]) * np.float32(mu))
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * g * g
        denom = np.sqrt(v / (1 - beta2 ** t)) + group["eps"]
        param -= lr * (1 - mu) / (1 - product) * g / denom
        param -= lr * mu_next / (1 - product * mu_next) * m / denom
