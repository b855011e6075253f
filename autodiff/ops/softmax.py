"""Softmax, log-softmax and log-sum-exp along an axis, computed stably (the maximum is
subtracted first, so logits of ±1000 give finite results)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ShapeError
from ..function import Function
from ..tensor import Axis, Tensor, register_methods
from .array_or_tensor import exp
from .reduce import dim_and_keepdim, keep_dims, normalize_axes


def one_axis(op: str, dim: int | None, axis: int | None, ndim: int) -> int | None:
    """The single axis softmax-like ops work along (torch requires it to be given)."""
    chosen = dim if axis is None else axis
    if type(chosen) is int and -ndim <= chosen < ndim:     # the common case, quickly
        return chosen % ndim
    if chosen is None:
        raise ShapeError(f"{op}: say which dim the probabilities run along, e.g. "
                         f"x.{op}(dim=-1) (or dim=1 for a batch of rows)")
    axes = normalize_axes(op, chosen, ndim)
    return None if axes is None else axes[0]


def shift_by_max(x: np.ndarray, axis: Any) -> tuple[np.ndarray, np.ndarray]:
    """(x - m, m) with m the maximum along `axis` (0 where it is not finite, and along an
    axis of size 0), kept dims."""
    shift = x.max(axis=axis, keepdims=True, initial=-np.inf)
    shift = np.where(np.isfinite(shift), shift, 0)
    return x - shift, shift


def log_sum_exp_of_shifted(shifted: np.ndarray, axis: Any) -> np.ndarray:
    """log Σ exp(shifted) along `axis`, kept dims; shifted's maximum is 0, so no overflow
    (and the sum is at least 1, unless every entry was -inf)."""
    return np.log(sum_along(np.exp(shifted), axis))


def log_softmax_array(x: np.ndarray, axis: Any) -> np.ndarray:
    """log softmax(x) = (x − max x) − log Σ exp(x − max x) along `axis` (a row holding inf
    gives NaN, as torch)."""
    shifted = x - max_along(x, axis)
    return shifted - log_sum_exp_of_shifted(shifted, axis)


def shifted_log_sum_exp(x: np.ndarray, axis: Any) -> np.ndarray:
    """log Σ exp(x) along `axis`, keeping dims, with the max subtracted for stability."""
    shifted, shift = shift_by_max(x, axis)
    return log_sum_exp_of_shifted(shifted, axis) + shift


class LogSumExp(Function):
    """y = log Σᵢ exp(xᵢ);  dy/dxᵢ = exp(xᵢ - y) = softmax(x)ᵢ"""

    derivative = ("dL/dx = dL/dy · exp(x − y) = dL/dy · softmax(x), broadcast back over the "
                  "reduced axes",)

    name = "logsumexp"

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        ctx.shape, ctx.axis, ctx.keepdims = x.shape, axis, keepdims
        y = shifted_log_sum_exp(x, axis)
        if not keepdims:
            y = np.squeeze(y, axis=axis)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        y = keep_dims(y, ctx.shape, ctx.axis, ctx.keepdims)
        return keep_dims(grad, ctx.shape, ctx.axis, ctx.keepdims) * exp(x - y)


class Softmax(Function):
    """yᵢ = exp(xᵢ) / Σⱼ exp(xⱼ);  dL/dxᵢ = yᵢ (gᵢ - Σⱼ gⱼ yⱼ)  (g = dL/dy)"""

    derivative = ("dL/dx = y ⊙ (dL/dy − Σ (dL/dy ⊙ y) along the axis)",)

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        y = np.exp(x - max_along(x, axis))
        y /= sum_along(y, axis)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return y * (grad - sum_along(grad * y, ctx.axis))


class LogSoftmax(Function):
    """yᵢ = xᵢ - log Σⱼ exp(xⱼ);  dL/dxᵢ = gᵢ - exp(yᵢ) Σⱼ gⱼ  (g = dL/dy)

    Computed as (xᵢ - m) - log Σⱼ exp(xⱼ - m) with m = max x: subtracting m before the
    log-sum-exp keeps float32 results exact to rounding even at logits of ±1000."""

    derivative = ("dL/dx = dL/dy − exp(y) · Σ dL/dy along the axis",)

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        y = log_softmax_array(x, axis)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return grad - exp(y) * sum_along(grad, ctx.axis)


# ---------------------------------------------------------------- class-axis reductions
#
# Max and sum along one axis, kept dims, without numpy's slow path for short rows.
#
# numpy reduces the last axis of a C-ordered array one row at a time, so a batch of class
# scores (N, C) with few classes pays a loop step per row: for 1024 × 10 float32, `max`
# takes 48 µs and `sum` 21 µs. Reducing the contiguous transpose (C, N) along axis 0 is
# one vectorised pass per class instead (6 µs each, copy included). Results are the same
# numbers (the max exactly; the sum to rounding, as it adds in a different order).
# Softmax, log-softmax and cross-entropy reduce along their class axis with these.

SHORT_ROW = 32      # at most this many classes ...
TALL = 64           # ... in at least this many rows: the transposed path is faster


def _short_rows(x: np.ndarray, axis: int) -> bool:
    return x.ndim == 2 and axis in (1, -1) and x.shape[1] <= SHORT_ROW and x.shape[0] >= TALL


def max_along(x: np.ndarray, axis: int) -> np.ndarray:
    """x.max(axis=axis, keepdims=True); -inf along an axis of size 0 (max's identity), so
    softmax over an empty dim gives an empty result, as torch."""
    if _short_rows(x, axis):
        return np.ascontiguousarray(x.T).max(axis=0).reshape(-1, 1)
    return x.max(axis=axis, keepdims=True, initial=-np.inf)


def sum_along(x: Any, axis: int) -> Any:
    """x.sum(axis=axis, keepdims=True), for arrays and (recorded) tensors alike."""
    if isinstance(x, np.ndarray) and _short_rows(x, axis):
        return np.ascontiguousarray(x.T).sum(axis=0).reshape(-1, 1)
    return x.sum(axis=axis, keepdims=True)


# ---------------------------------------------------------------- attached to Tensor

def _logsumexp(self: Tensor, dim: Axis = None, keepdim: bool = False, *, axis: Axis = None,
               keepdims: bool | None = None) -> Tensor:
    """log Σ eˣ over `dim`, computed stably (the maximum subtracted first)."""
    dim, keepdim = dim_and_keepdim(dim, axis, keepdim, keepdims)
    return LogSumExp.apply(self, axis=normalize_axes("logsumexp", dim, self.ndim),
                           keepdims=keepdim)


def _softmax(self: Tensor, dim: int | None = None, *, axis: int | None = None) -> Tensor:
    """eˣ / Σ eˣ along `dim`."""
    return Softmax.apply(self, axis=one_axis("softmax", dim, axis, self.ndim))


def _log_softmax(self: Tensor, dim: int | None = None, *, axis: int | None = None
                 ) -> Tensor:
    """x − log Σ eˣ along `dim`."""
    return LogSoftmax.apply(self, axis=one_axis("log_softmax", dim, axis, self.ndim))


register_methods({"logsumexp": _logsumexp, "softmax": _softmax, "log_softmax": _log_softmax})
