"""Pooling over the windows of an NCHW image: max_pool2d and avg_pool2d.

The windows are conv.py's (kernel, stride, padding, dilation; see its docstring). A pool
reduces each window to one value; its backward spreads dL/dy back over the window's
taps and `fold`s them onto the pixels they came from. max_pool2d reads the windows tap
by tap, as kh·kw strided views (N, C, oh, ow) of the padded input, and its first-order
backward folds each tap's share straight back, so no copy of the windows is made;
avg_pool2d sums the columns of `unfold_array`, (N, C, kh·kw, L). Either backward is
linear in dL/dy with constant coefficients (the one-hot of each maximum, or 1 /
divisor), so with create_graph=True it is recorded from ops (multiplication, reshape,
fold) and is itself differentiable.

Padding may be at most half the kernel (as in torch), so every window holds at least
one input pixel. With ceil_mode=True a last, partial window is added where the input
has pixels left over, as if the bottom and right were padded further; it is dropped
when it would start in the padding.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..function import Function
from ..tensor import Tensor
from .array_or_tensor import broadcast_to
from .conv import (
    NO_PADDING,
    Padding,
    Pair,
    check_image,
    check_windows_fit,
    fold_any,
    fold_taps,
    output_shape,
    output_size,
    pad_array,
    pair,
    symmetric,
    unfold_array,
    window_view,
)

# ---------------------------------------------------------------- the windows

def window_taps(x: np.ndarray, kernel: Pair, stride: Pair, padding: Padding,
                dilation: Pair) -> list[np.ndarray]:
    """The windows of x padded with -inf, one strided view (N, C, oh, ow) per kernel tap
    in row-major order: taps[i·kw + j][n, c, p, q] = x̃[n, c, p·sh + i·dh, q·sw + j·dw]."""
    out = output_shape(x.shape[2:], kernel, stride, padding, dilation)
    view = window_view(pad_array(x, padding, -np.inf), kernel, stride, dilation, out)
    return [view[:, :, i, j] for i in range(kernel[0]) for j in range(kernel[1])]


def taps_max(taps: list[np.ndarray]) -> np.ndarray:
    """Each window's maximum (N, C, oh, ow), reduced tap by tap (NaN if a tap is NaN)."""
    maxima = taps[0].copy()
    for tap in taps[1:]:
        np.maximum(maxima, tap, out=maxima)
    return maxima


def first_max(taps: list[np.ndarray], maxima: np.ndarray) -> list[np.ndarray]:
    """For each tap, the bool mask (N, C, oh, ow) of the windows whose maximum it holds:
    the first one in row-major window order when several tie, the first NaN when there
    is one (torch's rule, a strict `>` scan that lets NaN win)."""
    has_nan = bool(np.isnan(maxima).any())
    masks, seen = [], np.zeros(maxima.shape, dtype=bool)
    for tap in taps:                               # keep only the first hit of each window
        hit = tap == maxima
        if has_nan:
            hit |= np.isnan(tap)
        hit &= ~seen
        seen |= hit
        masks.append(hit)
    return masks


def averaging_divisor(size: Pair, kernel: Pair, stride: Pair, padding: Padding,
                      count_include_pad: bool) -> np.ndarray:
    """How many pixels each window's average divides by, (oh, ow), as torch counts: the
    window clipped to the input and its padding (count_include_pad=True), or to the
    input alone; the part of a ceil_mode window past the padding never counts."""
    counts = []
    for axis in range(2):
        real_pad = padding[axis][0]                # the symmetric padding; the rest is ceil_mode's
        windows = output_size(size[axis], kernel[axis], stride[axis], padding[axis], 1)
        start = np.arange(windows) * stride[axis] - real_pad
        end = np.minimum(start + kernel[axis], size[axis] + real_pad)
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, size[axis])
        counts.append(end - start)
    return np.outer(counts[0], counts[1])


# ---------------------------------------------------------------- the ops

