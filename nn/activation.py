"""Activation layers: ReLU, LeakyReLU, RReLU, PReLU, Sigmoid, Tanh, GELU, SiLU, ELU, SELU, CELU,
Softplus, Mish, Hardtanh, ReLU6, Hardswish, Hardsigmoid, LogSigmoid, Softsign, Threshold,
Hardshrink, Softshrink, Tanhshrink, and GLU, Softmax, Softmin, LogSoftmax along a dim and
Softmax2d over the channels; plus Unflatten, Flatten's inverse. Each applies the function
of the same name elementwise (softmax-like ones along `dim`); see nn.functional and
autodiff/ops for the formulas and derivatives. The layers torch gives an `inplace`
switch have it too: inplace=True writes the result into the input
(`F.write_in_place`)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import autodiff as ad
from autodiff.errors import ShapeError
from autodiff.ops.reduce import normalize_dim
from autodiff.tensor import Tensor

from . import functional as F
from .init import constant_
from .module import Module, Parameter, bare, builtin_layer, changed, check_size, hidden


class _Plain(Module):
    """An activation without settings."""

    SETTINGS = ()


class _InPlace(Module):
    """An activation torch gives an `inplace` switch (the last constructor argument;
    repr shows it when True)."""

    SETTINGS = (changed("inplace"),)

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace


@builtin_layer
class ReLU(_InPlace):
    """max(0, x) elementwise (relu'(0) = 0).

    Args:
        inplace: write the result into the input (default False).

    >>> import autodiff as ad, nn
    >>> nn.ReLU()(ad.tensor([-1.0, 0.0, 2.0])).tolist() == [0.0, 0.0, 2.0]
    True
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.relu(input, self.inplace)


@builtin_layer
class LeakyReLU(_InPlace):
    """x where x > 0, negative_slope · x elsewhere.

    Args:
        negative_slope: the slope for negative inputs (default 0.01).
        inplace: write the result into the input (default False).

    >>> import autodiff as ad, nn
    >>> nn.LeakyReLU(0.1)(ad.tensor([-2.0, 3.0]))
    tensor([-0.2,  3. ])
    """

    SETTINGS = ("negative_slope", changed("inplace"))
    LABEL = "{negative_slope}"

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__(inplace)
        self.negative_slope = negative_slope

    def forward(self, input: Tensor) -> Tensor:
        return F.leaky_relu(input, self.negative_slope, self.inplace)


@builtin_layer
class RReLU(_InPlace):
    """Randomised leaky ReLU (Xu et al., 2015): x where x > 0, a · x elsewhere. In
    training each element draws its own slope a ~ U(lower, upper), a new draw on every
    call; in eval mode a = (lower + upper) / 2 (see F.rrelu).

    Args:
        lower: the smallest slope (default 1/8).
        upper: the largest slope (default 1/3).
        inplace: write the result into the input (default False).

    >>> import autodiff as ad, nn
    >>> nn.RReLU(0.1, 0.3).eval()(ad.tensor([-3.0, 2.0]))
    tensor([-0.6,  2. ])
    >>> nn.RReLU()
    RReLU(lower=0.125, upper=0.3333333333333333)
    """

    SETTINGS = ("lower", "upper", changed("inplace"))

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
                 inplace: bool = False) -> None:
        super().__init__(inplace)
        self.lower = lower
        self.upper = upper

    def forward(self, input: Tensor) -> Tensor:
        return F.rrelu(input, self.lower, self.upper, self.training, self.inplace)


@builtin_layer
class PReLU(Module):
    """x where x > 0, a·x elsewhere, the slope a learned (He et al., 2015): one slope for
    every channel, or one per channel (dim 1 of the input).

    Args:
        num_parameters: the number of slopes: 1, or the input's channels (default 1).
        init: every slope's initial value (default 0.25).

    Shape:
        input (*) with one slope, (N, C, *) with C slopes; output the same.

    Attributes:
        weight: the slopes a, of shape (num_parameters,), initialised to `init`.

    Example:
    >>> import autodiff as ad, nn
    >>> prelu = nn.PReLU()
    >>> prelu(ad.tensor([-2.0, 3.0]))
    tensor([-0.5,  3. ], grad_fn=<WhereBackward>)
    >>> prelu
    PReLU(num_parameters=1)
    """

    SETTINGS = ("num_parameters", hidden("init"))
    LABEL = "{num_parameters}"

    def __init__(self, num_parameters: int = 1, init: float = 0.25) -> None:
        super().__init__()
        check_size("PReLU", "num_parameters", num_parameters)
        self.num_parameters = num_parameters
        self.init = init
        self.weight = Parameter(ad.empty(num_parameters))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every slope back to `init`."""
        constant_(self.weight, self.init)

    def forward(self, input: Tensor) -> Tensor:
        return F.prelu(input, self.weight)

    @staticmethod
    def state_shapes(num_parameters: int = 1, **_: Any) -> dict[str, tuple[int, ...]]:
        return {"weight": (num_parameters,)}


@builtin_layer
class Sigmoid(_Plain):
    """σ(x) = 1 / (1 + e⁻ˣ) elementwise;  σ' = σ(1 - σ)."""

    def forward(self, input: Tensor) -> Tensor:
        return F.sigmoid(input)


