"""torch's functions that rearrange, select, sort and combine elements: split, chunk,
flip, roll, repeat, tril, diagonal, gather, scatter, scatter_reduce, cumsum, cummax,
logcumsumexp, sort, topk, kthvalue, einsum, ...

Most are composites of the ops in shape.py, reduce.py and elementwise.py (slices and
index arrays through `getitem`, `cat`, `stack`, `reshape`, `where`, `prod`), so their
gradients come from those ops and need no derivative here. Seven are primitives, each with
its derivative beside its forward: `Cumsum` (the composite would be quadratic), `Scatter`
(an overwrite has no composite), `Diagonal` and `UnfoldWindows` (views, which index
arrays cannot give), `Einsum` (numpy's contraction, forward and backward), and `Argsort`
and `RunningArgExtreme` (integer indices, no gradient).

Views and copies follow torch: split, chunk, unbind, tensor_split, movedim, unflatten,
diagonal, Tensor.unfold, expand-based meshgrid and the einsums that only rearrange
('ij->ji', 'ii->i') share memory with the input (writes through them reach it); flip,
roll, repeat, tile, repeat_interleave, diag and the ops built on index arrays copy. The
index, mask and condition tensors they keep for backward are version-checked
(`function.keep`): changed in place before backward, they are refused, as in torch.

Importing the module attaches the methods (`x.flip(0)`, `x.sort()`); see the block at
the bottom.

>>> import autodiff as ad, autodiff.ops.rearrange as ra
>>> x = ad.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
>>> [t.shape for t in x.split(2, dim=1)]          # a chunk size, not a count
[(2, 2), (2, 1)]
>>> x.repeat(1, 2)                                 # tiles, like numpy's tile
tensor([[1., 2., 3., 1., 2., 3.],
        [4., 5., 6., 4., 5., 6.]])
>>> ra.repeat_interleave(ad.tensor([1, 2]), 2)     # repeats elements
tensor([1, 1, 2, 2])
"""
from __future__ import annotations

import string
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import events
from ..errors import DimError, DtypeError, ShapeError
from ..function import Function, keep
from ..promotion import promote
from ..tensor import Tensor, array_of, register_methods
from .array_or_tensor import permute as permute_any
from .elementwise import Where
from .reduce import ValuesIndices, normalize_dim
from .shape import ScatterAdd, cat, getitem, permute, reshape, stack
from .shape import scatter_add as added_at

Dims = int | Sequence[int]


def _as_tensor(x: Any) -> Tensor:
    """x itself if it is a tensor, else a constant tensor of it."""
    return x if isinstance(x, Tensor) else Tensor(x)


def _ints(args: tuple[Any, ...]) -> tuple[int, ...]:
    """Accept f(x, 0, 1) and f(x, (0, 1)) (torch's methods take both)."""
    if len(args) == 1 and isinstance(args[0], (tuple, list, Tensor, np.ndarray)):
        if isinstance(args[0], Tensor):
            events.value_read("a tensor of sizes or dims (given as numbers, they are fixed)")
        args = tuple(np.asarray(args[0]._data if isinstance(args[0], Tensor) else args[0])
                     .reshape(-1).tolist())
    return tuple(int(a) for a in args)


def _dims(op: str, dims: Dims, ndim: int) -> tuple[int, ...]:
    """An int or ints as distinct axes in range(ndim)."""
    dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    axes = tuple(normalize_dim(op, d, ndim) for d in dims)
    if len(set(axes)) != len(axes):
        raise ShapeError(f"{op}: dims {dims} name the same dim twice")
    return axes


def _along(axis: int, ndim: int, part: Any) -> tuple[Any, ...]:
    """The index that applies `part` (a slice or an int) to one axis."""
    return (slice(None),) * axis + (part,) + (slice(None),) * (ndim - axis - 1)


def _broadcast(op: str, *shapes: tuple[int, ...]) -> tuple[int, ...]:
    """The shape `shapes` broadcast to, or a ShapeError naming the op."""
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        raise ShapeError(f"{op}: shapes {list(shapes)} do not broadcast together") from None


def _integer_array(op: str, index: Any) -> Any:
    """An index tensor's array (what getitem records, so ad.compile replays it), checked
    to hold integers."""
    array = np.asarray(array_of(index))
    if not np.issubdtype(array.dtype, np.integer):
        raise DtypeError(f"{op}: the index must hold integers, got {array.dtype}; "
                         f"convert it with .long()")
    return array


# ---------------------------------------------------------------- primitives


class IndexRange(Function):
    """y = the integer index x, each value checked to lie in [0, size) as torch checks
    gather's, scatter's and index_add's (numpy would take -1 as the last): an op of its
    own, so that a compiled function checks every call's index. Discrete: no gradient.
    `op` and `where` say, in the error, whose index it is."""

    derivative = ()

    differentiable = False

    @staticmethod
    def forward(ctx, x, size, op, where):
        if x.size and (x.min() < 0 or x.max() >= size):
            raise DimError(f"{op}: index values must lie in [0, {size}) {where}, got "
                           f"{x.min()} to {x.max()}")
        return x.copy()


class Cumsum(Function):
    """yᵢ = Σ_{j≤i} xⱼ along an axis;  dL/dxⱼ = Σ_{i≥j} dL/dyᵢ (a cumulative sum run from
    the end)"""

    derivative = ("dL/dx = dL/dy cumulatively summed from the end of the axis "
                  "(dL/dxⱼ = Σ_{i≥j} dL/dyᵢ)",)

    @staticmethod
    def forward(ctx, x, axis, dtype=None):
        ctx.axis = axis
        return _running_sum(x, axis, dtype)

    @staticmethod
    def backward(ctx, grad):
        backwards = _along(ctx.axis, grad.ndim, slice(None, None, -1))
        if isinstance(grad, Tensor):
            return Cumsum.apply(grad[backwards], axis=ctx.axis)[backwards]
        return _running_sum(grad[backwards], ctx.axis)[backwards]


def _running_sum(x: np.ndarray, axis: int, dtype: Any = None) -> np.ndarray:
    """np.cumsum, with float32 and float16 added up in float64 and rounded once, as
    torch's CPU cumsum does (10⁵ float32 0.1s: 10000.0, not numpy's 9998.56)."""
    out = np.dtype(dtype) if dtype is not None else x.dtype
    if out == np.float32 or out == np.float16:
        return np.cumsum(x, axis=axis, dtype=np.float64).astype(out)
    return np.cumsum(x, axis=axis, dtype=dtype)


class Scatter(Function):
    """y = x with y[index] = src (torch's scatter; index a tuple of index arrays; where
    it names a place twice, the last write wins);
    dL/dx = dL/dy where nothing was written, else 0;  dL/dsrc = dL/dy[index] for the
    elements written last, 0 for those overwritten"""

    derivative = ("dL/dx = dL/dy where nothing was written, else 0",
                  "dL/dsrc = dL/dy[index] for the elements written last, 0 for those overwritten")

    @staticmethod
    def forward(ctx, x, src, index):
        ctx.index = index
        places = np.ravel_multi_index(np.broadcast_arrays(*index), x.shape).reshape(-1)
        _, last_from_end = np.unique(places[::-1], return_index=True)
        ctx.won = np.zeros(places.size, dtype=bool)
        ctx.won[places.size - 1 - last_from_end] = True
        out = x.copy()
        out.reshape(-1)[places[ctx.won]] = src.reshape(-1)[ctx.won]
        ctx.kept = np.ones(x.shape, dtype=bool)
        ctx.kept[index] = False
        ctx.won = ctx.won.reshape(src.shape)
        return out

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.kept, grad[ctx.index] * ctx.won


