"""`ad.func`: torch.func's function transforms, built from `ad.grad` alone.

    grad(f)(x)                ∇f(x) for a scalar f; grad_and_value gives f(x) too
    vjp(f, x)                 (f(x), u ↦ uᵀ·J)
    jvp(f, (x,), (v,))        (f(x), J·v), as the vjp of the vjp
    jacrev(f)(x), jacfwd      J[i, j] = ∂fᵢ/∂xⱼ, one vjp per output element
    hessian(f)(x)             jacfwd(jacrev(f)): H[i, j] = ∂²f/∂xᵢ∂xⱼ
    vmap(f)(xs)               f on each slice of xs along a dimension, results stacked

Arguments may be Tensors or tuples, lists and dicts of them (torch's pytrees), results
follow their structure. A transform differentiates at its own copy of each input: a
fresh leaf, or, when the input already requires grad (a transform inside a transform,
or a parameter), an identity op on it, so the result stays differentiable there: that
is how `grad(grad(f))` and `hessian` nest. A result that depends on no tensor from
outside the transform is handed back detached, as torch's. There is no forward mode:
jacfwd and jvp give forward mode's numbers by reverse passes, and vmap is a Python loop.

`functional_call` is not here: swapping a module's parameters needs nn's Module, which
autodiff does not import; it is `nn.utils.stateless.functional_call`.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from . import random
from .backward import grad as _grad
from .backward import topological_order
from .errors import BackwardError, ShapeError
from .grad_mode import enable_grad, is_grad_enabled
from .ops.shape import stack
from .tensor import Tensor

Spec = Any      # how a pytree nests: None for a leaf, else (kind, keys, child specs)

__all__ = ["grad", "grad_and_value", "hessian", "jacfwd", "jacrev", "jvp", "vjp", "vmap"]


# ---------------------------------------------------------------- pytrees

def _flatten(tree: Any) -> tuple[list[Any], Spec]:
    """The leaves of a tuple/list/dict tree, left to right, and its structure."""
    if isinstance(tree, (tuple, list)):
        pairs = [_flatten(item) for item in tree]
        return [leaf for leaves, _ in pairs for leaf in leaves], \
            (type(tree), None, [spec for _, spec in pairs])
    if isinstance(tree, dict):
        pairs = [_flatten(item) for item in tree.values()]
        return [leaf for leaves, _ in pairs for leaf in leaves], \
            (dict, list(tree), [spec for _, spec in pairs])
    return [tree], None


def _count(spec: Spec) -> int:
    return 1 if spec is None else sum(_count(child) for child in spec[2])


def _unflatten(spec: Spec, leaves: list[Any]) -> Any:
    """The tree of `spec` with `leaves` in its leaves' places."""
    if spec is None:
        return leaves[0]
    kind, keys, children = spec
    items, start = [], 0
    for child in children:
        n = _count(child)
        items.append(_unflatten(child, leaves[start:start + n]))
        start += n
    return dict(zip(keys, items)) if kind is dict else kind(items)


def _tensors(tree: Any, what: str, api: str) -> tuple[list[Tensor], Spec]:
    leaves, spec = _flatten(tree)
    if not leaves:
        raise ValueError(f"{api}: {what} must contain at least one Tensor")
    for leaf in leaves:
        if not isinstance(leaf, Tensor):
            raise ValueError(f"{api}: {what} must be Tensors (or tuples, lists, dicts of "
                             f"them), got a {type(leaf).__name__}; wrap numbers and arrays "
                             f"with ad.tensor(...)")
    return leaves, spec


# ---------------------------------------------------------------- one level of differentiation

