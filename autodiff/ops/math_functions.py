"""PyTorch's elementwise math functions: trigonometric and hyperbolic functions, logs and
exponentials in other bases, erf and its inverse, rounding, remainders, lerp, logaddexp
and the NaN/inf tests, with torch's names, arguments, dtypes and gradients; plus the
operators `%`, `//`, `<<` and `>>`.

Primitives (a `Function` each, the derivative beside the forward) are only the functions
no existing op composes; the rest are compositions and need no derivative of their own:

    exp2 x = 2 ** x         rsqrt x = 1 / √x         square x = x ** 2
    reciprocal x = 1 / x    frac x = x - trunc x         lerp = start + weight · (end - start)
    logit x = log(x / (1 - x))
    logaddexp(a, b) = max(a, b) + log1p(e^(-|a - b|))

Dtypes, as torch: the functions of floats (sin, erf, log2, atan2, copysign, ...) give
the default floating dtype (float32 unless set) for integer and bool inputs; the rounding
functions, square, sign, `%`, `//`, fmod and remainder keep integers integers (integer
division by zero is refused, as torch's "ZeroDivisionError"); floor, ceil, round, trunc,
sign and `//` have gradient 0 (at the jumps too), and isnan, isinf and isfinite give bool
tensors outside the graph.

numpy has no erf: `erf_array` sums a series (and a continued fraction in the tails) in
float64, within 6e-16 of math.erf; `erfinv_array` refines a closed-form start with
Halley's method on it. float16 and float32 inputs are computed in float64.

Importing the module attaches every function to Tensor (the block at the bottom).

>>> import autodiff as ad, autodiff.ops.math_functions as mf
>>> ad.tensor([-7, 7]) % 3, mf.fmod(ad.tensor([-7, 7]), 3)
(tensor([2, 1]), tensor([-1,  1]))
>>> ad.tensor([0.5, 1.5, 2.5]).round()          # half to even
tensor([0., 2., 2.])
>>> x = ad.tensor([0.5], requires_grad=True)
>>> x.erfinv().erf()
tensor([0.5], grad_fn=<ErfBackward>)
"""
from __future__ import annotations

import math
from functools import partial
from typing import Any

import numpy as np

from ..errors import DomainError, DtypeError
from ..function import Function
from ..promotion import promote, result_type
from ..tensor import Tensor, register_methods
from . import discrete, elementwise
from .array_or_tensor import exp
from .elementwise import where

__all__ = ["acos", "acosh", "asin", "asinh", "atan", "atan2", "atanh", "bitwise_left_shift",
           "bitwise_right_shift", "ceil", "copysign", "cos", "cosh", "erf", "erfinv", "exp2",
           "expm1", "floor", "floor_divide", "fmod", "frac", "isfinite", "isinf", "isnan",
           "lerp", "log1p", "log2", "log10", "logaddexp", "logit", "nan_to_num", "reciprocal",
           "remainder", "round", "rsqrt", "sign", "sin", "sinh", "square", "tan", "trunc"]

LN2 = math.log(2.0)
LN10 = math.log(10.0)
TWO_OVER_SQRT_PI = 1.1283791670955126       # 2/√π, correctly rounded
SQRT_PI_OVER_TWO = 0.886226925452758        # √π/2
ONE_OVER_SQRT_PI = 0.5641895835477563       # 1/√π


def _tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def _floating(x: Any) -> Tensor:
    """x as a tensor the functions of floats take: integers and bools become the default
    floating dtype."""
    return elementwise.to_floating(_tensor(x))


def _sin(x: Any) -> Any:
    """sin for backward formulas (as autodiff.ops.array_or_tensor's helpers): numpy's on an
    ndarray, the recorded op on a Tensor (create_graph)."""
    return Sin.apply(x) if isinstance(x, Tensor) else np.sin(x)


def _cos(x: Any) -> Any:
    """cos for backward formulas, like `_sin`."""
    return Cos.apply(x) if isinstance(x, Tensor) else np.cos(x)


