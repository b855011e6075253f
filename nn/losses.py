"""Loss modules: each wraps the nn.functional loss of the same name with a `reduction`
("mean", the default; "sum"; or "none" for one loss per element) and its other settings.

A `weight` (or `pos_weight`) tensor is a constant of the loss, held as a buffer as torch
holds it: state_dict() saves it and .to() converts it. hyperparameters() gives it as a
list of numbers, so a model file rebuilds the loss (JSON cannot hold a tensor). torch's
repr shows none of a loss's settings (`CrossEntropyLoss()`), so all are `hidden`.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np

import autodiff as ad
from autodiff.ops.losses import REDUCTIONS
from autodiff.tensor import Tensor

from . import functional as F
from .distance import PairwiseDistance
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


@builtin_layer
class MarginRankingLoss(Loss):
    """max(0, -y · (x1 - x2) + margin) per element, reduced: with y = 1, x1 should rank
    above x2 by at least the margin; with y = -1, below.

    Args:
        margin: the gap wanted between the two scores (default 0.0).
        reduction: "mean" (default), "sum" or "none".

    Shape: input1, input2 and target of one number of dims, broadcasting together.
    """

    SETTINGS = (hidden("margin"), hidden("reduction"))

    def __init__(self, margin: float = 0.0, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.margin = margin

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        return F.margin_ranking_loss(input1, input2, target, self.margin, self.reduction)


@builtin_layer
class TripletMarginLoss(Loss):
    """max(0, d(a, pos) - d(a, neg) + margin), d the p-norm distance along the last dim,
    reduced: each anchor should be nearer its positive than its negative by the margin.

    Args:
        margin: the gap wanted, > 0 (default 1.0).
        p: the norm's order (default 2.0).
        eps: added to the differences, as in PairwiseDistance (default 1e-6).
        swap: use min(d(a, neg), d(pos, neg)) as the negative's distance (Balntas et al.,
            2016) (default False).
        reduction: "mean" (default), "sum" or "none".

    Shape: anchor, positive and negative (N, D) or (D,), or broadcasting together.
    """

    SETTINGS = (hidden("margin"), hidden("p"), hidden("eps"), hidden("swap"),
                hidden("reduction"))

    def __init__(self, margin: float = 1.0, p: float = 2.0, eps: float = 1e-6,
                 swap: bool = False, reduction: str = "mean") -> None:
        super().__init__(reduction)
        if not margin > 0:
            raise ValueError(f"TripletMarginLoss: margin must be greater than 0, got {margin}")
        self.margin = margin
        self.p = p
        self.eps = eps
        self.swap = swap

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        return F.triplet_margin_loss(anchor, positive, negative, self.margin, self.p,
                                     self.eps, self.swap, self.reduction)


@builtin_layer
class GaussianNLLLoss(Loss):
    """½ (log max(var, eps) + (x - y)² / max(var, eps)) per element (+ ½ log 2π with
    full=True), reduced: the negative log-likelihood of the target under N(input, var),
    for a network that predicts a mean and a variance.

    Args (keyword only, as torch):
        full: add the constant ½ log 2π (default False).
        eps: the smallest variance used, in value only (default 1e-6).
        reduction: "mean" (default), "sum" or "none".

    Shape: input and target (N, *); var of their shape, without the last dim, with size
    1 in one dim, or a number.
    """

    SETTINGS = (hidden("full"), hidden("eps"), hidden("reduction"))

    def __init__(self, *, full: bool = False, eps: float = 1e-6,
                 reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.full = full
        self.eps = eps

    def forward(self, input: Tensor, target: Tensor, var: Tensor | float) -> Tensor:
        return F.gaussian_nll_loss(input, target, var, self.full, self.eps, self.reduction)


@builtin_layer
class SoftMarginLoss(Loss):
    """log(1 + e^(-y·x)) per element for labels y = ±1, reduced: the logistic loss of a
    two-class classifier with scores x.

    Args:
        reduction: "mean" (default), "sum" or "none".
    """

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.soft_margin_loss(input, target, reduction=self.reduction)


@builtin_layer
class MultiLabelSoftMarginLoss(Loss):
    """-(1/C) Σ_c w_c (y_c log σ(x_c) + (1 - y_c) log σ(-x_c)) per sample, reduced: the
    binary cross-entropy of every class from logits, for targets that mark any number
    of classes present (1) or absent (0).

    Args:
        weight: a constant that broadcasts to the input's shape, e.g. one per class (C,)
            (default: none, w = 1).
        reduction: "mean" (default), "sum" or "none".

    Shape: input and target (N, C) or (C,); the loss per sample (N,) with "none".
    """

    SETTINGS = (hidden("weight"), hidden("reduction"))

    def __init__(self, weight: Weight = None, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self._register_weight("weight", weight)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.multilabel_soft_margin_loss(input, target, self.weight, self.reduction)


@builtin_layer
class HingeEmbeddingLoss(Loss):
    """x where y = 1, max(0, margin - x) where y = -1, per element, reduced: for distances
    x of similar (1) and dissimilar (-1) pairs.

    Args:
        margin: how far apart dissimilar pairs should be (default 1.0).
        reduction: "mean" (default), "sum" or "none".
    """

    SETTINGS = (hidden("margin"), hidden("reduction"))

    def __init__(self, margin: float = 1.0, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.margin = margin

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.hinge_embedding_loss(input, target, self.margin, self.reduction)


@builtin_layer
class PoissonNLLLoss(Loss):
    """eˣ - y·x per element for log-rates x (x - y·log(x + eps) for rates x with
    log_input=False), reduced: the negative log-likelihood of counts y under a Poisson
    distribution, up to log y!.

    Args:
        log_input: whether the input is the log of the rate (default True).
        full: add Stirling's approximation of log y! where y > 1 (default False).
        eps: added to the rate before its log, with log_input=False (default 1e-8).
        reduction: "mean" (default), "sum" or "none".

    >>> import autodiff as ad
    >>> PoissonNLLLoss()(ad.tensor([0.0, 0.0]), ad.tensor([1.0, 3.0]))    # e⁰ − y·0
    tensor(1.)
    """

    SETTINGS = (hidden("log_input"), hidden("full"), hidden("eps"), hidden("reduction"))

    def __init__(self, log_input: bool = True, full: bool = False, eps: float = 1e-8,
                 reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.log_input = log_input
        self.full = full
        self.eps = eps

    def forward(self, log_input: Tensor, target: Any) -> Tensor:
        return F.poisson_nll_loss(log_input, target, self.log_input, self.full, self.eps,
                                  self.reduction)


@builtin_layer
class MultiMarginLoss(Loss):
    """(1/C) Σ_{i ≠ y} w_y · max(0, margin - x[y] + x[i])ᵖ per sample, reduced: the
    multi-class hinge loss of scores (N, C) and class indices y (N,): every other class
    should score at least `margin` below the target's.

    Args:
        p: 1 or 2 (default 1).
        margin: the gap wanted (default 1.0).
        weight: one constant per class, (C,) (default: none, all 1).
        reduction: "mean" (default), "sum" or "none".

    >>> import autodiff as ad
    >>> MultiMarginLoss()(ad.tensor([[0.1, 0.2, 0.4]]), ad.tensor([2]))   # (0.7 + 0.8) / 3
    tensor(0.5)
    """

    SETTINGS = (hidden("p"), hidden("margin"), hidden("weight"), hidden("reduction"))

    def __init__(self, p: int = 1, margin: float = 1.0, weight: Weight = None,
                 reduction: str = "mean") -> None:
        super().__init__(reduction)
        if p not in (1, 2):
            raise ValueError(f"MultiMarginLoss: p must be 1 or 2, got {p}")
        self.p = p
        self.margin = margin
        self._register_weight("weight", weight)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.multi_margin_loss(input, target, self.p, self.margin, self.weight,
                                   self.reduction)


@builtin_layer
class MultiLabelMarginLoss(Loss):
    """(1/C) Σ_j Σ_{i not a target} max(0, 1 − (x[j] − x[i])) per sample, j over its target
    classes, reduced: the multi-label hinge loss, where every class a sample has should
    score at least 1 above every class it has not.

    Args:
        reduction: "mean" (default), "sum" or "none".

    Shape: input (N, C) or (C,); target of the same shape (int64): each sample's classes,
    then -1 to end them (what follows the first -1 is ignored); the loss per sample (N,)
    (or 0-d) with "none".

    >>> import autodiff as ad
    >>> MultiLabelMarginLoss()(ad.tensor([[0.1, 0.2, 0.4, 0.8]]), ad.tensor([[3, 0, -1, 1]]))
    tensor(0.85)
    """

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.multilabel_margin_loss(input, target, reduction=self.reduction)


@builtin_layer
class TripletMarginWithDistanceLoss(Loss):
    """max(0, d(a, pos) − d(a, neg) + margin) for a distance d of your choice, reduced:
    each anchor should be nearer its positive than its negative by the margin.

    Args (keyword only, as torch):
        distance_function: d, a callable of two tensors giving one distance per pair, such
            as a module (default: PairwiseDistance(), the 2-norm along the last dim).
        margin: the gap wanted, > 0 (default 1.0).
        swap: use min(d(a, neg), d(pos, neg)) as the negative's distance (Balntas et al.,
            2016) (default False).
        reduction: "mean" (default), "sum" or "none".

    A module distance is a child, `distance_function`, as torch's: the architecture JSON
    lists it (so a built-in one such as PairwiseDistance(p=1.0) is saved and rebuilt); a
    plain function cannot be described, and to_json refuses the loss.

    Shape: anchor, positive and negative (N, D) or (D,), or whatever d takes.

    >>> import autodiff as ad
    >>> a, pos, neg = ad.tensor([[0.0, 0.0]]), ad.tensor([[3.0, 4.0]]), ad.tensor([[1.0, 0.0]])
    >>> round(TripletMarginWithDistanceLoss()(a, pos, neg).item(), 4)      # 5 − 1 + 1
    5.0
    """

    SETTINGS = (hidden("margin"), hidden("swap"), hidden("reduction"))
    HOLDS_LAYERS = True

    def __init__(self, *, distance_function: Callable[[Tensor, Tensor], Tensor] | None = None,
                 margin: float = 1.0, swap: bool = False, reduction: str = "mean") -> None:
        super().__init__(reduction)
        if not margin > 0:
            raise ValueError(f"TripletMarginWithDistanceLoss: margin must be greater than 0, "
                             f"got {margin}")
        if distance_function is not None and not callable(distance_function):
            raise TypeError(f"TripletMarginWithDistanceLoss: distance_function must be a "
                            f"callable of two tensors (e.g. nn.PairwiseDistance()), got "
                            f"{type(distance_function).__name__}")
        self.distance_function = (PairwiseDistance() if distance_function is None
                                   else distance_function)
        self.margin = margin
        self.swap = swap

    def hyperparameters(self) -> dict[str, Any]:
        """margin, swap and reduction; a module distance_function is a child, which the
        architecture lists. A plain function cannot be described: TypeError."""
        if not isinstance(self.distance_function, Module):
            name = getattr(self.distance_function, "__name__",
                           type(self.distance_function).__name__)
            raise TypeError(f"TripletMarginWithDistanceLoss: its distance_function {name} "
                            f"is a plain function, which the architecture JSON cannot "
                            f"describe; use a module (e.g. nn.PairwiseDistance(p=1.0)), or "
                            f"build the loss in code and save its settings yourself")
        return super().hyperparameters()

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        return F.triplet_margin_with_distance_loss(
            anchor, positive, negative, distance_function=self.distance_function,
            margin=self.margin, swap=self.swap, reduction=self.reduction)


@builtin_layer
class CTCLoss(Loss):
    """−log p(target | input) per sequence, summed over every alignment of the target to
    the T steps (the connectionist temporal classification loss, Graves et al., 2006),
    reduced: for unsegmented sequences such as speech or handwriting, where the output is
    longer than the target and nobody says which step emits which label. See F.ctc_loss.

    Args:
        blank: the blank's class index (default 0).
        reduction: "mean" (default: each loss divided by its target length, then the
            mean over the batch), "sum" or "none".
        zero_infinity: give 0 and a zero gradient for a sequence with no valid alignment
            (whose loss is inf), as can happen early in training (default False).

    Shape: log_probs (T, N, C) or (T, C); targets (N, S) padded, 1-D concatenated or (S,);
    input_lengths and target_lengths (N,) (tensors or tuples); the loss 0-d, or (N,) with
    "none".

    >>> import autodiff as ad
    >>> log_probs = ad.log(ad.full((2, 1, 2), 0.5))
    >>> round(CTCLoss()(log_probs, ad.tensor([[1]]), (2,), (1,)).item(), 4)   # −log(3/4)
    0.2877
    """

    SETTINGS = (hidden("blank"), hidden("reduction"), hidden("zero_infinity"))

    def __init__(self, blank: int = 0, reduction: str = "mean",
                 zero_infinity: bool = False) -> None:
        super().__init__(reduction)
        self.blank = blank
        self.zero_infinity = zero_infinity

    def forward(self, log_probs: Tensor, targets: Tensor, input_lengths: Any,
                target_lengths: Any) -> Tensor:
        return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, self.blank,
                          self.reduction, self.zero_infinity)
