"""Loss modules: each wraps the nn.functional loss of the same name with a `reduction`
("mean", the default; "sum"; or "none" for one loss per element)."""
from __future__ import annotations

from typing import Any

from autodiff.ops.nn_kernels import check_reduction
from autodiff.tensor import Tensor

from . import functional as F
from .module import Module, builtin_layer


class Loss(Module):
    """Base of the loss modules: stores and checks `reduction`."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        check_reduction(type(self).__name__, reduction)
        self.reduction = reduction

    def hyperparameters(self) -> dict[str, Any]:
        return {"reduction": self.reduction}


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
class BCELoss(Loss):
    """-(y log p + (1 - y) log(1 - p)) per element for probabilities p, reduced (logs
    clamped to >= -100)."""

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.binary_cross_entropy(input, target, reduction=self.reduction)


@builtin_layer
class BCEWithLogitsLoss(Loss):
    """BCELoss of sigmoid(x), computed from logits x without overflow."""

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.binary_cross_entropy_with_logits(input, target, reduction=self.reduction)


@builtin_layer
class NLLLoss(Loss):
    """-input[n, target[n]] for log-probabilities (N, C) and int64 class indices (N,)."""

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.nll_loss(input, target, reduction=self.reduction)


@builtin_layer
class CrossEntropyLoss(Loss):
    """-log softmax(input)[n, target[n]] from logits (N, C) and int64 class indices (N,):
    LogSoftmax and NLLLoss in one stable step.

    >>> import autodiff as ad, nn
    >>> loss = nn.CrossEntropyLoss()(ad.tensor([[0.0, 0.0]]), ad.tensor([1]))
    >>> round(loss.item(), 4)   # log 2
    0.6931
    """

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.cross_entropy(input, target, reduction=self.reduction)
