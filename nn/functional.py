"""nn.functional: the layers and losses as functions (torch.nn.functional's names).

`linear`, `cross_entropy`, `nll_loss` and the binary cross-entropies are fused kernels,
one graph node each (autodiff/ops/matmul.py, losses.py); so are `conv2d`, `max_pool2d`,
`avg_pool2d`, `unfold` and `fold` (autodiff/ops/conv.py, pool.py); the rest are built
from those and other tensor ops, so they need no derivative of their own (the activations
from `gelu` to `tanhshrink`, and `rrelu`), `gumbel_softmax` (softmax of noisy logits),
`bilinear` (einsum), the normalizations (`rms_norm`, and `local_response_norm` on
avg_pool2d), the dropouts, `embedding`, `embedding_bag` (index_add and gather), `pad`,
`conv1d` and `conv3d` (on conv2d), `conv_transpose2d` (matmul and fold),
`conv_transpose1d` and `conv_transpose3d` (on it), `adaptive_max_pool2d` and
`adaptive_max_pool3d` (argmax and gather), the 1-D and 3-D pools (on the 2-D ones), the
p-norm pools (on the average pools), `pixel_shuffle`,
`pixel_unshuffle` and `channel_shuffle` (reshapes),
`interpolate` (and its deprecated names `upsample…`), `grid_sample` (gathers and
arithmetic), `affine_grid` (matmul), `normalize`, `cosine_similarity`,
`pairwise_distance`, `pdist` (on cdist), the losses `l1_loss`, `smooth_l1_loss`,
`huber_loss`, `kl_div`, `cosine_embedding_loss`, `margin_ranking_loss`,
`triplet_margin_loss`, `gaussian_nll_loss`, `soft_margin_loss`,
`multilabel_soft_margin_loss`, `hinge_embedding_loss`, `poisson_nll_loss`,
`multi_margin_loss`, `multilabel_margin_loss`, `triplet_margin_with_distance_loss`,
`ctc_loss` (the forward recursion in log space, logsumexp and where), and
the options of the fused losses: weights, ignore_index, label smoothing). `max_unpool1d`,
`max_unpool2d` and `max_unpool3d` share one op of their own, `MaxUnpool` (a write at the
indices; its gradient a gather there).
Losses take `reduction="mean" | "sum" | "none"`; class-index targets are int tensors.
The activations and dropouts torch gives `inplace=` take it too (written into the input
by `write_in_place`), and torch's in-place spellings `relu_`, `elu_`, … are here.

>>> import autodiff as ad, nn.functional as F
>>> logits = ad.tensor([[2.0, 0.0, -1.0]], requires_grad=True)
>>> loss = F.cross_entropy(logits, ad.tensor([0]))
>>> round(loss.item(), 4)
0.1698
"""
from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import autodiff as ad
from autodiff.creation import dropout_mask
from autodiff.errors import DimError, DomainError, DtypeError, ShapeError
from autodiff.function import Function
from autodiff.ops import conv, matmul, pool
from autodiff.ops import losses as loss_ops
from autodiff.ops.shape import TensorIndexError
from autodiff.tensor import Tensor

# ---------------------------------------------------------------- layers

def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x Wᵀ + b for x of shape (*, in_features), W (out_features, in_features)."""
    return matmul.linear(input, weight, bias)


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None
             ) -> Tensor:
    """y = x₁ᵀ A x₂ + b for each pair of vectors, one output per slice A[o]:

        y[..., o] = Σ_{i,j} x₁[..., i] · A[o, i, j] · x₂[..., j] + b[o]

    for x₁ (*, in1_features), x₂ (*, in2_features) with the same batch dims *, A
    (out_features, in1_features, in2_features) and b (out_features,). One einsum over the
    batch flattened, so the gradients are einsum's: dL/dA[o] = Σ over the batch of
    dL/dy[..., o] · x₁ x₂ᵀ.

    >>> import autodiff as ad
    >>> bilinear(ad.tensor([[1.0, 2.0]]), ad.tensor([[3.0]]), ad.tensor([[[1.0], [1.0]]]))
    tensor([[9.]])
    """
    op = "bilinear"
    shapes = {"input1": np.shape(input1), "input2": np.shape(input2), "weight": np.shape(weight)}
    if len(shapes["weight"]) != 3:
        raise ShapeError(f"{op}: weight must have shape (out_features, in1_features, "
                         f"in2_features), got {shapes['weight']}")
    for k, name in ((1, "input1"), (2, "input2")):
        if not shapes[name] or shapes[name][-1] != shapes["weight"][k]:
            raise ShapeError(f"{op}: {name} of shape {shapes[name]} must end in "
                             f"in{k}_features = weight.shape[{k}] = {shapes['weight'][k]}, "
                             f"for weight of shape {shapes['weight']}")
    if shapes["input1"][:-1] != shapes["input2"][:-1]:
        raise ShapeError(f"{op}: input1 of shape {shapes['input1']} and input2 of shape "
                         f"{shapes['input2']} must have the same batch dims (all but the "
                         f"last); expand or reshape one of them")
    if bias is not None and np.shape(bias) != shapes["weight"][:1]:
        raise ShapeError(f"{op}: bias must have shape ({shapes['weight'][0]},), one per "
                         f"output feature of weight {shapes['weight']}, got {np.shape(bias)}")
    dtypes = {input1.dtype, input2.dtype, weight.dtype}
    if len(dtypes) > 1:
        raise DtypeError(f"{op}: input1, input2 and weight must share a dtype, got "
                         f"{input1.dtype}, {input2.dtype} and {weight.dtype}; convert them "
                         f"first, e.g. x.to(weight.dtype)")
    batch = shapes["input1"][:-1]
    y = ad.einsum("bi,oij,bj->bo", input1.reshape(-1, shapes["weight"][1]), weight,
                  input2.reshape(-1, shapes["weight"][2])).reshape(*batch, shapes["weight"][0])
    return y if bias is None else y + bias


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(0, x), with relu'(0) = 0. Here and below, inplace=True writes the result into
    the input and returns it (`write_in_place`)."""
    if inplace:
        return write_in_place(input, relu)
    return input.relu()


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x where x > 0, negative_slope · x elsewhere."""
    if inplace:
        return write_in_place(input, leaky_relu, negative_slope)
    return input.leaky_relu(negative_slope)


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
          training: bool = False, inplace: bool = False) -> Tensor:
    """Randomised leaky ReLU (Xu et al., 2015): x where x > 0, a · x elsewhere, where in
    training each element draws its own slope a ~ U(lower, upper) (a new draw on every
    call, from the shared generator), and in eval a = (lower + upper) / 2 (leaky_relu).
    dL/dx = 1 where x > 0, a elsewhere (x = 0 included, as torch's). Note training=False
    by default, as in torch.

    >>> import autodiff as ad
    >>> rrelu(ad.tensor([-3.0, 2.0]), lower=0.1, upper=0.3)      # eval: slope 0.2
    tensor([-0.6,  2. ])
    """
    if lower > upper:
        raise DomainError(f"rrelu: lower ({lower}) should be less than or equal to the "
                          f"upper bound ({upper}): the slopes are drawn from U(lower, upper)")
    if inplace:
        return write_in_place(input, rrelu, lower, upper, training)
    if not training:
        return leaky_relu(input, (lower + upper) / 2)
    slopes = lower + (upper - lower) * ad.rand_like(input)
    return ad.where(input > 0, input, input * slopes)


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


def gumbel_softmax(logits: Tensor, tau: float = 1.0, hard: bool = False,
                   dim: int = -1) -> Tensor:
    """A differentiable sample of the categorical distribution softmax(logits) along
    `dim` (the Gumbel-softmax, or concrete, distribution; Jang et al., 2017, Maddison et
    al., 2017), as torch's:

        gᵢ = −log Eᵢ,  Eᵢ ~ Exp(1)         (Gumbel(0, 1) noise; E = −log U, U ~ U[0, 1))
        y  = softmax((logits + g) / tau)

    Low tau gives nearly one-hot samples, high tau nearly uniform ones. With hard=True
    the value is the one-hot vector of argmax y (the first on a tie) but the gradient is
    y's (straight-through): y_hard − y.detach() + y. The noise is drawn from the shared
    generator (`ad.manual_seed`), a new draw on every call.

    >>> import autodiff as ad
    >>> _ = ad.manual_seed(0)
    >>> y = gumbel_softmax(ad.zeros(2, 3), tau=0.5, hard=True)
    >>> y.sum(-1).tolist(), sorted(set(y.flatten().tolist()))
    ([1.0, 1.0], [0.0, 1.0])
    """
    exponentials = -ad.rand_like(logits).log()            # −log U ~ Exp(1), never 0
    gumbels = -exponentials.log()
    y_soft = ((logits + gumbels) / tau).softmax(dim)
    if not hard:
        return y_soft
    index = y_soft.argmax(dim, keepdim=True)
    y_hard = ad.zeros_like(logits).scatter(dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft              # value y_hard, gradient y_soft's


# ---------------------------------------------------------------- activations built from ops
# Each is a composite of tensor ops that have their own derivatives, so it needs none of
# its own. At a kink the composite takes torch's subgradient; the comments say how.

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x·Φ(x), Φ the standard normal CDF: Φ(x) = ½(1 + erf(x/√2)) (approximate='none'),
    or Φ(x) ≈ ½(1 + tanh(√(2/π)(x + 0.044715x³))) (approximate='tanh', within 5e-4).

    >>> import autodiff as ad
    >>> gelu(ad.tensor([-1.0, 0.0, 1.0]), approximate="tanh")
    tensor([-0.158808,  0.      ,  0.841192])
    """
    if approximate == "tanh":
        inner = math.sqrt(2 / math.pi) * (input + 0.044715 * input ** 3)
        return 0.5 * input * (1 + inner.tanh())
    if approximate != "none":
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return 0.5 * input * (1 + (input * math.sqrt(0.5)).erf())


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x·σ(x) (also called swish)."""
    if inplace:
        return write_in_place(input, silu)
    return input * input.sigmoid()


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x where x > 0, α(eˣ - 1) elsewhere, written max(0, x) + α(e^min(x, 0) - 1): the
    clamp keeps eˣ from overflowing where it is not used, and its closed interval gives
    torch's elu'(0) = α."""
    if inplace:
        return write_in_place(input, elu, alpha)
    return input.relu() + alpha * (input.clamp(max=0).exp() - 1)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """scale · elu(x, α) with the self-normalising constants of Klambauer et al. (2017):
    α ≈ 1.6733, scale ≈ 1.0507."""
    if inplace:
        return write_in_place(input, selu)
    return SELU_SCALE * elu(input, SELU_ALPHA)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """max(0, x) + min(0, α(e^(x/α) - 1)): an ELU whose slope at 0 is 1 for every α."""
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0 (it divides x)")
    if inplace:
        return write_in_place(input, celu, alpha)
    return input.relu() + alpha * ((input.clamp(max=0) / alpha).exp() - 1)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """(1/β)·log(1 + e^(βx)), a smooth relu; x itself where βx > threshold, where the two
    agree to rounding (e^(βx) is clamped there so that it never overflows).
    softplus'(x) = σ(βx). For βx below about -37 (float64; -17 in float32) 1 + e^(βx)
    rounds to 1, giving 0 where torch's log1p gives e^(βx)."""
    scaled = input * beta
    smooth = (scaled.clamp(max=threshold).exp() + 1).log() / beta
    return ad.where(scaled > threshold, input, smooth)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x·tanh(softplus(x)) (Misra, 2019)."""
    if inplace:
        return write_in_place(input, mish)
    return input * softplus(input).tanh()


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    """x clamped to [min_val, max_val]. The slope is 1 strictly inside and 0 at the bounds,
    as torch's (like relu'(0) = 0), so the clamped value is taken as a constant there."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val {min_val} is larger than max_val {max_val}")
    if inplace:
        return write_in_place(input, hardtanh, min_val, max_val)
    inside = (input > min_val) & (input < max_val)
    return ad.where(inside, input, input.clamp(min_val, max_val).detach())


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(0, x), 6), i.e. hardtanh(x, 0, 6): slope 0 at 0 and at 6."""
    return hardtanh(input, 0.0, 6.0, inplace)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """relu6(x + 3) / 6: 0 up to -3, 1 from 3, the line x/6 + ½ between (slope 0 at ±3)."""
    if inplace:
        return write_in_place(input, hardsigmoid)
    return relu6(input + 3) / 6


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x · hardsigmoid(x) (Howard et al., 2019): the slope is 0 at -3 and 1 at 3, as
    torch's."""
    if inplace:
        return write_in_place(input, hardswish)
    return input * hardsigmoid(input)


def logsigmoid(input: Tensor) -> Tensor:
    """log σ(x) = min(x, 0) - log(1 + e^-|x|), which never overflows. minimum shares the
    gradient ½/½ at a tie and |x|' = 0 at 0, which gives the true slope σ(-0) = ½ there."""
    return ad.minimum(input, 0) - ((-input.abs()).exp() + 1).log()


def softsign(input: Tensor) -> Tensor:
    """x / (1 + |x|)."""
    return input / (input.abs() + 1)


def softmin(input: Tensor, dim: int | None = None) -> Tensor:
    """softmax(-x) along `dim`: exp(-xᵢ) / Σⱼ exp(-xⱼ), the largest weight on the smallest x."""
    return (-input).softmax(dim)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """The gated linear unit (Dauphin et al., 2017): split `input` into halves a and b
    along `dim` and let b gate a,

        y = a ⊙ σ(b)

    so the output is half as long along `dim`.

    >>> import autodiff as ad
    >>> glu(ad.tensor([2.0, 4.0, 0.0, 100.0]))      # [2·σ(0), 4·σ(100)]
    tensor([1., 4.])
    """
    if input.ndim == 0:
        raise ShapeError("glu: the input is 0-d, and a scalar cannot be halved; pass a tensor "
                         "with an even size along `dim`")
    if not -input.ndim <= dim < input.ndim:
        raise DimError(f"glu: dim {dim} is out of range for the input of shape {input.shape} "
                       f"(expected a dim in [{-input.ndim}, {input.ndim - 1}])")
    if input.shape[dim] % 2:
        raise ShapeError(f"glu: the input of shape {input.shape} has odd size "
                         f"{input.shape[dim]} along dim {dim}, which cannot be split into "
                         f"halves; pass a tensor with an even size along `dim`")
    a, b = input.chunk(2, dim)
    return a * b.sigmoid()


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """x where x > 0, a·x elsewhere, with learned slopes a = weight: one for every channel
    (weight of one element) or one per channel (weight (C,), C = input.shape[1]; a 0-d or
    1-d input has one channel). As torch: prelu'(0) = a, and dL/da = Σ x · dL/dy over the
    x <= 0 of its channel.

    >>> import autodiff as ad
    >>> prelu(ad.tensor([[-2.0, 3.0], [-2.0, 3.0]]), ad.tensor([0.5, 0.1]))
    tensor([[-1.,  3.],
            [-1.,  3.]])
    """
    if weight.ndim > 1:
        raise ShapeError(f"prelu: weight must be 0-d or 1-d (one slope, or one per channel), "
                         f"got shape {weight.shape}")
    channels = input.shape[1] if input.ndim >= 2 else 1
    if weight.numel() not in (1, channels):
        raise ShapeError(f"prelu: weight holds {weight.numel()} slopes, but the input of "
                         f"shape {input.shape} has {channels} channels (dim 1; a 0-d or "
                         f"1-d input has one); pass 1 slope or {channels}")
    if weight.numel() == 1:
        slope = weight.reshape(())
    else:
        slope = weight.reshape((channels,) + (1,) * (input.ndim - 2))   # along dim 1
    return ad.where(input > 0, input, slope * input)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """x where x > threshold, `value` elsewhere; the slope is 1 above threshold and 0 at
    or below it, as torch's.

    >>> import autodiff as ad
    >>> threshold(ad.tensor([0.5, 1.0, 2.0]), 1.0, -5.0)
    tensor([-5., -5.,  2.])
    """
    if inplace:
        return write_in_place(input, _threshold, threshold, value)
    return _threshold(input, threshold, value)


def _threshold(input: Tensor, threshold: float, value: float) -> Tensor:
    return ad.where(input > threshold, input, value)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x where |x| > λ, 0 elsewhere (slope 0 at |x| = λ, as torch's).

    >>> import autodiff as ad
    >>> hardshrink(ad.tensor([-1.0, 0.25, 0.75]))
    tensor([-1.  ,  0.  ,  0.75])
    """
    return ad.where(input.abs() > lambd, input, 0)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x − λ where x > λ, x + λ where x < −λ, 0 between: x moved towards 0 by λ >= 0
    (slope 0 at ±λ, as torch's).

    >>> import autodiff as ad
    >>> softshrink(ad.tensor([-1.0, 0.25, 0.75]))
    tensor([-0.5 ,  0.  ,  0.25])
    """
    if not lambd >= 0:
        raise DomainError(f"softshrink: lambd must be >= 0 (how far x moves towards 0), got "
                          f"{lambd}")
    return ad.where(input > lambd, input - lambd, ad.where(input < -lambd, input + lambd, 0))


def tanhshrink(input: Tensor) -> Tensor:
    """x − tanh(x);  the slope is tanh²(x)."""
    return input - input.tanh()


# torch's in-place spellings: the function with inplace=True, which writes the result
# into the input and returns it

def relu_(input: Tensor) -> Tensor:
    """relu(input), written into the input."""
    return relu(input, inplace=True)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """leaky_relu(input, negative_slope), written into the input."""
    return leaky_relu(input, negative_slope, inplace=True)


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
           training: bool = False) -> Tensor:
    """rrelu(input, lower, upper, training), written into the input."""
    return rrelu(input, lower, upper, training, inplace=True)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """elu(input, alpha), written into the input."""
    return elu(input, alpha, inplace=True)


def selu_(input: Tensor) -> Tensor:
    """selu(input), written into the input."""
    return selu(input, inplace=True)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """celu(input, alpha), written into the input."""
    return celu(input, alpha, inplace=True)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """hardtanh(input, min_val, max_val), written into the input."""
    return hardtanh(input, min_val, max_val, inplace=True)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """threshold(input, threshold, value), written into the input."""
    return write_in_place(input, _threshold, threshold, value)


def dropout(input: Tensor, p: float = 0.5, training: bool = True,
            inplace: bool = False) -> Tensor:
    """Inverted dropout: in training each element is zeroed with probability p and the
    survivors are scaled by 1 / (1 - p), so the expected value is unchanged and
    evaluation needs no rescaling. A new mask is drawn on every call (from the shared
    generator, see `ad.manual_seed`). With training=False the input is returned as is.
    inplace=True writes the result into the input when anything is dropped (in training
    with p > 0; otherwise the input comes back untouched, as torch's); so do the other
    dropouts.

    >>> import autodiff as ad
    >>> _ = ad.manual_seed(0)
    >>> dropout(ad.ones(8), p=0.5)
    tensor([2., 0., 0., 0., 2., 2., 2., 2.])
    """
    check_probability("dropout", p)
    return _drop(input, p, training, inplace, input.shape)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Channel dropout for sequences (N, C, L) or (C, L): in training each whole channel
    of each sample is zeroed with probability p (one mask value per (n, c), broadcast
    along L) and the survivors are scaled by 1 / (1 - p).

    >>> import autodiff as ad
    >>> _ = ad.manual_seed(0)
    >>> dropout1d(ad.ones(3, 2), p=0.5)
    tensor([[2., 2.],
            [0., 0.],
            [0., 0.]])
    """
    check_probability("dropout1d", p)
    if input.ndim not in (2, 3):
        raise ShapeError(f"dropout1d: expected a 3-D input (N, C, L) or a 2-D one (C, L), "
                         f"got shape {input.shape}; for images use dropout2d")
    return _drop(input, p, training, inplace, input.shape[:-1] + (1,))


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
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
    return _drop(input, p, training, inplace, input.shape[:2] + (1, 1))


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Channel dropout for volumes (N, C, D, H, W) or (C, D, H, W): in training each whole
    channel of each sample is zeroed with probability p (one mask value per (n, c),
    broadcast over D × H × W) and the survivors are scaled by 1 / (1 - p).

    >>> import autodiff as ad
    >>> _ = ad.manual_seed(0)
    >>> dropout3d(ad.ones(3, 1, 1, 2), p=0.5)
    tensor([[[[2., 2.]]],
    <BLANKLINE>
    <BLANKLINE>
            [[[0., 0.]]],
    <BLANKLINE>
    <BLANKLINE>
            [[[0., 0.]]]])
    """
    check_probability("dropout3d", p)
    if input.ndim not in (4, 5):
        raise ShapeError(f"dropout3d: expected a 5-D input (N, C, D, H, W) or a 4-D one "
                         f"(C, D, H, W), got shape {input.shape}; for images use dropout2d")
    return _drop(input, p, training, inplace, input.shape[:-3] + (1, 1, 1))


def _drop(input: Tensor, p: float, training: bool, inplace: bool,
          mask_shape: tuple[int, ...]) -> Tensor:
    """input · mask, the mask of `mask_shape` (broadcast over the input), written into the
    input when inplace is True; the input itself when nothing is dropped."""
    if not training or p == 0:
        return input
    if inplace:
        return write_in_place(input, _drop, p, training, False, mask_shape)
    return input * dropout_mask(mask_shape, p, input.dtype)


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                  inplace: bool = False) -> Tensor:
    """Dropout for self-normalising networks (SELU; Klambauer et al., 2017): in training
    each element is set with probability p to α' = −λα ≈ −1.7581, the value selu tends to
    as x → −∞, and the result is moved and scaled back to the input's mean and variance
    (for inputs of mean 0 and variance 1):

        y = a · (x if kept else α') + b,   a = ((1 − p)(1 + p α'²))^(−½),  b = −a α' p

    so dL/dx = a on the kept elements, 0 on the dropped ones; p = 1 gives zeros. Note
    training=False by default, as in torch.

    >>> import autodiff as ad
    >>> _ = ad.manual_seed(0)
    >>> alpha_dropout(ad.zeros(4), p=0.5, training=True).numpy().round(4)    # b, or a α' + b
    array([ 0.7792, -0.7792, -0.7792, -0.7792], dtype=float32)
    """
    check_probability("alpha_dropout", p)
    return _alpha_drop(input, p, training, inplace, input.shape)


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                          inplace: bool = False) -> Tensor:
    """alpha_dropout by whole channels: in training each channel of each sample (one mask
    value per (n, c), the first two dims, broadcast over the rest) is set with
    probability p to α' ≈ −1.7581, then y = a · (x or α') + b as in alpha_dropout.
    training=False by default, as in torch.

    >>> import autodiff as ad
    >>> _ = ad.manual_seed(0)
    >>> y = feature_alpha_dropout(ad.zeros(1, 3, 2), p=0.5, training=True)
    >>> y.numpy().round(4)                 # b where kept, a α' + b where dropped
    array([[[ 0.7792,  0.7792],
            [-0.7792, -0.7792],
            [-0.7792, -0.7792]]], dtype=float32)
    """
    check_probability("feature_alpha_dropout", p)
    if input.ndim < 2:
        raise ShapeError(f"feature_alpha_dropout: drops whole channels, the first two dims "
                         f"(N, C, *), so the input needs at least 2 dims, got shape "
                         f"{input.shape}; use alpha_dropout for single elements")
    return _alpha_drop(input, p, training, inplace,
                       input.shape[:2] + (1,) * (input.ndim - 2))


