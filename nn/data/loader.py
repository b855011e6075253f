"""DataLoader: a dataset cut into batches, in order or shuffled, like torch.utils.data."""
from __future__ import annotations

import numbers
from collections.abc import Iterator
from typing import Any

import numpy as np

import autodiff as ad
from autodiff import random
from autodiff.errors import ShapeError


def default_collate(samples: list[Any]) -> Any:
    """Stack a list of samples into one batch, following the samples' structure.

    Tensors and arrays are stacked along a new dimension 0; Python ints become an int64
    tensor, Python floats a float64 tensor (as torch's `default_collate` does), numpy
    scalars keep their dtype; tuples and lists give a list with one batch per position,
    dicts a dict with one batch per key; strings stay a list.

    >>> xb, yb = default_collate([(ad.tensor([1.0, 2.0]), 0), (ad.tensor([3.0, 4.0]), 1)])
    >>> xb, yb
    (tensor([[1., 2.],
            [3., 4.]]), tensor([0, 1]))
    """
    first = samples[0]
    if isinstance(first, (ad.Tensor, np.ndarray)):
        arrays = [np.asarray(s.numpy() if isinstance(s, ad.Tensor) else s) for s in samples]
        shapes = {a.shape for a in arrays}
        if len(shapes) != 1:
            raise ShapeError(f"default_collate: cannot stack samples of different shapes "
                             f"{sorted(shapes)} into one batch; make every sample the same "
                             f"shape (e.g. crop or pad) or use batch_size=1")
        return ad.tensor(np.stack(arrays))
    if isinstance(first, str):
        return list(samples)
    if isinstance(first, np.generic):
        return ad.tensor(np.array(samples))
    if isinstance(first, bool):
        return ad.tensor(np.array(samples, dtype=np.bool_))
    if isinstance(first, numbers.Integral):
        return ad.tensor(np.array(samples, dtype=np.int64))
    if isinstance(first, numbers.Real):
        return ad.tensor(np.array(samples, dtype=np.float64))
    if isinstance(first, dict):
        return {key: default_collate([s[key] for s in samples]) for key in first}
    if isinstance(first, (tuple, list)):
        if len({len(s) for s in samples}) != 1:
            raise ShapeError(f"default_collate: samples have different numbers of fields "
                             f"{sorted({len(s) for s in samples})}; every sample must have "
                             f"the same structure")
        return [default_collate(list(column)) for column in zip(*samples, strict=True)]
    raise TypeError(f"default_collate: cannot batch samples of type {type(first).__name__}; "
                    f"return tensors, arrays, numbers, strings, or tuples/lists/dicts of them "
                    f"from the dataset's __getitem__")


class DataLoader:
    """Iterate over a dataset in batches.

    Each pass draws a new order when `shuffle=True`, from the shared generator, so
    `ad.manual_seed(s)` makes the batches reproducible. A dataset with a `get_batch(indices)`
    method (`TensorDataset`, `MNIST`) hands over whole batches by array indexing; any
    other dataset is read one sample at a time and batched by `default_collate`.

    Args:
        dataset: a `Dataset`, or any object with `__len__` and `__getitem__`.
        batch_size: samples per batch (default 1).
        shuffle: draw a new random order for every pass (default False: in order).
        drop_last: leave out the last batch when it has fewer than `batch_size`
            samples (default False: keep it).

    Example::

        >>> from nn.data import TensorDataset
        >>> data = TensorDataset(ad.arange(10, dtype=ad.float32), ad.arange(10))
        >>> [xb.shape for xb, yb in DataLoader(data, batch_size=4)]
        [(4,), (4,), (2,)]
        >>> len(DataLoader(data, batch_size=4, drop_last=True))
        2
    """

    def __init__(self, dataset: Any, batch_size: int = 1, shuffle: bool = False,
                 drop_last: bool = False) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) \
                or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive int, got "
                             f"{batch_size!r}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)

    def __len__(self) -> int:
        full, rest = divmod(len(self.dataset), self.batch_size)
        return full + (1 if rest and not self.drop_last else 0)

    def __iter__(self) -> Iterator[Any]:
        n = len(self.dataset)
        order = random.generator().permutation(n) if self.shuffle else np.arange(n)
        get_batch = getattr(self.dataset, "get_batch", None)
        stop = n - n % self.batch_size if self.drop_last else n
        for start in range(0, stop, self.batch_size):
            indices = order[start:start + self.batch_size]
            if get_batch is not None:
                yield get_batch(indices)
            else:
                yield default_collate([self.dataset[int(i)] for i in indices])

    def __repr__(self) -> str:
        return (f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)} samples, "
                f"batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"drop_last={self.drop_last})")
