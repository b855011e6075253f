"""Python's operators on tensors: `+ - * / ** @`, unary `-`, comparisons, `& | ^ ~`, and
the elementwise `maximum`/`minimum`, attached to Tensor in the block at the bottom.

Operands of different dtypes are first converted to the dtype torch would compute in
(`autodiff.promotion`); two tensors of one dtype go straight to the op. A number or an
ndarray on either side becomes a constant of the graph.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .errors import DtypeError
from .ops import discrete, elementwise
from .ops import matmul as matmul_ops
from .promotion import promote, result_type
from .tensor import Tensor, register_methods

Method = Callable[[Tensor, Any], Tensor]


def arithmetic(op: Any, symbol: str, floating: bool = False) -> tuple[Method, Method]:
    """`self symbol other` and its reflected form `other symbol self` for the primitive
    `op`. With `floating`, integer operands are computed as float32 (true division)."""
    apply = op.apply

    def method(self: Tensor, other: Any) -> Tensor:
        if type(other) is not Tensor or other._data.dtype is not self._data.dtype \
                or (floating and self._data.dtype.kind != "f"):
            return apply(*promote(self, other, floating=floating))
        return apply(self, other)

    def reflected(self: Tensor, other: Any) -> Tensor:
        return apply(*promote(other, self, floating=floating))

    method.__doc__ = f"self {symbol} other, in the promoted dtype"
    reflected.__doc__ = f"other {symbol} self, in the promoted dtype"
    return method, reflected


def comparison(ufunc: np.ufunc, symbol: str) -> Method:
    """`self symbol other` as a bool tensor, compared in the promoted dtype (as torch:
    float32 x == 0-d float64 y compares y rounded to float32)."""
    def method(self: Tensor, other: Any) -> Tensor:
        if type(other) is not Tensor or other._data.dtype is not self._data.dtype:
            return discrete.Binary.apply(*promote(self, other), ufunc=ufunc)
        return discrete.Binary.apply(self, other, ufunc=ufunc)

    method.__doc__ = f"self {symbol} other, elementwise, as a bool tensor"
    return method


def bitwise(ufunc: np.ufunc, symbol: str) -> tuple[Method, Method]:
    """`& | ^` as torch's: bitwise on integers, logical on bools (the same bits), in the
    promoted dtype; floating-point operands are refused."""
    def apply(a: Any, b: Any) -> Tensor:
        dtype = result_type(a, b)
        if dtype.kind not in "biu":
            raise DtypeError(f"{symbol}: bitwise operators need integer or bool tensors, "
                             f"got {dtype}; compare first (e.g. (x > 0) {symbol} (y > 0))")
        return discrete.Binary.apply(*promote(a, b), ufunc=ufunc)

    def method(self: Tensor, other: Any) -> Tensor:
        return apply(self, other)

    def reflected(self: Tensor, other: Any) -> Tensor:
        return apply(other, self)

    method.__doc__ = f"self {symbol} other, bitwise (logical on bools)"
    reflected.__doc__ = f"other {symbol} self, bitwise (logical on bools)"
    return method, reflected


def _invert(self: Tensor) -> Tensor:
    """~self: bitwise not of integers, logical not of bools."""
    if self.dtype.kind not in "biu":
        raise DtypeError(f"~: bitwise not needs an integer or bool tensor, got {self.dtype}")
    return discrete.Unary.apply(self, ufunc=np.logical_not if self.dtype == np.bool_
                                else np.invert)


def _matmul(self: Tensor, other: Any) -> Tensor:
    """self @ other, with numpy's rules for 1-D operands and batches."""
    return matmul_ops.MatMul.apply(self, other)


def _rmatmul(self: Tensor, other: Any) -> Tensor:
    """other @ self"""
    return matmul_ops.MatMul.apply(other, self)


def _neg(self: Tensor) -> Tensor:
    """-self"""
    return elementwise.Neg.apply(self)


def _pos(self: Tensor) -> Tensor:
    """+self: the tensor itself"""
    return self


def _maximum(self: Tensor, other: Any) -> Tensor:
    """The larger of self and other, elementwise (ties share the gradient equally)."""
    return elementwise.Maximum.apply(*promote(self, other))


def _minimum(self: Tensor, other: Any) -> Tensor:
    """The smaller of self and other, elementwise (ties share the gradient equally)."""
    return elementwise.Minimum.apply(*promote(self, other))


# ---------------------------------------------------------------- attached to Tensor
_add, _radd = arithmetic(elementwise.Add, "+")
_sub, _rsub = arithmetic(elementwise.Sub, "-")
_mul, _rmul = arithmetic(elementwise.Mul, "*")
_truediv, _rtruediv = arithmetic(elementwise.Div, "/", floating=True)
_pow, _rpow = arithmetic(elementwise.Pow, "**")
_and, _rand = bitwise(np.bitwise_and, "&")
_or, _ror = bitwise(np.bitwise_or, "|")
_xor, _rxor = bitwise(np.bitwise_xor, "^")
_eq = comparison(np.equal, "==")
register_methods({
    "__add__": _add, "__radd__": _radd, "__sub__": _sub, "__rsub__": _rsub,
    "__mul__": _mul, "__rmul__": _rmul, "__truediv__": _truediv, "__rtruediv__": _rtruediv,
    "__pow__": _pow, "__rpow__": _rpow, "__matmul__": _matmul, "__rmatmul__": _rmatmul,
    "__neg__": _neg, "__pos__": _pos,
    "__eq__": _eq, "eq": _eq, "__ne__": comparison(np.not_equal, "!="),
    "__lt__": comparison(np.less, "<"), "__le__": comparison(np.less_equal, "<="),
    "__gt__": comparison(np.greater, ">"), "__ge__": comparison(np.greater_equal, ">="),
    "__invert__": _invert, "__and__": _and, "__rand__": _rand, "__or__": _or,
    "__ror__": _ror, "__xor__": _xor, "__rxor__": _rxor,
    "maximum": _maximum, "minimum": _minimum,
})
