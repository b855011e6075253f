"""Tensor: an ndarray plus what autograd needs to differentiate through it.

A tensor made by an op remembers the op (`grad_fn`, a `Function` node holding its
inputs), so the operations of a computation form a DAG that `backward()` walks in
reverse.

This file is the core: the array, `grad`, `requires_grad`, the version counter, the graph
links and the Python protocols (printing, len, bool, np.asarray). The ops' methods are
registered by the modules that define the ops, each in one block at its bottom that calls
`register_methods`: the operators (`+`, `==`, `&`, …) in `autodiff/operators.py`, the
in-place ones (`+=`, `add_`, `t[i] = v`) in `inplace.py`, `backward` in `backward.py`,
`exp`/`sum`/`reshape`/… in `ops/elementwise.py`, `ops/reduce.py`, `ops/shape.py`,
`ops/softmax.py` and the rest. `tensor.pyi` lists them all for editors (written by
`python -m autodiff.tensor_stub`, kept current by a test).
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from . import events, versions
from .dtypes import get_default_dtype
from .errors import DtypeError, ShapeError

Axis = int | Sequence[int] | None


def as_array(data: Any, dtype: Any = None) -> np.ndarray:
    """The array `tensor(data)` holds: ndarrays keep their dtype; Python floats (and
    lists of them) become float32, Python ints int64, bools bool, like torch."""
    if isinstance(data, Tensor):
        data = data._data
    if isinstance(data, (np.ndarray, np.generic)):
        array = np.array(data, dtype=dtype)
    else:
        try:
            array = np.array(data, dtype=dtype)
        except ValueError as error:     # a ragged list
            raise ShapeError(f"tensor: the data cannot make a tensor ({error}); nested "
                             f"lists must have the same length at each level") from None
        if dtype is None and array.dtype == np.float64:
            array = array.astype(get_default_dtype())
    if array.dtype == object or array.dtype.kind in "USV":
        raise DtypeError(f"tensor: cannot make a tensor from {type(data).__name__} "
                         f"data; pass numbers, nested lists of numbers or an ndarray")
    return array


def check_can_require_grad(dtype: np.dtype, op: str) -> None:
    if not np.issubdtype(dtype, np.floating):
        raise DtypeError(f"{op}: only floating-point tensors can require grad, this one "
                         f"is {dtype}; convert it first, e.g. t.float() or "
                         f"ad.tensor(data, dtype=ad.float32)")


def array_of(x: Any) -> Any:
    """The numbers x holds: a Tensor's ndarray; an ndarray, number or list as it is."""
    return x._data if isinstance(x, Tensor) else x


def register_methods(methods: dict[str, Callable[..., Any]],
                     properties: dict[str, Callable[[Tensor], Any]] | None = None) -> None:
    """Attach `methods` (and read-only `properties`) to Tensor under their keys. A
    private or inner function takes the method's name, so help(ad.Tensor) shows it."""
    for name, function in methods.items():
        if function.__name__.startswith("_") or "<locals>" in function.__qualname__:
            function.__name__, function.__qualname__ = name, f"Tensor.{name}"
        setattr(Tensor, name, function)
    for name, getter in (properties or {}).items():
        setattr(Tensor, name, property(getter))


