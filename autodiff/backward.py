"""Reverse-mode differentiation: walk the graph from the outputs back to the leaves.

1. Sort the tensors made by ops that lead to the outputs topologically, iteratively (an
   explicit stack, so a chain of a million ops needs no recursion). The same walk, with
   the leaves, is what `viz` draws.
2. Visit them outputs-first. When a tensor is reached, every op that used it has already
   sent its contribution, so its gradient dL/dt is complete: run its hooks, store it if
   it retains grad, and pass it to the op that made it, whose `backward` returns
   dL/dinput for each input (the chain rule). Contributions to the same input are
   summed, after summing away broadcast dimensions (`unbroadcast`).
3. Then every leaf's gradient is complete: run its hooks and add it to its .grad.

With create_graph=False the gradients are plain ndarrays and nothing is recorded.
With create_graph=True they are tensors and the backward formulas are recorded as ops
themselves, so the result can be differentiated again.
"""
from __future__ import annotations

import gc
import threading
from collections.abc import Iterator, Sequence
from sys import getrefcount
from typing import Any, Protocol

import numpy as np

from . import events, grad_mode, versions
from .errors import BackwardError, InPlaceError, ShapeError
from .function import FREED, check_finite
from .ops.array_or_tensor import astype
from .tensor import Tensor, array_of, register_methods
from .versions import check_kept, check_saved, graph_input

ACCUMULATING = threading.Lock()     # held while a gradient is added into a leaf's .grad


def unbroadcast(grad: Any, shape: tuple[int, ...]) -> Any:
    """Sum `grad` down to `shape`, undoing numpy broadcasting: dL/dx = Σ over the copies."""
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        i + extra for i, n in enumerate(shape) if n == 1 and grad.shape[i + extra] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    if extra:
        grad = grad.reshape(shape)
    return grad


def topological_order(roots: Sequence[Tensor], leaves: bool = False) -> list[Tensor]:
    """The tensors that lead to `roots`, each before every op that uses it (inputs first,
    roots last). With leaves=False, only the tensors made by ops: what backward visits,
    in reverse. With leaves=True, the leaves too (parameters, inputs, constant tensors):
    what a drawing shows. An explicit stack, never recursion: any depth works."""
    order: list[Tensor] = []
    visited: set[Tensor] = set()
    stack: list[tuple[Tensor, bool]] = [(t, False) for t in reversed(roots)
                                        if leaves or t.grad_fn is not None]
    last_change = versions.last_change
    while stack:
        tensor, inputs_done = stack.pop()
        if inputs_done:
            order.append(tensor)
            continue
        if tensor in visited:
            continue
        visited.add(tensor)
        stack.append((tensor, True))
        node = tensor.grad_fn
        if node is not None:
            changed_since = last_change > node.seq      # in place, after the node was made
            for x in reversed(node.inputs):
                if isinstance(x, Tensor):
                    if changed_since:
                        x = graph_input(node, x)
                    if x not in visited and (leaves or x.grad_fn is not None):
                        stack.append((x, False))
    return order


def _backward_order(roots: Sequence[Tensor], grads: dict[Tensor, Any]) -> Iterator[Tensor]:
    """The tensors made by ops, outputs first; then the leaves that received a gradient.
    A leaf needs no place in the sort: once every op has run, its gradient is complete."""
    yield from reversed(topological_order(roots))
    yield from list(grads)


def seed_gradient(output: Tensor, gradient: Any, create_graph: bool) -> Any:
    """dL/doutput to start backward from: ones for a one-element output, else the given
    `gradient` (checked to have the output's shape)."""
    if gradient is None:
        if output._data.size != 1:
            raise BackwardError(
                f"backward: the output has shape {output.shape}; gradients can be implied "
                f"only for one-element outputs. Reduce it first (e.g. y.sum()) or pass "
                f"gradient=dL/dy of shape {output.shape}")
        ones = np.ones(output.shape, output.dtype)
        return Tensor._make(ones) if create_graph else ones
    array = np.asarray(array_of(gradient))
    if array.shape != output.shape:
        raise ShapeError(f"backward: gradient has shape {array.shape} but the output has "
                         f"shape {output.shape}; they must match")
    array = np.array(array, dtype=output.dtype)   # a copy: .grad may take it over
    if create_graph:
        return gradient if isinstance(gradient, Tensor) and gradient.dtype == output.dtype \
            else Tensor._make(array)
    return array


