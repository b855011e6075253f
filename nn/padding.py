"""Padding layers, torch's names for F.pad with a fixed mode and amounts: ZeroPad,
ConstantPad (a value), ReflectionPad (the mirror image, the edge not repeated),
ReplicationPad (the edge repeated) and CircularPad (the other end), each for the last 1,
2 or 3 dims. `padding` is one int for every side, or (left, right) for the last dim,
then (top, bottom) for the one before, then (front, back); a negative amount crops."""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from autodiff.tensor import Tensor

from . import functional as F
from .module import Module, bare, builtin_layer

SIDES = ("left", "right", "top", "bottom", "front", "back")


def _padding(layer: str, padding: Any, dims: int) -> tuple[int, ...]:
    """The padding as 2·dims ints: one int repeated, or a tuple (a list, as JSON gives)
    of that many."""
    if isinstance(padding, (int, np.integer)) and not isinstance(padding, bool):
        return (int(padding),) * (2 * dims)
    amounts = tuple(padding) if isinstance(padding, (tuple, list)) else ()
    if len(amounts) != 2 * dims or not all(isinstance(n, (int, np.integer))
                                           and not isinstance(n, bool) for n in amounts):
        raise ValueError(f"{layer}: padding must be an int or {2 * dims} ints "
                         f"({', '.join(SIDES[:2 * dims])}), got {padding!r}")
    return tuple(int(n) for n in amounts)


class _PadNd(Module):
    """F.pad(input, padding, mode) over the last `dims` dims; torch's repr shows the
    padding alone."""

    SETTINGS = (bare("padding"),)
    LABEL = "{padding}"
    mode: ClassVar[str]
    dims: ClassVar[int]

    def __init__(self, padding: int | tuple[int, ...]) -> None:
        super().__init__()
        self.padding = _padding(type(self).__name__, padding, self.dims)

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, self.mode)


class _ConstantPadNd(_PadNd):
    """F.pad(input, padding, 'constant', value)."""

    SETTINGS = ("padding", "value")
    LABEL = "{padding}, {value}"
    mode = "constant"

    def __init__(self, padding: int | tuple[int, ...], value: float) -> None:
        super().__init__(padding)
        self.value = value

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, "constant", self.value)


@builtin_layer
class ZeroPad1d(_PadNd):
    """Pads the last dim with zeros: padding (left, right), or one int for both.

    >>> import autodiff as ad, nn
    >>> nn.ZeroPad1d((1, 2))(ad.tensor([[1.0, 2.0]]))
    tensor([[0., 1., 2., 0., 0.]])
    """

    mode, dims = "constant", 1


@builtin_layer
class ZeroPad2d(_PadNd):
    """Pads the last two dims with zeros: padding (left, right, top, bottom), or one int
    for all four.

    >>> import autodiff as ad, nn
    >>> nn.ZeroPad2d((1, 0, 0, 1))(ad.tensor([[1.0, 2.0]]))
    tensor([[0., 1., 2.],
            [0., 0., 0.]])
    """

    mode, dims = "constant", 2


@builtin_layer
class ZeroPad3d(_PadNd):
    """Pads the last three dims with zeros: padding (left, right, top, bottom, front,
    back), or one int for all six."""

    mode, dims = "constant", 3


@builtin_layer
class ConstantPad1d(_ConstantPadNd):
    """Pads the last dim with `value`: padding (left, right), or one int for both.

    >>> import autodiff as ad, nn
    >>> nn.ConstantPad1d(1, 3.5)(ad.tensor([[1.0, 2.0]]))
    tensor([[3.5, 1. , 2. , 3.5]])
    """

    dims = 1


@builtin_layer
class ConstantPad2d(_ConstantPadNd):
    """Pads the last two dims with `value`: padding (left, right, top, bottom), or one int
    for all four."""

    dims = 2


@builtin_layer
class ConstantPad3d(_ConstantPadNd):
    """Pads the last three dims with `value`: padding (left, right, top, bottom, front,
    back), or one int for all six."""

    dims = 3


@builtin_layer
class ReflectionPad1d(_PadNd):
    """Pads the last dim of (C, W) or (N, C, W) with its mirror image about the edge, the
    edge not repeated: padding (left, right), or one int for both, each less than W.

    >>> import autodiff as ad, nn
    >>> nn.ReflectionPad1d((2, 1))(ad.tensor([[1.0, 2.0, 3.0]]))
    tensor([[3., 2., 1., 2., 3., 2.]])
    """

    mode, dims = "reflect", 1


@builtin_layer
class ReflectionPad2d(_PadNd):
    """Pads the last two dims of (C, H, W) or (N, C, H, W) with their mirror images:
    padding (left, right, top, bottom), or one int for all four."""

    mode, dims = "reflect", 2


@builtin_layer
class ReflectionPad3d(_PadNd):
    """Pads the last three dims of (C, D, H, W) or (N, C, D, H, W) with their mirror
    images: padding (left, right, top, bottom, front, back), or one int for all six."""

    mode, dims = "reflect", 3


@builtin_layer
class ReplicationPad1d(_PadNd):
    """Pads the last dim of (C, W) or (N, C, W) with copies of its edge values: padding
    (left, right), or one int for both.

    >>> import autodiff as ad, nn
    >>> nn.ReplicationPad1d((2, 1))(ad.tensor([[1.0, 2.0, 3.0]]))
    tensor([[1., 1., 1., 2., 3., 3.]])
    """

    mode, dims = "replicate", 1


@builtin_layer
class ReplicationPad2d(_PadNd):
    """Pads the last two dims of (C, H, W) or (N, C, H, W) with copies of their edges:
    padding (left, right, top, bottom), or one int for all four."""

    mode, dims = "replicate", 2


@builtin_layer
class ReplicationPad3d(_PadNd):
    """Pads the last three dims of (C, D, H, W) or (N, C, D, H, W) with copies of their
    edges: padding (left, right, top, bottom, front, back), or one int for all six."""

    mode, dims = "replicate", 3


@builtin_layer
class CircularPad1d(_PadNd):
    """Pads the last dim of (C, W) or (N, C, W) with the values from its other end, as if
    it wrapped around: padding (left, right), or one int for both, each at most W.

    >>> import autodiff as ad, nn
    >>> nn.CircularPad1d((2, 1))(ad.tensor([[1.0, 2.0, 3.0]]))
    tensor([[2., 3., 1., 2., 3., 1.]])
    """

    mode, dims = "circular", 1


@builtin_layer
class CircularPad2d(_PadNd):
    """Pads the last two dims of (C, H, W) or (N, C, H, W) with the values from their
    other ends: padding (left, right, top, bottom), or one int for all four."""

    mode, dims = "circular", 2


@builtin_layer
class CircularPad3d(_PadNd):
    """Pads the last three dims of (C, D, H, W) or (N, C, D, H, W) with the values from
    their other ends: padding (left, right, top, bottom, front, back), or one int for all
    six."""

    mode, dims = "circular", 3
