"""RMSprop: steps divided by a running root-mean-square of recent gradients."""
from __future__ import annotations

from typing import Any

import numpy as np

from .optimizer import (
    Optimizer,
    ParamsT,
    addcdiv_,
    addcmul_,
    check_eps,
    check_nonnegative,
    decayed_gradient,
    lerp_,
)


class RMSprop(Optimizer):
    """RMSprop (Hinton, Coursera lecture 6e): like Adagrad, but the squared gradients are
    averaged with exponentially decaying weights, so steps do not shrink forever.

    The update (PyTorch's algorithm box; γ lr, α alpha, λ weight decay, μ momentum)::

        v₀ ← 0;  b₀ ← 0;  ḡ₀ ← 0        (states "square_avg", "momentum_buffer", "grad_avg")
        for t = 1, 2, ...
            g_t ← ∇f(θ_{t−1})           (−∇f(θ_{t−1}) if maximize)
            if λ ≠ 0:  g_t ← g_t + λθ_{t−1}
            v_t ← αv_{t−1} + (1 − α)g_t²
            ṽ_t ← v_t
            if centered:
                ḡ_t ← ḡ_{t−1}α + (1 − α)g_t
                ṽ_t ← ṽ_t − ḡ_t²        (an estimate of the variance instead of E[g²])
            if μ > 0:
                b_t ← μb_{t−1} + g_t/(√ṽ_t + ε)
                θ_t ← θ_{t−1} − γb_t
            else:
                θ_t ← θ_{t−1} − γg_t/(√ṽ_t + ε)

    The lecture notes (document 002, docs/sources.md), with dx the gradient and cache the average::

        cache = decay * cache + (1 - decay) * dx**2
        x -= lr * dx / (sqrt(cache) + eps)

    which is the box with α = decay, λ = 0, μ = 0, centered=False. The notes suggest
    decay in {0.9, 0.99, 0.999}; PyTorch's default α is 0.99.

    Args:
        params: tensors to optimize, or dicts defining parameter groups.
        lr: learning rate γ. Default: 1e-2.
        alpha: α, the averages' decay, in [0, 1]. Default: 0.99.
        eps: ε, added to the denominator. Default: 1e-8.
        weight_decay: λ, L2 penalty. Default: 0.
        momentum: μ. Default: 0.
        centered: normalise by the gradient's estimated variance. Default: False.
        maximize: ascend the objective instead. Default: False.
        foreach: False runs the update once per parameter instead of once over each
            group's flat buffers (same numbers, slower). Default: None (flat buffers).

    Example::

        >>> import autodiff as ad, optim
        >>> x = ad.tensor([3.0], dtype=ad.float64, requires_grad=True)
        >>> opt = optim.RMSprop([x], lr=0.01, alpha=0.99)
        >>> (x ** 2).sum().backward(); opt.step()   # v = 0.01·36: x -= 0.01 · 6 / 0.6
        >>> round(x.item(), 6)
        2.9
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0, momentum: float = 0,
                 centered: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None) -> None:
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered,
                                      maximize=maximize, foreach=foreach))

    def _check(self, options: dict[str, Any]) -> None:
        for name in ("lr", "weight_decay", "momentum"):
            check_nonnegative("RMSprop", name, options[name])
        check_eps("RMSprop", options["eps"])
        if not 0.0 <= options["alpha"] <= 1.0:
            raise ValueError(f"RMSprop: alpha must be in [0, 1], got {options['alpha']!r}")

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        lr, alpha, mu = group["lr"], group["alpha"], group["momentum"]
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(param)
            if mu > 0:
                state["momentum_buffer"] = np.zeros_like(param)
            if group["centered"]:
                state["grad_avg"] = np.zeros_like(param)
        state["step"] += 1
        work, step = self._scratch(param), self._scratch(param, "step")
        g = decayed_gradient(param, grad, group)            # g_t ← ∇f(θ_{t−1}) + λθ_{t−1}
        v = state["square_avg"]
        v *= alpha
        addcmul_(v, g, g, 1 - alpha, work)                  # v_t ← αv_{t−1} + (1 − α)g_t²
        if group["centered"]:
            g_avg = state["grad_avg"]
            lerp_(g_avg, g, 1 - alpha, work)                # ḡ_t ← ḡ_{t−1}α + (1 − α)g_t
            avg = np.negative(g_avg, out=work)
            avg *= g_avg
            avg += v                                        # ṽ_t ← v_t − ḡ_t²
            np.sqrt(avg, out=avg)                           # √ṽ_t
        else:
            avg = np.sqrt(v, out=work)                      # √ṽ_t, ṽ_t ← v_t
        avg += group["eps"]                                 # √ṽ_t + ε
        if mu > 0:
            b = state["momentum_buffer"]
            b *= mu
            addcdiv_(b, g, avg, 1, step)                    # b_t ← μb_{t−1} + g_t/(√ṽ_t + ε)
            param -= np.multiply(b, lr, out=step)           # θ_t ← θ_{t−1} − γb_t
        else:
            addcdiv_(param, g, avg, -lr, step)              # θ_t ← θ_{t−1} − γg_t/(√ṽ_t + ε)