def _saved_as_tensors(node: Any, output: Tensor) -> tuple[Tensor, ...]:
    """For create_graph: the node's saved arrays as the tensors they belong to."""
    resolved = []
    for value in node.saved_tensors:
        if value is None or type(value) in (bool, int, float):     # nothing, or a number
            resolved.append(value)
            continue
        if value is output._data:
            resolved.append(output)
            continue
        for x in node.inputs:
            if isinstance(x, Tensor) and x._data is value:
                resolved.append(x)
                break
            if value is x:              # a number or array passed as a constant input
                resolved.append(x)
                break
        else:
            resolved.append(_written_output(node, value, output))
    return tuple(resolved)


def _written_output(node: Any, value: Any, output: Tensor) -> Tensor:
    """The output an in-place op saved (a private array, written into the changed tensor
    `output`): `output` itself, while it still holds that value."""
    array = getattr(node, "written_into", None)
    if value is not array:
        raise BackwardError(
                f"{node.op_name()}: backward(create_graph=True) needs the saved values as "
                f"tensors, but one saved array is neither an input nor the output; save "
                f"constants as ctx attributes instead of with save_for_backward")
    if not np.array_equal(output._data, array, equal_nan=True):
        raise InPlaceError(
            f"{node.op_name()}: backward(create_graph=True) through this in-place op needs "
            f"the value it wrote, but the tensor was changed in place since, outside the "
            f"graph; change a clone instead")
    return output


class Observer(Protocol):
    """Watches a backward pass (`trace_backward`, `ad.compile`'s tracer): told of each
    tensor as its gradient is complete, of what each node's backward returned (a tuple
    or one gradient), and of each gradient a node sends to an input."""

    def reached(self, tensor: Tensor, grad: Any) -> None: ...

    def returned(self, node: Any, input_grads: Any) -> None: ...

    def sent(self, node: Any, position: int, raw: Any, summed: Any) -> None: ...


def run_backward(roots: Sequence[Tensor], root_grads: Sequence[Any], retain_graph: bool,
                 create_graph: bool, capture: dict[Tensor, Any] | None = None,
                 observer: Observer | None = None) -> None:
    """The backward pass. Leaves' .grad accumulate, unless `capture` is given: then the
    gradients of its keys are stored into it and no .grad is touched (`grad()`). An
    `observer` sees the walk as it goes; with one, tensor hooks do not run."""
    grads: dict[Tensor, Any] = {}
    for root, g in zip(roots, root_grads):
        grads[root] = grads[root] + g if root in grads else g
    previous_mode = grad_mode.state.grad_enabled
    grad_mode.state.grad_enabled = create_graph
    anomaly = grad_mode.state.detect_anomaly
    collecting = gc.isenabled()
    gc.disable()        # the pass makes no reference cycles; scanning the graph is pure cost
    try:
        for tensor in _backward_order(roots, grads):
            grad = grads.pop(tensor, None)
            if grad is None:
                continue
            if tensor._hooks and observer is None:
                grad = _run_hooks(tensor, grad, create_graph)
            if observer is not None:
                observer.reached(tensor, grad)
            node = tensor.grad_fn
            if capture is not None:
                if tensor in capture:
                    capture[tensor] = grad
                if node is None:
                    continue
            elif node is None or tensor._retains_grad:
                with ACCUMULATING:
                    accumulate_grad(tensor, grad, create_graph)
                if node is None:
                    continue
            _propagate(node, tensor, grad, grads, retain_graph, create_graph, anomaly, observer)
    finally:
        grad_mode.state.grad_enabled = previous_mode
        if collecting:
            gc.enable()