class MaxPool2d(Function):
    """y[n, c, p, q] = max_{i,j} x̃[n, c, p·sh + i·dh, q·sw + j·dw] (x̃ = x padded with -inf);
    dL/dx = fold(onehot · dL/dy): the whole gradient goes to the window's maximum, to the
    first one in row-major window order when several tie (as torch); a pixel that is the
    maximum of several windows sums their gradients."""

    derivative = ("dL/dx = fold(onehot · dL/dy): each window's gradient goes to its maximum (the "
                  "first in row-major order on a tie), summed where windows share it",)

    name = "max_pool2d"

    @staticmethod
    def forward(ctx, x, kernel_size, stride, padding=NO_PADDING, dilation=(1, 1)):
        taps = window_taps(x, kernel_size, stride, padding, dilation)
        maxima = taps_max(taps)
        ctx.is_max = first_max(taps, maxima)       # bool per tap: 4× less memory than x
        ctx.size, ctx.window = x.shape[2:], (kernel_size, stride, padding, dilation)
        return maxima

    @staticmethod
    def backward(ctx, grad):
        if isinstance(grad, Tensor):               # create_graph: fold(onehot · dL/dy), recorded
            n, c, oh, ow = grad.shape
            taps = len(ctx.is_max)
            onehot = np.stack(ctx.is_max, axis=2).reshape(n, c, taps, oh * ow)
            grad_cols = onehot * grad.reshape(n, c, 1, oh * ow)
            return fold_any(grad_cols.reshape(n, c * taps, oh * ow), ctx.size, *ctx.window)
        return fold_taps((grad * is_max for is_max in ctx.is_max), grad.shape[:2],
                         grad.dtype, ctx.size, *ctx.window)


class AvgPool2d(Function):
    """y[n, c, p, q] = Σ_{i,j} x̃[n, c, p·sh + i, q·sw + j] / divisor[p, q] (x̃ = x
    zero-padded);  dL/dx = fold(dL/dy / divisor, copied to each of the window's taps)"""

    derivative = ("dL/dx = fold(dL/dy / divisor, copied to each of the window's taps)",)

    name = "avg_pool2d"

    @staticmethod
    def forward(ctx, x, kernel_size, stride, padding=NO_PADDING, count_include_pad=True,
                divisor_override=None):
        n, c = x.shape[:2]
        taps = kernel_size[0] * kernel_size[1]
        ctx.size, ctx.window = x.shape[2:], (kernel_size, stride, padding, (1, 1))
        grid = output_shape(x.shape[2:], *ctx.window)
        windows = unfold_array(x, *ctx.window).reshape(n, c, taps, grid[0] * grid[1])
        divisor = divisor_override or averaging_divisor(x.shape[2:], kernel_size, stride,
                                                        padding, count_include_pad)
        ctx.divisor = np.asarray(divisor, dtype=x.dtype).reshape(-1)       # (L,) or (1,)
        return (windows.sum(axis=2) / ctx.divisor).reshape(n, c, *grid)

    @staticmethod
    def backward(ctx, grad):
        n, c, oh, ow = grad.shape
        taps = ctx.window[0][0] * ctx.window[0][1]
        share = (grad.reshape(n, c, 1, oh * ow) / ctx.divisor)           # each tap's part
        grad_cols = broadcast_to(share, (n, c, taps, oh * ow)).reshape(n, c * taps, oh * ow)
        return fold_any(grad_cols, ctx.size, *ctx.window)


class MaxPositions(Function):
    """For each window, h·W + w of its (first) maximum in x, int64 (N, C, oh, ow): the
    indices max_pool2d(return_indices=True) returns, found in a second pass over the
    windows. Piecewise constant in x, so it has no gradient."""

    derivative = ()

    differentiable = False

    @staticmethod
    def forward(ctx, x, kernel_size, stride, padding=NO_PADDING, dilation=(1, 1)):
        taps = window_taps(x, kernel_size, stride, padding, dilation)
        masks = first_max(taps, taps_max(taps))
        tap = sum(index * is_max for index, is_max in enumerate(masks))   # (N, C, oh, ow)
        i, j = np.divmod(tap, kernel_size[1])
        oh, ow = output_shape(x.shape[2:], kernel_size, stride, padding, dilation)
        p, q = np.divmod(np.arange(oh * ow).reshape(oh, ow), ow)
        row = p * stride[0] - padding[0][0] + i * dilation[0]
        column = q * stride[1] - padding[1][0] + j * dilation[1]
        return (row * x.shape[3] + column).astype(np.int64).reshape(x.shape[:2] + (oh, ow))


# ---------------------------------------------------------------- arguments, checked