def _alpha_drop(input: Tensor, p: float, training: bool, inplace: bool,
                mask_shape: tuple[int, ...]) -> Tensor:
    """alpha dropout with a mask of `mask_shape` (broadcast over the input), written into
    the input when inplace is True; the input itself when nothing is dropped."""
    if not training or p == 0:
        return input
    if inplace:
        return write_in_place(input, _alpha_drop, p, True, False, mask_shape)
    if p == 1:
        return input * 0
    dropped = -SELU_SCALE * SELU_ALPHA
    a = ((1 - p) * (1 + p * dropped ** 2)) ** -0.5
    b = -a * dropped * p
    kept = dropout_mask(mask_shape, p, input.dtype) != 0
    return a * ad.where(kept, input, dropped) + b


def write_in_place(input: Tensor, function: Callable[..., Tensor], *args: Any) -> Tensor:
    """function(input, *args) written into `input` itself, which is returned: what torch's
    layers do with inplace=True. The result is computed from a copy of the input, so
    autograd records an in-place change of the input (refused, as in torch, for a leaf
    that requires grad), and backward gives the gradients of function(input).

    >>> import autodiff as ad
    >>> x = ad.tensor([-1.0, 2.0])
    >>> write_in_place(x, relu) is x, x
    (True, tensor([0., 2.]))
    """
    return input.copy_(function(input.clone(), *args))


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
    An empty batch (no values per channel) in training has no statistics: the output is
    empty, the running estimates stay as they are and weight and bias get zero gradients,
    as torch.
    """
    channels = _channels("batch_norm", input, running_mean, running_var, weight, bias)
    axes = (0,) + tuple(range(2, input.ndim))          # every dim but the channels
    per_channel = (channels,) + (1,) * (input.ndim - 2)  # broadcasts along dim 1
    if training and input.numel() == 0:
        normalized = input.clone()                     # nothing to normalise
    elif training:
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


def _channels(op: str, input: Tensor, running_mean: Tensor | None,
              running_var: Tensor | None, weight: Tensor | None, bias: Tensor | None) -> int:
    """The number of channels (dim 1) of a normalization's input (N, C, *), after checking
    that each per-channel tensor given has shape (C,)."""
    if input.ndim < 2:
        raise ShapeError(f"{op}: input must have a batch dim and a channel dim, (N, C, *), "
                         f"got shape {input.shape}")
    channels = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and t.shape != (channels,):
            raise ShapeError(f"{op}: {name} has shape {t.shape}, but the input of shape "
                             f"{input.shape} has {channels} channels (dim 1)")
    return channels


def _update_running(running: Tensor, batch_value: Tensor, momentum: float) -> None:
    """running ← (1 - momentum) · running + momentum · batch_value, in place, by tensor
    ops (so a compiled step replays the update on the running tensor)."""
    with ad.no_grad():
        running *= 1 - momentum
        running += momentum * batch_value.reshape(-1)


def layer_norm(input: Tensor, normalized_shape: int | Sequence[int],
               weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Normalise each sample over its last dims, those of `normalized_shape`:

        y = (x - mean) / √(var + eps) · weight + bias

    mean and var (biased, dividing by n) are taken per sample over those dims, in training
    and evaluation alike; weight and bias have the shape `normalized_shape`
    (`ad.layer_norm`, after checking the shape's form)."""
    return ad.layer_norm(input, normalized_shape_tuple("layer_norm", normalized_shape),
                         weight, bias, eps)


def normalized_shape_tuple(caller: str, normalized_shape: int | Sequence[int]
                           ) -> tuple[int, ...]:
    """normalized_shape as a tuple of sizes: an int n means (n,)."""
    shape = ((normalized_shape,) if isinstance(normalized_shape, (int, np.integer))
             else tuple(normalized_shape))
    if not shape or not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool)
                            and n >= 1 for n in shape):
        raise ValueError(f"{caller}: normalized_shape must be a size >= 1 or a non-empty "
                         f"sequence of them (the input's last dims), got {normalized_shape!r}")
    return tuple(int(n) for n in shape)


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Split the channels (dim 1) into num_groups groups and normalise each sample's
    group over its channels and positions (Wu & He, 2018):

        y = (x - mean) / √(var + eps) · weight + bias

    mean and var (biased) per (sample, group); weight and bias per channel, shape (C,).
    num_groups = 1 normalises each whole sample, num_groups = C each channel."""
    if input.ndim < 2 or num_groups < 1 or input.shape[1] % num_groups:
        raise ShapeError(f"group_norm: the input's channels (dim 1) must split into "
                         f"num_groups={num_groups} equal groups, got input of shape "
                         f"{input.shape}; expected (N, C, *) with C divisible by num_groups")
    _channels("group_norm", input, None, None, weight, bias)
    per_group = math.prod(input.shape[1:]) // num_groups
    grouped = input.reshape(input.shape[0], num_groups, per_group)  # (N, G, C/G · positions)
    mean = grouped.mean(axis=2, keepdims=True)
    var = grouped.var(axis=2, keepdims=True, correction=0)
    normalized = ((grouped - mean) / (var + eps).sqrt()).reshape(input.shape)
    return _scale_and_shift(normalized, weight, bias)


def instance_norm(input: Tensor, running_mean: Tensor | None = None,
                  running_var: Tensor | None = None, weight: Tensor | None = None,
                  bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each sample's channel (input (N, C, *)) over its positions alone:

        y = (x - mean) / √(var + eps) · weight + bias

    mean and var (biased) per (sample, channel); weight and bias per channel, shape (C,).
    Given running estimates, they are updated in place as torch does, with the batch's
    average of the per-instance statistics: running = (1 - momentum) · running +
    momentum · mean over n of (mean, or var unbiased, of instance n). With
    use_input_stats=False the running estimates normalise instead (as batch_norm in eval).
    """
    op = "instance_norm"
    _channels(op, input, running_mean, running_var, weight, bias)
    if input.shape[0] == 0 and (weight is not None or bias is not None):
        raise ShapeError(f"{op}: an empty batch, input of shape {input.shape}, with a weight "
                         f"or bias (affine=True) is refused, as torch refuses it; skip the "
                         f"layer for an empty batch, or use affine=False")
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise DomainError(f"{op}: with use_input_stats=False the running_mean and "
                              f"running_var must be given")
        return batch_norm(input, running_mean, running_var, weight, bias, training=False,
                          eps=eps)
    count = math.prod(input.shape[2:])
    if count <= 1:
        raise ShapeError(f"{op}: needs more than one position per channel to estimate a "
                         f"variance, got input of shape {input.shape}; pass (N, C, L) or "
                         f"(N, C, H, W) with more than one position")
    axes = tuple(range(2, input.ndim))                 # each instance's positions
    mean = input.mean(axis=axes, keepdims=True)
    var = input.var(axis=axes, keepdims=True, correction=0)
    if running_mean is not None:
        _update_running(running_mean, mean.detach().mean(axis=0), momentum)
    if running_var is not None:
        _update_running(running_var, (var.detach() * (count / (count - 1))).mean(axis=0),
                        momentum)
    return _scale_and_shift((input - mean) / (var + eps).sqrt(), weight, bias)


def rms_norm(input: Tensor, normalized_shape: int | Sequence[int],
             weight: Tensor | None = None, eps: float | None = None) -> Tensor:
    """Scale each sample by the root mean square over its last dims, those of
    `normalized_shape` (Zhang & Sennrich, 2019): layer_norm without the mean,

        y = x / √(mean(x²) + eps) · weight

    eps=None takes the machine epsilon of the input's dtype, as torch; weight has the
    shape normalized_shape.

    >>> import autodiff as ad
    >>> rms_norm(ad.tensor([[3.0, -4.0]]), (2,), eps=0.0).numpy().round(4)   # ÷ √12.5
    array([[ 0.8485, -1.1314]], dtype=float32)
    """
    op = "rms_norm"
    shape = normalized_shape_tuple(op, normalized_shape)
    if input.shape[input.ndim - len(shape):] != shape:
        raise ShapeError(f"{op}: normalized_shape {shape} needs an input of shape "
                         f"(*, {', '.join(map(str, shape))}), got {input.shape}; "
                         f"normalized_shape must be the input's last dims")
    if weight is not None and weight.shape != shape:
        raise ShapeError(f"{op}: weight has shape {weight.shape}, but normalized_shape is "
                         f"{shape}; pass a weight of that shape")
    if input.dtype.kind != "f":
        raise DtypeError(f"{op}: the input must be floating point, got {input.dtype}; "
                         f"convert it first, e.g. x.float()")
    if eps is None:
        eps = float(np.finfo(input.dtype).eps)
    axes = tuple(range(input.ndim - len(shape), input.ndim))
    normalized = input * ((input * input).mean(axis=axes, keepdims=True) + eps).rsqrt()
    return normalized if weight is None else normalized * weight


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75,
                        k: float = 1.0) -> Tensor:
    """Divide each value by the activity of the `size` channels around its own (dim 1) at
    the same position (Krizhevsky et al., 2012):

        y_c = x_c / (k + α/size · Σ_{c'} x_{c'}²)^β,   c' from c − ⌊size/2⌋ to c + ⌊(size−1)/2⌋

    (channels past the ends count as 0). As torch: the squares, zero-padded along the
    channels, averaged by avg_pool2d over windows (size, 1), for an input (N, C, *).

    >>> import autodiff as ad
    >>> local_response_norm(ad.tensor([[[1.0], [3.0]]]), 2, alpha=1.0, beta=1.0, k=0.0)
    tensor([[[2. ],
             [0.6]]])
    """
    if input.ndim < 3:
        raise ShapeError(f"local_response_norm: expected an input (N, C, *) of 3 or more "
                         f"dims, got shape {input.shape}")
    squares = (input * input).reshape(input.shape[0], 1, input.shape[1],
                                      math.prod(input.shape[2:]))               # (N, 1, C, *)
    padded = pad(squares, (0, 0, size // 2, (size - 1) // 2))
    average = pool.avg_pool2d(padded, (size, 1), 1, caller="local_response_norm")
    return input / (average.reshape(input.shape) * alpha + k) ** beta


def _scale_and_shift(normalized: Tensor, weight: Tensor | None, bias: Tensor | None
                     ) -> Tensor:
    """normalized · weight + bias, weight and bias (C,) broadcast along dim 1 of (N, C, *)."""
    per_channel = (normalized.shape[1],) + (1,) * (normalized.ndim - 2)
    if weight is not None:
        normalized = normalized * weight.reshape(per_channel)
    if bias is not None:
        normalized = normalized + bias.reshape(per_channel)
    return normalized


# ---------------------------------------------------------------- indices

class CheckedIndices(Function):
    """y = the integer indices x as int64, each checked to lie in [0, size). An op of its
    own so that a compiled function checks every call's indices; discrete, so no
    gradient. `op` names the caller and `counted` what the indices count ("embeddings")."""

    derivative = ()

    differentiable = False

    @staticmethod
    def forward(ctx: Any, x: np.ndarray, size: int, op: str, counted: str) -> np.ndarray:
        indices = x.astype(np.int64)
        if indices.size and (indices.min() < 0 or indices.max() >= size):
            bad = indices.min() if indices.min() < 0 else indices.max()
            raise TensorIndexError(f"{op}: index {bad} is out of range for {size} {counted} "
                                   f"(valid indices are 0 to {size - 1})")
        return indices


def check_index_dtype(op: str, indices: Any) -> None:
    """Indices must be a tensor of integers (any width; they are used as int64)."""
    if not isinstance(indices, Tensor) or indices.dtype.kind not in "iu":
        kind = indices.dtype if isinstance(indices, Tensor) else type(indices).__name__
        raise DtypeError(f"{op}: the indices must be a tensor of integers (int64), got "
                         f"{kind}; convert it, e.g. ad.tensor(data, dtype=ad.int64) or "
                         f"t.long()")


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """weight[input]: the row of `weight` (num_embeddings, embedding_dim) for each index,
    so an input of shape (*) gives (*, embedding_dim). The lookup's gradient adds dL/dy
    into the rows looked up (a row used twice gets both); positions holding padding_idx
    send no gradient to that row.

    >>> import autodiff as ad
    >>> embedding(ad.tensor([[2, 0]]), ad.tensor([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]))
    tensor([[[4., 5.],
             [0., 1.]]])
    """
    check_index_dtype("embedding", input)
    if weight.ndim != 2:
        raise ShapeError(f"embedding: weight must be (num_embeddings, embedding_dim), got "
                         f"shape {weight.shape}")
    indices = CheckedIndices.apply(input, size=weight.shape[0], op="embedding",
                                   counted="embeddings")
    rows = weight[indices]
    if padding_idx is None:
        return rows
    if padding_idx < 0:
        padding_idx += weight.shape[0]
    used = (indices != padding_idx).unsqueeze(-1)
    return ad.where(used, rows, rows.detach())


def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None,
                  max_norm: float | None = None, norm_type: float = 2,
                  scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights: Tensor | None = None, include_last_offset: bool = False,
                  padding_idx: int | None = None) -> Tensor:
    """The sum, mean or maximum of the embedding rows of each bag of indices, one row of
    the output (bags, embedding_dim) per bag. A 2-D input (B, L) is B bags of L indices;
    a 1-D input is cut into bags at `offsets` (bag i runs from offsets[i] to offsets[i + 1],
    the last to the end, or, with include_last_offset, offsets[-1] ends the last bag).
    per_sample_weights (mode="sum" only) scales each index's row; indices equal to
    padding_idx are left out (not counted in the mean; an empty bag gives zeros).

    Built on the lookup of embedding, index_add (a segment sum) and gather (each bag's maximum, the
    first of several that tie, as torch's CPU kernel), so its gradients are theirs.
    max_norm, scale_grad_by_freq=True and sparse=True are refused.

    >>> import autodiff as ad
    >>> w = ad.tensor([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]])
    >>> embedding_bag(ad.tensor([0, 2, 1]), w, ad.tensor([0, 2]), mode="sum")
    tensor([[4., 6.],
            [2., 3.]])
    """
    op = "embedding_bag"
    if max_norm is not None:
        raise NotImplementedError(f"{op}: max_norm is not supported (it renormalizes weight "
                                  f"in place); renormalize the rows yourself, or pass None")
    if scale_grad_by_freq:
        raise NotImplementedError(f"{op}: scale_grad_by_freq=True is not supported; pass "
                                  f"False")
    if sparse:
        raise NotImplementedError(f"{op}: sparse=True is not supported (gradients are "
                                  f"dense); pass False")
    if mode not in ("sum", "mean", "max"):
        raise DomainError(f"{op}: mode must be 'sum', 'mean' or 'max', got {mode!r}")
    check_index_dtype(op, input)
    if weight.ndim != 2:
        raise ShapeError(f"{op}: weight must be (num_embeddings, embedding_dim), got "
                         f"shape {weight.shape}")
    count, dim = weight.shape
    if input.ndim == 2:
        if offsets is not None:
            raise DomainError(f"{op}: offsets must be None for a 2-D input (each row is a "
                              f"bag), got offsets")
        bags, length = input.shape
        starts = np.arange(bags) * length
        flat = input.reshape(-1)
    elif input.ndim == 1:
        if offsets is None:
            raise DomainError(f"{op}: a 1-D input needs offsets (where each bag starts)")
        starts = np.asarray(offsets.numpy() if isinstance(offsets, Tensor) else offsets)
        if starts.ndim != 1 or starts.dtype.kind not in "iu":
            raise DomainError(f"{op}: offsets must be a 1-D tensor of ints, got {offsets!r}")
        if include_last_offset:
            if len(starts) < 1:
                raise DomainError(f"{op}: include_last_offset needs at least one offset")
            starts = starts[:-1]
        if len(starts) and starts[0] != 0:
            raise DomainError(f"{op}: offsets[0] must be 0 (the first bag starts at the "
                              f"first index), got {starts[0]}")
        if np.any(np.diff(starts) < 0) or np.any(starts > input.shape[0]):
            raise DomainError(f"{op}: offsets must be non-decreasing and at most the "
                              f"input's length {input.shape[0]}, got {starts.tolist()}")
        bags = len(starts)
        flat = input
    else:
        raise ShapeError(f"{op}: input must be 1-D (with offsets) or 2-D (B, L), got shape "
                         f"{input.shape}")
    if per_sample_weights is not None:
        if mode != "sum":
            raise NotImplementedError(f"{op}: per_sample_weights is only supported for "
                                      f"mode='sum', got mode={mode!r}")
        if tuple(per_sample_weights.shape) != tuple(input.shape):
            raise ShapeError(f"{op}: per_sample_weights must have the input's shape "
                             f"{input.shape}, got {per_sample_weights.shape}")
        if per_sample_weights.dtype != weight.dtype:
            raise DtypeError(f"{op}: per_sample_weights ({per_sample_weights.dtype}) must "
                             f"have the weight's dtype ({weight.dtype})")
    if padding_idx is not None:
        if not -count <= padding_idx < count:
            raise DomainError(f"{op}: padding_idx {padding_idx} is not a row of the "
                              f"{count} embeddings")
        padding_idx %= count
    positions = flat.shape[0]
    bag = np.searchsorted(starts, np.arange(positions), side="right") - 1
    indices = flat.numpy().astype(np.int64)
    kept = np.ones(positions, bool) if padding_idx is None else indices != padding_idx
    rows = weight[CheckedIndices.apply(flat, size=count, op=op, counted="embeddings")]
    out = ad.zeros(bags, dim, dtype=weight.dtype)
    if mode == "max":
        first = np.zeros((bags, dim), np.int64)
        empty = np.ones(bags, bool)
        values = rows.numpy()
        for b in range(bags):
            inside = np.flatnonzero((bag == b) & kept)
            if len(inside):
                first[b] = inside[values[inside].argmax(axis=0)]
                empty[b] = False
        if empty.all():
            return out + 0 * weight[:1].sum()
        maxima = rows.gather(0, ad.tensor(first))
        return ad.where(ad.tensor(empty[:, None]), out, maxima)
    scale = ad.tensor(kept.astype(weight.dtype))
    if per_sample_weights is not None:
        scale = scale * per_sample_weights.reshape(-1)
    out = out.index_add(0, ad.tensor(bag), rows * scale.unsqueeze(1))
    if mode == "mean":
        sizes = np.bincount(bag[kept], minlength=bags).astype(weight.dtype)
        out = out / ad.tensor(np.maximum(sizes, 1)[:, None])
    return out


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 of shape (*, num_classes): 1 at each index's class, 0 elsewhere. With
    num_classes=-1 it is the largest index + 1, read from the values (so a compiled
    function runs eagerly: pass num_classes to keep it compiled).

    >>> import autodiff as ad
    >>> one_hot(ad.tensor([0, 2]), num_classes=3)
    tensor([[1, 0, 0],
            [0, 0, 1]])
    """
    check_index_dtype("one_hot", tensor)
    if num_classes == -1:
        if tensor.numel() == 0:
            raise ShapeError("one_hot: cannot infer num_classes from an empty tensor; "
                             "pass num_classes")
        num_classes = int(tensor.max().item()) + 1
    indices = CheckedIndices.apply(tensor, size=num_classes, op="one_hot", counted="classes")
    return (indices.unsqueeze(-1) == ad.arange(num_classes)).long()


# ---------------------------------------------------------------- padding and distances

PAD_MODES = ("constant", "reflect", "replicate", "circular")


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant",
        value: float | None = None) -> Tensor:
    """Pad the last dims: pad = (left, right) for the last dim, then (top, bottom) for the
    one before, and so on backwards; a negative amount crops instead.

    mode='constant' fills with `value` (default 0), in any number of dims; its gradient is
    dL/dy with the padding cut off. The other modes fill with the input's own values and
    pad the last 1, 2 or 3 dims (pad of length 2, 4 or 6) of an input with one or two
    more dims in front ((C, W) or (N, C, W) for length 2, and so on), as torch does.
    Output position i along a dim of size n (i < 0 or i >= n in the padding) reads

        'reflect':   the mirror image about the edge, the edge not repeated: x[-i] left,
                     x[2(n − 1) − i] right (each amount < n);
        'replicate': the edge: x[clamp(i, 0, n − 1)];
        'circular':  the other end: x[i mod n] (each amount <= n; crops are made first).

    Each is one gather per dim, y = x[..., index, ...], so its gradient adds dL/dy back
    onto the element each position read (an element read twice gets both).

    >>> import autodiff as ad
    >>> pad(ad.tensor([[1.0, 2.0]]), (1, 0, 0, 1))
    tensor([[0., 1., 2.],
            [0., 0., 0.]])
    >>> pad(ad.tensor([[[1.0, 2.0, 3.0]]]), (2, 1), mode="reflect")
    tensor([[[3., 2., 1., 2., 3., 2.]]])
    """
    if mode not in PAD_MODES:
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or "
                         f"'circular', got {mode!r}")
    if len(pad) % 2 or len(pad) > 2 * input.ndim:
        raise ValueError(f"pad: pad must hold a (before, after) pair per padded dim, at most "
                         f"{input.ndim} pairs for an input of shape {input.shape}, got {pad}")
    if mode != "constant":
        return _pad_with_input(input, tuple(pad), mode, value)
    fill = 0 if value is None else value
    out = input
    for pair in range(len(pad) // 2):
        dim = input.ndim - 1 - pair
        before, after = pad[2 * pair], pad[2 * pair + 1]
        size = out.shape[dim]
        if max(-before, 0) + max(-after, 0) > size:
            raise ShapeError(f"pad: cannot crop ({before}, {after}) from dim {dim} of size "
                             f"{size} (input shape {input.shape})")
        out = out[(slice(None),) * dim + (slice(max(-before, 0), size - max(-after, 0)),)]
        left, right = out.shape[:dim], out.shape[dim + 1:]
        blocks = [ad.full(left + (max(n, 0),) + right, fill, dtype=out.dtype)
                  for n in (before, after)]
        out = ad.cat([blocks[0], out, blocks[1]], dim=dim)
    return out


def _pad_with_input(input: Tensor, pad: tuple[int, ...], mode: str,
                    value: float | None) -> Tensor:
    """pad's 'reflect', 'replicate' and 'circular': one index_select per padded dim."""
    if value is not None and value != 0:
        raise ValueError(f"pad: mode={mode!r} fills with the input's own values and takes no "
                         f"value, got value={value}; leave value out, or use mode='constant'")
    pairs = len(pad) // 2
    if pairs not in (1, 2, 3) or input.ndim not in (pairs + 1, pairs + 2):
        raise ShapeError(f"pad: mode={mode!r} pads the last 1, 2 or 3 dims of an input with 1 "
                         f"or 2 more dims (channels, or batch and channels): a pad of length 2 "
                         f"for a 2-D or 3-D input, 4 for 3-D or 4-D, 6 for 4-D or 5-D; got pad "
                         f"{pad} (length {len(pad)}) for an input of shape {input.shape}")
    out = input
    for pair in range(pairs):
        dim = input.ndim - 1 - pair
        index = _pad_index(mode, pad[2 * pair], pad[2 * pair + 1], dim, input.shape)
        out = ad.index_select(out, dim, index)
    return out


def _pad_index(mode: str, before: int, after: int, dim: int,
               shape: tuple[int, ...]) -> np.ndarray:
    """Which element of the input's dim `dim` each output position reads (see pad)."""
    size = shape[dim]
    where = f"dim {dim} of size {size} (input shape {shape})"
    if size + before + after < 1:
        raise ShapeError(f"pad: padding ({before}, {after}) leaves nothing of {where}; the "
                         f"padded dim needs at least one element")
    if mode == "circular":             # crop first, then wrap around what is left
        start, kept = max(-before, 0), size - max(-before, 0) - max(-after, 0)
        if max(before, after) > kept:
            raise ShapeError(f"pad: circular padding ({before}, {after}) of {where} wraps "
                             f"around more than once; each amount must be at most {kept}, "
                             f"the dim's size after any cropping")
        return start + np.arange(-max(before, 0), kept + max(after, 0)) % kept
    position = np.arange(-before, size + after)
    if mode == "replicate":
        return position.clip(0, size - 1)
    if before >= size or after >= size:
        raise ShapeError(f"pad: reflect padding ({before}, {after}) of {where} must be less "
                         f"than the dim's size {size} (the edge is not repeated, so only "
                         f"{size - 1} values lie beyond it); pad less, or use mode='replicate' "
                         f"or 'circular'")
    return np.where(position < 0, -position,
                    np.where(position >= size, 2 * (size - 1) - position, position))


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """v / max(‖v‖_p, eps) for each vector v along `dim`: unit vectors (zero stays zero)."""
    return input / input.norm(p, dim, keepdim=True).clamp(min=eps)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """Σ (x1 / max(‖x1‖, eps)) · (x2 / max(‖x2‖, eps)) along `dim`: the cosine of the
    angle between the vectors, in [-1, 1]. x1 and x2 broadcast to a common shape first."""
    try:
        shape = np.broadcast_shapes(x1.shape, x2.shape)
    except ValueError:
        raise ShapeError(f"cosine_similarity: shapes {x1.shape} and {x2.shape} do not "
                         f"broadcast to a common shape") from None
    x1, x2 = x1.expand(*shape), x2.expand(*shape)
    unit1 = x1 / x1.norm(2, dim, keepdim=True).clamp(min=eps)
    unit2 = x2 / x2.norm(2, dim, keepdim=True).clamp(min=eps)
    return (unit1 * unit2).sum(dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """The p-norm distance between the vectors along the last dim, as torch computes it:

        d = ‖x1 - x2 + eps‖_p

    (eps keeps the norm's gradient finite where x1 = x2). x1 and x2 broadcast to a common
    shape; the last dim is reduced (kept with size 1 when keepdim=True).

    >>> import autodiff as ad
    >>> pairwise_distance(ad.tensor([[3.0, 0.0]]), ad.tensor([[0.0, 4.0]]), eps=0.0)
    tensor([5.])
    """
    try:
        np.broadcast_shapes(x1.shape, x2.shape)
    except ValueError:
        raise ShapeError(f"pairwise_distance: shapes {x1.shape} and {x2.shape} do not "
                         f"broadcast to a common shape; pass vectors along the last dim "
                         f"with matching (or size-1) batch dims") from None
    dim = max(x1.ndim, x2.ndim) - 1
    return (x1 - x2 + eps).norm(p, dim, keepdim)


def pdist(input: Tensor, p: float = 2.0) -> Tensor:
    """The p-norm distance between every pair of rows i < j of `input` (N, M), in the
    order (0, 1), (0, 2), …, (1, 2), …: shape (N(N − 1)/2,), the upper triangle of
    cdist(input, input, p) read row by row, with its gradient: 0 where two rows are equal,
    and for p = inf shared among tied largest differences (torch gives each the whole).

    >>> import autodiff as ad
    >>> pdist(ad.tensor([[0.0, 0.0], [3.0, 4.0], [0.0, 1.0]]))
    tensor([5.       , 1.       , 4.2426405])
    """
    if input.ndim != 2:
        raise ShapeError(f"pdist: expected a 2-D input (N, M), N rows of M features, got "
                         f"shape {input.shape}")
    if not p >= 0:
        raise DomainError(f"pdist: p must be >= 0, got {p}")
    rows, columns = np.triu_indices(input.shape[0], 1)
    return ad.cdist(input, input, p)[rows, columns]


# ---------------------------------------------------------------- images (N, C, H, W)

def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None,
           stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] | str = 0,
           dilation: int | tuple[int, int] = 1, groups: int = 1) -> Tensor:
    """2-D convolution of input (N, C, H, W) with weight (O, C/groups, kh, kw) and bias
    (O,) as one node; padding is an int, a pair, "valid" or "same". See nn.Conv2d."""
    return conv.conv2d(input, weight, bias, stride, padding, dilation, groups)


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None,
           stride: int | tuple[int] = 1, padding: int | tuple[int] | str = 0,
           dilation: int | tuple[int] = 1, groups: int = 1, *,
           caller: object = "conv1d") -> Tensor:
    """1-D convolution (torch.nn.functional.conv1d) of input (N, C, L) with weight
    (O, C/groups, k) and bias (O,), cross-correlation as torch:

        y[n, o, p] = b[o] + Σ_{c,i} W[o, c, i] · x̃[n, c, p·s + i·d]

    over the zero-padded input x̃; padding is an int, a 1-tuple, "valid" or "same". A
    composite on conv2d: the sequence is an image of height 1 (x.unsqueeze(2)) and the
    kernel a (1, k) filter, and the height is squeezed away again; so the gradients are
    conv2d's. Output length ⌊(L + 2·padding − d·(k − 1) − 1) / s⌋ + 1. `caller` is what
    error messages name (nn.Conv1d passes itself).

    >>> import autodiff as ad
    >>> conv1d(ad.tensor([[[1.0, 2.0, 4.0, 8.0]]]), ad.tensor([[[-1.0, 1.0]]]))  # differences
    tensor([[[1., 2., 4.]]])
    """
    shape = np.shape(input)
    kernel, stride_, padding_, dilation_ = _conv_arguments(caller, input, weight, bias, stride,
                                                           padding, dilation, groups, dims=1)
    span = dilation_[0] * (kernel[0] - 1) + 1
    padded = shape[2] + sum(padding_[0])
    if span > padded:
        dilated = f" (dilated to {span})" if span != kernel[0] else ""
        raise ShapeError(f"{caller}: the kernel {kernel}{dilated} is longer than the input "
                         f"length {shape[2]} padded by {padding_[0]} to {padded}, for input "
                         f"of shape {shape}; use a smaller kernel_size or dilation, more "
                         f"padding, or a longer input")
    y = conv.Conv2d.apply(input.unsqueeze(2), weight.unsqueeze(2), bias,
                          stride=(1,) + stride_, padding=((0, 0),) + padding_,
                          dilation=(1,) + dilation_, groups=int(groups))
    return y.squeeze(2)


