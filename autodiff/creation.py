"""Ways to make tensors: from data, filled with a value, random, or ranges.
Defaults follow torch: float32 for floating results, int64 for integer ranges."""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from . import events, random
from .device import device as as_device
from .dtypes import floating
from .errors import DomainError, DtypeError, ShapeError
from .tensor import Tensor, array_of, as_array, check_can_require_grad


def takes_device(make: Callable[..., Tensor]) -> Callable[..., Tensor]:
    """A creation function that also takes torch's `device=` (the CPU, or an error) and
    `pin_memory=` (nothing to pin without a GPU)."""

    @functools.wraps(make)
    def wrapper(*args: Any, device: Any = None, pin_memory: bool = False,
                **kwargs: Any) -> Tensor:
        if device is not None:
            as_device(device)
        return make(*args, **kwargs)

    return wrapper


def _filled(make: Callable[..., Tensor]) -> Callable[..., Tensor]:
    """A creation function whose values do not depend on the random generator: inside a
    traced function (`ad.compile`), replay makes a fresh copy of the same values."""

    @functools.wraps(make)
    def wrapper(*args: Any, **kwargs: Any) -> Tensor:
        t = make(*args, **kwargs)
        events.tensor_created(t, None)
        return t

    return wrapper


@takes_device
def tensor(data: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """A new leaf tensor holding a copy of `data`.

    ndarrays keep their dtype; Python floats and lists of floats become float32,
    Python ints int64, bools bool.

    >>> import autodiff as ad
    >>> ad.tensor([1.0, 2.0]).dtype, ad.tensor([1, 2]).dtype
    (dtype('float32'), dtype('int64'))
    """
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing `array`'s memory (no copy), like torch.from_numpy."""
    if not isinstance(array, np.ndarray):
        raise DtypeError(f"from_numpy: expected an ndarray, got {type(array).__name__}")
    return Tensor._make(array)


@takes_device
def as_tensor(data: Any, dtype: Any = None) -> Tensor:
    """`data` as a tensor, copying only where torch.as_tensor copies: a tensor (of `dtype`,
    if given) is returned itself; an ndarray (of `dtype`, if given) becomes a tensor
    sharing its memory, as `from_numpy`; anything else, or another dtype, is converted
    into a new tensor (a tensor by `.to(dtype)`, which keeps its graph).

    >>> import numpy as np, autodiff as ad
    >>> a = np.array([1.0, 2.0])
    >>> t = ad.as_tensor(a)
    >>> a[0] = 5.0
    >>> t
    tensor([5., 2.], dtype=float64)
    """
    if isinstance(data, Tensor):
        return data if dtype is None or data.dtype == np.dtype(dtype) else data.to(dtype)
    if isinstance(data, np.ndarray) and data.dtype.kind in "biuf" \
            and (dtype is None or data.dtype == np.dtype(dtype)):
        return from_numpy(data)
    return Tensor(data, dtype=dtype)


def _size(size: tuple[Any, ...]) -> tuple[int, ...]:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    size = tuple(int(n) for n in size)
    if any(n < 0 for n in size):
        raise ShapeError(f"tensor creation: the size {size} has a negative dimension; "
                         f"sizes must be >= 0")
    return size


def _leaf(array: np.ndarray, requires_grad: bool) -> Tensor:
    if requires_grad:
        check_can_require_grad(array.dtype, "tensor")
    t = Tensor._make(array)
    t._requires_grad = bool(requires_grad)
    return t


@takes_device
@_filled
def zeros(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _leaf(np.zeros(_size(size), dtype=floating(dtype)), requires_grad)


@takes_device
@_filled
def ones(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _leaf(np.ones(_size(size), dtype=floating(dtype)), requires_grad)


@takes_device
@_filled
def full(size: Any, fill_value: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    if dtype is None:
        dtype = as_array(fill_value).dtype
    return _leaf(np.full(_size((size,)), fill_value, dtype=dtype), requires_grad)


@takes_device
@_filled
def eye(n: int, m: int | None = None, dtype: Any = None,
        requires_grad: bool = False) -> Tensor:
    return _leaf(np.eye(n, m, dtype=floating(dtype)), requires_grad)


@takes_device
@events.random_draw
def randn(*size: Any, generator: random.Generator | None = None, dtype: Any = None,
          requires_grad: bool = False) -> Tensor:
    """Samples of N(0, 1) (from the default generator unless `generator` is given)."""
    return _leaf(random.generator(generator).standard_normal(_size(size))
                 .astype(floating(dtype)), requires_grad)


@takes_device
@events.random_draw
def rand(*size: Any, generator: random.Generator | None = None, dtype: Any = None,
         requires_grad: bool = False) -> Tensor:
    """Samples of U[0, 1) (from the default generator unless `generator` is given)."""
    return _leaf(random.generator(generator).random(_size(size)).astype(floating(dtype)),
                 requires_grad)


@takes_device
@events.random_draw
def randint(*bounds_and_size: Any, size: Any = None, generator: random.Generator | None = None,
            dtype: Any = np.int64) -> Tensor:
    """Integers drawn uniformly from [low, high): randint(high, size) or
    randint(low, high, size), as torch."""
    if size is None:
        *bounds, size = bounds_and_size
    else:
        bounds = list(bounds_and_size)
    low, high = (0, bounds[0]) if len(bounds) == 1 else bounds
    if high <= low:
        raise DomainError(f"randint: low ({low}) must be less than high ({high})")
    return Tensor._make(random.generator(generator).integers(low, high, _size((size,)))
                        .astype(dtype))


@takes_device
@events.random_draw
def randperm(n: int, *, generator: random.Generator | None = None,
             dtype: Any = np.int64) -> Tensor:
    """A random permutation of 0 .. n-1."""
    return Tensor._make(random.generator(generator).permutation(n).astype(dtype))


@events.random_draw
def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,
                generator: random.Generator | None = None) -> Tensor:
    """Indices (int64) drawn from each row of non-negative `input` weights, with
    probability proportional to the weight; without replacement an index comes once."""
    weights = np.asarray(array_of(input), np.float64)
    rows = np.atleast_2d(weights)
    if rows.ndim != 2 or np.any(rows < 0) or not np.all(np.isfinite(rows)) \
            or np.any(rows.sum(axis=1) <= 0):
        raise DomainError(f"multinomial: input must be a 1-D or 2-D tensor of non-negative, "
                          f"finite weights with a positive sum in each row, got shape "
                          f"{weights.shape}")
    if not replacement and num_samples > np.count_nonzero(rows, axis=1).min():
        raise DomainError(f"multinomial: cannot draw {num_samples} samples without "
                          f"replacement from a row with fewer categories of nonzero weight "
                          f"({np.count_nonzero(rows, axis=1).min()})")
    rng = random.generator(generator)
    drawn_rows = [rng.choice(rows.shape[1], num_samples, replace=replacement, p=row / row.sum())
                  for row in rows]
    samples = np.array(drawn_rows, dtype=np.int64)
    return Tensor._make(samples if weights.ndim == 2 else samples[0])


@takes_device
@events.random_draw
def normal(mean: Any = 0.0, std: Any = 1.0, size: Any = None, *,
           generator: random.Generator | None = None, dtype: Any = None) -> Tensor:
    """Samples of N(mean, std²): elementwise for tensor mean/std (broadcast), or of shape
    `size` for numbers."""
    mean_array = array_of(mean)
    std_array = array_of(std)
    if np.any(np.asarray(std_array) < 0):
        raise DomainError("normal: std must be >= 0")
    shape = _size((size,)) if size is not None else np.broadcast(mean_array, std_array).shape
    if dtype is None:
        tensors = [v.dtype for v in (mean, std) if isinstance(v, Tensor)]
        dtype = tensors[0] if tensors else floating(None)
    return Tensor._make(random.generator(generator).normal(mean_array, std_array, shape)
                        .astype(dtype))


@events.random_draw
def bernoulli(input: Tensor, p: float | None = None, *,
              generator: random.Generator | None = None) -> Tensor:
    """1 with probability `input` (or `p`) at each element, else 0, in input's dtype;
    each probability must lie in [0, 1], as torch checks."""
    probability = random.probabilities("bernoulli", input._data if p is None else p)
    return Tensor._make((random.generator(generator).random(input.shape) < probability)
                        .astype(input.dtype))


@events.random_draw
def dropout_mask(shape: tuple[int, ...], p: float, dtype: np.dtype) -> Tensor:
    """Inverted dropout's mask: 1/(1 − p) with probability 1 − p, else 0 (all 0 for
    p = 1), drawn from the shared generator; a new draw on every call, in a compiled
    function too."""
    mask = (random.generator().random(shape) >= p).astype(dtype)
    if p < 1:
        mask *= 1 / (1 - p)
    return Tensor._make(mask)


@takes_device
@_filled
def arange(start: float, end: float | None = None, step: float = 1, dtype: Any = None,
           requires_grad: bool = False) -> Tensor:
    """Numbers from start (default 0) up to, not including, end; int64 when all
    arguments are ints, float32 otherwise (like torch)."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        all_ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = np.int64 if all_ints else floating(None)
    return _leaf(np.arange(start, end, step).astype(dtype), requires_grad)


@takes_device
@_filled
def linspace(start: float, end: float, steps: int, dtype: Any = None,
             requires_grad: bool = False) -> Tensor:
    """`steps` evenly spaced numbers from start to end, both included."""
    return _leaf(np.linspace(start, end, steps).astype(floating(dtype)), requires_grad)


@takes_device
@_filled
def logspace(start: float, end: float, steps: int, base: float = 10.0, dtype: Any = None,
             requires_grad: bool = False) -> Tensor:
    """base ** (`steps` evenly spaced exponents from start to end, both included)."""
    return _leaf(np.power(float(base), np.linspace(start, end, steps)).astype(floating(dtype)),
                 requires_grad)


@takes_device
def zeros_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return zeros(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


@takes_device
def ones_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return ones(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


@takes_device
def full_like(t: Tensor, fill_value: Any, dtype: Any = None,
              requires_grad: bool = False) -> Tensor:
    return full(t.shape, fill_value, dtype=dtype or t.dtype, requires_grad=requires_grad)


@takes_device
def randn_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return randn(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


@takes_device
def rand_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return rand(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


@takes_device
def randint_like(t: Tensor, low: int, high: int | None = None, *, dtype: Any = None) -> Tensor:
    """randint of t's shape (and dtype), from [low, high) or [0, low)."""
    bounds = (low,) if high is None else (low, high)
    return randint(*bounds, t.shape, dtype=dtype or t.dtype)


@takes_device
def empty(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of the given size to be written into (here zero-filled: never garbage)."""
    return zeros(*size, dtype=dtype, requires_grad=requires_grad)


@takes_device
def empty_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return zeros(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)
