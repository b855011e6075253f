"""InstanceNorm1d, InstanceNorm2d and InstanceNorm3d: normalise each channel of each sample
over its positions alone (F.instance_norm). They hold what BatchNorm holds (torch derives
both from one base): optional γ and β, and with track_running_stats the running
estimates, which are used in eval mode. LazyInstanceNorm1d/2d/3d read num_features from
the first input."""
from __future__ import annotations

import warnings
from typing import ClassVar

from autodiff.errors import ShapeError
from autodiff.tensor import Tensor

from . import functional as F
from .batchnorm import _BatchNorm, _LazyNormMixin
from .module import builtin_layer


class _InstanceNorm(_BatchNorm):
    """y = (x - E[x]) / √(Var[x] + eps) · γ + β per channel of each sample, E and Var
    (biased) taken over the positions (Ulyanov et al., 2016). Unlike BatchNorm, by default
    there are no γ and β (affine=False) and no running estimates (track_running_stats=
    False): the instance statistics are used in training and in eval. With
    track_running_stats=True the running estimates are updated in training with the
    batch's average of the instance statistics, and used in eval (momentum=None: not
    updated, as torch). An unbatched input (C, *) is taken as a batch of one."""

    positions: ClassVar[int]        # the spatial dims after the channels

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = False, track_running_stats: bool = False, *,
                 bias: bool = True) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, bias=bias)

    def forward(self, input: Tensor) -> Tensor:
        batched = input.ndim == self.positions + 2
        if not batched and input.ndim != self.positions + 1:
            raise ShapeError(f"{self._scope_label()}: expected input of shape "
                             f"{self.input_shapes}, got {input.shape}")
        channel_dim = 1 if batched else 0
        if input.shape[channel_dim] != self.num_features:
            message = (f"{self._scope_label()}: the input of shape {input.shape} has "
                       f"{input.shape[channel_dim]} channels (dim {channel_dim}), not "
                       f"num_features={self.num_features}")
            if self.affine or self.track_running_stats:
                raise ShapeError(message)
            warnings.warn(message + "; num_features is not used (affine=False)",
                          stacklevel=2)
        x = input if batched else input.unsqueeze(0)
        y = F.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            use_input_stats=self.training or not self.track_running_stats,
                            momentum=0.0 if self.momentum is None else self.momentum,
                            eps=self.eps)
        return y if batched else y.squeeze(0)


@builtin_layer
class InstanceNorm1d(_InstanceNorm):
    """y = (x - E[x]) / √(Var[x] + eps) · γ + β per channel of each sequence, E and Var
    (biased) over its L positions (instance normalisation, Ulyanov et al., 2016).

    Args:
        num_features: C, the number of channels.
        eps: added to the variance for stability (default 1e-5).
        momentum: weight of the newest batch in the running estimates (default 0.1).
        affine: learn γ (weight, initialised to 1) and β (bias, initialised to 0)
            (default False).
        track_running_stats: keep running_mean, running_var and num_batches_tracked as
            buffers, and normalise by them in eval mode (default False).
        bias: with affine, whether to learn β (keyword only, default True).

    Shape:
        input (N, C, L) or (C, L); output the same.

    Example:
    >>> import autodiff as ad, nn
    >>> norm = nn.InstanceNorm1d(1)
    >>> norm(ad.tensor([[[1.0, 3.0]], [[0.0, 10.0]]])).numpy().round(4).tolist()
    [[[-1.0, 1.0]], [[-1.0, 1.0]]]
    >>> norm
    InstanceNorm1d(1, eps=1e-05, momentum=0.1, affine=False, bias=False, track_running_stats=False)
    """

    positions = 1
    input_shapes = "(N, C, L) or (C, L)"


@builtin_layer
class InstanceNorm2d(_InstanceNorm):
    """y = (x - E[x]) / √(Var[x] + eps) · γ + β per channel of each image, E and Var
    (biased) over its H·W pixels: each feature map normalised on its own, which removes
    an image's contrast (Ulyanov et al., 2016, for style transfer).

    Args: as InstanceNorm1d's.

    Shape:
        input (N, C, H, W) or (C, H, W); output the same.

    Example:
    >>> import autodiff as ad, nn
    >>> nn.InstanceNorm2d(3, affine=True)(ad.randn(2, 3, 4, 4)).shape
    (2, 3, 4, 4)
    """

    positions = 2
    input_shapes = "(N, C, H, W) or (C, H, W)"


@builtin_layer
class InstanceNorm3d(_InstanceNorm):
    """y = (x - E[x]) / √(Var[x] + eps) · γ + β per channel of each volume, E and Var
    (biased) over its D·H·W positions.

    Args: as InstanceNorm1d's.

    Shape:
        input (N, C, D, H, W) or (C, D, H, W); output the same.
    """

    positions = 3
    input_shapes = "(N, C, D, H, W) or (C, D, H, W)"


class _LazyInstanceNormMixin(_LazyNormMixin):
    """The lazy InstanceNorms: num_features is the channel dim of the first input, dim 1,
    or dim 0 for an unbatched one (torch reads dim 1 there too, and then refuses the
    input unless its length equals its channels)."""

    def input_size(self, input: Tensor) -> int:
        if input.ndim not in (self.positions + 1, self.positions + 2):
            raise ShapeError(f"{type(self).__name__}: expected input of shape "
                             f"{self.input_shapes}, got {input.shape}")
        return input.shape[1] if input.ndim == self.positions + 2 else input.shape[0]


@builtin_layer
class LazyInstanceNorm1d(_LazyInstanceNormMixin, InstanceNorm1d):
    """An InstanceNorm1d whose num_features is read from the first input; it then becomes
    an InstanceNorm1d. Args: InstanceNorm1d's without num_features, but affine and
    track_running_stats default to True, as torch's lazy form has them.

    Example:
    >>> import autodiff as ad, nn
    >>> norm = nn.LazyInstanceNorm1d()
    >>> norm(ad.randn(2, 3, 5)).shape, norm.weight.shape
    ((2, 3, 5), (3,))
    """

    cls_to_become = InstanceNorm1d


@builtin_layer
class LazyInstanceNorm2d(_LazyInstanceNormMixin, InstanceNorm2d):
    """An InstanceNorm2d whose num_features is read from the first input; it then becomes
    an InstanceNorm2d (affine and track_running_stats default to True, as torch's lazy
    form has them).

    Example:
    >>> import autodiff as ad, nn
    >>> nn.LazyInstanceNorm2d(affine=False)(ad.randn(3, 4, 4)).shape
    (3, 4, 4)
    """

    cls_to_become = InstanceNorm2d


@builtin_layer
class LazyInstanceNorm3d(_LazyInstanceNormMixin, InstanceNorm3d):
    """An InstanceNorm3d whose num_features is read from the first input; it then becomes
    an InstanceNorm3d (affine and track_running_stats default to True, as torch's lazy
    form has them).

    Example:
    >>> import autodiff as ad, nn
    >>> nn.LazyInstanceNorm3d()(ad.randn(2, 3, 2, 2, 2)).shape
    (2, 3, 2, 2, 2)
    """

    cls_to_become = InstanceNorm3d
