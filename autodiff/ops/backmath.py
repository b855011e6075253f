"""The few functions backward formulas need beyond operators and methods.

Each works on an ndarray (first-order backward: plain numpy, nothing recorded) and on a
Tensor (backward with create_graph=True: recorded, so it can be differentiated again).
This is what lets every op state its derivative once.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor


def exp(x: Any) -> Any:
    return x.exp() if isinstance(x, Tensor) else np.exp(x)


def log(x: Any) -> Any:
    return x.log() if isinstance(x, Tensor) else np.log(x)


def absolute(x: Any) -> Any:
    return x.abs() if isinstance(x, Tensor) else np.abs(x)


def where(cond: Any, a: Any, b: Any) -> Any:
    """a where cond else b; cond is a constant (a boolean array or bool), a and b arrays,
    numbers or Tensors (recorded, so differentiable in a and b, when either is a Tensor).
    Backward formulas use it to mask the points where a formula's 0 · ∞ stands for a
    limit (torch's at::where in FunctionsManual.cpp), never to clean up results."""
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        from .elementwise import Where
        return Where.apply(cond, a, b)
    return np.where(cond, a, b)


def values(x: Any) -> Any:
    """The numbers in x: the array of a Tensor, an array or Python number as it is (for
    masks computed from saved values, which are Tensors in a create_graph backward)."""
    return x._data if isinstance(x, Tensor) else x


def broadcast_to(x: Any, shape: tuple[int, ...]) -> Any:
    return x.expand(*shape) if isinstance(x, Tensor) else np.broadcast_to(x, shape)


def permute(x: Any, axes: tuple[int, ...]) -> Any:
    return x.permute(*axes) if isinstance(x, Tensor) else x.transpose(axes)


def astype(x: Any, dtype: np.dtype) -> Any:
    return x.to(dtype) if isinstance(x, Tensor) else x.astype(dtype)


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
        from .elementwise import Where
        rows = moved.unsqueeze(-2).expand(*moved.shape[:-1], n, n)
        others = Where.apply(np.eye(n, dtype=bool), 1, rows).prod(dim=-1)
    else:
        ones = np.ones(moved.shape[:-1] + (1,), dtype=x.dtype)
        before = np.cumprod(np.concatenate([ones, moved[..., :-1]], axis=-1), axis=-1)
        after = np.cumprod(np.concatenate([ones, moved[..., :0:-1]], axis=-1), axis=-1)
        others = before * after[..., ::-1]
    return permute(others, tuple(np.argsort(order))).reshape(shape)


def scatter_add(x: Any, shape: tuple[int, ...], index: Any) -> Any:
    """zeros(shape) with x added at [index] (repeated indices add up): the adjoint of x[index]."""
    if isinstance(x, Tensor):
        from .shape import ScatterAdd
        return ScatterAdd.apply(x, shape=shape, index=index)
    return scatter_add_array(x, shape, index)


def scatter_add_array(x: np.ndarray, shape: tuple[int, ...], index: Any) -> np.ndarray:
    out = np.zeros(shape, dtype=x.dtype)
    if is_basic_index(index):
        out[index] = x                  # a basic index never repeats an element
        return out
    items = index if isinstance(index, tuple) else (index,)
    axis = _single_array_axis(items, len(shape))
    if axis is None or x.size < ROWS_WORTH_SORTING * max(items[axis].size, 1):
        np.add.at(out, index, x)
    else:
        _add_rows(np.moveaxis(out, axis, 0), items[axis], x, axis)
    return out


# np.add.at adds one element at a time; sorting the index and summing runs of equal
# entries with np.add.reduceat pays off once each picked slice has a few elements
# (an (n, d) embedding gradient: 2.7x faster at d = 27, n = 27,853; slower at d = 1)
ROWS_WORTH_SORTING = 8


def _single_array_axis(items: tuple[Any, ...], ndim: int) -> int | None:
    """The axis of an index made of full slices and one integer array (x[:, idx], the
    index of embedding, index_select, nearest upsampling, pad modes), else None."""
    if len(items) > ndim:
        return None
    arrays = [k for k, item in enumerate(items) if isinstance(item, np.ndarray)]
    if len(arrays) != 1 or items[arrays[0]].dtype.kind not in "iu":
        return None
    others_full = all(item == slice(None) for k, item in enumerate(items) if k != arrays[0])
    return arrays[0] if others_full else None


def _add_rows(out: np.ndarray, index: np.ndarray, x: np.ndarray, axis: int) -> None:
    """out[index[e]] += the slice of x that index element e picked, for the x of
    `out_original[:, …, index, …]` with the index at `axis` (out has that axis first)."""
    flat = index.ravel() % out.shape[0]                 # negative indices count from the end
    picked = np.moveaxis(x, tuple(range(axis, axis + index.ndim)), tuple(range(index.ndim)))
    rows = picked.reshape(flat.size, -1)
    order = np.argsort(flat, kind="stable")
    ordered = flat[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    sums = np.add.reduceat(rows[order], starts, axis=0)
    out[ordered[starts]] = sums.reshape((len(starts),) + out.shape[1:])


def is_basic_index(index: Any) -> bool:
    """True for indices made only of ints, slices, None and Ellipsis."""
    items = index if isinstance(index, tuple) else (index,)
    return all((isinstance(i, (int, np.integer, slice)) and not isinstance(i, bool))
               or i is None or i is Ellipsis for i in items)
