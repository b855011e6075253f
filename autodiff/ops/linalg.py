"""Determinants and distances: `det`, `slogdet` and `logdet` of square matrices (batched,
(*, n, n)), all three from one primitive, `Det`, whose derivative is the cofactor matrix;
and `cdist`, the p-norm distances between two sets of rows, a composite of elementwise
ops and reductions (no derivative of its own).

>>> import autodiff as ad
>>> a = ad.tensor([[2.0, 1.0], [1.0, 3.0]], requires_grad=True)
>>> a.det()                                   # 2·3 − 1·1
tensor(5., grad_fn=<DetBackward>)
>>> a.det().backward()
>>> a.grad                                    # the cofactor matrix, det(a)·a⁻ᵀ
tensor([[ 3., -1.],
        [-1.,  2.]])
>>> ad.cdist(ad.tensor([[0.0, 0.0]]), ad.tensor([[3.0, 4.0], [0.0, 0.0]]))
tensor([[5., 0.]])
"""
from __future__ import annotations

import collections
import math
import numbers
from typing import Any

import numpy as np

from ..errors import DomainError, DtypeError, ShapeError
from ..function import Function
from ..tensor import Tensor, array_of, register_methods
from .elementwise import Where, where
from .reduce import product_of_others

SignLogAbsDet = collections.namedtuple("SignLogAbsDet", ["sign", "logabsdet"])
SignLogAbsDet.__doc__ = "slogdet's result, as torch.return_types.slogdet: (sign, logabsdet)"


class Det(Function):
    """One `part` of the determinant of each matrix a of a batch (*, n, n):

        part         y               dL/da
        "det"        det a           dL/dy · cof(a), the cofactor matrix (= y · a⁻ᵀ when a
                                     is invertible; exact for singular a too)
        "logabsdet"  log |det a|     dL/dy · a⁻ᵀ (infinite where a is singular: refused)
        "sign"       sign(det a)     none: piecewise constant (as torch, which gives None)

    slogdet's two parts are two nodes, each factorising a once."""

    derivative = ("dL/da = dL/dy · cof(a) for det (= dL/dy · y · a⁻ᵀ when a is invertible); "
                  "dL/dy · a⁻ᵀ for log |det a|; none for the sign",)

    @staticmethod
    def forward(ctx, a, *, part="det"):
        ctx.part = part
        with np.errstate(all="ignore"):         # NaN and inf results are silent, as in torch
            if part == "det":
                y = np.linalg.det(a)
                ctx.save_for_backward(a, y)
                return y
            sign, logabsdet = np.linalg.slogdet(a)
        if part == "sign":
            return sign
        ctx.singular = sign == 0
        ctx.save_for_backward(a)
        return logabsdet

    @staticmethod
    def backward(ctx, grad):
        if ctx.part == "sign":
            return None
        grad = grad[..., None, None]
        if ctx.part == "det":
            a, y = ctx.saved_tensors
            return grad * cofactor(a, y)               # dL/da = dL/dy · cof(a)
        a, = ctx.saved_tensors
        singular = ctx.singular[..., None, None]
        if np.any(singular & (array_of(grad) != 0)):
            raise DomainError(
                f"slogdet/logdet: a matrix of the input (shape {a.shape}) is singular, so "
                f"log|det| is -inf there and its gradient a⁻ᵀ does not exist; add a small "
                f"multiple of the identity (a + eps·I), or differentiate det instead")
        if np.any(singular):              # no gradient reaches those: invert I there instead
            a = where(singular, np.eye(a.shape[-1], dtype=a.dtype), a)
        return grad * inverse_transpose(a)             # dL/da = dL/dy · a⁻ᵀ


def inverse_transpose(a: Any) -> Any:
    """a⁻ᵀ of each matrix: recorded (Inverse) on a tensor, plain numpy on an array."""
    return a.inverse().mT if isinstance(a, Tensor) else np.linalg.inv(a).mT


