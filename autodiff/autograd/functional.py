"""`ad.autograd.functional`: torch.autograd.functional's higher-level derivatives of a
function f, built from `ad.grad` alone (no derivative formula of their own).

    vjp(f, x, v)      vᵀ·J                     one backward pass
    jvp(f, x, v)      J·v                      the vjp of the vjp (see `jvp`)
    jacobian(f, x)    J[i, j] = ∂fᵢ/∂xⱼ        one vjp per output element (one-hot v)
    hessian(f, x)     H[i, j] = ∂²f/∂xᵢ∂xⱼ     the jacobian of the gradient
    vhp(f, x, v)      vᵀ·H                     the vjp of the gradient
    hvp(f, x, v)      H·v                      the jvp of the gradient

As in torch, `inputs` is a Tensor or a tuple of Tensors and f returns a Tensor or a
tuple of Tensors; each result is nested the way torch nests it (a tuple level where the
inputs or the outputs were a tuple). The inputs are differentiated through fresh copies,
so they need not require grad; results are detached unless `create_graph=True`, which
keeps them differentiable (also with respect to the caller's own inputs). An output
that does not depend on an input gets zeros, or an error with `strict=True`.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..backward import grad
from ..errors import BackwardError
from ..grad_mode import enable_grad
from ..ops.shape import stack
from ..tensor import Tensor

Nested = Any    # a Tensor, a tuple of Tensors, or a tuple of tuples of Tensors


def _as_tuple(value: Any, what: str, fn_name: str) -> tuple[bool, tuple[Tensor, ...]]:
    """(was it a tuple, its Tensors as a tuple); anything but a Tensor or a tuple of
    Tensors is refused by name."""
    is_tuple = isinstance(value, tuple)
    values = value if is_tuple else (value,)
    for i, item in enumerate(values):
        if not isinstance(item, Tensor):
            where = f"the value at index {i}" if is_tuple else f"the given {what}"
            raise TypeError(f"{fn_name}: {what} must be a Tensor or a tuple of Tensors, but "
                            f"{where} is a {type(item).__name__}; wrap numbers and arrays "
                            f"with ad.tensor(...)")
    return is_tuple, values


def _prepare(inputs: tuple[Tensor, ...], create_graph: bool) -> tuple[Tensor, ...]:
    """The tensors f is differentiated at: x itself through an identity op when the
    result must stay connected to the caller's graph, else a fresh leaf with x's numbers."""
    prepared = []
    for x in inputs:
        if create_graph and x.requires_grad:
            prepared.append(x.view_as(x))
        else:
            prepared.append(x.detach().requires_grad_(True))
    return tuple(prepared)


def _finish(values: tuple[Any, ...], create_graph: bool) -> tuple[Any, ...]:
    """The results handed back: detached unless create_graph (torch's rule)."""
    if create_graph:
        return values
    return tuple(v.detach() if isinstance(v, Tensor) else _finish(v, False) for v in values)


def _nest(values: tuple[Any, ...], is_tuple: bool) -> Any:
    """A tuple back as the user gave it: unwrapped when it was a single Tensor."""
    return values if is_tuple else values[0]


def _zeros(like: Tensor) -> Tensor:
    return Tensor._make(np.zeros(like.shape, like.dtype))


def _vector(v: Any, like: tuple[Tensor, ...], what: str, fn_name: str) -> tuple[Tensor, ...]:
    """The vector v of a product, nested as `like`; None only when `like` is one element."""
    if v is None:
        if len(like) != 1 or like[0].numel() != 1:
            raise BackwardError(f"{fn_name}: v can be left out only when the {what} is a "
                                f"single Tensor with one element; pass v with the {what}'s "
                                f"shape ({', '.join(str(t.shape) for t in like)})")
        return (Tensor._make(np.ones(like[0].shape, like[0].dtype)),)
    _, vs = _as_tuple(v, "v", fn_name)
    if len(vs) != len(like):
        raise BackwardError(f"{fn_name}: v has {len(vs)} Tensors but the {what} has "
                            f"{len(like)}; give one per {what} Tensor")
    for i, (vi, t) in enumerate(zip(vs, like)):
        if vi.shape != t.shape:
            raise BackwardError(f"{fn_name}: v[{i}] has shape {vi.shape} but {what} {i} has "
                                f"shape {t.shape}; they must match")
    return vs


def _independent(fn_name: str, output: int, input_: int) -> BackwardError:
    return BackwardError(f"{fn_name}: output {output} of the function does not depend on "
                         f"input {input_}, which strict=True refuses; pass strict=False to "
                         f"get zeros for it")


def _vjp(outputs: tuple[Tensor, ...], inputs: tuple[Tensor, ...], vs: tuple[Tensor, ...],
         create_graph: bool, strict: bool, fn_name: str) -> tuple[Tensor, ...]:
    """Σₖ vₖᵀ·∂outputₖ/∂inputs for each input, zeros where nothing depends on it."""
    pairs = [(y, v) for y, v in zip(outputs, vs) if y.requires_grad]
    if strict and len(pairs) < len(outputs):
        first = next(k for k, y in enumerate(outputs) if not y.requires_grad)
        raise _independent(fn_name, first, 0)
    if not pairs:
        return tuple(_zeros(x) for x in inputs)
    grads = grad([y for y, _ in pairs], list(inputs), [v for _, v in pairs],
                 retain_graph=True, create_graph=create_graph, allow_unused=True)
    if strict and any(g is None for g in grads):
        raise _independent(fn_name, 0, next(i for i, g in enumerate(grads) if g is None))
    return tuple(_zeros(x) if g is None else g for g, x in zip(grads, inputs))


def _outputs(func: Callable[..., Any], inputs: tuple[Tensor, ...],
             fn_name: str) -> tuple[bool, tuple[Tensor, ...]]:
    return _as_tuple(func(*inputs), "outputs of the function", fn_name)


def vjp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Nested, Nested]:
    """(func(inputs), vᵀ·J): the vector-Jacobian product, one backward pass with
    grad_outputs=v. v may be left out when func returns one element (v = 1).

    >>> import autodiff as ad
    >>> x = ad.tensor([1.0, 2.0])
    >>> ad.autograd.functional.vjp(lambda t: (t ** 2).sum(), x)   # 2x
    (tensor(5.), tensor([2., 4.]))
    """
    inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
    with enable_grad():
        inputs = _prepare(inputs, create_graph)
        outputs_tuple, outputs = _outputs(func, inputs, "vjp")
        vs = _vector(v, outputs, "output", "vjp")
        result = _vjp(outputs, inputs, vs, create_graph, strict, "vjp")
    return (_nest(_finish(outputs, create_graph), outputs_tuple),
            _nest(_finish(result, create_graph), inputs_tuple))


