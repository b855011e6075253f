"""Datasets: anything with `len(dataset)` and `dataset[i]` (one sample), like torch.utils.data.

A dataset may also define `get_batch(indices)`, returning a whole batch at once (what
`default_collate` would make of those samples); `DataLoader` then uses it instead of one
Python call per sample. `TensorDataset`, `Subset` and `MNIST` do.

`Subset`, `ConcatDataset` (also `a + b`) and `random_split` select, join and split datasets
without copying their samples.
"""
from __future__ import annotations

import bisect
import itertools
import math
import numbers
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

import autodiff as ad
from autodiff import random
from autodiff.errors import ShapeError

from .loader import default_collate


class Dataset:
    """Base class of map-style datasets: subclasses define `__getitem__` and `__len__`.

    Example::

        >>> class Squares(Dataset):
        ...     def __len__(self):
        ...         return 4
        ...     def __getitem__(self, i):
        ...         return float(i), float(i * i)
        >>> Squares()[3]
        (3.0, 9.0)
    """

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(index) "
                                  f"returning one sample")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__() returning "
                                  f"the number of samples")

    def __add__(self, other: Any) -> ConcatDataset:
        """`a + b`: the samples of `a`, then those of `b` (a `ConcatDataset`)."""
        return ConcatDataset([self, other])


class TensorDataset(Dataset):
    """Samples are rows of tensors that share their first dimension: sample i is
    `(tensors[0][i], tensors[1][i], ...)`.

    Args:
        *tensors: Tensors (or arrays) with the same size of dimension 0.

    Example::

        >>> x = ad.arange(12, dtype=ad.float32).reshape(6, 2)
        >>> y = ad.arange(6)
        >>> data = TensorDataset(x, y)
        >>> len(data), data[1]
        (6, (tensor([2., 3.]), tensor(1)))
    """

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise ValueError("TensorDataset: give at least one tensor, e.g. "
                             "TensorDataset(inputs, targets)")
        self.tensors = tuple(ad.as_tensor(t) for t in tensors)
        shapes = [t.shape for t in self.tensors]
        if any(len(shape) == 0 for shape in shapes) or len({s[0] for s in shapes}) != 1:
            raise ShapeError(f"TensorDataset: every tensor needs the same size of dimension 0 "
                             f"(one row per sample), got shapes {shapes}")

    def __getitem__(self, index: int) -> tuple[ad.Tensor, ...]:
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def get_batch(self, indices: np.ndarray) -> list[ad.Tensor]:
        """Rows `indices` of every tensor, gathered by one numpy indexing each."""
        return [ad.tensor(t.numpy()[indices]) for t in self.tensors]


class Subset(Dataset):
    """The samples of `dataset` at `indices`, in that order: sample i is
    `dataset[indices[i]]`. Nothing is copied.

    Args:
        dataset: the whole dataset.
        indices: the positions in `dataset` to keep (a sequence of ints).

    Example::

        >>> data = TensorDataset(ad.arange(10) * 10)
        >>> evens = Subset(data, [0, 2, 4])
        >>> len(evens), evens[1]
        (3, (tensor(20),))
    """

    def __init__(self, dataset: Any, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, index: int | list[int]) -> Any:
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)

    def get_batch(self, indices: np.ndarray) -> Any:
        """Samples `indices` of the subset as one batch: by the dataset's own `get_batch`
        when it has one (whole arrays indexed at once), else by `default_collate`."""
        rows = np.asarray(self.indices, dtype=np.int64)[indices]
        get_batch = getattr(self.dataset, "get_batch", None)
        if get_batch is not None:
            return get_batch(rows)
        return default_collate([self.dataset[int(i)] for i in rows])


