"""Checking gradients against finite differences.

`gradcheck(fn, inputs)` compares the Jacobian that backward computes with the one
central differences give, (f(x + ε) - f(x - ε)) / 2ε, element by element.
`gradgradcheck` does the same for the gradient itself (second order).
`gradcheck_graph(output)` re-checks every node of an already-built graph, op by op,
and names the first op whose backward is wrong.
"""
from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import numpy as np

from . import grad_mode, random
from .backward import grad as autograd_grad
from .backward import topological_order, unbroadcast
from .errors import BackwardError, GradcheckError
from .tensor import Tensor, array_of

T = TypeVar("T")


def _as_tuple(x: Any) -> tuple[Any, ...]:
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _outputs(fn: Callable[..., Any], inputs: Sequence[Any]) -> tuple[Tensor, ...]:
    return tuple(y for y in _as_tuple(fn(*inputs)) if isinstance(y, Tensor))


def _central_differences(data: np.ndarray, eps: float,
                         evaluate: Callable[[], T]) -> Iterator[tuple[T, T]]:
    """For each element of `data` in C order, (evaluate() at element + eps, evaluate()
    at element - eps). The element is perturbed in `data` itself, so any layout works
    (Fortran order, transposed or strided views), and it is restored bit for bit before
    the next one, or before an exception from `evaluate` propagates."""
    for index in np.ndindex(data.shape):
        original = data[index]                  # a numpy scalar: a copy of the bits
        try:
            data[index] = original.item() + eps
            plus = evaluate()
            data[index] = original.item() - eps
            minus = evaluate()
        finally:
            data[index] = original
        yield plus, minus


def _numerical_jacobians(fn: Callable[..., Any], inputs: Sequence[Any], x: Tensor,
                         eps: float) -> list[np.ndarray]:
    """For each output y: J[j, i] = dy_j / dx_i by central differences (x flattened in
    C order, as the analytical Jacobian is).

    `fn` runs exactly as for the analytical Jacobian, graph recording included: a
    function that registers hooks, retains gradients or differentiates inside (as
    gradgradcheck's does) needs its tensors to require grad, so running it under
    no_grad would make it fail instead of being checked."""
    def evaluate() -> list[np.ndarray]:
        return [y._data.astype(np.float64).reshape(-1) for y in _outputs(fn, inputs)]

    sizes = [y.numel() for y in _outputs(fn, inputs)]
    columns: list[list[np.ndarray]] = [[] for _ in sizes]
    for plus, minus in _central_differences(x._data, eps, evaluate):
        for k in range(len(sizes)):
            columns[k].append((plus[k] - minus[k]) / (2 * eps))
    return [np.stack(cols, axis=1) if cols else np.zeros((n, 0))
            for cols, n in zip(columns, sizes)]


def _analytical_jacobians(fn: Callable[..., Any], inputs: Sequence[Any],
                          checked: Sequence[Tensor]) -> list[list[np.ndarray]]:
    """J[k][m][j, i] = d output_k[j] / d checked_m[i], one backward per output element."""
    outputs = _outputs(fn, inputs)
    jacobians = [[np.zeros((y.numel(), x.numel())) for x in checked] for y in outputs]
    for k, y in enumerate(outputs):
        if not y.requires_grad:
            continue
        for j in range(y.numel()):
            seed = np.zeros(y.numel(), dtype=y.dtype)
            seed[j] = 1
            grads = autograd_grad(y, checked, Tensor._make(seed.reshape(y.shape)),
                                  retain_graph=True, allow_unused=True)
            for m, g in enumerate(grads):
                if g is not None:
                    jacobians[k][m][j] = g._data.reshape(-1)
    return jacobians


def gradcheck(fn: Callable[..., Any], inputs: Any, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3, raise_exception: bool = True) -> bool:
    """True when backward agrees with central finite differences for every input that
    requires grad and every output: |analytical - numerical| <= atol + rtol·|numerical|.

    On a mismatch raises GradcheckError naming the output, the input, the worst
    element, both values and the tolerance (or returns False if raise_exception=False);
    likewise when backward fails on a gradient of the wrong shape. `fn` runs with graph
    recording for the finite differences too, so functions that register hooks, retain
    gradients or differentiate inside get a verdict like any other.

    >>> import autodiff as ad, numpy as np
    >>> x = ad.tensor(np.array([0.5, -1.0]), requires_grad=True)
    >>> ad.gradcheck(lambda t: (t * t.sigmoid()).sum(), (x,))
    True
    """
    inputs = _as_tuple(inputs)
    checked = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    if any(x.dtype != np.float64 for x in checked):
        warnings.warn("gradcheck: inputs are not float64, so finite differences are "
                      "inaccurate; make them with dtype=ad.float64", stacklevel=2)
    try:
        analytical = _analytical_jacobians(fn, inputs, checked)
    except BackwardError as error:       # e.g. a backward returned a gradient of the wrong shape
        if raise_exception:
            raise GradcheckError(f"backward failed, so no analytical Jacobian: {error}") \
                from error
        return False
    for m, x in enumerate(checked):
        numerical = _numerical_jacobians(fn, inputs, x, eps)
        for k, num in enumerate(numerical):
            problem = _worst_mismatch(analytical[k][m], num, atol, rtol)
            if problem is None:
                continue
            out_shape = _outputs(fn, inputs)[k].shape
            position = next(i for i, v in enumerate(inputs) if v is x)
            message = _mismatch_message(problem, k, position, out_shape, x.shape, atol, rtol)
            if raise_exception:
                raise GradcheckError(message)
            return False
    return True


