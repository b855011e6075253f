"""Adamax: Adam with the infinity norm in place of the root mean square."""
from __future__ import annotations

from typing import Any

import numpy as np

from .optimizer import Optimizer, ParamsT, addcdiv_, check_adam_options, decayed_gradient, lerp_


class Adamax(Optimizer):
    """Adamax (Kingma & Ba, 2015, section 7): Adam's denominator √v̂ replaced by a
    decaying maximum of |g|.

    The update (PyTorch's algorithm box; γ lr, β₁ β₂ betas, λ weight decay)::

        m₀ ← 0;  u₀ ← 0                     (states "exp_avg", "exp_inf")
        for t = 1, 2, ...
            g_t ← ∇f(θ_{t−1})               (−∇f(θ_{t−1}) if maximize)
            if λ ≠ 0:  g_t ← g_t + λθ_{t−1}
            m_t ← β₁m_{t−1} + (1 − β₁)g_t
            u_t ← max(β₂u_{t−1}, |g_t| + ε)
            θ_t ← θ_{t−1} − γm_t/((1 − β₁ᵗ)u_t)

    Args:
        params: tensors to optimize, or dicts defining parameter groups.
        lr: γ. Default: 2e-3.
        betas: (β₁, β₂), each in [0, 1). Default: (0.9, 0.999).
        eps: ε. Default: 1e-8.
        weight_decay: λ. Default: 0.
        maximize: ascend the objective instead. Default: False.
        foreach: False runs the update once per parameter. Default: None (flat buffers).
    """

    def __init__(self, params: ParamsT, lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, *, maximize: bool = False,
                 foreach: bool | None = None) -> None:
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, maximize=maximize,
                                      foreach=foreach))

    def _check(self, options: dict[str, Any]) -> None:
        check_adam_options(type(self).__name__, options)

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        lr, (beta1, beta2) = group["lr"], group["betas"]
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(param)
            state["exp_inf"] = np.zeros_like(param)
        state["step"] += 1
        m, u = state["exp_avg"], state["exp_inf"]
        work = self._scratch(param)
        g = decayed_gradient(param, grad, group)            # g_t ← ∇f(θ_{t−1}) + λθ_{t−1}
        lerp_(m, g, 1 - beta1, work)                        # m_t ← β₁m_{t−1} + (1 − β₁)g_t
        u *= beta2
        norm = np.abs(g, out=work)
        norm += group["eps"]
        np.maximum(u, norm, out=u)                          # u_t ← max(β₂u_{t−1}, |g_t| + ε)
        clr = lr / (1 - beta1 ** state["step"])             # γ/(1 − β₁ᵗ)
        addcdiv_(param, m, u, -clr, work)                   # θ_t ← θ_{t−1} − γm_t/((1 − β₁ᵗ)u_t)
