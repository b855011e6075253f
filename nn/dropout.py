"""Dropout, Dropout1d, Dropout2d, Dropout3d, AlphaDropout and FeatureAlphaDropout: randomly
zero elements, or whole channels, in training (inverted dropout), or set them to SELU's
saturation value (AlphaDropout, FeatureAlphaDropout). All are `_DropoutNd`; they differ
in what one draw of the mask covers and what a dropped element becomes."""
from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from autodiff.tensor import Tensor

from . import functional as F
from .module import Module, builtin_layer


class _DropoutNd(Module):
    """What Dropout and Dropout2d share (torch's _DropoutNd): p, inplace, and applying
    `dropout`, the function of nn.functional that draws the mask."""

    SETTINGS = ("p", "inplace")
    LABEL = "p={p}"
    dropout: ClassVar[Callable[[Tensor, float, bool, bool], Tensor]]

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        F.check_probability(type(self).__name__, p)
        self.p = p
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        """The input with its elements (or channels) dropped; with inplace=True the
        result is written into the input, when anything is dropped (in training with
        p > 0; otherwise the input comes back untouched, as torch's)."""
        return self.dropout(input, self.p, self.training, self.inplace)


@builtin_layer
class Dropout(_DropoutNd):
    """In training, zeroes each element with probability p and scales the survivors by
    1 / (1 - p) (inverted dropout: the expected output equals the input, so evaluation
    needs no rescaling). A new mask is drawn on every call. In eval mode it returns its
    input unchanged. The dtype is kept.

    Args:
        p: probability of zeroing an element (default 0.5).
        inplace: write the result into the input (default False).

    Example:
    >>> import autodiff as ad, nn
    >>> _ = ad.manual_seed(0)
    >>> drop = nn.Dropout(p=0.5)
    >>> drop(ad.ones(6))
    tensor([2., 0., 0., 0., 2., 2.])
    >>> drop.eval()(ad.ones(3))
    tensor([1., 1., 1.])
    >>> drop
    Dropout(p=0.5, inplace=False)
    """

    dropout = staticmethod(F.dropout)


@builtin_layer
class Dropout1d(_DropoutNd):
    """Channel dropout for sequences: in training, zeroes each whole channel of each
    sample with probability p and scales the surviving channels by 1 / (1 - p); a new
    mask, one value per (sample, channel), is drawn on every call. In eval mode it
    returns its input unchanged.

    Args:
        p: probability of zeroing a channel (default 0.5).
        inplace: write the result into the input (default False).

    Shape:
        input (N, C, L) or (C, L); output the same.

    Example:
    >>> import autodiff as ad, nn
    >>> _ = ad.manual_seed(0)
    >>> nn.Dropout1d(p=0.5)(ad.ones(1, 3, 2))
    tensor([[[2., 2.],
             [0., 0.],
             [0., 0.]]])
    """

    dropout = staticmethod(F.dropout1d)


@builtin_layer
class Dropout2d(_DropoutNd):
    """Channel dropout for images: in training, zeroes each whole channel (feature map)
    of each sample with probability p and scales the surviving channels by 1 / (1 - p);
    a new mask, one value per (sample, channel), is drawn on every call. In eval mode
    it returns its input unchanged. Neighbouring pixels are strongly correlated, so a
    conv net is regularised by dropping feature maps rather than single pixels.

    Args:
        p: probability of zeroing a channel (default 0.5).
        inplace: write the result into the input (default False).

    Shape:
        input (N, C, H, W); output the same.

    Example:
    >>> import autodiff as ad, nn
    >>> _ = ad.manual_seed(0)
    >>> y = nn.Dropout2d(p=0.5)(ad.ones(2, 3, 4, 4))
    >>> y[:, :, 0, 0]                     # each channel all dropped or all kept (×2)
    tensor([[2., 0., 0.],
            [0., 2., 2.]])
    """

    dropout = staticmethod(F.dropout2d)


@builtin_layer
class Dropout3d(_DropoutNd):
    """Channel dropout for volumes: in training, zeroes each whole channel (3-D feature
    map) of each sample with probability p and scales the surviving channels by
    1 / (1 - p); a new mask, one value per (sample, channel), is drawn on every call. In
    eval mode it returns its input unchanged.

    Args:
        p: probability of zeroing a channel (default 0.5).
        inplace: write the result into the input (default False).

    Shape:
        input (N, C, D, H, W) or (C, D, H, W); output the same.

    Example:
    >>> import autodiff as ad, nn
    >>> _ = ad.manual_seed(0)
    >>> y = nn.Dropout3d(p=0.5)(ad.ones(2, 3, 2, 2, 2))
    >>> y[:, :, 0, 0, 0]                  # each channel all dropped or all kept (×2)
    tensor([[2., 0., 0.],
            [0., 2., 2.]])
    """

    dropout = staticmethod(F.dropout3d)


@builtin_layer
class AlphaDropout(_DropoutNd):
    """Dropout that keeps a self-normalising network's activations at mean 0 and variance
    1 (Klambauer et al., 2017, for SELU): in training each element becomes, with
    probability p, SELU's saturation value α' ≈ −1.7581 instead of 0, and the result is
    moved and scaled back, y = a · (x or α') + b (see F.alpha_dropout). In eval mode it
    returns its input unchanged.

    Args:
        p: probability of dropping an element (default 0.5).
        inplace: write the result into the input (default False).

    Example:
    >>> import autodiff as ad, nn
    >>> _ = ad.manual_seed(0)
    >>> y = nn.AlphaDropout(p=0.2)(ad.randn(100_000))
    >>> round(y.mean().item(), 1), round(y.std().item(), 1)
    (0.0, 1.0)
    """

    dropout = staticmethod(F.alpha_dropout)


@builtin_layer
class FeatureAlphaDropout(_DropoutNd):
    """AlphaDropout by whole channels: in training each channel of each sample (one draw
    per (n, c), the first two dims) becomes, with probability p, SELU's saturation value
    α' ≈ −1.7581, and the result is moved and scaled back, y = a · (x or α') + b (see
    F.feature_alpha_dropout). In eval mode it returns its input unchanged.

    Args:
        p: probability of dropping a channel (default 0.5).
        inplace: write the result into the input (default False).

    Shape:
        input (N, C, *); output the same.

    Example:
    >>> import autodiff as ad, nn
    >>> _ = ad.manual_seed(0)
    >>> y = nn.FeatureAlphaDropout(p=0.2)(ad.randn(1000, 100, 4))
    >>> round(y.mean().item(), 1), round(y.std().item(), 1)
    (0.0, 1.0)
    """

    dropout = staticmethod(F.feature_alpha_dropout)
