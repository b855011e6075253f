"""Functions that work on an ndarray and on a Tensor alike, for backward formulas.

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


def broadcast_to(x: Any, shape: tuple[int, ...]) -> Any:
    return x.expand(*shape) if isinstance(x, Tensor) else np.broadcast_to(x, shape)


def permute(x: Any, axes: tuple[int, ...]) -> Any:
    return x.permute(*axes) if isinstance(x, Tensor) else x.transpose(axes)


def astype(x: Any, dtype: np.dtype) -> Any:
    return x.to(dtype) if isinstance(x, Tensor) else x.astype(dtype)
