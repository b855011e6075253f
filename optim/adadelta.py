"""Adadelta: steps scaled by the ratio of running RMS of past steps to that of gradients."""
from __future__ import annotations

from typing import Any

import numpy as np

from .optimizer import Optimizer, ParamsT, addcmul_, check_eps, check_nonnegative, decayed_gradient


class Adadelta(Optimizer):
    """Adadelta (Zeiler, 2012): no global step size to tune by hand; each coordinate's
    step is its gradient times RMS[Δθ] / RMS[g].

    The update (PyTorch's algorithm box; γ lr, ρ rho, λ weight decay)::

        v₀ ← 0;  u₀ ← 0                     (states "square_avg", "acc_delta")
        for t = 1, 2, ...
            g_t ← ∇f(θ_{t−1})               (−∇f(θ_{t−1}) if maximize)
            if λ ≠ 0:  g_t ← g_t + λθ_{t−1}
            v_t ← v_{t−1}ρ + g_t²(1 − ρ)
            Δx_t ← √(u_{t−1} + ε)/√(v_t + ε) · g_t
            u_t ← u_{t−1}ρ + Δx_t²(1 − ρ)
            θ_t ← θ_{t−1} − γΔx_t

    Args:
        params: tensors to optimize, or dicts defining parameter groups.
        lr: γ, scaling Δ. Default: 1.0.
        rho: ρ, the averages' decay rate, in [0, 1]. Default: 0.9.
        eps: ε. Default: 1e-6.
        weight_decay: λ. Default: 0.
        maximize: ascend the objective instead. Default: False.
        foreach: False runs the update once per parameter. Default: None (flat buffers).
    """

    def __init__(self, params: ParamsT, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, *, maximize: bool = False,
                 foreach: bool | None = None) -> None:
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize, foreach=foreach))

    def _check(self, options: dict[str, Any]) -> None:
        name = type(self).__name__
        check_nonnegative(name, "lr", options["lr"])
        check_eps(name, options["eps"])
        if not 0 <= options["rho"] <= 1:
            raise ValueError(f"{name}: invalid rho value {options['rho']!r}; it must be in "
                             f"[0, 1]")
        check_nonnegative(name, "weight_decay", options["weight_decay"])

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        lr, rho, eps = group["lr"], group["rho"], group["eps"]
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(param)
            state["acc_delta"] = np.zeros_like(param)
        state["step"] += 1
        v, u = state["square_avg"], state["acc_delta"]
        work, delta = self._scratch(param), self._scratch(param, "delta")
        g = decayed_gradient(param, grad, group)            # g_t ← ∇f(θ_{t−1}) + λθ_{t−1}
        v *= rho
        addcmul_(v, g, g, 1 - rho, work)                    # v_t ← v_{t−1}ρ + g_t²(1 − ρ)
        std = np.add(v, eps, out=work)
        np.sqrt(std, out=std)                               # √(v_t + ε)
        np.add(u, eps, out=delta)
        np.sqrt(delta, out=delta)                           # √(u_{t−1} + ε)
        delta /= std
        delta *= g                                          # Δx_t ← √(u_{t−1} + ε)/√(v_t + ε) · g_t
        u *= rho
        addcmul_(u, delta, delta, 1 - rho, work)            # u_t ← u_{t−1}ρ + Δx_t²(1 − ρ)
        param -= np.multiply(delta, lr, out=work)           # θ_t ← θ_{t−1} − γΔx_t
