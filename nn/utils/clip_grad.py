"""Gradient clipping, between backward() and the optimizer's step: clip_grad_norm_
rescales all gradients together (get_total_norm, then clip_grads_with_norm_),
clip_grad_value_ clamps each element. Both change the
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
                    norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach: bool | None = None) -> Tensor:
    """Scale all gradients by one factor so that their total norm is at most max_norm
    (Pascanu et al., 2013), against exploding gradients:

        total = ‖(‖g₁‖ₚ, ‖g₂‖ₚ, …)‖ₚ        the p-norm of all gradients as one vector
        coef  = min(1, max_norm / (total + 1e-6))
        gᵢ   ← coef · gᵢ                   (direction kept, length capped)

    It is `get_total_norm` of the gradients, then `clip_grads_with_norm_`.

    Args:
        parameters: a tensor or an iterable of tensors (e.g. model.parameters()); those
            without a .grad are skipped.
        max_norm: the largest total norm allowed.
        norm_type: p (default 2.0; float('inf') for the largest |gradient element|).
        error_if_nonfinite: raise instead of scaling when the total norm is NaN or inf.
        foreach: accepted for torch's signature; the gradients are scaled one by one.

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
    parameters = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    total = _total_norm("clip_grad_norm_", _grads(parameters), norm_type, error_if_nonfinite)
    clip_grads_with_norm_(parameters, max_norm, total)
    return total


def get_total_norm(tensors: Tensor | Iterable[Tensor], norm_type: float = 2.0,
                   error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """‖(‖t₁‖ₚ, ‖t₂‖ₚ, …)‖ₚ: the p-norm of the tensors taken together as one vector (of
    gradients, usually: `get_total_norm([p.grad for p in model.parameters()])`), a 0-d
    tensor outside any graph; 0. for no tensors. None entries are skipped.

    >>> import autodiff as ad
    >>> get_total_norm([ad.tensor([3.0]), ad.tensor([4.0])])
    tensor(5.)
    """
    tensors = [tensors] if isinstance(tensors, Tensor) else \
        [t for t in tensors if t is not None]
    return _total_norm("get_total_norm", tensors, norm_type, error_if_nonfinite)


def _total_norm(name: str, tensors: list[Tensor], norm_type: float,
                error_if_nonfinite: bool) -> Tensor:
    if not tensors:
        return ad.tensor(0.0)
    norm_type = float(norm_type)
    with ad.no_grad():
        total = ad.stack([t.norm(norm_type) for t in tensors]).norm(norm_type)
    if error_if_nonfinite and not np.isfinite(total.item()):
        raise DomainError(f"{name}: the total norm of order {norm_type} is {total.item()}, "
                          f"so the gradients cannot be clipped by it; look for the NaN or inf "
                          f"first (ad.detect_anomaly()), or pass error_if_nonfinite=False to "
                          f"scale by it anyway")
    return total


def clip_grads_with_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float,
                          total_norm: Tensor | float, foreach: bool | None = None) -> None:
    """gᵢ ← min(1, max_norm / (total_norm + 1e-6)) · gᵢ for every parameter's gradient, in
    place: the second half of `clip_grad_norm_`, given a total norm computed before (e.g.
    by `get_total_norm`, over gradients gathered from several places)."""
    grads = _grads(parameters)
    with ad.no_grad():
        coef = (max_norm / (ad.as_tensor(total_norm) + 1e-6)).clamp(max=1.0)
        for g in grads:
            g *= coef.to(g.dtype)


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float,
                     foreach: bool | None = None) -> None:
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