# ---------------------------------------------------------------- trigonometric

class Sin(Function):
    """y = sin x;  dy/dx = cos x"""

    derivative = ("dL/dx = dL/dy · cos x",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * _cos(x)


class Cos(Function):
    """y = cos x;  dy/dx = -sin x"""

    derivative = ("dL/dx = −dL/dy · sin x",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cos(x)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return -grad * _sin(x)


class Tan(Function):
    """y = tan x;  dy/dx = 1 + tan² x = 1 + y²"""

    derivative = ("dL/dx = dL/dy · (1 + y²)",)

    @staticmethod
    def forward(ctx, x):
        y = np.tan(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return grad * (1 + y * y)


class Asin(Function):
    """y = asin x;  dy/dx = 1 / √(1 - x²)"""

    derivative = ("dL/dx = dL/dy / √(1 − x²)",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arcsin(x)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * (1 - x * x) ** -0.5


class Acos(Function):
    """y = acos x;  dy/dx = -1 / √(1 - x²)"""

    derivative = ("dL/dx = −dL/dy / √(1 − x²)",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arccos(x)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return -grad * (1 - x * x) ** -0.5


class Atan(Function):
    """y = atan x;  dy/dx = 1 / (1 + x²)"""

    derivative = ("dL/dx = dL/dy / (1 + x²)",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arctan(x)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad / (1 + x * x)


class Atan2(Function):
    """y = atan2(a, b), the angle of the point (b, a);
    dy/da = b / (a² + b²), dy/db = -a / (a² + b²)"""

    derivative = ("dL/da = dL/dy · b / (a² + b²)", "dL/db = −dL/dy · a / (a² + b²)")

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.arctan2(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        radius2 = a * a + b * b
        grad_a = grad * b / radius2 if need_a else None
        grad_b = -grad * a / radius2 if need_b else None
        return grad_a, grad_b


# ---------------------------------------------------------------- hyperbolic

class Sinh(Function):
    """y = sinh x;  dy/dx = cosh x = (eˣ + e⁻ˣ) / 2"""

    derivative = ("dL/dx = dL/dy · cosh x",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sinh(x)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * (exp(x) + exp(-x)) / 2


class Cosh(Function):
    """y = cosh x;  dy/dx = sinh x = (eˣ - e⁻ˣ) / 2"""

    derivative = ("dL/dx = dL/dy · sinh x",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cosh(x)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * (exp(x) - exp(-x)) / 2


class Asinh(Function):
    """y = asinh x;  dy/dx = 1 / √(x² + 1)"""

    derivative = ("dL/dx = dL/dy / √(x² + 1)",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arcsinh(x)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * (x * x + 1) ** -0.5


class Acosh(Function):
    """y = acosh x (x >= 1);  dy/dx = 1 / √(x² - 1)"""

    derivative = ("dL/dx = dL/dy / √(x² − 1)",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arccosh(x)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * (x * x - 1) ** -0.5


class Atanh(Function):
    """y = atanh x (|x| < 1);  dy/dx = 1 / (1 - x²)"""

    derivative = ("dL/dx = dL/dy / (1 − x²)",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arctanh(x)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad / (1 - x * x)


# ---------------------------------------------------------------- logs and exponentials
# log2 and log10 are primitives rather than ln x / ln 2: those are exact at powers of the
# base (log10(1000) = 3, where ln 1000 / ln 10 gives 2.9999999999999996); log1p and
# expm1 keep their precision near 0, where 1 + x and eˣ - 1 lose it.

class Log2(Function):
    """y = log₂ x;  dy/dx = 1 / (x ln 2)"""

    derivative = ("dL/dx = dL/dy / (x ln 2)",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log2(x)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad / (x * LN2)


class Log10(Function):
    """y = log₁₀ x;  dy/dx = 1 / (x ln 10)"""

    derivative = ("dL/dx = dL/dy / (x ln 10)",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log10(x)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad / (x * LN10)


class Log1p(Function):
    """y = ln(1 + x);  dy/dx = 1 / (1 + x)"""

    derivative = ("dL/dx = dL/dy / (1 + x)",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log1p(x)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad / (1 + x)


class Expm1(Function):
    """y = eˣ - 1;  dy/dx = eˣ = y + 1"""

    derivative = ("dL/dx = dL/dy · (y + 1)",)

    @staticmethod
    def forward(ctx, x):
        y = np.expm1(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return grad * (y + 1)


# ---------------------------------------------------------------- erf and its inverse

class Erf(Function):
    """y = erf x = (2/√π) ∫₀ˣ e^(-t²) dt;  dy/dx = (2/√π) e^(-x²)"""

    derivative = ("dL/dx = dL/dy · (2/√π) e^(−x²)",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return erf_array(x.astype(np.float64, copy=False)).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * TWO_OVER_SQRT_PI * exp(-x * x)


class ErfInv(Function):
    """y = erfinv x, the y with erf y = x (|x| < 1);  dy/dx = 1 / erf'(y) = (√π/2) e^(y²)"""

    derivative = ("dL/dx = dL/dy · (√π/2) e^(y²)",)

    name = "erfinv"

    @staticmethod
    def forward(ctx, x):
        y = erfinv_array(x.astype(np.float64, copy=False)).astype(x.dtype, copy=False)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return grad * SQRT_PI_OVER_TWO * exp(y * y)


SERIES = 1 / np.cumprod(2.0 * np.arange(40) + 1)    # 1 / (1·3·5···(2n+1)), n = 0 … 39
FRACTION_DEPTH = 60                                 # terms of erfc's continued fraction
SERIES_BELOW = 2.0          # |x| where the series hands over to the continued fraction


def _erf_series(a: np.ndarray) -> np.ndarray:
    """erf a = (2/√π) a e^(-a²) Σₙ (2a²)ⁿ / (1·3···(2n+1)): all terms positive, so
    nothing cancels; 40 terms reach float64 precision for a < 2 (Horner's rule)."""
    square = a * a
    total = np.full_like(a, SERIES[-1])
    for coefficient in SERIES[-2::-1]:
        total = total * (2 * square) + coefficient
    return TWO_OVER_SQRT_PI * a * np.exp(-square) * total


def _erfc_fraction(a: np.ndarray) -> np.ndarray:
    """erfc a = 1 - erf a for a >= 2, by Laplace's continued fraction
    erfc a = e^(-a²)/√π · 1 / (a + ½ / (a + 1 / (a + (3/2) / (a + 2 / (a + …))))),
    evaluated from its 60th term up. Its relative error, 7e-16 at a = 2 and 4e-15 at
    a = 6, is mostly the rounding of a² in e^(-a²); erf a - 1 would be all rounding."""
    fraction = a.copy()
    for k in range(FRACTION_DEPTH, 0, -1):
        fraction = a + (k / 2) / fraction
    return np.exp(-a * a) * ONE_OVER_SQRT_PI / fraction


def erf_array(x: np.ndarray) -> np.ndarray:
    """erf x on a float64 array: the series below |x| = 2, 1 - erfc by the continued
    fraction above (±1 exactly from |x| ≈ 5.9 on); NaN stays NaN. Within 5.6e-16 relative
    of math.erf on [-6, 6] (tests/autodiff/test_math_functions.py)."""
    a = np.abs(x)
    out = np.empty_like(a)
    near = a < SERIES_BELOW
    out[near] = _erf_series(a[near])
    out[~near] = 1 - _erfc_fraction(a[~near])          # inf gives 1, NaN stays NaN
    return np.copysign(out, x)


def _erfc_positive(a: np.ndarray) -> np.ndarray:
    """erfc a for a >= 0: 1 - the series below 2, the continued fraction from there."""
    near = a < SERIES_BELOW
    return np.where(near, 1 - _erf_series(np.where(near, a, 0)),
                    _erfc_fraction(np.where(near, SERIES_BELOW, a)))


def erfinv_array(y: np.ndarray) -> np.ndarray:
    """erfinv y on a float64 array: ±inf at ±1, NaN outside [-1, 1].

    Starts from Winitzki's closed form (relative error below 2e-3)

        x₀ = √(√(A² - L/a) - A),  L = ln(1 - y²),  A = 2/(πa) + L/2,  a = 0.147,

    then takes three steps of Halley's method on f(x) = erf x - y, each tripling the
    correct digits: with u = f/f' (f' = (2/√π) e^(-x²), f'' = -2x f'),
    x ← x - u / (1 + x·u). For |y| >= 0.5 the residual is computed as (1 - |y|) - erfc x:
    1 - |y| is exact there and erfc keeps its relative precision into the tail, where
    erf x - y would be all rounding. erf(erfinv y) = y within 7e-16 and erfinv within 8e-15
    of the exact value over (-1, 1)."""
    a = np.abs(y)
    out = np.where(a == 1, np.inf, np.nan)              # NaN for |y| > 1 and NaN
    inside = a < 1
    b = a[inside]
    c = 1 - b
    log_term = np.log(c * (1 + b))                      # ln(1 - y²), precise near |y| = 1
    half = 2 / (math.pi * 0.147) + log_term / 2
    x = np.sqrt(np.sqrt(half * half - log_term / 0.147) - half)
    tail = b >= 0.5
    for _ in range(3):
        residual = np.where(tail, c - _erfc_positive(x), erf_array(x) - b)
        u = residual / (TWO_OVER_SQRT_PI * np.exp(-x * x))
        x = x - u / (1 + x * u)
    out[inside] = x
    return np.copysign(out, y)


# ---------------------------------------------------------------- steps: gradient 0

class Step(Function):
    """y = f(x) for a step function f (floor, ceil, round, trunc, sign): piecewise
    constant, so dy/dx = 0, taken as 0 at the jumps too (torch's gradient)"""

    derivative = ("dL/dx = 0 (each f, floor, ceil, round, trunc or sign, is piecewise constant; "
                  "0 at the jumps too)",)

    @staticmethod
    def forward(ctx, x, fn):
        return fn(x)

    @staticmethod
    def backward(ctx, grad):
        return where(True, 0, grad)       # zeros of grad's shape (0 · grad: NaN for inf)


class FloorDivide(Function):
    """y = ⌊a / b⌋, a // b (as Python's: the remainder takes the divisor's sign);
    dy/da = dy/db = 0 (torch has no derivative for it and refuses the backward)"""

    derivative = ("dL/da = 0", "dL/db = 0")

    @staticmethod
    def forward(ctx, a, b):
        _check_divisor("floor_divide", a, b)
        return np.floor_divide(a, b)

    @staticmethod
    def backward(ctx, grad):
        return tuple(where(True, 0, grad) if need else None for need in ctx.needs_input_grad)


def _sign(x: np.ndarray) -> np.ndarray:
    """-1, 0 or 1; 0 for NaN, as torch (numpy's sign gives NaN)."""
    return np.where(np.isnan(x), 0, np.sign(x))


def _step(name: str, x: Any, fn: Any) -> Tensor:
    """A rounding function of floats; integers are whole already (a copy), bools refused."""
    x = _tensor(x)
    if x.dtype == np.bool_:
        raise DtypeError(f"{name}: not defined for bool tensors (as torch); convert "
                         f"first, e.g. x.long()")
    return Step.apply(x, fn=fn if x.dtype.kind == "f" else np.copy)


# ---------------------------------------------------------------- remainders

def _check_divisor(name: str, a: Any, b: Any) -> None:
    """Integer division by zero has no answer: refused, as torch's RuntimeError
    "ZeroDivisionError" (float division by zero gives inf or NaN)."""
    if np.result_type(a, b).kind in "iu" and np.any(np.equal(b, 0)):
        raise DomainError(f"{name}: ZeroDivisionError: integer division by zero; divide "
                          f"floats instead (x.float()) to get inf and NaN there")


class Remainder(Function):
    """y = a - b·⌊a / b⌋ (a % b: the sign of the divisor, as Python's);
    dy/da = 1, dy/db = -⌊a / b⌋"""

    derivative = ("dL/da = dL/dy", "dL/db = −dL/dy · ⌊a / b⌋")

    @staticmethod
    def forward(ctx, a, b):
        _check_divisor("remainder", a, b)
        if ctx.needs_input_grad[1]:
            ctx.quotient = np.floor_divide(a, b)
        # fmod moved into the divisor's sign, as torch computes it (zeros keep a's sign)
        r = np.fmod(a, b)
        return np.where((r != 0) & ((r < 0) != (np.asarray(b) < 0)), r + b, r)

    @staticmethod
    def backward(ctx, grad):
        need_a, need_b = ctx.needs_input_grad
        grad_a = grad if need_a else None
        grad_b = -grad * ctx.quotient if need_b else None
        return grad_a, grad_b


class Fmod(Function):
    """y = a - b·trunc(a / b) (C's fmod: the sign of the dividend);
    dy/da = 1, dy/db = -trunc(a / b)"""

    derivative = ("dL/da = dL/dy", "dL/db = −dL/dy · trunc(a / b)")

    @staticmethod
    def forward(ctx, a, b):
        _check_divisor("fmod", a, b)
        if ctx.needs_input_grad[1]:
            ctx.quotient = np.trunc(a / b)
        return np.fmod(a, b)

    @staticmethod
    def backward(ctx, grad):
        need_a, need_b = ctx.needs_input_grad
        grad_a = grad if need_a else None
        grad_b = -grad * ctx.quotient if need_b else None
        return grad_a, grad_b


def _division_operands(name: str, a: Any, b: Any) -> tuple[Any, Any]:
    """a and b promoted for %, // and fmod: integers or floats (bools refused, as torch)."""
    if result_type(a, b) == np.bool_:
        raise DtypeError(f"{name}: not defined for bool tensors (as torch); convert first, "
                         f"e.g. x.long()")
    return promote(a, b)


# ---------------------------------------------------------------- more binary primitives

class Copysign(Function):
    """y = |a| with the sign of b;  dy/da = ±1 (+1 where a and b have the same sign,
    0 at a = 0, as torch), dy/db = 0"""

    derivative = ("dL/da = dL/dy · (+1 where a and b have the same sign, −1 where not, "
                  "0 where a = 0)",
                  "dL/db = 0")

    @staticmethod
    def forward(ctx, a, b):
        y = np.copysign(a, b)
        a = np.asarray(a)
        ctx.slope = np.where(a == 0, 0, np.where(np.signbit(a) == np.signbit(b), 1, -1)
                             ).astype(y.dtype)
        return y

    @staticmethod
    def backward(ctx, grad):
        need_a, need_b = ctx.needs_input_grad
        grad_a = grad * ctx.slope if need_a else None
        grad_b = where(True, 0, grad) if need_b else None     # b only chooses the sign
        return grad_a, grad_b


class NanToNum(Function):
    """y = x with NaN, +inf and -inf replaced by numbers;  dy/dx = 1 where x is finite,
    0 where it was replaced"""

    derivative = ("dL/dx = dL/dy where x is finite, 0 where it was replaced",)

    @staticmethod
    def forward(ctx, x, nan, posinf, neginf):
        ctx.finite = np.isfinite(x)
        return np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.finite


# ---------------------------------------------------------------- the functions

def sin(x: Any) -> Tensor:
    """sin x (radians)"""
    return Sin.apply(_floating(x))


def cos(x: Any) -> Tensor:
    """cos x (radians)"""
    return Cos.apply(_floating(x))


def tan(x: Any) -> Tensor:
    """tan x (radians)"""
    return Tan.apply(_floating(x))


def asin(x: Any) -> Tensor:
    """asin x in [-π/2, π/2]; NaN outside [-1, 1]"""
    return Asin.apply(_floating(x))


def acos(x: Any) -> Tensor:
    """acos x in [0, π]; NaN outside [-1, 1]"""
    return Acos.apply(_floating(x))


def atan(x: Any) -> Tensor:
    """atan x in (-π/2, π/2)"""
    return Atan.apply(_floating(x))


def atan2(input: Any, other: Any) -> Tensor:
    """atan2(input, other): the angle in (-π, π] of the point (other, input), broadcast."""
    return Atan2.apply(*promote(input, other, floating=True))


def sinh(x: Any) -> Tensor:
    """sinh x = (eˣ - e⁻ˣ) / 2"""
    return Sinh.apply(_floating(x))


def cosh(x: Any) -> Tensor:
    """cosh x = (eˣ + e⁻ˣ) / 2"""
    return Cosh.apply(_floating(x))


def asinh(x: Any) -> Tensor:
    """asinh x = ln(x + √(x² + 1))"""
    return Asinh.apply(_floating(x))


def acosh(x: Any) -> Tensor:
    """acosh x = ln(x + √(x² - 1)); NaN below 1"""
    return Acosh.apply(_floating(x))


def atanh(x: Any) -> Tensor:
    """atanh x = ½ ln((1 + x) / (1 - x)); ±inf at ±1, NaN outside [-1, 1]"""
    return Atanh.apply(_floating(x))


def log2(x: Any) -> Tensor:
    """log₂ x"""
    return Log2.apply(_floating(x))


def log10(x: Any) -> Tensor:
    """log₁₀ x"""
    return Log10.apply(_floating(x))


def log1p(x: Any) -> Tensor:
    """ln(1 + x), precise for small x"""
    return Log1p.apply(_floating(x))


def exp2(x: Any) -> Tensor:
    """2ˣ"""
    return 2.0 ** _floating(x)


def expm1(x: Any) -> Tensor:
    """eˣ - 1, precise for small x"""
    return Expm1.apply(_floating(x))


def rsqrt(x: Any) -> Tensor:
    """1 / √x"""
    return 1 / _floating(x).sqrt()


def logit(x: Any, eps: float | None = None) -> Tensor:
    """log(z / (1 − z)) with z = x clamped to [eps, 1 − eps] (x itself when eps is None:
    ±inf at 0 and 1, NaN outside [0, 1])"""
    z = _floating(x)
    if eps is not None:
        z = z.clamp(eps, 1 - eps)
    return (z / (1 - z)).log()


def reciprocal(x: Any) -> Tensor:
    """1 / x (integers become floats: 1 / 0 is inf)"""
    return 1 / _floating(x)


def square(x: Any) -> Tensor:
    """x² (x ** 2, as torch: integers stay integers, bools become int64)"""
    return _tensor(x) ** 2


def erf(x: Any) -> Tensor:
    """erf x = (2/√π) ∫₀ˣ e^(-t²) dt"""
    return Erf.apply(_floating(x))


def erfinv(x: Any) -> Tensor:
    """The inverse of erf: erf(erfinv x) = x on (-1, 1); ±inf at ±1, NaN outside."""
    return ErfInv.apply(_floating(x))


def sign(x: Any) -> Tensor:
    """-1, 0 or 1 by the sign of x (0 for NaN, as torch), in x's dtype; gradient 0"""
    x = _tensor(x)
    return Step.apply(x, fn=np.copy if x.dtype == np.bool_ else _sign)


def floor(x: Any) -> Tensor:
    """⌊x⌋, the largest whole number <= x; gradient 0"""
    return _step("floor", x, np.floor)


def ceil(x: Any) -> Tensor:
    """⌈x⌉, the smallest whole number >= x; gradient 0"""
    return _step("ceil", x, np.ceil)


def round(x: Any, decimals: int = 0) -> Tensor:
    """x rounded to `decimals` decimal places (negative: to tens, hundreds, ...), halves to
    even as torch: round(2.5) = 2, round(0.25, decimals=1) = 0.2; gradient 0"""
    x = _tensor(x)
    if decimals != 0 and x.dtype.kind != "f":
        raise DtypeError(f"round: decimals={decimals} needs a float tensor, got {x.dtype} "
                         f"(as torch); convert first, e.g. x.float()")
    return _step("round", x, partial(np.round, decimals=decimals) if decimals else np.rint)


def trunc(x: Any) -> Tensor:
    """x rounded toward zero; gradient 0"""
    return _step("trunc", x, np.trunc)


def frac(x: Any) -> Tensor:
    """x - trunc x, the fractional part with x's sign (floats only, as torch)"""
    x = _tensor(x)
    if x.dtype.kind != "f":
        raise DtypeError(f"frac: needs a float tensor, got {x.dtype} (as torch); convert "
                         f"first, e.g. x.float()")
    return x - trunc(x)


def lerp(input: Any, end: Any, weight: Any) -> Tensor:
    """input + weight · (end - input), broadcast; computed as torch does, as
    end - (end - input)(1 - weight) where |weight| >= 0.5, so that weight 1 gives end
    exactly. input and end must have one float dtype, as a tensor weight of dims must."""
    start, end = _tensor(input), _tensor(end)
    if start.dtype.kind != "f":
        raise DtypeError(f"lerp: needs float tensors, got {start.dtype} (as torch); convert "
                         f"first, e.g. x.float()")
    if end.dtype != start.dtype:
        raise DtypeError(f"lerp: expected dtype {start.dtype} for `end` but got {end.dtype}; "
                         f"convert one of them first, e.g. end.to(input.dtype)")
    difference = end - start
    if isinstance(weight, (int, float)):
        if abs(weight) < 0.5:
            return start + weight * difference
        return end - difference * (1 - weight)
    weight = _tensor(weight)
    if weight.dtype != start.dtype:
        if weight.ndim:
            raise DtypeError(f"lerp: expected dtype {start.dtype} for `weight` but got "
                             f"{weight.dtype}; convert it first, e.g. weight.to(input.dtype)")
        weight = weight.to(start.dtype)
    small = (weight < 0.5) & (weight > -0.5)
    return elementwise.Where.apply(small, start + weight * difference,
                                   end - difference * (1 - weight))


def logaddexp(input: Any, other: Any) -> Tensor:
    """ln(eᵃ + eᵇ) = max(a, b) + log1p(e^(-|a - b|)), which never overflows; a + ln 2
    where a = b (±inf included, where a - b would be NaN)."""
    dtype = result_type(input, other)
    if dtype.kind != "f":
        raise DtypeError(f"logaddexp: needs float tensors, got {dtype} (as torch); convert "
                         f"first, e.g. x.float()")
    a, b = promote(input, other)
    gap = elementwise.Where.apply(a == b, 0.0, a - b).abs()
    return elementwise.Maximum.apply(a, b) + log1p((-gap).exp())


def remainder(input: Any, other: Any) -> Tensor:
    """input - other · ⌊input / other⌋: Python's %, the sign of the divisor
    (-7 % 3 = 2, 7 % -3 = -2); integers stay integers (division by 0 refused)."""
    return Remainder.apply(*_division_operands("remainder", input, other))


def fmod(input: Any, other: Any) -> Tensor:
    """input - other · trunc(input / other): C's fmod, the sign of the dividend
    (fmod(-7, 3) = -1); integers stay integers (division by 0 refused)."""
    return Fmod.apply(*_division_operands("fmod", input, other))


def floor_divide(input: Any, other: Any) -> Tensor:
    """⌊input / other⌋, Python's and torch's //, for floats and integers alike
    (7.5 // -2 = -4.0, -7 // 2 = -4); gradient 0."""
    return FloorDivide.apply(*_division_operands("floor_divide", input, other))


def copysign(input: Any, other: Any) -> Tensor:
    """|input| with the sign of other (-0.0 counts as negative), as a float."""
    return Copysign.apply(*promote(input, other, floating=True))


def nan_to_num(x: Any, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Tensor:
    """x with NaN replaced by `nan`, +inf by `posinf` and -inf by `neginf` (by default the
    largest and the lowest finite number of x's dtype)."""
    return NanToNum.apply(_tensor(x), nan=nan, posinf=posinf, neginf=neginf)


def isnan(x: Any) -> Tensor:
    """True where x is NaN (a bool tensor, outside the graph)"""
    return discrete.Unary.apply(_tensor(x), ufunc=np.isnan)


def isinf(x: Any) -> Tensor:
    """True where x is +inf or -inf"""
    return discrete.Unary.apply(_tensor(x), ufunc=np.isinf)


def isfinite(x: Any) -> Tensor:
    """True where x is neither NaN nor ±inf"""
    return discrete.Unary.apply(_tensor(x), ufunc=np.isfinite)


def _shift(op: str, a: Any, b: Any, ufunc: np.ufunc) -> Tensor:
    """a << b or a >> b on integers, as torch: a shift by a negative number or by at
    least the number of bits gives 0 (>> of a negative number: -1)."""
    dtype = result_type(a, b)
    if dtype.kind not in "iu":
        raise DtypeError(f"{op}: bit shifts need integer tensors, got {dtype}; convert "
                         f"first, e.g. x.long() {op} 2")
    return discrete.Binary.apply(*promote(a, b), ufunc=ufunc)


def bitwise_left_shift(input: Any, other: Any) -> Tensor:
    """input << other = input · 2^other on integers"""
    return _shift("<<", input, other, np.left_shift)


def bitwise_right_shift(input: Any, other: Any) -> Tensor:
    """input >> other = ⌊input / 2^other⌋ on integers"""
    return _shift(">>", input, other, np.right_shift)


def _rmod(self: Tensor, other: Any) -> Tensor:
    return remainder(other, self)


def _rfloordiv(self: Tensor, other: Any) -> Tensor:
    return floor_divide(other, self)


def _rlshift(self: Tensor, other: Any) -> Tensor:
    return bitwise_left_shift(other, self)


def _rrshift(self: Tensor, other: Any) -> Tensor:
    return bitwise_right_shift(other, self)


# ---------------------------------------------------------------- attached to Tensor
# x.sin() is sin(x), x % y is remainder(x, y), 2 // x is floor_divide(2, x): each function
# above becomes a Tensor method of the same name, and the operators call them.
register_methods({
    "sin": sin, "cos": cos, "tan": tan, "asin": asin, "acos": acos, "atan": atan,
    "atan2": atan2, "sinh": sinh, "cosh": cosh, "asinh": asinh, "acosh": acosh,
    "atanh": atanh, "log2": log2, "log10": log10, "log1p": log1p, "exp2": exp2,
    "expm1": expm1, "logit": logit, "reciprocal": reciprocal, "rsqrt": rsqrt,
    "square": square, "erf": erf, "erfinv": erfinv,
    "sign": sign, "floor": floor, "ceil": ceil, "round": round, "trunc": trunc, "frac": frac,
    "lerp": lerp, "logaddexp": logaddexp, "remainder": remainder, "fmod": fmod,
    "floor_divide": floor_divide, "copysign": copysign, "nan_to_num": nan_to_num,
    "isnan": isnan, "isinf": isinf, "isfinite": isfinite,
    "bitwise_left_shift": bitwise_left_shift, "bitwise_right_shift": bitwise_right_shift,
    "__mod__": remainder, "__rmod__": _rmod, "__floordiv__": floor_divide,
    "__rfloordiv__": _rfloordiv, "__lshift__": bitwise_left_shift, "__rlshift__": _rlshift,
    "__rshift__": bitwise_right_shift, "__rrshift__": _rrshift,
})
