"""nn.functional: the layers and losses as functions (torch.nn.functional's names).

`linear`, `cross_entropy`, `nll_loss` and the binary cross-entropies are fused kernels,
one graph node each (autodiff/ops/nn_kernels.py); so are `conv2d`, `max_pool2d`,
`avg_pool2d`, `unfold` and `fold` (autodiff/ops/conv.py, pool.py); the rest are built
from tensor ops.
Losses take `reduction="mean" | "sum" | "none"`; class-index targets are int tensors.

>>> import autodiff as ad, nn.functional as F
>>> logits = ad.tensor([[2.0, 0.0, -1.0]], requires_grad=True)
>>> loss = F.cross_entropy(logits, ad.tensor([0]))
>>> round(loss.item(), 4)
0.1698
"""
from __future__ import annotations

from typing import Any

import numpy as np

import autodiff as ad
from autodiff.errors import ShapeError
from autodiff.ops import conv, nn_kernels, pool
from autodiff.random import generator
from autodiff.tensor import Tensor
from autodiff.tracing import drawn

# ---------------------------------------------------------------- layers

def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x Wᵀ + b for x of shape (*, in_features), W (out_features, in_features)."""
    return nn_kernels.linear(input, weight, bias)


def relu(input: Tensor) -> Tensor:
    """max(0, x), with relu'(0) = 0."""
    return input.relu()


def leaky_relu(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x where x > 0, negative_slope · x elsewhere."""
    return input.leaky_relu(negative_slope)


def sigmoid(input: Tensor) -> Tensor:
    """1 / (1 + e⁻ˣ)."""
    return input.sigmoid()


def tanh(input: Tensor) -> Tensor:
    return input.tanh()


def softmax(input: Tensor, dim: int | None = None) -> Tensor:
    """exp(xᵢ) / Σⱼ exp(xⱼ) along `dim`, which must be given."""
    return input.softmax(dim)


def log_softmax(input: Tensor, dim: int | None = None) -> Tensor:
    """xᵢ - log Σⱼ exp(xⱼ) along `dim`, which must be given."""
    return input.log_softmax(dim)


def dropout(input: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Inverted dropout: in training each element is zeroed with probability p and the
    survivors are scaled by 1 / (1 - p), so the expected value is unchanged and
    evaluation needs no rescaling. A new mask is drawn on every call (from the shared
    generator, see `ad.manual_seed`). With training=False the input is returned as is.

    >>> import autodiff as ad
    >>> _ = ad.manual_seed(0)
    >>> dropout(ad.ones(8), p=0.5)
    tensor([2., 0., 0., 0., 2., 2., 2., 2.])
    """
    check_probability("dropout", p)
    return _drop(input, p, training, input.shape)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Channel dropout for images (N, C, H, W): in training each whole channel of each
    sample is zeroed with probability p (one mask value per (n, c), broadcast over H × W)
    and the survivors are scaled by 1 / (1 - p). Neighbouring pixels are strongly
    correlated, so dropping them one by one (`dropout`) barely regularises a conv net;
    dropping feature maps does (Tompson et al., 2015).

    >>> import autodiff as ad
    >>> _ = ad.manual_seed(0)
    >>> dropout2d(ad.ones(1, 4, 1, 2), p=0.5)
    tensor([[[[2., 2.]],
    <BLANKLINE>
             [[0., 0.]],
    <BLANKLINE>
             [[0., 0.]],
    <BLANKLINE>
             [[0., 0.]]]])
    """
    check_probability("dropout2d", p)
    conv.check_image("dropout2d", input.shape)
    return _drop(input, p, training, input.shape[:2] + (1, 1))


def _drop(input: Tensor, p: float, training: bool, mask_shape: tuple[int, ...]) -> Tensor:
    """input · mask, the mask of `mask_shape` (broadcast over the input); the input itself
    when nothing is dropped."""
    if not training or p == 0:
        return input
    return input * dropout_mask(mask_shape, p, input.dtype)


@drawn
def dropout_mask(shape: tuple[int, ...], p: float, dtype: np.dtype) -> Tensor:
    """m = 1/(1 - p) with probability 1 - p, else 0 (all 0 for p = 1), drawn from the
    shared generator; a new draw on every call, in a compiled function too."""
    mask = (generator().random(shape) >= p).astype(dtype)
    if p < 1:
        mask *= 1 / (1 - p)
    return Tensor._make(mask)


def check_probability(op: str, p: float) -> None:
    if not 0 <= p <= 1:
        raise ValueError(f"{op}: p is the probability of zeroing an element and must be "
                         f"between 0 and 1, got {p}")


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each channel (dim 1) over the batch (and any dims after the channel):

        y = (x - mean) / √(var + eps) · weight + bias

    In training, mean and var are the batch's (var biased, dividing by n), and the
    running estimates, when given, are updated in place:
    running = (1 - momentum) · running + momentum · batch statistic, with the unbiased
    variance (dividing by n - 1). Otherwise the running estimates are used, unchanged.
    """
    if input.ndim < 2:
        raise ShapeError(f"batch_norm: input must have a batch dim and a channel dim, got "
                         f"shape {input.shape}")
    channels = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and t.shape != (channels,):
            raise ShapeError(f"batch_norm: {name} has shape {t.shape}, but the input of "
                             f"shape {input.shape} has {channels} channels (dim 1)")
    axes = (0,) + tuple(range(2, input.ndim))          # every dim but the channels
    per_channel = (channels,) + (1,) * (input.ndim - 2)  # broadcasts along dim 1
    if training:
        count = input.numel() // max(channels, 1)
        if count <= 1:
            raise ShapeError(f"batch_norm: training needs more than one value per channel "
                             f"to estimate a variance, got input of shape {input.shape}; "
                             f"use a batch of at least 2 or call model.eval()")
        mean = input.mean(axis=axes, keepdims=True)
        var = input.var(axis=axes, keepdims=True, correction=0)
        if running_mean is not None and running_var is not None:
            _update_running(running_mean, mean.detach(), momentum)
            _update_running(running_var, var.detach() * (count / (count - 1)), momentum)
        normalized = (input - mean) / (var + eps).sqrt()
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: with training=False the running_mean and "
                             "running_var must be given")
        inverse_std = 1 / (running_var.detach().reshape(per_channel) + eps).sqrt()
        normalized = (input - running_mean.detach().reshape(per_channel)) * inverse_std
    if weight is not None:
        normalized = normalized * (weight if input.ndim == 2 else weight.reshape(per_channel))
    if bias is not None:
        normalized = normalized + (bias if input.ndim == 2 else bias.reshape(per_channel))
    return normalized