class _Level:
    """The inputs of one transform, each lifted to a tensor the transform differentiates
    against: an identity op on the input when it already requires grad (so that results
    stay functions of it), else a fresh leaf. While grad mode is on, derivatives are
    taken with create_graph=True; a result is handed back detached unless its graph
    reaches a leaf from outside this level (an outer transform's input, a parameter)."""

    def __init__(self) -> None:
        self.outer = is_grad_enabled()
        self.leaves: list[Tensor] = []
        self.fresh: set[int] = set()     # ids of this level's own leaves

    def fresh_leaf(self, x: Tensor) -> Tensor:
        leaf = x.detach().requires_grad_(True)
        self.fresh.add(id(leaf))
        return leaf

    def lift(self, tree: Any, what: str, api: str) -> tuple[Any, list[Tensor]]:
        leaves, spec = _tensors(tree, what, api)
        lifted = [x.view_as(x) if self.outer and x.requires_grad else self.fresh_leaf(x)
                  for x in leaves]
        self.leaves.extend(lifted)
        return _unflatten(spec, lifted), lifted

    def vjp(self, outputs: list[Tensor], cotangents: list[Tensor], inputs: list[Tensor],
            create_graph: bool | None = None) -> list[Tensor]:
        """Σₖ cotangentₖᵀ·∂outputₖ/∂input for each input; zeros where nothing depends on it."""
        pairs = [(y, u) for y, u in zip(outputs, cotangents) if y.requires_grad]
        if not pairs:
            return [_zeros(x) for x in inputs]
        grads = _grad([y for y, _ in pairs], inputs, [u for _, u in pairs], retain_graph=True,
                      create_graph=self.outer if create_graph is None else create_graph,
                      allow_unused=True)
        return [_zeros(x) if g is None else g for g, x in zip(grads, inputs)]

    def result(self, tree: Any) -> Any:
        """A value handed back, each tensor detached unless it depends on a tensor from
        outside this level that requires grad."""
        leaves, spec = _flatten(tree)
        return _unflatten(spec, [self._handed_back(x) for x in leaves])

    def _handed_back(self, x: Any) -> Any:
        if not isinstance(x, Tensor) or not x.requires_grad:
            return x
        for t in topological_order([x], leaves=True):
            if t.grad_fn is None and t.requires_grad and id(t) not in self.fresh:
                return x
        return x.detach()


def _zeros(like: Tensor) -> Tensor:
    return Tensor._make(np.zeros(like.shape, like.dtype))


def _positions(argnums: int | tuple[int, ...], count: int, api: str) -> tuple[int, ...]:
    """argnums as non-negative positions, checked as torch checks them."""
    numbers = argnums if isinstance(argnums, tuple) else (argnums,)
    if not isinstance(argnums, (int, tuple)) or not numbers:
        raise BackwardError(f"{api}: argnums must be an int or a non-empty tuple of ints, "
                            f"got {argnums!r}")
    positions = []
    for n in numbers:
        if not isinstance(n, int):
            raise BackwardError(f"{api}: argnums must hold ints, got {type(n).__name__}")
        if not -count <= n < count:
            raise BackwardError(f"{api}: argnums={n}, but f was given only {count} "
                                f"positional arguments")
        positions.append(n % count)
    if len(set(positions)) != len(positions):
        raise BackwardError(f"{api}: argnums must be unique, got {argnums}")
    return tuple(positions)


def _split_aux(output: Any, has_aux: bool, api: str) -> tuple[Any, Any]:
    if not has_aux:
        return output, None
    if not (isinstance(output, tuple) and len(output) == 2):
        raise BackwardError(f"{api}: with has_aux=True, f must return a tuple "
                            f"(output, aux), got {type(output).__name__}")
    return output


def _lift_args(level: _Level, args: tuple[Any, ...], positions: tuple[int, ...],
               api: str) -> tuple[list[Any], list[list[Tensor]], list[Spec]]:
    """args with those at `positions` lifted; the lifted leaves and structure of each."""
    args = list(args)
    leaves, specs = [], []
    for p in positions:
        _, spec = _flatten(args[p])
        args[p], lifted = level.lift(args[p], f"argument {p}", api)
        leaves.append(lifted)
        specs.append(spec)
    return args, leaves, specs