def cofactor(a: Any, det: Any) -> Any:
    """cof(a)ᵢⱼ = (−1)^(i+j) · det(a without row i and column j) = ∂det(a)/∂aᵢⱼ: a
    polynomial in a, defined and smooth everywhere, equal to det(a) · a⁻ᵀ where a is
    invertible.

    That formula serves while every matrix is well conditioned (condition number below
    1/√eps). Otherwise (a singular matrix, where a⁻ᵀ does not exist, or a nearly singular
    one, where it is inaccurate) a formula that never divides: on an array (a first
    derivative) the SVD a = U diag(s) Vᵀ, with det(a)·a⁻ᵀ = det(U)·det(V) · U diag(Π_{j≠i}
    sⱼ) Vᵀ (torch's way there too); on a tensor (create_graph, recorded so it can be
    differentiated again) the definition itself, the n² minors' determinants."""
    if well_conditioned(array_of(a)):
        return det[..., None, None] * inverse_transpose(a)
    if isinstance(a, Tensor):
        return signed_minors(a)
    u, s, vh = np.linalg.svd(a)
    others = product_of_others(s, s.ndim - 1)                # Π_{j≠i} sⱼ
    signs = np.linalg.det(u) * np.linalg.det(vh)             # ±1 each
    return (signs[..., None, None] * u * others[..., None, :]) @ vh


def well_conditioned(a: np.ndarray) -> bool:
    """Is every matrix's condition number below 1/√eps (so that its inverse is accurate to
    about √eps)? True for matrices holding NaN or inf too: their gradient is NaN whichever
    formula gives it."""
    if a.shape[-1] == 0 or not np.isfinite(a).all():
        return True
    return bool(np.all(np.linalg.cond(a) < 1 / math.sqrt(np.finfo(a.dtype).eps)))


def signed_minors(a: Tensor) -> Tensor:
    """(−1)^(i+j) · det(a without row i and column j) for every i, j: n² determinants of
    (n − 1) × (n − 1) matrices, taken by indexing and Det, so they are recorded."""
    n = a.shape[-1]
    others = np.array([[k for k in range(n) if k != i] for i in range(n)],
                      dtype=np.intp).reshape(n, n - 1)       # row i: every index but i
    minors = a[..., others[:, None, :, None], others[None, :, None, :]]  # (*, n, n, n−1, n−1)
    signs = (-1.0) ** np.add.outer(np.arange(n), np.arange(n))
    return Det.apply(minors) * signs.astype(a.dtype)


def _square_floats(op: str, a: Any) -> Tensor:
    """`a` as a tensor, checked to hold square float matrices (*, n, n)."""
    a = a if isinstance(a, Tensor) else Tensor(a)
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ShapeError(f"{op}: needs square matrices (*, n, n), got shape {a.shape}")
    if a.dtype.kind != "f" or a.dtype == np.float16:
        raise DtypeError(f"{op}: needs a float32 or float64 tensor (numpy's linear algebra "
                         f"has no float16, nor integers), got {a.dtype}; convert it first "
                         f"(a.double() or a.float())")
    return a


def det(a: Tensor) -> Tensor:
    """det a of a square matrix, or of each matrix of a batch (*, n, n);
    d det(a)/da = cof(a) = det(a)·a⁻ᵀ, the cofactor matrix, exact at singular matrices too
    (torch's value there), and differentiable again (create_graph)."""
    return Det.apply(_square_floats("det", a))


def slogdet(a: Tensor) -> SignLogAbsDet:
    """(sign, logabsdet) with det a = sign · exp(logabsdet), for each matrix of a batch
    (*, n, n), without det's overflow or underflow: a named tuple, as torch's. sign is
    ±1, or 0 for a singular matrix (logabsdet is then -inf); d logabsdet/da = a⁻ᵀ (a
    singular matrix refuses the gradient by name), sign has no gradient."""
    a = _square_floats("slogdet", a)
    return SignLogAbsDet(Det.apply(a, part="sign"), Det.apply(a, part="logabsdet"))


def logdet(a: Tensor) -> Tensor:
    """log det a for each matrix of a batch (*, n, n): logabsdet where det a > 0, -inf
    where det a = 0 and NaN where det a < 0 (with gradient 0 there), as torch's;
    d logdet(a)/da = a⁻ᵀ."""
    sign, logabsdet = slogdet(a)
    return Where.apply(sign < 0, math.nan, logabsdet)


# ---------------------------------------------------------------- cdist

