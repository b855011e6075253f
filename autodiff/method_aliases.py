"""The other names torch gives the operators and a few methods (`x.add(y, alpha=2)`,
`x.mm(y)`, `x.t()`, `x.view_as(y)`, `x.ge(y)`, `x.bitwise_and(y)`, `x.narrow(0, 1, 2)`,
`x.index_add(0, index, source)`),
the logical functions (`logical_and`: nonzero is true), comparisons of whole tensors
(`equal`, `allclose`, `isclose`) and the logical reductions `all`/`any`: each a line over
existing ops, attached to Tensor (and exported as `ad.` functions) in the block at the
bottom."""
from __future__ import annotations

from typing import Any

import numpy as np

from . import creation, events
from .errors import DtypeError, ShapeError
from .function import keep
from .functional import clip, ge, gt, le, lt, ne
from .ops import discrete, elementwise, math_functions, rearrange, reduce, shape
from .tensor import Axis, Tensor, array_of, register_methods


def add(self: Tensor, other: Any, *, alpha: float = 1) -> Tensor:
    """self + alpha · other"""
    return self + (other if alpha == 1 else other * alpha)


def sub(self: Tensor, other: Any, *, alpha: float = 1) -> Tensor:
    """self − alpha · other"""
    return self - (other if alpha == 1 else other * alpha)


def mul(self: Tensor, other: Any) -> Tensor:
    return self * other


def div(self: Tensor, other: Any, *, rounding_mode: str | None = None) -> Tensor:
    """self / other; rounding_mode 'trunc' rounds the quotient toward zero, 'floor' down
    (those results have no gradient, as torch's)."""
    if rounding_mode is None:
        return self / other
    if rounding_mode not in ("trunc", "floor"):
        raise ValueError(f"div: rounding_mode must be None, 'trunc' or 'floor', got "
                         f"{rounding_mode!r}")
    integers = self.dtype.kind in "iu" and (not isinstance(other, Tensor)
                                            or other.dtype.kind in "iu") \
        and not isinstance(other, float)
    if integers:        # exact, and a zero divisor refused (on every call: by the op)
        floored = math_functions.floor_divide(self, other)     # (torch's promoted dtype)
        if rounding_mode == "floor":
            return floored
        # toward zero: one more where the quotient is inexact and the signs differ
        inexact = ne(self - floored * other, 0)
        return floored + (inexact & ne(lt(self, 0), lt(other, 0))).to(floored.dtype)
    quotient = self / other
    rounded = discrete.Unary.apply(quotient, ufunc=np.trunc if rounding_mode == "trunc"
                                   else np.floor)
    if quotient.requires_grad:       # in the graph, with a zero gradient, as torch's
        return elementwise.Where.apply(np.ones(quotient.shape, bool), rounded, quotient)
    return rounded


def pow(self: Tensor, exponent: Any) -> Tensor:
    return self ** exponent


def neg(self: Tensor) -> Tensor:
    return -self


def matmul(self: Tensor, other: Any) -> Tensor:
    return self @ other


def _truth(x: Any) -> Tensor:
    """x != 0 as a bool tensor: the truth value torch's logical functions give a number."""
    return (x if isinstance(x, Tensor) else Tensor(x)) != 0


def logical_not(self: Tensor) -> Tensor:
    """not self, elementwise (nonzero is true), as a bool tensor"""
    return ~_truth(self)


def logical_and(self: Tensor, other: Any) -> Tensor:
    """self and other, elementwise (nonzero is true), as a bool tensor"""
    return _truth(self) & _truth(other)


def logical_or(self: Tensor, other: Any) -> Tensor:
    """self or other, elementwise (nonzero is true), as a bool tensor"""
    return _truth(self) | _truth(other)


def logical_xor(self: Tensor, other: Any) -> Tensor:
    """self xor other, elementwise (nonzero is true), as a bool tensor"""
    return _truth(self) ^ _truth(other)


def bitwise_and(self: Tensor, other: Any) -> Tensor:
    """self & other: bitwise on integers, logical on bools"""
    return self & other


def bitwise_or(self: Tensor, other: Any) -> Tensor:
    """self | other: bitwise on integers, logical on bools"""
    return self | other


def bitwise_xor(self: Tensor, other: Any) -> Tensor:
    """self ^ other: bitwise on integers, logical on bools"""
    return self ^ other


def bitwise_not(self: Tensor) -> Tensor:
    """~self: bitwise on integers, logical on bools"""
    return ~self