def _jvp(outputs: tuple[Tensor, ...], inputs: tuple[Tensor, ...], vs: tuple[Tensor, ...],
         create_graph: bool, strict: bool, fn_name: str) -> tuple[Tensor, ...]:
    """J·v as the vjp of a vjp: g(u) = uᵀ·J is linear in u, so ∂(g·v)/∂u = J·v."""
    us = tuple(_zeros(y).requires_grad_(True) for y in outputs)
    pairs = [(y, u) for y, u in zip(outputs, us) if y.requires_grad]
    if strict and len(pairs) < len(outputs):
        raise _independent(fn_name, next(k for k, y in enumerate(outputs)
                                         if not y.requires_grad), 0)
    if not pairs:
        return tuple(_zeros(y) for y in outputs)
    grads = grad([y for y, _ in pairs], list(inputs), [u for _, u in pairs],
                 retain_graph=True, create_graph=True, allow_unused=True)
    if strict and any(g is None for g in grads):
        raise _independent(fn_name, 0, next(i for i, g in enumerate(grads) if g is None))
    live = [(g, v) for g, v in zip(grads, vs) if g is not None and g.requires_grad]
    if not live:
        return tuple(_zeros(y) for y in outputs)
    products = grad([g for g, _ in live], list(us), [v for _, v in live],
                    retain_graph=True, create_graph=create_graph, allow_unused=True)
    return tuple(_zeros(y) if p is None else p for p, y in zip(products, outputs))


