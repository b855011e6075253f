"""Pooling layers: MaxPool2d, AvgPool2d (autodiff/ops/pool.py), MaxPool1d, AvgPool1d (on
them), AdaptiveAvgPool2d, AdaptiveAvgPool1d, AdaptiveMaxPool2d, AdaptiveMaxPool1d, LPPool1d,
LPPool2d, MaxPool3d, AvgPool3d, AdaptiveAvgPool3d and AdaptiveMaxPool3d (composites in
nn.functional), and max pooling's partial inverses MaxUnpool1d, 2d and 3d (F.max_unpool…,
on the MaxUnpool op)."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from autodiff.ops import pool
from autodiff.tensor import Tensor

from . import functional as F
from .module import Module, builtin_layer, hidden


def _as_given(value: Any) -> Any:
    """An int, a tuple or None as given; a list (as JSON gives back a tuple) as a tuple."""
    return tuple(value) if isinstance(value, list) else value


class _MaxPoolNd(Module):
    """What MaxPool1d and MaxPool2d share: their settings, stored as given (stride
    defaulting to kernel_size)."""

    SETTINGS = ("kernel_size", "stride", "padding", "dilation", hidden("return_indices"),
                "ceil_mode")
    LABEL = "{kernel_size}"

    def __init__(self, kernel_size: int | tuple[int, ...],
                 stride: int | tuple[int, ...] | None = None, padding: int | tuple[int, ...] = 0,
                 dilation: int | tuple[int, ...] = 1, return_indices: bool = False,
                 ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size = _as_given(kernel_size)
        self.stride = _as_given(kernel_size if stride is None else stride)
        self.padding = _as_given(padding)
        self.dilation = _as_given(dilation)
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode


@builtin_layer
class MaxPool2d(_MaxPoolNd):
    """The maximum of each window of every channel:

        y[n, c, p, q] = max_{i,j} x̃[n, c, p·sh + i·dh, q·sw + j·dw]    (x̃ padded with −inf)

    The gradient goes to each window's maximum; when several tie, to the first of them
    in row-major window order (torch's rule).

    Args:
        kernel_size: the window, (kh, kw) or one int for both.
        stride: step between windows (default: kernel_size, windows side by side).
        padding: −inf added on each side, at most half the kernel (default 0).
        dilation: spacing between the window's taps (default 1).
        return_indices: also return, for each output, the position h·W + w of its
            maximum in the input (int64), as torch does for MaxUnpool2d.
        ceil_mode: round the number of windows up, adding a last partial window where
            the input has pixels left over (default False: they are dropped).

    Shape:
        input (N, C, H, W); output (N, C, H_out, W_out) with
        H_out = ⌊(H + 2·padding[0] − dilation[0]·(kernel_size[0] − 1) − 1) / stride[0]⌋ + 1
        (⌈…⌉ with ceil_mode) and W_out likewise.

    Example:
    >>> import autodiff as ad, nn
    >>> pool = nn.MaxPool2d(2)
    >>> pool(ad.zeros(64, 32, 28, 28)).shape
    (64, 32, 14, 14)
    >>> pool
    MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
    """

    def forward(self, input: Tensor) -> Any:
        return pool.max_pool2d(input, self.kernel_size, self.stride, self.padding,
                               self.dilation, self.ceil_mode, self.return_indices, caller=self)


@builtin_layer
class MaxPool1d(_MaxPoolNd):
    """The maximum of each window of every channel of a sequence:

        y[n, c, p] = max_i x̃[n, c, p·s + i·d]    (x̃ padded with −inf)

    The gradient goes to each window's maximum, the first of several that tie (F.max_pool1d,
    MaxPool2d on an image of height 1).

    Args:
        kernel_size: the window, an int or a 1-tuple.
        stride: step between windows (default: kernel_size).
        padding: −inf added on each side, at most half the kernel (default 0).
        dilation: spacing between the window's taps (default 1).
        return_indices: also return each maximum's position in the input (int64).
        ceil_mode: round the number of windows up (a last partial window).

    Shape:
        input (N, C, L) or (C, L); output (N, C, L_out) or (C, L_out) with
        L_out = ⌊(L + 2·padding − dilation·(kernel_size − 1) − 1) / stride⌋ + 1.

    Example:
    >>> import autodiff as ad, nn
    >>> nn.MaxPool1d(2)(ad.tensor([[[1.0, 3.0, 5.0, 2.0]]]))
    tensor([[[3., 5.]]])
    >>> nn.MaxPool1d(3, stride=1)
    MaxPool1d(kernel_size=3, stride=1, padding=0, dilation=1, ceil_mode=False)
    """

    def forward(self, input: Tensor) -> Any:
        return F.max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode, self.return_indices)


@builtin_layer
class AvgPool2d(Module):
    """The mean of each window of every channel:

        y[n, c, p, q] = Σ_{i,j} x̃[n, c, p·sh + i, q·sw + j] / divisor    (x̃ zero-padded)

    The divisor is the window's size clipped to the padded input (count_include_pad),
    or to the input alone, or divisor_override; each pixel's gradient is the sum of
    dL/dy / divisor over the windows it is in.

    Args:
        kernel_size: the window, (kh, kw) or one int for both.
        stride: step between windows (default: kernel_size).
        padding: zeros added on each side, at most half the kernel (default 0).
        ceil_mode: round the number of windows up (a last partial window; its part
            past the padding never counts in the divisor).
        count_include_pad: count the zero padding in the mean (default True).
        divisor_override: divide every window by this number instead.

    Shape:
        input (N, C, H, W); output (N, C, H_out, W_out) with
        H_out = ⌊(H + 2·padding[0] − kernel_size[0]) / stride[0]⌋ + 1 (⌈…⌉ with ceil_mode).

    Example:
    >>> import autodiff as ad, nn
    >>> nn.AvgPool2d(2)(ad.arange(16, dtype=ad.float32).reshape(1, 1, 4, 4))
    tensor([[[[ 2.5,  4.5],
              [10.5, 12.5]]]])
    >>> nn.AvgPool2d(3, stride=2, padding=1)
    AvgPool2d(kernel_size=3, stride=2, padding=1)
    """

    SETTINGS = ("kernel_size", "stride", "padding", hidden("ceil_mode"),
                hidden("count_include_pad"), hidden("divisor_override"))
    LABEL = "{kernel_size}"

    def __init__(self, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] | None = None, padding: int | tuple[int, int] = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override: int | None = None) -> None:
        super().__init__()
        self.kernel_size = _as_given(kernel_size)
        self.stride = _as_given(kernel_size if stride is None else stride)
        self.padding = _as_given(padding)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input: Tensor) -> Tensor:
        return pool.avg_pool2d(input, self.kernel_size, self.stride, self.padding,
                               self.ceil_mode, self.count_include_pad, self.divisor_override,
                               caller=self)


@builtin_layer
class AvgPool1d(Module):
    """The mean of each window of every channel of a sequence:

        y[n, c, p] = Σ_i x̃[n, c, p·s + i] / k    (x̃ zero-padded)

    (F.avg_pool1d: AvgPool2d on an image of height 1). As torch, the sizes are stored
    as 1-tuples.

    Args:
        kernel_size: the window k, an int or a 1-tuple.
        stride: step between windows (default: kernel_size).
        padding: zeros added on each side, at most half the kernel (default 0).
        ceil_mode: round the number of windows up (a last partial window).
        count_include_pad: count the zero padding in the mean (default True).

    Shape:
        input (N, C, L) or (C, L); output (N, C, L_out) or (C, L_out) with
        L_out = ⌊(L + 2·padding − kernel_size) / stride⌋ + 1 (⌈…⌉ with ceil_mode).

    Example:
    >>> import autodiff as ad, nn
    >>> pool = nn.AvgPool1d(2)
    >>> pool(ad.tensor([[[1.0, 3.0, 5.0, 7.0]]]))
    tensor([[[2., 6.]]])
    >>> pool
    AvgPool1d(kernel_size=(2,), stride=(2,), padding=(0,))
    """

    SETTINGS = ("kernel_size", "stride", "padding", hidden("ceil_mode"),
                hidden("count_include_pad"))
    LABEL = "{kernel_size}"

    def __init__(self, kernel_size: int | tuple[int], stride: int | tuple[int] | None = None,
                 padding: int | tuple[int] = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> None:
        super().__init__()
        self.kernel_size = _single(kernel_size)
        self.stride = _single(kernel_size if stride is None else stride)
        self.padding = _single(padding)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input: Tensor) -> Tensor:
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)


def _single(value: int | tuple[int] | list[int]) -> tuple[int, ...]:
    """An int as a 1-tuple; a tuple or list as a tuple (as torch's _single)."""
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


@builtin_layer
class AdaptiveAvgPool2d(Module):
    """The mean over each cell of an output_size grid laid over the input: cell (p, q)
    averages rows ⌊p·H / oh⌋ to ⌈(p + 1)·H / oh⌉ − 1 and the columns likewise (torch's
    cells, which overlap when the sizes do not divide). (1, 1) is global average
    pooling: one mean per channel, whatever the image size.

    Args:
        output_size: (oh, ow), or one int for both; None keeps that dim's input size.

    Shape:
        input (N, C, H, W); output (N, C, oh, ow).

    Example:
    >>> import autodiff as ad, nn
    >>> gap = nn.AdaptiveAvgPool2d((1, 1))
    >>> gap(ad.arange(8, dtype=ad.float32).reshape(1, 2, 2, 2))
    tensor([[[[1.5]],
    <BLANKLINE>
             [[5.5]]]])
    >>> gap
    AdaptiveAvgPool2d(output_size=(1, 1))
    """

    SETTINGS = ("output_size",)
    LABEL = "{output_size}"

    def __init__(self, output_size: int | tuple[int | None, int | None]) -> None:
        super().__init__()
        self.output_size = _as_given(output_size)

    def forward(self, input: Tensor) -> Tensor:
        return F.adaptive_avg_pool2d(input, self.output_size, caller=self)


@builtin_layer
class AdaptiveAvgPool1d(Module):
    """The mean over each of output_size cells of a sequence: cell p averages positions
    ⌊p·L / o⌋ to ⌈(p + 1)·L / o⌉ − 1 (torch's cells, which overlap when the sizes do
    not divide); 1 gives one mean per channel.

    Args:
        output_size: o, an int or a 1-tuple.

    Shape:
        input (N, C, L) or (C, L); output (N, C, o) or (C, o).

    Example:
    >>> import autodiff as ad, nn
    >>> nn.AdaptiveAvgPool1d(2)(ad.tensor([[1.0, 2.0, 3.0]]))          # cells 0-1, 1-2
    tensor([[1.5, 2.5]])
    >>> nn.AdaptiveAvgPool1d(2)
    AdaptiveAvgPool1d(output_size=2)
    """

    SETTINGS = ("output_size",)
    LABEL = "{output_size}"

    def __init__(self, output_size: int | tuple[int]) -> None:
        super().__init__()
        self.output_size = _as_given(output_size)

    def forward(self, input: Tensor) -> Tensor:
        return F.adaptive_avg_pool1d(input, self.output_size)


@builtin_layer
class AdaptiveMaxPool2d(Module):
    """The maximum over each cell of an output_size grid laid over the input: cell (p, q)
    covers rows ⌊p·H / oh⌋ to ⌈(p + 1)·H / oh⌉ − 1 and the columns likewise (torch's
    cells, which overlap when the sizes do not divide). The gradient goes to each cell's
    maximum; when several tie, to the first in row-major order (torch's rule).

    Args:
        output_size: (oh, ow), or one int for both; None keeps that dim's input size.
        return_indices: also return, for each output, the position h·W + w of its
            maximum in the input (int64), as torch does for MaxUnpool2d.

    Shape:
        input (N, C, H, W); output (N, C, oh, ow).

    Example:
    >>> import autodiff as ad, nn
    >>> pool = nn.AdaptiveMaxPool2d((1, 2))
    >>> pool(ad.tensor([[[[1.0, 5.0, 2.0], [4.0, 0.0, 3.0]]]]))   # columns 0-1 and 1-2
    tensor([[[[5., 5.]]]])
    >>> pool
    AdaptiveMaxPool2d(output_size=(1, 2))
    """

    SETTINGS = ("output_size", hidden("return_indices"))
    LABEL = "{output_size}"

    def __init__(self, output_size: int | tuple[int | None, int | None],
                 return_indices: bool = False) -> None:
        super().__init__()
        self.output_size = _as_given(output_size)
        self.return_indices = return_indices

    def forward(self, input: Tensor) -> Any:
        return F.adaptive_max_pool2d(input, self.output_size, self.return_indices,
                                     caller=self)


@builtin_layer
class AdaptiveMaxPool1d(Module):
    """The maximum over each of output_size cells of a sequence: cell p covers positions
    ⌊p·L / o⌋ to ⌈(p + 1)·L / o⌉ − 1 (torch's cells). The gradient goes to each cell's
    maximum, the first of several that tie.

    Args:
        output_size: o, an int or a 1-tuple.
        return_indices: also return each maximum's position in the input (int64).

    Shape:
        input (N, C, L) or (C, L); output (N, C, o) or (C, o).

    Example:
    >>> import autodiff as ad, nn
    >>> nn.AdaptiveMaxPool1d(2)(ad.tensor([[1.0, 3.0, 2.0, 0.0]]))
    tensor([[3., 2.]])
    >>> nn.AdaptiveMaxPool1d(2)
    AdaptiveMaxPool1d(output_size=2)
    """

    SETTINGS = ("output_size", hidden("return_indices"))
    LABEL = "{output_size}"

    def __init__(self, output_size: int | tuple[int], return_indices: bool = False) -> None:
        super().__init__()
        self.output_size = _as_given(output_size)
        self.return_indices = return_indices

    def forward(self, input: Tensor) -> Any:
        return F.adaptive_max_pool1d(input, self.output_size, self.return_indices)


class _LPPoolNd(Module):
    """What LPPool1d and LPPool2d share: p = norm_type, the window and the stride (None:
    windows side by side, as torch keeps it)."""

    SETTINGS = ("norm_type", "kernel_size", "stride", "ceil_mode")
    LABEL = "p={norm_type}, {kernel_size}"

    def __init__(self, norm_type: float, kernel_size: int | tuple[int, ...],
                 stride: int | tuple[int, ...] | None = None, ceil_mode: bool = False) -> None:
        super().__init__()
        self.norm_type = norm_type
        self.kernel_size = _as_given(kernel_size)
        self.stride = _as_given(stride)
        self.ceil_mode = ceil_mode


@builtin_layer
class LPPool1d(_LPPoolNd):
    """The p-norm of each window of every channel of a sequence, p = norm_type:

        y[n, c, q] = (Σ_i x[n, c, q·s + i]ᵖ)^(1/p)

    computed as torch does (F.lp_pool1d); p = 1 sums each window, p → ∞ tends to max
    pooling.

    Args:
        norm_type: p, not 0.
        kernel_size: the window, an int.
        stride: step between windows (default None: kernel_size).
        ceil_mode: round the number of windows up (a last partial window).

    Shape:
        input (N, C, L) or (C, L); output (N, C, L_out) or (C, L_out) with
        L_out = ⌊(L − kernel_size) / stride⌋ + 1.

    Example:
    >>> import autodiff as ad, nn
    >>> pool = nn.LPPool1d(2, 2)
    >>> pool(ad.tensor([[[3.0, 4.0, 1.0, 0.0]]]))
    tensor([[[5., 1.]]])
    >>> pool
    LPPool1d(norm_type=2, kernel_size=2, stride=None, ceil_mode=False)
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.lp_pool1d(input, self.norm_type, self.kernel_size, self.stride, self.ceil_mode)


@builtin_layer
class LPPool2d(_LPPoolNd):
    """The p-norm of each window of every channel of an image, p = norm_type:

        y[n, c, h, w] = (Σ_{i,j} x[n, c, h·sh + i, w·sw + j]ᵖ)^(1/p)

    computed as torch does (F.lp_pool2d).

    Args:
        norm_type: p, not 0.
        kernel_size: the window, (kh, kw) or one int for both.
        stride: step between windows (default None: kernel_size).
        ceil_mode: round the number of windows up (a last partial window).

    Shape:
        input (N, C, H, W); output (N, C, H_out, W_out) with
        H_out = ⌊(H − kernel_size[0]) / stride[0]⌋ + 1 and W_out likewise.

    Example:
    >>> import autodiff as ad, nn
    >>> nn.LPPool2d(1, 2)(ad.ones(1, 1, 2, 4))        # sums of 2 × 2 windows
    tensor([[[[4., 4.]]]])
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.lp_pool2d(input, self.norm_type, self.kernel_size, self.stride, self.ceil_mode)


@builtin_layer
class MaxPool3d(_MaxPoolNd):
    """The maximum of each window of every channel of a volume:

        y[n, c, o, p, q] = max_{i,j,k} x̃[n, c, o·sd + i·dd, p·sh + j·dh, q·sw + k·dw]

    over the input padded with −inf. The gradient goes to each window's maximum, the first
    of several that tie in (d, h, w) order (F.max_pool3d: MaxPool2d over each depth slice,
    then over the depth).

    Args:
        kernel_size: the window, (kd, kh, kw) or one int for all three.
        stride: step between windows (default: kernel_size).
        padding: −inf added on each side, at most half the kernel (default 0).
        dilation: spacing between the window's taps (default 1).
        return_indices: also return each maximum's position d·H·W + h·W + w (int64).
        ceil_mode: round the number of windows up (a last partial window).

    Shape:
        input (N, C, D, H, W) or (C, D, H, W); output (N, C, D_out, H_out, W_out) with
        D_out = ⌊(D + 2·padding[0] − dilation[0]·(kernel_size[0] − 1) − 1) / stride[0]⌋ + 1
        (⌈…⌉ with ceil_mode), H_out and W_out likewise.

    Example:
    >>> import autodiff as ad, nn
    >>> nn.MaxPool3d(2)(ad.zeros(1, 2, 4, 4, 4)).shape
    (1, 2, 2, 2, 2)
    >>> nn.MaxPool3d(2)
    MaxPool3d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
    """

    def forward(self, input: Tensor) -> Any:
        return F.max_pool3d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode, self.return_indices)


