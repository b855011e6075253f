"""ASGD: stochastic gradient descent with a decaying step and, after t₀ steps, a running
average of the iterates (Polyak-Ruppert averaging)."""
from __future__ import annotations

from typing import Any

import numpy as np

from autodiff import get_default_dtype

from .optimizer import Optimizer, ParamsT, check_nonnegative, decayed_gradient


class ASGD(Optimizer):
    """Averaged SGD (Polyak & Juditsky, 1992), as torch's: SGD with the step size
    η_t = γ/(1 + λγt)^α and a weight decay λ, and the average θ̄ of the iterates from step
    t₀ on, kept in the state "ax" (read it for the averaged model; the parameters hold the
    plain iterates).

    The update (PyTorch's algorithm box; γ lr, λ lambd, α alpha, t₀ t0, w weight decay)::

        η₀ ← γ;  μ₀ ← 1;  θ̄₀ ← 0                 (states "eta", "mu", "ax")
        for t = 1, 2, ...
            g_t ← ∇f(θ_{t−1}) + wθ_{t−1}         (−∇f if maximize)
            θ_t ← θ_{t−1}·(1 − λη_{t−1}) − η_{t−1}g_t
            θ̄_t ← θ̄_{t−1} + μ_{t−1}(θ_t − θ̄_{t−1})   (θ̄_t ← θ_t while μ = 1)
            η_t ← γ/(1 + λγt)^α;  μ_t ← 1/max(1, t − t₀)

    η and μ are kept as numbers in the default float dtype (float32 unless set), as torch
    keeps them in 0-d tensors of that dtype, so the iterates round as torch's do.

    Args:
        params: tensors to optimize, or dicts defining parameter groups.
        lr: γ. Default: 1e-2.
        lambd: λ, the step size's decay (and the iterates' shrinkage). Default: 1e-4.
        alpha: α, the power of the decay. Default: 0.75.
        t0: the step after which averaging starts. Default: 1e6.
        weight_decay: w, L2 penalty. Default: 0.
        maximize: ascend the objective instead. Default: False.
        foreach: False runs the update once per parameter instead of once over each
            group's flat buffers (same numbers, slower). Default: None (flat buffers).
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, lambd: float = 1e-4,
                 alpha: float = 0.75, t0: float = 1e6, weight_decay: float = 0,
                 foreach: bool | None = None, maximize: bool = False) -> None:
        super().__init__(params, dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0,
                                      weight_decay=weight_decay, foreach=foreach,
                                      maximize=maximize))

    def _check(self, options: dict[str, Any]) -> None:
        for name in ("lr", "lambd", "alpha", "weight_decay"):
            check_nonnegative("ASGD", name, options[name])

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        scalar_type = get_default_dtype().type
        if not state:
            state["step"] = 0
            state["eta"] = scalar_type(group["lr"])            # η₀ ← γ
            state["mu"] = scalar_type(1.0)                      # μ₀ ← 1
            state["ax"] = np.zeros_like(param)                  # θ̄₀ ← 0
        state["step"] += 1
        t, eta, mu, ax = state["step"], float(state["eta"]), state["mu"], state["ax"]
        lr, lambd = group["lr"], group["lambd"]
        g = decayed_gradient(param, grad, group)               # g_t (+ wθ_{t−1})
        param *= 1 - lambd * eta                                # θ ← θ·(1 − λη)
        param -= np.multiply(g, eta, out=self._scratch(param))  # θ ← θ − ηg_t
        if mu != 1:
            difference = np.subtract(param, ax, out=self._scratch(param))
            difference *= mu
            ax += difference                                    # θ̄ ← θ̄ + μ(θ − θ̄)
        else:
            ax[...] = param                                     # θ̄ ← θ
        state["eta"] = scalar_type(lr / (1 + lambd * lr * t) ** group["alpha"])
        state["mu"] = scalar_type(1 / max(1, t - group["t0"]))