class Diagonal(Function):
    """y = the diagonal of x in the plane of dims dim1, dim2: yᵢ = x[i, i + offset] (row
    i − offset when offset < 0), those dims removed and the diagonal appended as the last
    dim; a view of x, as torch's. dL/dx = zeros of x's shape with dL/dy on that diagonal"""

    derivative = ("dL/dx = zeros of x's shape with dL/dy written on the diagonal",)

    view = True

    @staticmethod
    def forward(ctx, x, *, offset, dim1, dim2):
        out = np.diagonal(x, offset, dim1, dim2)    # numpy's view is read-only; torch's
        if x.flags.writeable:                       # writes through to x
            out.flags.writeable = True
        others = tuple(k for k in range(x.ndim) if k not in (dim1, dim2))
        ctx.order = others + (dim1, dim2)           # x's dims, the diagonal's plane last
        ctx.moved_shape = tuple(x.shape[k] for k in ctx.order)
        i = np.arange(out.shape[-1])
        ctx.index = (Ellipsis, i - min(offset, 0), i + max(offset, 0))
        return out

    @staticmethod
    def backward(ctx, grad):
        placed = added_at(grad, ctx.moved_shape, ctx.index)       # (..., rows, cols)
        return permute_any(placed, tuple(int(k) for k in np.argsort(ctx.order)))


class UnfoldWindows(Function):
    """y = the windows of `size` elements, `step` apart, along dim of x, as a new last
    dim (dim itself counts the windows): y[..., i, ..., k] = x[..., i·step + k, ...]; a
    view of x, as torch's Tensor.unfold. dL/dx = zeros of x's shape with each window's
    gradient added back where the window came from (overlapping windows add up)"""

    derivative = ("dL/dx = zeros of x's shape with each window's dL/dy added back at "
                  "its place (overlapping windows add up)",)

    view = True

    @staticmethod
    def forward(ctx, x, *, dim, size, step):
        every = np.lib.stride_tricks.sliding_window_view(
            x, size, axis=dim, writeable=x.flags.writeable)   # windows 1 apart, last dim
        ctx.shape, ctx.dim = x.shape, dim
        count = every.shape[dim]
        starts = np.arange(0, count, step)
        ctx.index = (slice(None),) * dim + (starts[:, None] + np.arange(size),)
        return every[_along(dim, every.ndim, slice(None, None, step))]

    @staticmethod
    def backward(ctx, grad):
        axes = list(range(grad.ndim - 1))
        axes.insert(ctx.dim + 1, grad.ndim - 1)                 # (..., count, size, ...)
        return added_at(permute_any(grad, tuple(axes)), ctx.shape, ctx.index)


class Argsort(Function):
    """y = the int64 indices that sort x along an axis (stable: equal elements keep their
    order, also when descending). Integers: no gradient."""

    derivative = ()

    differentiable = False

    @staticmethod
    def forward(ctx, x, axis, descending):
        if not descending:
            return np.argsort(x, axis=axis, kind="stable").astype(np.int64)
        backwards = _along(axis, x.ndim, slice(None, None, -1))
        order = np.argsort(x[backwards], axis=axis, kind="stable")[backwards]
        return (x.shape[axis] - 1 - order).astype(np.int64)


class RunningArgExtreme(Function):
    """y = the int64 place of the running max (or min) along an axis: yᵢ names the best
    of x₀ … xᵢ, the latest one on a tie; a NaN wins and stays (torch's cummax rule).
    Integers: no gradient."""

    derivative = ()

    differentiable = False

    @staticmethod
    def forward(ctx, x, axis, largest):
        data = np.moveaxis(x, axis, 0)
        better = np.greater_equal if largest else np.less_equal
        indices = np.zeros(data.shape, dtype=np.int64)
        best = data[0].copy()
        floats = data.dtype.kind == "f"
        for i in range(1, len(data)):
            takes = better(data[i], best)
            if floats:
                takes = np.isnan(data[i]) | (~np.isnan(best) & takes)
            indices[i] = np.where(takes, i, indices[i - 1])
            best = np.where(takes, data[i], best)
        return np.moveaxis(indices, 0, axis)


class Einsum(Function):
    """y = einsum("s₁,s₂,…->out", x₁, x₂, …);  dL/dxₖ = einsum("out,s₁,…(all but sₖ)->sₖ",
    dL/dy, the other x): the same contraction with dL/dy in xₖ's place. A letter that
    only xₖ has gets a ones vector (the gradient is broadcast along it); a letter repeated
    in sₖ (a diagonal) gets an identity matrix pairing it with a fresh letter.

    An einsum of one operand that only rearranges it ('ij->ji', 'ij->ij', 'ii->i') is
    numpy's view of it, and a view here, as torch's: writes through it reach x₁."""

    derivative = ("dL/dxₖ = einsum of dL/dy with the other inputs, dL/dy in xₖ's place (ones for "
                  "letters only xₖ has, an identity for a repeated letter)",)

    view = True

    @staticmethod
    def forward(ctx, *xs, subscripts, output):
        ctx.subscripts, ctx.output = subscripts, output
        ctx.sizes = {c: n for s, x in zip(subscripts, xs) for c, n in zip(s, x.shape)}
        needed = ctx.needs_input_grad
        ctx.save_for_backward(*(x if any(needed[:k] + needed[k + 1:]) else None
                                for k, x in enumerate(xs)))
        return np.einsum(",".join(subscripts) + "->" + output, *xs, optimize=True)

    @staticmethod
    def backward(ctx, grad):
        xs = ctx.saved_tensors
        return tuple(_einsum_grad(ctx, grad, xs, k) if needed else None
                     for k, needed in enumerate(ctx.needs_input_grad))


def _einsum_grad(ctx: Any, grad: Any, xs: Sequence[Any], k: int) -> Any:
    subscripts, target = ctx.subscripts, ctx.subscripts[k]
    others = [s for j, s in enumerate(subscripts) if j != k]
    known = set(ctx.output).union(*others)
    fresh = iter(c for c in string.ascii_letters if c not in ctx.sizes)
    dtype = grad.dtype
    extra_subscripts, extras, result = [], [], ""
    for c in target:
        if c in result:                 # a diagonal: an identity pairs c with a new letter
            new = next(fresh)
            extra_subscripts.append(c + new)
            extras.append(np.eye(ctx.sizes[c], dtype=dtype))
            result += new
        else:
            if c not in known:          # summed in xₖ alone: broadcast along it
                known.add(c)
                extra_subscripts.append(c)
                extras.append(np.ones(ctx.sizes[c], dtype=dtype))
            result += c
    operands = [grad] + [x for j, x in enumerate(xs) if j != k] + extras
    subs = [ctx.output] + others + extra_subscripts
    if any(isinstance(x, Tensor) for x in operands):
        return Einsum.apply(*operands, subscripts=tuple(subs), output=result)
    return np.einsum(",".join(subs) + "->" + result, *operands, optimize=True)