@builtin_layer
class AvgPool3d(Module):
    """The mean of each window of every channel of a volume (x̃ zero-padded):

        y[n, c, o, p, q] = Σ_{i,j,k} x̃[n, c, o·sd + i, p·sh + j, q·sw + k] / divisor

    the divisor as AvgPool2d's, in three dims (F.avg_pool3d: AvgPool2d over each depth
    slice, then over the depth).

    Args:
        kernel_size: the window, (kd, kh, kw) or one int for all three.
        stride: step between windows (default: kernel_size).
        padding: zeros added on each side, at most half the kernel (default 0).
        ceil_mode: round the number of windows up (a last partial window).
        count_include_pad: count the zero padding in the mean (default True).
        divisor_override: divide every window's sum by this number instead.

    Shape:
        input (N, C, D, H, W) or (C, D, H, W); output (N, C, D_out, H_out, W_out) with
        D_out = ⌊(D + 2·padding[0] − kernel_size[0]) / stride[0]⌋ + 1 (⌈…⌉ with
        ceil_mode), H_out and W_out likewise.

    Example:
    >>> import autodiff as ad, nn
    >>> nn.AvgPool3d(2)(ad.arange(8, dtype=ad.float32).reshape(1, 1, 2, 2, 2))
    tensor([[[[[3.5]]]]])
    >>> nn.AvgPool3d(3, stride=2, padding=1)
    AvgPool3d(kernel_size=3, stride=2, padding=1)
    """

    SETTINGS = ("kernel_size", "stride", "padding", hidden("ceil_mode"),
                hidden("count_include_pad"), hidden("divisor_override"))
    LABEL = "{kernel_size}"

    def __init__(self, kernel_size: int | tuple[int, int, int],
                 stride: int | tuple[int, int, int] | None = None,
                 padding: int | tuple[int, int, int] = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override: int | None = None) -> None:
        super().__init__()
        self.kernel_size = _as_given(kernel_size)
        self.stride = _as_given(kernel_size if stride is None else stride)
        self.padding = _as_given(padding)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input: Tensor) -> Tensor:
        return F.avg_pool3d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)


