"""Sliding windows over images in NCHW layout: unfold (im2col), fold (col2im) and conv2d.

Every window op here reads the same geometry: a kernel of kh × kw taps, dilated by
(dh, dw), slides with stride (sh, sw) over the input padded by ((top, bottom), (left,
right)). Window (p, q) reads the padded input x̃ at

    x̃[n, c, p·sh + i·dh, q·sw + j·dw]        for taps i < kh, j < kw,

and there are oh × ow windows, oh = ⌊(H + top + bottom − dh·(kh − 1) − 1) / sh⌋ + 1
(ow likewise). `unfold` copies every window into a column, giving (N, C·kh·kw, oh·ow)
with row c·kh·kw + i·kw + j (torch's layout); a convolution is then one matrix product
of the weights with those columns. `fold` is unfold's adjoint: it adds each column entry
back onto the pixel it came from. So each is the other's backward, to any order.

Forward and backward run on `numpy.lib.stride_tricks` views: the windows are a strided
view of the padded input (no Python loop over pixels or batch elements), and fold adds
back through one strided slice per kernel tap (a loop over the kh × kw taps only).
Reshapes spell every size out, never -1 (which numpy cannot infer from zero elements), so
an empty batch (N = 0) gives empty outputs and gradients, as torch.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..errors import ShapeError
from ..function import Function
from ..tensor import Tensor

Pair = tuple[int, int]
Padding = tuple[Pair, Pair]         # ((top, bottom), (left, right))
NO_PADDING: Padding = ((0, 0), (0, 0))


# ---------------------------------------------------------------- the windows on arrays

def output_size(size: int, kernel: int, stride: int, padding: Pair, dilation: int) -> int:
    """How many windows fit along one axis: ⌊(size + pads − dilation·(kernel − 1) − 1) /
    stride⌋ + 1 (0 or less when the dilated kernel is larger than the padded input)."""
    return (size + padding[0] + padding[1] - dilation * (kernel - 1) - 1) // stride + 1


def output_shape(size: Pair, kernel: Pair, stride: Pair, padding: Padding,
                 dilation: Pair) -> Pair:
    return (output_size(size[0], kernel[0], stride[0], padding[0], dilation[0]),
            output_size(size[1], kernel[1], stride[1], padding[1], dilation[1]))


def pad_array(x: np.ndarray, padding: Padding, fill: float = 0.0) -> np.ndarray:
    """x (N, C, H, W) with `fill` added around its last two dims (x itself when no padding)."""
    (top, bottom), (left, right) = padding
    if not (top or bottom or left or right):
        return x
    n, c, h, w = x.shape
    out = np.full((n, c, h + top + bottom, w + left + right), fill, dtype=x.dtype)
    out[:, :, top:top + h, left:left + w] = x
    return out


def window_view(padded: np.ndarray, kernel: Pair, stride: Pair, dilation: Pair,
                out: Pair) -> np.ndarray:
    """Every window of a padded (N, C, H̃, W̃) array as a read-only strided view of shape
    (N, C, kh, kw, oh, ow): view[n, c, i, j, p, q] = padded[n, c, p·sh + i·dh, q·sw + j·dw]."""
    sn, sc, sh, sw = padded.strides
    return as_strided(padded, padded.shape[:2] + kernel + out,
                      (sn, sc, sh * dilation[0], sw * dilation[1], sh * stride[0], sw * stride[1]),
                      writeable=False)


def unfold_array(x: np.ndarray, kernel: Pair, stride: Pair, padding: Padding,
                 dilation: Pair) -> np.ndarray:
    """im2col: the windows of x (N, C, H, W), padded with zeros, copied into columns
    (N, C·kh·kw, oh·ow)."""
    out = output_shape(x.shape[2:], kernel, stride, padding, dilation)
    view = window_view(pad_array(x, padding, 0.0), kernel, stride, dilation, out)
    return view.copy().reshape(x.shape[0], x.shape[1] * kernel[0] * kernel[1], out[0] * out[1])


def fold_array(cols: np.ndarray, size: Pair, kernel: Pair, stride: Pair, padding: Padding,
               dilation: Pair) -> np.ndarray:
    """col2im: columns (N, C·kh·kw, L) added back onto the pixels they were copied from,
    giving (N, C, H, W) with H, W = size; entries in the padding are dropped."""
    kh, kw = kernel
    oh, ow = output_shape(size, kernel, stride, padding, dilation)
    windows = cols.reshape(cols.shape[0], cols.shape[1] // (kh * kw), kh, kw, oh, ow)
    taps = (windows[:, :, i, j] for i in range(kh) for j in range(kw))
    return fold_taps(taps, windows.shape[:2], cols.dtype, size, kernel, stride, padding,
                     dilation)


def fold_taps(taps: Iterable[np.ndarray], batch_channels: tuple[int, int], dtype: Any,
              size: Pair, kernel: Pair, stride: Pair, padding: Padding,
              dilation: Pair) -> np.ndarray:
    """col2im from one (N, C, oh, ow) array per kernel tap, in row-major tap order: tap
    (i, j)'s entry for window (p, q) is added onto x̃[n, c, p·sh + i·dh, q·sw + j·dw],
    giving (N, C, H, W) with H, W = size; entries in the padding are dropped."""
    (top, bottom), (left, right) = padding
    kw = kernel[1]
    oh, ow = output_shape(size, kernel, stride, padding, dilation)
    out = np.zeros(batch_channels + (size[0] + top + bottom, size[1] + left + right),
                   dtype=dtype)
    # windows that share no pixel (pooling side by side) each write their own: no need
    # to read what is there (40 % faster for 2 × 2 pooling)
    disjoint = all(count == 1 or s >= d * (k - 1) + 1
                   for count, s, d, k in zip((oh, ow), stride, dilation, kernel))
    for tap, values in enumerate(taps):            # one strided slice per kernel tap
        i, j = divmod(tap, kw)
        rows = slice(i * dilation[0], i * dilation[0] + stride[0] * (oh - 1) + 1, stride[0])
        columns = slice(j * dilation[1], j * dilation[1] + stride[1] * (ow - 1) + 1, stride[1])
        if disjoint:
            out[:, :, rows, columns] = values
        else:
            out[:, :, rows, columns] += values
    return out[:, :, top:top + size[0], left:left + size[1]]


# ---------------------------------------------------------------- unfold and fold

class Unfold(Function):
    """im2col: cols[n, c·kh·kw + i·kw + j, p·ow + q] = x̃[n, c, p·sh + i·dh, q·sw + j·dw]
    (x̃ = x zero-padded);  dL/dx = fold(dL/dcols): each pixel gets the sum of the
    gradients of every window entry it was copied into."""

    derivative = ("dL/dx = fold(dL/dy): each pixel sums the gradients of the window entries it "
                  "was copied into",)

    @staticmethod
    def forward(ctx, x, kernel_size, stride=(1, 1), padding=NO_PADDING, dilation=(1, 1)):
        ctx.size = x.shape[2:]
        ctx.window = kernel_size, stride, padding, dilation
        return unfold_array(x, kernel_size, stride, padding, dilation)

    @staticmethod
    def backward(ctx, grad):
        return fold_any(grad, ctx.size, *ctx.window)


class Fold(Function):
    """col2im: x[n, c, h, w] = Σ of cols[n, c·kh·kw + i·kw + j, p·ow + q] over the window
    entries that land on (h, w) (those in the padding are dropped), the adjoint of unfold;
    dL/dcols = unfold(dL/dx): each entry gets the gradient of the pixel it was added to."""

    derivative = ("dL/dcols = unfold(dL/dy): each entry gets the gradient of the pixel it was "
                  "added to (0 in the padding)",)

    @staticmethod
    def forward(ctx, cols, output_size, kernel_size, stride=(1, 1), padding=NO_PADDING,
                dilation=(1, 1)):
        ctx.window = kernel_size, stride, padding, dilation
        return fold_array(cols, output_size, kernel_size, stride, padding, dilation)

    @staticmethod
    def backward(ctx, grad):
        return unfold_any(grad, *ctx.window)


def unfold_any(x: Any, kernel: Pair, stride: Pair, padding: Padding, dilation: Pair) -> Any:
    """unfold of an ndarray (first-order backward) or of a Tensor (recorded, create_graph)."""
    if isinstance(x, Tensor):
        return Unfold.apply(x, kernel_size=kernel, stride=stride, padding=padding,
                            dilation=dilation)
    return unfold_array(x, kernel, stride, padding, dilation)


def fold_any(cols: Any, size: Pair, kernel: Pair, stride: Pair, padding: Padding,
             dilation: Pair) -> Any:
    """fold of an ndarray (first-order backward) or of a Tensor (recorded, create_graph)."""
    if isinstance(cols, Tensor):
        return Fold.apply(cols, output_size=size, kernel_size=kernel, stride=stride,
                          padding=padding, dilation=dilation)
    return fold_array(cols, size, kernel, stride, padding, dilation)


# ---------------------------------------------------------------- conv2d

class Conv2d(Function):
    """y[n, o, p, q] = b[o] + Σ_{c,i,j} W[o, c, i, j] · x̃[n, c, p·sh + i·dh, q·sw + j·dw]
    (cross-correlation, as torch), computed per group g as Y_g = W_g · unfold(x)_g, one
    matrix product for the whole batch:

        dL/dx = fold(W_gᵀ · dL/dY_g),   dL/dW_g = Σ_n dL/dY_g · unfold(x)_gᵀ,
        dL/db = Σ_{n,p,q} dL/dy

    x (N, C, H, W), W (O, C/groups, kh, kw), b (O,), y (N, O, oh, ow). Saved for
    backward: x (and the columns forward made from it, reused by a first-order backward)
    only when W needs its gradient, W only when x does. With create_graph=True backward
    unfolds x again as a recorded op, so dL/dW is differentiable in x too.
    """

    derivative = ("dL/dx = fold(W_gᵀ · dL/dy_g), per group g",
                  "dL/dweight = Σ_n dL/dy_g · unfold(x)_gᵀ, per group g",
                  "dL/dbias = Σ_{n,p,q} dL/dy")

    name = "conv2d"

    @staticmethod
    def forward(ctx, x, weight, bias=None, stride=(1, 1), padding=NO_PADDING,
                dilation=(1, 1), groups=1):
        n, out_channels = x.shape[0], weight.shape[0]
        kernel = weight.shape[2:]
        oh, ow = output_shape(x.shape[2:], kernel, stride, padding, dilation)
        cols = unfold_array(x, kernel, stride, padding, dilation)        # (N, C·kh·kw, L)
        need_x, need_weight = ctx.needs_input_grad[:2]
        ctx.save_for_backward(x if need_weight else None, weight if need_x else None)
        ctx.cols = cols if need_weight else None
        ctx.size, ctx.groups, ctx.weight_shape = x.shape[2:], groups, weight.shape
        ctx.window = kernel, stride, padding, dilation
        w_rows = weight.reshape(groups, out_channels // groups, -1)   # (g, O/g, C/g·kh·kw)
        y = w_rows @ cols.reshape(n, groups, w_rows.shape[2], oh * ow)   # (N, g, O/g, L)
        y = y.reshape(n, out_channels, oh, ow)
        if bias is not None:
            y += bias.reshape(out_channels, 1, 1)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        need_x, need_weight, need_bias = ctx.needs_input_grad
        n, out_channels, oh, ow = grad.shape
        groups = ctx.groups
        grad_rows = grad.reshape(n, groups, out_channels // groups, oh * ow)   # (N, g, O/g, L)
        rows = math.prod(ctx.weight_shape[1:])                             # K = C/g·kh·kw
        grad_x = grad_weight = grad_bias = None
        if need_weight:
            cols = ctx.cols if isinstance(x, np.ndarray) else unfold_any(x, *ctx.window)
            cols = cols.reshape(n, groups, rows, oh * ow)                  # (N, g, K, L)
            grad_weight = (grad_rows @ cols.mT).sum(axis=0).reshape(ctx.weight_shape)
        if need_x:     # last, and the columns (N, C·kh·kw, L) freed by fold: a lower peak
            w_rows = weight.reshape(groups, out_channels // groups, -1)     # (g, O/g, K)
            grad_x = fold_any((w_rows.mT @ grad_rows).reshape(n, groups * rows, oh * ow),
                              ctx.size, *ctx.window)
        if need_bias:
            grad_bias = grad.sum(axis=(0, 2, 3))
        return grad_x, grad_weight, grad_bias


# ---------------------------------------------------------------- arguments, checked

def pair(caller: object, name: str, value: Any, minimum: int) -> Pair:
    """An int or a pair of ints, each >= minimum, as a pair (torch's `_pair`)."""
    values = (value, value) if is_int(value) else value
    if not isinstance(values, (tuple, list)) or len(values) != 2 \
            or not all(is_int(v) and v >= minimum for v in values):
        raise ValueError(f"{caller}: {name} must be an int >= {minimum} or a pair of them "
                         f"(height, width), got {value!r}")
    return int(values[0]), int(values[1])


def is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def symmetric(padding: Pair) -> Padding:
    """(ph, pw) as ((top, bottom), (left, right)) = ((ph, ph), (pw, pw))."""
    return (padding[0], padding[0]), (padding[1], padding[1])


def check_image(caller: object, shape: tuple[int, ...]) -> None:
    if len(shape) != 4:
        fix = ("add a batch dim with x.unsqueeze(0)" if len(shape) == 3
               else "reshape it to (batch, channels, height, width)")
        raise ShapeError(f"{caller}: expected a 4-D input (N, C, H, W), got shape {shape}; "
                         f"{fix}")


def check_windows_fit(caller: object, shape: tuple[int, ...], kernel: tuple[int, ...],
                      padding: tuple[Pair, ...], dilation: tuple[int, ...],
                      what: str = "kernel") -> None:
    """The dilated kernel must fit in the padded input, so there is at least one window
    (in each spatial dim: two for an image, three for a volume)."""
    size = shape[2:]
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    padded = tuple(s + a + b for s, (a, b) in zip(size, padding))
    if any(s > p for s, p in zip(span, padded)):
        dilated = f" (dilated to {span})" if span != kernel else ""
        raise ShapeError(f"{caller}: the {what} {kernel}{dilated} is larger than the input "
                         f"{size} padded by {padding} to {padded}, for input of shape "
                         f"{shape}; use a smaller kernel_size or dilation, more padding, "
                         f"or a larger input")


def conv_padding(caller: object, padding: Any, kernel: tuple[int, ...],
                 stride: tuple[int, ...], dilation: tuple[int, ...]
                 ) -> tuple[tuple[int, int], ...]:
    """A conv's padding as a (before, after) pair per spatial dim (as many as the kernel
    has): an int or a pair (2-D), "valid" (none) or "same" (output size = input size,
    stride 1 only; an odd total goes after, on the bottom and right, as torch pads)."""
    if not isinstance(padding, str):
        return symmetric(pair(caller, "padding", padding, 0))
    if padding == "valid":
        return ((0, 0),) * len(kernel)
    if padding != "same":
        raise ValueError(f"{caller}: padding must be an int, a pair, 'valid' or 'same', "
                         f"got {padding!r}")
    if any(s != 1 for s in stride):
        raise ValueError(f"{caller}: padding='same' is not supported for strided "
                         f"convolutions (stride {stride}); pass stride=1 or an explicit "
                         f"padding")
    totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
    return tuple((total // 2, total - total // 2) for total in totals)


# ---------------------------------------------------------------- the functions

def unfold(input: Tensor, kernel_size: int | Pair, dilation: int | Pair = 1,
           padding: int | Pair = 0, stride: int | Pair = 1) -> Tensor:
    """im2col (torch.nn.functional.unfold): every kernel-sized window of the zero-padded
    input (N, C, H, W) as a column of the result (N, C·kh·kw, L), L = oh·ow windows.

    >>> import autodiff as ad
    >>> x = ad.arange(9, dtype=ad.float32).reshape(1, 1, 3, 3)
    >>> ad.unfold(x, kernel_size=2)
    tensor([[[0., 1., 3., 4.],
             [1., 2., 4., 5.],
             [3., 4., 6., 7.],
             [4., 5., 7., 8.]]])
    """
    check_image("unfold", np.shape(input))
    kernel = pair("unfold", "kernel_size", kernel_size, 1)
    window = (kernel, pair("unfold", "stride", stride, 1),
              symmetric(pair("unfold", "padding", padding, 0)),
              pair("unfold", "dilation", dilation, 1))
    check_windows_fit("unfold", np.shape(input), kernel, window[2], window[3])
    return Unfold.apply(input, kernel_size=window[0], stride=window[1], padding=window[2],
                        dilation=window[3])


def fold(input: Tensor, output_size: int | Pair, kernel_size: int | Pair,
         dilation: int | Pair = 1, padding: int | Pair = 0, stride: int | Pair = 1) -> Tensor:
    """col2im (torch.nn.functional.fold), the adjoint of unfold: columns (N, C·kh·kw, L)
    summed back into an image (N, C, *output_size), overlapping entries added up.

    >>> import autodiff as ad
    >>> ad.fold(ad.ones(1, 4, 4), output_size=3, kernel_size=2)   # how often each pixel is read
    tensor([[[[1., 2., 1.],
              [2., 4., 2.],
              [1., 2., 1.]]]])
    """
    shape = np.shape(input)
    size = pair("fold", "output_size", output_size, 1)
    kernel = pair("fold", "kernel_size", kernel_size, 1)
    stride_, dilation_ = pair("fold", "stride", stride, 1), pair("fold", "dilation", dilation, 1)
    padding_ = symmetric(pair("fold", "padding", padding, 0))
    taps = kernel[0] * kernel[1]
    if len(shape) != 3 or shape[1] % taps:
        raise ShapeError(f"fold: expected input (N, C·kh·kw, L) with dim 1 a multiple of "
                         f"kh·kw = {taps} for kernel_size {kernel}, got shape {shape}")
    check_windows_fit("fold", (shape[0], shape[1] // taps) + size, kernel, padding_, dilation_)
    blocks = output_shape(size, kernel, stride_, padding_, dilation_)
    if shape[2] != blocks[0] * blocks[1]:
        raise ShapeError(f"fold: input of shape {shape} has {shape[2]} columns (dim 2), but "
                         f"output_size {size} with kernel_size {kernel}, stride {stride_}, "
                         f"padding {padding_} and dilation {dilation_} has {blocks[0]} × "
                         f"{blocks[1]} = {blocks[0] * blocks[1]} windows; pass the "
                         f"output_size the columns were unfolded from")
    return Fold.apply(input, output_size=size, kernel_size=kernel, stride=stride_,
                      padding=padding_, dilation=dilation_)


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None,
           stride: int | Pair = 1, padding: int | Pair | str = 0, dilation: int | Pair = 1,
           groups: int = 1, *, caller: object = "conv2d") -> Tensor:
    """2-D convolution (torch.nn.functional.conv2d) of input (N, C, H, W) with weight
    (O, C/groups, kh, kw) and bias (O,), as one graph node; see Conv2d. `caller` is what
    error messages name: the op, or the layer calling it (nn.Conv2d passes itself).

    >>> import autodiff as ad
    >>> x = ad.arange(16, dtype=ad.float32).reshape(1, 1, 4, 4)
    >>> ad.conv2d(x, ad.ones(1, 1, 2, 2), stride=2)        # the sum of each 2 × 2 block
    tensor([[[[10., 18.],
              [42., 50.]]]])
    """
    shape, w_shape = np.shape(input), np.shape(weight)
    check_image(caller, shape)
    if len(w_shape) != 4:
        raise ShapeError(f"{caller}: weight must have shape (out_channels, in_channels / "
                         f"groups, kh, kw), got {w_shape}")
    if not is_int(groups) or groups < 1:
        raise ValueError(f"{caller}: groups must be an int >= 1, got {groups!r}")
    if w_shape[0] % groups:
        raise ShapeError(f"{caller}: weight of shape {w_shape} has {w_shape[0]} output "
                         f"channels, which groups={groups} does not divide; use a number of "
                         f"output channels divisible by groups")
    if shape[1] != w_shape[1] * groups:
        raise ShapeError(f"{caller}: input of shape {shape} has {shape[1]} channels (dim 1), "
                         f"but weight of shape {w_shape} with groups={groups} expects "
                         f"{w_shape[1] * groups} (weight.shape[1] × groups); pass an input "
                         f"with {w_shape[1] * groups} channels or a weight made for "
                         f"{shape[1]}")
    if bias is not None and np.shape(bias) != (w_shape[0],):
        raise ShapeError(f"{caller}: bias must have shape ({w_shape[0]},), one per output "
                         f"channel of weight {w_shape}, got {np.shape(bias)}")
    kernel = (w_shape[2], w_shape[3])
    stride_ = pair(caller, "stride", stride, 1)
    dilation_ = pair(caller, "dilation", dilation, 1)
    padding_ = conv_padding(caller, padding, kernel, stride_, dilation_)
    check_windows_fit(caller, shape, kernel, padding_, dilation_)
    return Conv2d.apply(input, weight, bias, stride=stride_, padding=padding_,
                        dilation=dilation_, groups=int(groups))
