"""Embedding: a learned lookup table from integer indices (token ids, categories) to
vectors. The math is `nn.functional.embedding`; EmbeddingBag reduces each bag of
lookups (sum, mean, max: `nn.functional.embedding_bag`)."""
from __future__ import annotations

from typing import Any

import autodiff as ad
from autodiff.tensor import Tensor

from . import functional as F
from . import init
from .module import Module, Parameter, bare, builtin_layer, changed, check_size


@builtin_layer
class Embedding(Module):
    """y = W[i] for each index i of the input: row i of the weight W. It equals
    one_hot(i) @ W, so dL/dW[i] is the sum of dL/dy over the positions holding i.

    Args:
        num_embeddings: the number of rows (the size of the vocabulary).
        embedding_dim: the size of each vector.
        padding_idx: if given, the row for padding: initialised to zeros and never
            updated (positions holding it send no gradient). Negative counts from the end.

    Shape:
        input (*), integers in [0, num_embeddings); output (*, embedding_dim).

    Attributes:
        weight: (num_embeddings, embedding_dim), float32, drawn from N(0, 1).

    Example:
    >>> import autodiff as ad, nn
    >>> emb = nn.Embedding(10, 3, padding_idx=0)
    >>> emb(ad.tensor([[1, 2, 0], [4, 0, 9]])).shape
    (2, 3, 3)
    >>> emb.weight[0].tolist()
    [0.0, 0.0, 0.0]
    >>> emb
    Embedding(10, 3, padding_idx=0)
    """

    SETTINGS = (bare("num_embeddings"), bare("embedding_dim"), changed("padding_idx"))
    LABEL = "{num_embeddings}, {embedding_dim}"

    def __init__(self, num_embeddings: int, embedding_dim: int,
                 padding_idx: int | None = None) -> None:
        super().__init__()
        check_size("Embedding", "num_embeddings", num_embeddings)
        check_size("Embedding", "embedding_dim", embedding_dim)
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx {padding_idx} is not a row of the "
                                 f"{num_embeddings} embeddings (use 0 to "
                                 f"{num_embeddings - 1}, or a negative index from the end)")
            padding_idx %= num_embeddings
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.padding_idx = padding_idx
        self.weight = Parameter(ad.zeros(num_embeddings, embedding_dim))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torch's default: W from N(0, 1), the padding row set to zeros."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with ad.no_grad():
                self.weight[self.padding_idx] = 0

    def forward(self, input: Tensor) -> Tensor:
        return F.embedding(input, self.weight, self.padding_idx)

    @staticmethod
    def state_shapes(num_embeddings: int, embedding_dim: int,
                     **_: Any) -> dict[str, tuple[int, ...]]:
        return {"weight": (num_embeddings, embedding_dim)}


@builtin_layer
class EmbeddingBag(Module):
    """The sum, mean or maximum of the embedding rows of each bag of indices, without
    the (bags, length, embedding_dim) tensor in between (F.embedding_bag):

        y[b] = reduce_{i in bag b} w_i · W[input[i]]

    (w_i = per_sample_weights, mode="sum" only). A 2-D input (B, L) is B bags of L
    indices; a 1-D input is cut into bags at offsets. Indices equal to padding_idx are
    left out (not counted in the mean; an empty bag gives zeros).

    Args:
        num_embeddings: the number of rows (the size of the vocabulary).
        embedding_dim: the size of each vector.
        max_norm: not supported (must be None).
        norm_type: kept for torch's signature (used only with max_norm).
        scale_grad_by_freq: not supported (must be False).
        mode: "sum", "mean" (default) or "max".
        sparse: not supported (must be False; gradients are dense).
        _weight: an initial weight (num_embeddings, embedding_dim) instead of N(0, 1).
        include_last_offset: offsets[-1] ends the last bag (offsets as CSR's).
        padding_idx: if given, the row left out of every bag, initialised to zeros and
            never updated. Negative counts from the end.

    Shape:
        input (B, L), or (M,) with offsets (B,) (or (B + 1,) with include_last_offset);
        per_sample_weights the input's shape; output (B, embedding_dim).

    Attributes:
        weight: (num_embeddings, embedding_dim), float32, drawn from N(0, 1).

    Example:
    >>> import autodiff as ad, nn
    >>> bag = nn.EmbeddingBag(10, 3, mode="sum")
    >>> bag(ad.tensor([1, 2, 4, 5, 4]), ad.tensor([0, 2])).shape
    (2, 3)
    >>> bag
    EmbeddingBag(10, 3, mode='sum')
    """

    SETTINGS = (bare("num_embeddings"), bare("embedding_dim"), changed("norm_type"), "mode",
                changed("padding_idx"))
    LABEL = "{num_embeddings}, {embedding_dim}, {mode}"

    def __init__(self, num_embeddings: int, embedding_dim: int, max_norm: float | None = None,
                 norm_type: float = 2.0, scale_grad_by_freq: bool = False, mode: str = "mean",
                 sparse: bool = False, _weight: Tensor | None = None,
                 include_last_offset: bool = False, padding_idx: int | None = None) -> None:
        super().__init__()
        check_size("EmbeddingBag", "num_embeddings", num_embeddings)
        check_size("EmbeddingBag", "embedding_dim", embedding_dim)
        if max_norm is not None:
            raise NotImplementedError("EmbeddingBag: max_norm is not supported (it "
                                      "renormalizes weight in place); pass None")
        if scale_grad_by_freq:
            raise NotImplementedError("EmbeddingBag: scale_grad_by_freq=True is not "
                                      "supported; pass False")
        if sparse:
            raise NotImplementedError("EmbeddingBag: sparse=True is not supported "
                                      "(gradients are dense); pass False")
        if mode not in ("sum", "mean", "max"):
            raise ValueError(f"EmbeddingBag: mode must be 'sum', 'mean' or 'max', got "
                             f"{mode!r}")
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"EmbeddingBag: padding_idx {padding_idx} is not a row of "
                                 f"the {num_embeddings} embeddings (use 0 to "
                                 f"{num_embeddings - 1}, or a negative index from the end)")
            padding_idx %= num_embeddings
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.norm_type = norm_type
        self.mode = mode
        self.include_last_offset = include_last_offset
        self.padding_idx = padding_idx
        if _weight is None:
            self.weight = Parameter(ad.zeros(num_embeddings, embedding_dim))
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ValueError(f"EmbeddingBag: _weight must have shape "
                                 f"{(num_embeddings, embedding_dim)}, got {_weight.shape}")
            self.weight = Parameter(_weight.detach())

    def reset_parameters(self) -> None:
        """torch's default: W from N(0, 1), the padding row set to zeros."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with ad.no_grad():
                self.weight[self.padding_idx] = 0

    def forward(self, input: Tensor, offsets: Tensor | None = None,
                per_sample_weights: Tensor | None = None) -> Tensor:
        return F.embedding_bag(input, self.weight, offsets, mode=self.mode,
                               per_sample_weights=per_sample_weights,
                               include_last_offset=self.include_last_offset,
                               padding_idx=self.padding_idx)

    @staticmethod
    def state_shapes(num_embeddings: int, embedding_dim: int,
                     **_: Any) -> dict[str, tuple[int, ...]]:
        return {"weight": (num_embeddings, embedding_dim)}
