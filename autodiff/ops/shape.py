"""Ops that move elements without changing them: reshape, permute, expand, indexing,
concatenation and stacking. Their backward moves the gradient back to where each
element came from (summing where one element was used several times)."""
from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import AutodiffError, DimError, ShapeError
from ..function import Function, keep
from ..tensor import Tensor, array_of, register_methods
from .array_or_tensor import permute as permute_any
from .reduce import normalize_axes, normalize_dim


class TensorIndexError(AutodiffError, IndexError):
    """An index out of bounds or of a kind tensors cannot be indexed with."""


class Reshape(Function):
    """y = x with a new shape;  dL/dx = dL/dy reshaped back"""

    derivative = ("dL/dx = dL/dy reshaped back to x's shape",)

    view = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.shape)


class Permute(Function):
    """y = x with its axes reordered;  dL/dx = dL/dy with the inverse order"""

    derivative = ("dL/dx = dL/dy with its axes put back in the inverse order",)

    view = True

    @staticmethod
    def forward(ctx, x, axes):
        ctx.inverse = tuple(np.argsort(axes))
        return x.transpose(axes)

    @staticmethod
    def backward(ctx, grad):
        return permute_any(grad, ctx.inverse)


class Expand(Function):
    """y = x broadcast to a larger shape;  dL/dx = Σ of dL/dy over the copies (the
    engine's unbroadcast does the sum)"""

    derivative = ("dL/dx = dL/dy summed over the copies (the engine's unbroadcast)",)

    view = True

    @staticmethod
    def forward(ctx, x, shape):
        new = len(shape) - x.ndim                      # no copies, only new 1s in front:
        if new >= 0 and tuple(shape) == (1,) * new + x.shape:
            return x[(None,) * new]                    # a writable view, as torch's
        return np.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, grad):
        return grad


class GetItem(Function):
    """y = x[index];  dL/dx = zeros with dL/dy added at [index] (repeats accumulate)"""

    derivative = ("dL/dx = dL/dy scattered back to the picked places (repeats add up)",)

    view = True
    name = "index"

    @staticmethod
    def forward(ctx, x, index):
        ctx.shape, ctx.index = x.shape, index
        try:
            out = x[index]
        except IndexError as error:
            raise TensorIndexError(f"index: {error} (tensor shape {x.shape})") from None
        if type(out) is not np.ndarray:     # one element: numpy copies it out as a scalar;
            out = x[(index if type(index) is tuple else (index,)) + (Ellipsis,)]  # a 0-d view
        return out

    @staticmethod
    def backward(ctx, grad):
        return scatter_add(grad, ctx.shape, ctx.index)


class ScatterAdd(Function):
    """y = zeros(shape) with x added at [index];  dL/dx = dL/dy[index]"""

    derivative = ("dL/dx = dL/dy[index]",)

    @staticmethod
    def forward(ctx, x, shape, index):
        ctx.index = index
        return scatter_add_array(x, shape, index)

    @staticmethod
    def backward(ctx, grad):
        return grad[ctx.index]


