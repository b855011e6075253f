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


def broadcast_to(x: Any, shape: tuple[int, ...]) -> Any:
    return x.expand(*shape) if isinstance(x, Tensor) else np.broadcast_to(x, shape)


def permute(x: Any, axes: tuple[int, ...]) -> Any:
    return x.permute(*axes) if isinstance(x, Tensor) else x.transpose(axes)


def astype(x: Any, dtype: np.dtype) -> Any:
    return x.to(dtype) if isinstance(x, Tensor) else x.astype(dtype)


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
    else:
        np.add.at(out, index, x)
    return out


def is_basic_index(index: Any) -> bool:
    """True for indices made only of ints, slices, None and Ellipsis."""
    items = index if isinstance(index, tuple) else (index,)
    return all((isinstance(i, (int, np.integer, slice)) and not isinstance(i, bool))
               or i is None or i is Ellipsis for i in items)
