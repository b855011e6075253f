"""nn.init: fill a tensor in place with initial values (torch.nn.init's names and defaults).

Each function writes into the tensor under no_grad (keeping its dtype; its version goes
up by one, as torch's), draws from the shared generator (so `ad.manual_seed(s)` makes it
reproducible) or from the `generator=` given (an `ad.Generator`), and returns the tensor.
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
import warnings
from typing import Any

import numpy as np

import autodiff as ad
from autodiff import random
from autodiff.grad_mode import no_grad
from autodiff.random import Generator
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


def eye_(tensor: Tensor) -> Tensor:
    """The identity matrix (ones on the diagonal of a 2-D tensor, zeros elsewhere): a
    Linear layer that starts by passing its inputs on."""
    if tensor.ndim != 2:
        raise ValueError(f"init.eye_: needs a 2-D tensor, got shape {tensor.shape}")
    return _fill(tensor, np.eye(*tensor.shape))


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """The Dirac delta of a convolution's weight (out, in, *kernel) with 1, 2 or 3 kernel
    dims: 1 at the kernel's centre for out channel g·(out/groups) + d and in channel d
    (d < min(out/groups, in)), 0 elsewhere, so the layer starts by passing those
    channels on unchanged."""
    if tensor.ndim not in (3, 4, 5):
        raise ValueError(f"init.dirac_: needs a convolution weight with 3, 4 or 5 dims, got "
                         f"shape {tensor.shape}")
    if not (isinstance(groups, int) and groups >= 1) or tensor.shape[0] % groups:
        raise ValueError(f"init.dirac_: groups must be a positive integer dividing the "
                         f"{tensor.shape[0]} out channels, got {groups!r}")
    per_group = tensor.shape[0] // groups
    centre = tuple(size // 2 for size in tensor.shape[2:])
    values = np.zeros(tensor.shape)
    for g in range(groups):
        for d in range(min(per_group, tensor.shape[1])):
            values[(g * per_group + d, d, *centre)] = 1
    return _fill(tensor, values)


def sparse_(tensor: Tensor, sparsity: float, std: float = 0.01,
            generator: Generator | None = None) -> Tensor:
    """Martens (2010): each column of a 2-D tensor drawn from N(0, std²), then
    ⌈sparsity · rows⌉ of its entries, at random rows, set to 0."""
    if tensor.ndim != 2:
        raise ValueError(f"init.sparse_: needs a 2-D tensor, got shape {tensor.shape}")
    if not 0 <= sparsity <= 1:
        raise ValueError(f"init.sparse_: sparsity is the fraction of each column set to 0, "
                         f"in [0, 1], got {sparsity!r}")
    rows, cols = tensor.shape
    draw = random.generator(generator)
    values = draw.normal(0.0, std, tensor.shape)
    zeros = math.ceil(sparsity * rows)
    for col in range(cols):
        values[draw.permutation(rows)[:zeros], col] = 0
    return _fill(tensor, values)


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0,
             generator: Generator | None = None) -> Tensor:
    """Samples of U(a, b)."""
    return _fill(tensor, random.generator(generator).uniform(a, b, tensor.shape))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0,
            generator: Generator | None = None) -> Tensor:
    """Samples of N(mean, std²)."""
    return _fill(tensor, random.generator(generator).normal(mean, std, tensor.shape))


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0, generator: Generator | None = None) -> Tensor:
    """Samples of N(mean, std²) truncated to [a, b] (a and b are values, not numbers of
    standard deviations), by torch's inverse-CDF method: with Φ the standard normal CDF,

        u ~ U(2Φ(α) - 1, 2Φ(β) - 1),  α = (a - mean)/std,  β = (b - mean)/std
        x = mean + std · √2 · erfinv(u)          (Φ⁻¹(p) = √2 · erfinv(2p - 1))

    then clamped to [a, b] against rounding. Like torch, it warns when mean is more than
    2 std outside [a, b], where the method loses accuracy.

    >>> import autodiff as ad
    >>> w = trunc_normal_(ad.zeros(1000), std=0.02, a=-0.04, b=0.04)
    >>> bool((w.abs() <= 0.04).all())
    True
    """
    if not std > 0:
        raise ValueError(f"trunc_normal_: std must be > 0, got {std}")
    if a > b:
        raise ValueError(f"trunc_normal_: the interval [a, b] = [{a}, {b}] is empty; "
                         f"pass a <= b")
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn(f"trunc_normal_: mean {mean} is more than 2 std from [a, b] = "
                      f"[{a}, {b}]; the distribution of values may be incorrect",
                      stacklevel=2)
    low, high = _normal_cdf((a - mean) / std), _normal_cdf((b - mean) / std)
    u = random.generator(generator).uniform(2 * low - 1, 2 * high - 1, tensor.shape)
    with no_grad():
        values = ad.erfinv(ad.from_numpy(u)).numpy() * (std * math.sqrt(2.0)) + mean
    return _fill(tensor, np.clip(values, a, b))


def _normal_cdf(x: float) -> float:
    """Φ(x) = (1 + erf(x/√2)) / 2."""
    return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0


def orthogonal_(tensor: Tensor, gain: float = 1.0, generator: Generator | None = None
                ) -> Tensor:
    """A (semi-)orthogonal matrix times gain (Saxe et al., 2013), as torch makes it: the
    tensor is seen as a matrix W of shape (rows, cols) = (shape[0], the rest flattened);

        A ~ N(0, 1) of shape (rows, cols), transposed when rows < cols
        A = QR,  Q ← Q · sign(diag R)     (the sign makes Q uniformly distributed)
        W = gain · Q (transposed back)

    so W Wᵀ = gain² I when rows <= cols, Wᵀ W = gain² I when rows >= cols.

    >>> import autodiff as ad
    >>> w = orthogonal_(ad.zeros(3, 5, dtype=ad.float64)).numpy()
    >>> bool(np.allclose(w @ w.T, np.eye(3)))
    True
    """
    if tensor.ndim < 2:
        raise ValueError(f"orthogonal_: only tensors with 2 or more dimensions are "
                         f"supported, got shape {tensor.shape}; an orthogonal matrix has "
                         f"rows and columns")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = random.generator(generator).standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, gain * q.reshape(tensor.shape))


def xavier_uniform_(tensor: Tensor, gain: float = 1.0,
                    generator: Generator | None = None) -> Tensor:
    """Glorot & Bengio (2010): U(-a, a) with a = gain · √(6 / (fan_in + fan_out))."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0,
                   generator: Generator | None = None) -> Tensor:
    """Glorot & Bengio (2010): N(0, std²) with std = gain · √(2 / (fan_in + fan_out))."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def kaiming_uniform_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu",
                     generator: Generator | None = None) -> Tensor:
    """He et al. (2015): U(-bound, bound) with bound = gain · √(3 / fan), gain =
    calculate_gain(nonlinearity, a) (a is the leaky_relu slope; a=0 gives relu's √2)."""
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu",
                    generator: Generator | None = None) -> Tensor:
    """He et al. (2015): N(0, std²) with std = gain / √fan, gain as in kaiming_uniform_."""
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return normal_(tensor, 0.0, std, generator)


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
    return _fill(tensor, random.generator().standard_normal(tensor.shape) / math.sqrt(fan_in))
