"""Flatten: merge a range of dims into one."""
from __future__ import annotations

from autodiff.tensor import Tensor

from .module import Module, builtin_layer


@builtin_layer
class Flatten(Module):
    """Merges dims start_dim..end_dim into one (by default all but the batch dim).

    Args:
        start_dim: first dim to merge (default 1).
        end_dim: last dim to merge (default -1).

    Shape:
        input (N, *dims); output (N, product of dims) with the defaults.

    Example:
    >>> import autodiff as ad, nn
    >>> nn.Flatten()(ad.zeros(32, 1, 28, 28)).shape
    (32, 784)
    """

    SETTINGS = ("start_dim", "end_dim")

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input: Tensor) -> Tensor:
        return input.flatten(self.start_dim, self.end_dim)
