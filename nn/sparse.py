"""Embedding: a learned lookup table from integer indices (token ids, categories) to
vectors. The math is `nn.functional.embedding`."""
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