def _by_argnums(argnums: int | tuple[int, ...], per_position: list[Any]) -> Any:
    return per_position[0] if isinstance(argnums, int) else tuple(per_position)


# ---------------------------------------------------------------- the transforms

def grad_and_value(func: Callable[..., Any], argnums: int | tuple[int, ...] = 0,
                   has_aux: bool = False) -> Callable[..., Any]:
    """A function returning (∇f, f) at its arguments: the gradient of the 0-d tensor f
    with respect to the arguments at `argnums` (a tuple of gradients for a tuple of
    argnums), ((∇f, (f, aux)) with has_aux=True).

    >>> import autodiff as ad
    >>> ad.func.grad_and_value(lambda x: (x ** 2).sum())(ad.tensor([1.0, 2.0]))
    (tensor([2., 4.]), tensor(5.))
    """
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        api = "grad_and_value(f)(*args)"
        level = _Level()
        positions = _positions(argnums, len(args), api)
        with enable_grad():
            args, leaves, specs = _lift_args(level, args, positions, api)
            output, aux = _split_aux(func(*args, **kwargs), has_aux, api)
            if not isinstance(output, Tensor):
                raise BackwardError(f"{api}: f must return a Tensor, got "
                                    f"{type(output).__name__}")
            if output.ndim != 0:
                raise BackwardError(f"{api}: f must return a 0-d (scalar) Tensor, got shape "
                                    f"{output.shape}; reduce it (e.g. .sum()), or use vjp "
                                    f"or jacrev for non-scalar outputs")
            seed = Tensor._make(np.ones((), output.dtype))
            flat = level.vjp([output], [seed], [x for group in leaves for x in group])
        grads, start = [], 0
        for group, spec in zip(leaves, specs):
            grads.append(_unflatten(spec, flat[start:start + len(group)]))
            start += len(group)
        gradient = level.result(_by_argnums(argnums, grads))
        if has_aux:
            return gradient, (level.result(output), level.result(aux))
        return gradient, level.result(output)

    return wrapper


def grad(func: Callable[..., Any], argnums: int | tuple[int, ...] = 0,
         has_aux: bool = False) -> Callable[..., Any]:
    """A function returning ∇f at its arguments (with has_aux=True, (∇f, aux)); see
    `grad_and_value`. Nests: grad(grad(f)) is f''.

    >>> import autodiff as ad
    >>> ad.func.grad(ad.func.grad(lambda x: x ** 3))(ad.tensor(2.0))   # 6x
    tensor(12.)
    """
    both = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        gradient, value = both(*args, **kwargs)
        return (gradient, value[1]) if has_aux else gradient

    return wrapper


def vjp(func: Callable[..., Any], *primals: Any,
        has_aux: bool = False) -> tuple[Any, ...]:
    """(f(*primals), vjp_fn) (and aux with has_aux=True): vjp_fn(u) gives uᵀ·∂f/∂primal
    for each primal, as a tuple, by a backward pass with grad_outputs=u; it can be called
    more than once.

    >>> import autodiff as ad
    >>> out, vjp_fn = ad.func.vjp(lambda x: x ** 2, ad.tensor([1.0, 2.0]))
    >>> vjp_fn(ad.tensor([1.0, 1.0]))
    (tensor([2., 4.]),)
    """
    api = "vjp(f, *primals)"
    level = _Level()
    with enable_grad():
        lifted_primals, leaves, specs = _lift_args(level, primals, tuple(range(len(primals))),
                                                   api)
        output, aux = _split_aux(func(*lifted_primals), has_aux, api)
        outputs, out_spec = _tensors(output, "the output of f", api)

    def vjp_fn(cotangents: Any) -> tuple[Any, ...]:
        flat, spec = _tensors(cotangents, "cotangents", "vjp_fn")
        if spec != out_spec:
            raise ShapeError("vjp_fn: the cotangents must have the structure of f's output "
                             f"({len(outputs)} Tensors as f returned them)")
        for i, (u, y) in enumerate(zip(flat, outputs)):
            if u.shape != y.shape:
                raise ShapeError(f"vjp_fn: cotangent {i} has shape {u.shape} but output {i} "
                                 f"has shape {y.shape}; they must match")
        create_graph = level.outer or any(u.requires_grad for u in flat)
        with enable_grad():
            grads = level.vjp(outputs, flat, level.leaves, create_graph)
        result, start = [], 0
        for group, group_spec in zip(leaves, specs):
            result.append(_unflatten(group_spec, grads[start:start + len(group)]))
            start += len(group)
        return level.result(tuple(result))

    if has_aux:
        return level.result(output), vjp_fn, level.result(aux)
    return level.result(output), vjp_fn