def _worst_mismatch(analytical: np.ndarray, numerical: np.ndarray, atol: float,
                    rtol: float) -> tuple[int, int, float, float] | None:
    excess = np.abs(analytical - numerical) - (atol + rtol * np.abs(numerical))
    excess = np.where(np.isnan(excess), np.inf, excess)
    if excess.size == 0 or excess.max() <= 0:
        return None
    j, i = np.unravel_index(int(np.argmax(excess)), excess.shape)
    return int(j), int(i), float(analytical[j, i]), float(numerical[j, i])


def _mismatch_message(problem: tuple[int, int, float, float], output_index: int,
                      input_index: int, out_shape: tuple[int, ...],
                      in_shape: tuple[int, ...], atol: float, rtol: float) -> str:
    j, i, a, n = problem
    out_at = np.unravel_index(j, out_shape) if out_shape else ()
    in_at = np.unravel_index(i, in_shape) if in_shape else ()
    tolerance = atol + rtol * abs(n)
    return (f"Jacobian mismatch for output {output_index} with respect to input "
            f"{input_index}: worst at d output{list(map(int, out_at))} / "
            f"d input{list(map(int, in_at))}: analytical {a:.10g}, numerical {n:.10g}, "
            f"difference {abs(a - n):.3g} > tolerance {tolerance:.3g} "
            f"(atol {atol:g} + rtol {rtol:g} * |numerical|)")


def gradgradcheck(fn: Callable[..., Any], inputs: Any, grad_outputs: Any = None,
                  eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
                  raise_exception: bool = True) -> bool:
    """gradcheck of the gradient: checks that backward(create_graph=True) is itself
    differentiated correctly, i.e. second derivatives agree with finite differences of
    first derivatives. `grad_outputs` (random float64 when None) are checked too."""
    inputs = _as_tuple(inputs)
    outputs = _outputs(fn, inputs)
    if grad_outputs is None:
        grad_outputs = [Tensor(random.generator().standard_normal(y.shape), requires_grad=True)
                        for y in outputs]
    grad_outputs = list(_as_tuple(grad_outputs))

    def first_derivatives(*args: Any) -> tuple[Tensor, ...]:
        xs, vs = args[:len(inputs)], args[len(inputs):]
        pairs = [(y, v) for y, v in zip(_outputs(fn, xs), vs) if y.requires_grad]
        live = [x for x in xs if isinstance(x, Tensor) and x.requires_grad]
        if not pairs:
            return ()
        grads = autograd_grad([y for y, _ in pairs], live, [v for _, v in pairs],
                              create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_derivatives, (*inputs, *grad_outputs), eps, atol, rtol,
                     raise_exception)


def gradcheck_graph(output: Tensor, eps: float = 1e-6, atol: float = 1e-5,
                    rtol: float = 1e-3) -> int:
    """Re-check every op of the graph that made `output`, one node at a time: run the
    node's forward again on its recorded inputs (in float64), and compare its backward,
    for a random dL/dy, with central differences of ⟨dL/dy, forward(x)⟩. Returns how
    many ops were checked; raises GradcheckError naming the first wrong op and the line
    of user code that created it.
    """
    checked = 0
    for tensor in topological_order([output]):
        node = tensor.grad_fn
        problem = _check_node(node, eps, atol, rtol)
        checked += 1
        if problem is not None:
            site = f" (created at {node.site[0]}:{node.site[1]})" if node.site else ""
            raise GradcheckError(f"{node.op_name()}{site}: backward disagrees with finite "
                                 f"differences; {problem}")
    return checked


def _check_node(node: Any, eps: float, atol: float, rtol: float) -> str | None:
    op = type(node)
    args = [x._data.astype(np.float64) if isinstance(x, Tensor)
            and np.issubdtype(x.dtype, np.floating) else array_of(x) for x in node.inputs]

    def run(values: list[Any]) -> tuple[Any, np.ndarray]:
        ctx = op.context(node.inputs, node.options, node.needs_input_grad)
        return ctx, np.asarray(op.forward(ctx, *values, **node.options), dtype=np.float64)

    with grad_mode.no_grad():
        ctx, y = run(args)
        upstream = random.generator().standard_normal(y.shape)
        grads = op.backward(ctx, upstream)
        grads = grads if isinstance(grads, tuple) else (grads,)
        for index, (x, g) in enumerate(zip(node.inputs, grads)):
            if not (isinstance(x, Tensor) and x.requires_grad) or g is None:
                continue
            analytical = np.asarray(unbroadcast(np.asarray(g), x.shape)).reshape(-1)
            differences = _central_differences(
                args[index], eps, lambda: (upstream * run(args)[1]).sum())
            numerical = np.array([(plus - minus) / (2 * eps) for plus, minus in differences])
            worst = _worst_mismatch(analytical[:, None], numerical[:, None], atol, rtol)
            if worst is not None:
                at = np.unravel_index(worst[0], x.shape) if x.shape else ()
                return (f"input {index}, element {list(map(int, at))}: analytical "
                        f"{worst[2]:.10g}, numerical {worst[3]:.10g}")
    return None