def conv3d(input: Tensor, weight: Tensor, bias: Tensor | None = None,
           stride: int | tuple[int, int, int] = 1,
           padding: int | tuple[int, int, int] | str = 0,
           dilation: int | tuple[int, int, int] = 1, groups: int = 1, *,
           caller: object = "conv3d") -> Tensor:
    """3-D convolution (torch.nn.functional.conv3d) of input (N, C, D, H, W) with weight
    (O, C/groups, kd, kh, kw) and bias (O,), cross-correlation as torch:

        y[n, o, r, p, q] = b[o] + Σ_{c,t,i,j} W[o, c, t, i, j]
                                   · x̃[n, c, r·sd + t·dd, p·sh + i·dh, q·sw + j·dw]

    over the zero-padded input x̃; padding is an int, a 3-tuple, "valid" or "same".

    A composite on conv2d, the depth taps made channels: tap t reads the depth planes
    x̃[:, :, t·dd + r·sd] (r < D_out), so the kd slices stacked beside the channels give
    a batch of N·D_out images of C·kd channels (channel c·kd + t), and one conv2d with the
    weight seen as (O, C/groups·kd, kh, kw) (the same channel order, so groups still
    split them) sums over c, t, i and j at once. The gradients are conv2d's, stack's and
    slicing's. Output D_out = ⌊(D + 2·pd − dd·(kd − 1) − 1) / sd⌋ + 1, H_out and W_out
    likewise. `caller` is what error messages name (nn.Conv3d passes itself).

    >>> import autodiff as ad
    >>> x = ad.arange(8, dtype=ad.float32).reshape(1, 1, 2, 2, 2)
    >>> conv3d(x, ad.ones(1, 1, 2, 1, 1))          # the two depth planes added
    tensor([[[[[ 4.,  6.],
               [ 8., 10.]]]]])
    """
    shape = np.shape(input)
    kernel, stride_, padding_, dilation_ = _conv_arguments(caller, input, weight, bias, stride,
                                                           padding, dilation, groups, dims=3)
    conv.check_windows_fit(caller, shape, kernel, padding_, dilation_)
    n, channels, taps = shape[0], shape[1], kernel[0]
    padded = pad(input, (0, 0, 0, 0) + padding_[0]) if any(padding_[0]) else input
    depth = conv.output_size(shape[2], taps, stride_[0], padding_[0], dilation_[0])
    planes = [padded[:, :, t * dilation_[0]:t * dilation_[0] + stride_[0] * (depth - 1) + 1:
                     stride_[0]] for t in range(taps)]            # each (N, C, D_out, H̃, W)
    images = ad.stack(planes, dim=2).permute(0, 3, 1, 2, 4, 5)   # (N, D_out, C, kd, H̃, W)
    images = images.reshape(n * depth, channels * taps, *images.shape[4:])
    y = conv.Conv2d.apply(images, weight.reshape(weight.shape[0], -1, *kernel[1:]), bias,
                          stride=stride_[1:], padding=padding_[1:], dilation=dilation_[1:],
                          groups=int(groups))                     # (N·D_out, O, H_out, W_out)
    return y.reshape(n, depth, *y.shape[1:]).permute(0, 2, 1, 3, 4)


def _conv_arguments(caller: object, input: Tensor, weight: Tensor, bias: Tensor | None,
                    stride: Any, padding: Any, dilation: Any, groups: int, dims: int
                    ) -> tuple[tuple[int, ...], tuple[int, ...], tuple[tuple[int, int], ...],
                               tuple[int, ...]]:
    """conv1d's and conv3d's arguments, checked for `dims` spatial dims: the input
    (N, C, *spatial), the weight (O, C/groups, *kernel), the bias; returned: the kernel,
    the stride, the padding as a (before, after) pair per dim, the dilation."""
    shape, w_shape = np.shape(input), np.shape(weight)
    check_input_rank(caller, shape, dims)
    if len(w_shape) != dims + 2:
        kernel_dims = "kernel_size" if dims == 1 else "kd, kh, kw"
        raise ShapeError(f"{caller}: weight must have shape (out_channels, in_channels / "
                         f"groups, {kernel_dims}), got {w_shape}")
    _check_conv_channels(caller, shape, w_shape, bias, groups, transposed=False)
    kernel = w_shape[2:]
    stride_ = conv_tuple(caller, "stride", stride, 1, dims)
    dilation_ = conv_tuple(caller, "dilation", dilation, 1, dims)
    return kernel, stride_, conv_padding(caller, padding, kernel, stride_, dilation_), dilation_


def check_input_rank(caller: object, shape: tuple[int, ...], dims: int) -> None:
    """A convolution's input must be (N, C, *spatial) with `dims` spatial dims."""
    if len(shape) != dims + 2:
        names = SPATIAL_DIMS[dims]
        fix = ("add a batch dim with x.unsqueeze(0)" if len(shape) == dims + 1
               else f"reshape it to (batch, channels, {', '.join(names)})")
        letters = ", ".join(name[0].upper() for name in names)
        raise ShapeError(f"{caller}: expected a {dims + 2}-D input (N, C, {letters}), got "
                         f"shape {shape}; {fix}")


SPATIAL_DIMS = {1: ("length",), 2: ("height", "width"), 3: ("depth", "height", "width")}
"""The names of the spatial dims of a convolution's input, by their number."""


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None,
                     stride: int | tuple[int] = 1, padding: int | tuple[int] = 0,
                     output_padding: int | tuple[int] = 0, groups: int = 1,
                     dilation: int | tuple[int] = 1, *,
                     caller: object = "conv_transpose1d") -> Tensor:
    """Transposed 1-D convolution (torch.nn.functional.conv_transpose1d) of input
    (N, C_in, L) with weight (C_in, C_out/groups, k) and bias (C_out,), the adjoint of
    conv1d with respect to its input: each input element spreads its value, weighted by
    the kernel, over the output,

        ỹ[n, o, p·s + i·d] += Σ_c x[n, c, p] · W[c, o, i]

    (c over o's group), and y = ỹ with `padding` cut from each end (less output_padding
    at the right end) plus b[o]. A composite on conv_transpose2d, as conv1d is on conv2d:
    the sequence is an image of height 1 and the kernel a (1, k) filter, so the gradients
    are conv_transpose2d's. Output L_out = (L − 1)·s − 2·padding + d·(k − 1) +
    output_padding + 1. `caller` is what error messages name (nn.ConvTranspose1d passes
    itself).

    >>> import autodiff as ad
    >>> conv_transpose1d(ad.tensor([[[1.0, 2.0]]]), ad.tensor([[[1.0, 10.0]]]), stride=2)
    tensor([[[ 1., 10.,  2., 20.]]])
    """
    shape, w_shape = np.shape(input), np.shape(weight)
    check_input_rank(caller, shape, 1)
    if len(w_shape) != 3:
        raise ShapeError(f"{caller}: weight must have shape (in_channels, out_channels / "
                         f"groups, kernel_size), got {w_shape}")
    out_channels = _check_conv_channels(caller, shape, w_shape, bias, groups, transposed=True)
    stride_, padding_, extra, dilation_, size = _transposed_window(
        caller, shape, w_shape[2:], stride, padding, output_padding, dilation)
    y = _conv_transpose2d(input.unsqueeze(2), weight.unsqueeze(2), bias, (1,) + stride_,
                          (0,) + padding_, (0,) + extra, (1,) + dilation_, int(groups),
                          out_channels, (1,) + size)
    return y.squeeze(2)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None,
                     stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0,
                     output_padding: int | tuple[int, int] = 0, groups: int = 1,
                     dilation: int | tuple[int, int] = 1, *,
                     caller: object = "conv_transpose2d") -> Tensor:
    """Transposed 2-D convolution (torch.nn.functional.conv_transpose2d) of input
    (N, C_in, H, W) with weight (C_in, C_out/groups, kh, kw) and bias (C_out,): the
    adjoint of conv2d with respect to its input (conv2d's backward). Each input pixel
    spreads its value, weighted by the kernel, over the output:

        ỹ[n, o, p·sh + i·dh, q·sw + j·dw] += Σ_c x[n, c, p, q] · W[c, o, i, j]

    (c over o's group), and y = ỹ with `padding` rows and columns cut from each side, less
    `output_padding` at the bottom and right (which only lengthens the output: torch's way
    to pick one of the input sizes a strided conv2d maps to the same output), plus b[o].

    Computed as col2im: per group, the columns Wᵀ · x (one matrix product for the batch,
    (C_out/g·kh·kw, C_in/g) by (C_in/g, H·W)) are folded onto the output (autodiff's fold,
    whose backward is unfold), so the gradients come from matmul and fold, to any order.
    Output H_out = (H − 1)·sh − 2·ph + dh·(kh − 1) + output_padding[0] + 1, W_out likewise.
    `caller` is what error messages name (nn.ConvTranspose2d passes itself).

    >>> import autodiff as ad
    >>> conv_transpose2d(ad.tensor([[[[1.0, 2.0]]]]), ad.ones(1, 1, 1, 2), stride=2)
    tensor([[[[1., 1., 2., 2.]]]])
    """
    shape, w_shape = np.shape(input), np.shape(weight)
    conv.check_image(caller, shape)
    if len(w_shape) != 4:
        raise ShapeError(f"{caller}: weight must have shape (in_channels, out_channels / "
                         f"groups, kh, kw), got {w_shape}")
    out_channels = _check_conv_channels(caller, shape, w_shape, bias, groups, transposed=True)
    window = _transposed_window(caller, shape, w_shape[2:], stride, padding, output_padding,
                                dilation)
    return _conv_transpose2d(input, weight, bias, *window[:4], int(groups), out_channels,
                             window[4])


def conv_transpose3d(input: Tensor, weight: Tensor, bias: Tensor | None = None,
                     stride: int | tuple[int, int, int] = 1,
                     padding: int | tuple[int, int, int] = 0,
                     output_padding: int | tuple[int, int, int] = 0, groups: int = 1,
                     dilation: int | tuple[int, int, int] = 1, *,
                     caller: object = "conv_transpose3d") -> Tensor:
    """Transposed 3-D convolution (torch.nn.functional.conv_transpose3d) of input
    (N, C_in, D, H, W) with weight (C_in, C_out/groups, kd, kh, kw) and bias (C_out,), the
    adjoint of conv3d with respect to its input: each input voxel spreads its value,
    weighted by the kernel, over the output,

        ỹ[n, o, r·sd + t·dd, p·sh + i·dh, q·sw + j·dw] += Σ_c x[n, c, r, p, q] · W[c, o, t, i, j]

    (c over o's group), and y = ỹ with `padding` cut from each side (less output_padding
    at the far end of each dim) plus b[o].

    A composite, conv3d's trick turned around: conv_transpose2d spreads every depth plane
    over (H, W) with the kd depth taps made output channels (the weight seen as
    (C_in, C_out/groups·kd, kh, kw), channel o·kd + t, which keeps the groups' channels
    together), then fold adds tap t of plane r onto depth r·sd + t·dd (the same col2im, with
    a (kd, 1) window). So the gradients are matmul's and fold's, to any order. Output
    D_out = (D − 1)·sd − 2·pd + dd·(kd − 1) + output_padding[0] + 1, H_out and W_out
    likewise. `caller` is what error messages name (nn.ConvTranspose3d passes itself).

    >>> import autodiff as ad
    >>> conv_transpose3d(ad.tensor([[[[[1.0]], [[2.0]]]]]), ad.ones(1, 1, 2, 1, 1), stride=2)
    tensor([[[[[1.]],
    <BLANKLINE>
               [[1.]],
    <BLANKLINE>
               [[2.]],
    <BLANKLINE>
               [[2.]]]]])
    """
    shape, w_shape = np.shape(input), np.shape(weight)
    check_input_rank(caller, shape, 3)
    if len(w_shape) != 5:
        raise ShapeError(f"{caller}: weight must have shape (in_channels, out_channels / "
                         f"groups, kd, kh, kw), got {w_shape}")
    out_channels = _check_conv_channels(caller, shape, w_shape, bias, groups, transposed=True)
    stride_, padding_, extra, dilation_, size = _transposed_window(
        caller, shape, w_shape[2:], stride, padding, output_padding, dilation)
    n, c_in, depth, h, w = shape
    taps = w_shape[2]
    planes = input.permute(0, 2, 1, 3, 4).reshape(n * depth, c_in, h, w)
    spread = _conv_transpose2d(planes, weight.reshape(c_in, -1, *w_shape[3:]), None,
                               stride_[1:], padding_[1:], extra[1:], dilation_[1:],
                               int(groups), out_channels * taps, size[1:])
    out_h, out_w = size[1:]                        # spread: (N·D, C_out·kd, H_out, W_out)
    cols = spread.reshape(n, depth, out_channels, taps, out_h, out_w).permute(0, 2, 4, 5, 3, 1)
    cols = cols.reshape(n, out_channels * out_h * out_w * taps, depth)
    y = _overlap_add(cols, (size[0], 1), (taps, 1), (stride_[0], 1), (padding_[0], 0),
                     (extra[0], 0), (dilation_[0], 1))     # (N, C_out·H_out·W_out, D_out, 1)
    y = y.reshape(n, out_channels, out_h, out_w, size[0]).permute(0, 1, 4, 2, 3)
    if bias is not None:
        y = y + bias.reshape(out_channels, 1, 1, 1)
    return y