def jvp(func: Callable[..., Any], primals: tuple[Any, ...], tangents: tuple[Any, ...], *,
        strict: bool = False, has_aux: bool = False) -> tuple[Any, ...]:
    """(f(*primals), J·tangents) (and aux with has_aux=True), with J·v computed as the
    vjp of the vjp: g(u) = uᵀ·J is linear in u, so the vjp of g with v is J·v.

    >>> import autodiff as ad
    >>> ad.func.jvp(lambda x: x ** 2, (ad.tensor([1.0, 2.0]),), (ad.tensor([1.0, 1.0]),))
    (tensor([1., 4.]), tensor([2., 4.]))
    """
    api = "jvp(f, primals, tangents)"
    if not isinstance(primals, tuple):
        raise BackwardError(f"{api}: primals must be a tuple, so that f(*primals) is the "
                            f"call; got {type(primals).__name__}")
    flat_tangents, tangent_spec = _tensors(tangents, "tangents", api)
    if tangent_spec != _flatten(primals)[1]:
        raise ShapeError(f"{api}: tangents must have the structure of primals (one Tensor "
                         f"per primal Tensor)")
    level = _Level()
    with enable_grad():
        lifted, _, _ = _lift_args(level, primals, tuple(range(len(primals))), api)
        for i, (v, x) in enumerate(zip(flat_tangents, level.leaves)):
            if v.shape != x.shape:
                raise ShapeError(f"{api}: tangent {i} has shape {v.shape} but primal {i} has "
                                 f"shape {x.shape}; they must match")
        output, aux = _split_aux(func(*lifted), has_aux, api)
        outputs, out_spec = _tensors(output, "the output of f", api)
        if strict and not any(y.requires_grad for y in outputs):
            raise BackwardError(f"{api}: with strict=True, the output of f must depend on "
                                f"the primals; it does not")
        us = [level.fresh_leaf(_zeros(y)) for y in outputs]
        gs = level.vjp(outputs, us, level.leaves, create_graph=True)
        live = [(g, v) for g, v in zip(gs, flat_tangents) if g.requires_grad]
        create_graph = level.outer or any(v.requires_grad for v in flat_tangents)
        products = level.vjp([g for g, _ in live], [v for _, v in live], us, create_graph)
    result = (level.result(output), level.result(_unflatten(out_spec, products)))
    return (*result, level.result(aux)) if has_aux else result


