"""Reductions: y = a summary of x over some axes (all of them when axis is None).

Backward spreads dL/dy back over the reduced axes: `keep_dims` first restores the
reduced axes as size-1 axes, then broadcasting does the rest. Tie rule for max/min (and
amax/amin, and the ∞-norm): the gradient is shared equally among all elements equal to
the extreme (as torch's amax).

`dim=None` and `dim=()` both mean every dim (torch's rule). With `keepdim=True` every
reduced axis stays as size 1, also for `dim=None`: a (2, 3, 4) tensor reduces to
(1, 1, 1), as numpy's `keepdims=True` does.
"""
from __future__ import annotations

import collections
from typing import Any

import numpy as np

from ..errors import DimError, DtypeError, ShapeError
from ..function import Function
from ..tensor import Axis, Tensor, register_methods
from .array_or_tensor import absolute, broadcast_to, permute
from .discrete import ArgExtreme
from .elementwise import Maximum, Minimum, Where, where

Axes = tuple[int, ...] | None

ValuesIndices = collections.namedtuple("ValuesIndices", ["values", "indices"])


def normalize_axes(op: str, dim: Any, ndim: int) -> Axes:
    """`dim` (None, an int or ints, negative allowed) as a tuple of axes in range; None
    (every axis) for None and for an empty tuple, as torch reads `dim=()`."""
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    if not dims:
        return None
    if ndim == 0 and all(d in (0, -1) for d in dims):
        return None                      # torch lets 0-d tensors reduce over dim 0 or -1
    axes = [normalize_dim(op, d, ndim) for d in dims]
    if len(set(axes)) != len(axes):
        raise ShapeError(f"{op}: dim {dim} names the same axis twice")
    return tuple(axes)