@builtin_layer
class AdaptiveAvgPool3d(Module):
    """The mean over each cell of an output_size grid laid over a volume, torch's cells
    in every dim (⌊p·D / od⌋ to ⌈(p + 1)·D / od⌉ − 1, overlapping when the sizes do not
    divide); 1 is global average pooling.

    Args:
        output_size: (od, oh, ow), or one int for all three; None keeps that dim's size.

    Shape:
        input (N, C, D, H, W) or (C, D, H, W); output (N, C, od, oh, ow) or (C, od, oh, ow).

    Example:
    >>> import autodiff as ad, nn
    >>> nn.AdaptiveAvgPool3d(1)(ad.arange(8, dtype=ad.float32).reshape(1, 1, 2, 2, 2))
    tensor([[[[[3.5]]]]])
    >>> nn.AdaptiveAvgPool3d((1, None, 2))
    AdaptiveAvgPool3d(output_size=(1, None, 2))
    """

    SETTINGS = ("output_size",)
    LABEL = "{output_size}"

    def __init__(self, output_size: int | tuple[int | None, int | None, int | None]) -> None:
        super().__init__()
        self.output_size = _as_given(output_size)

    def forward(self, input: Tensor) -> Tensor:
        return F.adaptive_avg_pool3d(input, self.output_size)


