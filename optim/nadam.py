"""NAdam: Adam with Nesterov momentum."""
from __future__ import annotations

from typing import Any

import numpy as np

from .optimizer import (
    Optimizer,
    ParamsT,
    adam_moments,
    addcdiv_,
    check_adam_options,
    check_nonnegative,
)


class NAdam(Optimizer):
    """NAdam (Dozat, 2016): Adam whose momentum looks one step ahead, with the momentum
    coefficient warmed up over the first steps (PyTorch's schedule μₜ).

    The update (PyTorch's algorithm box; γ lr, β₁ β₂ betas, λ weight decay, ψ
    momentum_decay)::

        m₀ ← 0;  v₀ ← 0;  Π₀ ← 1             (states "exp_avg", "exp_avg_sq", "mu_product")
        for t = 1, 2, ...
            g_t ← ∇f(θ_{t−1})                 (−∇f(θ_{t−1}) if maximize)
            if λ ≠ 0:  g_t ← g_t + λθ_{t−1}   (decoupled: θ_t ← θ_{t−1} − γλθ_{t−1})
            μ_t ← β₁(1 − ½·0.96^(tψ))
            μ_{t+1} ← β₁(1 − ½·0.96^((t+1)ψ))
            Π_t ← Π_{t−1}μ_t                   (Π_t = μ₁···μ_t)
            m_t ← β₁m_{t−1} + (1 − β₁)g_t
            v_t ← β₂v_{t−1} + (1 − β₂)g_t²
            m̂_t ← μ_{t+1}m_t/(1 − Π_tμ_{t+1}) + (1 − μ_t)g_t/(1 − Π_t)
            v̂_t ← v_t/(1 − β₂ᵗ)
            θ_t ← θ_t − γ m̂_t/(√v̂_t + ε)

    computed as PyTorch's single-tensor NAdam computes it: θ_t takes the two terms of
    γ m̂_t/(√v̂_t + ε) one after the other, the g_t term first. Π_t is kept in float32,
    as PyTorch keeps it (a float32 scalar tensor).

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
        work = self._scratch(param)
        t, m, v, g = adam_moments(param, grad, state, group, work)   # g_t, λ, m_t, v_t
        bias_correction2 = 1 - beta2 ** t
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (t * psi)))                 # μ_t
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((t + 1) * psi)))      # μ_{t+1}
        mu_product = float(np.float32(state.get("mu_product", 1.0)) * np.float32(mu))
        state["mu_product"] = mu_product                    # Π_t ← Π_{t−1}μ_t  (in float32)
        denom = np.divide(v, bias_correction2, out=work)
        np.sqrt(denom, out=denom)                           # √v̂_t = √(v_t/(1 − β₂ᵗ))
        denom += group["eps"]                               # √v̂_t + ε
        mu_product_next = mu_product * mu_next              # Π_tμ_{t+1}
        g_weight = -lr * (1.0 - mu) / (1.0 - mu_product)    # −γ(1 − μ_t)/(1 − Π_t)
        m_weight = (-lr * mu_next) / (1.0 - mu_product_next)    # −γμ_{t+1}/(1 − Π_tμ_{t+1})
        step = self._scratch(param, "step")
        addcdiv_(param, g, denom, g_weight, step)           # θ_t ← θ_t − γ m̂_t/(√v̂_t + ε):
        addcdiv_(param, m, denom, m_weight, step)           # m̂_t's g_t term, then its m_t term
