"""SGD: gradient descent, with optional momentum (heavy ball or Nesterov)."""
from __future__ import annotations

from typing import Any

import numpy as np

from .optimizer import Optimizer, ParamsT, check_nonnegative, decayed_gradient


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum (heavy ball or Nesterov).

    The update (PyTorch's algorithm box; γ lr, μ momentum, τ dampening, λ weight decay)::

        for t = 1, 2, ...
            g_t ← ∇f(θ_{t−1})                (−∇f(θ_{t−1}) if maximize)
            if λ ≠ 0:  g_t ← g_t + λθ_{t−1}
            if μ ≠ 0:
                b_t ← g_t                    if t = 1
                b_t ← μb_{t−1} + (1 − τ)g_t  if t > 1
                g_t ← g_t + μb_t             if nesterov
                g_t ← b_t                    otherwise
            θ_t ← θ_{t−1} − γg_t

    The lecture notes (document 002, docs/sources.md) write the same rules with dx the gradient::

        vanilla:   x -= lr * dx
        momentum:  v = mu * v - lr * dx;  x += v
        Nesterov:  v_prev = v;  v = mu * v - lr * dx;  x += -mu * v_prev + (1 + mu) * v

    Why they agree (τ = 0, λ = 0): the notes' velocity is the step itself, v = −γb.
    Multiplying b ← μb + g by −γ gives v ← μv − γg, and θ ← θ − γb is x += v. Both
    start from v = 0, b₁ = g₁. For Nesterov, θ ← θ − γ(g + μb) = θ − γg + μv, and the
    notes' −μ·v_prev + (1 + μ)·v = (v − μ·v_prev) + μv = −γg + μv: the same step. The
    forms part only when lr changes during training: PyTorch's (used here) scales the
    whole buffer by the new lr, the notes' velocity keeps the steps taken at the old one.

    Args:
        params: tensors to optimize, or dicts defining parameter groups.
        lr: learning rate γ. Default: 1e-3.
        momentum: μ. Default: 0.
        dampening: τ, damps the gradient's share of the buffer. Default: 0.
        weight_decay: λ, L2 penalty (λ/2)‖θ‖² added to the loss. Default: 0.
        nesterov: Nesterov momentum (needs momentum > 0 and dampening 0). Default: False.
        maximize: ascend the objective instead. Default: False.
        foreach: False runs the update once per parameter instead of once over each
            group's flat buffers (same numbers, slower). Default: None (flat buffers).

    Example (document 003: on f(x) = x², each step multiplies x by 1 − 2·lr = 0.4)::

        >>> import autodiff as ad, optim
        >>> x = ad.tensor(5.0, dtype=ad.float64, requires_grad=True)
        >>> opt = optim.SGD([x], lr=0.3)
        >>> for _ in range(3):
        ...     opt.zero_grad()
        ...     (x ** 2).backward()
        ...     opt.step()
        ...     print(round(x.item(), 12))
        2.0
        0.8
        0.32
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, momentum: float = 0,
                 dampening: float = 0, weight_decay: float = 0, nesterov: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None) -> None:
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize, foreach=foreach))

    def _check(self, options: dict[str, Any]) -> None:
        check_nonnegative("SGD", "lr", options["lr"])
        check_nonnegative("SGD", "momentum", options["momentum"])
        check_nonnegative("SGD", "weight_decay", options["weight_decay"])
        if options["nesterov"] and (options["momentum"] <= 0 or options["dampening"] != 0):
            raise ValueError(f"SGD: nesterov=True needs momentum > 0 and dampening = 0, got "
                             f"momentum={options['momentum']!r}, "
                             f"dampening={options['dampening']!r}")

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        lr, mu, tau = group["lr"], group["momentum"], group["dampening"]
        g = decayed_gradient(param, grad, group)            # g_t ← ∇f(θ_{t−1}) + λθ_{t−1}
        if mu != 0:
            if "momentum_buffer" not in state:
                b = state["momentum_buffer"] = np.array(g)  # b_t ← g_t  (t = 1; a copy)
            else:
                b = state["momentum_buffer"]
                b *= mu
                b += (1 - tau) * g                          # b_t ← μb_{t−1} + (1 − τ)g_t
            if group["nesterov"]:
                g = g + mu * b                              # g_t ← g_t + μb_t
            else:
                g = b                                       # g_t ← b_t
        param -= lr * g                                     # θ_t ← θ_{t−1} − γg_t
