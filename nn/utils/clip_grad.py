"""Gradient clipping, between backward() and the optimizer's step: clip_grad_norm_
rescales all gradients together, clip_grad_value_ clamps each element. Both change the
`.grad` tensors in place, under no_grad (the change is not part of any graph), with `*=`
and `[...] =`, which a compiled training step (ad.compile) replays."""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np

import autodiff as ad
from autodiff.errors import DomainError
from autodiff.tensor import Tensor


def _grads(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    """The gradients of one tensor or of several, skipping those without one."""
    parameters = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [p.grad for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float,
                    norm_type: float = 2.0, error_if_nonfinite: bool = False) -> Tensor:
    """Scale all gradients by one factor so that their total norm is at most max_norm
    (Pascanu et al., 2013), against exploding gradients:

        total = ‖(‖g₁‖ₚ, ‖g₂‖ₚ, …)‖ₚ        the p-norm of all gradients as one vector
        coef  = min(1, max_norm / (total + 1e-6))
        gᵢ   ← coef · gᵢ                   (direction kept, length capped)

    Args:
        parameters: a tensor or an iterable of tensors (e.g. model.parameters()); those
            without a .grad are skipped.
        max_norm: the largest total norm allowed.
        norm_type: p (default 2.0; float('inf') for the largest |gradient element|).
        error_if_nonfinite: raise instead of scaling when the total norm is NaN or inf.

    Returns:
        the total norm before clipping, a 0-d tensor (0. when no parameter has a gradient).

    >>> import autodiff as ad
    >>> w = ad.zeros(2, requires_grad=True)
    >>> (w * ad.tensor([3.0, 4.0])).sum().backward()
    >>> clip_grad_norm_([w], max_norm=1.0)
    tensor(5.)
    >>> w.grad.numpy().round(4)              # [3, 4] · 1 / (5 + 1e-6)
    array([0.6, 0.8], dtype=float32)
    """
    grads = _grads(parameters)
    if not grads:
        return ad.tensor(0.0)
    norm_type = float(norm_type)
    with ad.no_grad():
        total = ad.stack([g.norm(norm_type) for g in grads]).norm(norm_type)
        if error_if_nonfinite and not np.isfinite(total.item()):
            raise DomainError(f"clip_grad_norm_: the total norm of order {norm_type} of the "
                              f"gradients is {total.item()}, so they cannot be clipped; "
                              f"look for the NaN or inf first (ad.detect_anomaly()), or pass "
                              f"error_if_nonfinite=False to scale by it anyway")
        coef = (max_norm / (total + 1e-6)).clamp(max=1.0)
        for g in grads:
            g *= coef.to(g.dtype)
    return total


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clamp every gradient element to [-clip_value, clip_value], in place.

    >>> import autodiff as ad
    >>> w = ad.zeros(3, requires_grad=True)
    >>> (w * ad.tensor([-5.0, 0.5, 2.0])).sum().backward()
    >>> clip_grad_value_(w, 1.0)
    >>> w.grad
    tensor([-1. ,  0.5,  1. ])
    """
    with ad.no_grad():
        for g in _grads(parameters):
            g[...] = g.clamp(-clip_value, clip_value)
