"""Layers that move elements around without changing them: Flatten (merge a range of
dims into one), PixelShuffle and PixelUnshuffle (channels into space and back),
ChannelShuffle (interleave channel groups), Unfold and Fold (image windows into columns,
and columns summed back into an image)."""
from __future__ import annotations

from typing import Any

from autodiff.tensor import Tensor

from . import functional as F
from .module import Module, builtin_layer


def _as_given(value: Any) -> Any:
    """An int or a tuple as given; a list (as JSON gives back a tuple) as a tuple."""
    return tuple(value) if isinstance(value, list) else value


@builtin_layer
class Flatten(Module):
    """Merges dims start_dim..end_dim into one (by default all but the batch dim).

    Args:
        start_dim: first dim to merge (default 1).
        end_dim: last dim to merge (default -1).

    Shape:
        input (N, *dims); output (N, product of dims) with the defaults.

    Example:
    >>> import autodiff as ad, nn
    >>> nn.Flatten()(ad.zeros(32, 1, 28, 28)).shape
    (32, 784)
    """

    SETTINGS = ("start_dim", "end_dim")

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input: Tensor) -> Tensor:
        return input.flatten(self.start_dim, self.end_dim)


@builtin_layer
class PixelShuffle(Module):
    """Moves channels into space (Shi et al., 2016): (*, C·r², H, W) → (*, C, H·r, W·r),
    y[..., c, h·r + i, w·r + j] = x[..., c·r² + i·r + j, h, w]. A conv with C·r² output
    channels followed by this upsamples by r (sub-pixel convolution).

    Args:
        upscale_factor: r.

    Example:
    >>> import autodiff as ad, nn
    >>> nn.PixelShuffle(3)(ad.zeros(1, 18, 4, 4)).shape
    (1, 2, 12, 12)
    """

    SETTINGS = ("upscale_factor",)
    LABEL = "{upscale_factor}"

    def __init__(self, upscale_factor: int) -> None:
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input: Tensor) -> Tensor:
        return F.pixel_shuffle(input, self.upscale_factor)


@builtin_layer
class PixelUnshuffle(Module):
    """Moves space into channels, PixelShuffle's inverse: (*, C, H·r, W·r) →
    (*, C·r², H, W).

    Args:
        downscale_factor: r.

    Example:
    >>> import autodiff as ad, nn
    >>> nn.PixelUnshuffle(3)(ad.zeros(1, 2, 12, 12)).shape
    (1, 18, 4, 4)
    """

    SETTINGS = ("downscale_factor",)
    LABEL = "{downscale_factor}"

    def __init__(self, downscale_factor: int) -> None:
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input: Tensor) -> Tensor:
        return F.pixel_unshuffle(input, self.downscale_factor)


@builtin_layer
class ChannelShuffle(Module):
    """Interleaves the channels of `groups` groups (ShuffleNet, Zhang et al., 2017):
    output channel j·g + i is input channel i·(C/g) + j, so a grouped conv after it sees
    channels of every group of the one before.

    Args:
        groups: g, which divides the number of channels C.

    Shape:
        input (N, C, *); output the same.

    Example:
    >>> import autodiff as ad, nn
    >>> nn.ChannelShuffle(2)(ad.arange(4, dtype=ad.float32).reshape(1, 4, 1)).flatten()
    tensor([0., 2., 1., 3.])
    """

    SETTINGS = ("groups",)
    LABEL = "{groups}"

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, input: Tensor) -> Tensor:
        return F.channel_shuffle(input, self.groups)


@builtin_layer
class Unfold(Module):
    """im2col: every kernel_size window of the zero-padded input (N, C, H, W) as a column,
    giving (N, C·kh·kw, L), L the number of windows (F.unfold).

    Args:
        kernel_size: the window, (kh, kw) or one int for both.
        dilation: spacing between the window's taps (default 1).
        padding: zeros added on each side (default 0).
        stride: step between windows (default 1).

    Example:
    >>> import autodiff as ad, nn
    >>> nn.Unfold(2)(ad.zeros(1, 3, 4, 5)).shape            # 3·2·2 rows, 3·4 windows
    (1, 12, 12)
    """

    SETTINGS = ("kernel_size", "dilation", "padding", "stride")
    LABEL = "{kernel_size}"

    def __init__(self, kernel_size: int | tuple[int, int], dilation: int | tuple[int, int] = 1,
                 padding: int | tuple[int, int] = 0, stride: int | tuple[int, int] = 1) -> None:
        super().__init__()
        self.kernel_size = _as_given(kernel_size)
        self.dilation = _as_given(dilation)
        self.padding = _as_given(padding)
        self.stride = _as_given(stride)

    def forward(self, input: Tensor) -> Tensor:
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)


@builtin_layer
class Fold(Module):
    """col2im, Unfold's adjoint: the columns (N, C·kh·kw, L) put back as windows of an
    image (N, C, *output_size), overlapping windows summed (F.fold).

    Args:
        output_size: the image's size (H, W), or one int for both.
        kernel_size: the window, (kh, kw) or one int for both.
        dilation: spacing between the window's taps (default 1).
        padding: zeros that were added on each side, cut off again (default 0).
        stride: step between windows (default 1).

    Example:
    >>> import autodiff as ad, nn
    >>> nn.Fold((3, 3), 2)(ad.ones(1, 4, 4))[0, 0]      # how many windows cover each pixel
    tensor([[1., 2., 1.],
            [2., 4., 2.],
            [1., 2., 1.]])
    """

    SETTINGS = ("output_size", "kernel_size", "dilation", "padding", "stride")
    LABEL = "{output_size}, {kernel_size}"

    def __init__(self, output_size: int | tuple[int, int], kernel_size: int | tuple[int, int],
                 dilation: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0,
                 stride: int | tuple[int, int] = 1) -> None:
        super().__init__()
        self.output_size = _as_given(output_size)
        self.kernel_size = _as_given(kernel_size)
        self.dilation = _as_given(dilation)
        self.padding = _as_given(padding)
        self.stride = _as_given(stride)

    def forward(self, input: Tensor) -> Tensor:
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding,
                      self.stride)
