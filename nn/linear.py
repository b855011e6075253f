"""Linear (y = x Wᵀ + b), LazyLinear (in_features from the first input), Bilinear
(y = x₁ᵀ A x₂ + b) and Identity."""
from __future__ import annotations

import math
from typing import Any

import autodiff as ad
from autodiff.tensor import Tensor

from . import functional as F
from . import init
from .lazy import LazyModuleMixin, UninitializedParameter
from .module import Module, Parameter, builtin_layer, check_size


@builtin_layer
class Identity(Module):
    """Returns its input unchanged (a placeholder, e.g. for a layer switched off).

    >>> import autodiff as ad, nn
    >>> x = ad.ones(2)
    >>> nn.Identity()(x) is x
    True
    """

    SETTINGS = ()

    def forward(self, input: Any) -> Any:
        return input


@builtin_layer
class Linear(Module):
    """Applies an affine map to the last dim: y = x Wᵀ + b (one fused graph node).

    Args:
        in_features: size of each input sample.
        out_features: size of each output sample.
        bias: if False the layer learns no additive bias (and has no "bias" key).

    Shape:
        input (*, in_features), where * is any number of batch dims, including none;
        output (*, out_features).

    Attributes:
        weight: (out_features, in_features), float32, drawn from U(-√k, √k), k = 1/in_features.
        bias: (out_features,), float32, drawn from the same distribution.

    Example:
    >>> import autodiff as ad, nn
    >>> m = nn.Linear(20, 30)
    >>> m(ad.randn(128, 20)).shape
    (128, 30)
    >>> m
    Linear(in_features=20, out_features=30, bias=True)
    """

    SETTINGS = ("in_features", "out_features", "bias")
    LABEL = "{in_features}→{out_features}"

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        super().__init__()
        check_size("Linear", "in_features", in_features)
        check_size("Linear", "out_features", out_features)
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(ad.zeros(out_features, in_features))
        self.register_parameter("bias", Parameter(ad.zeros(out_features)) if bias else None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torch's default: weight and bias from U(-1/√in_features, 1/√in_features).
        (torch writes it as kaiming_uniform_(a=√5), which gives the same bound.)"""
        bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        parameters = self._parameters       # self.weight would go through __getattr__
        return F.linear(input, parameters["weight"], parameters["bias"])

    @staticmethod
    def state_shapes(in_features: int, out_features: int, bias: bool = True,
                     **_: Any) -> dict[str, tuple[int, ...]]:
        return {"weight": (out_features, in_features), **({"bias": (out_features,)} if bias
                                                           else {})}


@builtin_layer
class Bilinear(Module):
    """A bilinear map of two inputs: y = x₁ᵀ A x₂ + b, one matrix A[o] per output feature,

        y[..., o] = Σ_{i,j} x₁[..., i] · A[o, i, j] · x₂[..., j] + b[o]

    (F.bilinear, one einsum): every product of a feature of x₁ with a feature of x₂ gets
    its own weight, as in bilinear pooling and some attention scores.

    Args:
        in1_features: size of each first input sample.
        in2_features: size of each second input sample.
        out_features: size of each output sample.
        bias: if False the layer learns no additive bias (and has no "bias" key).

    Shape:
        input1 (*, in1_features) and input2 (*, in2_features), with the same batch dims
        * (any number, including none); output (*, out_features).

    Attributes:
        weight: (out_features, in1_features, in2_features), float32, drawn from
            U(−√k, √k), k = 1 / in1_features.
        bias: (out_features,), float32, drawn from the same distribution.

    Example:
    >>> import autodiff as ad, nn
    >>> m = nn.Bilinear(20, 30, 40)
    >>> m(ad.randn(128, 20), ad.randn(128, 30)).shape
    (128, 40)
    >>> m
    Bilinear(in1_features=20, in2_features=30, out_features=40, bias=True)
    """

    SETTINGS = ("in1_features", "in2_features", "out_features", "bias")
    LABEL = "{in1_features}×{in2_features}→{out_features}"

    def __init__(self, in1_features: int, in2_features: int, out_features: int,
                 bias: bool = True) -> None:
        super().__init__()
        for name, value in (("in1_features", in1_features), ("in2_features", in2_features),
                            ("out_features", out_features)):
            check_size("Bilinear", name, value)
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        self.weight = Parameter(ad.zeros(out_features, in1_features, in2_features))
        self.register_parameter("bias", Parameter(ad.zeros(out_features)) if bias else None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torch's default: weight and bias from U(−1/√in1_features, 1/√in1_features)
        (torch's bound is 1/√weight.size(1), whatever in2_features is)."""
        bound = 1 / math.sqrt(self.in1_features) if self.in1_features > 0 else 0
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        parameters = self._parameters       # self.weight would go through __getattr__
        return F.bilinear(input1, input2, parameters["weight"], parameters["bias"])

    @staticmethod
    def state_shapes(in1_features: int, in2_features: int, out_features: int,
                     bias: bool = True, **_: Any) -> dict[str, tuple[int, ...]]:
        return {"weight": (out_features, in1_features, in2_features),
                **({"bias": (out_features,)} if bias else {})}


@builtin_layer
class LazyLinear(LazyModuleMixin, Linear):
    """A Linear whose in_features is read from the first input's last dim: y = x Wᵀ + b.
    Until that call, weight and bias are UninitializedParameters; the call makes them
    (out_features, in_features) and (out_features,), draws them from U(−√k, √k),
    k = 1/in_features, as Linear, and turns the module into a Linear.

    Args:
        out_features: size of each output sample.
        bias: if False the layer learns no additive bias (and has no "bias" key).

    Example:
    >>> import autodiff as ad, nn
    >>> m = nn.LazyLinear(30)
    >>> m
    LazyLinear(in_features=0, out_features=30, bias=True)
    >>> m(ad.randn(128, 20)).shape
    (128, 30)
    >>> m
    Linear(in_features=20, out_features=30, bias=True)
    """

    cls_to_become = Linear
    inferred = "in_features"

    def __init__(self, out_features: int, bias: bool = True) -> None:
        super().__init__(0, out_features, False)
        self.weight = UninitializedParameter()
        if bias:
            self.bias = UninitializedParameter()

    def input_size(self, input: Tensor) -> int:
        if input.ndim < 1:
            raise ValueError("LazyLinear: expected an input (*, in_features), got a 0-d "
                             "tensor")
        return input.shape[-1]

    def inferred_shapes(self) -> dict[str, tuple[int, ...]]:
        return Linear.state_shapes(self.in_features, self.out_features,
                                   self.bias is not None)

    @staticmethod
    def state_shapes(out_features: int, bias: bool = True, **_: Any
                     ) -> dict[str, tuple[int, ...]]:
        return {"weight": (0,), **({"bias": (0,)} if bias else {})}
