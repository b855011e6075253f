# Tensor as editors see it: every method, including those registered by the op modules.
# Written by `python -m autodiff.tensor_stub` from the imported class; do not edit.
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

Axis = int | Sequence[int] | None

def as_array(data: Any, dtype: Any = ...) -> np.ndarray: ...

def check_can_require_grad(dtype: np.dtype, op: str) -> None: ...

def array_of(x: Any) -> Any: ...

def register_methods(methods: dict[str, Callable[..., Any]], properties: dict[str, Callable[[Tensor], Any]] | None = ...) -> None: ...


class Tensor:
    """An n-dimensional array that can record the operations applied to it."""

    _data: np.ndarray
    _grad: Tensor | None
    _requires_grad: bool
    grad_fn: Any
    _retains_grad: Any
    _hooks: Any
    name: str | None
    _version_counter: Any
    _view: Any

    # ---- the core
    def __array__(self, dtype: Any = ..., copy: bool | None = ...) -> np.ndarray:
        ...
    def __bool__(self) -> bool:
        ...
    def __float__(self) -> float:
        ...
    def __hash__(self, /) -> Any:
        'Return hash(self).'
    def __init__(self, data: Any, requires_grad: bool = ..., dtype: Any = ...) -> None:
        ...
    def __int__(self) -> int:
        ...
    def __iter__(self) -> Iterator[Tensor]:
        ...
    def __len__(self) -> int:
        ...
    def __repr__(self) -> str:
        ...
    @classmethod
    def _make(cls, data: np.ndarray, grad_fn: Any = ...) -> Tensor:
        "The engine's constructor: wraps `data` without copying or checking."
    @property
    def _version(self) -> int:
        "How many in-place changes this tensor's numbers have seen (shared with its views); backward refuses values saved at another version."
    @property
    def data(self) -> Tensor:
        "A tensor sharing this one's numbers, outside the graph (it does not require grad, and changes through it are not tracked: the escape hatch of `p.data += -lr * p.grad`, as in torch). Assigning a tensor or ndarray replaces the numbers (and the dtype with them). `t.numpy()` gives the ndarray."
    @data.setter
    def data(self, value: Any) -> None: ...
    def detach(self) -> Tensor:
        'A tensor sharing this data (and its version counter) but cut off from the graph.'
    def dim(self) -> int:
        ...
    @property
    def dtype(self) -> np.dtype:
        ...
    @property
    def grad(self) -> Tensor | None:
        "The accumulated gradient dL/dself: a Tensor of self's shape and dtype, or None."
    @grad.setter
    def grad(self, value: Tensor | np.ndarray | None) -> None: ...
    @property
    def is_leaf(self) -> bool:
        'True for tensors not made by a recorded op (their .grad is filled by backward).'
    def item(self) -> Any:
        'The value of a one-element tensor as a Python number.'
    @property
    def ndim(self) -> int:
        ...
    def nelement(self) -> int:
        ...
    def numel(self) -> int:
        ...
    def numpy(self) -> np.ndarray:
        'The underlying ndarray (shared, not copied).'
    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> Callable[[], None]:
        "Call `hook(grad)` when this tensor's gradient is complete in a backward pass. Its return value, if not None, replaces the gradient. Returns a remover."
    @property
    def requires_grad(self) -> bool:
        ...
    @requires_grad.setter
    def requires_grad(self, value: bool) -> None: ...
    def requires_grad_(self, requires_grad: bool = ...) -> Tensor:
        'Start (or stop) recording operations on this leaf tensor; returns self.'
    def retain_grad(self) -> None:
        'Keep .grad on this non-leaf tensor after backward (leaves always keep it).'
    @property
    def shape(self) -> tuple[int, ...]:
        ...
    def size(self, dim: int | None = ...) -> tuple[int, ...] | int:
        'The shape, or the size of dimension `dim`.'
    def tolist(self) -> Any:
        ...

    # ---- autodiff.backward
    def backward(self: Tensor, gradient: Any = ..., retain_graph: bool | None = ..., create_graph: bool = ..., inputs: Tensor | Sequence[Tensor] | None = ...) -> None:
        "Accumulate dself/dleaf into every leaf's .grad (the chain rule, applied in reverse topological order), or only into the .grad of `inputs` when given. `gradient` is dL/dself; it may be omitted for a one-element tensor. See `autodiff.backward.backward`."

    # ---- autodiff.conversions
    def bool(self: Tensor) -> Tensor:
        'This tensor converted to bool.'
    def byte(self: Tensor) -> Tensor:
        'This tensor converted to uint8.'
    def char(self: Tensor) -> Tensor:
        'This tensor converted to int8.'
    def contiguous(self: Tensor) -> Tensor:
        'This tensor when its numbers are in C order, else a C-ordered copy.'
    def cpu(self: Tensor) -> Tensor:
        'This tensor: it is on the CPU already.'
    def cuda(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        'Refused: there is no GPU here.'
    @property
    def device(self: Tensor) -> Any:
        ...
    def double(self: Tensor) -> Tensor:
        'This tensor converted to float64.'
    def element_size(self: Tensor) -> int:
        'Bytes per element.'
    def float(self: Tensor) -> Tensor:
        'This tensor converted to float32.'
    def half(self: Tensor) -> Tensor:
        'This tensor converted to float16.'
    def int(self: Tensor) -> Tensor:
        'This tensor converted to int32.'
    @property
    def is_cuda(self: Tensor) -> bool:
        ...
    def is_floating_point(self: Tensor) -> bool:
        ...
    def long(self: Tensor) -> Tensor:
        'This tensor converted to int64.'
    def new_empty(self: Tensor, *size: Any, dtype: Any = ..., requires_grad: bool = ...) -> Tensor:
        "A new tensor of the given size filled with 0, with this tensor's dtype unless `dtype` is given."
    def new_full(self: Tensor, size: Any, fill_value: Any, *, dtype: Any = ..., requires_grad: bool = ...) -> Tensor:
        ...
    def new_ones(self: Tensor, *size: Any, dtype: Any = ..., requires_grad: bool = ...) -> Tensor:
        "A new tensor of the given size filled with 1, with this tensor's dtype unless `dtype` is given."
    def new_tensor(self: Tensor, data: Any, *, dtype: Any = ..., requires_grad: bool = ...) -> Tensor:
        "A new leaf tensor of `data`, with this tensor's dtype unless `dtype` is given."
    def new_zeros(self: Tensor, *size: Any, dtype: Any = ..., requires_grad: bool = ...) -> Tensor:
        "A new tensor of the given size filled with 0, with this tensor's dtype unless `dtype` is given."
    def short(self: Tensor) -> Tensor:
        'This tensor converted to int16.'
    def to(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        "This tensor converted to a dtype and/or moved to a device, as torch's `to(dtype)`, `to(device, dtype)`, `to(other)`, `to(device=..., dtype=...)`: the device is always the CPU; between float dtypes the conversion is differentiable, to an integer or bool dtype it ends the graph."
    def type(self: Tensor, dtype: Any = ...) -> Any:
        "Without an argument, the type's name ('autodiff.FloatTensor', as torch's 'torch.FloatTensor'); with a dtype, the tensor converted to it."
    def type_as(self: Tensor, other: Tensor) -> Tensor:
        ...

    # ---- autodiff.creation
    def multinomial(input: Tensor, num_samples: int, replacement: bool = ..., *, generator: Any = ...) -> Tensor:
        'Indices (int64) drawn from each row of non-negative `input` weights, with probability proportional to the weight; without replacement an index comes once.'

    # ---- autodiff.functional
    def clamp(x: Any, min: Any = ..., max: Any = ...) -> Tensor:
        "Each element limited to [min, max] (one of them may be None, not both): numbers, or tensors that broadcast with x. The dtype is torch's promotion of x with the bounds (an int64 tensor clamped at 0.5 gives float32)."
    def clip(x: Any, min: Any = ..., max: Any = ...) -> Tensor:
        "Each element limited to [min, max] (one of them may be None, not both): numbers, or tensors that broadcast with x. The dtype is torch's promotion of x with the bounds (an int64 tensor clamped at 0.5 gives float32)."
    def ge(input: Any, other: Any) -> Tensor:
        'input >= other, elementwise, as a bool tensor (compared in the promoted dtype)'
    def greater(input: Any, other: Any) -> Tensor:
        'input > other, elementwise, as a bool tensor (compared in the promoted dtype)'
    def greater_equal(input: Any, other: Any) -> Tensor:
        'input >= other, elementwise, as a bool tensor (compared in the promoted dtype)'
    def gt(input: Any, other: Any) -> Tensor:
        'input > other, elementwise, as a bool tensor (compared in the promoted dtype)'
    def le(input: Any, other: Any) -> Tensor:
        'input <= other, elementwise, as a bool tensor (compared in the promoted dtype)'
    def less(input: Any, other: Any) -> Tensor:
        'input < other, elementwise, as a bool tensor (compared in the promoted dtype)'
    def less_equal(input: Any, other: Any) -> Tensor:
        'input <= other, elementwise, as a bool tensor (compared in the promoted dtype)'
    def lt(input: Any, other: Any) -> Tensor:
        'input < other, elementwise, as a bool tensor (compared in the promoted dtype)'
    def ne(input: Any, other: Any) -> Tensor:
        'input != other, elementwise, as a bool tensor (compared in the promoted dtype)'
    def not_equal(input: Any, other: Any) -> Tensor:
        'input != other, elementwise, as a bool tensor (compared in the promoted dtype)'

    # ---- autodiff.inplace
    def __iadd__(self: Tensor, other: Any) -> Tensor:
        'self += other, in place'
    def __imul__(self: Tensor, other: Any) -> Tensor:
        'self *= other, in place'
    def __isub__(self: Tensor, other: Any) -> Tensor:
        'self -= other, in place'
    def __itruediv__(self: Tensor, other: Any) -> Tensor:
        'self /= other, in place'
    def __setitem__(self: Tensor, index: Any, value: Any) -> None:
        "self[index] = value: outside the graph a plain write; in it (self or value requires grad) recorded, so the region's gradient flows to value and the rest to self's history."
    def add_(self: Tensor, other: Any, *, alpha: float = ...) -> Tensor:
        'self ← self + alpha · other'
    def bernoulli_(self: Tensor, p: Any = ..., *, generator: Any = ...) -> Tensor:
        'self ← 1 with probability p (each in [0, 1], as torch checks), else 0'
    def clamp_(self: Tensor, min: float | None = ..., max: float | None = ...) -> Tensor:
        'self ← self clamped to [min, max]'
    def clip_(self: Tensor, min: float | None = ..., max: float | None = ...) -> Tensor:
        'self ← self clamped to [min, max]'
    def copy_(self: Tensor, src: Any, non_blocking: bool = ...) -> Tensor:
        "self ← src, broadcast to self's shape and converted to self's dtype; dL/dsrc = dL/dself summed over the broadcast copies"
    def div_(self: Tensor, other: Any) -> Tensor:
        'self ← self / other'
    def exponential_(self: Tensor, lambd: float = ..., *, generator: Any = ...) -> Tensor:
        'self ← draws from the exponential distribution of rate lambd'
    def fill_(self: Tensor, value: Any) -> Tensor:
        'self ← value (a number or a one-element tensor) everywhere'
    def index_add_(self: Tensor, dim: int, index: Any, source: Any, *, alpha: float = ...) -> Tensor:
        'self ← self.index_add(dim, index, source, alpha=alpha): alpha · source[..., k, ...] added to self[..., index[k], ...] (repeated indices add up)'
    def masked_fill_(self: Tensor, mask: Any, value: Any) -> Tensor:
        "self ← value where mask (broadcast to self's shape) is True"
    def mul_(self: Tensor, other: Any) -> Tensor:
        'self ← self · other'
    def normal_(self: Tensor, mean: float = ..., std: float = ..., *, generator: Any = ...) -> Tensor:
        'self ← draws from N(mean, std²)'
    def pow_(self: Tensor, exponent: Any) -> Tensor:
        'self ← self ** exponent'
    def sub_(self: Tensor, other: Any, *, alpha: float = ...) -> Tensor:
        'self ← self − alpha · other'
    def uniform_(self: Tensor, a: float = ..., b: float = ..., *, generator: Any = ...) -> Tensor:
        'self ← draws from U[a, b)'
    def zero_(self: Tensor) -> Tensor:
        'self ← 0'

    # ---- autodiff.method_aliases
    def add(self: Tensor, other: Any, *, alpha: float = ...) -> Tensor:
        'self + alpha · other'
    def addmm(self: Tensor, mat1: Tensor, mat2: Tensor, *, beta: float = ..., alpha: float = ...) -> Tensor:
        'beta · self + alpha · (mat1 @ mat2), mat1 and mat2 matrices (self broadcasts to their product); beta = 0 ignores self (NaN in it too), as torch.'
    def all(self: Tensor, dim: Axis = ..., keepdim: bool = ...) -> Tensor:
        'True where every element (along `dim`) is nonzero: a bool tensor.'
    def allclose(self: Tensor, other: Any, rtol: float = ..., atol: float = ..., equal_nan: bool = ...) -> bool:
        'True when isclose holds everywhere.'
    def any(self: Tensor, dim: Axis = ..., keepdim: bool = ...) -> Tensor:
        'True where some element (along `dim`) is nonzero: a bool tensor.'
    def baddbmm(self: Tensor, batch1: Tensor, batch2: Tensor, *, beta: float = ..., alpha: float = ...) -> Tensor:
        'beta · self + alpha · (batch1 @ batch2), batch-wise over (b, n, m) @ (b, m, p).'
    def bitwise_and(self: Tensor, other: Any) -> Tensor:
        'self & other: bitwise on integers, logical on bools'
    def bitwise_not(self: Tensor) -> Tensor:
        '~self: bitwise on integers, logical on bools'
    def bitwise_or(self: Tensor, other: Any) -> Tensor:
        'self | other: bitwise on integers, logical on bools'
    def bitwise_xor(self: Tensor, other: Any) -> Tensor:
        'self ^ other: bitwise on integers, logical on bools'
    def bmm(self: Tensor, other: Tensor) -> Tensor:
        'Batched matrix product of (b, n, m) and (b, m, p) tensors.'
    def count_nonzero(self: Tensor, dim: Axis = ...) -> Tensor:
        'How many elements (along `dim`) are not zero: int64.'
    def div(self: Tensor, other: Any, *, rounding_mode: str | None = ...) -> Tensor:
        "self / other; rounding_mode 'trunc' rounds the quotient toward zero, 'floor' down (those results have no gradient, as torch's)."
    def divide(self: Tensor, other: Any, *, rounding_mode: str | None = ...) -> Tensor:
        "self / other; rounding_mode 'trunc' rounds the quotient toward zero, 'floor' down (those results have no gradient, as torch's)."
    def dot(self: Tensor, other: Tensor) -> Tensor:
        'Σ self·other of two 1-D tensors of one length.'
    def equal(self: Tensor, other: Tensor) -> bool:
        'True when both have the same shape and the same elements.'
    def expand_as(self: Tensor, other: Tensor) -> Tensor:
        ...
    def index_add(self: Tensor, dim: int, index: Any, source: Any, *, alpha: float = ...) -> Tensor:
        "A copy of self with alpha · source[..., k, ...] added to self[..., index[k], ...] along `dim`, for each k (repeated indices add up): out = self + Σₖ alpha · source[k] at index[k]; dL/dself = dL/dout, dL/dsource[..., k, ...] = alpha · dL/dout[..., index[k], ...]. index: a vector (or one number) of ints in [0, self.shape[dim]); source: self's shape with len(index) along `dim`, and self's dtype."
    def isclose(self: Tensor, other: Any, rtol: float = ..., atol: float = ..., equal_nan: bool = ...) -> Tensor:
        "|self − other| <= atol + rtol·|other|, elementwise (torch's defaults)."
    def kron(self: Tensor, other: Tensor) -> Tensor:
        'The Kronecker product: block (i, j, ...) is self[i, j, ...] · other, so the shape is the product of the two shapes, dim by dim (the shorter padded with 1s in front).'
    def logical_and(self: Tensor, other: Any) -> Tensor:
        'self and other, elementwise (nonzero is true), as a bool tensor'
    def logical_not(self: Tensor) -> Tensor:
        'not self, elementwise (nonzero is true), as a bool tensor'
    def logical_or(self: Tensor, other: Any) -> Tensor:
        'self or other, elementwise (nonzero is true), as a bool tensor'
    def logical_xor(self: Tensor, other: Any) -> Tensor:
        'self xor other, elementwise (nonzero is true), as a bool tensor'
    def matmul(self: Tensor, other: Any) -> Tensor:
        ...
    def mm(self: Tensor, other: Tensor) -> Tensor:
        "The product of two matrices (2-D only, as torch's mm)."
    def mul(self: Tensor, other: Any) -> Tensor:
        ...
    def multiply(self: Tensor, other: Any) -> Tensor:
        ...
    def mv(self: Tensor, vec: Tensor) -> Tensor:
        'The product of a matrix (n, m) and a vector (m,): a vector (n,).'
    def narrow(self: Tensor, dim: int, start: int, length: int) -> Tensor:
        'The `length` elements from `start` along `dim` (start may count from the end), as a view: self[..., start:start + length, ...].'
    def neg(self: Tensor) -> Tensor:
        ...
    def negative(self: Tensor) -> Tensor:
        ...
    def nonzero(self: Tensor, *, as_tuple: bool = ...) -> Any:
        'The indices of the nonzero elements, in row-major order: an int64 tensor (n, ndim), or with as_tuple one int64 tensor of n per dim (no gradient).'
    def pow(self: Tensor, exponent: Any) -> Tensor:
        ...
    def reshape_as(self: Tensor, other: Tensor) -> Tensor:
        ...
    def select(self: Tensor, dim: int, index: int) -> Tensor:
        'The slice at `index` along `dim`, that dim removed, as a view: self[..., index, ...] (index may count from the end).'
    def sub(self: Tensor, other: Any, *, alpha: float = ...) -> Tensor:
        'self − alpha · other'
    def subtract(self: Tensor, other: Any, *, alpha: float = ...) -> Tensor:
        'self − alpha · other'
    def t(self: Tensor) -> Tensor:
        "A matrix transposed (a 0-D or 1-D tensor as it is), as torch's t()."
    def true_divide(self: Tensor, other: Any, *, rounding_mode: str | None = ...) -> Tensor:
        "self / other; rounding_mode 'trunc' rounds the quotient toward zero, 'floor' down (those results have no gradient, as torch's)."
    def unique(self: Tensor, sorted: bool = ..., return_inverse: bool = ..., return_counts: bool = ..., dim: int | None = ...) -> Any:
        "The distinct elements (of the flattened tensor, or the distinct slices along `dim`), sorted; optionally with each element's index into them and their counts, as torch.unique (no gradient)."
    def view_as(self: Tensor, other: Tensor) -> Tensor:
        ...

    # ---- autodiff.operators
    def __add__(self: Tensor, other: Any) -> Tensor:
        'self + other, in the promoted dtype'
    def __and__(self: Tensor, other: Any) -> Tensor:
        'self & other, bitwise (logical on bools)'
    def __eq__(self: Tensor, other: Any) -> Tensor:
        'self == other, elementwise, as a bool tensor'
    def __ge__(self: Tensor, other: Any) -> Tensor:
        'self >= other, elementwise, as a bool tensor'
    def __gt__(self: Tensor, other: Any) -> Tensor:
        'self > other, elementwise, as a bool tensor'
    def __invert__(self: Tensor) -> Tensor:
        '~self: bitwise not of integers, logical not of bools.'
    def __le__(self: Tensor, other: Any) -> Tensor:
        'self <= other, elementwise, as a bool tensor'
    def __lt__(self: Tensor, other: Any) -> Tensor:
        'self < other, elementwise, as a bool tensor'
    def __matmul__(self: Tensor, other: Any) -> Tensor:
        "self @ other, with numpy's rules for 1-D operands and batches."
    def __mul__(self: Tensor, other: Any) -> Tensor:
        'self * other, in the promoted dtype'
    def __ne__(self: Tensor, other: Any) -> Tensor:
        'self != other, elementwise, as a bool tensor'
    def __neg__(self: Tensor) -> Tensor:
        '-self'
    def __or__(self: Tensor, other: Any) -> Tensor:
        'self | other, bitwise (logical on bools)'
    def __pos__(self: Tensor) -> Tensor:
        '+self: the tensor itself'
    def __pow__(self: Tensor, other: Any) -> Tensor:
        'self ** other, in the promoted dtype'
    def __radd__(self: Tensor, other: Any) -> Tensor:
        'other + self, in the promoted dtype'
    def __rand__(self: Tensor, other: Any) -> Tensor:
        'other & self, bitwise (logical on bools)'
    def __rmatmul__(self: Tensor, other: Any) -> Tensor:
        'other @ self'
    def __rmul__(self: Tensor, other: Any) -> Tensor:
        'other * self, in the promoted dtype'
    def __ror__(self: Tensor, other: Any) -> Tensor:
        'other | self, bitwise (logical on bools)'
    def __rpow__(self: Tensor, other: Any) -> Tensor:
        'other ** self, in the promoted dtype'
    def __rsub__(self: Tensor, other: Any) -> Tensor:
        'other - self, in the promoted dtype'
    def __rtruediv__(self: Tensor, other: Any) -> Tensor:
        'other / self, in the promoted dtype'
    def __rxor__(self: Tensor, other: Any) -> Tensor:
        'other ^ self, bitwise (logical on bools)'
    def __sub__(self: Tensor, other: Any) -> Tensor:
        'self - other, in the promoted dtype'
    def __truediv__(self: Tensor, other: Any) -> Tensor:
        'self / other, in the promoted dtype'
    def __xor__(self: Tensor, other: Any) -> Tensor:
        'self ^ other, bitwise (logical on bools)'
    def eq(self: Tensor, other: Any) -> Tensor:
        'self == other, elementwise, as a bool tensor'
    def maximum(self: Tensor, other: Any) -> Tensor:
        'The larger of self and other, elementwise (ties share the gradient equally).'
    def minimum(self: Tensor, other: Any) -> Tensor:
        'The smaller of self and other, elementwise (ties share the gradient equally).'

    # ---- autodiff.ops.elementwise
    def abs(self: Tensor) -> Tensor:
        '|x|'
    def clone(self: Tensor) -> Tensor:
        'A copy of the numbers, in the graph (dL/dx = dL/dclone).'
    def exp(self: Tensor) -> Tensor:
        'eˣ'
    def leaky_relu(self: Tensor, negative_slope: float = ...) -> Tensor:
        'x where x > 0, else negative_slope · x'
    def log(self: Tensor) -> Tensor:
        'ln x'
    def relu(self: Tensor) -> Tensor:
        'max(x, 0)'
    def sigmoid(self: Tensor) -> Tensor:
        'σ(x) = 1 / (1 + e⁻ˣ)'
    def sqrt(self: Tensor) -> Tensor:
        '√x'
    def tanh(self: Tensor) -> Tensor:
        'tanh x'

    # ---- autodiff.ops.linalg
    def det(a: Tensor) -> Tensor:
        "det a of a square matrix, or of each matrix of a batch (*, n, n); d det(a)/da = cof(a) = det(a)·a⁻ᵀ, the cofactor matrix, exact at singular matrices too (torch's value there), and differentiable again (create_graph)."
    def logdet(a: Tensor) -> Tensor:
        "log det a for each matrix of a batch (*, n, n): logabsdet where det a > 0, -inf where det a = 0 and NaN where det a < 0 (with gradient 0 there), as torch's; d logdet(a)/da = a⁻ᵀ."
    def slogdet(a: Tensor) -> Any:
        "(sign, logabsdet) with det a = sign · exp(logabsdet), for each matrix of a batch (*, n, n), without det's overflow or underflow: a named tuple, as torch's. sign is ±1, or 0 for a singular matrix (logabsdet is then -inf); d logabsdet/da = a⁻ᵀ (a singular matrix refuses the gradient by name), sign has no gradient."

    # ---- autodiff.ops.math_functions
    def __floordiv__(input: Any, other: Any) -> Tensor:
        "⌊input / other⌋, Python's and torch's //, for floats and integers alike (7.5 // -2 = -4.0, -7 // 2 = -4); gradient 0."
    def __lshift__(input: Any, other: Any) -> Tensor:
        'input << other = input · 2^other on integers'
    def __mod__(input: Any, other: Any) -> Tensor:
        "input - other · ⌊input / other⌋: Python's %, the sign of the divisor (-7 % 3 = 2, 7 % -3 = -2); integers stay integers (division by 0 refused)."
    def __rfloordiv__(self: Tensor, other: Any) -> Tensor:
        ...
    def __rlshift__(self: Tensor, other: Any) -> Tensor:
        ...
    def __rmod__(self: Tensor, other: Any) -> Tensor:
        ...
    def __rrshift__(self: Tensor, other: Any) -> Tensor:
        ...
    def __rshift__(input: Any, other: Any) -> Tensor:
        'input >> other = ⌊input / 2^other⌋ on integers'
    def acos(x: Any) -> Tensor:
        'acos x in [0, π]; NaN outside [-1, 1]'
    def acosh(x: Any) -> Tensor:
        'acosh x = ln(x + √(x² - 1)); NaN below 1'
    def asin(x: Any) -> Tensor:
        'asin x in [-π/2, π/2]; NaN outside [-1, 1]'
    def asinh(x: Any) -> Tensor:
        'asinh x = ln(x + √(x² + 1))'
    def atan(x: Any) -> Tensor:
        'atan x in (-π/2, π/2)'
    def atan2(input: Any, other: Any) -> Tensor:
        'atan2(input, other): the angle in (-π, π] of the point (other, input), broadcast.'
    def atanh(x: Any) -> Tensor:
        'atanh x = ½ ln((1 + x) / (1 - x)); ±inf at ±1, NaN outside [-1, 1]'
    def bitwise_left_shift(input: Any, other: Any) -> Tensor:
        'input << other = input · 2^other on integers'
    def bitwise_right_shift(input: Any, other: Any) -> Tensor:
        'input >> other = ⌊input / 2^other⌋ on integers'
    def ceil(x: Any) -> Tensor:
        '⌈x⌉, the smallest whole number >= x; gradient 0'
    def copysign(input: Any, other: Any) -> Tensor:
        '|input| with the sign of other (-0.0 counts as negative), as a float.'
    def cos(x: Any) -> Tensor:
        'cos x (radians)'
    def cosh(x: Any) -> Tensor:
        'cosh x = (eˣ + e⁻ˣ) / 2'
    def erf(x: Any) -> Tensor:
        'erf x = (2/√π) ∫₀ˣ e^(-t²) dt'
    def erfinv(x: Any) -> Tensor:
        'The inverse of erf: erf(erfinv x) = x on (-1, 1); ±inf at ±1, NaN outside.'
    def exp2(x: Any) -> Tensor:
        '2ˣ'
    def expm1(x: Any) -> Tensor:
        'eˣ - 1, precise for small x'
    def floor(x: Any) -> Tensor:
        '⌊x⌋, the largest whole number <= x; gradient 0'
    def floor_divide(input: Any, other: Any) -> Tensor:
        "⌊input / other⌋, Python's and torch's //, for floats and integers alike (7.5 // -2 = -4.0, -7 // 2 = -4); gradient 0."
    def fmod(input: Any, other: Any) -> Tensor:
        "input - other · trunc(input / other): C's fmod, the sign of the dividend (fmod(-7, 3) = -1); integers stay integers (division by 0 refused)."
    def frac(x: Any) -> Tensor:
        "x - trunc x, the fractional part with x's sign (floats only, as torch)"
    def isfinite(x: Any) -> Tensor:
        'True where x is neither NaN nor ±inf'
    def isinf(x: Any) -> Tensor:
        'True where x is +inf or -inf'
    def isnan(x: Any) -> Tensor:
        'True where x is NaN (a bool tensor, outside the graph)'
    def lerp(input: Any, end: Any, weight: Any) -> Tensor:
        'input + weight · (end - input), broadcast; computed as torch does, as end - (end - input)(1 - weight) where |weight| >= 0.5, so that weight 1 gives end exactly. input and end must have one float dtype, as a tensor weight of dims must.'
    def log10(x: Any) -> Tensor:
        'log₁₀ x'
    def log1p(x: Any) -> Tensor:
        'ln(1 + x), precise for small x'
    def log2(x: Any) -> Tensor:
        'log₂ x'
    def logaddexp(input: Any, other: Any) -> Tensor:
        'ln(eᵃ + eᵇ) = max(a, b) + log1p(e^(-|a - b|)), which never overflows; a + ln 2 where a = b (±inf included, where a - b would be NaN).'
    def logit(x: Any, eps: float | None = ...) -> Tensor:
        'log(z / (1 − z)) with z = x clamped to [eps, 1 − eps] (x itself when eps is None: ±inf at 0 and 1, NaN outside [0, 1])'
    def nan_to_num(x: Any, nan: float = ..., posinf: float | None = ..., neginf: float | None = ...) -> Tensor:
        "x with NaN replaced by `nan`, +inf by `posinf` and -inf by `neginf` (by default the largest and the lowest finite number of x's dtype)."
    def reciprocal(x: Any) -> Tensor:
        '1 / x (integers become floats: 1 / 0 is inf)'
    def remainder(input: Any, other: Any) -> Tensor:
        "input - other · ⌊input / other⌋: Python's %, the sign of the divisor (-7 % 3 = 2, 7 % -3 = -2); integers stay integers (division by 0 refused)."
    def round(x: Any, decimals: int = ...) -> Tensor:
        'x rounded to `decimals` decimal places (negative: to tens, hundreds, ...), halves to even as torch: round(2.5) = 2, round(0.25, decimals=1) = 0.2; gradient 0'
    def rsqrt(x: Any) -> Tensor:
        '1 / √x'
    def sign(x: Any) -> Tensor:
        "-1, 0 or 1 by the sign of x (0 for NaN, as torch), in x's dtype; gradient 0"
    def sin(x: Any) -> Tensor:
        'sin x (radians)'
    def sinh(x: Any) -> Tensor:
        'sinh x = (eˣ - e⁻ˣ) / 2'
    def square(x: Any) -> Tensor:
        'x² (x ** 2, as torch: integers stay integers, bools become int64)'
    def tan(x: Any) -> Tensor:
        'tan x (radians)'
    def trunc(x: Any) -> Tensor:
        'x rounded toward zero; gradient 0'

    # ---- autodiff.ops.matmul
    def inverse(a: Tensor) -> Tensor:
        "A⁻¹ of a square matrix, or of each matrix of a batch (*, n, n); float inputs only (integers become the default float dtype, as torch's)."

    # ---- autodiff.ops.rearrange
    def argsort(x: Tensor, dim: int = ..., descending: bool = ..., *, stable: bool = ...) -> Tensor:
        'The int64 indices that sort x along `dim`. Always stable (equal elements keep their order), which torch gives with stable=True and allows without.'
    def chunk(x: Tensor, chunks: int, dim: int = ...) -> tuple[Tensor, ...]:
        'split(x, ⌈n / chunks⌉, dim): at most `chunks` pieces, fewer when that size covers the dim sooner (5 rows in 4 chunks are 3 pieces: 2, 2, 1).'
    def cross(x: Tensor, other: Any, dim: int | None = ...) -> Tensor:
        'The cross product x × other along `dim` (size 3; dim None: the first dim of size 3), both broadcast: y = (x₁o₂ - x₂o₁, x₂o₀ - x₀o₂, x₀o₁ - x₁o₀).'
    def cummax(x: Tensor, dim: int) -> Any:
        '(values, indices): yᵢ = max(x₀, …, xᵢ) along `dim` and where it is (the latest place on a tie); dL/dx gets dL/dyᵢ at that place.'
    def cummin(x: Tensor, dim: int) -> Any:
        '(values, indices): yᵢ = min(x₀, …, xᵢ) along `dim` and where it is (the latest place on a tie); dL/dx gets dL/dyᵢ at that place.'
    def cumprod(x: Tensor, dim: int) -> Tensor:
        'yᵢ = Π_{j≤i} xⱼ along `dim`. Built from prod over a masked n × n copy (x with 1 above the diagonal), so its gradient is exact where some xⱼ = 0; costs n² per row, suiting the short dims it is used on.'
    def cumsum(x: Tensor, dim: int) -> Tensor:
        'yᵢ = Σ_{j≤i} xⱼ along `dim` (integers and bools sum as int64).'
    def diag(x: Tensor, diagonal: int = ...) -> Tensor:
        "A vector: the square matrix with it on diagonal `diagonal`, zeros elsewhere. A matrix: a copy of its diagonal `diagonal`, as a vector (torch's diag copies)."
    def diag_embed(x: Tensor, offset: int = ..., dim1: int = ..., dim2: int = ...) -> Tensor:
        "Each vector along x's last dim set on diagonal `offset` of a square matrix (zeros elsewhere), the matrix's two dims placed at dim1 and dim2 of the result."
    def diagonal(x: Tensor, offset: int = ..., dim1: int = ..., dim2: int = ...) -> Tensor:
        "yᵢ = x[i, i + offset] in the plane of dim1, dim2 (row i - offset when offset < 0); those dims removed and the diagonal appended as the last dim. A view of x, as torch's: `x.diagonal().add_(1)` changes x."
    def flip(x: Tensor, *dims: Any) -> Tensor:
        "x reversed along each of `dims` (a copy, as torch's)."
    def gather(x: Tensor, dim: int, index: Any) -> Tensor:
        'out[i][j][k] = x[i][index[i][j][k]][k] (for dim 1): values picked along `dim`.'
    def index_select(x: Tensor, dim: int, index: Any) -> Tensor:
        'The slices x[..., index[k], ...] along `dim` (index: a vector of ints).'
    def kthvalue(x: Tensor, k: int, dim: int = ..., keepdim: bool = ...) -> Any:
        '(values, indices) of the k-th smallest element along `dim` (k counts from 1); on ties which of the equal places is named is left open, as in torch. dL/dx gets dL/dvalues at that place.'
    def logcumsumexp(x: Tensor, dim: int) -> Tensor:
        'yᵢ = log Σ_{j≤i} exp xⱼ along `dim`, without overflow: logsumexp over each row of an n × n copy of x with -inf above the diagonal (n² per row, like cumprod); the gradient is its softmax weights, dyᵢ/dxⱼ = exp(xⱼ − yᵢ) for j ≤ i.'
    def masked_fill(x: Tensor, mask: Any, value: Any) -> Tensor:
        "A copy of x with `value` where mask (broadcast to x's shape) is True; value is a number or a 0-d tensor (which gets the gradient of the filled places)."
    def masked_select(x: Tensor, mask: Any) -> Tensor:
        'The elements of x where mask is True (both broadcast), as a vector.'
    def median(x: Tensor, dim: int | None = ..., keepdim: bool = ...) -> Any:
        'The lower median, as torch: the ⌈n/2⌉-th smallest of the n elements (of all of x when dim is None: a tensor; along `dim`: (values, indices)); NaN where the elements hold a NaN (named by its index). dL/dx gets dL/dvalues at the place named.'
    def movedim(x: Tensor, source: Any, destination: Any) -> Tensor:
        'x with the dims `source` moved to the positions `destination`, the others kept in order.'
    def outer(x: Tensor, vec2: Any) -> Tensor:
        'yᵢⱼ = xᵢ · vec2ⱼ of two vectors.'
    def quantile(x: Tensor, q: Any, dim: int | None = ..., keepdim: bool = ..., *, interpolation: str = ...) -> Tensor:
        "The q-th quantiles (q in [0, 1], a number or a 1-D tensor of them, whose dim then comes first) of all of x or along `dim`: in x sorted, position p = q·(n − 1) falls between elements lo = ⌊p⌋ and hi = ⌈p⌉, and the quantile is lo + (hi − lo)(p − ⌊p⌋) ('linear'), lo, hi, their mean ('midpoint') or the nearer ('nearest', ties to the even position), as torch; NaN where the elements hold a NaN. dL/dx reaches lo and hi."
    def repeat(x: Tensor, *sizes: Any) -> Tensor:
        "x tiled sizes[i] times along dim i (torch's repeat is numpy's tile; extra leading sizes add dims). Built as expand + reshape."
    def repeat_interleave(x: Tensor, repeats: Any, dim: int | None = ...) -> Tensor:
        'Each element repeated `repeats` times (or repeats[i] times for element i) along `dim`, neighbours staying together: [1, 2] -> [1, 1, 2, 2]. dim None flattens first.'
    def roll(x: Tensor, shifts: Any, dims: Any = ...) -> Tensor:
        'yᵢ = x_{i - shift} along each dim, wrapping around; with dims None the flattened x is rolled and the shape restored.'
    def rot90(x: Tensor, k: int = ..., dims: Sequence[int] = ...) -> Tensor:
        'x rotated by k·90° in the plane of `dims`, from the first dim towards the second.'
    def scatter(x: Tensor, dim: int, index: Any, src: Any) -> Tensor:
        'A copy of x with out[i][index[i][j][k]][k] = src[i][j][k] (for dim 1); src may be a number. Where index repeats a place, the last write wins (torch leaves it open).'
    def scatter_add(x: Tensor, dim: int, index: Any, src: Any) -> Tensor:
        'A copy of x with src[i][j][k] added to out[i][index[i][j][k]][k] (for dim 1); repeated places add up.'
    def scatter_reduce(x: Tensor, dim: int, index: Any, src: Any, reduce: str, *, include_self: bool = ...) -> Tensor:
        'A copy of x where each place that index points at (along `dim`, as scatter) holds the reduction ("sum", "prod", "mean", "amax", "amin") of the src values sent there, and of x\'s own value when include_self. Places nothing is sent to keep x.'
    def sort(x: Tensor, dim: int = ..., descending: bool = ..., *, stable: bool = ...) -> Any:
        '(values, indices): x sorted along `dim` and where each value came from; dL/dx = dL/dvalues sent back to those places. Always stable, as argsort.'
    def split(x: Tensor, split_size_or_sections: int | Sequence[int], dim: int = ...) -> tuple[Tensor, ...]:
        'Pieces along `dim`: of `split_size_or_sections` elements each (an int: a chunk size, the last piece smaller), or of the listed sizes (they must add up).'
    def take_along_dim(x: Tensor, indices: Any, dim: int | None = ...) -> Tensor:
        'gather after broadcasting x and indices in every dim but `dim`; dim None picks from the flattened x.'
    def tensor_split(x: Tensor, indices_or_sections: Any, dim: int = ...) -> tuple[Tensor, ...]:
        "An int n: n pieces as equal as can be (the first n mod size one longer); a list of indices: the pieces x[:i₀], x[i₀:i₁], …, x[iₖ:] along `dim` (Python's slicing)."
    def tile(x: Tensor, *dims: Any) -> Tensor:
        "repeat, with missing leading sizes taken as 1 (numpy's tile)."
    def topk(x: Tensor, k: int, dim: int = ..., largest: bool = ..., sorted: bool = ...) -> Any:
        '(values, indices) of the k largest (smallest when largest=False) along `dim`, always in sorted order (which sorted=False allows too).'
    def trace(x: Tensor) -> Tensor:
        'Σᵢ x[i, i] of a matrix.'
    def tril(x: Tensor, diagonal: int = ...) -> Tensor:
        'x where column - row <= diagonal, else 0 (the lower triangle).'
    def triu(x: Tensor, diagonal: int = ...) -> Tensor:
        'x where column - row >= diagonal, else 0 (the upper triangle).'
    def unbind(x: Tensor, dim: int = ...) -> tuple[Tensor, ...]:
        'The slices x[..., i, ...] along `dim`, that dim removed.'
    def unflatten(x: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
        'x with dim `dim` split into dims of `sizes` (one may be -1).'
    def unfold(x: Tensor, dimension: int, size: int, step: int) -> Tensor:
        "Tensor.unfold: the windows of `size` elements, `step` apart, along `dimension`, as a new last dim (the dim itself counts the windows). A view of x, as torch's: writes through it reach x (`ad.unfold` is F.unfold, the image-patch op)."
    def where(x: Tensor, condition: Any, y: Any) -> Tensor:
        'x.where(condition, y): x where condition, else y (= ad.where(condition, x, y)).'

    # ---- autodiff.ops.reduce
    def amax(self: Tensor, dim: Axis = ..., keepdim: bool = ..., *, axis: Axis = ..., keepdims: bool | None = ...) -> Tensor:
        "The largest element over `dim` (an int or ints; the default () means every dim), values only. Ties share the gradient equally, as torch's amax."
    def amin(self: Tensor, dim: Axis = ..., keepdim: bool = ..., *, axis: Axis = ..., keepdims: bool | None = ...) -> Tensor:
        'Like `amax`, for the smallest elements.'
    def argmax(self: Tensor, dim: int | None = ..., keepdim: bool = ..., *, axis: int | None = ..., keepdims: bool | None = ...) -> Tensor:
        'The index of the largest element, along `dim` or of the flattened tensor.'
    def argmin(self: Tensor, dim: int | None = ..., keepdim: bool = ..., *, axis: int | None = ..., keepdims: bool | None = ...) -> Tensor:
        'The index of the smallest element, along `dim` or of the flattened tensor.'
    def max(self: Tensor, dim: Any = ..., keepdim: bool = ..., *, axis: Any = ..., keepdims: bool | None = ...) -> Any:
        "Without `dim`: the largest element (every axis kept as size 1 with keepdim=True, as numpy's keepdims; torch's max() takes no keepdim). With `dim`: (values, indices) along it. With a tensor: the elementwise maximum. Ties share the gradient equally."
    def mean(self: Tensor, dim: Axis = ..., keepdim: bool = ..., *, dtype: Any = ..., axis: Axis = ..., keepdims: bool | None = ...) -> Tensor:
        'Σx / N over `dim` (every dim when None), in `dtype` when given (converted first).'
    def min(self: Tensor, dim: Any = ..., keepdim: bool = ..., *, axis: Any = ..., keepdims: bool | None = ...) -> Any:
        'Like `max`, for the smallest elements.'
    def norm(self: Tensor, p: float | str = ..., dim: Axis = ..., keepdim: bool = ..., *, axis: Axis = ..., keepdims: bool | None = ...) -> Tensor:
        "The vector p-norm over `dim` (every dim when None), as torch.norm and torch.linalg.vector_norm: (Σ|x|ᵖ)^(1/p); 'fro' (the default) is p = 2, inf the largest |x|, -inf the smallest, 0 the number of non-zeros."
    def prod(self: Tensor, dim: int | None = ..., keepdim: bool = ..., *, axis: int | None = ..., keepdims: bool | None = ...) -> Tensor:
        "The product of every element, or along one int dim (torch's prod)."
    def std(self: Tensor, dim: Axis = ..., unbiased: bool | None = ..., keepdim: bool = ..., *, correction: int | None = ..., axis: Axis = ..., keepdims: bool | None = ...) -> Tensor:
        'y = √var(x); dy/dxᵢ = (xᵢ - x̄) / ((N - correction) · y), and 0 where y = 0'
    def sum(self: Tensor, dim: Axis = ..., keepdim: bool = ..., *, dtype: Any = ..., axis: Axis = ..., keepdims: bool | None = ...) -> Tensor:
        'Σ over `dim` (every dim when None), in `dtype` when given (converted first); bools and integers sum as int64, as torch.'
    def var(self: Tensor, dim: Axis = ..., unbiased: bool | None = ..., keepdim: bool = ..., *, correction: int | None = ..., axis: Axis = ..., keepdims: bool | None = ...) -> Tensor:
        'y = Σᵢ (xᵢ - x̄)² / (N - correction); dy/dxᵢ = 2(xᵢ - x̄) / (N - correction)'

    # ---- autodiff.ops.shape
    @property
    def T(self: Tensor) -> Tensor:
        'All dimensions reversed.'
    def __getitem__(self: Tensor, index: Any) -> Tensor:
        "self[index], with numpy's basic and advanced indexing."
    def expand(self: Tensor, *sizes: Any) -> Tensor:
        'Size-1 dims repeated to `sizes` without copying (-1 keeps a dim).'
    def flatten(self: Tensor, start_dim: int = ..., end_dim: int = ...) -> Tensor:
        'Dims start_dim … end_dim merged into one.'
    @property
    def mH(self: Tensor) -> Tensor:
        'The last two dimensions swapped (a batch of matrices transposed).'
    @property
    def mT(self: Tensor) -> Tensor:
        'The last two dimensions swapped (a batch of matrices transposed).'
    def permute(self: Tensor, *dims: Any) -> Tensor:
        "The dims reordered: result dim i is self's dim dims[i]."
    def reshape(self: Tensor, *shape: Any) -> Tensor:
        'The same numbers in `shape` (one entry may be -1: inferred).'
    def squeeze(self: Tensor, dim: int | None = ...) -> Tensor:
        'Dims of size 1 removed (only `dim`, when given).'
    def swapaxes(self: Tensor, dim0: int, dim1: int) -> Tensor:
        "Swap two dimensions (torch's transpose; numpy's is `permute`)."
    def transpose(self: Tensor, dim0: int, dim1: int) -> Tensor:
        "Swap two dimensions (torch's transpose; numpy's is `permute`)."
    def unsqueeze(self: Tensor, dim: int) -> Tensor:
        'A dim of size 1 inserted at `dim`.'
    def view(self: Tensor, *shape: Any) -> Tensor:
        "The same numbers in `shape`, shared, never copied (one entry may be -1); refused where self's strides do not allow it (use reshape)."

    # ---- autodiff.ops.softmax
    def log_softmax(self: Tensor, dim: int | None = ..., *, axis: int | None = ...) -> Tensor:
        'x − log Σ eˣ along `dim`.'
    def logsumexp(self: Tensor, dim: Axis = ..., keepdim: bool = ..., *, axis: Axis = ..., keepdims: bool | None = ...) -> Tensor:
        'log Σ eˣ over `dim`, computed stably (the maximum subtracted first).'
    def softmax(self: Tensor, dim: int | None = ..., *, axis: int | None = ...) -> Tensor:
        'eˣ / Σ eˣ along `dim`.'