def narrow(self: Tensor, dim: int, start: int, length: int) -> Tensor:
    """The `length` elements from `start` along `dim` (start may count from the end), as
    a view: self[..., start:start + length, ...]."""
    dim = reduce.normalize_dim("narrow", dim, self.ndim)
    size = self.shape[dim]
    first = start + size if -size <= start < 0 else start
    if not 0 <= first <= size or length < 0 or first + length > size:
        raise ShapeError(f"narrow: start {start} and length {length} do not fit dimension "
                         f"{dim} of size {size} (need -{size} <= start <= {size} and "
                         f"start + length <= {size})")
    return self[(slice(None),) * dim + (slice(first, first + length),)]


def select(self: Tensor, dim: int, index: int) -> Tensor:
    """The slice at `index` along `dim`, that dim removed, as a view: self[..., index, ...]
    (index may count from the end)."""
    dim = reduce.normalize_dim("select", dim, self.ndim)
    size = self.shape[dim]
    if not -size <= index < size:
        raise IndexError(f"select: index {index} is out of range for dimension {dim} of "
                         f"size {size} (need -{size} <= index < {size})")
    return self[(slice(None),) * dim + (index,)]


def index_add(self: Tensor, dim: int, index: Any, source: Any, *, alpha: float = 1
              ) -> Tensor:
    """A copy of self with alpha · source[..., k, ...] added to self[..., index[k], ...]
    along `dim`, for each k (repeated indices add up):
    out = self + Σₖ alpha · source[k] at index[k];  dL/dself = dL/dout,
    dL/dsource[..., k, ...] = alpha · dL/dout[..., index[k], ...].
    index: a vector (or one number) of ints in [0, self.shape[dim]); source: self's shape
    with len(index) along `dim`, and self's dtype.

    >>> import autodiff as ad
    >>> ad.zeros(3).index_add(0, ad.tensor([0, 2, 0]), ad.tensor([1.0, 2.0, 3.0]))
    tensor([4., 0., 2.])
    """
    ndim = max(self.ndim, 1)                    # a 0-d tensor has one element along dim 0
    axis = reduce.normalize_dim("index_add", dim, ndim)
    index = index if isinstance(index, Tensor) else Tensor(np.asarray(index))
    source = source if isinstance(source, Tensor) else Tensor(np.asarray(source, self.dtype))
    if index.dtype.kind not in "iu":
        raise DtypeError(f"index_add: the index must hold integers, got {index.dtype}; "
                         f"convert it with .long()")
    if index.ndim > 1:
        raise ShapeError(f"index_add: the index must be a vector (or one number), got shape "
                         f"{index.shape}; flatten it with .reshape(-1)")
    rows = index.reshape(-1)._data
    if source.dtype != self.dtype:
        raise DtypeError(f"index_add: source ({source.dtype}) must have the dtype of the "
                         f"tensor added into ({self.dtype}); convert it with "
                         f".to({self.dtype})")
    size = self.shape or (1,)
    slices = size[:axis] + (len(rows),) + size[axis + 1:]      # what source must hold
    needed = slices if self.ndim else ()
    if source.shape != needed or (self.ndim == 0 and len(rows) != 1):
        raise ShapeError(f"index_add: source of shape {source.shape} does not fit: adding "
                         f"{len(rows)} indexed slices along dim {dim} of a tensor of shape "
                         f"{self.shape} needs source of shape {needed}"
                         + ("" if self.ndim else " and one index"))
    # the index tensor's own numbers (replayable), checked on every call
    rows = rearrange.IndexRange.apply(index.reshape(-1), size=size[axis], op="index_add",
                                      where=f"for dim {dim} of shape {self.shape}")._data
    if alpha != 1 and self.dtype.kind in "iub" and not float(alpha).is_integer():
        raise DtypeError(f"index_add: alpha {alpha} is not a whole number, but the tensor "
                         f"is {self.dtype}; convert the tensor to a float dtype first")
    scaled = source if alpha == 1 else source * (alpha if self.dtype.kind == "f"
                                                 else int(alpha))
    added = shape.ScatterAdd.apply(scaled.reshape(slices), shape=size,
                                   index=(slice(None),) * axis + (rows,))
    keep(added, index, "its index")             # changed before backward: refused, as torch
    return self + added.reshape(self.shape)


def mm(self: Tensor, other: Tensor) -> Tensor:
    """The product of two matrices (2-D only, as torch's mm)."""
    if self.ndim != 2 or np.ndim(array_of(other)) != 2:
        raise ShapeError(f"mm: needs two matrices, got shapes {self.shape} and "
                         f"{getattr(other, 'shape', np.shape(other))}; use matmul (@) for "
                         f"batches or vectors")
    return self @ other


