"""DataLoader: a dataset cut into batches, in order or shuffled, like torch.utils.data."""
from __future__ import annotations

import multiprocessing
import numbers
import pickle
import random as py_random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

import autodiff as ad
from autodiff import random
from autodiff.errors import ShapeError


@dataclass(frozen=True)
class WorkerInfo:
    """Who a DataLoader worker process is, as torch's (`get_worker_info()` returns it).

    Attributes:
        id: this worker's number, 0 … num_workers − 1; it makes batches id,
            id + num_workers, id + 2·num_workers, ...
        num_workers: the worker processes making this pass's batches (the loader's
            num_workers, or fewer when the pass has fewer batches).
        seed: the seed of this worker's generators (autodiff's, Python's and numpy's):
            the pass's base seed + id.
        dataset: this process's copy of the dataset.
    """

    id: int
    num_workers: int
    seed: int
    dataset: Any


_worker_info: WorkerInfo | None = None      # set in a worker process, before worker_init_fn


def get_worker_info() -> WorkerInfo | None:
    """The `WorkerInfo` (id, num_workers, seed, dataset) of the DataLoader worker process
    calling it, or None in the main process (torch.utils.data.get_worker_info).

    A dataset's `__getitem__`, or a `worker_init_fn`, can use it to set up each worker
    differently: open its own file handle, seed another library with `seed`, or read only
    its share of the data.

    >>> get_worker_info() is None                # not in a worker
    True
    """
    return _worker_info


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

    Each pass draws a new order when `shuffle=True`, from `generator` (the default
    generator unless one is given), so `ad.manual_seed(s)` makes the batches
    reproducible. A dataset with a `get_batch(indices)` method (`TensorDataset`, `MNIST`)
    hands over whole batches by array indexing; any other dataset is read one sample at a
    time and batched by `collate_fn` (`default_collate`).

    With `num_workers > 0`, worker processes make the batches, as torch's: batch k is made
    by worker k mod num_workers, the batches come out in the same order as with
    num_workers=0, and each pass takes a base seed from the generator's state and seeds
    worker i with base seed + i (autodiff's, Python's and numpy's generators), so random
    augmentation in a dataset differs per worker and is reproducible. The dataset must
    pickle (it is sent to the workers). In a worker, `get_worker_info()` tells the
    worker's id, the number of workers, its seed and its copy of the dataset.

    Args:
        dataset: a `Dataset`, or any object with `__len__` and `__getitem__`.
        batch_size: samples per batch (default 1).
        shuffle: draw a new random order for every pass (default False: in order).
        drop_last: leave out the last batch when it has fewer than `batch_size`
            samples (default False: keep it).
        num_workers: worker processes (default 0: batches made in this process).
        collate_fn: turns a list of samples into a batch (default `default_collate`).
        pin_memory: accepted for torch code; there is no GPU memory to pin.
        generator: the `ad.Generator` to shuffle (and draw workers' seeds) with.
        worker_init_fn: called as worker_init_fn(worker_id) in each worker.

    Example::

        >>> from nn.data import TensorDataset
        >>> data = TensorDataset(ad.arange(10, dtype=ad.float32), ad.arange(10))
        >>> [xb.shape for xb, yb in DataLoader(data, batch_size=4)]
        [(4,), (4,), (2,)]
        >>> len(DataLoader(data, batch_size=4, drop_last=True))
        2
    """

    def __init__(self, dataset: Any, batch_size: int = 1, shuffle: bool = False,
                 drop_last: bool = False, num_workers: int = 0,
                 collate_fn: Callable[[list[Any]], Any] | None = None,
                 pin_memory: bool = False, generator: random.Generator | None = None,
                 worker_init_fn: Callable[[int], None] | None = None) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) \
                or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive int, got "
                             f"{batch_size!r}")
        if isinstance(num_workers, bool) or not isinstance(num_workers, numbers.Integral) \
                or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers must be an int >= 0, got "
                             f"{num_workers!r}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.num_workers = int(num_workers)
        self.collate_fn = collate_fn or default_collate
        self.pin_memory = pin_memory
        self.generator = generator
        self.worker_init_fn = worker_init_fn
        if self.num_workers:
            _check_picklable(dataset, collate_fn, worker_init_fn)

    def __len__(self) -> int:
        full, rest = divmod(len(self.dataset), self.batch_size)
        return full + (1 if rest and not self.drop_last else 0)

    def _batches(self, rng: np.random.Generator) -> list[np.ndarray]:
        """The index arrays of this pass's batches."""
        n = len(self.dataset)
        order = rng.permutation(n) if self.shuffle else np.arange(n)
        stop = n - n % self.batch_size if self.drop_last else n
        return [order[start:start + self.batch_size]
                for start in range(0, stop, self.batch_size)]

    def __iter__(self) -> Iterator[Any]:
        rng = random.generator(self.generator)
        batches = self._batches(rng)
        if not self.num_workers:
            return (_make_batch(self.dataset, self.collate_fn, indices) for indices in batches)
        # the workers' base seed follows the generator's state without drawing from it, so
        # the shuffled orders are those of num_workers=0, pass after pass
        state = rng.bit_generator.state["state"]["state"]
        base_seed = int(np.random.SeedSequence(state).generate_state(1, np.uint64)[0] >> 2)
        return _from_workers(self, batches, base_seed)

    def __repr__(self) -> str:
        return (f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)} samples, "
                f"batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"drop_last={self.drop_last}, num_workers={self.num_workers})")