@builtin_layer
class Tanh(_Plain):
    """tanh(x) elementwise;  tanh' = 1 - tanh²."""

    def forward(self, input: Tensor) -> Tensor:
        return F.tanh(input)


@builtin_layer
class GELU(Module):
    """x·Φ(x), Φ the standard normal CDF (Hendrycks & Gimpel, 2016): x weighted by how
    likely a standard normal variable is below it.

    Args:
        approximate: 'none' for Φ(x) = ½(1 + erf(x/√2)), 'tanh' for
            Φ(x) ≈ ½(1 + tanh(√(2/π)(x + 0.044715x³))) (within 5e-4).

    >>> import autodiff as ad, nn
    >>> nn.GELU(approximate="tanh")(ad.tensor([0.0, 1.0]))
    tensor([0.      , 0.841192])
    """

    SETTINGS = ("approximate",)
    LABEL = "approximate={approximate!r}"

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:
        return F.gelu(input, self.approximate)


@builtin_layer
class SiLU(_InPlace):
    """x·σ(x) elementwise (the sigmoid-weighted linear unit, also called swish).

    Args:
        inplace: write the result into the input (default False).
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.silu(input, self.inplace)


@builtin_layer
class ELU(_InPlace):
    """x where x > 0, α(eˣ - 1) elsewhere (Clevert et al., 2015): negative outputs down to
    -α pull mean activations towards 0.

    Args:
        alpha: α, the value approached as x → -∞ (default 1.0).
        inplace: write the result into the input (default False).

    >>> import autodiff as ad, nn
    >>> nn.ELU()(ad.tensor([-1.0, 2.0])).numpy().round(4)      # -1 + e⁻¹
    array([-0.6321,  2.    ], dtype=float32)
    """

    SETTINGS = ("alpha", changed("inplace"))
    LABEL = "alpha={alpha}"

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__(inplace)
        self.alpha = alpha

    def forward(self, input: Tensor) -> Tensor:
        return F.elu(input, self.alpha, self.inplace)


@builtin_layer
class SELU(_InPlace):
    """scale · ELU(x, α) with α ≈ 1.6733 and scale ≈ 1.0507 (Klambauer et al., 2017),
    chosen so that activations keep mean 0 and variance 1 through many layers.

    Args:
        inplace: write the result into the input (default False).
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.selu(input, self.inplace)


@builtin_layer
class CELU(_InPlace):
    """max(0, x) + min(0, α(e^(x/α) - 1)) (Barron, 2017): an ELU whose slope is 1 at 0.

    Args:
        alpha: α, not 0 (default 1.0).
        inplace: write the result into the input (default False).
    """

    SETTINGS = ("alpha", changed("inplace"))
    LABEL = "alpha={alpha}"

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__(inplace)
        if alpha == 0:
            raise ValueError("CELU: alpha must not be 0 (it divides x)")
        self.alpha = alpha

    def forward(self, input: Tensor) -> Tensor:
        return F.celu(input, self.alpha, self.inplace)


@builtin_layer
class Softplus(Module):
    """(1/β)·log(1 + e^(βx)): a smooth relu, always positive; softplus'(x) = σ(βx).

    Args:
        beta: β, how sharp the bend at 0 is (default 1.0).
        threshold: above βx = threshold the output is x itself (default 20.0).

    >>> import autodiff as ad, nn
    >>> nn.Softplus()(ad.tensor([0.0, 30.0])).numpy().round(4)    # log 2, then x itself
    array([ 0.6931, 30.    ], dtype=float32)
    """

    SETTINGS = ("beta", "threshold")
    LABEL = "beta={beta}, threshold={threshold}"

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input: Tensor) -> Tensor:
        return F.softplus(input, self.beta, self.threshold)