class ConcatDataset(Dataset):
    """Datasets one after another. With `cumulative_sizes` c (c[k] = the samples in
    datasets 0 … k), sample i is `datasets[k][i − c[k − 1]]` for the first k with
    c[k] > i (c[−1] = 0); a negative i counts from the end, as in a list.

    Args:
        datasets: the datasets, at least one.

    Attributes:
        datasets: the list of datasets.
        cumulative_sizes: the running totals of their lengths.

    Example::

        >>> both = ConcatDataset([TensorDataset(ad.arange(3)), TensorDataset(ad.arange(10, 12))])
        >>> len(both), both.cumulative_sizes, both[3], both[-1]
        (5, [3, 5], (tensor(10),), (tensor(11),))
    """

    @staticmethod
    def cumsum(sequence: Iterable[Any]) -> list[int]:
        """The running totals of the lengths of `sequence`'s datasets."""
        return list(itertools.accumulate(len(dataset) for dataset in sequence))

    def __init__(self, datasets: Iterable[Any]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: got no datasets; give a list of at least one")
        self.cumulative_sizes = self.cumsum(self.datasets)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int) -> Any:
        n = len(self)
        if index < -n:
            raise ValueError(f"ConcatDataset: index {index} is out of range for {n} samples "
                             f"(a negative index counts from the end, down to {-n})")
        if index >= n:
            raise IndexError(f"ConcatDataset: index {index} is out of range for {n} samples")
        if index < 0:
            index += n
        k = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[k - 1] if k > 0 else 0
        return self.datasets[k][index - start]


def random_split(dataset: Any, lengths: Sequence[int | float],
                 generator: random.Generator | None = None) -> list[Subset]:
    """Split `dataset` at random into non-overlapping `Subset`s of the given lengths.

    `lengths` are counts that sum to len(dataset), or fractions that sum to 1: split k then
    gets ⌊fraction_k · len(dataset)⌋ samples, and the samples left over go one each to
    splits 0, 1, 2, ... in turn (as PyTorch's). The samples are dealt out in the order of
    `ad.randperm(len(dataset), generator=generator)`, so a seeded generator (or
    `ad.manual_seed`) makes the split reproducible. autodiff's generator is not PyTorch's,
    so the same seed picks other samples than torch's does.

    Args:
        dataset: the dataset to split.
        lengths: the sizes of the splits, as counts or as fractions.
        generator: the `ad.Generator` to draw the order from (default: the global one).

    Example::

        >>> train, val = random_split(TensorDataset(ad.arange(10)), [0.8, 0.2],
        ...                           generator=ad.Generator().manual_seed(0))
        >>> len(train), len(val), sorted(train.indices + val.indices) == list(range(10))
        (8, 2, True)
    """
    n = len(dataset)
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        lengths = _counts_of_fractions(lengths, n)
    elif not all(isinstance(length, numbers.Integral) and not isinstance(length, bool)
                 for length in lengths):
        raise ValueError(f"random_split: fractions {lengths} sum to {sum(lengths):g}, not 1; "
                         f"give fractions that sum to 1, or counts that sum to {n}")
    if any(length < 0 for length in lengths):
        raise ValueError(f"random_split: lengths must be >= 0, got {lengths}")
    if sum(lengths) != n:
        raise ValueError(f"random_split: lengths {lengths} sum to {sum(lengths)}, but the "
                         f"dataset has {n} samples; give counts that sum to {n}, or "
                         f"fractions that sum to 1 (e.g. [0.8, 0.2])")
    order = ad.randperm(n, generator=generator).tolist()
    ends = list(itertools.accumulate(lengths))
    return [Subset(dataset, order[end - length:end]) for end, length in zip(ends, lengths)]


def _counts_of_fractions(fractions: list[float], n: int) -> list[int]:
    """⌊fraction · n⌋ for each fraction, plus one each, in turn, for the n − Σ left over."""
    for i, fraction in enumerate(fractions):
        if not 0 <= fraction <= 1:
            raise ValueError(f"random_split: fraction {fraction} at index {i} is not between "
                             f"0 and 1")
    counts = [math.floor(n * fraction) for fraction in fractions]
    for i in range(n - sum(counts)):
        counts[i % len(counts)] += 1
    for i, count in enumerate(counts):
        if count == 0:
            warnings.warn(f"random_split: split {i} (fraction {fractions[i]}) gets 0 of the "
                          f"{n} samples, an empty dataset", UserWarning, stacklevel=3)
    return counts
