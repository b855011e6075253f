"""Adam and AdamW: momentum on the gradient, RMSprop on its square, bias-corrected."""
from __future__ import annotations

from typing import Any

import numpy as np

from .optimizer import (
    Optimizer,
    ParamsT,
    adam_moments,
    addcdiv_,
    check_adam_options,
    scalar,
)


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015): a running mean of the gradient (momentum) divided by the
    root of a running mean of its square (RMSprop), both corrected for starting at zero.

    The update (PyTorch's algorithm box; γ lr, β₁ β₂ betas, λ weight decay)::

        m₀ ← 0;  v₀ ← 0;  v₀^max ← 0   (states "exp_avg", "exp_avg_sq", "max_exp_avg_sq")
        for t = 1, 2, ...
            g_t ← ∇f(θ_{t−1})                   (−∇f(θ_{t−1}) if maximize)
            if λ ≠ 0:  g_t ← g_t + λθ_{t−1}     (AdamW instead: θ_t ← θ_{t−1} − γλθ_{t−1})
            m_t ← β₁m_{t−1} + (1 − β₁)g_t
            v_t ← β₂v_{t−1} + (1 − β₂)g_t²
            m̂_t ← m_t/(1 − β₁ᵗ)
            if amsgrad:
                v_t^max ← max(v_{t−1}^max, v_t)
                v̂_t ← v_t^max/(1 − β₂ᵗ)
            else:
                v̂_t ← v_t/(1 − β₂ᵗ)
            θ_t ← θ_{t−1} − γ m̂_t/(√v̂_t + ε)

    The lecture notes (document 002, docs/sources.md), with dx the gradient::

        m = b1*m + (1-b1)*dx
        v = b2*v + (1-b2)*dx**2
        x -= lr * m / (sqrt(v) + eps)

    The notes leave out the bias correction m̂, v̂; the published algorithm, PyTorch and
    this library include it. Without it the first steps are too small: m₁ = (1 − β₁)g
    is a tenth of the gradient. With it the first step is γ·g/(|g| + ε), about γ per
    coordinate. The two forms agree once β₁ᵗ and β₂ᵗ are negligible.

    Weight decay here is L2 regularisation (λθ added to the gradient, then rescaled by
    Adam like the rest of it); `AdamW` decouples it.

    The last lines are computed as PyTorch's single-tensor Adam computes them, in its
    order: the step size γ/(1 − β₁ᵗ), the denominator √v_t/√(1 − β₂ᵗ) + ε (= √v̂_t + ε),
    then θ_t ← θ_{t−1} − (step size · m_t)/denominator.

    Args:
        params: tensors to optimize, or dicts defining parameter groups.
        lr: learning rate γ. Default: 1e-3.
        betas: (β₁, β₂), the averages' decay rates, each in [0, 1). Default: (0.9, 0.999).
        eps: ε, added to the denominator. Default: 1e-8.
        weight_decay: λ. Default: 0.
        amsgrad: divide by the largest v seen so far (Reddi et al., 2018). Default: False.
        maximize: ascend the objective instead. Default: False.
        foreach: False runs the update once per parameter instead of once over each
            group's flat buffers (same numbers, slower). Default: None (flat buffers).
        decoupled_weight_decay: decay θ directly, as AdamW does. Default: False.

    Example::

        >>> import autodiff as ad, optim
        >>> x = ad.tensor([2.0, -3.0], dtype=ad.float64, requires_grad=True)
        >>> opt = optim.Adam([x], lr=0.1)
        >>> (x ** 2).sum().backward(); opt.step()   # first step: x -= lr · sign(dx)
        >>> x
        tensor([ 1.9, -2.9], dtype=float64, requires_grad=True)
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, decoupled_weight_decay: bool = False) -> None:
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize, foreach=foreach,
                                      decoupled_weight_decay=decoupled_weight_decay))

    def _check(self, options: dict[str, Any]) -> None:
        check_adam_options(type(self).__name__, options)

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        work = self._scratch(param)
        t, m, v, _ = adam_moments(param, grad, state, group, work)   # g_t, λ, m_t, v_t
        bias_correction1 = 1 - beta1 ** t
        bias_correction2 = 1 - beta2 ** t
        step_size = lr / bias_correction1                   # γ m̂_t = γ/(1 − β₁ᵗ) · m_t
        bias_correction2_sqrt = bias_correction2 ** 0.5
        if group["amsgrad"]:
            v_max = state["max_exp_avg_sq"]
            np.maximum(v_max, v, out=v_max)                 # v_t^max ← max(v_{t−1}^max, v_t)
            v = v_max
        denom = np.sqrt(v, out=work)
        denom /= bias_correction2_sqrt                      # √v̂_t = √v_t / √(1 − β₂ᵗ)
        denom += scalar(eps, denom.dtype)                   # √v̂_t + ε
        addcdiv_(param, m, denom, -step_size,               # θ_t ← θ_{t−1} − γ m̂_t/(√v̂_t + ε)
                 self._scratch(param, "step"))


class AdamW(Adam):
    """AdamW (Loshchilov & Hutter, 2019): Adam with decoupled weight decay.

    The same update as `Adam`, except for the weight-decay line::

        Adam:   g_t ← g_t + λθ_{t−1}      (L2: the decay is rescaled by 1/(√v̂_t + ε) like g_t)
        AdamW:  θ_t ← θ_{t−1} − γλθ_{t−1}  (every weight shrinks by the same factor 1 − γλ)

    so the decay a weight gets no longer depends on the size of its gradients. The notes
    (document 002, docs/sources.md) have no weight decay; see `Adam` for their form of the rest.

    Args:
        params, lr, betas, eps, amsgrad, maximize, foreach: as for `Adam`.
        weight_decay: λ. Default: 1e-2.

    Example::

        >>> import autodiff as ad, optim
        >>> x = ad.tensor([2.0], dtype=ad.float64, requires_grad=True)
        >>> opt = optim.AdamW([x], lr=0.1, weight_decay=0.5)
        >>> (x ** 2).sum().backward(); opt.step()   # 2·(1 − 0.05) − 0.1
        >>> round(x.item(), 6)
        1.8
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         foreach=foreach, decoupled_weight_decay=True)