@builtin_layer
class AdaptiveMaxPool3d(Module):
    """The maximum over each cell of an output_size grid laid over a volume, torch's cells
    in every dim (depths ⌊r·D / od⌋ to ⌈(r + 1)·D / od⌉ − 1, rows and columns likewise,
    overlapping when the sizes do not divide). The gradient goes to each cell's maximum,
    the first in (d, h, w) order when several tie (torch's rule).

    Args:
        output_size: (od, oh, ow), or one int for all three; None keeps that dim's size.
        return_indices: also return each maximum's position d·H·W + h·W + w in the input
            (int64), as torch does for MaxUnpool3d.

    Shape:
        input (N, C, D, H, W) or (C, D, H, W); output (N, C, od, oh, ow) or (C, od, oh, ow).

    Example:
    >>> import autodiff as ad, nn
    >>> nn.AdaptiveMaxPool3d(1)(ad.arange(8, dtype=ad.float32).reshape(1, 1, 2, 2, 2))
    tensor([[[[[7.]]]]])
    >>> nn.AdaptiveMaxPool3d((1, None, 2))
    AdaptiveMaxPool3d(output_size=(1, None, 2))
    """

    SETTINGS = ("output_size", hidden("return_indices"))
    LABEL = "{output_size}"

    def __init__(self, output_size: int | tuple[int | None, int | None, int | None],
                 return_indices: bool = False) -> None:
        super().__init__()
        self.output_size = _as_given(output_size)
        self.return_indices = return_indices

    def forward(self, input: Tensor) -> Any:
        return F.adaptive_max_pool3d(input, self.output_size, self.return_indices)