def _propagate(node: Any, output: Tensor, grad: Any, grads: dict[Tensor, Any],
               retain_graph: bool, create_graph: bool, anomaly: bool,
               observer: Observer | None = None) -> None:
    """Apply the chain rule at one node and send dL/dinput to each input."""
    saved = node.saved_tensors
    if saved is FREED:
        raise BackwardError(
            f"{node.op_name()}: trying to backward through the graph a second time, but "
            f"its saved values were freed by the first backward(); pass "
            f"retain_graph=True to the first backward() (or grad()) to keep them")
    changed_since = versions.last_change > node.seq     # anything changed in place since?
    if changed_since:
        if saved or node.kept_inputs:
            seen = node.saved_versions
            i = 0
            for x in node.inputs:
                if isinstance(x, Tensor):
                    shared = x._version_counter
                    if shared is not None and shared[0] != seen[i]:
                        check_saved(node, saved)
                    i += 1
            shared = node.output_counter
            if shared is not None and shared[0] != seen[-1]:
                check_saved(node, saved)
        if node.kept_tensors:
            check_kept(node)
    if create_graph and saved:
        node.saved_tensors = _saved_as_tensors(node, output)
    try:
        input_grads = type(node).backward(node, grad)
    finally:
        # free the arrays (not numbers or None: those cost nothing and stay usable)
        node.saved_tensors = FREED if not retain_graph and _holds_arrays(saved) else saved
    if observer is not None:
        observer.returned(node, input_grads)
    if not isinstance(input_grads, tuple):
        input_grads = (input_grads,)
    for position, (x, g) in enumerate(zip(node.inputs, input_grads)):
        if g is None or not isinstance(x, Tensor):
            continue
        if changed_since:
            x = graph_input(node, x)
        if not x._requires_grad:
            continue
        if not create_graph and type(g) is not np.ndarray:
            g = np.asarray(g)                    # numpy gives scalars for 0-d results
        if anomaly:
            check_finite(g, type(node), "backward", node.site)
        data = x._data
        raw = g
        if g.shape != data.shape:
            _check_broadcasts(node, x, g)
        g = to_input(g, data.shape, data.dtype)
        if observer is not None:
            observer.sent(node, position, raw, g)
        grads[x] = add_gradients(grads[x], g) if x in grads else g


def to_input(grad: Any, shape: tuple[int, ...], dtype: np.dtype) -> Any:
    """One op's gradient for an input, made the input's: summed over the dimensions that
    broadcasting added (dL/dx = Σ over the copies), cast to the input's dtype."""
    if grad.shape != shape:
        grad = unbroadcast(grad, shape)
    if grad.dtype is not dtype and grad.dtype != dtype:    # `is`: the common case
        grad = astype(grad, dtype)
    return grad


def add_gradients(total: Any, grad: Any) -> Any:
    """dL/dx = Σ over the ops that use x: the gradient so far plus one more contribution,
    kept an ndarray (numpy gives the sum of two 0-d arrays as a scalar)."""
    total = total + grad
    return np.asarray(total) if isinstance(total, np.generic) else total


def _holds_arrays(saved: tuple[Any, ...]) -> bool:
    """True when a node saved an array; a node that saved only numbers (x * 2) or
    nothing can be backpropagated again without retain_graph."""
    for value in saved:
        if type(value) is np.ndarray:
            return True
    return False


def _check_broadcasts(node: Any, x: Tensor, grad: Any) -> None:
    """A backward's gradient for input x must have x's shape or one x broadcasts to; any
    other shape is a bug in that backward, and is named."""
    shape = x._data.shape
    if len(grad.shape) < len(shape) or any(n != m and n != 1 for n, m in
                                           zip(shape[::-1], grad.shape[::-1])):
        position = next(i for i, v in enumerate(node.inputs)
                        if isinstance(v, Tensor) and graph_input(node, v) is x)
        raise BackwardError(
            f"{node.op_name()}: backward returned a gradient of shape {tuple(grad.shape)} "
            f"for input {position} of shape {shape}; it must have the input's shape (or a "
            f"shape the input broadcasts to, which is summed back)")


def _run_hooks(tensor: Tensor, grad: Any, create_graph: bool) -> Any:
    for hook in list(tensor._hooks):
        result = hook(grad if create_graph else Tensor._make(grad))
        if result is not None:
            result_data = np.asarray(array_of(result))
            if result_data.shape != tensor.shape:
                raise ShapeError(f"hook: returned a gradient of shape {result_data.shape} "
                                 f"for a tensor of shape {tensor.shape}")
            grad = result if create_graph else result_data
    return grad


def accumulate_grad(tensor: Tensor, grad: Any, create_graph: bool = False) -> None:
    """tensor.grad += grad (in place when nothing else can see the array). Callers hold
    the lock ACCUMULATING, as torch locks a leaf's accumulation: backward passes running
    in several threads into the same leaf would otherwise lose each other's additions (a
    replay takes it once for the leaves it accumulates in a row)."""
    current = tensor._grad
    if create_graph:
        # a new tensor either way: `grad` may be shared with other leaves or the caller's
        tensor._grad = grad * 1 if current is None else current + grad
    elif current is None:
        # no copy when only the backward pass holds `grad` (not a view, not shared): the
        # references are the caller's, this call's and getrefcount's
        if getrefcount(grad) > 3 or grad.base is not None or not grad.flags.writeable:
            grad = grad.copy()
        tensor._grad = Tensor._make(grad)
    elif current.grad_fn is None and current._data.flags.writeable:
        np.add(current._data, grad, out=current._data)
    else:
        tensor._grad = Tensor._make(current._data + grad)