def _transposed_window(caller: object, shape: tuple[int, ...], kernel: tuple[int, ...],
                       stride: Any, padding: Any, output_padding: Any, dilation: Any
                       ) -> tuple[tuple[int, ...], ...]:
    """A transposed convolution's stride, padding, output_padding and dilation as one int
    per spatial dim, checked, and the output's spatial size."""
    dims = len(kernel)
    if isinstance(padding, str):
        raise ValueError(f"{caller}: padding must be an int or a {'pair' if dims == 2 else 'tuple'}"
                         f" (a transposed convolution takes no 'same' or 'valid'), got "
                         f"{padding!r}")
    stride_ = conv_tuple(caller, "stride", stride, 1, dims)
    padding_ = conv_tuple(caller, "padding", padding, 0, dims)
    extra = conv_tuple(caller, "output_padding", output_padding, 0, dims)
    dilation_ = conv_tuple(caller, "dilation", dilation, 1, dims)
    if any(e >= max(s, d) for e, s, d in zip(extra, stride_, dilation_)):
        raise ValueError(f"{caller}: output_padding {extra} must be smaller than either the "
                         f"stride {stride_} or the dilation {dilation_} in each dim (larger "
                         f"values would add rows no input pixel reaches)")
    full = tuple((n - 1) * s + d * (k - 1) + 1       # ỹ's size, before cutting the padding
                 for n, s, d, k in zip(shape[2:], stride_, dilation_, kernel))
    size = tuple(f - 2 * p + e for f, p, e in zip(full, padding_, extra))
    if min(size) < 1:
        raise ShapeError(f"{caller}: the output would be {size}: padding {padding_} cuts "
                         f"more than the {full} the input of shape {shape} spreads over "
                         f"with kernel {kernel}, stride {stride_} and dilation {dilation_}; "
                         f"use less padding")
    return stride_, padding_, extra, dilation_, size


