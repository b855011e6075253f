"""Type promotion, as torch's: the dtype that `a op b` is computed in and returns.

Operands come in three ranks: tensors with dimensions, 0-d tensors, and Python numbers
(a numpy scalar counts as the Python number it holds; a number's own dtype is bool, int64
or float32, torch's defaults). Dtypes of the same rank promote as `promote_types` says.
An operand of a lower rank changes the result only when its category (bool < integer <
float) is higher than that of the higher-ranked operand; then the result is its dtype:

    float32 tensor * 0-d float64 tensor  -> float32   (same category: the 0-d one has no say)
    int64 tensor * 0-d float64 tensor    -> float64   (a higher category: it decides)
    int32 tensor * 2.5 -> float32,  int32 tensor * 2 -> int32,  bool tensor + 1 -> int64

So a float32 graph stays float32 whatever numbers or 0-d tensors it meets. The operands
are converted to the result dtype before the op runs (`promote`), as torch does: a
differentiable `Cast` for floats, so the gradient of a float64 0-d tensor that scaled a
float32 tensor comes back as float64. True division of integers gives float32.

>>> import numpy as np, autodiff as ad
>>> ad.result_type(ad.ones(3), ad.tensor(2.0, dtype=ad.float64))
dtype('float32')
>>> ad.result_type(ad.ones(3, dtype=ad.int32), 2.5)
dtype('float32')
>>> ad.promote_types(ad.int64, ad.float16)      # numpy's np.promote_types says float64
dtype('float16')
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .ops import discrete, elementwise
from .tensor import Tensor, array_of

# a number's dtype, by its Python type
NUMBER_DTYPES = {bool: np.dtype(np.bool_), int: np.dtype(np.int64),
                 float: np.dtype(np.float32)}
CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}     # bool < integer < float
DIMENSIONED, ZERO_DIM, NUMBER = 2, 1, 0         # the ranks of operands


def promote_types(a: Any, b: Any) -> np.dtype:
    """torch.promote_types: the smallest dtype both convert to. As numpy's, except that
    an integer or bool with a float gives that float (numpy: int32 with float16 gives
    float64)."""
    a, b = np.dtype(a), np.dtype(b)
    a_float, b_float = a.kind == "f", b.kind == "f"
    if a_float != b_float:
        return a if a_float else b
    return np.promote_types(a, b)


def _rank_and_dtype(x: Any) -> tuple[int, np.dtype] | None:
    """An operand's rank and dtype (None for what is neither array nor number)."""
    if isinstance(x, Tensor):
        x = x._data
    if isinstance(x, np.ndarray):
        return (DIMENSIONED if x.ndim else ZERO_DIM), x.dtype
    if isinstance(x, np.generic):
        x = x.item()                    # a numpy scalar is the Python number it holds
    dtype = NUMBER_DTYPES.get(type(x))
    return None if dtype is None else (NUMBER, dtype)


def result_type(a: Any, b: Any) -> np.dtype:
    """torch.result_type(a, b): the dtype of `a op b` for the arithmetic ops and the
    dtype comparisons are made in (see the module docstring)."""
    first, second = _rank_and_dtype(a), _rank_and_dtype(b)
    if first is None or second is None or first[1].kind not in CATEGORY \
            or second[1].kind not in CATEGORY:
        raise TypeError(f"result_type: expected tensors, arrays or numbers of bool, integer "
                        f"or float dtype, got {type(a).__name__} and {type(b).__name__}")
    if first[0] < second[0]:
        first, second = second, first
    (rank, dtype), (other_rank, other) = first, second      # the higher rank first
    if rank == other_rank:
        return promote_types(dtype, other)
    return other if CATEGORY[other.kind] > CATEGORY[dtype.kind] else dtype


def promote(a: Any, b: Any, floating: bool = False) -> tuple[Any, Any]:
    """a and b converted to `result_type(a, b)` (numbers stay numbers: numpy keeps the
    arrays' dtype for them); with floating=True, as for true division, an integer or bool
    result dtype becomes float32. Anything that is not an array or a number passes
    through, for the op to reject. (Tensor's operators skip the call when both operands
    are tensors of one dtype: the hot path.)"""
    if type(a) is Tensor:                       # a float tensor and a number: nothing to do
        if (type(b) is float or type(b) is int) and a._data.dtype.kind == "f":
            return a, b
    elif (type(a) is float or type(a) is int) and type(b) is Tensor \
            and b._data.dtype.kind == "f":
        return a, b
    try:
        dtype = result_type(a, b)
    except TypeError:
        return a, b
    if floating and dtype.kind != "f":
        dtype = NUMBER_DTYPES[float]
    return _converted(a, dtype), _converted(b, dtype)


def promote_all(xs: Sequence[Any]) -> list[Any]:
    """Tensors joined into one (cat, stack) converted to the dtype all of them promote to,
    as torch does (int32 with float32 gives float32)."""
    if not xs:
        return list(xs)
    dtype = np.asarray(array_of(xs[0])).dtype
    for x in xs[1:]:
        other = np.asarray(array_of(x)).dtype
        if other != dtype:
            dtype = promote_types(dtype, other)
    return [_converted(x, dtype) for x in xs]


def _converted(x: Any, dtype: np.dtype) -> Any:
    """x as `dtype`, by an op (so autograd and ad.compile see it); numbers unchanged."""
    data = array_of(x)
    if not isinstance(data, np.ndarray) or data.dtype == dtype:
        return x
    if dtype.kind == "f":
        return elementwise.Cast.apply(x, dtype=dtype)
    return discrete.IntegerCast.apply(x, dtype=dtype)