def normalize_dim(op: str, dim: int, ndim: int) -> int:
    """One dim (negative allowed) as an axis in range(ndim)."""
    if not -ndim <= dim < ndim:
        raise DimError(f"{op}: dim {dim} is out of range for a tensor with {ndim} "
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

    derivative = ("dL/dx = dL/dy broadcast back over the summed axes",)

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        ctx.shape, ctx.axis, ctx.keepdims = x.shape, axis, keepdims
        return x.sum(axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        return broadcast_to(keep_dims(grad, ctx.shape, ctx.axis, ctx.keepdims), ctx.shape)


class Mean(Function):
    """y = (1/N) Σᵢ xᵢ;  dy/dxᵢ = 1/N"""

    derivative = ("dL/dx = dL/dy / N broadcast back over the averaged axes (N elements averaged)",)

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        ctx.shape, ctx.axis, ctx.keepdims = x.shape, axis, keepdims
        ctx.count = reduced_count(x.shape, axis)
        return x.mean(axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        grad = keep_dims(grad, ctx.shape, ctx.axis, ctx.keepdims) / ctx.count
        return broadcast_to(grad, ctx.shape)


def variance(x: np.ndarray, axis: Axes, keepdims: bool, divisor: int) -> np.ndarray:
    """Σᵢ (xᵢ - x̄)² / divisor, the steps of x.var(ddof=) taken here: a divisor of 0 (one
    element with correction 1) then gives NaN silently, as torch, since autodiff's
    warning filter covers this module (numpy's own would warn "Degrees of freedom")."""
    centered = x - x.mean(axis=axis, keepdims=True)
    centered *= centered
    return centered.sum(axis=axis, keepdims=keepdims) / divisor


class Var(Function):
    """y = Σᵢ (xᵢ - x̄)² / (N - correction);  dy/dxᵢ = 2(xᵢ - x̄) / (N - correction)"""

    derivative = ("dL/dx = dL/dy · 2(x − x̄) / (N − correction)",)

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False, correction=1):
        ctx.axis, ctx.keepdims, ctx.shape = axis, keepdims, x.shape
        ctx.divisor = max(reduced_count(x.shape, axis) - correction, 0)
        ctx.save_for_backward(x)
        return variance(x, axis, keepdims, ctx.divisor)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        grad = keep_dims(grad, ctx.shape, ctx.axis, ctx.keepdims)
        centered = x - x.mean(axis=ctx.axis, keepdims=True)
        return grad * 2 * centered / ctx.divisor


class Std(Function):
    """y = √var(x);  dy/dxᵢ = (xᵢ - x̄) / ((N - correction) · y), and 0 where y = 0

    Its own op rather than var(x).sqrt(): at a constant input sqrt'(0) = ∞ meets
    var' = 0, and the chain rule gives ∞ · 0 = NaN where the limit, and torch's
    std_backward (which masks grad / y where y = 0), gives 0. One element with
    correction 1 still gives NaN (0 / 0 variance), as torch."""

    derivative = ("dL/dx = dL/dy · (x − x̄) / ((N − correction) · y), 0 where y = 0",)

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False, correction=1):
        ctx.axis, ctx.keepdims, ctx.shape = axis, keepdims, x.shape
        ctx.divisor = max(reduced_count(x.shape, axis) - correction, 0)
        y = np.sqrt(variance(x, axis, keepdims, ctx.divisor))
        ctx.zero = keep_dims(np.asarray(y == 0), x.shape, axis, keepdims)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        grad = keep_dims(grad, ctx.shape, ctx.axis, ctx.keepdims)
        y = keep_dims(y, ctx.shape, ctx.axis, ctx.keepdims)
        grad_var = grad / y                                 # 2 · dL/dvar
        if ctx.zero.any():
            grad_var = where(ctx.zero, 0, grad_var)
        centered = x - x.mean(axis=ctx.axis, keepdims=True)
        return grad_var * centered / ctx.divisor


class Prod(Function):
    """y = Πᵢ xᵢ;  dy/dxᵢ = Π_{j≠i} xⱼ, the product of the others (exact where some xⱼ = 0:
    it is never computed as y / xᵢ)"""

    derivative = ("dL/dx = dL/dy · Π_{j≠i} xⱼ at each xᵢ, the product of the others",)

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        ctx.shape, ctx.axis, ctx.keepdims = x.shape, axis, keepdims
        ctx.save_for_backward(x)
        return x.prod(axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        grad = keep_dims(grad, ctx.shape, ctx.axis, ctx.keepdims)
        return grad * product_of_others(x, None if ctx.axis is None else ctx.axis[0])


class Max(Function):
    """y = max xᵢ;  dy/dxᵢ = 1/k for the k elements equal to the maximum, else 0"""

    derivative = ("dL/dx = dL/dy / k at the k elements equal to the maximum, else 0",)

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        return _extreme_forward(ctx, x, x.max(axis=axis, keepdims=True), axis, keepdims)

    @staticmethod
    def backward(ctx, grad):
        return keep_dims(grad, ctx.shape, ctx.axis, ctx.keepdims) * ctx.share


class Min(Function):
    """y = min xᵢ;  dy/dxᵢ = 1/k for the k elements equal to the minimum, else 0"""

    derivative = ("dL/dx = dL/dy / k at the k elements equal to the minimum, else 0",)

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


class Norm(Function):
    """y = (Σᵢ |xᵢ|ᵖ)^(1/p);  dy/dxᵢ = sign(xᵢ) (|xᵢ| / y)^(p-1)
    (x/y for p = 2). The orders whose derivative is piecewise constant keep it as a
    constant, `ctx.slope`: p = 1 gives Σ|xᵢ| with dy/dx = sign(x); p = inf gives max |xᵢ|
    and p = -inf min |xᵢ|, with dy/dxᵢ = sign(xᵢ)/k for the k elements where |xᵢ| = y
    (ties share, as for max), else 0; p = 0 counts the xᵢ ≠ 0, with dy/dx = 0.

    Subgradients, as torch's: 0 where xᵢ = 0 (also for p < 1, where |xᵢ|^(p-1) is
    infinite) and 0 everywhere when y = 0 (for p > 0 all xᵢ are then 0; for p < 0 one
    zero xⱼ makes y = 0, and y stays 0 as the others move). Backward computes |x| / y with
    1 in place of each zero, so nothing divides by 0, and masks the result where y = 0.

    >>> import autodiff as ad
    >>> x = ad.tensor([3.0, 0.0, -4.0], requires_grad=True)
    >>> y = x.norm()                   # √(9 + 16)
    >>> y.backward()
    >>> y.item(), x.grad               # x / ‖x‖
    (5.0, tensor([ 0.6,  0. , -0.8]))
    """

    derivative = ("dL/dx = dL/dy · sign(x) · (|x| / y)^(p−1), 0 where x = 0 or y = 0 (x / y "
                  "for p = 2; sign(x) for p = 1; sign(x) / k at the k extremes for p = ±∞, "
                  "else 0; 0 for p = 0)",)

    @staticmethod
    def forward(ctx, x, p=2.0, axis=None, keepdims=False):
        ctx.shape, ctx.axis, ctx.keepdims, ctx.p = x.shape, axis, keepdims, p
        magnitude = np.abs(x)
        ctx.slope = None
        if p in (np.inf, -np.inf):
            extreme = (magnitude.max if p > 0 else magnitude.min)(axis=axis, keepdims=True)
            hits = magnitude == extreme
            ctx.slope = (np.sign(x) * hits / hits.sum(axis=axis, keepdims=True)).astype(x.dtype)
            y = extreme if keepdims else np.squeeze(extreme, axis=axis)
        elif p == 0:
            ctx.slope = np.zeros(x.shape, x.dtype)
            y = (x != 0).sum(axis=axis, keepdims=keepdims).astype(x.dtype)
        elif p == 1:
            ctx.slope = np.sign(x)
            y = magnitude.sum(axis=axis, keepdims=keepdims)
        else:
            if p == 2:
                y = np.sqrt((x * x).sum(axis=axis, keepdims=keepdims))
            else:
                y = (magnitude ** p).sum(axis=axis, keepdims=keepdims) ** (1 / p)
            ctx.sign = np.sign(x)
            ctx.x_is_zero = (x == 0).astype(x.dtype)
            ctx.y_is_zero = keep_dims(np.asarray(y == 0, dtype=x.dtype), x.shape, axis,
                                      keepdims)
            ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        grad = keep_dims(grad, ctx.shape, ctx.axis, ctx.keepdims)
        if ctx.slope is not None:
            return grad * ctx.slope
        x, y = ctx.saved_tensors
        y = keep_dims(y, ctx.shape, ctx.axis, ctx.keepdims)
        ratio = (absolute(x) + ctx.x_is_zero) / (y + ctx.y_is_zero)     # |x| / y
        return grad * ctx.sign * ratio ** (ctx.p - 1) * (1 - ctx.y_is_zero)


def norm(x: Tensor, p: Any, dim: Any, keepdim: bool) -> Tensor:
    """Tensor.norm: torch.norm's vector norms; 'fro' (the default) is the 2-norm."""
    if not np.issubdtype(x.dtype, np.floating):
        raise DtypeError(f"norm: needs a floating-point tensor, this one is {x.dtype}; "
                         f"convert it first, e.g. x.float()")
    if p == "fro":
        if dim is not None and not isinstance(dim, (int, np.integer)) and len(dim) > 2:
            raise ShapeError(f"norm: p='fro' is a norm over at most two dims, got dim "
                             f"{dim}; use p=2 for the 2-norm over more dims")
        p = 2.0
    if isinstance(p, str) or isinstance(p, bool) or not isinstance(p, (int, float, np.number)):
        raise ValueError(f"norm: p must be 'fro' or a number (1, 2, inf, ...), got {p!r}; "
                         f"matrix norms such as 'nuc' are not supported")
    return Norm.apply(x, p=float(p), axis=normalize_axes("norm", dim, x.ndim),
                      keepdims=keepdim)


def prod(x: Tensor, dim: Any, keepdim: bool) -> Tensor:
    """Tensor.prod: over every element (dim None), or along one int dim as torch."""
    if dim is not None and not isinstance(dim, (int, np.integer)):
        raise ShapeError(f"prod: dim must be one int (or None for every element), got "
                         f"{dim}; reduce one dim at a time, e.g. x.prod(0).prod(0)")
    return Prod.apply(x, axis=normalize_axes("prod", dim, x.ndim), keepdims=keepdim)


def extreme(op: str, x: Tensor, dim: Any, keepdim: bool, axis: Any,
            keepdims: bool | None) -> Any:
    """Tensor.max / Tensor.min: the whole-tensor extreme, (values, indices) along a dim,
    or the elementwise extreme with another tensor."""
    if isinstance(dim, Tensor):
        return (Maximum if op == "max" else Minimum).apply(x, dim)
    dim, keepdim = dim_and_keepdim(dim, axis, keepdim, keepdims)
    reduction = Max if op == "max" else Min
    if dim is None:
        check_extreme_exists(op, x.shape, None)
        return reduction.apply(x, axis=None, keepdims=keepdim)
    if not isinstance(dim, (int, np.integer)):
        raise ShapeError(f"{op}: with a dim it returns (values, indices) and needs one int "
                         f"dim, got {dim}; reduce one dim at a time, e.g. "
                         f"x.{op}(dim=-1).values.{op}(dim=-1).values")
    axes = normalize_axes(op, dim, x.ndim)
    check_extreme_exists(op, x.shape, axes)
    values = reduction.apply(x, axis=axes, keepdims=keepdim)
    return ValuesIndices(values, arg_extreme("arg" + op, x, dim, keepdim))


def arg_extreme(op: str, x: Tensor, dim: int | None, keepdim: bool) -> Tensor:
    """Indices (int64, no gradient) of the first max/min along `dim`, or in the flattened
    tensor when dim is None."""
    axes = normalize_axes(op, dim, x.ndim)
    find = np.argmax if op == "argmax" else np.argmin
    check_extreme_exists(op, x.shape, axes)
    return ArgExtreme.apply(x, find=find, axis=None if axes is None else axes[0],
                            keepdims=keepdim)


def check_extreme_exists(op: str, shape: tuple[int, ...], axes: Axes) -> None:
    """torch's rule for max, min, amax, amin, argmax and argmin of an empty tensor: along
    dims that all have elements the result is empty (argmax(dim=1) of a (0, 4) tensor has
    shape (0,)), but an extreme over no elements does not exist, so reducing every dim
    (axes None), or a dim of size 0, raises."""
    if 0 not in shape:
        return
    extreme = "largest" if "max" in op else "smallest"
    if axes is None:
        raise DimError(f"{op}: the tensor of shape {shape} is empty, so it has no {extreme} "
                       f"element; pass dim= to reduce along a dim that has elements (the "
                       f"result is then empty too)")
    empty = [a for a in axes if shape[a] == 0]
    if empty:
        raise DimError(f"{op}: dim {empty[0]} of the tensor of shape {shape} has size 0, so "
                       f"there is no {extreme} element along it; reduce along a dim that has "
                       f"elements")


def product_of_others(x: Any, axis: int | None) -> Any:
    """out[i] = Π_{j≠i} x[j] along `axis` (over every element when None): dΠx/dxᵢ.

    Never divides (Πx / xᵢ fails where xᵢ = 0). On an ndarray it multiplies the running
    products from the left and from the right, one pass each. On a Tensor (backward with
    create_graph) it is recorded from differentiable ops: row i of an n × n matrix holds
    x with xᵢ replaced by 1, and each row's product is taken; n² elements, so that path
    suits the small reductions second derivatives are taken of."""
    shape = x.shape
    if axis is None:
        x = x.reshape(-1)
        axis = 0
    order = tuple(i for i in range(x.ndim) if i != axis) + (axis,)      # axis moved last
    moved = permute(x, order)
    n = moved.shape[-1]
    if isinstance(x, Tensor):
        rows = moved.unsqueeze(-2).expand(*moved.shape[:-1], n, n)
        others = Where.apply(np.eye(n, dtype=bool), 1, rows).prod(dim=-1)
    else:
        ones = np.ones(moved.shape[:-1] + (1,), dtype=x.dtype)
        before = np.cumprod(np.concatenate([ones, moved[..., :-1]], axis=-1), axis=-1)
        after = np.cumprod(np.concatenate([ones, moved[..., :0:-1]], axis=-1), axis=-1)
        others = before * after[..., ::-1]
    return permute(others, tuple(np.argsort(order))).reshape(shape)


# ---------------------------------------------------------------- attached to Tensor
# Each reduction takes torch's `dim`/`keepdim` and numpy's `axis`/`keepdims` spellings.

def dim_and_keepdim(dim: Any, axis: Any, keepdim: bool, keepdims: bool | None
                    ) -> tuple[Any, bool]:
    """The reduced dims and keepdim, from either spelling (numpy's wins when given)."""
    if axis is not None:
        dim = axis
    if keepdims is not None:
        keepdim = keepdims
    return dim, bool(keepdim)


def _sum(self: Tensor, dim: Axis = None, keepdim: bool = False, *, dtype: Any = None,
         axis: Axis = None, keepdims: bool | None = None) -> Tensor:
    """Σ over `dim` (every dim when None), in `dtype` when given (converted first);
    bools and integers sum as int64, as torch."""
    dim, keepdim = dim_and_keepdim(dim, axis, keepdim, keepdims)
    x = self.to(dtype) if dtype is not None else \
        self.to(np.int64) if self._data.dtype.kind in "biu" else self
    return Sum.apply(x, axis=normalize_axes("sum", dim, x.ndim), keepdims=keepdim)


def _mean(self: Tensor, dim: Axis = None, keepdim: bool = False, *, dtype: Any = None,
          axis: Axis = None, keepdims: bool | None = None) -> Tensor:
    """Σx / N over `dim` (every dim when None), in `dtype` when given (converted first)."""
    dim, keepdim = dim_and_keepdim(dim, axis, keepdim, keepdims)
    x = self.to(dtype) if dtype is not None else self
    return Mean.apply(x, axis=normalize_axes("mean", dim, x.ndim), keepdims=keepdim)


def spread(op: type, name: str) -> Any:
    """The method `name` (var or std, computed by `op`) with torch's and numpy's
    spellings of its arguments; unbiased (divides by N − 1) unless `correction=0` or
    `unbiased=False`."""
    def method(self: Tensor, dim: Axis = None, unbiased: bool | None = None,
               keepdim: bool = False, *, correction: int | None = None, axis: Axis = None,
               keepdims: bool | None = None) -> Tensor:
        dim, keepdim = dim_and_keepdim(dim, axis, keepdim, keepdims)
        if correction is None:
            correction = 0 if unbiased is False else 1
        return op.apply(self, axis=normalize_axes(name, dim, self.ndim), keepdims=keepdim,
                        correction=correction)

    method.__doc__ = op.__doc__
    return method


def _prod(self: Tensor, dim: int | None = None, keepdim: bool = False, *,
          axis: int | None = None, keepdims: bool | None = None) -> Tensor:
    """The product of every element, or along one int dim (torch's prod)."""
    dim, keepdim = dim_and_keepdim(dim, axis, keepdim, keepdims)
    return prod(self, dim, keepdim)


def _max(self: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
         keepdims: bool | None = None) -> Any:
    """Without `dim`: the largest element (every axis kept as size 1 with keepdim=True, as
    numpy's keepdims; torch's max() takes no keepdim). With `dim`: (values, indices) along
    it. With a tensor: the elementwise maximum. Ties share the gradient equally."""
    return extreme("max", self, dim, keepdim, axis, keepdims)


def _min(self: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
         keepdims: bool | None = None) -> Any:
    """Like `max`, for the smallest elements."""
    return extreme("min", self, dim, keepdim, axis, keepdims)


def _amax(self: Tensor, dim: Axis = (), keepdim: bool = False, *, axis: Axis = None,
          keepdims: bool | None = None) -> Tensor:
    """The largest element over `dim` (an int or ints; the default () means every dim),
    values only. Ties share the gradient equally, as torch's amax."""
    dim, keepdim = dim_and_keepdim(dim, axis, keepdim, keepdims)
    axes = normalize_axes("amax", dim, self.ndim)
    check_extreme_exists("amax", self.shape, axes)
    return Max.apply(self, axis=axes, keepdims=keepdim)


def _amin(self: Tensor, dim: Axis = (), keepdim: bool = False, *, axis: Axis = None,
          keepdims: bool | None = None) -> Tensor:
    """Like `amax`, for the smallest elements."""
    dim, keepdim = dim_and_keepdim(dim, axis, keepdim, keepdims)
    axes = normalize_axes("amin", dim, self.ndim)
    check_extreme_exists("amin", self.shape, axes)
    return Min.apply(self, axis=axes, keepdims=keepdim)


def _norm(self: Tensor, p: float | str = "fro", dim: Axis = None, keepdim: bool = False, *,
          axis: Axis = None, keepdims: bool | None = None) -> Tensor:
    """The vector p-norm over `dim` (every dim when None), as torch.norm and
    torch.linalg.vector_norm: (Σ|x|ᵖ)^(1/p); 'fro' (the default) is p = 2, inf the
    largest |x|, -inf the smallest, 0 the number of non-zeros."""
    dim, keepdim = dim_and_keepdim(dim, axis, keepdim, keepdims)
    return norm(self, p, dim, keepdim)


def arg_method(op: str) -> Any:
    """argmax or argmin: the index of the largest (smallest) element, along `dim` or of
    the flattened tensor."""
    def method(self: Tensor, dim: int | None = None, keepdim: bool = False, *,
               axis: int | None = None, keepdims: bool | None = None) -> Tensor:
        dim, keepdim = dim_and_keepdim(dim, axis, keepdim, keepdims)
        return arg_extreme(op, self, dim, keepdim)

    method.__doc__ = f"The index of the {'largest' if op == 'argmax' else 'smallest'} " \
                     f"element, along `dim` or of the flattened tensor."
    return method


register_methods({
    "sum": _sum, "mean": _mean, "var": spread(Var, "var"), "std": spread(Std, "std"),
    "prod": _prod, "max": _max, "min": _min, "amax": _amax, "amin": _amin, "norm": _norm,
    "argmax": arg_method("argmax"), "argmin": arg_method("argmin"),
})