class _MaxUnpoolNd(Module):
    """What MaxUnpool1d, 2d and 3d share: kernel_size, stride (default: kernel_size) and
    padding, each stored as a tuple of one int per spatial dim (`dims`), as torch."""

    SETTINGS = ("kernel_size", "stride", "padding")
    LABEL = "{kernel_size}"
    dims = 2
    _unpool: Callable[..., Tensor]
    """The functional form each subclass computes with (F.max_unpool1d, 2d or 3d)."""

    def __init__(self, kernel_size: int | tuple[int, ...],
                 stride: int | tuple[int, ...] | None = None,
                 padding: int | tuple[int, ...] = 0) -> None:
        super().__init__()
        name = type(self).__name__
        self.kernel_size = F.conv_tuple(name, "kernel_size", kernel_size, 1, self.dims)
        self.stride = (self.kernel_size if stride is None
                       else F.conv_tuple(name, "stride", stride, 1, self.dims))
        self.padding = F.conv_tuple(name, "padding", padding, 0, self.dims)

    def forward(self, input: Tensor, indices: Tensor,
                output_size: Sequence[int] | None = None) -> Tensor:
        return self._unpool(input, indices, self.kernel_size, self.stride, self.padding,
                            output_size)


@builtin_layer
class MaxUnpool1d(_MaxUnpoolNd):
    """The partial inverse of MaxPool1d: each pooled value goes back to the position its
    maximum came from, and every other position is 0:

        y[n, c, indices[n, c, p]] = x[n, c, p]

    The gradient of each value is dL/dy at its position (a gather), as torch's.

    Args:
        kernel_size: the pool's window, an int or a 1-tuple.
        stride: the pool's stride (default: kernel_size).
        padding: the pool's padding (default 0).

    forward(input, indices, output_size=None): indices as MaxPool1d(return_indices=True)
    gives them; output_size, (L_out,) or (N, C, L_out), picks the length when several
    inputs pool to this one (within stride of the default).

    Shape:
        input and indices (N, C, L) or (C, L); output (N, C, L_out) or (C, L_out) with
        L_out = (L − 1)·stride − 2·padding + kernel_size, or output_size.

    Example:
    >>> import autodiff as ad, nn
    >>> pool, unpool = nn.MaxPool1d(2, return_indices=True), nn.MaxUnpool1d(2)
    >>> unpool(*pool(ad.tensor([[[1.0, 3.0, 5.0, 2.0]]])))
    tensor([[[0., 3., 5., 0.]]])
    >>> unpool
    MaxUnpool1d(kernel_size=(2,), stride=(2,), padding=(0,))
    """

    dims = 1
    _unpool = staticmethod(F.max_unpool1d)