def jvp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Nested, Nested]:
    """(func(inputs), J·v): the Jacobian-vector product, computed as the vjp of the vjp
    (uᵀ·J is linear in u, so its vjp with v is J·v). v may be left out when the input
    is one element.

    >>> import autodiff as ad
    >>> x = ad.tensor([1.0, 2.0])
    >>> ad.autograd.functional.jvp(lambda t: t ** 2, x, ad.tensor([1.0, 0.0]))[1]
    tensor([2., 0.])
    """
    _, inputs = _as_tuple(inputs, "inputs", "jvp")
    with enable_grad():
        inputs = _prepare(inputs, create_graph)
        vs = _vector(v, inputs, "input", "jvp")
        outputs_tuple, outputs = _outputs(func, inputs, "jvp")
        result = _jvp(outputs, inputs, vs, create_graph, strict, "jvp")
    return (_nest(_finish(outputs, create_graph), outputs_tuple),
            _nest(_finish(result, create_graph), outputs_tuple))


def _check_strategy(strategy: str, fn_name: str) -> None:
    if strategy == "forward-mode":
        raise NotImplementedError(f"{fn_name}: strategy 'forward-mode' needs forward-mode "
                                  f"autodiff, which autodiff does not have; use the default "
                                  f"'reverse-mode' (same numbers)")
    if strategy != "reverse-mode":
        raise ValueError(f"{fn_name}: strategy must be 'reverse-mode' or 'forward-mode', "
                         f"not {strategy!r}")


def _jacobian_rows(outputs: tuple[Tensor, ...], inputs: tuple[Tensor, ...], create_graph: bool,
                   strict: bool, fn_name: str) -> tuple[tuple[Tensor, ...], ...]:
    """J[k][i] of shape outputₖ.shape + inputᵢ.shape: row j is the vjp with the one-hot eⱼ."""
    jacobians = []
    for k, y in enumerate(outputs):
        if not y.requires_grad:
            if strict:
                raise _independent(fn_name, k, 0)
            jacobians.append(tuple(Tensor._make(np.zeros(y.shape + x.shape, x.dtype))
                                   for x in inputs))
            continue
        rows: list[list[Tensor]] = [[] for _ in inputs]
        for j in range(y.numel()):
            one_hot = np.zeros(y.numel(), y.dtype)
            one_hot[j] = 1
            grads = grad(y, list(inputs), Tensor._make(one_hot.reshape(y.shape)),
                         retain_graph=True, create_graph=create_graph, allow_unused=True)
            for i, (g, x) in enumerate(zip(grads, inputs)):
                if g is None and strict:
                    raise _independent(fn_name, k, i)
                rows[i].append(_zeros(x) if g is None else g)
        jacobians.append(tuple(
            stack(r).reshape(y.shape + x.shape) if r
            else Tensor._make(np.zeros(y.shape + x.shape, x.dtype))
            for r, x in zip(rows, inputs)))
    return tuple(jacobians)


def _unpack_jacobian(jacobians: tuple[tuple[Tensor, ...], ...], outputs_tuple: bool,
                     inputs_tuple: bool) -> Nested:
    """torch's nesting: [output][input], each level only where a tuple was given."""
    if outputs_tuple:
        return tuple(_nest(row, inputs_tuple) for row in jacobians)
    return _nest(jacobians[0], inputs_tuple)


def jacobian(func: Callable[..., Any], inputs: Any, create_graph: bool = False,
             strict: bool = False, vectorize: bool = False,
             strategy: str = "reverse-mode") -> Nested:
    """The Jacobian J[i, j] = ∂fᵢ/∂xⱼ, of shape output.shape + input.shape, one vjp per
    output element (vectorize=True gives the same numbers the same way).

    >>> import autodiff as ad
    >>> ad.autograd.functional.jacobian(lambda t: t ** 2, ad.tensor([1.0, 3.0]))
    tensor([[2., 0.],
            [0., 6.]])
    """
    _check_strategy(strategy, "jacobian")
    inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
    with enable_grad():
        inputs = _prepare(inputs, create_graph)
        outputs_tuple, outputs = _outputs(func, inputs, "jacobian")
        jacobians = _jacobian_rows(outputs, inputs, create_graph, strict, "jacobian")
    return _unpack_jacobian(tuple(_finish(row, create_graph) for row in jacobians),
                            outputs_tuple, inputs_tuple)


