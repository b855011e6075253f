"""Rprop: a step size per coordinate, grown while the gradient keeps its sign, shrunk
when it flips; the gradient's size is never used, only its sign."""
from __future__ import annotations

from typing import Any

import numpy as np

from .optimizer import Optimizer, ParamsT, check_nonnegative


class Rprop(Optimizer):
    """Resilient backpropagation (Riedmiller & Braun, 1993), full-batch: each coordinate
    moves by its own step size Δ against the sign of its gradient.

    The update (PyTorch's algorithm box; η₋ η₊ the etas, Δ_min Δ_max the step sizes'
    bounds, γ lr)::

        g₀ ← 0;  Δ₀ ← γ                         (states "prev", "step_size")
        for t = 1, 2, ...
            g_t ← ∇f(θ_{t−1})                   (−∇f(θ_{t−1}) if maximize)
            where g_t·g_{t−1} > 0:  Δ_t ← min(η₊·Δ_{t−1}, Δ_max)
            where g_t·g_{t−1} < 0:  Δ_t ← max(η₋·Δ_{t−1}, Δ_min);  g_t ← 0
            elsewhere:              Δ_t ← Δ_{t−1}
            θ_t ← θ_{t−1} − sign(g_t)·Δ_t

    A coordinate whose gradient flipped sign does not move this step, and its zeroed
    gradient counts as "no sign" at the next one. Meant for full batches: with
    mini-batches the signs flip from noise.

    Args:
        params: tensors to optimize, or dicts defining parameter groups.
        lr: γ, the starting step size. Default: 1e-2.
        etas: (η₋, η₊), with 0 < η₋ < 1 < η₊. Default: (0.5, 1.2).
        step_sizes: (Δ_min, Δ_max). Default: (1e-6, 50).
        maximize: ascend the objective instead. Default: False.
        foreach: False runs the update once per parameter instead of once over each
            group's flat buffers (same numbers, slower). Default: None (flat buffers).

    Example::

        >>> import autodiff as ad, optim
        >>> x = ad.tensor([1.0, -2.0], dtype=ad.float64, requires_grad=True)
        >>> opt = optim.Rprop([x], lr=0.5)
        >>> for _ in range(2):
        ...     opt.zero_grad(); (x ** 2).sum().backward(); opt.step()
        >>> x                                  # 1 − 0.5 − 0.6, −2 + 0.5 + 0.6
        tensor([-0.1, -0.9], dtype=float64, requires_grad=True)
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2,
                 etas: tuple[float, float] = (0.5, 1.2),
                 step_sizes: tuple[float, float] = (1e-6, 50), *, maximize: bool = False,
                 foreach: bool | None = None) -> None:
        super().__init__(params, dict(lr=lr, etas=tuple(etas), step_sizes=tuple(step_sizes),
                                      maximize=maximize, foreach=foreach))

    def _check(self, options: dict[str, Any]) -> None:
        check_nonnegative("Rprop", "lr", options["lr"])
        minus, plus = options["etas"]
        if not 0.0 < minus < 1.0 < plus:
            raise ValueError(f"Rprop: etas must be (η₋, η₊) with 0 < η₋ < 1 < η₊, got "
                             f"{options['etas']!r}")
        low, high = options["step_sizes"]
        if not 0.0 <= low <= high:
            raise ValueError(f"Rprop: step_sizes must be (Δ_min, Δ_max) with 0 <= Δ_min <= "
                             f"Δ_max, got {options['step_sizes']!r}")

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        if not state:
            state["step"] = 0
            state["prev"] = np.zeros_like(param)                          # g₀ ← 0
            state["step_size"] = np.full_like(param, group["lr"])         # Δ₀ ← γ
        state["step"] += 1
        prev, step_size = state["prev"], state["step_size"]
        minus, plus = group["etas"]
        g = self._scratch(param, "grad")
        if group["maximize"]:
            np.negative(grad, out=g)                         # g_t ← −∇f(θ_{t−1})
        else:
            g[...] = grad
        product = np.multiply(g, prev, out=self._scratch(param))
        flipped = product < 0
        factor = np.where(product > 0, plus, np.where(flipped, minus, 1.0))
        step_size *= factor.astype(param.dtype, copy=False)  # Δ_t ← η·Δ_{t−1}, clamped
        np.clip(step_size, *group["step_sizes"], out=step_size)
        g[flipped] = 0                                       # a flipped sign: no move
        np.sign(g, out=product)
        product *= step_size
        param -= product                                     # θ_t ← θ_{t−1} − sign(g_t)·Δ_t
        prev[...] = g