def bmm(self: Tensor, other: Tensor) -> Tensor:
    """Batched matrix product of (b, n, m) and (b, m, p) tensors."""
    if self.ndim != 3 or other.ndim != 3 or self.shape[0] != other.shape[0]:
        raise ShapeError(f"bmm: needs two 3-D tensors with the same batch size, got shapes "
                         f"{self.shape} and {other.shape}")
    return self @ other


def mv(self: Tensor, vec: Tensor) -> Tensor:
    """The product of a matrix (n, m) and a vector (m,): a vector (n,)."""
    if self.ndim != 2 or np.ndim(array_of(vec)) != 1 or self.shape[1] != vec.shape[0]:
        raise ShapeError(f"mv: needs a matrix (n, m) and a vector (m,), got shapes "
                         f"{self.shape} and {getattr(vec, 'shape', np.shape(vec))}")
    return self @ vec


def addmm(self: Tensor, mat1: Tensor, mat2: Tensor, *, beta: float = 1, alpha: float = 1
          ) -> Tensor:
    """beta · self + alpha · (mat1 @ mat2), mat1 and mat2 matrices (self broadcasts to
    their product); beta = 0 ignores self (NaN in it too), as torch."""
    product = mm(mat1, mat2)
    return _scaled_sum(self, product, beta, alpha)


def baddbmm(self: Tensor, batch1: Tensor, batch2: Tensor, *, beta: float = 1,
            alpha: float = 1) -> Tensor:
    """beta · self + alpha · (batch1 @ batch2), batch-wise over (b, n, m) @ (b, m, p)."""
    return _scaled_sum(self, bmm(batch1, batch2), beta, alpha)


def _scaled_sum(self: Tensor, product: Tensor, beta: float, alpha: float) -> Tensor:
    """beta · self + alpha · product. With beta = 0 self's values are not read (a NaN in
    it stays out) and its gradient is 0, as torch's."""
    product = product if alpha == 1 else product * alpha
    if beta == 0:
        return elementwise.Where.apply(np.ones(product.shape, bool), product, self)
    return product + (self if beta == 1 else self * beta)


def kron(self: Tensor, other: Tensor) -> Tensor:
    """The Kronecker product: block (i, j, ...) is self[i, j, ...] · other, so the shape
    is the product of the two shapes, dim by dim (the shorter padded with 1s in front)."""
    a, b = self, other if isinstance(other, Tensor) else Tensor(other)
    ndim = max(a.ndim, b.ndim)
    a = a.reshape((1,) * (ndim - a.ndim) + a.shape)
    b = b.reshape((1,) * (ndim - b.ndim) + b.shape)
    spread_a = a.reshape(tuple(n for size in a.shape for n in (size, 1)))
    spread_b = b.reshape(tuple(n for size in b.shape for n in (1, size)))
    return (spread_a * spread_b).reshape(tuple(m * n for m, n in zip(a.shape, b.shape)))


def dot(self: Tensor, other: Tensor) -> Tensor:
    """Σ self·other of two 1-D tensors of one length."""
    if self.ndim != 1 or other.ndim != 1 or self.shape != other.shape:
        raise ShapeError(f"dot: needs two 1-D tensors of one length, got shapes "
                         f"{self.shape} and {other.shape}")
    return (self * other).sum()


def t(self: Tensor) -> Tensor:
    """A matrix transposed (a 0-D or 1-D tensor as it is), as torch's t()."""
    if self.ndim > 2:
        raise ShapeError(f"t: expects a tensor with at most 2 dimensions, got shape "
                         f"{self.shape}; use transpose(dim0, dim1) or mT")
    return self if self.ndim < 2 else self.transpose(0, 1)


def view_as(self: Tensor, other: Tensor) -> Tensor:
    return self.view(other.shape)


def reshape_as(self: Tensor, other: Tensor) -> Tensor:
    return self.reshape(other.shape)


def expand_as(self: Tensor, other: Tensor) -> Tensor:
    return self.expand(*other.shape)


def all(self: Tensor, dim: Axis = None, keepdim: bool = False) -> Tensor:
    """True where every element (along `dim`) is nonzero: a bool tensor."""
    return discrete.Reduction.apply(self, reduction=np.all,
                                    axis=reduce.normalize_axes("all", dim, self.ndim),
                                    keepdims=keepdim)


def any(self: Tensor, dim: Axis = None, keepdim: bool = False) -> Tensor:
    """True where some element (along `dim`) is nonzero: a bool tensor."""
    return discrete.Reduction.apply(self, reduction=np.any,
                                    axis=reduce.normalize_axes("any", dim, self.ndim),
                                    keepdims=keepdim)


