"""Loss modules: each wraps the nn.functional loss of the same name with a `reduction`
("mean", the default; "sum"; or "none" for one loss per element) and its other settings.

A `weight` (or `pos_weight`) tensor is a constant of the loss, held as a buffer as torch
holds it: state_dict() saves it and .to() converts it. hyperparameters() gives it as a
list of numbers, so a model file rebuilds the loss (JSON cannot hold a tensor). torch's
repr shows none of a loss's settings (`CrossEntropyLoss()`), so all are `hidden`.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

import autodiff as ad
from autodiff.ops.losses import REDUCTIONS
from autodiff.tensor import Tensor

from . import functional as F
from .module import Module, builtin_layer, hidden

Weight = Tensor | Sequence[Any] | None
"""A loss's weight: a tensor, or nested lists of numbers (as hyperparameters() gives it)."""


class Loss(Module):
    """Base of the loss modules: stores and checks `reduction`. A loss's other settings
    are stored as attributes of their names (tensors as buffers)."""

    SETTINGS = (hidden("reduction"),)
    reductions: ClassVar[tuple[str, ...]] = REDUCTIONS

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        F.check_reduction(type(self).__name__, reduction, self.reductions)
        self.reduction = reduction

    def _register_weight(self, name: str, weight: Weight) -> None:
        """Hold a weight as a buffer (None stays None); lists become tensors."""
        if isinstance(weight, str):
            raise TypeError(f"{type(self).__name__}: {name} must be a tensor, got the string "
                            f"{weight!r}; the weight comes before reduction, as in torch: "
                            f"pass reduction={weight!r} by name")
        if weight is not None and not isinstance(weight, Tensor):
            weight = ad.tensor(np.asarray(weight, dtype=ad.get_default_dtype()))
        self.register_buffer(name, weight)

    @classmethod
    def state_shapes(cls, **hyperparameters: Any) -> dict[str, tuple[int, ...]]:
        """The weights' shapes, from the nested lists hyperparameters() gives."""
        return {name: tuple(np.shape(value)) for name, value in hyperparameters.items()
                if name in ("weight", "pos_weight") and value is not None}


@builtin_layer
class MSELoss(Loss):
    """(x - y)² per element, reduced.

    >>> import autodiff as ad, nn
    >>> nn.MSELoss()(ad.tensor([1.0, 2.0]), ad.tensor([0.0, 0.0]))
    tensor(2.5)
    """

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.mse_loss(input, target, reduction=self.reduction)


@builtin_layer
class L1Loss(Loss):
    """|x - y| per element, reduced."""

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.l1_loss(input, target, reduction=self.reduction)


@builtin_layer
class SmoothL1Loss(Loss):
    """½ d² / β where |d| < β, else |d| - ½ β, per element d = x - y, reduced: quadratic
    near 0 and linear beyond β (β = 0 gives L1Loss).

    Args:
        reduction: "mean" (default), "sum" or "none".
        beta: where the quadratic piece turns linear (default 1.0, >= 0).

    >>> import autodiff as ad
    >>> SmoothL1Loss(beta=0.5)(ad.tensor([0.25, 2.0]), ad.tensor([0.0, 0.0]))
    tensor(0.90625)
    """

    SETTINGS = (hidden("reduction"), hidden("beta"))

    def __init__(self, reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__(reduction)
        F.check_setting("SmoothL1Loss", "beta", beta)
        self.beta = beta

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


@builtin_layer
class HuberLoss(Loss):
    """½ d² where |d| < δ, else δ (|d| - ½ δ), per element d = x - y, reduced: δ times
    SmoothL1Loss with β = δ.

    Args:
        reduction: "mean" (default), "sum" or "none".
        delta: where the quadratic piece turns linear (default 1.0, > 0).

    >>> import autodiff as ad
    >>> HuberLoss(delta=0.5)(ad.tensor([0.25, 2.0]), ad.tensor([0.0, 0.0]))
    tensor(0.453125)
    """

    SETTINGS = (hidden("reduction"), hidden("delta"))

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction)
        F.check_setting("HuberLoss", "delta", delta)
        self.delta = delta

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


