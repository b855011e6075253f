"""RAdam: Adam with its adaptive step switched on only once the variance is reliable."""
from __future__ import annotations

from typing import Any

import numpy as np

from .optimizer import Optimizer, ParamsT, adam_moments, check_adam_options


class RAdam(Optimizer):
    """RAdam (Liu et al., 2020): Adam's 1/√v̂ has too much variance in the first steps,
    so those are plain momentum steps; later ones are Adam's, scaled by a rectification
    factor r.

    The update (PyTorch's algorithm box; γ lr, β₁ β₂ betas, λ weight decay)::

        m₀ ← 0;  v₀ ← 0;  ρ_∞ ← 2/(1 − β₂) − 1     (states "exp_avg", "exp_avg_sq")
        for t = 1, 2, ...
            g_t ← ∇f(θ_{t−1})                 (−∇f(θ_{t−1}) if maximize)
            if λ ≠ 0:  g_t ← g_t + λθ_{t−1}   (decoupled: θ_t ← θ_{t−1} − γλθ_{t−1})
            m_t ← β₁m_{t−1} + (1 − β₁)g_t
            v_t ← β₂v_{t−1} + (1 − β₂)g_t²
            m̂_t ← m_t/(1 − β₁ᵗ)
            ρ_t ← ρ_∞ − 2tβ₂ᵗ/(1 − β₂ᵗ)
            if ρ_t > 5:
                l_t ← √(1 − β₂ᵗ)/(√v_t + ε)
                r_t ← √((ρ_t − 4)(ρ_t − 2)ρ_∞/((ρ_∞ − 4)(ρ_∞ − 2)ρ_t))
                θ_t ← θ_t − γ m̂_t r_t l_t
            else:
                θ_t ← θ_t − γ m̂_t

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
        work = self._scratch(param)
        t, m, v, _ = adam_moments(param, grad, state, group, work)   # g_t, λ, m_t, v_t
        bias_correction1 = 1 - beta1 ** t
        bias_correction2 = 1 - beta2 ** t
        update = np.divide(m, bias_correction1, out=self._scratch(param, "step"))  # m̂_t
        rho_inf = 2 / (1 - beta2) - 1                       # ρ_∞ ← 2/(1 − β₂) − 1
        rho_t = rho_inf - 2 * t * (beta2 ** t) / bias_correction2  # ρ_t ← ρ_∞ − 2tβ₂ᵗ/(1 − β₂ᵗ)
        update *= lr                                        # γ m̂_t
        if rho_t > 5.0:
            # l_t ← √(1 − β₂ᵗ)/(√v_t + ε), as torch computes float / tensor: 1/tensor · float
            adaptive = np.sqrt(v, out=work)
            adaptive += group["eps"]
            np.reciprocal(adaptive, out=adaptive)
            adaptive *= bias_correction2 ** 0.5
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                    / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5   # r_t
            update *= adaptive
            update *= rect                                  # γ m̂_t l_t r_t
        param -= update                                     # θ_t ← θ_t − γ m̂_t r_t l_t (or − γ m̂_t)
