"""Tensor: an ndarray plus what autograd needs to differentiate through it.

A tensor made by an op remembers the op (`grad_fn`, a `Function` node holding its
inputs), so the operations of a computation form a DAG that `backward()` walks in
reverse. Every method here is a thin call into `autodiff.ops`, where each op's forward
and derivative sit side by side.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from . import events, versions
from .dtypes import get_default_dtype
from .errors import DomainError, DtypeError, ShapeError

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


def _reduction_axis(dim: Axis, axis: Axis, keepdim: bool, keepdims: bool | None
                    ) -> tuple[Axis, bool]:
    """Accept torch's `dim`/`keepdim` and numpy's `axis`/`keepdims` spellings."""
    if axis is not None:
        dim = axis
    if keepdims is not None:
        keepdim = keepdims
    return dim, bool(keepdim)


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
        array = value._data if isinstance(value, Tensor) else np.asarray(value)
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

    def clone(self) -> Tensor:
        """A copy of the numbers, in the graph (dL/dx = dL/dclone)."""
        return elementwise.Cast.apply(self, dtype=self._data.dtype)

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

    def backward(self, gradient: Any = None, retain_graph: bool | None = None,
                 create_graph: bool = False) -> None:
        """Accumulate dself/dleaf into every leaf's .grad (the chain rule, applied in
        reverse topological order). `gradient` is dL/dself; it may be omitted for a
        one-element tensor. See `autodiff.backward.backward`."""
        backward_pass.backward(self, gradient, retain_graph, create_graph)

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

    # ---------------------------------------------------------------- arithmetic
    # Operands of different dtypes are first converted to the dtype torch would compute
    # in (autodiff.promotion); two tensors of one dtype go straight to the op.

    def __add__(self, other: Any) -> Tensor:
        if type(other) is not Tensor or other._data.dtype is not self._data.dtype:
            return elementwise.Add.apply(*promote(self, other))
        return elementwise.Add.apply(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return elementwise.Add.apply(*promote(other, self))

    def __sub__(self, other: Any) -> Tensor:
        if type(other) is not Tensor or other._data.dtype is not self._data.dtype:
            return elementwise.Sub.apply(*promote(self, other))
        return elementwise.Sub.apply(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return elementwise.Sub.apply(*promote(other, self))

    def __mul__(self, other: Any) -> Tensor:
        if type(other) is not Tensor or other._data.dtype is not self._data.dtype:
            return elementwise.Mul.apply(*promote(self, other))
        return elementwise.Mul.apply(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return elementwise.Mul.apply(*promote(other, self))

    def __truediv__(self, other: Any) -> Tensor:
        if type(other) is not Tensor or other._data.dtype is not self._data.dtype \
                or self._data.dtype.kind != "f":        # integers divide as float32
            return elementwise.Div.apply(*promote(self, other, floating=True))
        return elementwise.Div.apply(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return elementwise.Div.apply(*promote(other, self, floating=True))

    def __pow__(self, other: Any) -> Tensor:
        if type(other) is not Tensor or other._data.dtype is not self._data.dtype:
            return elementwise.Pow.apply(*promote(self, other))
        return elementwise.Pow.apply(self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return elementwise.Pow.apply(*promote(other, self))

    def __matmul__(self, other: Any) -> Tensor:
        return matmul_ops.MatMul.apply(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return matmul_ops.MatMul.apply(other, self)

    def __neg__(self) -> Tensor:
        return elementwise.Neg.apply(self)

    def __pos__(self) -> Tensor:
        return self

    def _in_place(self, op: str, other: Any, ufunc: np.ufunc) -> Tensor:
        """`self op= other`: written straight into the numbers outside the graph, or
        recorded with autograd's in-place rules (autodiff.inplace)."""
        if inplace.in_graph(self, (other,)):
            return inplace.update(self, op, lambda old: ufunc_ops[ufunc](old, other), (other,))
        versions.refuse_unwritable(self, op)
        events.in_place_write(self, ufunc, other)
        try:
            ufunc(self._data, other._data if isinstance(other, Tensor) else other,
                  out=self._data, casting="same_kind")
        except TypeError:
            raise DtypeError(f"{op}: the result can't be cast to the dtype {self.dtype} of "
                             f"the tensor changed in place; convert one of them first "
                             f"(e.g. t = t.float())") from None
        except ValueError:
            raise ShapeError(f"{op}: the result of shapes {self.shape} and "
                             f"{np.shape(other._data if isinstance(other, Tensor) else other)} "
                             f"does not fit the tensor of shape {self.shape} changed in "
                             f"place; write x = x {op[0]} y instead") from None
        versions.bump(self)
        return self

    def __iadd__(self, other: Any) -> Tensor:
        return self._in_place("+=", other, np.add)

    def __isub__(self, other: Any) -> Tensor:
        return self._in_place("-=", other, np.subtract)

    def __imul__(self, other: Any) -> Tensor:
        return self._in_place("*=", other, np.multiply)

    def __itruediv__(self, other: Any) -> Tensor:
        return self._in_place("/=", other, np.divide)

    # ---------------------------------------------------------------- in-place methods
    # Each is its out-of-place op written back into the tensor (autodiff.inplace).

    def add_(self, other: Any, *, alpha: float = 1) -> Tensor:
        """self ← self + alpha · other"""
        return inplace.update(self, "add_", lambda old: old + (other if alpha == 1
                                                                 else other * alpha), (other,))

    def sub_(self, other: Any, *, alpha: float = 1) -> Tensor:
        """self ← self − alpha · other"""
        return inplace.update(self, "sub_", lambda old: old - (other if alpha == 1
                                                                 else other * alpha), (other,))

    def mul_(self, other: Any) -> Tensor:
        """self ← self · other"""
        return inplace.update(self, "mul_", lambda old: old * other, (other,))

    def div_(self, other: Any) -> Tensor:
        """self ← self / other"""
        return inplace.update(self, "div_", lambda old: old / other, (other,))

    def pow_(self, exponent: Any) -> Tensor:
        """self ← self ** exponent"""
        return inplace.update(self, "pow_", lambda old: old ** exponent, (exponent,))

    def clamp_(self, min: float | None = None, max: float | None = None) -> Tensor:
        """self ← self clamped to [min, max]"""
        return inplace.update(self, "clamp_", lambda old: old.clamp(min, max))

    clip_ = clamp_

    def zero_(self) -> Tensor:
        """self ← 0"""
        inplace.set_item(self, Ellipsis, 0, "zero_")
        return self

    def fill_(self, value: Any) -> Tensor:
        """self ← value (a number or a one-element tensor) everywhere"""
        inplace.set_item(self, Ellipsis, value, "fill_")
        return self

    def copy_(self, src: Any, non_blocking: bool = False) -> Tensor:
        """self ← src, broadcast to self's shape and converted to self's dtype;
        dL/dsrc = dL/dself summed over the broadcast copies"""
        inplace.set_item(self, Ellipsis, src, "copy_")
        return self

    def masked_fill_(self, mask: Any, value: Any) -> Tensor:
        """self ← value where mask (broadcast to self's shape) is True"""
        mask = np.broadcast_to(mask._data if isinstance(mask, Tensor) else np.asarray(mask),
                               self.shape)
        if mask.dtype != np.bool_:
            raise DtypeError(f"masked_fill_: the mask must be a bool tensor, got {mask.dtype}")
        inplace.set_item(self, mask, value, "masked_fill_")
        return self

    def normal_(self, mean: float = 0.0, std: float = 1.0, *, generator: Any = None) -> Tensor:
        """self ← draws from N(mean, std²)"""
        return self._draw_("normal_", lambda rng: rng.normal(mean, std, self.shape), generator)

    def uniform_(self, a: float = 0.0, b: float = 1.0, *, generator: Any = None) -> Tensor:
        """self ← draws from U[a, b)"""
        return self._draw_("uniform_", lambda rng: rng.uniform(a, b, self.shape), generator)

    def bernoulli_(self, p: float = 0.5, *, generator: Any = None) -> Tensor:
        """self ← 1 with probability p, else 0"""
        p = p._data if isinstance(p, Tensor) else p
        return self._draw_("bernoulli_", lambda rng: rng.random(self.shape) < p, generator)

    def exponential_(self, lambd: float = 1.0, *, generator: Any = None) -> Tensor:
        """self ← draws from the exponential distribution of rate lambd"""
        return self._draw_("exponential_", lambda rng: rng.exponential(1.0 / lambd, self.shape),
                           generator)

    def _draw_(self, op: str, draw: Callable[[np.random.Generator], np.ndarray],
               generator: Any) -> Tensor:
        inplace.set_item(self, Ellipsis, draw(random.generator(generator)).astype(self.dtype),
                         op)
        return self

    # ---------------------------------------------------------------- comparisons

    def _compare(self, other: Any, ufunc: np.ufunc) -> Tensor:
        """A comparison, made in the promoted dtype (as torch: float32 x == 0-d float64 y
        compares y rounded to float32)."""
        if type(other) is not Tensor or other._data.dtype is not self._data.dtype:
            return discrete.Binary.apply(*promote(self, other), ufunc=ufunc)
        return discrete.Binary.apply(self, other, ufunc=ufunc)

    def _bitwise(self, other: Any, ufunc: np.ufunc, op: str, reflected: bool = False
                 ) -> Tensor:
        """& | ^ as torch's: bitwise on integers, logical on bools (the same bits), in the
        promoted dtype; floating-point operands are refused."""
        dtype = result_type(self, other)
        if dtype.kind not in "biu":
            raise DtypeError(f"{op}: bitwise operators need integer or bool tensors, got "
                             f"{dtype}; compare first (e.g. (x > 0) {op} (y > 0))")
        a, b = promote(other, self) if reflected else promote(self, other)
        return discrete.Binary.apply(a, b, ufunc=ufunc)

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(other, np.equal)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(other, np.not_equal)

    def __lt__(self, other: Any) -> Tensor:
        return self._compare(other, np.less)

    def __le__(self, other: Any) -> Tensor:
        return self._compare(other, np.less_equal)

    def __gt__(self, other: Any) -> Tensor:
        return self._compare(other, np.greater)

    def __ge__(self, other: Any) -> Tensor:
        return self._compare(other, np.greater_equal)

    def eq(self, other: Any) -> Tensor:
        return self._compare(other, np.equal)

    def __invert__(self) -> Tensor:
        if self.dtype.kind not in "biu":
            raise DtypeError(f"~: bitwise not needs an integer or bool tensor, got "
                             f"{self.dtype}")
        return discrete.Unary.apply(
            self, ufunc=np.logical_not if self.dtype == np.bool_ else np.invert)

    def __and__(self, other: Any) -> Tensor:
        return self._bitwise(other, np.bitwise_and, "&")

    def __rand__(self, other: Any) -> Tensor:
        return self._bitwise(other, np.bitwise_and, "&", reflected=True)

    def __or__(self, other: Any) -> Tensor:
        return self._bitwise(other, np.bitwise_or, "|")

    def __ror__(self, other: Any) -> Tensor:
        return self._bitwise(other, np.bitwise_or, "|", reflected=True)

    def __xor__(self, other: Any) -> Tensor:
        return self._bitwise(other, np.bitwise_xor, "^")

    def __rxor__(self, other: Any) -> Tensor:
        return self._bitwise(other, np.bitwise_xor, "^", reflected=True)

    # ---------------------------------------------------------------- elementwise

    def exp(self) -> Tensor:
        return elementwise.Exp.apply(self)

    def log(self) -> Tensor:
        return elementwise.Log.apply(self)

    def sqrt(self) -> Tensor:
        return elementwise.Sqrt.apply(self)

    def abs(self) -> Tensor:
        return elementwise.Abs.apply(self)

    def tanh(self) -> Tensor:
        return elementwise.Tanh.apply(self)

    def sigmoid(self) -> Tensor:
        return elementwise.Sigmoid.apply(self)

    def relu(self) -> Tensor:
        return elementwise.ReLU.apply(self)

    def leaky_relu(self, negative_slope: float = 0.01) -> Tensor:
        return elementwise.LeakyReLU.apply(self, negative_slope=negative_slope)

    def clip(self, min: float | None = None, max: float | None = None) -> Tensor:
        """Each element limited to [min, max] (one of them may be None, not both)."""
        if min is None and max is None:
            raise DomainError("clamp: at least one of 'min' or 'max' must not be None")
        return elementwise.Clip.apply(self, low=min, high=max)

    clamp = clip

    def maximum(self, other: Any) -> Tensor:
        return elementwise.Maximum.apply(*promote(self, other))

    def minimum(self, other: Any) -> Tensor:
        return elementwise.Minimum.apply(*promote(self, other))

    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """This tensor converted to a dtype and/or moved to a device, as torch's
        `to(dtype)`, `to(device, dtype)`, `to(other)`, `to(device=..., dtype=...)`: the
        device is always the CPU; between float dtypes the conversion is differentiable,
        to an integer or bool dtype it ends the graph."""
        dtype = conversions.target_dtype(self, args, kwargs)
        if dtype is None or dtype == self.dtype:
            return self.clone() if kwargs.get("copy") else self
        if not np.issubdtype(dtype, np.floating):
            return discrete.IntegerCast.apply(self, dtype=dtype)
        return elementwise.Cast.apply(self, dtype=dtype)

    # ---------------------------------------------------------------- reductions

    def sum(self, dim: Axis = None, keepdim: bool = False, *, dtype: Any = None,
            axis: Axis = None, keepdims: bool | None = None) -> Tensor:
        """Σ over `dim` (every dim when None), in `dtype` when given (converted first);
        bools and integers sum as int64, as torch."""
        dim, keepdim = _reduction_axis(dim, axis, keepdim, keepdims)
        x = self.to(dtype) if dtype is not None else \
            self.to(np.int64) if self._data.dtype.kind in "biu" else self
        return reduce.Sum.apply(x, axis=reduce.normalize_axes("sum", dim, x.ndim),
                                keepdims=keepdim)

    def mean(self, dim: Axis = None, keepdim: bool = False, *, axis: Axis = None,
             keepdims: bool | None = None) -> Tensor:
        dim, keepdim = _reduction_axis(dim, axis, keepdim, keepdims)
        return reduce.Mean.apply(self, axis=reduce.normalize_axes("mean", dim, self.ndim),
                                 keepdims=keepdim)

    def var(self, dim: Axis = None, unbiased: bool | None = None, keepdim: bool = False, *,
            correction: int | None = None, axis: Axis = None,
            keepdims: bool | None = None) -> Tensor:
        """Variance, unbiased (divides by N - 1) unless `correction=0` / `unbiased=False`."""
        return self._spread(reduce.Var, "var", dim, unbiased, keepdim, correction, axis,
                            keepdims)

    def std(self, dim: Axis = None, unbiased: bool | None = None, keepdim: bool = False, *,
            correction: int | None = None, axis: Axis = None,
            keepdims: bool | None = None) -> Tensor:
        """Standard deviation √var, unbiased unless `correction=0` / `unbiased=False`; its
        gradient is 0 where it is 0 (a constant input), as torch's."""
        return self._spread(reduce.Std, "std", dim, unbiased, keepdim, correction, axis,
                            keepdims)

    def _spread(self, op: type, name: str, dim: Axis, unbiased: bool | None, keepdim: bool,
                correction: int | None, axis: Axis, keepdims: bool | None) -> Tensor:
        """var or std (`op`) with torch's and numpy's spellings of their arguments."""
        dim, keepdim = _reduction_axis(dim, axis, keepdim, keepdims)
        if correction is None:
            correction = 0 if unbiased is False else 1
        return op.apply(self, axis=reduce.normalize_axes(name, dim, self.ndim),
                        keepdims=keepdim, correction=correction)

    def prod(self, dim: int | None = None, keepdim: bool = False, *, axis: int | None = None,
             keepdims: bool | None = None) -> Tensor:
        """The product of every element, or along one int dim (torch's prod)."""
        dim, keepdim = _reduction_axis(dim, axis, keepdim, keepdims)
        return reduce.prod(self, dim, keepdim)

    def max(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
            keepdims: bool | None = None) -> Any:
        """Without `dim`: the largest element (every axis kept as size 1 with
        keepdim=True, as numpy's keepdims; torch's max() takes no keepdim). With `dim`:
        (values, indices) along it. With a tensor: the elementwise maximum. Ties share
        the gradient equally."""
        return reduce.extreme("max", self, dim, keepdim, axis, keepdims)

    def min(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
            keepdims: bool | None = None) -> Any:
        """Like `max`, for the smallest elements."""
        return reduce.extreme("min", self, dim, keepdim, axis, keepdims)

    def amax(self, dim: Axis = (), keepdim: bool = False, *, axis: Axis = None,
             keepdims: bool | None = None) -> Tensor:
        """The largest element over `dim` (an int or ints; the default () means every
        dim), values only. Ties share the gradient equally, as torch's amax."""
        dim, keepdim = _reduction_axis(dim, axis, keepdim, keepdims)
        return reduce.Max.apply(self, axis=reduce.normalize_axes("amax", dim, self.ndim),
                                keepdims=keepdim)

    def amin(self, dim: Axis = (), keepdim: bool = False, *, axis: Axis = None,
             keepdims: bool | None = None) -> Tensor:
        """Like `amax`, for the smallest elements."""
        dim, keepdim = _reduction_axis(dim, axis, keepdim, keepdims)
        return reduce.Min.apply(self, axis=reduce.normalize_axes("amin", dim, self.ndim),
                                keepdims=keepdim)

    def norm(self, p: float | str = "fro", dim: Axis = None, keepdim: bool = False, *,
             axis: Axis = None, keepdims: bool | None = None) -> Tensor:
        """The vector p-norm over `dim` (every dim when None), as torch.norm and
        torch.linalg.vector_norm: (Σ|x|ᵖ)^(1/p); 'fro' (the default) is p = 2, inf the
        largest |x|, -inf the smallest, 0 the number of non-zeros."""
        dim, keepdim = _reduction_axis(dim, axis, keepdim, keepdims)
        return reduce.norm(self, p, dim, keepdim)

    def argmax(self, dim: int | None = None, keepdim: bool = False, *,
               axis: int | None = None, keepdims: bool | None = None) -> Tensor:
        dim, keepdim = _reduction_axis(dim, axis, keepdim, keepdims)
        return reduce.arg_extreme("argmax", self, dim, keepdim)

    def argmin(self, dim: int | None = None, keepdim: bool = False, *,
               axis: int | None = None, keepdims: bool | None = None) -> Tensor:
        dim, keepdim = _reduction_axis(dim, axis, keepdim, keepdims)
        return reduce.arg_extreme("argmin", self, dim, keepdim)

    def logsumexp(self, dim: Axis = None, keepdim: bool = False, *, axis: Axis = None,
                  keepdims: bool | None = None) -> Tensor:
        dim, keepdim = _reduction_axis(dim, axis, keepdim, keepdims)
        return softmax_ops.LogSumExp.apply(
            self, axis=reduce.normalize_axes("logsumexp", dim, self.ndim), keepdims=keepdim)

    def softmax(self, dim: int | None = None, *, axis: int | None = None) -> Tensor:
        return softmax_ops.Softmax.apply(
            self, axis=softmax_ops.one_axis("softmax", dim, axis, self.ndim))

    def log_softmax(self, dim: int | None = None, *, axis: int | None = None) -> Tensor:
        return softmax_ops.LogSoftmax.apply(
            self, axis=softmax_ops.one_axis("log_softmax", dim, axis, self.ndim))

    # ---------------------------------------------------------------- shape

    def reshape(self, *shape: Any) -> Tensor:
        return shape_ops.reshape(self, shape)

    def view(self, *shape: Any) -> Tensor:
        return shape_ops.reshape(self, shape)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        return shape_ops.flatten(self, start_dim, end_dim)

    def permute(self, *dims: Any) -> Tensor:
        return shape_ops.permute(self, dims)

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        """Swap two dimensions (torch's transpose; numpy's is `permute`)."""
        return shape_ops.transpose(self, dim0, dim1)

    swapaxes = transpose

    @property
    def T(self) -> Tensor:
        """All dimensions reversed."""
        return shape_ops.permute(self, tuple(range(self.ndim - 1, -1, -1)))

    @property
    def mT(self) -> Tensor:
        """The last two dimensions swapped (a batch of matrices transposed)."""
        return shape_ops.transpose(self, -2, -1)

    def squeeze(self, dim: int | None = None) -> Tensor:
        return shape_ops.squeeze(self, dim)

    def unsqueeze(self, dim: int) -> Tensor:
        return shape_ops.unsqueeze(self, dim)

    def expand(self, *sizes: Any) -> Tensor:
        return shape_ops.expand(self, sizes)

    def __getitem__(self, index: Any) -> Tensor:
        return shape_ops.getitem(self, index)

    def __setitem__(self, index: Any, value: Any) -> None:
        """self[index] = value: outside the graph a plain write; in it (self or value
        requires grad) recorded, so the region's gradient flows to value and the rest to
        self's history (autodiff.inplace)."""
        inplace.set_item(self, index, value)


# Imported last: these modules need the Tensor class defined above.
from . import backward as backward_pass  # noqa: E402
from . import conversions, inplace, random  # noqa: E402
from .ops import discrete, elementwise, reduce  # noqa: E402
from .ops import matmul as matmul_ops  # noqa: E402
from .ops import shape as shape_ops  # noqa: E402
from .ops import softmax as softmax_ops  # noqa: E402
from .promotion import promote, result_type  # noqa: E402

ufunc_ops: dict[np.ufunc, Callable[[Any, Any], Any]] = {
    np.add: lambda a, b: a + b, np.subtract: lambda a, b: a - b,
    np.multiply: lambda a, b: a * b, np.divide: lambda a, b: a / b}