class Tensor:
    """An n-dimensional array that can record the operations applied to it.

    >>> import autodiff as ad
    >>> x = ad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    tensor([2., 4., 6.])
    """

    __slots__ = ("_data", "_grad", "_requires_grad", "grad_fn", "_retains_grad",
                 "_hooks", "name", "_version_counter", "_view", "__weakref__")
    __array_ufunc__ = None          # ndarray OP Tensor defers to Tensor's reflected op
    __hash__ = object.__hash__      # == is elementwise, tensors stay usable as dict keys

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        array = as_array(data, dtype)
        if requires_grad:
            check_can_require_grad(array.dtype, "tensor")
        self._data = array
        self._grad: Tensor | None = None
        self._requires_grad = bool(requires_grad)
        self.grad_fn = None
        self._retains_grad = False
        self._hooks: list[Callable[[Tensor], Tensor | None]] | None = None
        self.name: str | None = None
        self._version_counter: list[Any] | None = None    # see autodiff.versions
        self._view: versions.ViewOf | None = None
        events.tensor_created(self, data)

    @classmethod
    def _make(cls, data: np.ndarray, grad_fn: Any = None) -> Tensor:
        """The engine's constructor: wraps `data` without copying or checking."""
        t = object.__new__(Tensor)
        t._data = data
        t._grad = None
        t._requires_grad = grad_fn is not None
        t.grad_fn = grad_fn
        t._retains_grad = False
        t._hooks = None
        t.name = None
        t._version_counter = None
        t._view = None
        return t

    # ---------------------------------------------------------------- state

    @property
    def data(self) -> Tensor:
        """A tensor sharing this one's numbers, outside the graph (it does not require
        grad, and changes through it are not tracked: the escape hatch of
        `p.data += -lr * p.grad`, as in torch). Assigning a tensor or ndarray replaces
        the numbers (and the dtype with them). `t.numpy()` gives the ndarray."""
        events.value_read(".data")
        return Tensor._make(self._data)

    @data.setter
    def data(self, value: Any) -> None:
        events.unsupported("assigns a tensor's .data")
        array = np.asarray(array_of(value))
        if self._requires_grad:
            check_can_require_grad(array.dtype, "data assignment")
        self._data = array

    @property
    def _version(self) -> int:
        """How many in-place changes this tensor's numbers have seen (shared with its
        views); backward refuses values saved at another version."""
        return versions.version(self)

    @property
    def grad(self) -> Tensor | None:
        """The accumulated gradient dL/dself: a Tensor of self's shape and dtype, or None."""
        if self._grad is not None:
            events.grad_read(self, self._grad)
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | np.ndarray | None) -> None:
        if value is None:
            events.grad_cleared(self)
        else:
            events.unsupported("assigns a gradient other than None to .grad")
        if value is not None:
            if not isinstance(value, Tensor):
                value = Tensor._make(np.asarray(value, dtype=self._data.dtype))
            if value.shape != self.shape:
                raise ShapeError(f"grad assignment: gradient of shape {value.shape} does "
                                 f"not match the tensor's shape {self.shape}")
        self._grad = value

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Start (or stop) recording operations on this leaf tensor; returns self."""
        if self.grad_fn is not None and not requires_grad:
            raise DtypeError("requires_grad_: cannot turn off requires_grad on a tensor "
                             "computed by an op; use t.detach() instead")
        if requires_grad:
            check_can_require_grad(self._data.dtype, "requires_grad_")
        events.unsupported("changes requires_grad")
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def is_leaf(self) -> bool:
        """True for tensors not made by a recorded op (their .grad is filled by backward)."""
        return self.grad_fn is None

    @property
    def shape(self) -> tuple[int, ...]:
        return self._data.shape

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    def size(self, dim: int | None = None) -> tuple[int, ...] | int:
        """The shape, or the size of dimension `dim`."""
        return self._data.shape if dim is None else self._data.shape[dim]

    def numel(self) -> int:
        return self._data.size

    def dim(self) -> int:
        return self._data.ndim

    def item(self) -> Any:
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise ShapeError(f"item: only one-element tensors convert to a Python "
                             f"number, this one has shape {self.shape}")
        events.value_read(".item()")
        return self._data.item()

    def numpy(self) -> np.ndarray:
        """The underlying ndarray (shared, not copied)."""
        events.value_read(".numpy()")
        return self._data

    def tolist(self) -> Any:
        events.value_read(".tolist()")
        return self._data.tolist()

    def detach(self) -> Tensor:
        """A tensor sharing this data (and its version counter) but cut off from the
        graph."""
        detached = Tensor._make(self._data)
        detached._version_counter = versions.counter(self)
        return detached

    def retain_grad(self) -> None:
        """Keep .grad on this non-leaf tensor after backward (leaves always keep it)."""
        if not self._requires_grad:
            raise DtypeError("retain_grad: this tensor does not require grad")
        events.unsupported("calls retain_grad()")
        self._retains_grad = True

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> Callable[[], None]:
        """Call `hook(grad)` when this tensor's gradient is complete in a backward pass.
        Its return value, if not None, replaces the gradient. Returns a remover."""
        if not self._requires_grad:
            raise DtypeError("register_hook: cannot register a hook on a tensor that "
                             "does not require grad")
        events.unsupported("registers a hook")
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        hooks = self._hooks
        return lambda: hooks.remove(hook)

    # ---------------------------------------------------------------- printing

    def __repr__(self) -> str:
        events.value_read("repr() or print()")
        body = np.array2string(self._data, separator=", ", prefix="tensor(")
        extras = []
        if self._data.dtype not in (np.float32, np.int64, np.bool_):
            extras.append(f"dtype={self._data.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{type(self.grad_fn).__name__}Backward>")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body, *extras]) + ")"

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        return (self[i] for i in range(len(self)))

    def __bool__(self) -> bool:
        events.value_read("bool(), as in `if t:`")
        return bool(self.item())

    def __float__(self) -> float:
        events.value_read("float()")
        return float(self.item())

    def __int__(self) -> int:
        events.value_read("int()")
        return int(self.item())

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        events.value_read("np.asarray()")
        return self._data if dtype is None else self._data.astype(dtype)
