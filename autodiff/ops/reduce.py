"""Reductions: y = a summary of x over some axes (all of them when axis is None).

Backward spreads dL/dy back over the reduced axes: `keep_dims` first restores the
reduced axes as size-1 axes, then broadcasting does the rest. Tie rule for max/min: the
gradient is shared equally among all elements equal to the extreme (as torch's amax).
"""
from __future__ import annotations

import collections
from typing import Any

import numpy as np

from ..errors import ShapeError
from ..function import Function
from ..tensor import Tensor, _reduction_axis
from .backmath import broadcast_to
from .discrete import ArgExtreme

Axes = tuple[int, ...] | None

ValuesIndices = collections.namedtuple("ValuesIndices", ["values", "indices"])


def normalize_axes(op: str, dim: Any, ndim: int) -> Axes:
    """`dim` (None, an int or ints, negative allowed) as a tuple of axes in range."""
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    if ndim == 0 and all(d in (0, -1) for d in dims):
        return None                      # torch lets 0-d tensors reduce over dim 0 or -1
    axes = [normalize_dim(op, d, ndim) for d in dims]
    if len(set(axes)) != len(axes):
        raise ShapeError(f"{op}: dim {dim} names the same axis twice")
    return tuple(axes)


def normalize_dim(op: str, dim: int, ndim: int) -> int:
    """One dim (negative allowed) as an axis in range(ndim)."""
    if not -ndim <= dim < ndim:
        raise ShapeError(f"{op}: dim {dim} is out of range for a tensor with {ndim} "
                         f"dimensions (use -{ndim} to {ndim - 1})")
    return int(dim) % ndim


def keep_dims(grad: Any, shape: tuple[int, ...], axis: Axes, keepdims: bool) -> Any:
    """dL/dy reshaped so the reduced axes are back, with size 1."""
    if keepdims:
        return grad
    axes = range(len(shape)) if axis is None else axis
    kept = tuple(1 if i in axes else n for i, n in enumerate(shape))
    return grad.reshape(kept)


def reduced_count(shape: tuple[int, ...], axis: Axes) -> int:
    return int(np.prod(shape if axis is None else [shape[a] for a in axis]))


class Sum(Function):
    """y = Σᵢ xᵢ;  dy/dxᵢ = 1"""

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        ctx.shape, ctx.axis, ctx.keepdims = x.shape, axis, keepdims
        return x.sum(axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        return broadcast_to(keep_dims(grad, ctx.shape, ctx.axis, ctx.keepdims), ctx.shape)


class Mean(Function):
    """y = (1/N) Σᵢ xᵢ;  dy/dxᵢ = 1/N"""

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        ctx.shape, ctx.axis, ctx.keepdims = x.shape, axis, keepdims
        ctx.count = reduced_count(x.shape, axis)
        return x.mean(axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        grad = keep_dims(grad, ctx.shape, ctx.axis, ctx.keepdims) / ctx.count
        return broadcast_to(grad, ctx.shape)


class Var(Function):
    """y = Σᵢ (xᵢ - x̄)² / (N - correction);  dy/dxᵢ = 2(xᵢ - x̄) / (N - correction)"""

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False, correction=1):
        ctx.axis, ctx.keepdims, ctx.shape = axis, keepdims, x.shape
        ctx.divisor = max(reduced_count(x.shape, axis) - correction, 0)
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return x.var(axis=axis, keepdims=keepdims, ddof=correction)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        grad = keep_dims(grad, ctx.shape, ctx.axis, ctx.keepdims)
        centered = x - x.mean(axis=ctx.axis, keepdims=True)
        return grad * 2 * centered / ctx.divisor


class Max(Function):
    """y = max xᵢ;  dy/dxᵢ = 1/k for the k elements equal to the maximum, else 0"""

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        return _extreme_forward(ctx, x, x.max(axis=axis, keepdims=True), axis, keepdims)

    @staticmethod
    def backward(ctx, grad):
        return keep_dims(grad, ctx.shape, ctx.axis, ctx.keepdims) * ctx.share


class Min(Function):
    """y = min xᵢ;  dy/dxᵢ = 1/k for the k elements equal to the minimum, else 0"""

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        return _extreme_forward(ctx, x, x.min(axis=axis, keepdims=True), axis, keepdims)

    @staticmethod
    def backward(ctx, grad):
        return keep_dims(grad, ctx.shape, ctx.axis, ctx.keepdims) * ctx.share


def _extreme_forward(ctx: Any, x: np.ndarray, extreme: np.ndarray, axis: Axes,
                     keepdims: bool) -> np.ndarray:
    ctx.shape, ctx.axis, ctx.keepdims = x.shape, axis, keepdims
    hits = x == extreme
    ctx.share = (hits / hits.sum(axis=axis, keepdims=True)).astype(x.dtype)
    return extreme if keepdims else np.squeeze(extreme, axis=axis)


def extreme(op: str, x: Tensor, dim: Any, keepdim: bool, axis: Any,
            keepdims: bool | None) -> Any:
    """Tensor.max / Tensor.min: the whole-tensor extreme, (values, indices) along a dim,
    or the elementwise extreme with another tensor."""
    from .elementwise import Maximum, Minimum
    if isinstance(dim, Tensor):
        return (Maximum if op == "max" else Minimum).apply(x, dim)
    dim, keepdim = _reduction_axis(dim, axis, keepdim, keepdims)
    reduction = Max if op == "max" else Min
    if dim is None:
        return reduction.apply(x, axis=None, keepdims=False)
    if not isinstance(dim, (int, np.integer)):
        raise ShapeError(f"{op}: with a dim it returns (values, indices) and needs one int "
                         f"dim, got {dim}; reduce one dim at a time, e.g. "
                         f"x.{op}(dim=-1).values.{op}(dim=-1).values")
    axes = normalize_axes(op, dim, x.ndim)
    values = reduction.apply(x, axis=axes, keepdims=keepdim)
    return ValuesIndices(values, arg_extreme("arg" + op, x, dim, keepdim))


def arg_extreme(op: str, x: Tensor, dim: int | None, keepdim: bool) -> Tensor:
    """Indices (int64, no gradient) of the first max/min along `dim`, or in the flattened
    tensor when dim is None."""
    axes = normalize_axes(op, dim, x.ndim)
    find = np.argmax if op == "argmax" else np.argmin
    if x.numel() == 0:
        raise ShapeError(f"{op}: the tensor of shape {x.shape} is empty")
    return ArgExtreme.apply(x, find=find, axis=None if axes is None else axes[0],
                            keepdims=keepdim)