def pool_window(caller: object, shape: tuple[int, ...], kernel_size: Any, stride: Any,
                padding: Any, dilation: Any, ceil_mode: bool) -> tuple[Pair, Pair, Padding, Pair]:
    """(kernel, stride, ((top, bottom), (left, right)), dilation) of a pooling call, checked;
    the bottom and right padding include ceil_mode's extra rows and columns."""
    check_image(caller, shape)
    kernel = pair(caller, "kernel_size", kernel_size, 1)
    stride_ = kernel if stride is None else pair(caller, "stride", stride, 1)
    pad = pair(caller, "padding", padding, 0)
    dilation_ = pair(caller, "dilation", dilation, 1)
    half = (kernel[0] // 2, kernel[1] // 2)
    if pad[0] > half[0] or pad[1] > half[1]:
        raise ValueError(f"{caller}: padding {pad} must be at most half the kernel_size "
                         f"{kernel}, so that every window holds an input pixel; use "
                         f"padding <= {half}")
    check_windows_fit(caller, shape, kernel, symmetric(pad), dilation_, "window")
    padding_ = []
    for axis in range(2):
        size, k, s, p, d = shape[2 + axis], kernel[axis], stride_[axis], pad[axis], \
            dilation_[axis]
        span = d * (k - 1) + 1
        windows = (size + 2 * p - span + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (windows - 1) * s >= size + p:
            windows -= 1                          # the last window would start in the padding
        if d > 1 and not every_window_covers_a_pixel(size, k, s, p, d, windows):
            raise ValueError(f"{caller}: with dilation {dilation_} and padding {pad}, a "
                             f"window along dim {2 + axis} of the input of shape {shape} "
                             f"covers only padding; use less padding or dilation, or a "
                             f"larger input")
        padding_.append((p, max(p, (windows - 1) * s + span - size - p)))
    return kernel, stride_, (padding_[0], padding_[1]), dilation_


def every_window_covers_a_pixel(size: int, kernel: int, stride: int, padding: int,
                                dilation: int, windows: int) -> bool:
    """Along one axis: does every window have a tap inside the input? (Always so without
    dilation, as padding is at most half the kernel; dilated taps can skip the input.)"""
    taps = np.arange(windows)[:, None] * stride - padding + np.arange(kernel) * dilation
    return bool(((taps >= 0) & (taps < size)).any(axis=1).all())


def max_pool2d(input: Tensor, kernel_size: int | Pair, stride: int | Pair | None = None,
               padding: int | Pair = 0, dilation: int | Pair = 1, ceil_mode: bool = False,
               return_indices: bool = False, *, caller: object = "max_pool2d") -> Any:
    """The maximum of each window (torch.nn.functional.max_pool2d); stride defaults to
    kernel_size. With return_indices=True also returns, for each output, the position
    h·W + w of its maximum in the input (int64, as torch), found in a second pass.
    `caller` is what error messages name (the op, or the layer calling it).

    >>> import autodiff as ad
    >>> x = ad.tensor([[[[1.0, 2.0, 5.0, 0.0],
    ...                  [3.0, 4.0, 1.0, 1.0]]]])
    >>> ad.max_pool2d(x, 2)
    tensor([[[[4., 5.]]]])
    >>> ad.max_pool2d(x, 2, return_indices=True)[1]
    tensor([[[[5, 2]]]])
    """
    kernel, stride_, padding_, dilation_ = pool_window(caller, np.shape(input), kernel_size,
                                                       stride, padding, dilation, ceil_mode)
    out = MaxPool2d.apply(input, kernel_size=kernel, stride=stride_, padding=padding_,
                          dilation=dilation_)
    if not return_indices:
        return out
    return out, MaxPositions.apply(input, kernel_size=kernel, stride=stride_, padding=padding_,
                                   dilation=dilation_)


def avg_pool2d(input: Tensor, kernel_size: int | Pair, stride: int | Pair | None = None,
               padding: int | Pair = 0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None, *,
               caller: object = "avg_pool2d") -> Tensor:
    """The mean of each window (torch.nn.functional.avg_pool2d); stride defaults to
    kernel_size. Zero padding counts in the mean unless count_include_pad=False;
    divisor_override replaces the count. `caller` is what error messages name (the op,
    or the layer calling it).

    >>> import autodiff as ad
    >>> x = ad.arange(16, dtype=ad.float32).reshape(1, 1, 4, 4)
    >>> ad.avg_pool2d(x, 2)
    tensor([[[[ 2.5,  4.5],
              [10.5, 12.5]]]])
    """
    kernel, stride_, padding_, _ = pool_window(caller, np.shape(input), kernel_size, stride,
                                               padding, 1, ceil_mode)
    if divisor_override is not None and (not isinstance(divisor_override, (int, np.integer))
                                         or divisor_override <= 0):
        raise ValueError(f"{caller}: divisor_override must be a positive int or None, got "
                         f"{divisor_override!r}")
    return AvgPool2d.apply(input, kernel_size=kernel, stride=stride_, padding=padding_,
                           count_include_pad=bool(count_include_pad),
                           divisor_override=divisor_override)