@builtin_layer
class MaxUnpool2d(_MaxUnpoolNd):
    """The partial inverse of MaxPool2d: each pooled value goes back to the position
    h·W_out + w its maximum came from, and every other pixel is 0:

        y[n, c].flat[indices[n, c, p, q]] = x[n, c, p, q]

    The gradient of each value is dL/dy at its position (a gather), as torch's.

    Args:
        kernel_size: the pool's window, (kh, kw) or one int for both.
        stride: the pool's stride (default: kernel_size).
        padding: the pool's padding (default 0).

    forward(input, indices, output_size=None): indices as MaxPool2d(return_indices=True)
    gives them; output_size, (H_out, W_out) or (N, C, H_out, W_out), picks the size when
    several inputs pool to this one (within stride of the default).

    Shape:
        input and indices (N, C, H, W) or (C, H, W); output (N, C, H_out, W_out) or
        (C, H_out, W_out) with H_out = (H − 1)·stride[0] − 2·padding[0] + kernel_size[0]
        and W_out likewise, or output_size.

    Example:
    >>> import autodiff as ad, nn
    >>> pool, unpool = nn.MaxPool2d(2, return_indices=True), nn.MaxUnpool2d(2)
    >>> unpool(*pool(ad.tensor([[[[1.0, 2.0], [4.0, 3.0]]]])))
    tensor([[[[0., 0.],
              [4., 0.]]]])
    >>> unpool
    MaxUnpool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0))
    """

    _unpool = staticmethod(F.max_unpool2d)


