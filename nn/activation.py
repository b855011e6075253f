"""Activation layers: ReLU, LeakyReLU, Sigmoid, Tanh, Softmax, LogSoftmax. Each applies
the function of the same name elementwise (softmax-like ones along `dim`); see
nn.functional and autodiff/ops for the formulas and derivatives."""
from __future__ import annotations

from typing import Any

from autodiff.tensor import Tensor

from . import functional as F
from .module import Module, builtin_layer


@builtin_layer
class ReLU(Module):
    """max(0, x) elementwise (relu'(0) = 0).

    >>> import autodiff as ad, nn
    >>> nn.ReLU()(ad.tensor([-1.0, 0.0, 2.0])).tolist() == [0.0, 0.0, 2.0]
    True
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.relu(input)

    def hyperparameters(self) -> dict[str, Any]:
        return {}


@builtin_layer
class LeakyReLU(Module):
    """x where x > 0, negative_slope · x elsewhere.

    Args:
        negative_slope: the slope for negative inputs (default 0.01).

    >>> import autodiff as ad, nn
    >>> nn.LeakyReLU(0.1)(ad.tensor([-2.0, 3.0]))
    tensor([-0.2,  3. ])
    """

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, input: Tensor) -> Tensor:
        return F.leaky_relu(input, self.negative_slope)

    def hyperparameters(self) -> dict[str, Any]:
        return {"negative_slope": self.negative_slope}

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"

    def _scope_label(self) -> str:
        return f"LeakyReLU({self.negative_slope})"


@builtin_layer
class Sigmoid(Module):
    """σ(x) = 1 / (1 + e⁻ˣ) elementwise;  σ' = σ(1 - σ)."""

    def forward(self, input: Tensor) -> Tensor:
        return F.sigmoid(input)

    def hyperparameters(self) -> dict[str, Any]:
        return {}


@builtin_layer
class Tanh(Module):
    """tanh(x) elementwise;  tanh' = 1 - tanh²."""

    def forward(self, input: Tensor) -> Tensor:
        return F.tanh(input)

    def hyperparameters(self) -> dict[str, Any]:
        return {}


class _AlongDim(Module):
    """A layer that works along one dim (which must be given before it is called)."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def hyperparameters(self) -> dict[str, Any]:
        return {"dim": self.dim}

    def extra_repr(self) -> str:
        return f"dim={self.dim}"

    def _scope_label(self) -> str:
        return f"{type(self).__name__}(dim={self.dim})"


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
class LogSoftmax(_AlongDim):
    """xᵢ - log Σⱼ exp(xⱼ) along `dim` (computed stably): log-probabilities, the input
    nll_loss expects.

    Args:
        dim: the dim the classes run along (dim=1 for a batch of rows).
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.log_softmax(input, self.dim)
