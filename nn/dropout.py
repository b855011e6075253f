"""Dropout and Dropout2d: randomly zero elements, or whole channels, in training (inverted
dropout)."""
from __future__ import annotations

from typing import Any

from autodiff.tensor import Tensor

from . import functional as F
from .module import Module, builtin_layer


@builtin_layer
class Dropout(Module):
    """In training, zeroes each element with probability p and scales the survivors by
    1 / (1 - p) (inverted dropout: the expected output equals the input, so evaluation
    needs no rescaling). A new mask is drawn on every call. In eval mode it returns its
    input unchanged. The dtype is kept.

    Args:
        p: probability of zeroing an element (default 0.5).

    Example:
    >>> import autodiff as ad, nn
    >>> _ = ad.manual_seed(0)
    >>> drop = nn.Dropout(p=0.5)
    >>> drop(ad.ones(6))
    tensor([2., 0., 0., 0., 2., 2.])
    >>> drop.eval()(ad.ones(3))
    tensor([1., 1., 1.])
    """

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        F.check_probability("Dropout", p)
        self.p = p

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout(input, self.p, self.training)

    def hyperparameters(self) -> dict[str, Any]:
        return {"p": self.p}

    def extra_repr(self) -> str:
        return f"p={self.p}"

    def _scope_label(self) -> str:
        return f"Dropout(p={self.p})"


@builtin_layer
class Dropout2d(Module):
    """Channel dropout for images: in training, zeroes each whole channel (feature map)
    of each sample with probability p and scales the surviving channels by 1 / (1 - p);
    a new mask, one value per (sample, channel), is drawn on every call. In eval mode
    it returns its input unchanged. Neighbouring pixels are strongly correlated, so a
    conv net is regularised by dropping feature maps rather than single pixels.

    Args:
        p: probability of zeroing a channel (default 0.5).

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

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        F.check_probability("Dropout2d", p)
        self.p = p

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout2d(input, self.p, self.training)

    def hyperparameters(self) -> dict[str, Any]:
        return {"p": self.p}

    def extra_repr(self) -> str:
        return f"p={self.p}"

    def _scope_label(self) -> str:
        return f"Dropout2d(p={self.p})"