def _gradient(func: Callable[..., Any], inputs: tuple[Tensor, ...], strict: bool,
              fn_name: str) -> tuple[Tensor, tuple[Tensor, ...]]:
    """(f(inputs), ∇f), kept differentiable (create_graph) for a second derivative; f
    must return a single one-element Tensor."""
    output = func(*inputs)
    _, outputs = _as_tuple(output, "outputs of the function", fn_name)
    if isinstance(output, tuple) or output.numel() != 1:
        got = "a tuple" if isinstance(output, tuple) else f"shape {output.shape}"
        raise BackwardError(f"{fn_name}: the function must return a single Tensor with one "
                            f"element, not {got}; reduce it first (e.g. .sum())")
    seed = (Tensor._make(np.ones(output.shape, output.dtype)),)
    return output, _vjp(outputs, inputs, seed, True, strict, fn_name)


def hessian(func: Callable[..., Any], inputs: Any, create_graph: bool = False,
            strict: bool = False, vectorize: bool = False,
            outer_jacobian_strategy: str = "reverse-mode") -> Nested:
    """The Hessian H[i, j] = ∂²f/∂xᵢ∂xⱼ of a function with one output element: the
    Jacobian of its gradient, of shape input.shape + input.shape (for tuple inputs a
    tuple of tuples, H[i][j] = ∂²f/∂inputᵢ∂inputⱼ). vectorize=True gives the same
    numbers the same way.

    >>> import autodiff as ad
    >>> ad.autograd.functional.hessian(lambda t: (t ** 3).sum(), ad.tensor([1.0, 2.0]))
    tensor([[ 6.,  0.],
            [ 0., 12.]])
    """
    _check_strategy(outer_jacobian_strategy, "hessian")
    inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")
    with enable_grad():
        inputs = _prepare(inputs, create_graph)
        _, gradients = _gradient(func, inputs, strict, "hessian")
        jacobians = _jacobian_rows(gradients, inputs, create_graph, strict, "hessian")
    return _unpack_jacobian(tuple(_finish(row, create_graph) for row in jacobians),
                            inputs_tuple, inputs_tuple)


def vhp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Tensor, Nested]:
    """(f(inputs), vᵀ·H): the vjp of the gradient ∇f with v.

    >>> import autodiff as ad
    >>> x = ad.tensor([1.0, 2.0])
    >>> ad.autograd.functional.vhp(lambda t: (t ** 3).sum(), x, ad.tensor([1.0, 1.0]))
    (tensor(9.), tensor([ 6., 12.]))
    """
    return _hessian_product(func, inputs, v, create_graph, strict, "vhp", _vjp)


def hvp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Tensor, Nested]:
    """(f(inputs), H·v): the jvp of the gradient ∇f with v (the vjp of its vjp). Equal
    to `vhp` when H is symmetric, as it is for twice continuously differentiable f.

    >>> import autodiff as ad
    >>> x = ad.tensor([1.0, 2.0])
    >>> ad.autograd.functional.hvp(lambda t: (t ** 3).sum(), x, ad.tensor([1.0, 0.0]))
    (tensor(9.), tensor([6., 0.]))
    """
    return _hessian_product(func, inputs, v, create_graph, strict, "hvp", _jvp)


def _hessian_product(func: Callable[..., Any], inputs: Any, v: Any, create_graph: bool,
                     strict: bool, name: str, product: Callable[..., Any]
                     ) -> tuple[Tensor, Nested]:
    """(f(inputs), the product of the gradient ∇f with v): vᵀ·H when `product` is `_vjp`
    (vhp), H·v when it is `_jvp` (hvp)."""
    inputs_tuple, inputs = _as_tuple(inputs, "inputs", name)
    with enable_grad():
        inputs = _prepare(inputs, create_graph)
        vs = _vector(v, inputs, "input", name)
        output, gradients = _gradient(func, inputs, strict, name)
        result = product(gradients, inputs, vs, create_graph, strict, name)
    return (_finish((output,), create_graph)[0],
            _nest(_finish(result, create_graph), inputs_tuple))