@builtin_layer
class MaxUnpool3d(_MaxUnpoolNd):
    """The partial inverse of MaxPool3d: each pooled value goes back to the position
    d·H_out·W_out + h·W_out + w its maximum came from, and every other voxel is 0:

        y[n, c].flat[indices[n, c, r, p, q]] = x[n, c, r, p, q]

    The gradient of each value is dL/dy at its position (a gather), as torch's.

    Args:
        kernel_size: the pool's window, (kd, kh, kw) or one int for all three.
        stride: the pool's stride (default: kernel_size).
        padding: the pool's padding (default 0).

    forward(input, indices, output_size=None): indices as MaxPool3d(return_indices=True)
    gives them; output_size, (D_out, H_out, W_out) or the whole output shape, picks the
    size when several inputs pool to this one (within stride of the default).

    Shape:
        input and indices (N, C, D, H, W) or (C, D, H, W); output (N, C, D_out, H_out,
        W_out) or (C, D_out, H_out, W_out) with D_out = (D − 1)·stride[0] − 2·padding[0]
        + kernel_size[0], H_out and W_out likewise, or output_size.

    Example:
    >>> import autodiff as ad, nn
    >>> pool, unpool = nn.MaxPool3d(2, return_indices=True), nn.MaxUnpool3d(2)
    >>> x = ad.arange(8, dtype=ad.float32).reshape(1, 1, 2, 2, 2)
    >>> unpool(*pool(x)).flatten().tolist()
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 7.0]
    >>> unpool
    MaxUnpool3d(kernel_size=(2, 2, 2), stride=(2, 2, 2), padding=(0, 0, 0))
    """

    dims = 3
    _unpool = staticmethod(F.max_unpool3d)
