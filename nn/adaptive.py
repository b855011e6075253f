"""AdaptiveLogSoftmaxWithLoss: a softmax over many classes made cheap by splitting them
by frequency (Grave et al., 2016, "Efficient softmax approximation for GPUs"), with torch's
parameter names (head, tail.i.0, tail.i.1) so a torch state_dict loads."""
from __future__ import annotations

import collections
from collections.abc import Sequence
from typing import Any

import numpy as np

import autodiff as ad
from autodiff.errors import DomainError, ShapeError
from autodiff.tensor import Tensor

from . import functional as F
from .linear import Linear
from .module import Module, ModuleList, Sequential, builtin_layer, check_size, hidden

_ASMoutput = collections.namedtuple("_ASMoutput", ["output", "loss"])
"""What forward returns, torch's named tuple: the target's log-probability per sample,
and the loss, their negated mean."""


@builtin_layer
class AdaptiveLogSoftmaxWithLoss(Module):
    """log p(c | x) over n_classes classes split at the cutoffs into a shortlist of the
    most frequent classes, [0, cutoffs[0]), and clusters [cutoffs[i], cutoffs[i+1]):

        head:  log_softmax(x Hᵀ + b) over the shortlist and one entry per cluster
        log p(c | x) = head[c]                                   for c in the shortlist
        log p(c | x) = head[cluster k] + log_softmax(tail_k(x))[c − cutoffs[k]]   otherwise

    where tail_k projects x to in_features // div_value^(k+1) dims and then to the
    cluster's classes (two Linear layers without bias), so rare classes cost less.

    Args:
        in_features: the size of each input sample.
        n_classes: the number of classes.
        cutoffs: increasing class indices in [1, n_classes − 1] where the clusters start.
        div_value: the factor by which each cluster's projection shrinks (default 4.0).
        head_bias: whether the head has a bias (default False).

    Shape: input (N, in_features) with target (N,) int64, or (in_features,) with a 0-d
    target. forward returns `_ASMoutput(output, loss)`: output (N,) (or 0-d), the target's
    log-probability per sample, and loss = −mean(output). `log_prob(input)` gives every
    class's, (N, n_classes); `predict(input)` the most likely class, (N,).

    Attributes: head (a Linear, in_features → cutoffs[0] + the number of clusters) and
    tail (a ModuleList of Sequential(Linear, Linear)), initialised as Linear.

    Example:
    >>> import autodiff as ad, nn
    >>> asm = nn.AdaptiveLogSoftmaxWithLoss(8, 10, cutoffs=[4, 8])
    >>> out = asm(ad.randn(3, 8), ad.tensor([0, 5, 9]))
    >>> out.output.shape, out.loss.shape, asm.log_prob(ad.randn(3, 8)).shape
    ((3,), (), (3, 10))
    >>> [name for name, _ in asm.named_parameters()]
    ['head.weight', 'tail.0.0.weight', 'tail.0.1.weight', 'tail.1.0.weight', 'tail.1.1.weight']
    """

    SETTINGS = (hidden("in_features"), hidden("n_classes"),
                hidden("cutoffs", attribute="_cutoffs_given"), hidden("div_value"),
                hidden("head_bias"))

    def __init__(self, in_features: int, n_classes: int, cutoffs: Sequence[int],
                 div_value: float = 4.0, head_bias: bool = False) -> None:
        super().__init__()
        name = "AdaptiveLogSoftmaxWithLoss"
        check_size(name, "in_features", in_features)
        check_size(name, "n_classes", n_classes)
        cutoffs = list(cutoffs)
        if not cutoffs:
            raise ValueError(f"{name}: cutoffs must hold at least one class index, e.g. "
                             f"[{max(n_classes // 4, 1)}]")
        if cutoffs != sorted(set(cutoffs)) or any(int(c) != c for c in cutoffs) \
                or cutoffs[0] <= 0 or cutoffs[-1] > n_classes - 1:
            raise ValueError(f"{name}: cutoffs must be unique whole numbers in increasing "
                             f"order, each between 1 and n_classes − 1 = {n_classes - 1}, "
                             f"got {cutoffs}")
        self.in_features = in_features
        self.n_classes = n_classes
        self._cutoffs_given = [int(c) for c in cutoffs]
        self.cutoffs = self._cutoffs_given + [n_classes]    # torch's: the last is n_classes
        self.div_value = div_value
        self.head_bias = head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        self.head = Linear(in_features, self.head_size, bias=head_bias)
        self.tail = ModuleList(
            Sequential(Linear(in_features, hidden_size, bias=False),
                       Linear(hidden_size, size, bias=False))
            for hidden_size, size in self._tail_sizes(in_features, self.cutoffs, div_value))

    @staticmethod
    def _tail_sizes(in_features: int, cutoffs: list[int], div_value: float
                    ) -> list[tuple[int, int]]:
        """(projection size, cluster size) per cluster: in_features // div_value^(k+1), as
        torch computes it (a float floor, then int), and the classes between cutoffs."""
        return [(int(in_features // (div_value ** (k + 1))), cutoffs[k + 1] - cutoffs[k])
                for k in range(len(cutoffs) - 1)]

    def reset_parameters(self) -> None:
        """Every Linear's own initialisation, as torch's."""
        self.head.reset_parameters()
        for projection in self.tail:
            for linear in projection:
                linear.reset_parameters()

    def forward(self, input: Tensor, target: Tensor) -> _ASMoutput:
        """(the target's log-probability per sample, −its mean); each cluster's tail runs
        on the samples whose target is in it, as torch's."""
        op = type(self).__name__
        F.check_index_dtype(op, target)
        if target.ndim > 1:
            raise ShapeError(f"{op}: expected a 0-d or 1-D target (one class per sample; "
                             f"multi-target is not supported), got {target.shape}")
        if target.ndim == 1 and (input.ndim != 2 or input.shape[0] != target.shape[0]):
            raise ShapeError(f"{op}: a 1-D target of shape {target.shape} needs an input "
                             f"(N, in_features) with the same N, got {input.shape}")
        if target.ndim == 0 and input.ndim != 1:
            raise ShapeError(f"{op}: a 0-d target needs one sample (in_features,), got an "
                             f"input of shape {input.shape}")
        batched = target.ndim == 1
        x = input if batched else input.unsqueeze(0)
        classes = target.numpy().reshape(-1)
        if classes.size and (classes.min() < 0 or classes.max() >= self.n_classes):
            raise DomainError(f"{op}: target values must lie in [0, {self.n_classes - 1}], "
                              f"got values in [{classes.min()}, {classes.max()}]")
        head_column = classes.copy()        # the head's entry: the class, or its cluster's
        output = ad.zeros(classes.size, dtype=x.dtype)
        for k, (low, high) in enumerate(zip(self.cutoffs, self.cutoffs[1:])):
            rows = np.flatnonzero((classes >= low) & (classes < high))
            if rows.size == 0:
                continue
            head_column[rows] = self.shortlist_size + k
            within = ad.tensor((classes[rows] - low)[:, None])
            cluster = self.tail[k](x[ad.tensor(rows)]).log_softmax(1).gather(1, within)
            output = output.index_add(0, ad.tensor(rows), cluster.reshape(-1))
        head = self.head(x).log_softmax(1)
        output = output + head.gather(1, ad.tensor(head_column[:, None])).reshape(-1)
        loss = (-output).mean()
        return _ASMoutput(output if batched else output[0], loss)

    def _full_log_prob(self, input: Tensor, head_output: Tensor) -> Tensor:
        """log p(c | x) for every class: the shortlist's from the head, each cluster's its
        head entry plus its tail's log_softmax."""
        head = head_output.log_softmax(1)
        parts = [head[:, :self.shortlist_size]]
        for k, projection in enumerate(self.tail):
            cluster = head[:, self.shortlist_size + k:self.shortlist_size + k + 1]
            parts.append(projection(input).log_softmax(1) + cluster)
        return ad.cat(parts, dim=1)

    def log_prob(self, input: Tensor) -> Tensor:
        """log p(c | x) for every class c, (N, n_classes)."""
        return self._full_log_prob(input, self.head(input))

    def predict(self, input: Tensor) -> Tensor:
        """The most likely class per sample, (N,): log_prob(input).argmax(1), with the
        tails run only for samples whose head prefers a cluster to every shortlist class
        (otherwise the head's choice wins), as torch's."""
        head_output = self.head(input)
        choice = head_output.argmax(1).numpy().copy()
        clustered = np.flatnonzero(choice >= self.shortlist_size)
        if clustered.size:
            rows = ad.tensor(clustered)
            full = self._full_log_prob(input[rows], head_output[rows])
            choice[clustered] = full.argmax(1).numpy()
        return ad.tensor(choice)

    @classmethod
    def state_shapes(cls, in_features: int, n_classes: int, cutoffs: Sequence[int],
                     div_value: float = 4.0, head_bias: bool = False, **_: Any
                     ) -> dict[str, tuple[int, ...]]:
        bounds = list(cutoffs) + [n_classes]
        shapes = {"head.weight": (bounds[0] + len(bounds) - 1, in_features)}
        if head_bias:
            shapes["head.bias"] = (bounds[0] + len(bounds) - 1,)
        for k, (hidden_size, size) in enumerate(cls._tail_sizes(in_features, bounds,
                                                                div_value)):
            shapes[f"tail.{k}.0.weight"] = (hidden_size, in_features)
            shapes[f"tail.{k}.1.weight"] = (size, hidden_size)
        return shapes