def _conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None,
                      stride: tuple[int, ...], padding: tuple[int, ...],
                      extra: tuple[int, ...], dilation: tuple[int, ...], groups: int,
                      out_channels: int, size: tuple[int, ...]) -> Tensor:
    """conv_transpose2d on checked arguments (one int per dim), giving an output of
    spatial `size` (see conv_transpose2d)."""
    n, c_in, h, w = input.shape
    kernel = weight.shape[2:]
    per_group = weight.reshape(groups, c_in // groups, -1).mT     # (g, C_out/g·kh·kw, C_in/g)
    cols = per_group @ input.reshape(n, groups, c_in // groups, h * w)
    cols = cols.reshape(n, out_channels * kernel[0] * kernel[1], h * w)
    y = _overlap_add(cols, size, kernel, stride, padding, extra, dilation)
    if bias is not None:
        y = y + bias.reshape(out_channels, 1, 1)
    return y


def _overlap_add(cols: Tensor, size: tuple[int, ...], kernel: tuple[int, ...],
                 stride: tuple[int, ...], padding: tuple[int, ...], extra: tuple[int, ...],
                 dilation: tuple[int, ...]) -> Tensor:
    """A transposed convolution's last step: the windows' columns `cols` (N, C·kh·kw, L)
    added onto ỹ by fold (col2im), which cuts `padding` from the top and left, and from
    the bottom and right all of it that output_padding (`extra`) does not take back; the
    rows output_padding adds beyond ỹ are zeros. The result is (N, C, *size)."""
    beyond = tuple(max(e - p, 0) for e, p in zip(extra, padding))
    cut = tuple((p, max(p - e, 0)) for p, e in zip(padding, extra))
    y = conv.Fold.apply(cols, output_size=(size[0] - beyond[0], size[1] - beyond[1]),
                        kernel_size=kernel, stride=stride, padding=cut, dilation=dilation)
    if any(beyond):
        y = pad(y, (0, beyond[1], 0, beyond[0]))
    return y


def _check_conv_channels(caller: object, shape: tuple[int, ...], w_shape: tuple[int, ...],
                         bias: Tensor | None, groups: int, transposed: bool) -> int:
    """Check that groups divides the weight's dim 0 and the input's channels fit the
    weight (dim 1 of a conv's weight holds C_in/groups; dim 0 of a transposed conv's
    holds C_in); return the output channels, which the bias must match."""
    if not conv.is_int(groups) or groups < 1:
        raise ValueError(f"{caller}: groups must be an int >= 1, got {groups!r}")
    role = "input" if transposed else "output"
    if w_shape[0] % groups:
        raise ShapeError(f"{caller}: weight of shape {w_shape} has {w_shape[0]} {role} "
                         f"channels (dim 0), which groups={groups} does not divide; use a "
                         f"number of {role} channels divisible by groups")
    expected, rule = ((w_shape[0], "weight.shape[0]") if transposed
                      else (w_shape[1] * groups, "weight.shape[1] × groups"))
    if shape[1] != expected:
        raise ShapeError(f"{caller}: input of shape {shape} has {shape[1]} channels (dim 1), "
                         f"but weight of shape {w_shape} with groups={groups} expects "
                         f"{expected} ({rule}); pass an input with {expected} channels or a "
                         f"weight made for {shape[1]}")
    out_channels = w_shape[1] * groups if transposed else w_shape[0]
    if bias is not None and np.shape(bias) != (out_channels,):
        raise ShapeError(f"{caller}: bias must have shape ({out_channels},), one per output "
                         f"channel of weight {w_shape} with groups={groups}, got "
                         f"{np.shape(bias)}")
    return out_channels


def conv_tuple(caller: object, name: str, value: Any, minimum: int,
               dims: int) -> tuple[int, ...]:
    """A conv argument as `dims` ints, each >= minimum: an int means the same in every
    dim (torch's _single and _pair)."""
    if dims == 2:
        return conv.pair(caller, name, value, minimum)
    values = (value,) * dims if conv.is_int(value) else value
    if not isinstance(values, (tuple, list)) or len(values) != dims \
            or not all(conv.is_int(v) and v >= minimum for v in values):
        raise ValueError(f"{caller}: {name} must be an int >= {minimum} or a tuple of {dims} "
                         f"of them, got {value!r}")
    return tuple(int(v) for v in values)


def conv_padding(caller: object, padding: Any, kernel: tuple[int, ...],
                 stride: tuple[int, ...], dilation: tuple[int, ...]
                 ) -> tuple[tuple[int, int], ...]:
    """A conv's padding as a (before, after) pair per spatial dim: from an int or a tuple
    (the same on both sides), "valid" (none) or "same" (the output as long as the input,
    stride 1 only; an odd total puts the extra one after, as torch)."""
    if isinstance(padding, str) or len(kernel) == 2:
        return conv.conv_padding(caller, padding, kernel, stride, dilation)
    return tuple((p, p) for p in conv_tuple(caller, "padding", padding, 0, len(kernel)))


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
    rows, columns = _adaptive_cells(caller, input, output_size)
    return (_averaging_matrix(*rows, input.dtype) @ input
            @ _averaging_matrix(*columns, input.dtype).T)


def adaptive_max_pool2d(input: Tensor, output_size: int | tuple[int | None, int | None],
                        return_indices: bool = False, *,
                        caller: object = "adaptive_max_pool2d") -> Any:
    """The maximum over each cell of an output_size grid over the input (N, C, H, W):

        y[n, c, p, q] = max x[n, c, h, w]  over  ⌊p·H / oh⌋ <= h < ⌈(p + 1)·H / oh⌉
                                           and  ⌊q·W / ow⌋ <= w < ⌈(q + 1)·W / ow⌉

    (torch's cells; None in output_size keeps a dim). With return_indices also each
    maximum's position h·W + w in the input (int64). The gradient goes to each cell's
    maximum; when several tie, to the first in row-major order (torch's rule).

    A composite: every cell's pixels are gathered into a row of equal length (a cell
    smaller than the largest repeats its last pixel, which leaves its maximum as it is),
    argmax (no gradient) picks the position, and the output gathers the input there, so
    its gradient is the gather's: dL/dy added onto the pixel each output read.
    `caller` is what error messages name (the function, or the layer calling it).

    >>> import autodiff as ad
    >>> x = ad.tensor([[[[1.0, 5.0, 2.0], [4.0, 0.0, 3.0]]]])
    >>> adaptive_max_pool2d(x, (1, 2), return_indices=True)  # columns 0-1 and 1-2
    (tensor([[[[5., 5.]]]]), tensor([[[[1, 1]]]]))
    """
    rows, columns = _adaptive_cells(caller, input, output_size)
    return _adaptive_max(input, (rows, columns), return_indices)


def _adaptive_max(input: Tensor, dims: Sequence[tuple[int, int]], return_indices: bool
                  ) -> Any:
    """The adaptive max pool of input (N, C, *sizes) over the (size, cells) of each
    spatial dim (see adaptive_max_pool2d): every cell's positions, flattened row-major
    (h·W + w, or d·H·W + h·W + w), are gathered into a row of equal length (a cell
    smaller than the largest repeats its last position, which leaves its maximum as it
    is), argmax (no gradient) picks the first maximum, and the output gathers the input
    there, so its gradient is the gather's."""
    sizes = [size for size, _ in dims]
    cells = np.zeros((1,) * (2 * len(dims)), dtype=np.int64)
    for k, (size, count) in enumerate(dims):
        starts, ends = _cell_bounds(size, count)
        # the positions along dim k of each of its cells: (count, longest cell)
        along = np.minimum(starts + np.arange((ends - starts).max()), ends - 1)
        shape = [1] * (2 * len(dims))
        shape[k], shape[len(dims) + k] = along.shape
        cells = cells + along.reshape(shape) * math.prod(sizes[k + 1:])
    counts = cells.shape[:len(dims)]
    cells = cells.reshape(*counts, -1)                 # (*output cells, positions per cell)
    first = input.detach().flatten(2)[:, :, cells].argmax(dim=-1, keepdim=True)
    indices = ad.take_along_dim(ad.tensor(cells[None, None]), first, dim=-1).squeeze(-1)
    n, channels = input.shape[:2]
    values = input.flatten(2).gather(2, indices.reshape(n, channels, math.prod(counts)))
    values = values.reshape(n, channels, *counts)
    return (values, indices) if return_indices else values


def _adaptive_cells(caller: object, input: Tensor, output_size: Any
                    ) -> tuple[tuple[int, int], tuple[int, int]]:
    """An adaptive pool's (input size, cells) for the rows and for the columns, checked."""
    conv.check_image(caller, input.shape)
    sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * 2
    if len(sizes) != 2 or not all(s is None or (conv.is_int(s) and s >= 1) for s in sizes):
        raise ValueError(f"{caller}: output_size must be an int >= 1, or a pair "
                         f"of them (None keeps the input's size), got {output_size!r}")
    height, width = input.shape[2:]
    return (height, sizes[0] or height), (width, sizes[1] or width)


def _cell_bounds(size: int, cells: int) -> tuple[np.ndarray, np.ndarray]:
    """torch's adaptive cells: cell p runs from ⌊p·size / cells⌋ up to (not including)
    ⌈(p + 1)·size / cells⌉; each as a column (cells, 1)."""
    cell = np.arange(cells)[:, None]
    return cell * size // cells, -((-(cell + 1) * size) // cells)


def _averaging_matrix(size: int, cells: int, dtype: np.dtype) -> np.ndarray:
    """A (cells, size) matrix whose row p averages positions ⌊p·size / cells⌋ to
    ⌈(p + 1)·size / cells⌉ − 1."""
    start, end = _cell_bounds(size, cells)
    inside = (np.arange(size) >= start) & (np.arange(size) < end)
    return (inside / (end - start)).astype(dtype)


# ---------------------------------------------------------------- sequences (N, C, L)
# The 1-D pools are the 2-D ones on an image of height 1: x.unsqueeze(2) is (N, C, 1, L),
# the window is (1, k), and the height is squeezed away again; so their gradients are the
# 2-D pools'. An unbatched (C, L) input gets a batch of one, as in torch.

def avg_pool1d(input: Tensor, kernel_size: int | tuple[int], stride: int | tuple[int] | None = None,
               padding: int | tuple[int] = 0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """The mean of each window of the input (N, C, L) or (C, L):

        y[n, c, p] = Σ_i x̃[n, c, p·s + i] / k

    over the zero-padded input x̃ (the padding not counted in k when
    count_include_pad=False); stride s defaults to kernel_size k. On avg_pool2d.

    >>> import autodiff as ad
    >>> avg_pool1d(ad.tensor([[[1.0, 3.0, 5.0, 7.0]]]), 2)
    tensor([[[2., 6.]]])
    """
    op = "avg_pool1d"
    image, unbatched = _sequence_as_image(op, input)
    kernel, stride_, pad, _ = _pool1d_window(op, input.shape, kernel_size, stride, padding, 1)
    y = pool.avg_pool2d(image, (1, kernel), (1, stride_), (0, pad), ceil_mode,
                        count_include_pad, caller=op).squeeze(2)
    return y.squeeze(0) if unbatched else y


def max_pool1d(input: Tensor, kernel_size: int | tuple[int], stride: int | tuple[int] | None = None,
               padding: int | tuple[int] = 0, dilation: int | tuple[int] = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """The maximum of each window of the input (N, C, L) or (C, L):

        y[n, c, p] = max_i x̃[n, c, p·s + i·d]

    over the input padded with -∞; stride s defaults to kernel_size. With return_indices
    also each maximum's position in the input (int64). On max_pool2d.

    >>> import autodiff as ad
    >>> max_pool1d(ad.tensor([[[1.0, 3.0, 5.0, 2.0]]]), 2)
    tensor([[[3., 5.]]])
    """
    op = "max_pool1d"
    image, unbatched = _sequence_as_image(op, input)
    kernel, stride_, pad, dilation_ = _pool1d_window(op, input.shape, kernel_size, stride,
                                                     padding, dilation)
    out = pool.max_pool2d(image, (1, kernel), (1, stride_), (0, pad), (1, dilation_),
                          ceil_mode, return_indices, caller=op)
    # the 2-D positions h·W + w are w here, as h = 0
    outs = out if return_indices else (out,)
    outs = tuple(y.squeeze(2).squeeze(0) if unbatched else y.squeeze(2) for y in outs)
    return outs if return_indices else outs[0]


def adaptive_avg_pool1d(input: Tensor, output_size: int | tuple[int]) -> Tensor:
    """The mean over each of output_size cells of the input (N, C, L) or (C, L), cell p
    running from ⌊p·L / o⌋ to ⌈(p + 1)·L / o⌉ − 1 (torch's cells). On adaptive_avg_pool2d.

    >>> import autodiff as ad
    >>> adaptive_avg_pool1d(ad.tensor([[[1.0, 2.0, 3.0]]]), 2)     # cells 0-1 and 1-2
    tensor([[[1.5, 2.5]]])
    """
    op = "adaptive_avg_pool1d"
    image, unbatched = _sequence_as_image(op, input)
    size = conv_tuple(op, "output_size", output_size, 1, 1)[0]
    y = adaptive_avg_pool2d(image, (1, size), caller=op).squeeze(2)
    return y.squeeze(0) if unbatched else y


def adaptive_max_pool1d(input: Tensor, output_size: int | tuple[int],
                        return_indices: bool = False) -> Any:
    """The maximum over each of output_size cells of the input (N, C, L) or (C, L), cell p
    running from ⌊p·L / o⌋ to ⌈(p + 1)·L / o⌉ − 1 (torch's cells); with return_indices
    also each maximum's position in the input (int64). On adaptive_max_pool2d, whose
    positions h·L + l are l here, as h = 0.

    >>> import autodiff as ad
    >>> adaptive_max_pool1d(ad.tensor([[[1.0, 3.0, 2.0, 0.0]]]), 3)  # cells 0-1, 1-2, 2-3
    tensor([[[3., 3., 2.]]])
    """
    op = "adaptive_max_pool1d"
    image, unbatched = _sequence_as_image(op, input)
    size = conv_tuple(op, "output_size", output_size, 1, 1)[0]
    outs = adaptive_max_pool2d(image, (1, size), return_indices=True, caller=op)
    outs = tuple(y.squeeze(2).squeeze(0) if unbatched else y.squeeze(2) for y in outs)
    return outs if return_indices else outs[0]


def lp_pool1d(input: Tensor, norm_type: float, kernel_size: int,
              stride: int | None = None, ceil_mode: bool = False) -> Tensor:
    """The p-norm of each window of the input (N, C, L) or (C, L), p = norm_type:

        y = (Σ_window xᵖ)^(1/p)

    computed as torch does, (k · avg_pool1d(xᵖ))^(1/p) with k = kernel_size, so with
    ceil_mode a last partial window's mean is scaled by the whole k (no padding).
    p = 1 sums the window; large p tends to max pooling (of |x| for even p).

    >>> import autodiff as ad
    >>> lp_pool1d(ad.tensor([[[3.0, 4.0, 1.0, 0.0]]]), 2, 2)
    tensor([[[5., 1.]]])
    """
    op = "lp_pool1d"
    _check_norm_type(op, norm_type)
    kernel = conv_tuple(op, "kernel_size", kernel_size, 1, 1)[0]
    average = avg_pool1d(input ** norm_type, kernel, stride, 0, ceil_mode)
    return (average * kernel) ** (1 / norm_type)


def lp_pool2d(input: Tensor, norm_type: float, kernel_size: int | tuple[int, int],
              stride: int | tuple[int, int] | None = None, ceil_mode: bool = False) -> Tensor:
    """The p-norm of each window of the input (N, C, H, W), p = norm_type:
    (Σ_window xᵖ)^(1/p), computed as torch does, (kh · kw · avg_pool2d(xᵖ))^(1/p) (see
    lp_pool1d).

    >>> import autodiff as ad
    >>> lp_pool2d(ad.tensor([[[[1.0, 1.0], [1.0, 1.0]]]]), 2, 2)      # √4
    tensor([[[[2.]]]])
    """
    op = "lp_pool2d"
    _check_norm_type(op, norm_type)
    kernel = conv_tuple(op, "kernel_size", kernel_size, 1, 2)
    average = pool.avg_pool2d(input ** norm_type, kernel, stride, 0, ceil_mode, caller=op)
    return (average * math.prod(kernel)) ** (1 / norm_type)


def _check_norm_type(op: str, norm_type: float) -> None:
    if norm_type == 0:
        raise DomainError(f"{op}: norm_type must not be 0 (the result is the sum's "
                          f"(1/norm_type)-th power); use 1 for sum pooling, 2 for the "
                          f"Euclidean norm")


def _sequence_as_image(op: str, input: Tensor) -> tuple[Tensor, bool]:
    """(the input (N, C, L) or (C, L) as an image (N, C, 1, L), whether it was unbatched)."""
    if input.ndim not in (2, 3):
        raise ShapeError(f"{op}: expected a 3-D input (N, C, L) or a 2-D one (C, L), got "
                         f"shape {input.shape}; reshape it to (batch, channels, length)")
    unbatched = input.ndim == 2
    return (input.unsqueeze(0) if unbatched else input).unsqueeze(2), unbatched


def _pool1d_window(op: str, shape: tuple[int, ...], kernel_size: Any, stride: Any,
                   padding: Any, dilation: Any) -> tuple[int, int, int, int]:
    """(kernel, stride, padding, dilation) of a 1-D pool as ints, checked with messages
    in the 1-D terms (the 2-D pool checks them again, in pairs)."""
    kernel = conv_tuple(op, "kernel_size", kernel_size, 1, 1)[0]
    stride_ = kernel if stride is None else conv_tuple(op, "stride", stride, 1, 1)[0]
    pad = conv_tuple(op, "padding", padding, 0, 1)[0]
    dilation_ = conv_tuple(op, "dilation", dilation, 1, 1)[0]
    if pad > kernel // 2:
        raise DomainError(f"{op}: padding {pad} must be at most half the kernel_size "
                          f"{kernel}, so that every window holds an input element; use "
                          f"padding <= {kernel // 2}")
    span = dilation_ * (kernel - 1) + 1
    if span > shape[-1] + 2 * pad:
        dilated = f" (dilated to {span})" if span != kernel else ""
        raise ShapeError(f"{op}: the window {kernel}{dilated} is longer than the input "
                         f"length {shape[-1]} padded by {pad} on each side, for input of "
                         f"shape {shape}; use a smaller kernel_size, more padding or a "
                         f"longer input")
    return kernel, stride_, pad, dilation_


# ---------------------------------------------------------------- volumes (N, C, D, H, W)
# The 3-D pools are separable: the 2-D pool over (H, W) of every depth slice, as images
# (N·C·D, 1, H, W), then the 2-D pool with a (kd, 1) window over (D, H_out·W_out). A
# window's maximum is the maximum of its slices' maxima and the first of several that tie
# (in (d, h, w) order) is the first slice's first, so values, tie-breaking and gradients
# are torch's; the mean's divisor is a product of one factor per dim, so it splits too.

def max_pool3d(input: Tensor, kernel_size: int | tuple[int, int, int],
               stride: int | tuple[int, int, int] | None = None,
               padding: int | tuple[int, int, int] = 0, dilation: int | tuple[int, int, int] = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """The maximum of each window of the input (N, C, D, H, W) or (C, D, H, W), padded with
    -∞; stride defaults to kernel_size. With return_indices also each maximum's position
    d·H·W + h·W + w in the input (int64). On max_pool2d. See nn.MaxPool3d.

    >>> import autodiff as ad
    >>> max_pool3d(ad.arange(8, dtype=ad.float32).reshape(1, 1, 2, 2, 2), 2)
    tensor([[[[[7.]]]]])
    """
    op = "max_pool3d"
    volume, unbatched = _volume(op, input)
    kernel, stride_, pad, dilation_ = _pool3d_window(op, volume.shape, kernel_size, stride,
                                                     padding, dilation)
    n, c, d, h, w = volume.shape
    planes = pool.max_pool2d(volume.reshape(n * c * d, 1, h, w), kernel[1:], stride_[1:],
                             pad[1:], dilation_[1:], ceil_mode, return_indices, caller=op)
    planes, plane_index = planes if return_indices else (planes, None)
    out_h, out_w = planes.shape[2:]
    columns = planes.reshape(n * c, 1, d, out_h * out_w)
    out = pool.max_pool2d(columns, (kernel[0], 1), (stride_[0], 1), (pad[0], 0),
                          (dilation_[0], 1), ceil_mode, return_indices, caller=op)
    out, depth_index = out if return_indices else (out, None)
    out = out.reshape(n, c, out.shape[2], out_h, out_w)
    if unbatched:
        out = out.squeeze(0)
    if not return_indices:
        return out
    # depth_index is the position d·(H_out·W_out) + j in the columns; plane_index at (d, j)
    # is the maximum's h·W + w within slice d
    flat = depth_index.reshape(n * c, math.prod(depth_index.shape[2:]))
    within = plane_index.reshape(n * c, d * out_h * out_w).gather(1, flat)
    indices = ((flat // (out_h * out_w)) * (h * w) + within).reshape(out.shape)
    return out, indices


def avg_pool3d(input: Tensor, kernel_size: int | tuple[int, int, int],
               stride: int | tuple[int, int, int] | None = None,
               padding: int | tuple[int, int, int] = 0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """The mean of each window of the input (N, C, D, H, W) or (C, D, H, W), zero-padded
    (the padding not counted with count_include_pad=False; divisor_override divides every
    window's sum instead); stride defaults to kernel_size. On avg_pool2d. See nn.AvgPool3d.

    >>> import autodiff as ad
    >>> avg_pool3d(ad.arange(8, dtype=ad.float32).reshape(1, 1, 2, 2, 2), 2)
    tensor([[[[[3.5]]]]])
    """
    op = "avg_pool3d"
    volume, unbatched = _volume(op, input)
    kernel, stride_, pad, _ = _pool3d_window(op, volume.shape, kernel_size, stride, padding, 1)
    if divisor_override is not None and (not conv.is_int(divisor_override)
                                         or divisor_override == 0):
        raise DomainError(f"{op}: divisor_override must be a nonzero int, got "
                         f"{divisor_override!r}")
    # with divisor_override, both passes sum (divisor 1) and the sum is divided once
    divisor = None if divisor_override is None else 1
    n, c, d, h, w = volume.shape
    planes = pool.avg_pool2d(volume.reshape(n * c * d, 1, h, w), kernel[1:], stride_[1:],
                             pad[1:], ceil_mode, count_include_pad, divisor, caller=op)
    out_h, out_w = planes.shape[2:]
    out = pool.avg_pool2d(planes.reshape(n * c, 1, d, out_h * out_w), (kernel[0], 1),
                          (stride_[0], 1), (pad[0], 0), ceil_mode, count_include_pad, divisor,
                          caller=op)
    out = out.reshape(n, c, out.shape[2], out_h, out_w)
    if divisor_override is not None:
        out = out / divisor_override
    return out.squeeze(0) if unbatched else out


def adaptive_avg_pool3d(input: Tensor, output_size: int | tuple[int | None, int | None,
                                                                int | None]) -> Tensor:
    """The mean over each cell of an output_size grid over the input (N, C, D, H, W) or
    (C, D, H, W), torch's cells in every dim (None keeps a dim): three products with
    constant averaging matrices, as adaptive_avg_pool2d. See nn.AdaptiveAvgPool3d.

    >>> import autodiff as ad
    >>> adaptive_avg_pool3d(ad.arange(8, dtype=ad.float32).reshape(1, 1, 2, 2, 2), 1)
    tensor([[[[[3.5]]]]])
    """
    op = "adaptive_avg_pool3d"
    volume, unbatched = _volume(op, input)
    sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * 3
    if len(sizes) != 3 or not all(s is None or (conv.is_int(s) and s >= 1) for s in sizes):
        raise DomainError(f"{op}: output_size must be an int >= 1, or a triple of them "
                         f"(None keeps the input's size), got {output_size!r}")
    n, c, d, h, w = volume.shape
    out_d, out_h, out_w = (s or size for s, size in zip(sizes, (d, h, w)))
    planes = (_averaging_matrix(h, out_h, input.dtype) @ volume
              @ _averaging_matrix(w, out_w, input.dtype).T)
    out = (_averaging_matrix(d, out_d, input.dtype)
           @ planes.reshape(n, c, d, out_h * out_w)).reshape(n, c, out_d, out_h, out_w)
    return out.squeeze(0) if unbatched else out


def adaptive_max_pool3d(input: Tensor, output_size: int | tuple[int | None, int | None,
                                                                int | None],
                        return_indices: bool = False) -> Any:
    """The maximum over each cell of an output_size grid over the input (N, C, D, H, W) or
    (C, D, H, W):

        y[n, c, r, p, q] = max x[n, c, d, h, w]  over  ⌊r·D / od⌋ <= d < ⌈(r + 1)·D / od⌉

    and the rows and columns likewise (torch's cells; None in output_size keeps a dim).
    With return_indices also each maximum's position d·H·W + h·W + w in the input (int64).
    The gradient goes to each cell's maximum, the first in (d, h, w) order when several
    tie, as torch's. A gather at argmax, as adaptive_max_pool2d. See nn.AdaptiveMaxPool3d.

    >>> import autodiff as ad
    >>> x = ad.arange(8, dtype=ad.float32).reshape(1, 1, 2, 2, 2)
    >>> adaptive_max_pool3d(x, (1, 2, 1), return_indices=True)       # rows h = 0 and h = 1
    (tensor([[[[[5.],
                [7.]]]]]), tensor([[[[[5],
                [7]]]]]))
    """
    op = "adaptive_max_pool3d"
    volume, unbatched = _volume(op, input)
    sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * 3
    if len(sizes) != 3 or not all(s is None or (conv.is_int(s) and s >= 1) for s in sizes):
        raise DomainError(f"{op}: output_size must be an int >= 1, or a triple of them "
                          f"(None keeps the input's size), got {output_size!r}")
    dims = [(size, s or size) for s, size in zip(sizes, volume.shape[2:])]
    outs = _adaptive_max(volume, dims, return_indices=True)
    if unbatched:
        outs = tuple(y.squeeze(0) for y in outs)
    return outs if return_indices else outs[0]


def _volume(op: str, input: Tensor) -> tuple[Tensor, bool]:
    """(the input (N, C, D, H, W) or (C, D, H, W) as a batch, whether it was unbatched)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if input.ndim not in (4, 5):
        raise ShapeError(f"{op}: expected a 5-D input (N, C, D, H, W) or a 4-D one "
                         f"(C, D, H, W), got shape {input.shape}")
    unbatched = input.ndim == 4
    return (input.unsqueeze(0) if unbatched else input), unbatched


def _pool3d_window(op: str, shape: tuple[int, ...], kernel_size: Any, stride: Any,
                   padding: Any, dilation: Any) -> tuple[tuple[int, ...], ...]:
    """(kernel, stride, padding, dilation) of a 3-D pool as int triples, checked with
    messages in the 3-D terms (the 2-D pools check them again)."""
    kernel = conv_tuple(op, "kernel_size", kernel_size, 1, 3)
    stride_ = kernel if stride is None else conv_tuple(op, "stride", stride, 1, 3)
    pad = conv_tuple(op, "padding", padding, 0, 3)
    dilation_ = conv_tuple(op, "dilation", dilation, 1, 3)
    if any(p > k // 2 for p, k in zip(pad, kernel)):
        raise DomainError(f"{op}: padding {pad} must be at most half the kernel_size "
                          f"{kernel} in every dim, so that every window holds an input "
                          f"element")
    for size, k, p, dl in zip(shape[2:], kernel, pad, dilation_):
        if dl * (k - 1) + 1 > size + 2 * p:
            raise ShapeError(f"{op}: the window {kernel} (dilation {dilation_}) is larger "
                             f"than the input of shape {shape} padded by {pad}; use a "
                             f"smaller kernel_size, more padding or a larger input")
    return kernel, stride_, pad, dilation_


# ---------------------------------------------------------------- unpooling
# MaxUnpool is max pooling's partial inverse: each pooled value goes back to the position
# its MaxPool…(return_indices=True) came from, zeros everywhere else. It is a primitive,
# not a scatter: where overlapping windows chose one input twice, torch writes the value
# once and still gives each pooled value the gradient of its position, which no scatter
# gives (scatter sends the overwritten ones none, scatter_add doubles the value).
# (Such repeats hold one input's value, so which write is kept does not matter there;
# for indices that repeat with other values torch keeps any one, varying from call to
# call, and here the last.)

class MaxUnpool(Function):
    """y[n, c, indices[n, c, j]] = x[n, c, j] in a zero output (N, C, *size), positions
    flattened row-major (h·W + w; where indices repeat, the last write wins);
    dL/dx[n, c, j] = dL/dy[n, c, indices[n, c, j]], a gather: every value gets the gradient
    of the position it was written to, also one that a later value overwrote (torch's
    rule). Each index is checked to lie in the output; `op` names the caller."""

    derivative = ("dL/dx = dL/dy gathered at the indices: each value gets the gradient of the "
                  "position it was written to",
                  "dL/dindices: none (positions)")

    @staticmethod
    def forward(ctx: Any, x: np.ndarray, indices: np.ndarray, size: tuple[int, ...],
                op: str) -> np.ndarray:
        n, c = x.shape[:2]
        positions, values = math.prod(size), math.prod(x.shape[2:])
        flat = indices.astype(np.int64).reshape(n, c, values)
        if flat.size and (flat.min() < 0 or flat.max() >= positions):
            bad = flat.min() if flat.min() < 0 else flat.max()
            raise TensorIndexError(f"{op}: index {bad} is out of range for an output of "
                                   f"size {size} ({positions} positions, 0 to "
                                   f"{positions - 1}); pass the indices of the max pool "
                                   f"whose output this is, and its input's size as "
                                   f"output_size")
        ctx.places = (np.arange(n)[:, None, None], np.arange(c)[None, :, None], flat)
        ctx.shape = x.shape
        out = np.zeros((n, c, positions), dtype=x.dtype)
        out[ctx.places] = x.reshape(n, c, values)  # numpy: a repeated place keeps the last
        return out.reshape(n, c, *size)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> tuple[Any, None]:
        n, c = grad.shape[:2]
        return grad.reshape(n, c, math.prod(grad.shape[2:]))[ctx.places].reshape(ctx.shape), None


def max_unpool1d(input: Tensor, indices: Tensor, kernel_size: int | tuple[int],
                 stride: int | tuple[int] | None = None, padding: int | tuple[int] = 0,
                 output_size: Sequence[int] | None = None) -> Tensor:
    """The partial inverse of max_pool1d: each value of the input (N, C, L) or (C, L) is
    written at the position `indices` gives it (as max_pool1d(return_indices=True) does)
    in a zero output of length L_out = (L − 1)·stride − 2·padding + kernel_size, or
    output_size; its gradient is dL/dy gathered at the indices. See MaxUnpool.

    >>> import autodiff as ad
    >>> max_unpool1d(ad.tensor([[[3.0, 5.0]]]), ad.tensor([[[1, 2]]]), 2)
    tensor([[[0., 3., 5., 0.]]])
    """
    return _max_unpool("max_unpool1d", 1, input, indices, kernel_size, stride, padding,
                       output_size)


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] | None = None,
                 padding: int | tuple[int, int] = 0,
                 output_size: Sequence[int] | None = None) -> Tensor:
    """The partial inverse of max_pool2d: each value of the input (N, C, H, W) or
    (C, H, W) is written at the position h·W_out + w that `indices` gives it (as
    max_pool2d(return_indices=True) does) in a zero output of H_out = (H − 1)·stride[0] −
    2·padding[0] + kernel_size[0] (W_out likewise), or output_size; its gradient is dL/dy
    gathered at the indices. See MaxUnpool.

    >>> import autodiff as ad
    >>> max_unpool2d(ad.tensor([[[[4.0]]]]), ad.tensor([[[[3]]]]), 2)
    tensor([[[[0., 0.],
              [0., 4.]]]])
    """
    return _max_unpool("max_unpool2d", 2, input, indices, kernel_size, stride, padding,
                       output_size)


def max_unpool3d(input: Tensor, indices: Tensor, kernel_size: int | tuple[int, int, int],
                 stride: int | tuple[int, int, int] | None = None,
                 padding: int | tuple[int, int, int] = 0,
                 output_size: Sequence[int] | None = None) -> Tensor:
    """The partial inverse of max_pool3d: each value of the input (N, C, D, H, W) or
    (C, D, H, W) is written at the position d·H_out·W_out + h·W_out + w that `indices`
    gives it (as max_pool3d(return_indices=True) does) in a zero output of D_out =
    (D − 1)·stride[0] − 2·padding[0] + kernel_size[0] (H_out, W_out likewise), or
    output_size; its gradient is dL/dy gathered at the indices. See MaxUnpool.

    >>> import autodiff as ad
    >>> max_unpool3d(ad.tensor([[[[[4.0]]]]]), ad.tensor([[[[[6]]]]]), 2).flatten().tolist()
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 4.0, 0.0]
    """
    return _max_unpool("max_unpool3d", 3, input, indices, kernel_size, stride, padding,
                       output_size)


def _max_unpool(op: str, dims: int, input: Tensor, indices: Tensor, kernel_size: Any,
                stride: Any, padding: Any, output_size: Any) -> Tensor:
    """max_unpool1d, 2d or 3d (`dims` spatial dims): the arguments checked, the input
    made a batch, then MaxUnpool."""
    letters = ", ".join(name[0].upper() for name in SPATIAL_DIMS[dims])
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if input.ndim not in (dims + 1, dims + 2):
        raise ShapeError(f"{op}: expected a {dims + 2}-D input (N, C, {letters}) or a "
                         f"{dims + 1}-D one (C, {letters}), got shape {input.shape}")
    check_index_dtype(op, indices)
    if indices.shape != input.shape:
        raise ShapeError(f"{op}: indices must have the input's shape {input.shape}, one "
                         f"position per value (as MaxPool{dims}d(return_indices=True) gives "
                         f"them), got {indices.shape}")
    kernel = conv_tuple(op, "kernel_size", kernel_size, 1, dims)
    stride_ = kernel if stride is None else conv_tuple(op, "stride", stride, 1, dims)
    padding_ = conv_tuple(op, "padding", padding, 0, dims)
    size = _unpooled_size(op, input.shape[-dims:], kernel, stride_, padding_, output_size)
    unbatched = input.ndim == dims + 1
    if unbatched:
        input, indices = input.unsqueeze(0), indices.unsqueeze(0)
    out = MaxUnpool.apply(input, indices, size=size, op=op)
    return out.squeeze(0) if unbatched else out


def _unpooled_size(op: str, sizes: tuple[int, ...], kernel: tuple[int, ...],
                   stride: tuple[int, ...], padding: tuple[int, ...],
                   output_size: Any) -> tuple[int, ...]:
    """The spatial size of an unpooled output: (n − 1)·stride − 2·padding + kernel per
    dim, the size the pool's input had when its windows fitted exactly; or output_size
    (the spatial sizes, or the whole (N, C, …) shape), which torch takes within stride of
    it (strictly), the sizes whose pool gives this input."""
    default = tuple((n - 1) * s - 2 * p + k for n, s, p, k in zip(sizes, stride, padding,
                                                                   kernel))
    dims = len(kernel)
    if output_size is None:
        wanted = default
    else:
        wanted = tuple(output_size)
        if len(wanted) == dims + 2:
            wanted = wanted[2:]
        if len(wanted) != dims or not all(conv.is_int(n) for n in wanted):
            raise ValueError(f"{op}: output_size must hold {dims} sizes, or {dims + 2} (the "
                             f"whole output shape), got {output_size!r}")
        wanted = tuple(int(n) for n in wanted)
        low = tuple(d - s for d, s in zip(default, stride))
        high = tuple(d + s for d, s in zip(default, stride))
        if any(not lo < n < hi for n, lo, hi in zip(wanted, low, high)):
            raise ValueError(f"{op}: output_size {wanted} does not fit an input of spatial "
                             f"size {sizes}: with kernel_size {kernel}, stride {stride} and "
                             f"padding {padding} each size must lie strictly between "
                             f"{low} and {high}; give the size of the pooled input")
    if min(wanted) < 0:
        raise ValueError(f"{op}: the output would have size {wanted}: padding {padding} cuts "
                         f"more than the kernel_size {kernel} and stride {stride} give the "
                         f"input of spatial size {sizes}; use less padding")
    return wanted


# ---------------------------------------------------------------- rearranging pixels

def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """Move channels into space (Shi et al., 2016): (*, C·r², H, W) → (*, C, H·r, W·r),

        y[..., c, h·r + i, w·r + j] = x[..., c·r² + i·r + j, h, w]

    a reshape, a permutation and a reshape.

    >>> import autodiff as ad
    >>> pixel_shuffle(ad.arange(4, dtype=ad.float32).reshape(1, 4, 1, 1), 2)
    tensor([[[[0., 1.],
              [2., 3.]]]])
    """
    op = "pixel_shuffle"
    r = _rearranging_factor(op, "upscale_factor", upscale_factor, input)
    *batch, channels, height, width = input.shape
    if channels % (r * r):
        raise ShapeError(f"{op}: the input of shape {input.shape} has {channels} channels "
                         f"(dim -3), which upscale_factor² = {r * r} does not divide; pass "
                         f"C·{r * r} channels to get C")
    n = len(batch)
    x = input.reshape(*batch, channels // (r * r), r, r, height, width)
    x = x.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)   # (*, C, H, r, W, r)
    return x.reshape(*batch, channels // (r * r), height * r, width * r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """Move space into channels, pixel_shuffle's inverse: (*, C, H·r, W·r) → (*, C·r², H, W),

        y[..., c·r² + i·r + j, h, w] = x[..., c, h·r + i, w·r + j]

    >>> import autodiff as ad
    >>> pixel_unshuffle(ad.arange(4, dtype=ad.float32).reshape(1, 1, 2, 2), 2).flatten()
    tensor([0., 1., 2., 3.])
    """
    op = "pixel_unshuffle"
    r = _rearranging_factor(op, "downscale_factor", downscale_factor, input)
    *batch, channels, height, width = input.shape
    if height % r or width % r:
        raise ShapeError(f"{op}: the input of shape {input.shape} has height {height} and "
                         f"width {width} (dims -2, -1), which downscale_factor={r} must both "
                         f"divide; crop or pad the input to multiples of {r}")
    n = len(batch)
    x = input.reshape(*batch, channels, height // r, r, width // r, r)
    x = x.permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)   # (*, C, r, r, H/r, W/r)
    return x.reshape(*batch, channels * r * r, height // r, width // r)


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """Interleave the channels (dim 1) of `groups` groups (Zhang et al., 2017, ShuffleNet):
    (N, C, *) seen as (N, g, C/g, *), its dims 1 and 2 swapped, flattened back, so

        y[:, j·g + i] = x[:, i·(C/g) + j]

    and a grouped conv after it sees channels from every group of the one before.

    >>> import autodiff as ad
    >>> channel_shuffle(ad.arange(6, dtype=ad.float32).reshape(1, 6, 1), 2).flatten()
    tensor([0., 3., 1., 4., 2., 5.])
    """
    op = "channel_shuffle"
    if not conv.is_int(groups) or groups < 1:
        raise DomainError(f"{op}: groups must be a positive int, got {groups!r}")
    if input.ndim < 3:
        raise ShapeError(f"{op}: expected an input (N, C, *) of 3 or more dims, got shape "
                         f"{input.shape}")
    batch, channels, *positions = input.shape
    if channels % groups:
        raise ShapeError(f"{op}: the input of shape {input.shape} has {channels} channels "
                         f"(dim 1), which groups={groups} does not divide")
    grouped = input.reshape(batch, groups, channels // groups, *positions)
    return grouped.transpose(1, 2).reshape(input.shape)


def _rearranging_factor(op: str, name: str, factor: Any, input: Tensor) -> int:
    """The factor of pixel_shuffle or pixel_unshuffle, checked, and the input's rank."""
    if not conv.is_int(factor) or factor < 1:
        raise DomainError(f"{op}: {name} must be a positive int, got {factor!r}")
    if input.ndim < 3:
        raise ShapeError(f"{op}: expected an input (*, C, H, W) of at least 3 dims, got "
                         f"shape {input.shape}")
    return int(factor)


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


# ---------------------------------------------------------------- resampling

INTERPOLATE_MODES = {"nearest": (3, 4), "nearest-exact": (3, 4), "linear": (3,),
                     "bilinear": (4,), "area": (3, 4)}
"""interpolate's modes and the input dims each takes."""


def interpolate(input: Tensor, size: int | Sequence[int] | None = None,
                scale_factor: float | Sequence[float] | None = None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False, *, caller: object = "interpolate") -> Tensor:
    """Resample the last dim of (N, C, L), or the last two of (N, C, H, W), to `size` or to
    ⌊n · scale_factor⌋ (give one of them), one dim at a time. Along a dim of input size
    n and output size m, output position j reads

        'nearest':        x[min(⌊j · s⌋, n − 1)]
        'nearest-exact':  x[min(⌊(j + ½) · s⌋, n − 1)]  (the nearest pixel centre)
        'linear' (3-D), 'bilinear' (4-D):  (1 − λ) · x[i] + λ · x[min(i + 1, n − 1)],
                          i = ⌊t⌋, λ = t − i, at t = max((j + ½) · s − ½, 0) (pixel
                          centres aligned), or t = j · (n − 1) / (m − 1) with
                          align_corners=True (corner pixels aligned)
        'area':           the mean of x[⌊j·n/m⌋ … ⌈(j + 1)·n/m⌉ − 1] (adaptive_avg_pool)

    with s = n / m, or 1 / scale_factor when scale_factor is given (unless
    recompute_scale_factor=True). As torch: the nearest indices are computed in float32,
    the linear ones in the input's dtype; 'linear' and 'bilinear' copy a dim whose size
    does not change, and 'nearest' on 4-D input does, and takes j // 2 when the size
    doubles (whatever the scale_factor).

    The nearest modes gather (index_select along the dim), whose gradient adds dL/dy back
    onto the pixel each position read (torch's own backward of 1-D 'nearest' copies or
    halves the index where its forward does not, so there the two gradients differ); the
    others multiply by a constant (m, n) matrix of weights along the dim (y = A·x,
    separable), recorded as matmuls, so differentiable to any order. A product also
    multiplies the zero weights: an inf or nan in the input spreads along its whole row
    and column (0 · inf = nan), where torch's kernel reads only the two neighbours.
    'bicubic', 'trilinear' (5-D) and antialias=True are not supported. `caller` is what
    error messages name (nn.Upsample passes itself).

    >>> import autodiff as ad
    >>> interpolate(ad.tensor([[[1.0, 2.0]]]), scale_factor=2)
    tensor([[[1., 1., 2., 2.]]])
    >>> interpolate(ad.tensor([[[1.0, 2.0]]]), size=3, mode="linear", align_corners=True)
    tensor([[[1. , 1.5, 2. ]]])
    """
    check_interpolation(caller, mode, size, scale_factor, align_corners)
    shape = input.shape
    if len(shape) not in (3, 4):
        raise ShapeError(f"{caller}: expected a 3-D input (N, C, L) or a 4-D input (N, C, H, W) "
                         f"(batch and channels first: they are not resized), got shape "
                         f"{shape}" + ("; 5-D input (mode 'trilinear') is not supported"
                                       if len(shape) == 5 else ""))
    if len(shape) not in INTERPOLATE_MODES[mode]:
        wanted = "linear" if len(shape) == 3 else "bilinear"
        raise ShapeError(f"{caller}: mode {mode!r} takes a {INTERPOLATE_MODES[mode][0]}-D "
                         f"input, got shape {shape}; for a {len(shape)}-D input use "
                         f"mode={wanted!r}")
    if mode not in ("nearest", "nearest-exact") and input.dtype.kind != "f":
        raise DtypeError(f"{caller}: mode {mode!r} averages values and needs a float input, "
                         f"got {input.dtype}; convert it first, e.g. x.float()")
    if antialias:
        raise ValueError(f"{caller}: antialias=True (torch's low-pass filter when shrinking "
                         f"with 'bilinear' or 'bicubic') is not supported; leave it False, "
                         f"or shrink with mode='area'")
    sizes, factors = _interpolated_sizes(caller, shape, size, scale_factor,
                                         bool(recompute_scale_factor))
    out = input
    for axis, (n, m, factor) in enumerate(zip(shape[2:], sizes, factors), start=2):
        if mode in ("nearest", "nearest-exact"):
            index = _nearest_index(n, m, factor, exact=mode == "nearest-exact",
                                   shortcuts=mode == "nearest" and len(shape) == 4)
            out = ad.index_select(out, axis, index)
            continue
        matrix = (_averaging_matrix(n, m, input.dtype) if mode == "area"
                  else _linear_matrix(n, m, factor, bool(align_corners), input.dtype))
        out = out @ matrix.T if axis == len(shape) - 1 else matrix @ out
    return out


def upsample(input: Tensor, size: int | Sequence[int] | None = None,
             scale_factor: float | Sequence[float] | None = None, mode: str = "nearest",
             align_corners: bool | None = None) -> Tensor:
    """interpolate under its old name, deprecated (torch warns, and so does this)."""
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` "
                  "instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners, caller="upsample")


def upsample_nearest(input: Tensor, size: int | Sequence[int] | None = None,
                     scale_factor: float | Sequence[float] | None = None) -> Tensor:
    """interpolate(mode='nearest'), deprecated (torch warns, and so does this)."""
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, "nearest", caller="upsample_nearest")


def upsample_bilinear(input: Tensor, size: int | Sequence[int] | None = None,
                      scale_factor: float | Sequence[float] | None = None) -> Tensor:
    """interpolate(mode='bilinear', align_corners=True) of an input (N, C, H, W),
    deprecated (torch warns, and so does this)."""
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, "bilinear", align_corners=True,
                       caller="upsample_bilinear")


def check_interpolation(caller: object, mode: str, size: Any, scale_factor: Any,
                        align_corners: bool | None) -> None:
    """The checks of interpolate's arguments that need no input: a supported mode,
    exactly one of size and scale_factor, align_corners only for the linear modes."""
    if mode not in INTERPOLATE_MODES:
        known = mode in ("bicubic", "trilinear", "lanczos")
        raise ValueError(f"{caller}: mode {mode!r} is {'not supported' if known else 'unknown'}"
                         f"; the modes are 'nearest', 'nearest-exact', 'linear' (3-D input), "
                         f"'bilinear' (4-D input) and 'area'")
    if (size is None) == (scale_factor is None):
        given = "both" if size is not None else "neither"
        raise ValueError(f"{caller}: give exactly one of size and scale_factor, got {given}")
    if align_corners is not None and mode not in ("linear", "bilinear"):
        raise ValueError(f"{caller}: align_corners applies to the modes 'linear' and "
                         f"'bilinear' only, not to {mode!r}; leave it None")


def _interpolated_sizes(caller: object, shape: tuple[int, ...], size: Any, scale_factor: Any,
                        recompute: bool) -> tuple[tuple[int, ...], tuple[float | None, ...]]:
    """The output size of each resized dim, and the scale_factor each one's source
    positions use (None: n / m, from the sizes)."""
    dims = len(shape) - 2
    if size is not None:
        if recompute:
            raise ValueError(f"{caller}: recompute_scale_factor applies to a scale_factor, "
                             f"not to an explicit size; leave it None")
        sizes = tuple(size) if isinstance(size, (tuple, list)) else (size,) * dims
        if len(sizes) != dims or not all(conv.is_int(s) for s in sizes):
            raise ValueError(f"{caller}: size must be an int or {dims} ints, one per dim after "
                             f"batch and channels, for an input of shape {shape}; got {size!r}")
        factors: tuple[float | None, ...] = (None,) * dims
    else:
        factors = (tuple(scale_factor) if isinstance(scale_factor, (tuple, list))
                   else (scale_factor,) * dims)
        if len(factors) != dims or not all(isinstance(f, (int, float, np.number))
                                           and not isinstance(f, bool) for f in factors):
            raise ValueError(f"{caller}: scale_factor must be a number or {dims} numbers, one "
                             f"per dim after batch and channels, for an input of shape "
                             f"{shape}; got {scale_factor!r}")
        sizes = tuple(math.floor(n * float(f)) for n, f in zip(shape[2:], factors))
        if recompute:
            factors = (None,) * dims
    if min(sizes) < 1:
        raise ValueError(f"{caller}: the output size {sizes} must be at least 1 in every "
                         f"dim, for an input of shape {shape}; use a larger size or "
                         f"scale_factor")
    return tuple(int(s) for s in sizes), tuple(None if f is None else float(f) for f in factors)


def _nearest_index(size: int, out: int, factor: float | None, exact: bool,
                   shortcuts: bool) -> np.ndarray:
    """Which of `size` input positions each of `out` output positions copies (see
    interpolate), in torch's float32 arithmetic; `shortcuts`: torch's 2-D nearest copies
    an unchanged size and halves the index when the size doubles."""
    if shortcuts and out == size:
        return np.arange(out)
    if shortcuts and out == 2 * size:
        return np.arange(out) // 2
    scale = (np.float32(1.0 / factor) if factor is not None
             else np.float32(size) / np.float32(out))
    position = np.arange(out) + (0.5 if exact else 0.0)
    source = np.floor((position * np.float64(scale)).astype(np.float32)).astype(np.int64)
    return np.minimum(source, size - 1)


def _linear_matrix(size: int, out: int, factor: float | None, align_corners: bool,
                   dtype: np.dtype) -> np.ndarray:
    """The (out, size) matrix of linear interpolation: row j holds 1 − λ at column i and λ
    at min(i + 1, size − 1) for source position t = i + λ (see interpolate), computed in
    `dtype` as torch does; the identity when the size does not change."""
    if out == size:
        return np.eye(size, dtype=dtype)
    real = np.dtype(dtype).type
    position = np.arange(out)
    if align_corners:
        scale = real(size - 1) / real(out - 1) if out > 1 else real(0)
        source = position.astype(dtype) * scale
    else:
        scale = real(1.0 / factor) if factor is not None else real(size) / real(out)
        source = np.maximum((np.float64(scale) * (position + 0.5) - 0.5).astype(dtype), 0)
    lower = np.minimum(np.floor(source).astype(np.int64), size - 1)
    upper = np.minimum(lower + 1, size - 1)
    weight = (source - lower).astype(dtype)                 # λ, the upper neighbour's share
    matrix = np.zeros((out, size), dtype=dtype)
    np.add.at(matrix, (position, lower), 1 - weight)
    np.add.at(matrix, (position, upper), weight)
    return matrix


GRID_SAMPLE_MODES = ("bilinear", "nearest")
GRID_SAMPLE_PADDINGS = ("zeros", "border", "reflection")


def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear",
                padding_mode: str = "zeros", align_corners: bool | None = None) -> Tensor:
    """Sample the input (N, C, H, W) at the points of grid (N, H_out, W_out, 2): the
    output pixel (n, c, i, j) reads the input at grid[n, i, j] = (x, y), in coordinates
    where −1 and 1 are the left and right (top and bottom) edges of the image, the outer
    edges of the corner pixels (align_corners=False, the default; None means False, as
    torch defaults to) or their centres (align_corners=True). In pixels,

        u = ((x + 1)·W − 1) / 2    (align_corners=False)      u = (x + 1) / 2 · (W − 1)

    (v from y and H likewise). padding_mode says what lies outside the image: 'zeros'
    (nothing: zeros), 'border' (u clipped to [0, W − 1]) or 'reflection' (u mirrored
    about the edges, as often as it takes, then clipped). mode 'bilinear' blends the four
    pixels around (u, v),

        y = Σ_{a,b ∈ {0,1}} (1 − |u − u₀ − a|) · (1 − |v − v₀ − b|) · x[v₀ + b, u₀ + a],

    u₀ = ⌊u⌋, v₀ = ⌊v⌋, a pixel outside the image counting as 0; 'nearest' reads the
    pixel at (u, v) rounded (halves to even, as torch).

    A composite: the corner pixels are gathered (one indexing of the input laid out as
    (N·H·W, C)), so dL/dinput adds dL/dy · weight back onto each pixel read; the weights
    are arithmetic on the grid, so dL/dgrid is theirs, through the unnormalisation and
    the clipping and mirroring (zero where the clip holds u at an edge, as torch). With
    'nearest' the output does not depend on the grid (its derivative is 0 almost
    everywhere): the grid gets no gradient (torch gives it zeros). 'bicubic' and 5-D
    (volumetric) input are not supported.

    >>> import autodiff as ad
    >>> image = ad.tensor([[[[0.0, 10.0], [20.0, 30.0]]]])
    >>> points = ad.tensor([[[[0.0, 0.0], [-1.0, -1.0], [1.0, -1.0]]]])  # centre, corners
    >>> grid_sample(image, points, align_corners=True)
    tensor([[[[15.,  0., 10.]]]])
    """
    op = "grid_sample"
    _check_grid_sample(op, input, grid, mode, padding_mode)
    align = bool(align_corners)
    n, channels, height, width = input.shape
    u = _grid_coordinate(grid[..., 0], width, padding_mode, align)     # (N, H_out, W_out)
    v = _grid_coordinate(grid[..., 1], height, padding_mode, align)
    if mode == "nearest":
        columns, rows, weights = u.detach().round()[None], v.detach().round()[None], None
    else:
        left, top = u.detach().floor(), v.detach().floor()
        right_share, lower_share = u - left, v - top        # how far past the left, top
        columns = ad.stack([left, left + 1, left, left + 1])        # the corners: (4, N, ...)
        rows = ad.stack([top, top, top + 1, top + 1])
        weights = ad.stack([(1 - right_share) * (1 - lower_share),
                            right_share * (1 - lower_share),
                            (1 - right_share) * lower_share, right_share * lower_share])
    # a corner outside the image reads pixel 0 with a share of 0
    inside = (columns >= 0) & (columns <= width - 1) & (rows >= 0) & (rows <= height - 1)
    rows, columns = ad.where(inside, rows, 0).long(), ad.where(inside, columns, 0).long()
    batch = ad.arange(n).reshape(1, n, 1, 1) * (height * width)
    pixels = input.permute(0, 2, 3, 1).reshape(n * height * width, channels)
    values = pixels[batch + rows * width + columns]             # (corners, N, H_out, W_out, C)
    shares = inside.to(input.dtype) if weights is None else ad.where(inside, weights, 0)
    return (values * shares.unsqueeze(-1)).sum(0).permute(0, 3, 1, 2)


def _check_grid_sample(op: str, input: Tensor, grid: Tensor, mode: str,
                       padding_mode: str) -> None:
    """grid_sample's checks: a supported mode and padding_mode, input (N, C, H, W) and
    grid (N, H_out, W_out, 2) of one float dtype."""
    if mode not in GRID_SAMPLE_MODES:
        raise ValueError(f"{op}: mode must be 'bilinear' or 'nearest', got {mode!r}"
                         + ("; 'bicubic' is not supported" if mode == "bicubic" else ""))
    if padding_mode not in GRID_SAMPLE_PADDINGS:
        raise ValueError(f"{op}: padding_mode must be 'zeros', 'border' or 'reflection', "
                         f"got {padding_mode!r}")
    if input.ndim != 4:
        raise ShapeError(f"{op}: expected a 4-D input (N, C, H, W), got shape {input.shape}"
                         + ("; 5-D (volumetric) input is not supported" if input.ndim == 5
                            else "; add a batch dim with x.unsqueeze(0)" if input.ndim == 3
                            else ""))
    if grid.ndim != 4 or grid.shape[3] != 2 or grid.shape[0] != input.shape[0]:
        raise ShapeError(f"{op}: grid must have shape (N, H_out, W_out, 2), one (x, y) point "
                         f"per output pixel, with N = {input.shape[0]} as the input of shape "
                         f"{input.shape}; got {grid.shape}")
    if input.dtype.kind != "f" or grid.dtype != input.dtype:
        raise DtypeError(f"{op}: input and grid must have one float dtype, got "
                         f"{input.dtype} and {grid.dtype}; convert them first, e.g. "
                         f"grid.to(input.dtype)")


def _grid_coordinate(coordinate: Tensor, size: int, padding_mode: str,
                     align_corners: bool) -> Tensor:
    """A grid coordinate in [−1, 1] as a position in pixels along a dim of `size`, held in
    the image by 'border' and 'reflection' (as torch's grid_sampler_compute_source_index)."""
    if align_corners:
        position = (coordinate + 1) / 2 * (size - 1)
    else:
        position = ((coordinate + 1) * size - 1) / 2
    if padding_mode == "reflection":        # mirrored about the corner centres, or edges
        low, high = (0.0, size - 1.0) if align_corners else (-0.5, size - 0.5)
        position = _reflect(position, low, high)
    if padding_mode == "zeros":
        return position
    inside = (position > 0) & (position < size - 1)     # torch: no gradient at the edges
    return ad.where(inside, position, position.detach().clip(0, size - 1))


def _reflect(position: Tensor, low: float, high: float) -> Tensor:
    """position mirrored into [low, high] about its ends, as often as it takes: with
    d = |position − low| = k·(high − low) + e (0 <= e < high − low), low + e for even k
    and high − e for odd k; its derivative is ±1."""
    if low == high:                         # one pixel, centres aligned: everything reads it
        return position * 0
    span = high - low
    distance = (position - low).abs()
    flips = (distance.detach() / span).floor()
    extra = distance - flips * span
    return ad.where(flips % 2 == 0, low + extra, high - extra)


def affine_grid(theta: Tensor, size: Sequence[int], align_corners: bool | None = None
                ) -> Tensor:
    """The sampling grid of an affine map, for grid_sample: theta (N, 2, 3) and size
    (N, C, H, W) give grid (N, H, W, 2) with

        grid[n, i, j] = theta[n] · (x_j, y_i, 1)

    at the output pixels' own coordinates x_j, y_i in [−1, 1] (the corner pixels'
    centres at ±1 with align_corners=True, else ±(1 − 1/W) and ±(1 − 1/H); 0 for a dim of
    one pixel); theta (N, 3, 4) and size (N, C, D, H, W) give (N, D, H, W, 3) likewise.
    The identity theta gives the grid that samples the input unchanged. One matmul with a
    constant grid of (x, y, 1), so dL/dtheta is matmul's.

    >>> import autodiff as ad
    >>> affine_grid(ad.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]]), (1, 1, 1, 2))
    tensor([[[[-0.5,  0. ],
              [ 0.5,  0. ]]]])
    """
    op = "affine_grid"
    size = tuple(size)
    dims = len(size) - 2
    if dims not in (2, 3) or not all(conv.is_int(s) for s in size):
        raise ValueError(f"{op}: size must be (N, C, H, W) or (N, C, D, H, W), the shape of "
                         f"the output of grid_sample, got {size}")
    if min(size) < 1:
        raise ValueError(f"{op}: every size must be at least 1, got {size}")
    if theta.dtype.kind != "f":
        raise DtypeError(f"{op}: theta must be a float tensor, got {theta.dtype}; convert it "
                         f"first, e.g. theta.float()")
    if theta.shape != (size[0], dims, dims + 1):
        raise ShapeError(f"{op}: for size {size}, theta must be a batch of {dims}-D affine "
                         f"matrices of shape ({size[0]}, {dims}, {dims + 1}), got "
                         f"{theta.shape}")
    spatial = size[2:]
    lines = [_grid_line(count, bool(align_corners), theta.dtype) for count in spatial]
    points = np.meshgrid(*lines, indexing="ij")[::-1]              # x (along W) first
    base = np.stack([*points, np.ones(spatial, dtype=theta.dtype)], axis=-1)
    grid = base.reshape(1, -1, dims + 1) @ theta.mT                 # (N, D·H·W, dims)
    return grid.reshape(size[0], *spatial, dims)


def _grid_line(count: int, align_corners: bool, dtype: np.dtype) -> np.ndarray:
    """The coordinates in [−1, 1] of `count` pixels along a dim (torch's
    linspace_from_neg_one): their centres, the ends at ±1 with align_corners, else
    scaled by (count − 1) / count; 0 for one pixel."""
    if count == 1:
        return np.zeros(1, dtype=dtype)
    line = np.linspace(-1, 1, count, dtype=dtype)
    return line if align_corners else line * dtype.type(count - 1) / dtype.type(count)


# ---------------------------------------------------------------- losses
# The plain losses are the one-node losses of autodiff/ops/losses.py, one node each.
# Their options are composites on top of them: class weights, ignore_index, pos_weight and
# element weights multiply the kernel's per-sample losses (reduction "none") by constants
# before the reduction; label smoothing and probability targets are built on log_softmax.
# So the options need no derivative of their own.

KL_REDUCTIONS = ("mean", "batchmean", "sum", "none")

LOSS_SETTINGS = {   # setting -> (whether a value is allowed, the rule, said in the error)
    "label_smoothing": (lambda v: 0 <= v <= 1, "between 0.0 and 1.0"),
    "beta": (lambda v: v >= 0, ">= 0 (beta=0 gives l1_loss)"),
    "delta": (lambda v: v > 0, "> 0"),
}


def mse_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """(x - y)², reduced; d/dx = 2(x - y) (/ n for the mean). One fused node."""
    return loss_ops.mse_loss(input, target, reduction)


def l1_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """|x - y|, reduced; d/dx = sign(x - y) (/ n for the mean), with sign(0) = 0."""
    return _reduce("l1_loss", (input - _target("l1_loss", input, target)).abs(), reduction)


def smooth_l1_loss(input: Tensor, target: Any, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    """ℓ = ½ d² / β where |d| < β, else |d| - ½ β, for d = x - y: quadratic near 0, linear
    beyond, d/dx = clip(d / β, -1, 1); beta=0 gives l1_loss.

    >>> import autodiff as ad
    >>> smooth_l1_loss(ad.tensor([0.5, 3.0]), ad.tensor([0.0, 0.0]), reduction="none")
    tensor([0.125, 2.5  ])
    """
    check_setting("smooth_l1_loss", "beta", beta)
    check_reduction("smooth_l1_loss", reduction)
    diff = input - _target("smooth_l1_loss", input, target)
    size = diff.abs()
    if beta == 0:          # the quadratic piece would divide by 0 (torch takes l1_loss too)
        return _reduce("smooth_l1_loss", size, reduction)
    return _reduce("smooth_l1_loss",
                   ad.where(size < beta, 0.5 * diff * diff / beta, size - 0.5 * beta), reduction)


def huber_loss(input: Tensor, target: Any, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """ℓ = ½ d² where |d| < δ, else δ (|d| - ½ δ), for d = x - y (δ · smooth_l1_loss with
    β = δ); d/dx = clip(d, -δ, δ). `weight` (a constant of the input's shape) multiplies
    each ℓ before the reduction.

    >>> import autodiff as ad
    >>> huber_loss(ad.tensor([0.5, 3.0]), ad.tensor([0.0, 0.0]), reduction="none", delta=2.0)
    tensor([0.125, 4.   ])
    """
    check_setting("huber_loss", "delta", delta)
    check_reduction("huber_loss", reduction)
    diff = input - _target("huber_loss", input, target)
    size = diff.abs()
    losses = ad.where(size < delta, 0.5 * diff * diff, delta * (size - 0.5 * delta))
    if weight is not None:
        weight = _constant("huber_loss", weight, input)
        if weight.shape != input.shape:
            raise ShapeError(f"huber_loss: weight must have the input's shape {input.shape} "
                             f"(one weight per element), got {weight.shape}")
        losses = losses * weight
    return _reduce("huber_loss", losses, reduction)


def binary_cross_entropy(input: Tensor, target: Any, weight: Tensor | None = None,
                         reduction: str = "mean") -> Tensor:
    """ℓ = -w (y log p + (1 - y) log(1 - p)) for probabilities p in [0, 1]; each log is
    clamped to >= -100 as in torch, so p = 0 or 1 gives a finite loss. `weight` w (a
    constant, 1 by default) broadcasts to the input's shape; "mean" averages w·ℓ."""
    if weight is None:
        return loss_ops.binary_cross_entropy(input, target, reduction)
    check_reduction("binary_cross_entropy", reduction)
    weight = _elementwise_weight("binary_cross_entropy", "weight", weight, input)
    losses = loss_ops.binary_cross_entropy(input, target, "none")
    return _reduce("binary_cross_entropy", losses * weight, reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Any, weight: Tensor | None = None,
                                     reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """ℓ = -w (pw · y log σ(x) + (1 - y) log(1 - σ(x))) from logits x, computed as torch
    does, (1 - y) x - (1 + (pw - 1) y) log σ(x), with a log σ that never overflows.
    `pos_weight` pw (a constant, e.g. one per class along the last dim) weighs the positive
    term, `weight` w the whole loss; both broadcast to the input's shape.

    >>> import autodiff as ad
    >>> loss = binary_cross_entropy_with_logits(ad.tensor([0.0]), ad.tensor([1.0]),
    ...                                         pos_weight=ad.tensor([3.0]))
    >>> round(loss.item(), 4)    # 3 log 2
    2.0794
    """
    op = "binary_cross_entropy_with_logits"
    if weight is None and pos_weight is None:
        return loss_ops.binary_cross_entropy_with_logits(input, target, reduction)
    check_reduction(op, reduction)
    if pos_weight is None:
        losses = loss_ops.binary_cross_entropy_with_logits(input, target, "none")
    else:
        pos_weight = _elementwise_weight(op, "pos_weight", pos_weight, input)
        target = _target(op, input, target)
        log_weight = (pos_weight - 1) * target + 1
        losses = (1 - target) * input - log_weight * logsigmoid(input)
    if weight is not None:
        losses = losses * _elementwise_weight(op, "weight", weight, input)
    return _reduce(op, losses, reduction)


def _weighted_class_losses(op: str, kernel: Any, input: Tensor, target: Tensor,
                           weight: Tensor | None, ignore_index: int) -> tuple[Any, ...]:
    """(w[tₙ]·ℓₙ for each kept target and 0 for each ignored one, the weights w[tₙ] (0 where
    ignored), the checked class weights, the mask of kept targets), ℓₙ from the fused
    `kernel` (nll_loss or cross_entropy) with reduction 'none'."""
    weight = None if weight is None else _class_weight(op, weight, input)
    kept, classes = _kept_targets(target, ignore_index)
    counts = _target_weights(kept, classes, weight, input.dtype)
    return ad.where(kept, kernel(input, classes, "none") * counts, 0), counts, weight, kept


def nll_loss(input: Tensor, target: Any, weight: Tensor | None = None, ignore_index: int = -100,
             reduction: str = "mean") -> Tensor:
    """ℓₙ = -w[tₙ] · input[n, tₙ] for log-probabilities `input` (N, C) and class indices
    `target` (N,) (also (C,) with a 0-d target, or (N, C, d…) with (N, d…)). Targets equal
    to ignore_index give ℓₙ = 0 and no gradient; "mean" is Σ ℓₙ / Σ w[tₙ] over the targets
    kept (a plain mean without `weight`, a constant of shape (C,))."""
    target = loss_ops.class_targets("nll_loss", input, target, reduction)
    if weight is None and not _is_class(ignore_index, input):
        try:
            return loss_ops.nll_loss(input, target, reduction)
        except TensorIndexError:
            pass                # a target outside the classes: see _is_class
    losses, counts, _, _ = _weighted_class_losses("nll_loss", loss_ops.nll_loss, input,
                                                  target, weight, ignore_index)
    return _reduce_counted(losses, counts, reduction)


def cross_entropy(input: Tensor, target: Any, weight: Tensor | None = None,
                  ignore_index: int = -100, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """nll_loss(log_softmax(input, dim=1), target, weight, ignore_index) from logits, the
    plain case as one stable node. Classes run along dim 1 (dim 0 for one sample (C,)).

    With label_smoothing ε, each kept sample's loss is (1 - ε) ℓₙ + (ε/C) Σ_c -w_c log p_nc
    (the "mean" still divides by Σ w[tₙ]). A float target of the input's shape holds class
    probabilities q: ℓₙ = -Σ_c w_c q_nc log p_nc (q smoothed to (1 - ε) q + ε/C), and
    "mean" divides by the number of samples, not by the weights (torch's rules).

    >>> import autodiff as ad
    >>> logits = ad.tensor([[0.0, 0.0], [5.0, 0.0]])
    >>> round(cross_entropy(logits, ad.tensor([1, -1]), ignore_index=-1).item(), 4)  # log 2
    0.6931
    """
    check_reduction("cross_entropy", reduction)
    check_setting("cross_entropy", "label_smoothing", label_smoothing)
    if _holds_floats(target):
        return _cross_entropy_probabilities(input, target, weight, ignore_index, reduction,
                                            label_smoothing)
    target = loss_ops.class_targets("cross_entropy", input, target, reduction)
    if weight is None and label_smoothing == 0 and not _is_class(ignore_index, input):
        try:
            return loss_ops.cross_entropy(input, target, reduction)
        except TensorIndexError:
            pass                # a target outside the classes: see _is_class
    picked, counts, weight, kept = _weighted_class_losses(
        "cross_entropy", loss_ops.cross_entropy, input, target, weight, ignore_index)
    if label_smoothing == 0:
        return _reduce_counted(picked, counts, reduction)
    axis = loss_ops.class_axis(input.ndim)
    log_probs = input.log_softmax(axis)
    if weight is not None:
        log_probs = log_probs * _along_classes(weight, input, axis)
    uniform = ad.where(kept, -log_probs.sum(axis), 0)              # Σ_c w_c · -log p_nc
    losses = (1 - label_smoothing) * picked + label_smoothing / input.shape[axis] * uniform
    return _reduce_counted(losses, counts, reduction)


def kl_div(input: Tensor, target: Any, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """ℓ = y (log y - x) for log-probabilities x and probabilities y (0 where y = 0), or
    e^y (y - x) for log-probabilities y with log_target=True: the pointwise KL(y ‖ e^x).
    "batchmean" divides the sum by the batch size (the KL divergence per sample); "mean"
    averages over every element, as torch does.

    >>> import autodiff as ad
    >>> y = ad.tensor([[0.5, 0.5, 0.0]])
    >>> x = ad.tensor([[0.25, 0.25, 0.5]]).log()
    >>> round(kl_div(x, y, reduction="batchmean").item(), 4)    # log 2
    0.6931
    """
    check_reduction("kl_div", reduction, KL_REDUCTIONS)
    losses = ad.kl_div(input, _target("kl_div", input, target), log_target=log_target)
    if reduction == "batchmean":
        total = losses.sum()
        return total / input.shape[0] if input.ndim else total
    return _reduce("kl_div", losses, reduction)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Any, margin: float = 0.0,
                          reduction: str = "mean") -> Tensor:
    """ℓₙ = 1 - cos(x1ₙ, x2ₙ) where yₙ = 1, max(0, cos(x1ₙ, x2ₙ) - margin) where yₙ = -1
    (0 for other y), with cos = Σ x1·x2 / √((Σ x1² + ε)(Σ x2² + ε)), ε = 1e-12, as torch.
    Inputs are (N, D) with target (N,), or (D,) with a 0-d target.

    >>> import autodiff as ad
    >>> a, b = ad.tensor([[1.0, 0.0], [1.0, 0.0]]), ad.tensor([[0.0, 1.0], [1.0, 1.0]])
    >>> cosine_embedding_loss(a, b, ad.tensor([1, -1]), reduction="none")
    tensor([1.        , 0.70710677])
    """
    check_reduction("cosine_embedding_loss", reduction)
    target = target if isinstance(target, Tensor) else ad.as_tensor(np.asarray(target))
    if input1.ndim not in (1, 2) or input2.shape != input1.shape \
            or target.shape != input1.shape[:-1]:
        raise ShapeError(f"cosine_embedding_loss: expected input1 and input2 of one shape, "
                         f"(N, D) with a target (N,) of 1 or -1 per pair, or (D,) with a 0-d "
                         f"target; got input1 {input1.shape}, input2 {input2.shape}, target "
                         f"{target.shape}")
    dim = input1.ndim - 1
    eps = 1e-12
    cos = (input1 * input2).sum(dim) / (((input1 * input1).sum(dim) + eps)
                                        * ((input2 * input2).sum(dim) + eps)).sqrt()
    losses = (ad.where(target == 1, 1 - cos, 0)
              + ad.where(target == -1, (cos - margin).clamp(min=0), 0))
    return _reduce("cosine_embedding_loss", losses, reduction)


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                        reduction: str = "mean") -> Tensor:
    """ℓ = max(0, -y · (x1 - x2) + margin): with y = 1, x1 should rank above x2 by at least
    the margin, with y = -1 below. The three tensors have one number of dims and broadcast.

    >>> import autodiff as ad
    >>> margin_ranking_loss(ad.tensor([1.0, 1.0]), ad.tensor([0.0, 0.0]), ad.tensor([1.0, -1.0]),
    ...                     reduction="none")
    tensor([0., 1.])
    """
    op = "margin_ranking_loss"
    check_reduction(op, reduction)
    target = target if isinstance(target, Tensor) else ad.as_tensor(np.asarray(target))
    shapes = (input1.shape, input2.shape, target.shape)
    if len({len(shape) for shape in shapes}) != 1:
        raise ShapeError(f"{op}: input1, input2 and target must have the same number of dims, "
                         f"got shapes {shapes[0]}, {shapes[1]} and {shapes[2]}; reshape the "
                         f"target to the inputs' shape")
    _check_broadcast(op, ("input1", "input2", "target"), shapes)
    return _reduce(op, (-target * (input1 - input2) + margin).clamp(min=0), reduction)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0,
                        p: float = 2, eps: float = 1e-6, swap: bool = False,
                        reduction: str = "mean") -> Tensor:
    """ℓ = max(0, d(a, pos) - d(a, neg) + margin), d = pairwise_distance(·, ·, p, eps) along
    the last dim: the anchor should be nearer the positive than the negative by the margin.
    With swap=True, d(a, neg) is min(d(a, neg), d(pos, neg)) (Balntas et al., 2016).

    >>> import autodiff as ad
    >>> a, pos, neg = ad.tensor([[0.0, 0.0]]), ad.tensor([[3.0, 4.0]]), ad.tensor([[1.0, 0.0]])
    >>> triplet_margin_loss(a, pos, neg, eps=0.0)             # 5 - 1 + 1
    tensor(5.)
    """
    op = "triplet_margin_loss"
    check_reduction(op, reduction)
    if not margin > 0:
        raise DomainError(f"{op}: margin must be greater than 0, got {margin}")
    shapes = (anchor.shape, positive.shape, negative.shape)
    if len({len(shape) for shape in shapes}) != 1:
        raise ShapeError(f"{op}: anchor, positive and negative must have the same number of "
                         f"dims, got shapes {shapes[0]}, {shapes[1]} and {shapes[2]}")
    _check_broadcast(op, ("anchor", "positive", "negative"), shapes)
    near = pairwise_distance(anchor, positive, p, eps)
    far = pairwise_distance(anchor, negative, p, eps)
    if swap:
        far = ad.minimum(far, pairwise_distance(positive, negative, p, eps))
    return _reduce(op, (margin + near - far).clamp(min=0), reduction)


def gaussian_nll_loss(input: Tensor, target: Tensor, var: Tensor | float, full: bool = False,
                      eps: float = 1e-6, reduction: str = "mean") -> Tensor:
    """The negative log-likelihood of the target under N(input, var):

        ℓ = ½ (log max(var, eps) + (x - y)² / max(var, eps))  (+ ½ log 2π if full)

    The clamp to eps is taken outside the graph, as torch does: where var < eps the value
    uses eps but the gradient flows to var as if unclamped. var has the input's shape, or
    it lacks the last dim, or has size 1 in one dim (one variance shared along it), or is a
    number; it must be >= 0.

    >>> import autodiff as ad
    >>> gaussian_nll_loss(ad.tensor([1.0]), ad.tensor([3.0]), ad.tensor([4.0]))  # ½(log 4 + 1)
    tensor(1.1931472)
    """
    op = "gaussian_nll_loss"
    if isinstance(var, (float, int, np.floating, np.integer)) and not isinstance(var, bool):
        if var < 0:
            raise DomainError(f"{op}: var must be >= 0 (a variance), got {var}")
        var = ad.full_like(input, float(var))
    elif (var < 0).any().item():
        raise DomainError(f"{op}: var must be >= 0 everywhere (variances), got a tensor of "
                          f"shape {var.shape} with {int((var < 0).sum().item())} negative "
                          f"entries")
    if var.shape != input.shape:
        if var.shape == input.shape[:-1]:
            var = var.unsqueeze(-1)                     # one variance per vector
        elif not (var.ndim == input.ndim
                  and sum(v for i, v in zip(input.shape, var.shape) if i != v) == 1):
            raise ShapeError(f"{op}: var of shape {var.shape} does not fit the input of shape "
                             f"{input.shape}; pass var of the input's shape, of its shape "
                             f"without the last dim, or with size 1 in one dim")
    check_reduction(op, reduction)
    # max(var, eps) in value, var in gradient: (var - var.detach()) is 0 with derivative 1
    var = ad.where(var < eps, var - var.detach() + eps, var)
    losses = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        losses = losses + 0.5 * math.log(2 * math.pi)
    return _reduce(op, losses, reduction)


def soft_margin_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """ℓ = log(1 + e^(−y·x)) for labels y = ±1, written −logsigmoid(y·x), which never
    overflows: the logistic loss of a two-class classifier with scores x.

    >>> import autodiff as ad
    >>> round(soft_margin_loss(ad.tensor([0.0]), ad.tensor([1.0])).item(), 4)   # log 2
    0.6931
    """
    op = "soft_margin_loss"
    check_reduction(op, reduction)
    return _reduce(op, -logsigmoid(_target(op, input, target) * input), reduction)


def multilabel_soft_margin_loss(input: Tensor, target: Any, weight: Tensor | None = None,
                                reduction: str = "mean") -> Tensor:
    """The binary cross-entropy of every class from logits x (N, C) or (C,) and targets y
    of 1 or 0 (the classes present), averaged over the C classes of each sample:

        ℓₙ = −(1/C) Σ_c w_c (y_c log σ(x_c) + (1 − y_c) log σ(−x_c))

    `weight` w (a constant, 1 by default) broadcasts to the input's shape.

    >>> import autodiff as ad
    >>> round(multilabel_soft_margin_loss(ad.zeros(1, 3), ad.tensor([[1.0, 0.0, 1.0]])).item(), 4)
    0.6931
    """
    op = "multilabel_soft_margin_loss"
    check_reduction(op, reduction)
    if input.ndim == 0:
        raise DimError(f"{op}: expected an input (N, C) or (C,), one logit per class along "
                       f"the last dim, got a 0-d tensor")
    target = _target(op, input, target)
    losses = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        losses = losses * _elementwise_weight(op, "weight", weight, input)
    return _reduce(op, losses.sum(-1) / input.shape[-1], reduction)


def hinge_embedding_loss(input: Tensor, target: Any, margin: float = 1.0,
                         reduction: str = "mean") -> Tensor:
    """ℓ = x where y = 1, max(0, margin − x) where y = −1, for distances x and labels y of
    similar (1) and dissimilar (−1) pairs: similar pairs are pulled together, dissimilar
    ones pushed at least `margin` apart. As torch: a y that is neither gets both terms,
    and max(0, ·) passes the gradient at 0.

    >>> import autodiff as ad
    >>> hinge_embedding_loss(ad.tensor([0.3, 0.3]), ad.tensor([1.0, -1.0]), reduction="none")
    tensor([0.3, 0.7])
    """
    op = "hinge_embedding_loss"
    check_reduction(op, reduction)
    target = _target(op, input, target)
    pushed = ad.where(target != 1, (margin - input).clamp(min=0), 0)
    pulled = ad.where(target != -1, input, 0)
    return _reduce(op, pushed + pulled, reduction)


def poisson_nll_loss(input: Tensor, target: Any, log_input: bool = True, full: bool = False,
                     eps: float = 1e-8, reduction: str = "mean") -> Tensor:
    """The negative log-likelihood of counts y under Poisson(λ), up to log y!:

        ℓ = eˣ − y·x            for x = log λ (log_input=True, the default)
        ℓ = x − y·log(x + eps)  for x = λ (log_input=False)

    full=True adds Stirling's approximation of log y!, y log y − y + ½ log(2πy), where
    y > 1 (as torch; the term is taken at y = 1 elsewhere and masked, so a target that
    requires grad gets 0 there, where torch's can get nan).

    >>> import autodiff as ad
    >>> poisson_nll_loss(ad.tensor([0.0]), ad.tensor([2.0]))         # e⁰ − 2·0
    tensor(1.)
    """
    op = "poisson_nll_loss"
    check_reduction(op, reduction)
    target = _target(op, input, target)
    if log_input:
        losses = input.exp() - target * input
    else:
        losses = input - target * (input + eps).log()
    if full:
        counted = target > 1
        y = ad.where(counted, target, 1)
        stirling = y * y.log() - y + 0.5 * (2 * math.pi * y).log()
        losses = losses + ad.where(counted, stirling, 0)
    return _reduce(op, losses, reduction)


def multi_margin_loss(input: Tensor, target: Any, p: int = 1, margin: float = 1.0,
                      weight: Tensor | None = None, reduction: str = "mean") -> Tensor:
    """The multi-class hinge loss of scores x (N, C) or (C,) and class indices y (N,) or
    0-d (int64): every other class i should score at least `margin` below the target's,

        ℓₙ = (1/C) Σ_{i ≠ y} w_y · max(0, margin − x[y] + x[i])ᵖ      (p = 1 or 2)

    with class weights w (a constant (C,), 1 by default). max(0, ·) has slope 0 at 0, as
    torch's.

    >>> import autodiff as ad
    >>> multi_margin_loss(ad.tensor([[0.1, 0.2, 0.4]]), ad.tensor([2]))   # (0.7 + 0.8) / 3
    tensor(0.5)
    """
    op = "multi_margin_loss"
    check_reduction(op, reduction)
    if p not in (1, 2):
        raise DomainError(f"{op}: p must be 1 or 2, got {p}")
    if input.ndim not in (1, 2) or input.shape[-1] == 0:
        raise ShapeError(f"{op}: expected a non-empty input (N, C) or (C,), got shape "
                         f"{input.shape}; it needs at least one class C (an empty batch, "
                         f"N = 0, is fine)")
    check_index_dtype(op, target)
    classes = input.shape[-1]
    scores = input.reshape(-1, classes)                                        # (N, C)
    if target.ndim > 1 or target.numel() != scores.shape[0]:
        raise ShapeError(f"{op}: expected one target class per sample, shape "
                         f"({scores.shape[0]},) (or 0-d for one sample), for the input of "
                         f"shape {input.shape}, got {target.shape}")
    classes_of = CheckedIndices.apply(target.reshape(-1, 1), size=classes, op=op,
                                      counted="classes")                       # (N, 1)
    hinge = (margin - scores.gather(1, classes_of) + scores).relu()
    if p == 2:
        hinge = hinge * hinge
    hinge = ad.where(ad.arange(classes) == classes_of, 0, hinge)               # i ≠ y
    if weight is not None:
        hinge = hinge * _class_weight(op, weight, input)[classes_of]
    return _reduce(op, (hinge.sum(1) / classes).reshape(target.shape), reduction)


def multilabel_margin_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """The multi-label hinge loss of scores x (N, C) or (C,) and targets y of the same
    shape (int64) holding each sample's classes, ended by the first −1 (the rest is
    ignored): every target class j should score at least 1 above every other class i,

        ℓₙ = (1/C) Σ_j Σ_{i not a target} max(0, 1 − (x[j] − x[i]))

    (a class listed twice counts twice, as torch's). max(0, ·) has slope 0 at 0, as
    torch's. A composite: the targets, a (N, C, C) table of pairs, relu and a masked sum.

    >>> import autodiff as ad
    >>> x = ad.tensor([[0.1, 0.2, 0.4, 0.8]])
    >>> multilabel_margin_loss(x, ad.tensor([[3, 0, -1, 1]]))     # targets 3 and 0
    tensor(0.85)
    """
    op = "multilabel_margin_loss"
    check_reduction(op, reduction)
    if not isinstance(input, Tensor) or input.ndim not in (1, 2) or input.shape[-1] == 0:
        shape = input.shape if isinstance(input, Tensor) else type(input).__name__
        raise ShapeError(f"{op}: expected a non-empty input (N, C) or (C,), one score per "
                         f"class, got {shape}; it needs at least one class C (an empty "
                         f"batch, N = 0, is fine)")
    check_index_dtype(op, target)
    if target.shape != input.shape:
        raise ShapeError(f"{op}: target must have the input's shape {input.shape}: each "
                         f"sample's target classes, then -1 to end them (e.g. [3, 0, -1, "
                         f"...]), got {target.shape}")
    classes = input.shape[-1]
    scores, target = input.reshape(-1, classes), target.reshape(-1, classes)     # (N, C)
    listed = (target == -1).to(ad.int64).cumsum(1) == 0          # before the first -1
    # -1 is checked as class 0: any -1 ends the list, any other value must be a class
    targets = CheckedIndices.apply(ad.where(target == -1, 0, target), size=classes, op=op,
                                   counted="classes (and -1, which ends a sample's list)")
    targets = ad.where(listed, targets, 0)                                         # (N, C)
    is_target = ((targets.unsqueeze(2) == ad.arange(classes)) & listed.unsqueeze(2)).any(1)
    picked = scores.gather(1, targets)                          # x[j] for each listed j
    hinge = (1 - picked.unsqueeze(2) + scores.unsqueeze(1)).relu()          # (N, j, i)
    counted = listed.unsqueeze(2) & ~is_target.unsqueeze(1)
    losses = ad.where(counted, hinge, 0).sum((1, 2)) / classes
    return _reduce(op, losses.reshape(input.shape[:-1]), reduction)


def triplet_margin_with_distance_loss(anchor: Tensor, positive: Tensor, negative: Tensor, *,
                                      distance_function: Callable[[Tensor, Tensor], Tensor]
                                      | None = None,
                                      margin: float = 1.0, swap: bool = False,
                                      reduction: str = "mean") -> Tensor:
    """ℓ = max(0, d(a, pos) − d(a, neg) + margin) for any distance d (default:
    pairwise_distance, the 2-norm of the difference along the last dim): the anchor should
    be nearer the positive than the negative by the margin. With swap=True, d(a, neg) is
    min(d(a, neg), d(pos, neg)) (Balntas et al., 2016). The gradient is d's, through
    minimum and relu (slope 0 where the hinge is 0).

    >>> import autodiff as ad
    >>> a, pos, neg = ad.tensor([[0.0, 0.0]]), ad.tensor([[3.0, 4.0]]), ad.tensor([[1.0, 0.0]])
    >>> l1 = lambda x, y: (x - y).abs().sum(-1)
    >>> triplet_margin_with_distance_loss(a, pos, neg, distance_function=l1)    # 7 − 1 + 1
    tensor(7.)
    """
    op = "triplet_margin_with_distance_loss"
    check_reduction(op, reduction)
    if not margin > 0:
        raise DomainError(f"{op}: margin must be greater than 0, got {margin}")
    dims = (anchor.ndim, positive.ndim, negative.ndim)
    if len(set(dims)) != 1:
        raise ShapeError(f"{op}: anchor, positive and negative must have the same number of "
                         f"dims, got {dims[0]}-D, {dims[1]}-D and {dims[2]}-D (shapes "
                         f"{anchor.shape}, {positive.shape} and {negative.shape})")
    distance = pairwise_distance if distance_function is None else distance_function
    if not callable(distance):
        raise TypeError(f"{op}: distance_function must be a callable of two tensors (e.g. "
                        f"nn.PairwiseDistance() or a function), got "
                        f"{type(distance_function).__name__}")
    near = distance(anchor, positive)
    far = distance(anchor, negative)
    if swap:
        far = ad.minimum(far, distance(positive, negative))
    return _reduce(op, (margin + near - far).clamp(min=0), reduction)


def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths: Tensor | Sequence[int],
             target_lengths: Tensor | Sequence[int], blank: int = 0, reduction: str = "mean",
             zero_infinity: bool = False) -> Tensor:
    """The connectionist temporal classification loss (Graves et al., 2006): for each
    sequence, ℓₙ = −log Σ_π Π_t y[t, π_t] over every alignment π of length Tₙ that
    collapses to the target (repeats merged, then blanks removed).

    Computed by the forward recursion over the target with a blank between and around its
    labels, l' = (b, l₁, b, l₂, …, b), in log space:

        α₀(0) = y[0, b],  α₀(1) = y[0, l₁]  (log-probabilities; −inf elsewhere)
        αₜ(s) = log(e^αₜ₋₁(s) + e^αₜ₋₁(s−1) + e^αₜ₋₁(s−2)) + y[t, l'ₛ]

    the third term only where l'ₛ is a label unlike l'ₛ₋₂, and ℓₙ = −log(e^α(2Sₙ) +
    e^α(2Sₙ−1)) at t = Tₙ − 1. A composite of gather, logsumexp and where, so the
    gradient is the engine's: the exact derivative of ℓ with respect to log_probs.

    Args:
        log_probs: (T, N, C) or, unbatched, (T, C): log-probabilities over C classes
            (the blank included) at each of T steps, e.g. from log_softmax(dim=2).
        targets: int, (N, S) padded (row n's first Sₙ values used) or 1-D, all targets
            concatenated (length ΣSₙ); (S,) unbatched. Values in [0, C), never the blank.
        input_lengths: Tₙ ≤ T per sequence, a tensor (N,) or a tuple of ints.
        target_lengths: Sₙ per sequence (S ≤ the padded length), a tensor or tuple.
        blank: the blank's class index (default 0).
        reduction: "mean" (default: each ℓₙ / max(Sₙ, 1), then the mean over the
            batch, as torch), "sum" or "none" (one loss per sequence).
        zero_infinity: give 0 (and a zero gradient) for a sequence with no valid
            alignment (Tₙ too short for its target), whose loss is otherwise inf.

    torch's own gradient with respect to log_probs adds e^log_probs at every step
    t < Tₙ: it assumes log_probs come from log_softmax, through which that term vanishes.
    The gradients with respect to the logits before log_softmax are the same.

    >>> import autodiff as ad
    >>> log_probs = ad.log(ad.full((2, 1, 2), 0.5))                      # T=2, C=2
    >>> round(ctc_loss(log_probs, ad.tensor([[1]]), (2,), (1,)).item(), 4)   # −log(3/4)
    0.2877
    """
    op = "ctc_loss"
    check_reduction(op, reduction)
    if not isinstance(log_probs, Tensor) or log_probs.ndim not in (2, 3) \
            or log_probs.dtype.kind != "f":
        shape = log_probs.shape if isinstance(log_probs, Tensor) else type(log_probs).__name__
        raise ShapeError(f"{op}: log_probs must be a floating-point tensor (T, N, C) or, "
                         f"unbatched, (T, C), got {shape}")
    if log_probs.numel() == 0:
        raise ShapeError(f"{op}: log_probs of shape {log_probs.shape} is empty (T, N or C is "
                         f"0), which torch refuses too; skip the loss for an empty batch")
    check_index_dtype(op, targets)
    batched = log_probs.ndim == 3
    steps, classes = log_probs.shape[0], log_probs.shape[-1]
    batch = log_probs.shape[1] if batched else 1
    if not 0 <= blank < classes:
        raise DomainError(f"{op}: blank must be a class index in [0, {classes}) for "
                          f"log_probs of shape {log_probs.shape}, got {blank}")
    input_lengths = _ctc_lengths(op, "input_lengths", input_lengths, batch, batched)
    target_lengths = _ctc_lengths(op, "target_lengths", target_lengths, batch, batched)
    if (input_lengths > steps).any() or (input_lengths < 0).any():
        raise DomainError(f"{op}: input_lengths must lie in [0, T = {steps}] (the steps of "
                          f"log_probs {log_probs.shape}), got {input_lengths.tolist()}")
    if (target_lengths < 0).any():
        raise DomainError(f"{op}: target_lengths must be >= 0, got {target_lengths.tolist()}")
    labels = _ctc_labels(op, targets.numpy(), target_lengths, batched, blank, classes)
    if not batched:
        log_probs = log_probs.unsqueeze(1)
    # the extended targets l' (N, 2S + 1): blanks between and around the labels
    extended = np.full((batch, 2 * labels.shape[1] + 1), blank, dtype=np.int64)
    extended[:, 1::2] = labels
    positions = extended.shape[1]
    skips = np.zeros_like(extended, dtype=bool)       # s − 2 → s: a label unlike l'ₛ₋₂
    skips[:, 2:] = (extended[:, 2:] != blank) & (extended[:, 2:] != extended[:, :-2])
    emissions = log_probs.gather(2, ad.tensor(np.ascontiguousarray(
        np.broadcast_to(extended, (steps, batch, positions)))))                 # (T, N, 2S+1)
    unreachable = ad.full((batch, 2), -math.inf, dtype=log_probs.dtype)
    starts = ad.tensor((np.arange(positions) < 2)[None, :] & (
        (np.arange(positions) == 0) | (target_lengths[:, None] > 0)))
    alpha = ad.where(starts, emissions[0], -math.inf)                          # α₀ (N, 2S+1)
    running = ad.tensor(input_lengths[:, None])
    for t in range(1, int(input_lengths.max())):
        before = ad.cat([unreachable, alpha], dim=1)       # before[:, s + 2] = αₜ₋₁(s)
        advance = before[:, 1:positions + 1]                                # αₜ₋₁(s − 1)
        skip = ad.where(ad.tensor(skips), before[:, :positions], -math.inf)   # αₜ₋₁(s − 2)
        step = _log_add(ad.stack([alpha, advance, skip])) + emissions[t]
        alpha = ad.where(t < running, step, alpha)     # a finished sequence keeps its α
    ends = np.stack([2 * target_lengths, np.maximum(2 * target_lengths - 1, 0)], axis=1)
    finals = ad.where(ad.tensor(np.stack([np.ones(batch, bool), target_lengths > 0], 1)),
                      alpha.gather(1, ad.tensor(ends)), -math.inf)             # (N, 2)
    losses = -_log_add(finals.T)                                               # (N,)
    if (input_lengths == 0).any():      # no steps: only the empty target, with p = 1
        empty = np.where(target_lengths == 0, 0.0, math.inf).astype(losses.dtype)
        losses = ad.where(ad.tensor(input_lengths == 0), ad.tensor(empty), losses)
    if zero_infinity:
        losses = ad.where(ad.isinf(losses), 0, losses)
    if reduction == "mean":
        counted = np.maximum(target_lengths, 1).astype(losses.dtype)
        return (losses / ad.tensor(counted)).mean()
    if reduction == "sum":
        return losses.sum()
    return losses if batched else losses[0]


def _log_add(terms: Tensor) -> Tensor:
    """log Σ e^x along dim 0, −inf where every term is −inf, with a gradient free of NaN
    there: such columns are summed as zeros and replaced by −inf afterwards (`where`
    sends them no gradient)."""
    dead = (terms == -math.inf).all(0)
    total = ad.where(dead, 0, terms).logsumexp(0)
    return ad.where(dead, -math.inf, total)


def _ctc_lengths(op: str, name: str, lengths: Any, batch: int, batched: bool) -> np.ndarray:
    """input_lengths or target_lengths as int64 numbers, one per sequence, checked."""
    if isinstance(lengths, Tensor):
        array = lengths.numpy()
    elif isinstance(lengths, (tuple, list)):
        array = np.asarray(lengths)
    else:
        raise TypeError(f"{op}: {name} must be a tensor of ints or a tuple of ints, one per "
                        f"sequence, got {type(lengths).__name__}; e.g. ({name[0]}₁, …) or "
                        f"ad.tensor([...])")
    if array.size and array.dtype.kind not in "iu":
        raise DtypeError(f"{op}: {name} must hold integers, got dtype {array.dtype}")
    if array.size != batch or (batched and array.ndim != 1):
        expected = f"({batch},)" if batched else "one number (0-d or (1,))"
        raise ShapeError(f"{op}: {name} must hold one length per sequence, {expected}, got "
                         f"shape {array.shape}")
    return array.reshape(batch).astype(np.int64)


def _ctc_labels(op: str, targets: np.ndarray, lengths: np.ndarray, batched: bool,
                blank: int, classes: int) -> np.ndarray:
    """Each sequence's labels (N, max Sₙ), the unused places holding the blank; checks the
    layout (padded or concatenated) and that every label is a class other than the blank."""
    longest = int(lengths.max(initial=0))
    labels = np.full((lengths.size, longest), blank, dtype=np.int64)
    if (targets.ndim == 2 and batched) or (targets.ndim == 1 and not batched):
        padded = targets.reshape(lengths.size, -1)
        if longest > padded.shape[1]:
            raise ShapeError(f"{op}: target_lengths {lengths.tolist()} exceed the padded "
                             f"targets' length S = {padded.shape[1]} (targets of shape "
                             f"{targets.shape})")
        rows = [padded[n, :length] for n, length in enumerate(lengths)]
    elif targets.ndim == 1:
        if int(lengths.sum()) > targets.size:
            raise ShapeError(f"{op}: concatenated targets of length {targets.size} are "
                             f"shorter than the sum of target_lengths, {int(lengths.sum())}")
        rows = np.split(targets[:int(lengths.sum())], np.cumsum(lengths)[:-1])
    else:
        raise ShapeError(f"{op}: targets must be (N, S) padded or 1-D concatenated for "
                         f"batched log_probs, (S,) for unbatched, got {targets.shape}")
    for n, row in enumerate(rows):
        bad = (row < 0) | (row >= classes) | (row == blank)
        if bad.any():
            raise DomainError(f"{op}: target {n} holds {row[bad][0]}, but labels must be "
                              f"classes in [0, {classes}) other than the blank ({blank})")
        labels[n, :row.size] = row
    return labels


def _check_broadcast(op: str, names: tuple[str, ...], shapes: tuple[tuple[int, ...], ...]
                     ) -> None:
    """A ShapeError naming `op` and the tensors unless their shapes broadcast together."""
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        listed = ", ".join(f"{name} {shape}" for name, shape in zip(names, shapes))
        raise ShapeError(f"{op}: the shapes do not broadcast to a common shape: {listed}; "
                         f"pass tensors of one shape (or with size-1 dims)") from None


def check_reduction(op: str, reduction: str,
                    allowed: tuple[str, ...] = loss_ops.REDUCTIONS) -> None:
    """A ValueError naming the reductions `op` takes, unless `reduction` is one."""
    if reduction not in allowed:
        names = ", ".join(repr(name) for name in allowed[:-1])
        raise ValueError(f"{op}: reduction must be {names} or {allowed[-1]!r}, got "
                         f"{reduction!r}")


def check_setting(op: str, name: str, value: float) -> None:
    """A DomainError when a loss's setting (see LOSS_SETTINGS) breaks its rule."""
    allowed, rule = LOSS_SETTINGS[name]
    if not allowed(value):
        raise DomainError(f"{op}: {name} must be {rule}, got {value}")


def _target(op: str, input: Tensor, target: Any) -> Any:
    loss_ops.check_same_shape(op, input, target)
    return target if isinstance(target, Tensor) else ad.tensor(
        np.asarray(target, dtype=input.dtype))


def _reduce(op: str, losses: Tensor, reduction: str) -> Tensor:
    check_reduction(op, reduction)
    if reduction == "none":
        return losses
    return losses.mean() if reduction == "mean" else losses.sum()


# ---------------------------------------------------------------- loss options

def _is_class(ignore_index: int, input: Tensor) -> bool:
    """Whether ignore_index is one of the input's classes.

    When it is not, the plain losses try their fused kernel first: it refuses a target
    outside the classes with a TensorIndexError, and only then is the composite path
    taken, which drops the targets equal to ignore_index (and reports any other target
    outside the classes with the kernel's own error). So the choice needs no look at the
    values, and ad.compile replays whichever path the traced call took (a function
    traced without ignored targets raises that IndexError on a call that has some). When
    ignore_index is a class, the kernel would take it as one: the composite path it is.
    """
    return 0 <= ignore_index < input.shape[loss_ops.class_axis(input.ndim)]


def _kept_targets(target: Any, ignore_index: int) -> tuple[Tensor, Tensor]:
    """(kept, classes): which targets are not ignore_index, and the targets with each
    ignored one replaced by class 0, so that the kernels pick a loss for it (which is
    then multiplied by 0); the kernels check that the others are classes."""
    target = target if isinstance(target, Tensor) else ad.as_tensor(target)
    kept = target != ignore_index
    return kept, ad.where(kept, target, 0)


def _target_weights(kept: Tensor, classes: Tensor, weight: Tensor | None,
                    dtype: np.dtype) -> Tensor:
    """w[tₙ] for each kept target (1 without weight), 0 for each ignored one: what each
    sample's loss is multiplied by, and what it counts in the mean."""
    return kept.to(dtype) if weight is None else ad.where(kept, weight[classes], 0)


def _class_weight(op: str, weight: Any, input: Tensor) -> Tensor:
    """The class weights as a constant of shape (C,), checked against the input."""
    weight = _constant(op, weight, input)
    classes = input.shape[loss_ops.class_axis(input.ndim)]
    if weight.shape != (classes,):
        raise ShapeError(f"{op}: weight must hold one number per class, shape ({classes},) "
                         f"for an input of shape {input.shape}, got {weight.shape}")
    return weight


def _reduce_counted(losses: Tensor, counts: Tensor, reduction: str) -> Tensor:
    """Reduce per-sample losses where sample n counts counts[n] in the mean: torch's
    weighted mean Σ ℓₙ / Σ w[tₙ]. With every target ignored, torch's mean is 0/0 = nan
    with a zero gradient; dividing by 0 would send each sample dL/dℓₙ = (1/0) · 0 = nan,
    so the division is by 1 there and the nan comes from `where`, whose other branch gets
    dL/dy · 0 = 0."""
    if reduction == "none":
        return losses
    total = losses.sum()
    if reduction == "sum":
        return total
    count = counts.sum()
    nothing = count == 0
    return ad.where(nothing, math.nan, total / ad.where(nothing, 1, count))


def _along_classes(weight: Tensor, input: Tensor, axis: int) -> Tensor:
    """Class weights (C,) shaped to broadcast along the class axis of `input`."""
    return weight.reshape((-1,) + (1,) * (input.ndim - axis - 1))


def _holds_floats(target: Any) -> bool:
    """Whether a target holds floats (class probabilities) rather than class indices."""
    dtype = target.dtype if isinstance(target, (Tensor, np.ndarray)) else np.asarray(
        target).dtype
    return dtype.kind == "f"


def _cross_entropy_probabilities(input: Tensor, target: Any, weight: Any, ignore_index: int,
                                 reduction: str, label_smoothing: float) -> Tensor:
    """Cross-entropy against class probabilities q of the input's shape: -Σ_c w_c q_c log p_c
    per sample."""
    shape = tuple(target.shape) if isinstance(target, Tensor) else np.shape(target)
    if shape != input.shape:
        raise DtypeError(f"cross_entropy: a float target holds class probabilities and must "
                         f"have the input's shape {input.shape}, got {shape}; for class "
                         f"indices pass integers (int64), e.g. target.long()")
    if ignore_index != -100:
        raise DtypeError(f"cross_entropy: ignore_index={ignore_index} applies to class-index "
                         f"targets, but this float target holds class probabilities; leave "
                         f"ignore_index out, or pass class indices (int64)")
    target = _target("cross_entropy", input, target)
    axis = loss_ops.class_axis(input.ndim)
    if label_smoothing:
        target = target * (1 - label_smoothing) + label_smoothing / input.shape[axis]
    terms = input.log_softmax(axis) * target
    if weight is not None:
        terms = terms * _along_classes(_class_weight("cross_entropy", weight, input), input,
                                       axis)
    return _reduce("cross_entropy", -terms.sum(axis), reduction)


def _elementwise_weight(op: str, name: str, weight: Any, input: Tensor) -> Tensor:
    """A weight (constant) that broadcasts to the input's shape without changing it."""
    weight = _constant(op, weight, input)
    try:
        fits = np.broadcast_shapes(weight.shape, input.shape) == input.shape
    except ValueError:
        fits = False
    if not fits:
        raise ShapeError(f"{op}: {name} of shape {weight.shape} does not broadcast to the "
                         f"input's shape {input.shape}; give it that shape, or one that "
                         f"broadcasts to it, e.g. ({input.shape[-1] if input.ndim else 1},) "
                         f"for one per class along the last dim")
    return weight


def _constant(op: str, weight: Any, input: Tensor) -> Tensor:
    """A weight as a tensor in the input's dtype, outside the graph: weights are constants
    (torch computes no gradient for them either)."""
    if isinstance(weight, str):
        raise TypeError(f"{op}: weight must be a tensor, got the string {weight!r}; the "
                        f"weight comes before reduction, as in torch: pass "
                        f"reduction={weight!r} by name")
    if not isinstance(weight, Tensor):
        return ad.tensor(np.asarray(weight, dtype=input.dtype))
    if weight.requires_grad:
        weight = weight.detach()
    return weight if weight.dtype == input.dtype else weight.to(input.dtype)


# ---------------------------------------------------------------- attention


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor,
                                 attn_mask: Tensor | None = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None
                                 ) -> Tensor:
    """softmax(Q Kᵀ · scale + M) V: each query's output is an average of the values,
    weighted by how well the query matches each key.

        scores  = Q Kᵀ · scale               (scale = 1/√E unless given)
        scores += M                           (the mask, see below)
        weights = softmax(scores) along the keys, then dropout with p = dropout_p
        output  = weights V

    Args:
        query: Q, (*, L, E): L queries of E features; * is any number of batch dims.
        key: K, (*, S, E): S keys.
        value: V, (*, S, Ev): one value per key.
        attn_mask: broadcastable to (*, L, S). Boolean: True where the query may attend
            to the key (-inf is added where False). Float: added to the scores.
        dropout_p: the probability of zeroing an attention weight (the survivors scaled
            by 1/(1 - p)), drawn from the shared generator; always applied when > 0, as
            torch's function has no training flag (pass 0.0 in evaluation).
        is_causal: query i attends to keys 0..i only (the lower triangle of an L × S
            mask, aligned top-left as torch's); then attn_mask must be None.
        scale: the factor of the scores (default 1/√E).

    A query whose every key is masked gets all-zero weights and a zero output (torch's
    behaviour here), not the NaN a plain softmax of -inf would give.

    Shape:
        output (*, L, Ev).

    Example:
    >>> import autodiff as ad
    >>> q = ad.tensor([[1.0, 0.0]])                       # one query
    >>> k = ad.tensor([[10.0, 0.0], [0.0, 10.0]])         # matches the first key best
    >>> v = ad.tensor([[1.0, 2.0], [3.0, 4.0]])
    >>> scaled_dot_product_attention(q, k, v).numpy().round(3)
    array([[1.002, 2.002]], dtype=float32)
    >>> scaled_dot_product_attention(q, k, v, attn_mask=ad.tensor([[False, True]]))
    tensor([[3., 4.]])
    """
    check_attention_shapes("scaled_dot_product_attention", query, key, value)
    if is_causal:
        if attn_mask is not None:
            raise ValueError("scaled_dot_product_attention: give attn_mask or is_causal=True, "
                             "not both (is_causal makes the causal mask itself); fold the "
                             "causal triangle into your mask instead")
        length, source_length = query.shape[-2], key.shape[-2]
        attn_mask = ad.ones(length, source_length, dtype=ad.bool).tril()
    output, _ = attend(query, key, value, additive_mask(attn_mask, attend_where=True,
                                                        dtype=query.dtype),
                       dropout_p, scale)
    return output


def attend(query: Tensor, key: Tensor, value: Tensor, mask: Tensor | None,
           dropout_p: float, scale: float | None) -> tuple[Tensor, Tensor]:
    """(softmax(Q Kᵀ · scale + mask) V, the weights): the attention both the function and
    the layer compute, `mask` already additive (0 to take part, -inf to mask out)."""
    check_probability("scaled_dot_product_attention", dropout_p)
    if scale is None:
        scale = 1 / math.sqrt(query.shape[-1])
    scores = query @ key.transpose(-2, -1) * scale                      # (*, L, S)
    if mask is not None:
        scores = scores + mask
    weights = safe_softmax(scores)
    if dropout_p > 0:
        weights = dropout(weights, dropout_p, training=True)
    return weights @ value, weights                                     # (*, L, Ev)


def safe_softmax(scores: Tensor) -> Tensor:
    """softmax along the last dim, with all-zero weights for a row of -inf (a query with
    no key to attend to) where a plain softmax gives 0/0 = NaN. Such rows are replaced by
    0 before the softmax, so no NaN reaches the backward pass either."""
    dead = (scores == -math.inf).all(-1, keepdim=True)
    weights = ad.where(dead, 0.0, scores).softmax(-1)
    return ad.where(dead, 0.0, weights)


def additive_mask(mask: Tensor | None, attend_where: bool, dtype: Any) -> Tensor | None:
    """A mask as numbers to add to the scores. A boolean mask becomes 0 where a key takes
    part and -inf where it is masked out; `attend_where` says which of the two True
    means (True for scaled_dot_product_attention, False for MultiheadAttention). A float
    mask is added as it is."""
    if mask is None:
        return None
    if not isinstance(mask, Tensor):
        raise TypeError(f"attention: a mask must be a Tensor (bool or float), got "
                        f"{type(mask).__name__}; wrap it: ad.tensor(mask)")
    if mask.dtype == ad.bool:
        masked_out = ~mask if attend_where else mask
        return ad.zeros(mask.shape, dtype=dtype).masked_fill(masked_out, -math.inf)
    if mask.dtype.kind != "f":
        raise DtypeError(f"attention: a mask must be bool or floating point, got "
                         f"{mask.dtype}; use mask.bool() for True/False, or a float mask "
                         f"to add to the scores")
    return mask.to(dtype)


def check_attention_shapes(op: str, query: Tensor, key: Tensor, value: Tensor) -> None:
    """query (*, L, E), key (*, S, E), value (*, S, Ev)."""
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise ShapeError(f"{op}: query, key and value need at least 2 dims (*, sequence, "
                         f"features), got shapes {query.shape}, {key.shape}, {value.shape}")
    if query.shape[-1] != key.shape[-1]:
        raise ShapeError(f"{op}: query {query.shape} and key {key.shape} must have the same "
                         f"number of features E (their last dim) to be compared")
    if key.shape[-2] != value.shape[-2]:
        raise ShapeError(f"{op}: key {key.shape} and value {value.shape} must hold the same "
                         f"number of items S (their dim -2): one value per key")