def backward(output: Tensor, gradient: Any = None, retain_graph: bool | None = None,
             create_graph: bool = False, inputs: Tensor | Sequence[Tensor] | None = None,
             ) -> None:
    """`output.backward(...)`: accumulate d(output)/d(leaf) · gradient into each leaf;
    with `inputs`, into those tensors' .grad only (leaves or not), as torch's."""
    if not output._requires_grad:
        raise BackwardError(
            "backward: this tensor does not require grad, so there is nothing to "
            "differentiate; make an input with requires_grad=True (and do not compute "
            "the output under no_grad)")
    if retain_graph is None:
        retain_graph = create_graph
    seed = seed_gradient(output, gradient, create_graph)
    if inputs is not None:
        _backward_into(output, seed, retain_graph, create_graph, inputs)
        return
    observer = events.backward_run(output, gradient, create_graph)
    run_backward([output], [seed], retain_graph, create_graph, observer=observer)
    events.backward_done()


def _backward_into(output: Tensor, seed: Any, retain_graph: bool, create_graph: bool,
                   inputs: Tensor | Sequence[Tensor]) -> None:
    """backward(inputs=...): dL/dx added to x.grad for each x of `inputs`, and to no
    other tensor's (an input the output does not depend on keeps its .grad)."""
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if not inputs:
        raise BackwardError("backward: `inputs` cannot be empty; leave it out to "
                            "accumulate into every leaf")
    for i, x in enumerate(inputs):
        if not x._requires_grad:
            raise BackwardError(f"backward: inputs[{i}] (shape {x.shape}) does not require "
                                f"grad; only tensors with requires_grad=True get a .grad")
    events.unsupported("calls backward(inputs=...)")
    capture: dict[Tensor, Any] = {x: None for x in inputs}
    run_backward([output], [seed], retain_graph, create_graph, capture)
    for x, g in capture.items():
        if g is not None:
            with ACCUMULATING:
                accumulate_grad(x, g, create_graph)


def grad(outputs: Tensor | Sequence[Tensor], inputs: Tensor | Sequence[Tensor],
         grad_outputs: Any = None, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: bool = False) -> tuple[Tensor | None, ...]:
    """d(outputs)/d(inputs) · grad_outputs, returned as a tuple; no .grad is touched.

    >>> import autodiff as ad
    >>> x = ad.tensor(3.0, requires_grad=True)
    >>> dy, = ad.grad(x ** 3, [x], create_graph=True)   # 3x² = 27
    >>> d2y, = ad.grad(dy, [x])                          # 6x = 18
    >>> dy.item(), d2y.item()
    (27.0, 18.0)
    """
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs] * len(outputs)
    for i, x in enumerate(inputs):
        if not x._requires_grad:
            raise BackwardError(f"grad: input {i} does not require grad; only tensors "
                                f"with requires_grad=True can be differentiated against")
    for i, y in enumerate(outputs):
        if not y._requires_grad:
            raise BackwardError(f"grad: output {i} does not require grad (it does not "
                                f"depend on any input that requires grad)")
    if retain_graph is None:
        retain_graph = create_graph
    events.unsupported("calls ad.grad (use loss.backward() in a compiled function)")
    seeds = [seed_gradient(y, g, create_graph) for y, g in zip(outputs, grad_outputs)]
    capture: dict[Tensor, Any] = {x: None for x in inputs}
    run_backward(outputs, seeds, retain_graph, create_graph, capture)
    results: list[Tensor | None] = []
    for i, x in enumerate(inputs):
        g = capture[x]
        if g is None:
            if not allow_unused:
                raise BackwardError(f"grad: input {i} was not used to compute the outputs; "
                                    f"pass allow_unused=True to get None for it")
            results.append(None)
        else:
            results.append(g if isinstance(g, Tensor) else Tensor._make(g))
    return tuple(results)


def _backward(self: Tensor, gradient: Any = None, retain_graph: bool | None = None,
              create_graph: bool = False,
              inputs: Tensor | Sequence[Tensor] | None = None) -> None:
    """Accumulate dself/dleaf into every leaf's .grad (the chain rule, applied in reverse
    topological order), or only into the .grad of `inputs` when given. `gradient` is
    dL/dself; it may be omitted for a one-element tensor. See
    `autodiff.backward.backward`."""
    backward(self, gradient, retain_graph, create_graph, inputs)


register_methods({"backward": _backward})