def _make_batch(dataset: Any, collate_fn: Callable[[list[Any]], Any],
                indices: np.ndarray) -> Any:
    get_batch = getattr(dataset, "get_batch", None)
    if get_batch is not None and collate_fn is default_collate:
        return get_batch(indices)
    return collate_fn([dataset[int(i)] for i in indices])


def _check_picklable(*objects: Any) -> None:
    for value in objects:
        try:
            pickle.dumps(value)
        except Exception as error:  # noqa: PERF203 (one check per object, once)
            raise TypeError(f"DataLoader: num_workers > 0 sends the dataset, collate_fn and "
                            f"worker_init_fn to worker processes, but "
                            f"{type(value).__name__} cannot be pickled ({error}); define it "
                            f"at module level (no lambdas or open files), or use "
                            f"num_workers=0") from None


def _worker(worker_id: int, count: int, dataset: Any, collate_fn: Any, worker_init_fn: Any,
            batches: list[np.ndarray], seed: int, results: Any) -> None:
    """Make batches worker_id, worker_id + count, ... and put (k, batch) on `results`."""
    global _worker_info
    _worker_info = WorkerInfo(worker_id, count, seed, dataset)
    ad.manual_seed(seed)
    py_random.seed(seed)
    np.random.seed(seed % 2 ** 32)
    if worker_init_fn is not None:
        worker_init_fn(worker_id)
    for k in range(worker_id, len(batches), count):
        try:
            results.put((k, _make_batch(dataset, collate_fn, batches[k]), None))
        except Exception as error:  # noqa: PERF203 (a batch's failure is sent to the parent)
            results.put((k, None, f"{type(error).__name__}: {error}"))
            return


def _from_workers(loader: DataLoader, batches: list[np.ndarray],
                  base_seed: int) -> Iterator[Any]:
    """The batches, made by loader.num_workers processes, in order."""
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    results = context.Queue()
    count = min(loader.num_workers, max(len(batches), 1))
    workers = [context.Process(target=_worker, daemon=True, args=(
        i, count, loader.dataset, loader.collate_fn, loader.worker_init_fn, batches,
        base_seed + i, results)) for i in range(count)]
    for worker in workers:
        worker.start()
    waiting: dict[int, tuple[Any, str | None]] = {}
    try:
        for k in range(len(batches)):
            while k not in waiting:
                index, batch, failure = results.get()
                waiting[index] = batch, failure
            batch, failure = waiting.pop(k)
            if failure is not None:       # raised in batch order, as torch re-raises
                raise RuntimeError(f"DataLoader: worker {k % count} failed making batch "
                                   f"{k}: {failure}")
            yield batch
    finally:
        for worker in workers:
            worker.join(timeout=1)
            if worker.is_alive():
                worker.terminate()