def _jacobian(func: Callable[..., Any], argnums: int | tuple[int, ...], has_aux: bool,
              api: str, forward: bool) -> Callable[..., Any]:
    """jacrev and jacfwd: J[i, j] = ∂fᵢ/∂xⱼ, one vjp per output element (a one-hot
    cotangent), each of shape output.shape + input.shape, nested output-first. In the
    input's dtype (a vjp's), or for jacfwd in the output's (a jvp's), as torch's."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        level = _Level()
        positions = _positions(argnums, len(args), api)
        with enable_grad():
            args, leaves, specs = _lift_args(level, args, positions, api)
            output, aux = _split_aux(func(*args, **kwargs), has_aux, api)
            outputs, out_spec = _tensors(output, "the output of f", api)
            per_output = []
            for y in outputs:
                rows = []
                for j in range(y.numel()):
                    one_hot = np.zeros(y.numel(), y.dtype)
                    one_hot[j] = 1
                    rows.append(level.vjp([y], [Tensor._make(one_hot.reshape(y.shape))],
                                          level.leaves))
                jacobians = [stack([row[i] for row in rows]).reshape(y.shape + x.shape)
                             if rows else Tensor._make(np.zeros(y.shape + x.shape, x.dtype))
                             for i, x in enumerate(level.leaves)]
                if forward:
                    jacobians = [j.to(y.dtype) for j in jacobians]
                groups, start = [], 0
                for group, spec in zip(leaves, specs):
                    groups.append(_unflatten(spec, jacobians[start:start + len(group)]))
                    start += len(group)
                per_output.append(_by_argnums(argnums, groups))
        jacobian = level.result(_unflatten(out_spec, per_output))
        return (jacobian, level.result(aux)) if has_aux else jacobian

    return wrapper


def jacrev(func: Callable[..., Any], argnums: int | tuple[int, ...] = 0, *,
           has_aux: bool = False) -> Callable[..., Any]:
    """A function returning the Jacobian J[i, j] = ∂fᵢ/∂xⱼ of f at its arguments, of
    shape output.shape + input.shape, by one vjp per output element.

    >>> import autodiff as ad
    >>> ad.func.jacrev(lambda x: x ** 2)(ad.tensor([1.0, 3.0]))
    tensor([[2., 0.],
            [0., 6.]])
    """
    return _jacobian(func, argnums, has_aux, "jacrev(f)(*args)", forward=False)


def jacfwd(func: Callable[..., Any], argnums: int | tuple[int, ...] = 0,
           has_aux: bool = False, *, randomness: str = "error") -> Callable[..., Any]:
    """jacrev's Jacobian under torch's forward-mode name: the same numbers, computed by
    reverse passes (autodiff has no forward mode). `randomness` is checked as vmap's
    and otherwise has no effect: no vmap runs here.

    >>> import autodiff as ad
    >>> ad.func.jacfwd(lambda x: x.sin())(ad.tensor([0.0])).tolist()
    [[1.0]]
    """
    _check_randomness(randomness, "jacfwd")
    return _jacobian(func, argnums, has_aux, "jacfwd(f)(*args)", forward=True)


def hessian(func: Callable[..., Any],
            argnums: int | tuple[int, ...] = 0) -> Callable[..., Any]:
    """A function returning the Hessian H[i, j] = ∂²f/∂xᵢ∂xⱼ: jacfwd(jacrev(f)).

    >>> import autodiff as ad
    >>> ad.func.hessian(lambda x: (x ** 3).sum())(ad.tensor([1.0, 2.0]))
    tensor([[ 6.,  0.],
            [ 0., 12.]])
    """
    return jacfwd(jacrev(func, argnums), argnums)


# ---------------------------------------------------------------- vmap

def _check_randomness(randomness: str, api: str) -> None:
    if randomness not in ("error", "different", "same"):
        raise ValueError(f"{api}: randomness must be 'error', 'different' or 'same', not "
                         f"{randomness!r}")


def _dims_per_leaf(in_dims: Any, args: tuple[Any, ...]) -> list[int | None]:
    """One mapped dimension (or None) per leaf of args, from in_dims: an int or None for
    every argument, or a tuple with one (int, None or a tree like the argument's) per
    argument."""
    if not isinstance(in_dims, tuple):
        in_dims = (in_dims,) * len(args)
    if len(in_dims) != len(args):
        raise ValueError(f"vmap: in_dims has {len(in_dims)} entries but f was given "
                         f"{len(args)} positional arguments; give one per argument")
    dims: list[int | None] = []
    for arg, dim in zip(args, in_dims):
        leaves, spec = _flatten(arg)
        if dim is None or isinstance(dim, int):
            dims.extend([dim] * len(leaves))
            continue
        dim_leaves, dim_spec = _flatten(dim)
        if dim_spec != spec:
            raise ValueError("vmap: an entry of in_dims that is a tree must have its "
                             "argument's structure")
        dims.extend(dim_leaves)
    return dims


def vmap(func: Callable[..., Any], in_dims: Any = 0, out_dims: Any = 0,
         randomness: str = "error") -> Callable[..., Any]:
    """f applied to each slice of the arguments along their `in_dims` (None: the whole
    argument each time), the results stacked along `out_dims`:
    vmap(f)(xs)[i] = f(xs[i]). Keyword arguments are passed whole, as in torch.

    Here a Python loop over the mapped dimension and `ad.stack`, not a batched kernel:
    the same numbers and gradients, at the speed of the loop. randomness="different"
    lets each slice draw its own random numbers, "same" gives every slice the draws of
    the first (the default generator is rewound before each), "error" raises when f
    drew from the default generator.

    >>> import autodiff as ad
    >>> ad.func.vmap(lambda row: row.sum())(ad.tensor([[1.0, 2.0], [3.0, 4.0]]))
    tensor([3., 7.])
    """
    _check_randomness(randomness, "vmap")

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        leaves, spec = _flatten(args)
        dims = _dims_per_leaf(in_dims, args)
        sizes = set()
        for leaf, dim in zip(leaves, dims):
            if dim is None:
                continue
            if not isinstance(leaf, Tensor):
                raise ValueError(f"vmap: an argument mapped over (in_dim {dim}) must be a "
                                 f"Tensor, got {type(leaf).__name__}; give it in_dim None")
            if leaf.ndim == 0 or not -leaf.ndim <= dim < leaf.ndim:
                raise ShapeError(f"vmap: in_dim {dim} is out of range for an argument of "
                                 f"shape {leaf.shape}")
            sizes.add(leaf.shape[dim])
        if not sizes:
            raise ValueError("vmap: at least one argument must be mapped over (a Tensor "
                             "with an in_dim that is not None)")
        if len(sizes) > 1:
            raise ShapeError(f"vmap: the mapped dimensions must have one size, got sizes "
                             f"{sorted(sizes)}")
        size = sizes.pop()
        start_state = random.default_generator.get_state()
        results = []
        for i in range(size):
            if randomness == "same":
                random.default_generator.set_state(start_state)
            sliced = [leaf if dim is None else leaf.select(dim, i)
                      for leaf, dim in zip(leaves, dims)]
            results.append(func(*_unflatten(spec, sliced), **kwargs))
            if randomness == "error" and \
                    random.default_generator.get_state() != start_state:
                raise BackwardError("vmap: f drew random numbers, which randomness='error' "
                                    "refuses; pass randomness='different' (each slice "
                                    "draws its own) or 'same' (every slice the same)")
        return _stack_results(results, out_dims)

    return wrapper


def _stack_results(results: list[Any], out_dims: Any) -> Any:
    """The per-slice results, each leaf stacked along its out_dim (None: the first
    slice's value, for a result that is the same in every slice)."""
    per_slice = [_flatten(r) for r in results]
    spec = per_slice[0][1]
    count = len(per_slice[0][0])
    dims = list(_flatten(out_dims)[0]) if isinstance(out_dims, (tuple, list)) \
        else [out_dims] * count
    if len(dims) != count:
        raise ValueError(f"vmap: out_dims has {len(dims)} entries but f returns {count} "
                         f"Tensors; give one per output")
    stacked = []
    for k, dim in enumerate(dims):
        column = [leaves[k] for leaves, _ in per_slice]
        if not all(isinstance(t, Tensor) for t in column):
            raise ValueError("vmap: f must return Tensors (or tuples, lists, dicts of "
                             "them)")
        stacked.append(column[0] if dim is None else stack(column, dim))
    return _unflatten(spec, stacked)
