"""Elementwise ops: y = f(x) (or f(a, b), broadcast), with dL/dx = dL/dy · f'(x).

Each backward returns the gradient for each input at the broadcast shape; the engine
sums it back to the input's shape. Subgradient choices: relu'(0) = 0, |x|'(0) = 0,
clip passes the gradient where min <= x <= max, and maximum/minimum split it equally
between tied inputs.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..dtypes import get_default_dtype, scalar
from ..errors import DomainError
from ..function import Function
from ..tensor import Tensor, array_of, register_methods
from .array_or_tensor import astype, log

# ---------------------------------------------------------------- arithmetic

class Add(Function):
    """y = a + b;  dy/da = 1, dy/db = 1"""

    derivative = ("dL/da = dL/dy", "dL/db = dL/dy")

    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class Sub(Function):
    """y = a - b;  dy/da = 1, dy/db = -1"""

    derivative = ("dL/da = dL/dy", "dL/db = −dL/dy")

    @staticmethod
    def forward(ctx, a, b):
        return a - b

    @staticmethod
    def backward(ctx, grad):
        return grad, (-grad if ctx.needs_input_grad[1] else None)


class Mul(Function):
    """y = a · b;  dy/da = b, dy/db = a

    Saves only the factor each needed gradient uses: b for dL/da, a for dL/db. A
    Python number is saved as itself, a constant, so `x * 2` keeps no array."""

    derivative = ("dL/da = dL/dy · b", "dL/db = dL/dy · a")

    @staticmethod
    def forward(ctx, a, b):
        need_a, need_b = ctx.needs_input_grad
        ctx.save_for_backward(a if need_b else None, b if need_a else None)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        grad_a = grad * b if need_a else None   # backprop through a
        grad_b = grad * a if need_b else None   # backprop through b
        return grad_a, grad_b


class Div(Function):
    """y = a / b;  dy/da = 1/b, dy/db = -a/b² = -y/b  (y is saved only for dL/db)"""

    derivative = ("dL/da = dL/dy / b", "dL/db = −dL/dy · y / b")

    @staticmethod
    def forward(ctx, a, b):
        y = a / b
        ctx.save_for_backward(b, y if ctx.needs_input_grad[1] else None)
        return y

    @staticmethod
    def backward(ctx, grad):
        b, y = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        grad_a = grad / b if need_a else None
        grad_b = -grad * y / b if need_b else None
        return grad_a, grad_b


class Neg(Function):
    """y = -x;  dy/dx = -1"""

    derivative = ("dL/dx = −dL/dy",)

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, grad):
        return -grad


def _integral(x: Any) -> bool:
    """An integer array or a Python integer (not a bool)."""
    return x.dtype.kind in "iu" if isinstance(x, np.ndarray) else type(x) is int


def _negative_integer_power(a: Any, b: Any) -> np.ndarray:
    """Integers a ** b where some exponents are negative, as torch's: a tensor of them
    gives 1/a^|b| rounded toward 0 (1 for a = 1, ±1 for a = −1, else 0, also for a = 0);
    a negative number as the exponent is refused, as torch refuses it."""
    if not isinstance(b, np.ndarray):
        raise DomainError(
            f"pow: Integers to negative integer powers are not allowed (as in torch): an "
            f"integer tensor of shape {np.shape(a)} to the power {b}; make the base a float "
            f"first (x.float() ** {b})")
    negative = b < 0
    y = a ** np.where(negative, 0, b)
    odd = (b % 2) != 0
    reciprocal = np.where(a == 1, 1, np.where(a == -1, np.where(odd, -1, 1), 0))
    return np.where(negative, reciprocal, y).astype(y.dtype)


class Pow(Function):
    """y = a ** b;  dy/da = b · a^(b-1), dy/db = y · ln a  (b saved, y for dL/db)

    At a = 0 the formulas hold 0 · ∞ where y is smooth, so backward masks them as
    torch's pow_backward and pow_backward_exponent do: dy/da = 0 where b = 0 (y = 1
    there, whatever a; masked only where a = 0 too for a tensor exponent, so that the
    second derivative in b stays a^(-1) elsewhere), and dy/db = 0 where a = 0 and
    b >= 0 (the one-sided limit of 0^b · ln a). Elsewhere the formula stands,
    infinities included (b·0^(b-1) = ∞ for 0 < b < 1, as torch)."""

    derivative = ("dL/da = dL/dy · b · a^(b−1), 0 where b = 0 and a = 0 "
                  "(where b = 0 for a number b)",
                  "dL/db = dL/dy · y · ln a (0 where a = 0 and b ≥ 0)")

    @staticmethod
    def forward(ctx, a, b):
        if _integral(a) and _integral(b) and np.any(np.asarray(b) < 0):
            y = _negative_integer_power(a, b)
        else:
            y = a ** b
        ctx.save_for_backward(a, b, y if ctx.needs_input_grad[1] else None)
        return y

    @staticmethod
    def backward(ctx, grad):
        a, b, y = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        grad_a = grad_b = None
        if need_a:
            exponent = array_of(b)
            if isinstance(exponent, (int, float)):       # a number exponent: as torch
                grad_a = where(True, 0, grad) if exponent == 0 else grad * b * a ** (b - 1)
            else:
                grad_a = grad * b * a ** (b - 1)
                # only where 0 · 0^(-1) = NaN, not wherever b = 0 (torch's mask): for
                # a ≠ 0 the formula is exactly 0 there already, and its derivative in b
                # (a^(-1), second order) stays right
                zero_zero = (exponent == 0) & (array_of(a) == 0)
                if zero_zero.any():
                    grad_a = where(zero_zero, 0, grad_a)
        if need_b:
            base_is_zero = array_of(a) == 0
            if np.any(base_is_zero):
                # 0^b · ln 0 = 0 · -∞ where b >= 0: torch's mask, applied to ln a (1 in
                # place of a there, so y · ln 1 = 0) rather than to the product, so the
                # second derivative sees no -∞ at those points either
                a = where(base_is_zero & (array_of(b) >= 0), 1, a)
            grad_b = grad * y * log(a)
        return grad_a, grad_b


# ---------------------------------------------------------------- functions of one tensor

class Exp(Function):
    """y = eˣ;  dy/dx = eˣ = y"""

    derivative = ("dL/dx = dL/dy · y",)

    @staticmethod
    def forward(ctx, x):
        y = np.exp(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return grad * y


class Log(Function):
    """y = ln x;  dy/dx = 1/x"""

    derivative = ("dL/dx = dL/dy / x",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(x)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad / x


class Sqrt(Function):
    """y = √x;  dy/dx = 1 / (2√x) = 0.5 / y"""

    derivative = ("dL/dx = dL/dy · 0.5 / y",)

    @staticmethod
    def forward(ctx, x):
        y = np.sqrt(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return grad * 0.5 / y


class Abs(Function):
    """y = |x|;  dy/dx = sign(x), with sign(0) = 0"""

    derivative = ("dL/dx = dL/dy · sign(x), with sign(0) = 0",)

    @staticmethod
    def forward(ctx, x):
        ctx.sign = np.sign(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.sign


class Tanh(Function):
    """y = tanh x;  dy/dx = 1 - y²"""

    derivative = ("dL/dx = dL/dy · (1 − y²)",)

    @staticmethod
    def forward(ctx, x):
        y = np.tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return grad * (scalar(1, y.dtype) - y * y)


# ½ and 1 in each floating dtype, for sigmoid_array (a dict lookup is a third of the
# time of three `scalar` calls, which a small net's step feels)
_HALF_AND_ONE = {np.dtype(kind): (scalar(0.5, np.dtype(kind)), scalar(1, np.dtype(kind)))
                 for kind in (np.float16, np.float32, np.float64)}


def sigmoid_array(x: np.ndarray) -> np.ndarray:
    """σ(x) = ½(1 + tanh(x/2)) of an ndarray: never overflows (finite at ±1000)."""
    constants = _HALF_AND_ONE.get(x.dtype)
    if constants is None:       # integers, bools: numpy picks the result's dtype
        y = np.tanh(x * 0.5)
        half, one = scalar(0.5, y.dtype), scalar(1, y.dtype)
    else:
        half, one = constants
        y = np.tanh(x * half)
    y += one
    y *= half
    return y


class Sigmoid(Function):
    """y = σ(x) = 1 / (1 + e⁻ˣ);  dy/dx = σ(x)(1 - σ(x)) = y(1 - y)

    Computed as σ(x) = ½(1 + tanh(x/2)), which never overflows (finite at ±1000)."""

    derivative = ("dL/dx = dL/dy · y(1 − y)",)

    @staticmethod
    def forward(ctx, x):
        y = sigmoid_array(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return grad * y * (scalar(1, y.dtype) - y)


class ReLU(Function):
    """y = max(0, x);  dy/dx = 1 if x > 0 else 0 (so relu'(0) = 0)"""

    derivative = ("dL/dx = dL/dy where x > 0, else 0",)

    name = "relu"

    @staticmethod
    def forward(ctx, x):
        ctx.positive = x > 0
        # against an array of zeros: numpy's maximum with a broadcast scalar is ~3× slower
        # (33 µs against 13 µs for 1024 × 64 float32, making the zeros included)
        return np.maximum(x, np.zeros(x.shape, x.dtype))

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.positive


class LeakyReLU(Function):
    """y = x if x > 0 else α·x;  dy/dx = 1 if x > 0 else α (α = negative_slope)"""

    derivative = ("dL/dx = dL/dy where x > 0, else α · dL/dy",)

    name = "leaky_relu"

    @staticmethod
    def forward(ctx, x, negative_slope=0.01):
        ctx.slope = np.where(x > 0, 1, negative_slope).astype(x.dtype)
        return x * ctx.slope

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.slope


class Clip(Function):
    """y = min(max(x, low), high);  dy/dx = 1 where low <= x <= high, else 0"""

    derivative = ("dL/dx = dL/dy where low ≤ x ≤ high, else 0",)

    @staticmethod
    def forward(ctx, x, low=None, high=None):
        if low is not None and high is not None and low > high:
            raise ValueError(f"min {low} is larger than max {high}")
        inside = np.ones(x.shape, dtype=bool)
        if low is not None:
            inside &= x >= low
        if high is not None:
            inside &= x <= high
        ctx.inside = inside
        return np.clip(x, low, high)

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.inside


class Maximum(Function):
    """y = max(a, b);  dy/da = 1 where a > b, ½ where a = b, else 0 (and dy/db likewise)"""

    derivative = ("dL/da = dL/dy where a > b, ½ · dL/dy where a = b, else 0",
                  "dL/db = dL/dy where b > a, ½ · dL/dy where a = b, else 0")

    @staticmethod
    def forward(ctx, a, b):
        y = np.maximum(a, b)
        ctx.share_a = ((a > b) + 0.5 * (a == b)).astype(y.dtype)
        return y

    @staticmethod
    def backward(ctx, grad):
        share_a = ctx.share_a
        return grad * share_a, grad * (1 - share_a)


class Minimum(Function):
    """y = min(a, b);  dy/da = 1 where a < b, ½ where a = b, else 0 (and dy/db likewise)"""

    derivative = ("dL/da = dL/dy where a < b, ½ · dL/dy where a = b, else 0",
                  "dL/db = dL/dy where b < a, ½ · dL/dy where a = b, else 0")

    @staticmethod
    def forward(ctx, a, b):
        y = np.minimum(a, b)
        ctx.share_a = ((a < b) + 0.5 * (a == b)).astype(y.dtype)
        return y

    @staticmethod
    def backward(ctx, grad):
        share_a = ctx.share_a
        return grad * share_a, grad * (1 - share_a)


def where(cond: Any, a: Any, b: Any) -> Any:
    """a where cond else b; cond is a constant (a boolean array or bool), a and b arrays,
    numbers or Tensors (recorded, so differentiable in a and b, when either is a Tensor).
    Backward formulas use it to mask the points where a formula's 0 · ∞ stands for a
    limit (torch's at::where in FunctionsManual.cpp), never to clean up results."""
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return Where.apply(cond, a, b)
    return np.where(cond, a, b)


class Where(Function):
    """y = a where cond else b;  dy/da = cond, dy/db = not cond (cond gets no gradient)"""

    derivative = ("dL/dcond: none (a boolean mask)",
                  "dL/da = dL/dy where cond, else 0",
                  "dL/db = dL/dy where not cond, else 0")

    kept_inputs = ((0, "its condition"),)      # backward reads cond: refused once changed

    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.cond = np.asarray(cond, dtype=bool)
        return np.where(ctx.cond, a, b)

    @staticmethod
    def backward(ctx, grad):
        return None, grad * ctx.cond, grad * ~ctx.cond


class Cast(Function):
    """y = x converted to another dtype;  dy/dx = 1 (the gradient is converted back)"""

    derivative = ("dL/dx = dL/dy converted back to x's dtype",)

    @staticmethod
    def forward(ctx, x, dtype):
        ctx.input_dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return astype(grad, ctx.input_dtype)


def to_floating(x: Tensor) -> Tensor:
    """x as the functions of floats take it: integer and bool tensors become the default
    floating dtype (float32 unless `set_default_dtype` changed it), as in torch, where
    `torch.tensor([1, 2]).exp()` is float32 (numpy's would be float64)."""
    return x if x._data.dtype.kind == "f" else Cast.apply(x, dtype=get_default_dtype())


# ---------------------------------------------------------------- attached to Tensor

def _exp(self: Tensor) -> Tensor:
    """eˣ"""
    return Exp.apply(to_floating(self))


def _log(self: Tensor) -> Tensor:
    """ln x"""
    return Log.apply(to_floating(self))


def _sqrt(self: Tensor) -> Tensor:
    """√x"""
    return Sqrt.apply(to_floating(self))


def _abs(self: Tensor) -> Tensor:
    """|x|"""
    return Abs.apply(self)


def _tanh(self: Tensor) -> Tensor:
    """tanh x"""
    return Tanh.apply(to_floating(self))


def _sigmoid(self: Tensor) -> Tensor:
    """σ(x) = 1 / (1 + e⁻ˣ)"""
    return Sigmoid.apply(to_floating(self))


def _relu(self: Tensor) -> Tensor:
    """max(x, 0)"""
    return ReLU.apply(self)


def _leaky_relu(self: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x where x > 0, else negative_slope · x"""
    return LeakyReLU.apply(self, negative_slope=negative_slope)


def _clone(self: Tensor) -> Tensor:
    """A copy of the numbers, in the graph (dL/dx = dL/dclone)."""
    return Cast.apply(self, dtype=self._data.dtype)


register_methods({
    "exp": _exp, "log": _log, "sqrt": _sqrt, "abs": _abs, "tanh": _tanh,
    "sigmoid": _sigmoid, "relu": _relu,
    "leaky_relu": _leaky_relu, "clone": _clone,
})
