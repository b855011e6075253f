"""Adafactor: RMSprop-like steps whose second moment of a matrix is stored as one average
per row and one per column, and whose step size is relative to the parameter's size."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .optimizer import Optimizer, ParamsT, check_nonnegative, lerp_


def rms(array: np.ndarray) -> float:
    """RMS(x) = ‖x‖₂ / √n, as a Python float (torch's `x.norm(2).item() / x.numel() ** 0.5`)."""
    return float(np.linalg.norm(array)) / array.size ** 0.5


class Adafactor(Optimizer):
    """Adafactor (Shazeer & Stern, 2018), as torch's: the second moment of the gradient of
    an (…, n, m) parameter is kept as its row means R (…, n, 1) and column means C
    (…, 1, m), and estimated as V̂ = R·C / mean(R); the step is relative to RMS(θ) and
    clipped when the update's RMS exceeds d.

    The update (PyTorch's algorithm box; γ lr, τ beta2_decay, (ε₁, ε₂) eps, d the clipping
    threshold, λ weight decay)::

        R₀ ← 0;  C₀ ← 0;  V̂₀ ← 0     (states "row_var", "col_var" for dim ≥ 2, else "variance")
        for t = 1, 2, ...
            G_t ← ∇f(θ_{t−1})                           (−∇f(θ_{t−1}) if maximize)
            β̂₂_t ← 1 − t^τ
            ρ_t ← min(γ, 1/√t)
            α_t ← max(ε₂, RMS(θ_{t−1}))·ρ_t
            θ_t ← θ_{t−1} − γλθ_{t−1}
            if dim(G_t) > 1:
                R_t ← β̂₂_t R_{t−1} + (1 − β̂₂_t)·mean of G_t² over each row
                C_t ← β̂₂_t C_{t−1} + (1 − β̂₂_t)·mean of G_t² over each column
                V̂_t ← R_t C_t / max(mean(R_t), ε₁)
            else:
                V̂_t ← β̂₂_t V̂_{t−1} + (1 − β̂₂_t)·G_t²
            U_t ← G_t / max(√V̂_t, ε₁)
            Û_t ← U_t / max(1, RMS(U_t)/d)
            θ_t ← θ_t − α_t Û_t

    ε₁ None means the machine epsilon of the parameter's dtype. β̂₂_1 = 0, so the first
    step takes V̂₁ = G₁² (or its factored form), and β̂₂_t → 1 as t grows. The learning
    rate caps the relative step size ρ_t and scales the decoupled weight decay (the paper
    caps ρ_t at 0.01, torch's default γ). For a matrix, R C / mean(R) is the rank-one
    matrix whose row and column means are R and C: n + m numbers stored instead of n·m.

    The update of a matrix couples its elements (row and column means, the RMS of U), so
    it is not elementwise: Adafactor always runs once per parameter, never on a group's
    flat buffers. Its state holds arrays of other shapes than the parameter's.

    Args:
        params: tensors to optimize, or dicts defining parameter groups.
        lr: γ, the largest relative step size and the weight decay's scale. Default: 1e-2.
        beta2_decay: τ <= 0, the decay rate of β̂₂. Default: -0.8.
        eps: (ε₁, ε₂): ε₁ floors the second-moment estimate (None: the dtype's machine
            epsilon), ε₂ floors RMS(θ) in the step size. Default: (None, 1e-3).
        d: the clipping threshold on RMS(U_t), >= 1. Default: 1.0.
        weight_decay: λ, decoupled (applied as θ ← θ − γλθ). Default: 0.0.
        foreach: accepted as torch's; the update runs per parameter either way.
            Default: None.
        maximize: ascend the objective instead. Default: False.

    Example::

        >>> import autodiff as ad, optim
        >>> x = ad.tensor([3.0, -4.0], dtype=ad.float64, requires_grad=True)
        >>> opt = optim.Adafactor([x], lr=0.1)
        >>> (x ** 2).sum().backward(); opt.step()   # U = sign(g), α = 0.1·RMS(x) ≈ 0.354
        >>> x
        tensor([ 2.64644661, -3.64644661], dtype=float64, requires_grad=True)
    """

    elementwise = False

    def __init__(self, params: ParamsT, lr: float = 1e-2, beta2_decay: float = -0.8,
                 eps: tuple[float | None, float] = (None, 1e-3), d: float = 1.0,
                 weight_decay: float = 0.0, *, foreach: bool | None = None,
                 maximize: bool = False) -> None:
        super().__init__(params, dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d,
                                      weight_decay=weight_decay, foreach=foreach,
                                      maximize=maximize))

    def _check(self, options: dict[str, Any]) -> None:
        check_nonnegative("Adafactor", "lr", options["lr"])
        if not options["beta2_decay"] <= 0.0:
            raise ValueError(f"Adafactor: beta2_decay must be <= 0, got "
                             f"{options['beta2_decay']!r}")
        eps = options["eps"]
        if not (isinstance(eps, (tuple, list)) and len(eps) == 2):
            raise TypeError(f"Adafactor: eps must be a pair (eps1, eps2), e.g. (None, 1e-3), "
                            f"got {eps!r}")
        if eps[0] is not None and not 0.0 <= eps[0] < math.inf:
            raise ValueError(f"Adafactor: eps[0] must be None or finite and >= 0, got "
                             f"{eps[0]!r}")
        if not 0.0 <= eps[1] < math.inf:
            raise ValueError(f"Adafactor: eps[1] must be finite and >= 0, got {eps[1]!r}")
        if not options["d"] >= 1.0:
            raise ValueError(f"Adafactor: d (the clipping threshold) must be >= 1, got "
                             f"{options['d']!r}")
        check_nonnegative("Adafactor", "weight_decay", options["weight_decay"])

    def _state_shape(self, key: str, shape: tuple[int, ...]) -> tuple[int, ...]:
        if key == "row_var":
            return (*shape[:-1], 1)                   # R: one mean per row
        if key == "col_var":
            return (*shape[:-2], 1, shape[-1])        # C: one mean per column
        return shape

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        lr, weight_decay = group["lr"], group["weight_decay"]
        eps1, eps2 = group["eps"]
        if eps1 is None:
            eps1 = float(np.finfo(param.dtype).eps)
        factored = param.ndim > 1
        if not state:
            state["step"] = 0
            if factored:
                state["row_var"] = np.zeros(self._state_shape("row_var", param.shape),
                                            param.dtype)                          # R₀ ← 0
                state["col_var"] = np.zeros(self._state_shape("col_var", param.shape),
                                            param.dtype)                          # C₀ ← 0
            else:
                state["variance"] = np.zeros_like(param)                          # V̂₀ ← 0
        g = -grad if group["maximize"] else grad            # G_t ← ∇f(θ_{t−1})  (− if maximize)
        state["step"] += 1
        t = state["step"]
        one_minus_beta2 = t ** group["beta2_decay"]         # 1 − β̂₂_t = t^τ
        rho = min(lr, 1 / t ** 0.5)                         # ρ_t ← min(γ, 1/√t)
        alpha = max(eps2, rms(param)) * rho                 # α_t ← max(ε₂, RMS(θ_{t−1}))·ρ_t
        if weight_decay != 0:
            param *= 1 - lr * weight_decay                  # θ_t ← θ_{t−1} − γλθ_{t−1}
        if factored:
            row_var, col_var = state["row_var"], state["col_var"]
            # the means of G_t² as torch takes them: ‖row‖₂² / m, ‖column‖₂² / n
            row_mean = np.linalg.norm(g, axis=-1, keepdims=True) ** 2 / g.shape[-1]
            lerp_(row_var, row_mean, one_minus_beta2,       # R_t ← β̂₂R_{t−1} + (1 − β̂₂)·row mean
                  np.empty_like(row_var))
            col_mean = np.linalg.norm(g, axis=-2, keepdims=True) ** 2 / g.shape[-2]
            lerp_(col_var, col_mean, one_minus_beta2,       # C_t ← β̂₂C_{t−1} + (1 − β̂₂)·col mean
                  np.empty_like(col_var))
            v_hat = row_var @ col_var                       # V̂_t ← R_t C_t / max(mean(R_t), ε₁)
            v_hat /= np.maximum(row_var.mean(axis=-2, keepdims=True), eps1)
        else:
            variance = state["variance"]
            lerp_(variance, g * g, one_minus_beta2,         # V̂_t ← β̂₂V̂_{t−1} + (1 − β̂₂)G_t²
                  np.empty_like(variance))
            v_hat = variance
        update = 1 / np.sqrt(np.maximum(v_hat, eps1 * eps1))
        update *= g                                         # U_t ← G_t / max(√V̂_t, ε₁)
        clip = max(1.0, float(np.linalg.norm(update))       # Û_t ← U_t / max(1, RMS(U_t)/d)
                   / (update.size ** 0.5 * group["d"]))
        param += update * (-alpha / clip)                   # θ_t ← θ_t − α_t Û_t