def _update_running(running: Tensor, batch_value: Tensor, momentum: float) -> None:
    """running ← (1 - momentum) · running + momentum · batch_value, in place, by tensor
    ops (so a compiled step replays the update on the running tensor)."""
    with ad.no_grad():
        running *= 1 - momentum
        running += momentum * batch_value.reshape(-1)


# ---------------------------------------------------------------- images (N, C, H, W)

def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None,
           stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] | str = 0,
           dilation: int | tuple[int, int] = 1, groups: int = 1) -> Tensor:
    """2-D convolution of input (N, C, H, W) with weight (O, C/groups, kh, kw) and bias
    (O,) as one node; padding is an int, a pair, "valid" or "same". See nn.Conv2d."""
    return conv.conv2d(input, weight, bias, stride, padding, dilation, groups)


def max_pool2d(input: Tensor, kernel_size: int | tuple[int, int],
               stride: int | tuple[int, int] | None = None, padding: int | tuple[int, int] = 0,
               dilation: int | tuple[int, int] = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Any:
    """The maximum of each window (stride defaults to kernel_size); with return_indices
    also each maximum's position h·W + w in the input. See nn.MaxPool2d."""
    return pool.max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode,
                           return_indices)


def avg_pool2d(input: Tensor, kernel_size: int | tuple[int, int],
               stride: int | tuple[int, int] | None = None, padding: int | tuple[int, int] = 0,
               ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """The mean of each window (stride defaults to kernel_size). See nn.AvgPool2d."""
    return pool.avg_pool2d(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                           divisor_override)


def adaptive_avg_pool2d(input: Tensor, output_size: int | tuple[int | None, int | None], *,
                        caller: object = "adaptive_avg_pool2d") -> Tensor:
    """The mean over each cell of an output_size grid over the input (torch's cells:
    rows ⌊p·H / oh⌋ to ⌈(p + 1)·H / oh⌉ − 1, columns likewise; None keeps a dim).
    `caller` is what error messages name (the function, or the layer calling it).

    Averaging rows and columns separately is linear, so it is two products with constant
    averaging matrices, y = A_h · x · A_wᵀ (A_h of shape (oh, H)): recorded as matmuls
    and differentiable to any order.

    >>> import autodiff as ad
    >>> x = ad.arange(12, dtype=ad.float32).reshape(1, 1, 3, 4)
    >>> adaptive_avg_pool2d(x, (2, 1))          # rows 0-1 and 1-2, all columns
    tensor([[[[3.5],
              [7.5]]]])
    """
    conv.check_image(caller, input.shape)
    sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * 2
    if len(sizes) != 2 or not all(s is None or (conv.is_int(s) and s >= 1) for s in sizes):
        raise ValueError(f"{caller}: output_size must be an int >= 1, or a pair "
                         f"of them (None keeps the input's size), got {output_size!r}")
    height, width = input.shape[2:]
    rows = _averaging_matrix(height, sizes[0] or height, input.dtype)
    columns = _averaging_matrix(width, sizes[1] or width, input.dtype)
    return rows @ input @ columns.T


def _averaging_matrix(size: int, cells: int, dtype: np.dtype) -> np.ndarray:
    """A (cells, size) matrix whose row p averages positions ⌊p·size / cells⌋ to
    ⌈(p + 1)·size / cells⌉ − 1."""
    cell = np.arange(cells)[:, None]
    start, end = cell * size // cells, -((-(cell + 1) * size) // cells)
    inside = (np.arange(size) >= start) & (np.arange(size) < end)
    return (inside / (end - start)).astype(dtype)


def unfold(input: Tensor, kernel_size: int | tuple[int, int], dilation: int | tuple[int, int] = 1,
           padding: int | tuple[int, int] = 0, stride: int | tuple[int, int] = 1) -> Tensor:
    """im2col: every window of the zero-padded input (N, C, H, W) as a column of
    (N, C·kh·kw, L), L the number of windows."""
    return conv.unfold(input, kernel_size, dilation, padding, stride)


def fold(input: Tensor, output_size: int | tuple[int, int], kernel_size: int | tuple[int, int],
         dilation: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0,
         stride: int | tuple[int, int] = 1) -> Tensor:
    """col2im, unfold's adjoint: columns (N, C·kh·kw, L) summed back into (N, C, *output_size)."""
    return conv.fold(input, output_size, kernel_size, dilation, padding, stride)


# ---------------------------------------------------------------- losses

def mse_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """(x - y)², reduced; d/dx = 2(x - y) (/ n for the mean). One fused node."""
    return nn_kernels.mse_loss(input, target, reduction)


def l1_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """|x - y|, reduced; d/dx = sign(x - y) (/ n for the mean), with sign(0) = 0."""
    return _reduce("l1_loss", (input - _target("l1_loss", input, target)).abs(), reduction)


def binary_cross_entropy(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """-(y log p + (1 - y) log(1 - p)) for probabilities p in [0, 1]; each log is
    clamped to >= -100 as in torch, so p = 0 or 1 gives a finite loss."""
    return nn_kernels.binary_cross_entropy(input, target, reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Any,
                                     reduction: str = "mean") -> Tensor:
    """binary_cross_entropy(sigmoid(x), y) computed from logits x without overflow."""
    return nn_kernels.binary_cross_entropy_with_logits(input, target, reduction)


def nll_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """-input[n, target[n]] for log-probabilities `input` (N, C) and class indices
    `target` (N,) (also (C,) with a 0-d target, or (N, C, d…) with (N, d…))."""
    return nn_kernels.nll_loss(input, target, reduction)


def cross_entropy(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """nll_loss(log_softmax(input, dim=1), target) as one stable node, from logits."""
    return nn_kernels.cross_entropy(input, target, reduction)


def _target(op: str, input: Tensor, target: Any) -> Any:
    nn_kernels.check_same_shape(op, input, target)
    return target if isinstance(target, Tensor) else ad.tensor(
        np.asarray(target, dtype=input.dtype))


def _reduce(op: str, losses: Tensor, reduction: str) -> Tensor:
    nn_kernels.check_reduction(op, reduction)
    if reduction == "none":
        return losses
    return losses.mean() if reduction == "mean" else losses.sum()