COMPUTE_MODES = (None, "use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                 "donot_use_mm_for_euclid_dist")


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0, compute_mode: str | None = None) -> Tensor:
    """The p-norm distance between each row of x1 (*, P, M) and each row of x2 (*, R, M):
    out[..., i, j] = ‖x1[..., i, :] − x2[..., j, :]‖_p = (Σₖ |dₖ|ᵖ)^(1/p), shape (*, P, R)
    (batch dims broadcast). p = 0 counts the dₖ ≠ 0, p = inf takes max |dₖ|.

    d out/d x1ᵢ = sign(dₖ)·|dₖ|^(p−1) / out^(p−1) (dₖ/out for p = 2), and 0 where the
    distance is 0 (repeated points) or dₖ = 0, as torch's: the root and the power are
    each taken of a value masked away from 0 (where(d > 0, √where(d > 0, d, 1), 0)), so
    no 0 · ∞ ever appears. p = 0 has gradient 0; for p = inf tied maxima share the
    gradient, as max's do (torch gives each tie the whole of it).

    `compute_mode` is accepted (torch's values) and ignored: the distances are always
    taken from the differences, never through ‖x‖² + ‖y‖² − 2x·y, so they are exact, at
    the cost of a (*, P, R, M) intermediate."""
    x1 = x1 if isinstance(x1, Tensor) else Tensor(x1)
    x2 = x2 if isinstance(x2, Tensor) else Tensor(x2)
    _check_cdist(x1, x2, p, compute_mode)
    diff = x1.unsqueeze(-2) - x2.unsqueeze(-3)                 # (*, P, R, M)
    if p == 0:
        count = (diff != 0).sum(-1).to(diff.dtype)
        return Where.apply(np.ones(count.shape, bool), count, diff.sum(-1))   # gradient 0
    if p == 1:
        return diff.abs().sum(-1)
    if p == math.inf and diff.shape[-1] > 0:
        return diff.abs().amax(-1)
    if p == 2:
        return _masked_root(diff.pow(2).sum(-1), 2)
    nonzero = diff != 0
    powered = Where.apply(nonzero, Where.apply(nonzero, diff, 1.0).abs() ** p, 0.0)
    return _masked_root(powered.sum(-1), p)


def _masked_root(total: Tensor, p: float) -> Tensor:
    """total^(1/p), with value and gradient 0 where total = 0 (the root's slope is
    infinite there; masking the input keeps 0 · ∞ out of the gradient)."""
    positive = total > 0
    safe = Where.apply(positive, total, 1.0)
    root = safe.sqrt() if p == 2 else safe ** (1 / p)
    return Where.apply(positive, root, 0.0)


def _check_cdist(x1: Tensor, x2: Tensor, p: float, compute_mode: str | None) -> None:
    for name, x in (("x1", x1), ("x2", x2)):
        if x.ndim < 2:
            raise ShapeError(f"cdist: {name} must have at least 2 dims (*, rows, M), got "
                             f"shape {x.shape}; add a dim with {name}.unsqueeze(0)")
        if x.dtype.kind != "f":
            raise DtypeError(f"cdist: needs floating-point tensors, {name} is {x.dtype}; "
                             f"convert it with .float() or .double()")
    if x1.dtype != x2.dtype:
        raise DtypeError(f"cdist: x1 ({x1.dtype}) and x2 ({x2.dtype}) must have the same "
                         f"dtype; convert one of them (x2.to(x1.dtype))")
    if x1.shape[-1] != x2.shape[-1]:
        raise ShapeError(f"cdist: x1 of shape {x1.shape} and x2 of shape {x2.shape} must "
                         f"have the same number of columns M (their last dim)")
    try:
        np.broadcast_shapes(x1.shape[:-2], x2.shape[:-2])
    except ValueError:
        raise ShapeError(f"cdist: the batch dims of x1 {x1.shape} and x2 {x2.shape} do not "
                         f"broadcast together") from None
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not p >= 0:
        raise ValueError(f"cdist: p must be a number >= 0 (or math.inf), got {p!r}")
    if compute_mode not in COMPUTE_MODES:
        raise ValueError(f"cdist: compute_mode must be one of {COMPUTE_MODES}, got "
                         f"{compute_mode!r}")


# ---------------------------------------------------------------- attached to Tensor
# cdist is a function only, as in torch.
register_methods({"det": det, "slogdet": slogdet, "logdet": logdet})
