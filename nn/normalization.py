"""LayerNorm, GroupNorm, RMSNorm and LocalResponseNorm: normalise each sample on its own
(over its last dims, over groups of its channels, by the root mean square of its last
dims, or over neighbouring channels), so they behave the same in training and evaluation
and keep no running statistics. The math is `nn.functional.layer_norm`, `group_norm`,
`rms_norm` and `local_response_norm`."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import autodiff as ad
from autodiff.tensor import Tensor

from . import functional as F
from . import init
from .module import Module, Parameter, bare, builtin_layer, check_size


class _AffineNorm(Module):
    """A normalisation followed by a learned per-element γ and β (both optional)."""

    def _affine(self, shape: Any, affine: bool, bias: bool) -> None:
        self.register_parameter("weight", Parameter(ad.zeros(shape)) if affine else None)
        self.register_parameter("bias", Parameter(ad.zeros(shape)) if affine and bias
                                else None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """γ = 1 and β = 0: the layer starts as a plain normalisation."""
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)


@builtin_layer
class LayerNorm(_AffineNorm):
    """y = (x - E[x]) / √(Var[x] + eps) · γ + β, E and Var (biased) taken over the last
    dims of each sample, those of `normalized_shape` (Ba et al., 2016).

    Args:
        normalized_shape: the sizes of the input's last dims to normalise over (an int n
            for the last dim alone, of size n).
        eps: added to the variance for stability (default 1e-5).
        elementwise_affine: learn γ (weight) and β (bias), one per normalised element.
        bias: with elementwise_affine, whether to learn β (default True).

    Shape:
        input (*, *normalized_shape); output the same.

    Attributes:
        weight: γ, of shape normalized_shape, initialised to 1.
        bias: β, of shape normalized_shape, initialised to 0.

    Example:
    >>> import autodiff as ad, nn
    >>> ln = nn.LayerNorm(2)
    >>> ln(ad.tensor([[1.0, 3.0], [10.0, 0.0]])).numpy().round(4)
    array([[-1.,  1.],
           [ 1., -1.]], dtype=float32)
    >>> ln
    LayerNorm((2,), eps=1e-05, elementwise_affine=True, bias=True)
    """

    SETTINGS = (bare("normalized_shape"), "eps", "elementwise_affine", "bias")
    LABEL = "{normalized_shape}"

    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True) -> None:
        super().__init__()
        self.normalized_shape = F.normalized_shape_tuple("LayerNorm", normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        self._affine(self.normalized_shape, elementwise_affine, bias)

    def forward(self, input: Tensor) -> Tensor:
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    @staticmethod
    def state_shapes(normalized_shape: int | Sequence[int], elementwise_affine: bool = True,
                     bias: bool = True, **_: Any) -> dict[str, tuple[int, ...]]:
        shape = F.normalized_shape_tuple("LayerNorm", normalized_shape)
        shapes = {"weight": shape} if elementwise_affine else {}
        return shapes | ({"bias": shape} if elementwise_affine and bias else {})


@builtin_layer
class GroupNorm(_AffineNorm):
    """y = (x - E[x]) / √(Var[x] + eps) · γ + β, E and Var (biased) taken per sample over
    each group of num_channels / num_groups channels and all their positions (Wu & He,
    2018); γ and β are per channel. num_groups=1 normalises each whole sample (like
    LayerNorm over (C, *)), num_groups=num_channels each channel (instance norm).

    Args:
        num_groups: the number of groups the channels are split into.
        num_channels: C, the number of channels; divisible by num_groups.
        eps: added to the variance for stability (default 1e-5).
        affine: learn γ (weight, initialised to 1) and β (bias, initialised to 0).
        bias: with affine, whether to learn β (keyword only, default True).

    Shape:
        input (N, C, *); output the same.

    Example:
    >>> import autodiff as ad, nn
    >>> gn = nn.GroupNorm(1, 2)
    >>> gn(ad.tensor([[[1.0], [3.0]]])).numpy().round(4).ravel()
    array([-1.,  1.], dtype=float32)
    >>> gn
    GroupNorm(1, 2, eps=1e-05, affine=True, bias=True)
    """

    SETTINGS = (bare("num_groups"), bare("num_channels"), "eps", "affine", "bias")
    LABEL = "{num_groups}, {num_channels}"

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, *, bias: bool = True) -> None:
        super().__init__()
        check_size("GroupNorm", "num_groups", num_groups)
        check_size("GroupNorm", "num_channels", num_channels)
        if num_groups == 0 or num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by "
                             f"num_groups ({num_groups})")
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        self._affine(num_channels, affine, bias)

    def forward(self, input: Tensor) -> Tensor:
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    @staticmethod
    def state_shapes(num_channels: int, affine: bool = True, bias: bool = True,
                     **_: Any) -> dict[str, tuple[int, ...]]:
        shapes = {"weight": (num_channels,)} if affine else {}
        return shapes | ({"bias": (num_channels,)} if affine and bias else {})


@builtin_layer
class RMSNorm(Module):
    """y = x / √(mean(x²) + eps) · γ, the mean taken over the last dims of each sample,
    those of `normalized_shape` (Zhang & Sennrich, 2019): LayerNorm without centring and
    without β.

    Args:
        normalized_shape: the sizes of the input's last dims to normalise over (an int n
            for the last dim alone, of size n).
        eps: added to the mean square for stability (default None: the machine epsilon
            of the input's dtype).
        elementwise_affine: learn γ (weight), one per normalised element.

    Shape:
        input (*, *normalized_shape); output the same.

    Attributes:
        weight: γ, of shape normalized_shape, initialised to 1.

    Example:
    >>> import autodiff as ad, nn
    >>> rms = nn.RMSNorm(2, eps=0.0)
    >>> rms(ad.tensor([[1.0, -1.0], [3.0, 4.0]])).numpy().round(4)
    array([[ 1.    , -1.    ],
           [ 0.8485,  1.1314]], dtype=float32)
    >>> rms
    RMSNorm((2,), eps=0.0, elementwise_affine=True)
    """

    SETTINGS = (bare("normalized_shape"), "eps", "elementwise_affine")
    LABEL = "{normalized_shape}"

    def __init__(self, normalized_shape: int | Sequence[int], eps: float | None = None,
                 elementwise_affine: bool = True) -> None:
        super().__init__()
        self.normalized_shape = F.normalized_shape_tuple("RMSNorm", normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        self.register_parameter("weight", Parameter(ad.empty(self.normalized_shape))
                                if elementwise_affine else None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """γ = 1: the layer starts as a plain RMS normalisation."""
        if self.weight is not None:
            init.ones_(self.weight)

    def forward(self, input: Tensor) -> Tensor:
        return F.rms_norm(input, self.normalized_shape, self.weight, self.eps)

    @staticmethod
    def state_shapes(normalized_shape: int | Sequence[int], elementwise_affine: bool = True,
                     **_: Any) -> dict[str, tuple[int, ...]]:
        shape = F.normalized_shape_tuple("RMSNorm", normalized_shape)
        return {"weight": shape} if elementwise_affine else {}


@builtin_layer
class LocalResponseNorm(Module):
    """y_c = x_c / (k + α/size · Σ_{c'} x_{c'}²)^β, the sum over the `size` channels
    around c (from c − ⌊size/2⌋ to c + ⌊(size − 1)/2⌋, those past the ends counting 0):
    each value damped by its neighbours' activity (Krizhevsky et al., 2012).

    Args:
        size: how many neighbouring channels to sum over.
        alpha: α (default 1e-4).
        beta: β (default 0.75).
        k: k (default 1.0).

    Shape:
        input (N, C, *); output the same.

    Example:
    >>> import autodiff as ad, nn
    >>> lrn = nn.LocalResponseNorm(2, alpha=1.0, beta=1.0, k=0.0)
    >>> lrn(ad.tensor([[[1.0], [3.0]]])).flatten()             # 1 / ½(0 + 1), 3 / ½(1 + 9)
    tensor([2. , 0.6])
    >>> lrn
    LocalResponseNorm(2, alpha=1.0, beta=1.0, k=0.0)
    """

    SETTINGS = (bare("size"), "alpha", "beta", "k")
    LABEL = "{size}"

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75,
                 k: float = 1.0) -> None:
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input: Tensor) -> Tensor:
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)
