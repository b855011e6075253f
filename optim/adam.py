"""Adam and AdamW: momentum on the gradient, RMSprop on its square, bias-corrected."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .optimizer import Optimizer, ParamsT, check_adam_options


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015): a running mean of the gradient (momentum) divided by the
    root of a running mean of its square (RMSprop), both corrected for starting at zero.

    The update (PyTorch's algorithm box; γ lr, β₁ β₂ betas, λ weight decay)::

        m ← 0;  v ← 0;  v_max ← 0       (states "exp_avg", "exp_avg_sq", "max_exp_avg_sq")
        for t = 1, 2, ...
            g ← ∇f(θ)                   (−∇f(θ) if maximize)
            if λ ≠ 0:  g ← g + λθ       (AdamW instead: θ ← θ − γλθ)
            m ← β₁m + (1 − β₁)g
            v ← β₂v + (1 − β₂)g²
            m̂ ← m / (1 − β₁ᵗ)
            if amsgrad:
                v_max ← max(v_max, v)
                v̂ ← v_max / (1 − β₂ᵗ)
            else:
                v̂ ← v / (1 − β₂ᵗ)
            θ ← θ − γ m̂ / (√v̂ + ε)

    The lecture notes (document 002, docs/sources.md), with dx the gradient::

        m = b1*m + (1-b1)*dx
        v = b2*v + (1-b2)*dx**2
        x -= lr * m / (sqrt(v) + eps)

    The notes leave out the bias correction m̂, v̂; the published algorithm, PyTorch and
    this library include it. Without it the first steps are too small: m₁ = (1 − β₁)g
    is a tenth of the gradient. With it the first step is γ·g/(|g| + ε), about γ per
    coordinate. The two forms agree once β₁ᵗ and β₂ᵗ are negligible.

    Weight decay here is L2 regularisation (λθ added to the gradient, then rescaled by
    Adam like the rest of it); `AdamW` decouples it. Both running averages are set to
    zero where they fall below the dtype's smallest normal number, every 16th step, as
    PyTorch does not (see `Optimizer._flush_subnormals`; the effect is below 1.2e-38
    in float32).

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
        lr, (beta1, beta2), decay = group["lr"], group["betas"], group["weight_decay"]
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(param)
            state["exp_avg_sq"] = np.zeros_like(param)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(param)
        state["step"] += 1
        t, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]
        g = -grad if group["maximize"] else grad
        if decay != 0:
            if group["decoupled_weight_decay"]:
                param *= 1 - lr * decay                     # θ ← θ − γλθ   (AdamW)
            else:
                g = g + decay * param                       # g ← g + λθ    (Adam)
        work = self._scratch(param)                         # in place: no temporaries
        m *= beta1
        m += np.multiply(g, 1 - beta1, out=work)            # m ← β₁m + (1 − β₁)g
        v *= beta2
        np.multiply(g, g, out=work)
        work *= 1 - beta2
        v += work                                           # v ← β₂v + (1 − β₂)g²
        if self._flush_due:
            self._flush_subnormals(m)
            self._flush_subnormals(v)
        if group["amsgrad"]:
            v = state["max_exp_avg_sq"]
            np.maximum(v, state["exp_avg_sq"], out=v)       # v_max ← max(v_max, v)
        bias1 = 1 - beta1 ** t                              # m̂ = m / (1 − β₁ᵗ)
        root2 = math.sqrt(1 - beta2 ** t)                   # v̂ = v / (1 − β₂ᵗ)
        # γ m̂ / (√v̂ + ε) = γ root2 / bias1 · m / (√v + ε root2): one pass fewer
        denom = np.sqrt(v, out=work)
        denom += group["eps"] * root2
        step = np.divide(m, denom, out=work)
        step *= lr * root2 / bias1
        param -= step                                       # θ ← θ − γ m̂ / (√v̂ + ε)


class AdamW(Adam):
    """AdamW (Loshchilov & Hutter, 2019): Adam with decoupled weight decay.

    The same update as `Adam`, except for the weight-decay line::

        Adam:   g ← g + λθ        (L2: the decay is rescaled by 1/(√v̂ + ε) like g)
        AdamW:  θ ← θ − γλθ       (every weight shrinks by the same factor 1 − γλ)

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
