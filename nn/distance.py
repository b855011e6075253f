"""CosineSimilarity and PairwiseDistance: one number per pair of vectors, as layers over
F.cosine_similarity and F.pairwise_distance (torch's repr shows none of their settings)."""
from __future__ import annotations

from autodiff.tensor import Tensor

from . import functional as F
from .module import Module, builtin_layer, hidden


@builtin_layer
class CosineSimilarity(Module):
    """cos θ = x1 · x2 / (max(‖x1‖, eps) · max(‖x2‖, eps)) along `dim`, in [-1, 1]; x1 and
    x2 broadcast to a common shape, and `dim` is reduced.

    Args:
        dim: the dim the vectors run along (default 1).
        eps: the smallest norm divided by (default 1e-8).

    Example:
    >>> import autodiff as ad, nn
    >>> nn.CosineSimilarity()(ad.tensor([[1.0, 0.0]]), ad.tensor([[1.0, 1.0]]))
    tensor([0.70710677])
    """

    SETTINGS = (hidden("dim"), hidden("eps"))

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        self.dim = dim
        self.eps = eps

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.cosine_similarity(x1, x2, self.dim, self.eps)


@builtin_layer
class PairwiseDistance(Module):
    """‖x1 − x2 + eps‖_p along the last dim: the p-norm distance of each pair of vectors
    (eps keeps the gradient finite where they are equal); x1 and x2 broadcast.

    Args:
        p: the norm's order (default 2.0; stored as `norm`, torch's name).
        eps: added to the differences (default 1e-6).
        keepdim: keep the last dim, with size 1 (default False).

    Example:
    >>> import autodiff as ad, nn
    >>> nn.PairwiseDistance(eps=0.0)(ad.tensor([[3.0, 0.0]]), ad.tensor([[0.0, 4.0]]))
    tensor([5.])
    """

    SETTINGS = (hidden("p", attribute="norm"), hidden("eps"), hidden("keepdim"))

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> None:
        super().__init__()
        self.norm = p
        self.eps = eps
        self.keepdim = keepdim

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)