def count_nonzero(self: Tensor, dim: Axis = None) -> Tensor:
    """How many elements (along `dim`) are not zero: int64."""
    return (self != 0).sum(dim)


def var_mean(self: Tensor, dim: Axis = None, unbiased: bool | None = None,
             keepdim: bool = False, *, correction: int | None = None
             ) -> tuple[Tensor, Tensor]:
    """(var, mean) along `dim`, as torch.var_mean (var divides by N − correction)."""
    return (self.var(dim, unbiased, keepdim, correction=correction),
            self.mean(dim, keepdim=keepdim))


def std_mean(self: Tensor, dim: Axis = None, unbiased: bool | None = None,
             keepdim: bool = False, *, correction: int | None = None
             ) -> tuple[Tensor, Tensor]:
    """(std, mean) along `dim`, as torch.std_mean (std divides by N − correction)."""
    return (self.std(dim, unbiased, keepdim, correction=correction),
            self.mean(dim, keepdim=keepdim))


def nonzero(self: Tensor, *, as_tuple: bool = False) -> Any:
    """The indices of the nonzero elements, in row-major order: an int64 tensor (n, ndim),
    or with as_tuple one int64 tensor of n per dim (no gradient)."""
    events.unsupported("calls nonzero, whose result's size depends on the values")
    if as_tuple:                    # a 0-d tensor counts as one element of a vector here
        indices = np.nonzero(np.atleast_1d(self._data))
        return tuple(Tensor._make(i.astype(np.int64)) for i in indices)
    if self.ndim == 0:
        return Tensor._make(np.zeros((int(self._data != 0), 0), np.int64))
    return Tensor._make(np.argwhere(self._data).astype(np.int64))


def isclose(self: Tensor, other: Any, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:
    """|self − other| <= atol + rtol·|other|, elementwise (torch's defaults)."""
    events.unsupported("calls isclose, which is computed outside the recorded ops")
    b = array_of(other)
    return Tensor._make(np.isclose(self._data, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(self: Tensor, other: Any, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    """True when isclose holds everywhere."""
    events.unsupported("calls allclose, a Python bool from the values")
    return bool(isclose(self, other, rtol, atol, equal_nan)._data.all())


def unique(self: Tensor, sorted: bool = True, return_inverse: bool = False,
           return_counts: bool = False, dim: int | None = None) -> Any:
    """The distinct elements (of the flattened tensor, or the distinct slices along
    `dim`), sorted; optionally with each element's index into them and their counts, as
    torch.unique (no gradient)."""
    events.unsupported("calls unique, whose result's size depends on the values")
    values, inverse, counts = np.unique(self._data, return_inverse=True, return_counts=True,
                                        axis=dim)
    out = [Tensor._make(values)]
    if return_inverse:
        out.append(Tensor._make(inverse.reshape(self.shape if dim is None else -1)
                                .astype(np.int64)))
    if return_counts:
        out.append(Tensor._make(counts.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def equal(self: Tensor, other: Tensor) -> bool:
    """True when both have the same shape and the same elements."""
    events.unsupported("calls equal, a Python bool from the values")
    return self.shape == other.shape and bool(np.array_equal(self._data, other._data))


# ---------------------------------------------------------------- attached to Tensor
register_methods({
    "add": add, "sub": sub, "subtract": sub, "mul": mul, "multiply": mul, "div": div,
    "divide": div, "true_divide": div, "pow": pow, "neg": neg, "negative": neg,
    "matmul": matmul, "mm": mm, "bmm": bmm, "dot": dot, "t": t, "view_as": view_as,
    "mv": mv, "addmm": addmm, "baddbmm": baddbmm, "kron": kron,
    "count_nonzero": count_nonzero, "nonzero": nonzero,
    "gt": gt, "greater": gt, "ge": ge, "greater_equal": ge, "lt": lt, "less": lt, "le": le,
    "less_equal": le, "ne": ne, "not_equal": ne,
    "logical_not": logical_not,
    "logical_and": logical_and, "logical_or": logical_or, "logical_xor": logical_xor,
    "bitwise_and": bitwise_and, "bitwise_or": bitwise_or, "bitwise_xor": bitwise_xor,
    "bitwise_not": bitwise_not, "narrow": narrow, "select": select,
    "reshape_as": reshape_as, "expand_as": expand_as, "all": all, "any": any,
    "isclose": isclose, "allclose": allclose, "equal": equal,
    "nelement": Tensor.numel, "unique": unique,
    "multinomial": creation.multinomial, "index_add": index_add, "clip": clip, "clamp": clip,
})
Tensor.mH = Tensor.mT         # the conjugate transpose of real matrices
