"""Ops whose outputs are discrete (bool masks, integer indices and casts): y = f(x) is
piecewise constant, so dy/dx = 0 almost everywhere and the output ends the graph, as in
PyTorch. They are ops all the same, so a traced function (`ad.compile`) replays them on
every call instead of keeping the first call's mask."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..function import Function


class Binary(Function):
    """y = ufunc(a, b) for a comparison or logical ufunc (a > b, a & b): a bool mask."""

    derivative = ()

    differentiable = False

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any, ufunc: np.ufunc) -> np.ndarray:
        return ufunc(a, b)


class Unary(Function):
    """y = ufunc(x) for a logical or bitwise ufunc (~x): a mask or integers."""

    derivative = ()

    differentiable = False

    @staticmethod
    def forward(ctx: Any, x: np.ndarray, ufunc: np.ufunc) -> np.ndarray:
        return ufunc(x)


class Reduction(Function):
    """y = reduction(x, axis) for a logical reduction (all, any): a bool mask."""

    derivative = ()

    differentiable = False

    @staticmethod
    def forward(ctx: Any, x: np.ndarray, reduction: Any, axis: Any,
                keepdims: bool) -> np.ndarray:
        return reduction(x, axis=axis, keepdims=keepdims)


class IntegerCast(Function):
    """y = x converted to an integer or bool dtype (truncation toward zero, as torch)."""

    derivative = ()

    differentiable = False

    @staticmethod
    def forward(ctx: Any, x: np.ndarray, dtype: np.dtype) -> np.ndarray:
        return x.astype(dtype)


class ArgExtreme(Function):
    """y = the index (int64) of the first max (or min) along `axis`, or in the flattened
    array when axis is None."""

    derivative = ()

    differentiable = False

    @staticmethod
    def forward(ctx: Any, x: np.ndarray, find: Any, axis: int | None,
                keepdims: bool) -> np.ndarray:
        if axis is None:
            index = np.asarray(find(x), dtype=np.int64)
            return index.reshape((1,) * x.ndim) if keepdims else index
        return find(x, axis=axis, keepdims=keepdims).astype(np.int64)
