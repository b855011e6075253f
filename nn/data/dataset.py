"""Datasets: anything with `len(dataset)` and `dataset[i]` (one sample), like torch.utils.data.

A dataset may also define `get_batch(indices)`, returning a whole batch at once (what
`default_collate` would make of those samples); `DataLoader` then uses it instead of one
Python call per sample. `TensorDataset` and `MNIST` do.
"""
from __future__ import annotations

from typing import Any

import numpy as np

import autodiff as ad
from autodiff.errors import ShapeError


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