@builtin_layer
class Mish(_InPlace):
    """x·tanh(softplus(x)) elementwise (Misra, 2019).

    Args:
        inplace: write the result into the input (default False).
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.mish(input, self.inplace)


@builtin_layer
class Hardtanh(_InPlace):
    """x clamped to [min_val, max_val]; the slope is 1 strictly inside, 0 elsewhere
    (0 at the bounds too, as torch's).

    Args:
        min_val: the lower bound (default -1.0).
        max_val: the upper bound (default 1.0).
        inplace: write the result into the input (default False).

    >>> import autodiff as ad, nn
    >>> nn.Hardtanh()(ad.tensor([-3.0, 0.5, 2.0]))
    tensor([-1. ,  0.5,  1. ])
    """

    SETTINGS = ("min_val", "max_val", changed("inplace"))
    LABEL = "min_val={min_val}, max_val={max_val}"

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0,
                 inplace: bool = False) -> None:
        super().__init__(inplace)
        if min_val > max_val:
            raise ValueError(f"Hardtanh: min_val {min_val} is larger than max_val {max_val}")
        self.min_val = min_val
        self.max_val = max_val

    def forward(self, input: Tensor) -> Tensor:
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)


@builtin_layer
class ReLU6(_InPlace):
    """min(max(0, x), 6) elementwise: Hardtanh(0, 6), slope 0 at 0 and at 6.

    Args:
        inplace: write the result into the input (default False).
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.relu6(input, self.inplace)


@builtin_layer
class Hardsigmoid(_InPlace):
    """relu6(x + 3) / 6: 0 up to -3, 1 from 3, x/6 + ½ between: a piecewise-linear σ.

    Args:
        inplace: write the result into the input (default False; torch's repr never
            shows it).
    """

    SETTINGS = (hidden("inplace"),)

    def forward(self, input: Tensor) -> Tensor:
        return F.hardsigmoid(input, self.inplace)


@builtin_layer
class Hardswish(_InPlace):
    """x · hardsigmoid(x) (Howard et al., 2019, MobileNetV3): a piecewise SiLU.

    Args:
        inplace: write the result into the input (default False; torch's repr never
            shows it).
    """

    SETTINGS = (hidden("inplace"),)

    def forward(self, input: Tensor) -> Tensor:
        return F.hardswish(input, self.inplace)


@builtin_layer
class LogSigmoid(_Plain):
    """log σ(x) = -softplus(-x), computed without overflow."""

    def forward(self, input: Tensor) -> Tensor:
        return F.logsigmoid(input)


@builtin_layer
class Softsign(_Plain):
    """x / (1 + |x|): like tanh, but approaching ±1 polynomially."""

    def forward(self, input: Tensor) -> Tensor:
        return F.softsign(input)


@builtin_layer
class Threshold(_InPlace):
    """x where x > threshold, `value` elsewhere (slope 0 at the threshold).

    Args:
        threshold: the value x must exceed to pass.
        value: what replaces the x at or below the threshold.
        inplace: write the result into the input (default False).

    >>> import autodiff as ad, nn
    >>> nn.Threshold(0.1, 20.0)(ad.tensor([0.0, 0.5]))
    tensor([20. ,  0.5])
    """

    SETTINGS = ("threshold", "value", changed("inplace"))
    LABEL = "{threshold}, {value}"

    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        super().__init__(inplace)
        self.threshold = threshold
        self.value = value

    def forward(self, input: Tensor) -> Tensor:
        return F.threshold(input, self.threshold, self.value, self.inplace)


class _Shrink(Module):
    """A shrinkage with its threshold λ (torch's repr shows it alone)."""

    SETTINGS = (bare("lambd"),)
    LABEL = "{lambd}"

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = lambd


@builtin_layer
class Hardshrink(_Shrink):
    """x where |x| > λ, 0 elsewhere.

    Args:
        lambd: λ (default 0.5).

    >>> import autodiff as ad, nn
    >>> nn.Hardshrink()(ad.tensor([-1.0, 0.25, 0.75]))
    tensor([-1.  ,  0.  ,  0.75])
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.hardshrink(input, self.lambd)


@builtin_layer
class Softshrink(_Shrink):
    """x − λ where x > λ, x + λ where x < −λ, 0 between: x moved towards 0 by λ.

    Args:
        lambd: λ, >= 0 (default 0.5).

    >>> import autodiff as ad, nn
    >>> nn.Softshrink(1.0)(ad.tensor([-3.0, 0.5, 2.0]))
    tensor([-2.,  0.,  1.])
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.softshrink(input, self.lambd)


@builtin_layer
class Tanhshrink(_Plain):
    """x − tanh(x) elementwise."""

    def forward(self, input: Tensor) -> Tensor:
        return F.tanhshrink(input)


class _AlongDim(Module):
    """A layer that works along one dim (which must be given before it is called)."""

    SETTINGS = ("dim",)
    LABEL = "dim={dim}"

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim


@builtin_layer
class Softmax(_AlongDim):
    """exp(xᵢ) / Σⱼ exp(xⱼ) along `dim`: probabilities that sum to 1.

    Args:
        dim: the dim the probabilities run along (dim=1 for a batch of rows).

    >>> import autodiff as ad, nn
    >>> nn.Softmax(dim=1)(ad.tensor([[0.0, 0.0]]))
    tensor([[0.5, 0.5]])
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.softmax(input, self.dim)


@builtin_layer
class GLU(_AlongDim):
    """a ⊙ σ(b), a and b the two halves of the input along `dim` (the gated linear unit,
    Dauphin et al., 2017): the output is half as long along `dim`.

    Args:
        dim: the dim to halve (default -1, the last).

    >>> import autodiff as ad, nn
    >>> nn.GLU()(ad.tensor([[2.0, 4.0, 0.0, 100.0]]))
    tensor([[1., 4.]])
    """

    def __init__(self, dim: int = -1) -> None:
        super().__init__(dim)

    def forward(self, input: Tensor) -> Tensor:
        return F.glu(input, self.dim)


@builtin_layer
class Softmax2d(_Plain):
    """softmax over the channels at each position of an image: dim -3 of (N, C, H, W) or
    (C, H, W).

    >>> import autodiff as ad, nn
    >>> nn.Softmax2d()(ad.zeros(2, 1, 1)).flatten()
    tensor([0.5, 0.5])
    """

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim not in (3, 4):
            raise ShapeError(f"Softmax2d: expected a 3-D input (C, H, W) or a 4-D one "
                             f"(N, C, H, W), got shape {input.shape}; for other inputs use "
                             f"nn.Softmax(dim=...)")
        return F.softmax(input, -3)


@builtin_layer
class Softmin(_AlongDim):
    """exp(-xᵢ) / Σⱼ exp(-xⱼ) along `dim`: softmax of -x, the most weight on the smallest.

    Args:
        dim: the dim the weights run along (dim=1 for a batch of rows).

    >>> import autodiff as ad, nn, math
    >>> nn.Softmin(dim=0)(ad.tensor([0.0, math.log(3)]))
    tensor([0.75, 0.25])
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.softmin(input, self.dim)


@builtin_layer
class LogSoftmax(_AlongDim):
    """xᵢ - log Σⱼ exp(xⱼ) along `dim` (computed stably): log-probabilities, the input
    nll_loss expects.

    Args:
        dim: the dim the classes run along (dim=1 for a batch of rows).
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.log_softmax(input, self.dim)


@builtin_layer
class Unflatten(Module):
    """Splits dim `dim` into the sizes `unflattened_size` (one of them may be -1, worked
    out from the others): the inverse of Flatten.

    Args:
        dim: the dim to split.
        unflattened_size: the sizes it becomes; their product must be its size.

    Shape:
        input (*, S, *) with S at `dim`; output (*, *unflattened_size, *).

    Example:
    >>> import autodiff as ad, nn
    >>> nn.Unflatten(1, (1, 28, 28))(ad.zeros(32, 784)).shape
    (32, 1, 28, 28)
    """

    SETTINGS = ("dim", "unflattened_size")

    def __init__(self, dim: int, unflattened_size: Sequence[int]) -> None:
        super().__init__()
        self.dim = dim
        self.unflattened_size = tuple(unflattened_size)

    def forward(self, input: Tensor) -> Tensor:
        dim = normalize_dim("Unflatten", self.dim, input.ndim)
        try:
            return input.reshape(input.shape[:dim] + self.unflattened_size
                                 + input.shape[dim + 1:])
        except ShapeError as error:
            raise ShapeError(f"Unflatten: dim {self.dim} of the input of shape {input.shape} "
                             f"has size {input.shape[dim]}, which cannot be split into "
                             f"{self.unflattened_size}; their product must be "
                             f"{input.shape[dim]}") from error
