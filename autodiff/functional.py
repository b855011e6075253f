"""The ops as functions: `ad.exp(x)` is `x.exp()`, `ad.cat([a, b])` joins tensors.

Each accepts tensors, and numbers or ndarrays where a tensor is expected. The window ops
(`conv2d`, `max_pool2d`, `avg_pool2d`, `unfold`, `fold`) take torch.nn.functional's
arguments; they are in autodiff/ops/conv.py and pool.py."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import creation
from .errors import DomainError, ShapeError
from .ops import conv, discrete, elementwise, pool, shape
from .promotion import promote, promote_all
from .tensor import Axis, Tensor


def tensor_of(x: Any) -> Tensor:
    """`x` itself if it is a tensor, else a new constant tensor of it (a copy: the ops'
    own conversion; `ad.as_tensor` is torch's, which shares an ndarray's memory)."""
    return x if isinstance(x, Tensor) else Tensor(x)


def add(a: Any, b: Any, *, alpha: float = 1) -> Tensor:
    """a + alpha · b"""
    return elementwise.Add.apply(*promote(a, b if alpha == 1 else b * alpha))


def sub(a: Any, b: Any, *, alpha: float = 1) -> Tensor:
    """a − alpha · b"""
    return elementwise.Sub.apply(*promote(a, b if alpha == 1 else b * alpha))


def mul(a: Any, b: Any) -> Tensor:
    return elementwise.Mul.apply(*promote(a, b))


def div(a: Any, b: Any, *, rounding_mode: str | None = None) -> Tensor:
    """a / b; with rounding_mode 'trunc' or 'floor', the quotient rounded (see
    Tensor.div)."""
    if rounding_mode is not None:
        return tensor_of(a).div(b, rounding_mode=rounding_mode)
    return elementwise.Div.apply(*promote(a, b, floating=True))


def pow(a: Any, b: Any) -> Tensor:
    return elementwise.Pow.apply(*promote(a, b))


def neg(x: Any) -> Tensor:
    return elementwise.Neg.apply(x)


def matmul(a: Any, b: Any) -> Tensor:
    return tensor_of(a) @ b


def exp(x: Any) -> Tensor:
    return tensor_of(x).exp()


def log(x: Any) -> Tensor:
    return tensor_of(x).log()


def sqrt(x: Any) -> Tensor:
    return tensor_of(x).sqrt()


def abs(x: Any) -> Tensor:
    return tensor_of(x).abs()


def tanh(x: Any) -> Tensor:
    return tensor_of(x).tanh()


def sigmoid(x: Any) -> Tensor:
    return tensor_of(x).sigmoid()


def relu(x: Any) -> Tensor:
    return tensor_of(x).relu()


def leaky_relu(x: Any, negative_slope: float = 0.01) -> Tensor:
    return tensor_of(x).leaky_relu(negative_slope)


def clip(x: Any, min: Any = None, max: Any = None) -> Tensor:
    """Each element limited to [min, max] (one of them may be None, not both): numbers,
    or tensors that broadcast with x. The dtype is torch's promotion of x with the
    bounds (an int64 tensor clamped at 0.5 gives float32)."""
    x = tensor_of(x)
    if min is None and max is None:
        raise DomainError("clamp: at least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        # torch's rule: y = x between the bounds (ties included), min below it, max above
        # (also when min > max); each gets dL/dy where y took its value
        if min is not None:
            x = where(x < min, min, x)
        if max is not None:
            x = where(x > max, max, x)
        return x
    for bound in (min, max):
        if bound is not None:
            x = promote(x, bound)[0]
    return elementwise.Clip.apply(x, low=min, high=max)


clamp = clip


def maximum(a: Any, b: Any) -> Tensor:
    return elementwise.Maximum.apply(*promote(a, b))


def minimum(a: Any, b: Any) -> Tensor:
    return elementwise.Minimum.apply(*promote(a, b))


def where(condition: Any, a: Any, b: Any) -> Tensor:
    """Elementwise `a if condition else b`; the gradient flows to the chosen side."""
    return elementwise.Where.apply(condition, *promote(a, b))


def sum(x: Any, dim: Axis = None, keepdim: bool = False, **kwargs: Any) -> Tensor:
    return tensor_of(x).sum(dim, keepdim, **kwargs)


def mean(x: Any, dim: Axis = None, keepdim: bool = False, **kwargs: Any) -> Tensor:
    return tensor_of(x).mean(dim, keepdim, **kwargs)


def var(x: Any, dim: Axis = None, unbiased: bool | None = None, keepdim: bool = False,
        **kwargs: Any) -> Tensor:
    return tensor_of(x).var(dim, unbiased, keepdim, **kwargs)


def std(x: Any, dim: Axis = None, unbiased: bool | None = None, keepdim: bool = False,
        **kwargs: Any) -> Tensor:
    return tensor_of(x).std(dim, unbiased, keepdim, **kwargs)


def max(x: Any, dim: Any = None, keepdim: bool = False, **kwargs: Any) -> Any:
    return tensor_of(x).max(dim, keepdim, **kwargs)


def min(x: Any, dim: Any = None, keepdim: bool = False, **kwargs: Any) -> Any:
    return tensor_of(x).min(dim, keepdim, **kwargs)


def prod(x: Any, dim: int | None = None, keepdim: bool = False, **kwargs: Any) -> Tensor:
    return tensor_of(x).prod(dim, keepdim, **kwargs)


def amax(x: Any, dim: Axis = (), keepdim: bool = False, **kwargs: Any) -> Tensor:
    return tensor_of(x).amax(dim, keepdim, **kwargs)


def amin(x: Any, dim: Axis = (), keepdim: bool = False, **kwargs: Any) -> Tensor:
    return tensor_of(x).amin(dim, keepdim, **kwargs)


def norm(x: Any, p: float | str = "fro", dim: Axis = None, keepdim: bool = False,
         **kwargs: Any) -> Tensor:
    return tensor_of(x).norm(p, dim, keepdim, **kwargs)


def argmax(x: Any, dim: int | None = None, keepdim: bool = False, **kwargs: Any) -> Tensor:
    return tensor_of(x).argmax(dim, keepdim, **kwargs)


def argmin(x: Any, dim: int | None = None, keepdim: bool = False, **kwargs: Any) -> Tensor:
    return tensor_of(x).argmin(dim, keepdim, **kwargs)


def logsumexp(x: Any, dim: Axis = None, keepdim: bool = False, **kwargs: Any) -> Tensor:
    return tensor_of(x).logsumexp(dim, keepdim, **kwargs)


def softmax(x: Any, dim: int | None = None, **kwargs: Any) -> Tensor:
    return tensor_of(x).softmax(dim, **kwargs)


def log_softmax(x: Any, dim: int | None = None, **kwargs: Any) -> Tensor:
    return tensor_of(x).log_softmax(dim, **kwargs)


def reshape(x: Any, *shape: Any) -> Tensor:
    return tensor_of(x).reshape(*shape)


def flatten(x: Any, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    return tensor_of(x).flatten(start_dim, end_dim)


def transpose(x: Any, dim0: int, dim1: int) -> Tensor:
    return tensor_of(x).transpose(dim0, dim1)


def permute(x: Any, *dims: Any) -> Tensor:
    return tensor_of(x).permute(*dims)


def squeeze(x: Any, dim: int | None = None) -> Tensor:
    return tensor_of(x).squeeze(dim)


def unsqueeze(x: Any, dim: int) -> Tensor:
    return tensor_of(x).unsqueeze(dim)


def expand(x: Any, *sizes: Any) -> Tensor:
    return tensor_of(x).expand(*sizes)


def broadcast_to(x: Any, shape: Sequence[int]) -> Tensor:
    return tensor_of(x).expand(*shape)


def cat(tensors: Sequence[Any], dim: int = 0) -> Tensor:
    """Join tensors along an existing dim, in the dtype they promote to (torch's rule)."""
    return shape.cat(promote_all(tensors), dim)


def concatenate(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    return cat(tensors, axis)


concat = cat


def stack(tensors: Sequence[Any], dim: int = 0) -> Tensor:
    """Stack equally shaped tensors along a new dim, in the dtype they promote to."""
    return shape.stack(promote_all(tensors), dim)


def _compare(a: Any, b: Any, ufunc: np.ufunc) -> Tensor:
    return discrete.Binary.apply(*promote(a, b), ufunc=ufunc)


def eq(input: Any, other: Any) -> Tensor:
    """input == other, elementwise, as a bool tensor (compared in the promoted dtype)"""
    return _compare(input, other, np.equal)


def ne(input: Any, other: Any) -> Tensor:
    """input != other, elementwise, as a bool tensor (compared in the promoted dtype)"""
    return _compare(input, other, np.not_equal)


def lt(input: Any, other: Any) -> Tensor:
    """input < other, elementwise, as a bool tensor (compared in the promoted dtype)"""
    return _compare(input, other, np.less)


def le(input: Any, other: Any) -> Tensor:
    """input <= other, elementwise, as a bool tensor (compared in the promoted dtype)"""
    return _compare(input, other, np.less_equal)


def gt(input: Any, other: Any) -> Tensor:
    """input > other, elementwise, as a bool tensor (compared in the promoted dtype)"""
    return _compare(input, other, np.greater)


def ge(input: Any, other: Any) -> Tensor:
    """input >= other, elementwise, as a bool tensor (compared in the promoted dtype)"""
    return _compare(input, other, np.greater_equal)


greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


conv2d = conv.conv2d
unfold = conv.unfold
fold = conv.fold
max_pool2d = pool.max_pool2d
avg_pool2d = pool.avg_pool2d


# ---------------------------------------------------------------- torch.X forms of methods

def numel(x: Tensor) -> int:
    return x.numel()


def t(x: Tensor) -> Tensor:
    return x.t()


def detach(x: Tensor) -> Tensor:
    return x.detach()


def clone(x: Tensor) -> Tensor:
    return x.clone()


def all(x: Tensor, dim: Axis = None, keepdim: bool = False) -> Tensor:
    return x.all(dim, keepdim)


def any(x: Tensor, dim: Axis = None, keepdim: bool = False) -> Tensor:
    return x.any(dim, keepdim)


def fill_(x: Tensor, value: Any) -> Tensor:
    return x.fill_(value)


def zero_(x: Tensor) -> Tensor:
    return x.zero_()


def clamp_(x: Tensor, min: float | None = None, max: float | None = None) -> Tensor:
    return x.clamp_(min, max)


def dropout(x: Tensor, p: float = 0.5, train: bool = True) -> Tensor:
    """torch.dropout: each element zeroed with probability p, the rest scaled by
    1/(1 − p), when `train`; x itself otherwise."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout: probability has to be between 0 and 1, but got {p}")
    if not train or p == 0:
        return x
    return x * creation.dropout_mask(x.shape, p, x.dtype)


def kl_div(input: Tensor, target: Any, reduction: int = 0, log_target: bool = False) -> Tensor:
    """torch.kl_div, the pointwise KL(y ‖ e^x) of log-probabilities x = input and
    probabilities y = target: ℓ = y · (log y − x), 0 where y = 0 (torch's xlogy, whose
    gradient stays finite there); with log_target, y holds log-probabilities and
    ℓ = e^y · (y − x). dℓ/dx = −y (or −e^y). `reduction` is an int, as torch's ATen
    function takes it: 0 the elementwise ℓ (the default), 1 their mean, 2 their sum;
    nn.functional.kl_div takes the strings and "batchmean".

    >>> import autodiff as ad
    >>> x = ad.tensor([0.25, 0.25, 0.5]).log()
    >>> round(kl_div(x, ad.tensor([0.5, 0.5, 0.0]), reduction=2).item(), 4)    # log 2
    0.6931
    """
    if isinstance(reduction, bool) or reduction not in (0, 1, 2):
        raise ValueError(f"kl_div: reduction must be 0 (none), 1 (mean) or 2 (sum), as "
                         f"torch.kl_div takes it, got {reduction!r}; nn.functional.kl_div "
                         f"takes 'none', 'mean', 'sum' or 'batchmean'")
    target = tensor_of(target)
    if log_target:
        losses = target.exp() * (target - input)
    else:
        losses = target * target.masked_fill(target == 0, 1).log() - target * input
    if reduction == 0:
        return losses
    return losses.mean() if reduction == 1 else losses.sum()


def layer_norm(input: Tensor, normalized_shape: int | Sequence[int],
               weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """torch.layer_norm: normalise each sample over its last dims, those of
    `normalized_shape`: y = (x − mean) / √(var + eps) · weight + bias, with mean and the
    biased var taken per sample over those dims; weight and bias have that shape."""
    shape = (int(normalized_shape),) if isinstance(normalized_shape, (int, np.integer)) \
        else tuple(int(n) for n in normalized_shape)
    if input.shape[input.ndim - len(shape):] != shape:
        raise ShapeError(f"layer_norm: normalized_shape {shape} needs an input of shape "
                         f"(*, {', '.join(map(str, shape))}), got {input.shape}; "
                         f"normalized_shape must be the input's last dims")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.shape != shape:
            raise ShapeError(f"layer_norm: {name} has shape {t.shape}, but normalized_shape "
                             f"is {shape}")
    axes = tuple(range(input.ndim - len(shape), input.ndim))
    mean = input.mean(axis=axes, keepdims=True)
    var = input.var(axis=axes, keepdims=True, correction=0)
    normalized = (input - mean) / (var + eps).sqrt()
    if weight is not None:
        normalized = normalized * weight
    if bias is not None:
        normalized = normalized + bias
    return normalized