# ---------------------------------------------------------------- splitting


def split(x: Tensor, split_size_or_sections: int | Sequence[int], dim: int = 0
          ) -> tuple[Tensor, ...]:
    """Pieces along `dim`: of `split_size_or_sections` elements each (an int: a chunk
    size, the last piece smaller), or of the listed sizes (they must add up)."""
    axis = normalize_dim("split", dim, x.ndim)
    n = x.shape[axis]
    if isinstance(split_size_or_sections, (int, np.integer)):
        size = int(split_size_or_sections)
        if size <= 0 and n:
            raise ShapeError(f"split: the split size must be positive, got {size}")
        sizes = [size] * (n // size) + ([n % size] if n % size else []) if n else [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n or any(s < 0 for s in sizes):
            raise ShapeError(f"split: sizes {sizes} must be non-negative and add up to "
                             f"{n}, the size of dim {dim} of shape {x.shape}")
    bounds = np.cumsum([0] + sizes)
    return tuple(getitem(x, _along(axis, x.ndim, slice(int(a), int(b))))
                 for a, b in zip(bounds[:-1], bounds[1:]))


def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """split(x, ⌈n / chunks⌉, dim): at most `chunks` pieces, fewer when that size covers
    the dim sooner (5 rows in 4 chunks are 3 pieces: 2, 2, 1)."""
    if chunks <= 0:
        raise ShapeError(f"chunk: the number of chunks must be positive, got {chunks}")
    n = x.shape[normalize_dim("chunk", dim, x.ndim)]
    if n == 0:
        return split(x, [0] * chunks, dim)
    return split(x, -(-n // chunks), dim)


def tensor_split(x: Tensor, indices_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """An int n: n pieces as equal as can be (the first n mod size one longer); a list of
    indices: the pieces x[:i₀], x[i₀:i₁], …, x[iₖ:] along `dim` (Python's slicing)."""
    axis = normalize_dim("tensor_split", dim, x.ndim)
    if isinstance(indices_or_sections, Tensor):
        events.value_read("tensor_split's sections or indices given as a tensor")
    if isinstance(indices_or_sections, Tensor) and indices_or_sections.ndim == 0:
        indices_or_sections = int(indices_or_sections._data)
    if isinstance(indices_or_sections, (int, np.integer)):
        sections = int(indices_or_sections)
        if sections <= 0:
            raise ShapeError(f"tensor_split: the number of sections must be positive, got "
                             f"{sections}")
        q, r = divmod(x.shape[axis], sections)
        cuts = np.cumsum([q + 1] * r + [q] * (sections - r))[:-1].tolist()
    else:
        cuts = list(_ints((indices_or_sections,)))
    bounds = [None] + cuts + [None]
    return tuple(getitem(x, _along(axis, x.ndim, slice(a, b)))
                 for a, b in zip(bounds[:-1], bounds[1:]))


def unbind(x: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    """The slices x[..., i, ...] along `dim`, that dim removed."""
    axis = normalize_dim("unbind", dim, x.ndim)
    return tuple(getitem(x, _along(axis, x.ndim, i)) for i in range(x.shape[axis]))


# ---------------------------------------------------------------- reordering


def flip(x: Tensor, *dims: Any) -> Tensor:
    """x reversed along each of `dims` (a copy, as torch's)."""
    axes = _dims("flip", _ints(dims), x.ndim) if x.ndim else ()
    index = tuple(slice(None, None, -1) if a in axes else slice(None) for a in range(x.ndim))
    return getitem(x, index).clone()


def roll(x: Tensor, shifts: Dims, dims: Dims | None = None) -> Tensor:
    """yᵢ = x_{i - shift} along each dim, wrapping around; with dims None the flattened x
    is rolled and the shape restored."""
    if dims is None:
        return roll(reshape(x, (-1,)), shifts, 0).reshape(x.shape)
    shifts = (shifts,) if isinstance(shifts, (int, np.integer)) else tuple(shifts)
    dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    if len(shifts) != len(dims):
        raise ShapeError(f"roll: shifts {shifts} and dims {dims} must have the same length")
    for shift, dim in zip(shifts, dims):
        axis = normalize_dim("roll", dim, x.ndim)
        n = x.shape[axis]
        cut = n - int(shift) % n if n else 0
        x = cat([getitem(x, _along(axis, x.ndim, slice(cut, None))),
                 getitem(x, _along(axis, x.ndim, slice(None, cut)))], dim=axis)
    return x


def movedim(x: Tensor, source: Dims, destination: Dims) -> Tensor:
    """x with the dims `source` moved to the positions `destination`, the others kept in
    order."""
    source, destination = _dims("movedim", source, x.ndim), _dims("movedim", destination,
                                                                   x.ndim)
    if len(source) != len(destination):
        raise ShapeError(f"movedim: source {source} and destination {destination} must "
                         f"have the same length")
    order = [a for a in range(x.ndim) if a not in source]
    for dest, src in sorted(zip(destination, source)):
        order.insert(dest, src)
    return permute(x, tuple(order))


def unflatten(x: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
    """x with dim `dim` split into dims of `sizes` (one may be -1)."""
    axis = normalize_dim("unflatten", dim, x.ndim)
    sizes = tuple(int(s) for s in sizes)
    known = int(np.prod([s for s in sizes if s != -1]))
    n = x.shape[axis]
    if sizes.count(-1) > 1 or (known != n if -1 not in sizes else not known or n % known):
        raise ShapeError(f"unflatten: sizes {sizes} do not multiply to {n}, the size of "
                         f"dim {dim} of shape {x.shape}")
    sizes = tuple(n // known if s == -1 else s for s in sizes)
    return reshape(x, x.shape[:axis] + sizes + x.shape[axis + 1:])


def rot90(x: Tensor, k: int = 1, dims: Sequence[int] = (0, 1)) -> Tensor:
    """x rotated by k·90° in the plane of `dims`, from the first dim towards the second."""
    if len(dims) != 2:
        raise ShapeError(f"rot90: dims must name two dims, got {dims}")
    a, b = _dims("rot90", dims, x.ndim)
    k = k % 4
    if k == 1:
        return flip(x, b).transpose(a, b)
    if k == 2:
        return flip(x, a, b)
    if k == 3:
        return flip(x, a).transpose(a, b)
    return x.clone()


# ---------------------------------------------------------------- repeating


def repeat(x: Tensor, *sizes: Any) -> Tensor:
    """x tiled sizes[i] times along dim i (torch's repeat is numpy's tile; extra leading
    sizes add dims). Built as expand + reshape."""
    sizes = _ints(sizes)
    extra = len(sizes) - x.ndim
    if extra < 0:
        raise ShapeError(f"repeat: needs at least {x.ndim} sizes for shape {x.shape}, got "
                         f"{sizes}; use tile to repeat the last dims only")
    shape = (1,) * extra + x.shape
    interleaved = tuple(d for n in shape for d in (1, n))      # a size-1 dim before each
    grown = tuple(d for r, n in zip(sizes, shape) for d in (r, n))
    repeated = reshape(reshape(x, interleaved).expand(*grown),
                       tuple(r * n for r, n in zip(sizes, shape)))
    return _copied(repeated, x)


def _copied(result: Tensor, x: Tensor) -> Tensor:
    """result, or a copy of it where it is still a view of x (repeats of 1 only: the
    reshape of the expand copies otherwise): torch's repeats are always new tensors."""
    return result.clone() if np.may_share_memory(result._data, x._data) else result


def tile(x: Tensor, *dims: Any) -> Tensor:
    """repeat, with missing leading sizes taken as 1 (numpy's tile)."""
    dims = _ints(dims)
    return repeat(x, (1,) * (x.ndim - len(dims)) + dims)


def repeat_interleave(x: Tensor, repeats: Any, dim: int | None = None) -> Tensor:
    """Each element repeated `repeats` times (or repeats[i] times for element i) along
    `dim`, neighbours staying together: [1, 2] -> [1, 1, 2, 2]. dim None flattens first."""
    if dim is None:
        x, dim = reshape(x, (-1,)), 0
    axis = normalize_dim("repeat_interleave", dim, x.ndim)
    if isinstance(repeats, Tensor):         # the result's size depends on the counts
        events.value_read("repeat_interleave's repeats given as a tensor")
    counts = _integer_array("repeat_interleave", repeats)
    if counts.ndim == 0 or counts.size == 1:
        r = int(counts.reshape(()))
        shape = x.shape[:axis + 1] + (1,) + x.shape[axis + 1:]
        grown = x.shape[:axis + 1] + (r,) + x.shape[axis + 1:]
        repeated = reshape(reshape(x, shape).expand(*grown),
                           x.shape[:axis] + (x.shape[axis] * r,) + x.shape[axis + 1:])
        return _copied(repeated, x)
    if counts.shape != (x.shape[axis],) or (counts < 0).any():
        raise ShapeError(f"repeat_interleave: repeats must be one non-negative count per "
                         f"element of dim {dim} ({x.shape[axis]}), got shape {counts.shape}")
    index = np.repeat(np.arange(x.shape[axis]), counts)
    return getitem(x, _along(axis, x.ndim, index))


# ---------------------------------------------------------------- triangles and diagonals


def _triangle(op: str, x: Tensor, keep: np.ndarray) -> Tensor:
    if x.ndim < 2:
        raise ShapeError(f"{op}: needs a matrix or a batch of them, got shape {x.shape}")
    zero = np.zeros((), dtype=x.dtype)
    return Where.apply(keep, x, zero)


def tril(x: Tensor, diagonal: int = 0) -> Tensor:
    """x where column - row <= diagonal, else 0 (the lower triangle)."""
    return _triangle("tril", x, np.tri(*x.shape[-2:], k=diagonal, dtype=bool))


def triu(x: Tensor, diagonal: int = 0) -> Tensor:
    """x where column - row >= diagonal, else 0 (the upper triangle)."""
    return _triangle("triu", x, ~np.tri(*x.shape[-2:], k=diagonal - 1, dtype=bool))


def _diagonal(op: str, x: Tensor, offset: int, dim1: int, dim2: int) -> Tensor:
    if x.ndim < 2:
        raise ShapeError(f"{op}: needs at least 2 dims, got shape {x.shape}")
    a, b = _dims(op, (dim1, dim2), x.ndim)
    return Diagonal.apply(x, offset=int(offset), dim1=a, dim2=b)


def unfold(x: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """Tensor.unfold: the windows of `size` elements, `step` apart, along `dimension`,
    as a new last dim (the dim itself counts the windows). A view of x, as torch's:
    writes through it reach x (`ad.unfold` is F.unfold, the image-patch op).

    >>> import autodiff as ad
    >>> ad.arange(5.0).unfold(0, 2, 2)
    tensor([[0., 1.],
            [2., 3.]])
    """
    if x.ndim == 0:
        x = x.reshape(1)
        if size > 1 or step <= 0:
            raise ShapeError(f"unfold: windows of size {size} and step {step} do not fit "
                             f"a 0-d tensor (size must be <= 1, step > 0)")
        return UnfoldWindows.apply(x, dim=0, size=size, step=step).reshape(size)
    dim = normalize_dim("unfold", dimension, x.ndim)
    length = x.shape[dim]
    if size > length or size < 0 or step <= 0:
        raise ShapeError(f"unfold: windows of size {size} and step {step} do not fit "
                         f"dimension {dimension} of size {length} (size must be <= the "
                         f"dimension, step > 0)")
    return UnfoldWindows.apply(x, dim=dim, size=int(size), step=int(step))


def diagonal(x: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """yᵢ = x[i, i + offset] in the plane of dim1, dim2 (row i - offset when offset < 0);
    those dims removed and the diagonal appended as the last dim. A view of x, as torch's:
    `x.diagonal().add_(1)` changes x."""
    return _diagonal("diagonal", x, offset, dim1, dim2)


def diag(x: Tensor, diagonal: int = 0) -> Tensor:
    """A vector: the square matrix with it on diagonal `diagonal`, zeros elsewhere.
    A matrix: a copy of its diagonal `diagonal`, as a vector (torch's diag copies)."""
    if x.ndim == 2:
        return _diagonal("diag", x, diagonal, 0, 1).clone()
    if x.ndim != 1:
        raise ShapeError(f"diag: needs a vector or a matrix, got shape {x.shape}")
    n = x.shape[0] + abs(diagonal)
    i = np.arange(x.shape[0])
    index = (i - min(diagonal, 0), i + max(diagonal, 0))
    return ScatterAdd.apply(x, shape=(n, n), index=index)


def diag_embed(x: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Each vector along x's last dim set on diagonal `offset` of a square matrix (zeros
    elsewhere), the matrix's two dims placed at dim1 and dim2 of the result."""
    if x.ndim == 0:
        raise ShapeError("diag_embed: needs a tensor of at least one dim, got a 0-d tensor")
    ndim = x.ndim + 1
    first = normalize_dim("diag_embed", dim1, ndim)
    second = normalize_dim("diag_embed", dim2, ndim)
    if first == second:
        raise DimError(f"diag_embed: dim1 and dim2 must differ, got {dim1} and {dim2}")
    n = x.shape[-1] + abs(offset)
    i = np.arange(x.shape[-1])
    index = (Ellipsis, i - min(offset, 0), i + max(offset, 0))
    matrices = ScatterAdd.apply(x, shape=x.shape[:-1] + (n, n), index=index)
    return movedim(matrices, (-2, -1), (first, second))


def trace(x: Tensor) -> Tensor:
    """Σᵢ x[i, i] of a matrix."""
    if x.ndim != 2:
        raise ShapeError(f"trace: needs a matrix, got shape {x.shape}")
    return diagonal(x).sum()


# ---------------------------------------------------------------- selecting by index or mask


def where_tensor(x: Tensor, condition: Any, y: Any) -> Tensor:
    """x.where(condition, y): x where condition, else y (= ad.where(condition, x, y))."""
    return Where.apply(condition, *promote(x, y))


def masked_fill(x: Tensor, mask: Any, value: Any) -> Tensor:
    """A copy of x with `value` where mask (broadcast to x's shape) is True; value is a
    number or a 0-d tensor (which gets the gradient of the filled places)."""
    mask_array = np.asarray(array_of(mask))
    if mask_array.dtype != np.bool_:
        raise DtypeError(f"masked_fill: the mask must be a bool tensor, got "
                         f"{mask_array.dtype}")
    if isinstance(value, Tensor):
        if value.ndim:
            raise ShapeError(f"masked_fill: value must be a number or a 0-d tensor, got "
                             f"shape {value.shape}")
        value = value.to(x.dtype)
    else:
        value = np.asarray(value, dtype=x.dtype)
    if _broadcast("masked_fill", mask_array.shape, x.shape) != x.shape:
        raise ShapeError(f"masked_fill: the mask of shape {mask_array.shape} does not "
                         f"broadcast to the tensor's shape {x.shape}")
    return Where.apply(mask, value, x)


def index_select(x: Tensor, dim: int, index: Any) -> Tensor:
    """The slices x[..., index[k], ...] along `dim` (index: a vector of ints)."""
    axis = normalize_dim("index_select", dim, max(x.ndim, 1))
    index = _as_tensor(index)
    _integer_array("index_select", index)
    if index.ndim > 1:
        raise ShapeError(f"index_select: the index must be a vector, got shape "
                         f"{index.shape}")
    rows = IndexRange.apply(reshape(index, (-1,)), size=x.shape[axis] if x.ndim else 1,
                            op="index_select", where=f"for dim {dim} of shape {x.shape}")
    out = getitem(x, _along(axis, x.ndim, rows))
    keep(out, index, "its index")       # changed before backward: refused, as torch
    return out


def _dim_index(op: str, x: Tensor, dim: int, index: Any, bound: tuple[int, ...]
               ) -> tuple[int, Any, tuple[Any, ...]]:
    """For gather and scatter: the axis, the index array, and the full index
    (aranges on the other dims) that reads out[i][j][k] = x[i][index[i][j][k]][k]."""
    axis = normalize_dim(op, dim, x.ndim)
    array = _integer_array(op, index)
    if array.ndim != x.ndim or any(n > m for a, (n, m) in enumerate(zip(array.shape, bound))
                                   if a != axis):
        raise ShapeError(f"{op}: the index of shape {array.shape} must have the {x.ndim} "
                         f"dims of the tensor of shape {bound}, none longer except dim {dim}")
    array = IndexRange.apply(index if isinstance(index, Tensor) else array,
                             size=x.shape[axis], op=op,
                             where=f"for dim {dim} of shape {x.shape}")._data
    full = tuple(array if a == axis else
                 np.arange(n).reshape([n if b == a else 1 for b in range(array.ndim)])
                 for a, n in enumerate(array.shape))
    return axis, array, full


def gather(x: Tensor, dim: int, index: Any) -> Tensor:
    """out[i][j][k] = x[i][index[i][j][k]][k] (for dim 1): values picked along `dim`."""
    _, _, full = _dim_index("gather", x, dim, index, x.shape)
    out = getitem(x, full)
    keep(out, index, "its index")
    return out


def take_along_dim(x: Tensor, indices: Any, dim: int | None = None) -> Tensor:
    """gather after broadcasting x and indices in every dim but `dim`; dim None picks
    from the flattened x."""
    indices = _as_tensor(indices)
    if dim is None:
        return gather(reshape(x, (-1,)), 0, reshape(indices, (-1,)))
    axis = normalize_dim("take_along_dim", dim, x.ndim)
    if indices.ndim != x.ndim:
        raise ShapeError(f"take_along_dim: indices of shape {indices.shape} must have the "
                         f"{x.ndim} dims of the tensor of shape {x.shape}")
    others = _broadcast("take_along_dim", x.shape[:axis] + x.shape[axis + 1:],
                                 indices.shape[:axis] + indices.shape[axis + 1:])

    def grown(t: Tensor) -> Tensor:
        return t.expand(*others[:axis], t.shape[axis], *others[axis:])
    return gather(grown(x), axis, grown(indices))


def _scatter_parts(op: str, x: Tensor, dim: int, index: Any, src: Any
                   ) -> tuple[Any, tuple[Any, ...]]:
    array = _integer_array(op, index)
    if not isinstance(src, Tensor):
        src = Tensor(np.full(array.shape, src, dtype=x.dtype))
    if src.dtype != x.dtype:
        raise DtypeError(f"{op}: src ({src.dtype}) must have the tensor's dtype {x.dtype}")
    if src.ndim != array.ndim or any(n > m for n, m in zip(array.shape, src.shape)):
        raise ShapeError(f"{op}: src of shape {src.shape} must be at least as large as the "
                         f"index of shape {array.shape} in every dim")
    _, _, full = _dim_index(op, x, dim, index, x.shape)
    return getitem(src, tuple(slice(0, n) for n in array.shape)), full


def scatter(x: Tensor, dim: int, index: Any, src: Any) -> Tensor:
    """A copy of x with out[i][index[i][j][k]][k] = src[i][j][k] (for dim 1); src may be
    a number. Where index repeats a place, the last write wins (torch leaves it open)."""
    part, full = _scatter_parts("scatter", x, dim, index, src)
    out = Scatter.apply(x, part, index=full)
    keep(out, index, "its index")
    return out


def scatter_add(x: Tensor, dim: int, index: Any, src: Any) -> Tensor:
    """A copy of x with src[i][j][k] added to out[i][index[i][j][k]][k] (for dim 1);
    repeated places add up."""
    part, full = _scatter_parts("scatter_add", x, dim, index, src)
    added = ScatterAdd.apply(part, shape=x.shape, index=full)
    keep(added, index, "its index")
    return x + added


REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


def scatter_reduce(x: Tensor, dim: int, index: Any, src: Any, reduce: str, *,
                   include_self: bool = True) -> Tensor:
    """A copy of x where each place that index points at (along `dim`, as scatter) holds
    the reduction ("sum", "prod", "mean", "amax", "amin") of the src values sent there,
    and of x's own value when include_self. Places nothing is sent to keep x.

    Built from a dense table: every place's contributions gathered into one row, padded
    with the reduction's identity (0, 1, -inf, +inf), then reduced along the row with
    sum, prod, amax or amin. The gradient is theirs: prod's is exact at zeros, and amax
    and amin share it among tied values, as torch's."""
    if reduce not in REDUCTIONS:
        raise ValueError(f"scatter_reduce: reduce must be one of {', '.join(REDUCTIONS)}, "
                         f"got {reduce!r}")
    part, full = _scatter_parts("scatter_reduce", x, dim, index, src)
    events.unsupported("calls scatter_reduce, whose table of contributions is built from the "
                   "index's values")
    size = x.numel()
    targets = np.ravel_multi_index(np.broadcast_arrays(*full), x.shape).ravel()
    values = reshape(part, (-1,))
    if include_self:
        targets = np.concatenate([np.arange(size), targets])
        values = cat([reshape(x, (-1,)), values])
    counts = np.bincount(targets, minlength=size)
    order = np.argsort(targets, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.arange(len(order)) - starts[targets[order]]
    table = np.full((size, max(int(counts.max(initial=0)), 1)), len(order))
    table[targets[order], rank] = order                 # row t: the contributions to place t
    identity = {"sum": 0, "mean": 0, "prod": 1,
                "amax": -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min,
                "amin": np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).max}[reduce]
    rows = getitem(cat([values, Tensor(np.full(1, identity, dtype=x.dtype))]), table)
    if reduce in ("sum", "mean"):
        reduced = rows.sum(-1)
    else:
        reduced = getattr(rows, reduce)(-1)
    if reduce == "mean":
        total = np.maximum(counts, 1).astype(x.dtype)
        reduced = reduced // total if x.dtype.kind in "biu" else reduced / total
    return reshape(Where.apply(counts > 0, reduced, reshape(x, (-1,))), x.shape)


def masked_select(x: Tensor, mask: Any) -> Tensor:
    """The elements of x where mask is True (both broadcast), as a vector."""
    mask = _as_tensor(mask)
    if mask.dtype != np.bool_:
        raise DtypeError(f"masked_select: the mask must be a bool tensor, got {mask.dtype}")
    shape = _broadcast("masked_select", x.shape, mask.shape)
    return getitem(x.expand(*shape), mask.expand(*shape))


# ---------------------------------------------------------------- running totals


def cumsum(x: Tensor, dim: int) -> Tensor:
    """yᵢ = Σ_{j≤i} xⱼ along `dim` (integers and bools sum as int64)."""
    if x.ndim == 0:
        return reshape(cumsum(reshape(x, (1,)), 0), ())
    axis = normalize_dim("cumsum", dim, x.ndim)
    dtype = np.int64 if x.dtype.kind in "biu" else None
    return Cumsum.apply(x, axis=axis, dtype=dtype)


def cumprod(x: Tensor, dim: int) -> Tensor:
    """yᵢ = Π_{j≤i} xⱼ along `dim`. Built from prod over a masked n × n copy (x with
    1 above the diagonal), so its gradient is exact where some xⱼ = 0; costs n² per
    row, suiting the short dims it is used on."""
    if x.ndim == 0:
        return reshape(cumprod(reshape(x, (1,)), 0), ())
    axis = normalize_dim("cumprod", dim, x.ndim)
    moved = movedim(x, axis, -1)
    n = moved.shape[-1]
    rows = moved.unsqueeze(-2).expand(*moved.shape[:-1], n, n)       # rows[..., i, j] = xⱼ
    one = np.ones((), dtype=x.dtype)
    products = Where.apply(np.tri(n, dtype=bool), rows, one).prod(dim=-1)
    if x.dtype.kind in "biu":
        products = products.long()
    return movedim(products, -1, axis)


def _running_extreme(op: str, x: Tensor, dim: int, largest: bool) -> ValuesIndices:
    """(values, indices) of the running max or min along `dim`: the places from
    RunningArgExtreme, the values x gathered there, so dL/dx is dL/dvalues sent to
    those places."""
    if x.ndim == 0:
        return ValuesIndices(x.clone(), Tensor(np.zeros((), dtype=np.int64)))
    axis = normalize_dim(op, dim, x.ndim)
    indices = RunningArgExtreme.apply(x, axis=axis, largest=largest)
    return ValuesIndices(gather(x, axis, indices), indices)


def cummax(x: Tensor, dim: int) -> ValuesIndices:
    """(values, indices): yᵢ = max(x₀, …, xᵢ) along `dim` and where it is (the latest
    place on a tie); dL/dx gets dL/dyᵢ at that place."""
    return _running_extreme("cummax", x, dim, largest=True)


def cummin(x: Tensor, dim: int) -> ValuesIndices:
    """(values, indices): yᵢ = min(x₀, …, xᵢ) along `dim` and where it is (the latest
    place on a tie); dL/dx gets dL/dyᵢ at that place."""
    return _running_extreme("cummin", x, dim, largest=False)


def logcumsumexp(x: Tensor, dim: int) -> Tensor:
    """yᵢ = log Σ_{j≤i} exp xⱼ along `dim`, without overflow: logsumexp over each row of
    an n × n copy of x with -inf above the diagonal (n² per row, like cumprod); the
    gradient is its softmax weights, dyᵢ/dxⱼ = exp(xⱼ − yᵢ) for j ≤ i."""
    if x.ndim == 0:
        return x.clone()
    axis = normalize_dim("logcumsumexp", dim, x.ndim)
    moved = movedim(x, axis, -1)
    n = moved.shape[-1]
    rows = moved.unsqueeze(-2).expand(*moved.shape[:-1], n, n)       # rows[..., i, j] = xⱼ
    low = np.array(-np.inf, dtype=x.dtype)
    return movedim(Where.apply(np.tri(n, dtype=bool), rows, low).logsumexp(-1), -1, axis)


# ---------------------------------------------------------------- sorting


def argsort(x: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False
            ) -> Tensor:
    """The int64 indices that sort x along `dim`. Always stable (equal elements keep
    their order), which torch gives with stable=True and allows without."""
    if x.ndim == 0:
        return Tensor(np.zeros((), dtype=np.int64))
    axis = normalize_dim("argsort", dim, x.ndim)
    return Argsort.apply(x, axis=axis, descending=descending)


def sort(x: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False
         ) -> ValuesIndices:
    """(values, indices): x sorted along `dim` and where each value came from;
    dL/dx = dL/dvalues sent back to those places. Always stable, as argsort."""
    if x.ndim == 0:
        return ValuesIndices(x.clone(), argsort(x))
    indices = argsort(x, dim, descending)
    return ValuesIndices(gather(x, dim, indices), indices)


def searchsorted(sorted_sequence: Tensor, input: Any, *, out_int32: bool = False,
                 right: bool = False, side: str | None = None, sorter: Any = None) -> Tensor:
    """For each value of `input`, the index that keeps the sequence sorted if the value is
    inserted there: the first element >= value (> value with right=True or side='right'),
    along the last dim (a batch of sequences is searched row by row, each for its row of
    values). int64 (int32 with out_int32), no gradient."""
    events.unsupported("calls searchsorted, computed from the values outside the graph")
    if side is not None:
        if side not in ("left", "right") or (right and side == "left"):
            raise ValueError(f"searchsorted: side must be 'left' or 'right' and agree with "
                             f"right={right}, got {side!r}")
        right = side == "right"
    sequence, values = array_of(sorted_sequence), np.asarray(array_of(input))
    if sorter is not None:
        sequence = np.take_along_axis(sequence, array_of(sorter), -1)
    where = "right" if right else "left"
    if sequence.ndim <= 1:
        found = np.searchsorted(sequence, values, side=where)
    elif sequence.shape[:-1] != values.shape[:-1]:
        raise ShapeError(f"searchsorted: a batch of sequences of shape {sequence.shape} "
                         f"needs values with the same leading dims, got {values.shape}")
    else:
        rows = zip(sequence.reshape(-1, sequence.shape[-1]),
                   values.reshape(-1, values.shape[-1]))
        found = np.stack([np.searchsorted(row, row_values, side=where)
                          for row, row_values in rows]).reshape(values.shape)
    return Tensor._make(np.asarray(found, np.int32 if out_int32 else np.int64))


def topk(x: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True
         ) -> ValuesIndices:
    """(values, indices) of the k largest (smallest when largest=False) along `dim`,
    always in sorted order (which sorted=False allows too)."""
    axis = normalize_dim("topk", dim, max(x.ndim, 1))
    n = x.shape[axis] if x.ndim else 1
    if not 0 <= k <= n:
        raise DimError(f"topk: k={k} is out of range for dim {dim} of size {n}")
    values, indices = sort(x, dim, descending=largest)
    if x.ndim == 0:
        return ValuesIndices(values, indices)
    first = _along(axis, x.ndim, slice(0, k))
    return ValuesIndices(getitem(values, first), getitem(indices, first))


def kthvalue(x: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> ValuesIndices:
    """(values, indices) of the k-th smallest element along `dim` (k counts from 1); on
    ties which of the equal places is named is left open, as in torch. dL/dx gets
    dL/dvalues at that place."""
    axis = normalize_dim("kthvalue", dim, max(x.ndim, 1))
    n = x.shape[axis] if x.ndim else 1
    if not 1 <= k <= n:
        raise DimError(f"kthvalue: k={k} is out of range for dim {dim} of size {n}; k "
                       f"counts from 1 to the dim's size")
    values, indices = sort(x, dim)
    if x.ndim == 0:
        return ValuesIndices(values, indices)
    pick = _along(axis, x.ndim, slice(k - 1, k) if keepdim else k - 1)
    return ValuesIndices(getitem(values, pick), getitem(indices, pick))


def median(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:
    """The lower median, as torch: the ⌈n/2⌉-th smallest of the n elements (of all of x
    when dim is None: a tensor; along `dim`: (values, indices)); NaN where the elements
    hold a NaN (named by its index). dL/dx gets dL/dvalues at the place named."""
    if dim is None:
        flat = reshape(x, (-1,))
        if flat.shape[0] == 0:
            raise ShapeError("median: the tensor is empty; it has no median")
        return median(flat, 0).values
    axis = normalize_dim("median", dim, max(x.ndim, 1))
    n = x.shape[axis] if x.ndim else 1
    if n == 0:
        raise ShapeError(f"median: dim {dim} of the tensor of shape {x.shape} is empty")
    values, indices = sort(x, dim)
    if x.ndim == 0:
        return ValuesIndices(values, indices)
    if x.dtype.kind == "f":                 # where a NaN is, decided in Python
        events.unsupported("takes a median of floats, which picks NaNs by their values")
    nan = np.isnan(values._data).any(axis=axis, keepdims=True) if x.dtype.kind == "f" \
        else np.zeros((1,) * x.ndim, bool)
    place = Tensor(np.where(nan, n - 1, (n - 1) // 2).astype(np.int64))  # NaNs sort last
    picked = ValuesIndices(gather(values, axis, place), gather(indices, axis, place))
    if keepdim:
        return picked
    return ValuesIndices(reshape(picked.values, picked.values.shape[:axis]
                                 + picked.values.shape[axis + 1:]),
                         reshape(picked.indices, picked.indices.shape[:axis]
                                 + picked.indices.shape[axis + 1:]))


INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def quantile(x: Tensor, q: Any, dim: int | None = None, keepdim: bool = False, *,
             interpolation: str = "linear") -> Tensor:
    """The q-th quantiles (q in [0, 1], a number or a 1-D tensor of them, whose dim then
    comes first) of all of x or along `dim`: in x sorted, position p = q·(n − 1) falls
    between elements lo = ⌊p⌋ and hi = ⌈p⌉, and the quantile is lo + (hi − lo)(p − ⌊p⌋)
    ('linear'), lo, hi, their mean ('midpoint') or the nearer ('nearest', ties to the
    even position), as torch; NaN where the elements hold a NaN. dL/dx reaches lo and hi."""
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"quantile: interpolation must be one of {INTERPOLATIONS}, got "
                         f"{interpolation!r}")
    if x.dtype.kind != "f":
        raise DtypeError(f"quantile: needs a float tensor, got {x.dtype}; convert it with "
                         f".float() first")
    # the levels (a tensor's values) and where a NaN is are decided in Python
    events.unsupported("takes a quantile, which reads q and the NaNs by their values")
    levels = np.asarray(array_of(q), dtype=np.float64)
    if levels.ndim > 1 or not np.all((levels >= 0) & (levels <= 1)):
        raise ValueError(f"quantile: q must be a number or a 1-D tensor of numbers in [0, 1], "
                         f"got {levels}")
    source = reshape(x, (-1,)) if dim is None else x
    axis = normalize_dim("quantile", 0 if dim is None else dim, max(source.ndim, 1))
    source = reshape(source, (1,)) if source.ndim == 0 else source
    n = source.shape[axis]
    if n == 0:
        raise ShapeError(f"quantile: the tensor of shape {x.shape} has no elements along the "
                         f"reduced dim")
    ordered = sort(source, axis).values
    last = getitem(ordered, _along(axis, ordered.ndim, slice(n - 1, n)))
    picked = [_interpolate(ordered, axis, level * (n - 1), interpolation)
              for level in levels.reshape(-1)]
    picked = [Where.apply(np.isnan(last._data), last, value) for value in picked]  # NaN wins
    if keepdim:
        shape = (1,) * x.ndim if dim is None else ordered.shape[:axis] + (1,) + \
            ordered.shape[axis + 1:]
    else:
        shape = () if dim is None else ordered.shape[:axis] + ordered.shape[axis + 1:]
    picked = [reshape(value, shape) for value in picked]
    return stack(picked) if levels.ndim else picked[0]


def _interpolate(ordered: Tensor, axis: int, position: float, how: str) -> Tensor:
    """The value at `position` (a float index along `axis`) of sorted values."""
    low, high = int(np.floor(position)), int(np.ceil(position))
    if how == "nearest":
        low = high = int(np.round(position))            # half to even, as torch
    below = getitem(ordered, _along(axis, ordered.ndim, slice(low, low + 1)))
    if how == "lower" or low == high:
        return below
    above = getitem(ordered, _along(axis, ordered.ndim, slice(high, high + 1)))
    if how == "higher":
        return above
    if how == "midpoint":
        return (below + above) * 0.5
    return below + (above - below) * (position - low)


# ---------------------------------------------------------------- combining tensors


def meshgrid(*tensors: Any, indexing: str = "ij") -> tuple[Tensor, ...]:
    """Grids from vectors: output k holds tensors[k] along dim k, repeated along the
    others ('xy' swaps the first two dims, as numpy's default)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    tensors = [_as_tensor(t) for t in tensors]
    for t in tensors:
        if t.ndim > 1:
            raise ShapeError(f"meshgrid: needs vectors (or 0-d tensors), got shape {t.shape}")
    vectors = [reshape(t, (-1,)) for t in tensors]
    dims = list(range(len(vectors)))
    if indexing == "xy" and len(vectors) >= 2:
        dims[0], dims[1] = 1, 0
    shape = [0] * len(vectors)
    for d, v in zip(dims, vectors):
        shape[d] = v.shape[0]
    return tuple(reshape(v, tuple(-1 if a == d else 1 for a in range(len(shape))))
                 .expand(*shape) for d, v in zip(dims, vectors))


def outer(x: Tensor, vec2: Any) -> Tensor:
    """yᵢⱼ = xᵢ · vec2ⱼ of two vectors."""
    vec2 = _as_tensor(vec2)
    if x.ndim != 1 or vec2.ndim != 1:
        raise ShapeError(f"outer: needs two vectors, got shapes {x.shape} and {vec2.shape}")
    return reshape(x, (-1, 1)) * reshape(vec2, (1, -1))


def cross(x: Tensor, other: Any, dim: int | None = None) -> Tensor:
    """The cross product x × other along `dim` (size 3; dim None: the first dim of size 3),
    both broadcast: y = (x₁o₂ - x₂o₁, x₂o₀ - x₀o₂, x₀o₁ - x₁o₀)."""
    x, other = promote(x, _as_tensor(other))
    shape = _broadcast("cross", x.shape, other.shape)
    if dim is None:
        dim = next((a for a, n in enumerate(shape) if n == 3), None)
        if dim is None:
            raise ShapeError(f"cross: no dim of size 3 in shape {shape}; pass dim")
    axis = normalize_dim("cross", dim, len(shape))
    if shape[axis] != 3:
        raise ShapeError(f"cross: dim {dim} of shape {shape} has size {shape[axis]}, not 3")
    a = unbind(x.expand(*shape), axis)
    b = unbind(other.expand(*shape), axis)
    return stack([a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2],
                  a[0] * b[1] - a[1] * b[0]], dim=axis)


def einsum(equation: str, *operands: Any) -> Tensor:
    """Einstein summation: "ij,jk->ik" multiplies matrices; letters missing from the
    output are summed; "..." stands for the same broadcast dims in each operand; without
    "->" the output is the letters used once, in alphabetical order."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    tensors = [_as_tensor(t) for t in operands]
    equation = equation.replace(" ", "")
    inputs, arrow, output = equation.partition("->")
    subscripts = inputs.split(",")
    if len(subscripts) != len(tensors):
        raise ShapeError(f"einsum: the equation {equation!r} has {len(subscripts)} operands, "
                         f"given {len(tensors)}")
    if any(t.dtype != tensors[0].dtype for t in tensors):
        raise DtypeError(f"einsum: operands must share a dtype, got "
                         f"{[str(t.dtype) for t in tensors]}")
    spare = [c for c in string.ascii_letters if c not in equation]
    spans = [t.ndim - len(s.replace("...", "")) for s, t in zip(subscripts, tensors)]
    for s, t, span in zip(subscripts, tensors, spans):
        if span < 0 or ("..." not in s and span):
            raise ShapeError(f"einsum: subscripts {s!r} do not fit an operand of shape "
                             f"{t.shape}")
    width = max([span for s, span in zip(subscripts, spans) if "..." in s], default=0)
    ellipsis = "".join(spare[:width])
    if width:
        broadcast = _broadcast("einsum", *(t.shape[s.index("..."):s.index("...") + span]
                                          for s, t, span in zip(subscripts, tensors, spans)
                                          if "..." in s))
        for k, (s, t, span) in enumerate(zip(subscripts, tensors, spans)):
            if "..." in s:
                start = s.index("...")
                shape = (*t.shape[:start], *broadcast[width - span:], *t.shape[start + span:])
                if shape != t.shape:
                    tensors[k] = t.expand(*shape)
                subscripts[k] = s.replace("...", ellipsis[width - span:])
    else:                                       # "..." standing for no dims at all
        subscripts = [s.replace("...", "") for s in subscripts]
    if arrow:
        output = output.replace("...", ellipsis)
    else:
        letters = "".join(subscripts)
        output = ellipsis + "".join(sorted(c for c in set(letters) - set(ellipsis)
                                           if letters.count(c) == 1))
    return Einsum.apply(*tensors, subscripts=tuple(subscripts), output=output)


def tensordot(a: Tensor, b: Any, dims: Any = 2) -> Tensor:
    """Σ over paired dims of a and b: dims=n pairs a's last n with b's first n; dims=
    ([a's dims], [b's dims]) names them. The result has a's free dims, then b's."""
    b = _as_tensor(b)
    if isinstance(dims, (int, np.integer)):
        if dims < 0 or dims > min(a.ndim, b.ndim):
            raise DimError(f"tensordot: dims={dims} is out of range for shapes {a.shape} "
                           f"and {b.shape}")
        pairs = (tuple(range(a.ndim - dims, a.ndim)), tuple(range(dims)))
    else:
        pairs = (_dims("tensordot", dims[0], a.ndim), _dims("tensordot", dims[1], b.ndim))
    if len(pairs[0]) != len(pairs[1]):
        raise ShapeError(f"tensordot: dims {dims} must pair as many dims of a as of b")
    letters = iter(string.ascii_letters)
    left = [next(letters) for _ in range(a.ndim)]
    right = [next(letters) for _ in range(b.ndim)]
    for i, j in zip(*pairs):
        right[j] = left[i]
    output = [c for i, c in enumerate(left) if i not in pairs[0]] + \
             [c for j, c in enumerate(right) if j not in pairs[1]]
    return einsum("".join(left) + "," + "".join(right) + "->" + "".join(output), a, b)


__all__ = ["argsort", "chunk", "cross", "cumprod", "cumsum", "diag", "diag_embed", "diagonal",
           "einsum", "flip", "gather", "index_select", "masked_fill", "masked_select", "median",
           "meshgrid", "movedim", "outer", "quantile", "repeat", "repeat_interleave", "roll",
           "rot90", "scatter", "scatter_add", "searchsorted", "sort", "split", "take_along_dim",
           "tensor_split", "tensordot", "tile", "topk", "trace", "tril", "triu", "unbind",
           "unflatten"]


# ---------------------------------------------------------------- the Tensor methods
# Each method is the function above with the tensor as its first argument: x.flip(0) is
# flip(x, 0). `where` is the method spelling of ad.where(condition, x, y). meshgrid,
# einsum and tensordot are functions only, as in torch.

register_methods({
    "split": split, "chunk": chunk, "tensor_split": tensor_split, "unbind": unbind,
    "flip": flip, "roll": roll, "movedim": movedim, "unflatten": unflatten, "rot90": rot90,
    "repeat": repeat, "tile": tile, "repeat_interleave": repeat_interleave,
    "tril": tril, "triu": triu, "diagonal": diagonal, "diag": diag, "trace": trace,
    "diag_embed": diag_embed, "unfold": unfold,
    "where": where_tensor, "masked_fill": masked_fill, "masked_select": masked_select,
    "index_select": index_select, "gather": gather, "take_along_dim": take_along_dim,
    "scatter": scatter, "scatter_add": scatter_add, "scatter_reduce": scatter_reduce,
    "cumsum": cumsum, "cumprod": cumprod, "cummax": cummax, "cummin": cummin,
    "logcumsumexp": logcumsumexp, "sort": sort, "argsort": argsort, "topk": topk,
    "kthvalue": kthvalue, "median": median, "quantile": quantile, "outer": outer,
    "cross": cross,
})