class Cat(Function):
    """y = [x₁, x₂, …] joined along an axis;  dL/dxₖ = the slice of dL/dy that xₖ became"""

    derivative = ("dL/dxₖ = the slice of dL/dy that xₖ became",)

    @staticmethod
    def forward(ctx, *xs, axis=0):
        ctx.axis = axis
        ctx.bounds = np.cumsum([0] + [x.shape[axis] for x in xs])
        return np.concatenate(xs, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        before = (slice(None),) * ctx.axis
        return tuple(grad[before + (slice(start, stop),)]
                     for start, stop in zip(ctx.bounds[:-1], ctx.bounds[1:]))


class Stack(Function):
    """y = [x₁, x₂, …] stacked along a new axis;  dL/dxₖ = dL/dy at position k"""

    derivative = ("dL/dxₖ = dL/dy at position k along the new axis",)

    @staticmethod
    def forward(ctx, *xs, axis=0):
        ctx.axis, ctx.count = axis, len(xs)
        return np.stack(xs, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        before = (slice(None),) * ctx.axis
        return tuple(grad[before + (k,)] for k in range(ctx.count))


# ---------------------------------------------------------------- the methods' front ends

def _shape_arg(shape: tuple[Any, ...]) -> tuple[int, ...]:
    """Accept reshape(2, 3) and reshape((2, 3))."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(int(n) for n in shape)


def _check_fits(op: str, x: Tensor, shape: tuple[int, ...]) -> None:
    known = int(np.prod([n for n in shape if n != -1]))
    fits = (known == x.numel() if -1 not in shape
            else shape.count(-1) == 1 and known and x.numel() % known == 0)
    if not fits:
        raise ShapeError(f"{op}: cannot reshape a tensor of shape {x.shape} "
                         f"({x.numel()} elements) into {shape}")


def reshape(x: Tensor, shape: tuple[Any, ...]) -> Tensor:
    shape = _shape_arg(shape)
    _check_fits("reshape", x, shape)
    return Reshape.apply(x, shape=shape)


def view(x: Tensor, shape: tuple[Any, ...]) -> Tensor:
    """reshape that never copies (torch's view): refused when x's strides cannot be read
    as `shape` (a transposed x.T.view(-1)), where reshape would give a copy, which writes
    would not reach x through."""
    shape = _shape_arg(shape)
    _check_fits("view", x, shape)
    data = x._data
    if data.size and not np.may_share_memory(data.reshape(shape), data):
        strides = tuple(stride // data.itemsize for stride in data.strides)
        raise ShapeError(f"view: view size is not compatible with input tensor's size and "
                         f"stride: a tensor of shape {x.shape} with strides {strides} (not "
                         f"contiguous, e.g. transposed) cannot be viewed as {shape} without "
                         f"a copy; use .reshape{shape} instead (it copies here), or "
                         f".contiguous().view{shape}")
    return Reshape.apply(x, shape=shape)


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    if x.ndim == 0:
        return Reshape.apply(x, shape=(1,))
    start = normalize_dim("flatten", start_dim, x.ndim)
    end = normalize_dim("flatten", end_dim, x.ndim)
    if start > end:
        raise ShapeError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    merged = int(np.prod(x.shape[start:end + 1]))
    return Reshape.apply(x, shape=x.shape[:start] + (merged,) + x.shape[end + 1:])


def permute(x: Tensor, dims: tuple[Any, ...]) -> Tensor:
    dims = _shape_arg(dims)
    axes = normalize_axes("permute", dims, x.ndim) if dims else ()
    if len(axes or ()) != x.ndim:
        raise ShapeError(f"permute: dims {dims} must list each of the {x.ndim} dimensions "
                         f"of a tensor of shape {x.shape} exactly once")
    return Permute.apply(x, axes=axes or ())


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    a = normalize_dim("transpose", dim0, max(x.ndim, 1))
    b = normalize_dim("transpose", dim1, max(x.ndim, 1))
    axes = list(range(x.ndim))
    if x.ndim >= 2:
        axes[a], axes[b] = axes[b], axes[a]
    return Permute.apply(x, axes=tuple(axes))


def squeeze(x: Tensor, dim: int | None = None) -> Tensor:
    if dim is None:
        shape = tuple(n for n in x.shape if n != 1)
    else:
        axes = normalize_axes("squeeze", dim, x.ndim) or ()
        shape = tuple(n for i, n in enumerate(x.shape) if not (i in axes and n == 1))
    return Reshape.apply(x, shape=shape)


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    if not -x.ndim - 1 <= dim <= x.ndim:
        raise DimError(f"unsqueeze: dim {dim} is out of range for a tensor with "
                         f"{x.ndim} dimensions (use {-x.ndim - 1} to {x.ndim})")
    dim = dim % (x.ndim + 1)
    return Reshape.apply(x, shape=x.shape[:dim] + (1,) + x.shape[dim:])


def expand(x: Tensor, sizes: tuple[Any, ...]) -> Tensor:
    sizes = _shape_arg(sizes)
    extra = len(sizes) - x.ndim
    if extra < 0:
        raise ShapeError(f"expand: cannot expand shape {x.shape} to fewer dimensions {sizes}")
    shape = tuple(x.shape[i - extra] if n == -1 and i >= extra else n
                  for i, n in enumerate(sizes))
    for i, n in enumerate(x.shape):
        if n != 1 and n != shape[i + extra]:
            raise ShapeError(f"expand: dimension {i} of shape {x.shape} has size {n}, "
                             f"which can only expand from size 1 (asked for {sizes})")
    return Expand.apply(x, shape=shape)


def _index_part(part: Any) -> Any:
    if isinstance(part, Tensor):
        part = part._data
        if part.dtype == np.uint8:      # torch reads a uint8 tensor as a mask (deprecated)
            warnings.warn("index: indexing with dtype uint8 is deprecated, as in torch: "
                          "the tensor is read as a boolean mask; use a bool tensor instead "
                          "(index.bool())", UserWarning, stacklevel=5)
            part = part.astype(bool)
    if isinstance(part, list):
        part = np.asarray(part)
    if isinstance(part, np.ndarray) and not (np.issubdtype(part.dtype, np.integer)
                                             or part.dtype == np.bool_):
        raise TensorIndexError(f"index: tensors and arrays used as indices must hold "
                               f"integers or booleans, got {part.dtype}")
    return part


def normalize_index(index: Any) -> Any:
    """An index with its tensors and lists as ndarrays (what numpy indexes with)."""
    if isinstance(index, tuple):
        return tuple(_index_part(part) for part in index)
    return _index_part(index)


def index_stages(index: Any) -> list[Any]:
    """A normalized index as the numpy indexes that give torch's result, applied in turn.

    numpy counts an integer beside an index array as one more index array, and when a
    slice separates them it moves the indexed dims to the front: on a (2, 3, 4) tensor
    `x[1, :, idx]` is (len(idx), 3) in numpy. torch applies integers first, as basic
    indexing, giving (3, len(idx)): `x[1][:, idx]`. So such an index becomes two stages,
    the integers (a view), then the index arrays on what is left."""
    if type(index) is not tuple or not any(isinstance(p, np.ndarray) for p in index) \
            or not any(isinstance(p, (int, np.integer)) and not isinstance(p, bool)
                       for p in index):
        return [index]
    basic, advanced = [], []
    for part in index:
        if isinstance(part, np.ndarray):
            basic.extend([slice(None)] * (part.ndim if part.dtype == np.bool_ else 1))
            advanced.append(part)
        elif isinstance(part, (int, np.integer)) and not isinstance(part, bool):
            basic.append(part)
        else:
            basic.append(part)
            advanced.append(part if part is Ellipsis else slice(None))
    return [tuple(basic), tuple(advanced)]


def getitem(x: Tensor, index: Any) -> Tensor:
    """x[index]; the index tensors the last stage keeps for backward are version-checked."""
    for stage in index_stages(normalize_index(index)):
        x = GetItem.apply(x, index=stage)
    if x.grad_fn is not None:
        for part in index if type(index) is tuple else (index,):
            if isinstance(part, Tensor):            # most indices hold none: no call
                keep(x, index, "its index")
                break
    return x


def _joined_dtype_check(op: str, tensors: Sequence[Any]) -> None:
    if len(tensors) == 0:
        raise ShapeError(f"{op}: needs at least one tensor")


def cat(tensors: Sequence[Any], dim: int = 0) -> Tensor:
    """Join tensors along an existing dim: all shapes must agree except along `dim`."""
    _joined_dtype_check("cat", tensors)
    ndim = np.ndim(tensors[0]._data if isinstance(tensors[0], Tensor) else tensors[0])
    axis = normalize_axes("cat", dim, ndim)
    shapes = [np.shape(array_of(t)) for t in tensors]
    for shape in shapes:
        if len(shape) != ndim or any(a != b for i, (a, b) in enumerate(zip(shape, shapes[0]))
                                     if i != axis[0]):
            raise ShapeError(f"cat: shapes {shapes} must match in every dim except dim {dim}")
    return Cat.apply(*tensors, axis=axis[0])


def stack(tensors: Sequence[Any], dim: int = 0) -> Tensor:
    """Stack equally shaped tensors along a new dim."""
    _joined_dtype_check("stack", tensors)
    shapes = [np.shape(array_of(t)) for t in tensors]
    if any(shape != shapes[0] for shape in shapes):
        raise ShapeError(f"stack: all tensors must have the same shape, got {shapes}")
    ndim = len(shapes[0]) + 1
    if not -ndim <= dim < ndim:
        raise DimError(f"stack: dim {dim} is out of range for the result's {ndim} "
                         f"dimensions (use {-ndim} to {ndim - 1})")
    return Stack.apply(*tensors, axis=dim % ndim)


def scatter_add(x: Any, shape: tuple[int, ...], index: Any) -> Any:
    """zeros(shape) with x added at [index] (repeated indices add up): the adjoint of x[index]."""
    if isinstance(x, Tensor):
        from .shape import ScatterAdd
        return ScatterAdd.apply(x, shape=shape, index=index)
    return scatter_add_array(x, shape, index)


def scatter_add_array(x: np.ndarray, shape: tuple[int, ...], index: Any) -> np.ndarray:
    out = np.zeros(shape, dtype=x.dtype)
    if is_basic_index(index):
        out[index] = x                  # a basic index never repeats an element
        return out
    items = index if isinstance(index, tuple) else (index,)
    axis = _single_array_axis(items, len(shape))
    if axis is None or x.size < ROWS_WORTH_SORTING * max(items[axis].size, 1):
        np.add.at(out, index, x)
    else:
        _add_rows(np.moveaxis(out, axis, 0), items[axis], x, axis)
    return out


# np.add.at adds one element at a time; sorting the index and summing runs of equal
# entries with np.add.reduceat pays off once each picked slice has a few elements
# (an (n, d) embedding gradient: 2.7x faster at d = 27, n = 27,853; slower at d = 1)
ROWS_WORTH_SORTING = 8


def _single_array_axis(items: tuple[Any, ...], ndim: int) -> int | None:
    """The axis of an index made of full slices and one integer array (x[:, idx], the
    index of embedding, index_select, nearest upsampling, pad modes), else None."""
    if len(items) > ndim:
        return None
    arrays = [k for k, item in enumerate(items) if isinstance(item, np.ndarray)]
    if len(arrays) != 1 or items[arrays[0]].dtype.kind not in "iu":
        return None
    others_full = all(item == slice(None) for k, item in enumerate(items) if k != arrays[0])
    return arrays[0] if others_full else None


def _add_rows(out: np.ndarray, index: np.ndarray, x: np.ndarray, axis: int) -> None:
    """out[index[e]] += the slice of x that index element e picked, for the x of
    `out_original[:, …, index, …]` with the index at `axis` (out has that axis first)."""
    flat = index.ravel() % out.shape[0]                 # negative indices count from the end
    picked = np.moveaxis(x, tuple(range(axis, axis + index.ndim)), tuple(range(index.ndim)))
    rows = picked.reshape(flat.size, -1)
    order = np.argsort(flat, kind="stable")
    ordered = flat[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    sums = np.add.reduceat(rows[order], starts, axis=0)
    out[ordered[starts]] = sums.reshape((len(starts),) + out.shape[1:])


def is_basic_index(index: Any) -> bool:
    """True for indices made only of ints, slices, None and Ellipsis."""
    items = index if isinstance(index, tuple) else (index,)
    return all((isinstance(i, (int, np.integer, slice)) and not isinstance(i, bool))
               or i is None or i is Ellipsis for i in items)


# ---------------------------------------------------------------- attached to Tensor

def _reshape(self: Tensor, *shape: Any) -> Tensor:
    """The same numbers in `shape` (one entry may be -1: inferred)."""
    return reshape(self, shape)


def _view(self: Tensor, *shape: Any) -> Tensor:
    """The same numbers in `shape`, shared, never copied (one entry may be -1); refused
    where self's strides do not allow it (use reshape)."""
    return view(self, shape)


def _flatten(self: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Dims start_dim … end_dim merged into one."""
    return flatten(self, start_dim, end_dim)


def _permute(self: Tensor, *dims: Any) -> Tensor:
    """The dims reordered: result dim i is self's dim dims[i]."""
    return permute(self, dims)


def _transpose(self: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dimensions (torch's transpose; numpy's is `permute`)."""
    return transpose(self, dim0, dim1)


def _squeeze(self: Tensor, dim: int | None = None) -> Tensor:
    """Dims of size 1 removed (only `dim`, when given)."""
    return squeeze(self, dim)


def _unsqueeze(self: Tensor, dim: int) -> Tensor:
    """A dim of size 1 inserted at `dim`."""
    return unsqueeze(self, dim)


def _expand(self: Tensor, *sizes: Any) -> Tensor:
    """Size-1 dims repeated to `sizes` without copying (-1 keeps a dim)."""
    return expand(self, sizes)


def _getitem(self: Tensor, index: Any) -> Tensor:
    """self[index], with numpy's basic and advanced indexing."""
    return getitem(self, index)


def _all_dims_reversed(self: Tensor) -> Tensor:
    """All dimensions reversed."""
    return permute(self, tuple(range(self.ndim - 1, -1, -1)))


def _matrices_transposed(self: Tensor) -> Tensor:
    """The last two dimensions swapped (a batch of matrices transposed)."""
    return transpose(self, -2, -1)


register_methods({
    "reshape": _reshape, "view": _view, "flatten": _flatten, "permute": _permute,
    "transpose": _transpose, "swapaxes": _transpose, "squeeze": _squeeze,
    "unsqueeze": _unsqueeze, "expand": _expand, "__getitem__": _getitem,
}, properties={"T": _all_dims_reversed, "mT": _matrices_transposed})