@builtin_layer
class BCELoss(Loss):
    """-w (y log p + (1 - y) log(1 - p)) per element for probabilities p, reduced (logs
    clamped to >= -100).

    Args:
        weight: a constant that broadcasts to the input's shape (default: none, w = 1).
        reduction: "mean" (default, the mean of w·ℓ), "sum" or "none".
    """

    SETTINGS = (hidden("weight"), hidden("reduction"))

    def __init__(self, weight: Weight = None, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self._register_weight("weight", weight)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.binary_cross_entropy(input, target, self.weight, self.reduction)


@builtin_layer
class BCEWithLogitsLoss(Loss):
    """BCELoss of sigmoid(x), computed from logits x without overflow:
    -w (pw · y log σ(x) + (1 - y) log(1 - σ(x))) per element, reduced.

    Args:
        weight: a constant that broadcasts to the input's shape (default: none, w = 1).
        reduction: "mean" (default), "sum" or "none".
        pos_weight: the weight pw of the positive term, e.g. one per class along the last
            dim, (C,) for inputs (N, C) (default: none, pw = 1). pw = #negatives /
            #positives balances a class that is rarely positive.

    >>> import autodiff as ad, nn
    >>> loss = nn.BCEWithLogitsLoss(pos_weight=ad.tensor([3.0, 1.0]))
    >>> round(loss(ad.zeros(1, 2), ad.tensor([[1.0, 1.0]])).item(), 4)    # (3 + 1) log 2 / 2
    1.3863
    """

    SETTINGS = (hidden("weight"), hidden("reduction"), hidden("pos_weight"))

    def __init__(self, weight: Weight = None, reduction: str = "mean",
                 pos_weight: Weight = None) -> None:
        super().__init__(reduction)
        self._register_weight("weight", weight)
        self._register_weight("pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.binary_cross_entropy_with_logits(input, target, self.weight, self.reduction,
                                                  self.pos_weight)


@builtin_layer
class NLLLoss(Loss):
    """-w[t] input[n, t] for log-probabilities (N, C) and int64 class indices t (N,);
    targets equal to ignore_index count for nothing.

    Args:
        weight: one constant per class, (C,) (default: none, all 1).
        ignore_index: a target value to skip (default -100): loss 0, no gradient, and not
            counted in the mean.
        reduction: "mean" (default, Σ ℓₙ / Σ w[tₙ] over the targets kept), "sum" or "none".
    """

    SETTINGS = (hidden("weight"), hidden("ignore_index"), hidden("reduction"))

    def __init__(self, weight: Weight = None, ignore_index: int = -100,
                 reduction: str = "mean") -> None:
        super().__init__(reduction)
        self._register_weight("weight", weight)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.nll_loss(input, target, self.weight, self.ignore_index, self.reduction)


@builtin_layer
class CrossEntropyLoss(Loss):
    """-w[t] log softmax(input)[n, t] from logits (N, C) and int64 class indices t (N,):
    LogSoftmax and NLLLoss in one stable step. Also (C,) with a 0-d target, (N, C, d…)
    with (N, d…), and class probabilities q of the input's shape: -Σ_c w_c q_c log p_c.

    Args:
        weight: one constant per class, (C,) (default: none, all 1).
        ignore_index: a class-index target to skip (default -100): loss 0, no gradient,
            and not counted in the mean.
        reduction: "mean" (default, Σ ℓₙ / Σ w[tₙ] over the targets kept; for
            probabilities, over the samples), "sum" or "none".
        label_smoothing: ε in [0, 1]: the target becomes (1 - ε) onehot(t) + ε/C
            (default 0.0).

    >>> import autodiff as ad, nn
    >>> loss = nn.CrossEntropyLoss()(ad.tensor([[0.0, 0.0]]), ad.tensor([1]))
    >>> round(loss.item(), 4)   # log 2
    0.6931
    """

    SETTINGS = (hidden("weight"), hidden("ignore_index"), hidden("reduction"),
                hidden("label_smoothing"))

    def __init__(self, weight: Weight = None, ignore_index: int = -100,
                 reduction: str = "mean", label_smoothing: float = 0.0) -> None:
        super().__init__(reduction)
        F.check_setting("CrossEntropyLoss", "label_smoothing", label_smoothing)
        self._register_weight("weight", weight)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.cross_entropy(input, target, self.weight, self.ignore_index, self.reduction,
                               self.label_smoothing)


@builtin_layer
class KLDivLoss(Loss):
    """y (log y - x) per element for log-probabilities x and probabilities y (e^y (y - x)
    for log-probabilities y with log_target=True), reduced: KL(y ‖ e^x) summed.

    Args:
        reduction: "mean" (default, over every element, as torch), "batchmean" (the sum
            divided by the batch size: the KL divergence per sample), "sum" or "none".
        log_target: whether the target holds log-probabilities (default False).

    >>> import autodiff as ad
    >>> x = ad.tensor([[0.25, 0.25, 0.5]]).log()
    >>> round(KLDivLoss(reduction="batchmean")(x, ad.tensor([[0.5, 0.5, 0.0]])).item(), 4)
    0.6931
    """

    SETTINGS = (hidden("reduction"), hidden("log_target"))
    reductions: ClassVar[tuple[str, ...]] = F.KL_REDUCTIONS

    def __init__(self, reduction: str = "mean", log_target: bool = False) -> None:
        super().__init__(reduction)
        self.log_target = log_target

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


@builtin_layer
class CosineEmbeddingLoss(Loss):
    """1 - cos(x1, x2) for pairs with target 1, max(0, cos(x1, x2) - margin) for pairs
    with target -1, reduced: pulls similar pairs together, pushes dissimilar ones apart.

    Args:
        margin: the cosine below which a dissimilar pair costs nothing (default 0.0;
            -1 to 1, 0 to 0.5 suggested).
        reduction: "mean" (default), "sum" or "none".

    Shape: input1 and input2 (N, D) with target (N,), or (D,) with a 0-d target.
    """

    SETTINGS = (hidden("margin"), hidden("reduction"))

    def __init__(self, margin: float = 0.0, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.margin = margin

    def forward(self, input1: Tensor, input2: Tensor, target: Any) -> Tensor:
        return F.cosine_embedding_loss(input1, input2, target, margin=self.margin,
                                       reduction=self.reduction)
