"""nn.init: fill a tensor in place with initial values (torch.nn.init's names and defaults).

Each function writes into the tensor under no_grad (keeping its dtype; its version goes
up by one, as torch's), draws from the shared
generator (so `ad.manual_seed(s)` makes it reproducible) and returns the tensor.
fan_in and fan_out of a weight of shape (out, in, *kernel) are in·k and out·k, with k
the number of kernel elements (1 for a Linear weight).

>>> import autodiff as ad, nn
>>> w = ad.zeros(3, 4)
>>> nn.init.constant_(w, 0.5)
tensor([[0.5, 0.5, 0.5, 0.5],
        [0.5, 0.5, 0.5, 0.5],
        [0.5, 0.5, 0.5, 0.5]])
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from autodiff.grad_mode import no_grad
from autodiff.random import generator
from autodiff.tensor import Tensor


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The factor that keeps activations' variance steady through a nonlinearity:
    1 for linear and sigmoid, 5/3 for tanh, √2 for relu, √(2 / (1 + slope²)) for
    leaky_relu (slope = param, default 0.01), 3/4 for selu.

    >>> calculate_gain("relu") == math.sqrt(2)
    True
    """
    if nonlinearity in ("linear", "identity", "sigmoid", "conv1d", "conv2d", "conv3d",
                        "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, (int, float)):
            raise ValueError(f"calculate_gain: the leaky_relu slope must be a number, "
                             f"got {slope!r}")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unknown nonlinearity {nonlinearity!r}; use linear, "
                     f"sigmoid, tanh, relu, leaky_relu or selu")


def calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of shape (out, in, *kernel)."""
    if tensor.ndim < 2:
        raise ValueError(f"init: fan_in and fan_out need a weight with at least 2 dims "
                         f"(out_features, in_features), got shape {tensor.shape}")
    kernel = int(np.prod(tensor.shape[2:]))
    return tensor.shape[1] * kernel, tensor.shape[0] * kernel


def _fan(tensor: Tensor, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"init: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _fill(tensor: Tensor, values: Any) -> Tensor:
    with no_grad():
        tensor[...] = values
    return tensor


def zeros_(tensor: Tensor) -> Tensor:
    return _fill(tensor, 0)


def ones_(tensor: Tensor) -> Tensor:
    return _fill(tensor, 1)


def constant_(tensor: Tensor, val: float) -> Tensor:
    return _fill(tensor, val)


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    """Samples of U(a, b)."""
    return _fill(tensor, generator().uniform(a, b, tensor.shape))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    """Samples of N(mean, std²)."""
    return _fill(tensor, generator().normal(mean, std, tensor.shape))


def xavier_uniform_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """Glorot & Bengio (2010): U(-a, a) with a = gain · √(6 / (fan_in + fan_out))."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound)


def xavier_normal_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """Glorot & Bengio (2010): N(0, std²) with std = gain · √(2 / (fan_in + fan_out))."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def kaiming_uniform_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu") -> Tensor:
    """He et al. (2015): U(-bound, bound) with bound = gain · √(3 / fan), gain =
    calculate_gain(nonlinearity, a) (a is the leaky_relu slope; a=0 gives relu's √2)."""
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu") -> Tensor:
    """He et al. (2015): N(0, std²) with std = gain / √fan, gain as in kaiming_uniform_."""
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return normal_(tensor, 0.0, std)


def lecun_normal_(tensor: Tensor) -> Tensor:
    """The lecture notes' rule `w = randn(n) / sqrt(n)`, n = fan_in: N(0, 1/fan_in), so a
    unit's output variance matches its inputs' (LeCun et al. 1998). For a 1-D tensor (one
    unit's weights) n is its length. (Keras's `lecun_normal` truncates the normal
    distribution; this is the untruncated form of the notes.)

    >>> import autodiff as ad
    >>> w = lecun_normal_(ad.zeros(1000, 400))
    >>> round(float(w.numpy().std() * math.sqrt(400)), 1)
    1.0
    """
    fan_in = tensor.shape[0] if tensor.ndim == 1 else _fan(tensor, "fan_in")
    return _fill(tensor, generator().standard_normal(tensor.shape) / math.sqrt(fan_in))
