"""Events: what the engine tells a watcher while it runs, so that `ad.compile` (autodiff.jit)
can write a step down without any other module knowing about it.

A watcher is installed per thread (`watching`) and told, through the functions below,
of these events; no other module checks for a watcher itself:

    op_applied       Function.apply ran an op                          function.py
    tensor_created   a tensor was made from data (ad.tensor, zeros)     tensor.py, creation.py
    random_draw      a random tensor was drawn (randn, dropout's mask)  creation.py (nn
                                                                       draws through it)
    library_call     a method with side effects ran (optimizer.step,    random.py, nn, optim
                     zero_grad, a scheduler's step, manual_seed)
    in_place_write   `t op= v` outside the graph (a hand-written update) inplace.py
    item_set         `t[i] = v` outside the graph                       inplace.py
    grad_read        `t.grad` was read                                  tensor.py
    grad_cleared     `t.grad = None`                                    tensor.py
    module_called    an nn.Module was called                            nn/module.py
    backward_run     `loss.backward()` starts; the watcher may observe   backward.py
                     the walk (`autodiff.backward.Observer`)
    backward_done    ... and has finished                               backward.py
    value_read       Python looks at a tensor's numbers (.item(), .numpy(), .tolist(),
                     bool(t), print(t), .data; a tensor given as sizes) tensor.py,
                                                                       ops/rearrange.py
    unsupported      something a recorded step cannot repeat (hooks, create_graph,
                     ad.grad, in-place ops in the graph, ...)           many

One more event is not per thread: `object_changed(obj)` counts changes of a library
object (an nn.Module's parameter, buffer, submodule, hook or setting replaced), and
`change_count(obj)` reads the count, so a recorded step can tell that what it read is
gone. While a watcher runs library code it will repeat as a whole (a library_call), it is
`paused` and told nothing; so it is during library code a replay does not repeat at all
(`unrecorded`: a scheduler's constructor stepping once).
"""
from __future__ import annotations

import functools
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

import numpy as np

from . import grad_mode


class Watcher(Protocol):
    """What a watcher implements: one method per event (see the module docstring)."""

    paused: int

    def op_applied(self, op: type, ctx: Any, arrays: list[Any], options: dict[str, Any],
                   result: Any) -> None: ...

    def tensor_created(self, tensor: Any, source: Any) -> None: ...

    def random_draw(self, tensor: Any, draw: Callable[..., Any], args: tuple[Any, ...],
                    kwargs: dict[str, Any]) -> None: ...

    def library_call(self, method: Callable[..., Any], args: tuple[Any, ...],
                     kwargs: dict[str, Any]) -> Any: ...

    def in_place_write(self, target: Any, ufunc: np.ufunc, operand: Any) -> None: ...

    def item_set(self, target: Any, index: Any, value: Any) -> None: ...

    def grad_read(self, tensor: Any, grad: Any) -> None: ...

    def grad_cleared(self, tensor: Any) -> None: ...

    def module_called(self, module: Any) -> None: ...

    def backward_run(self, output: Any, gradient: Any, create_graph: bool) -> Any: ...

    def backward_done(self) -> None: ...

    def value_read(self, what: str) -> None: ...

    def unsupported(self, what: str) -> None: ...


def watcher() -> Watcher | None:
    """The watcher of this thread, unless none is installed or it is paused."""
    current = grad_mode.state.watcher
    return None if current is None or current.paused else current


@contextmanager
def watching(new: Watcher) -> Iterator[Watcher]:
    """Install `new` as this thread's watcher for the duration of the block."""
    state = grad_mode.state
    previous, state.watcher = state.watcher, new
    try:
        yield new
    finally:
        state.watcher = previous


def op_applied(op: type, ctx: Any, arrays: list[Any], options: dict[str, Any],
               result: Any) -> None:
    current = grad_mode.state.watcher
    if current is not None and not current.paused:
        current.op_applied(op, ctx, arrays, options, result)


def tensor_created(tensor: Any, source: Any) -> None:
    current = grad_mode.state.watcher
    if current is not None and not current.paused:
        current.tensor_created(tensor, source)


def in_place_write(target: Any, ufunc: np.ufunc, operand: Any) -> None:
    current = watcher()
    if current is not None:
        current.in_place_write(target, ufunc, operand)


def item_set(target: Any, index: Any, value: Any) -> None:
    current = watcher()
    if current is not None:
        current.item_set(target, index, value)


def grad_read(tensor: Any, grad: Any) -> None:
    current = grad_mode.state.watcher
    if current is not None and not current.paused:
        current.grad_read(tensor, grad)


def grad_cleared(tensor: Any) -> None:
    current = watcher()
    if current is not None:
        current.grad_cleared(tensor)


def module_called(module: Any) -> None:
    current = grad_mode.state.watcher
    if current is not None and not current.paused:
        current.module_called(module)


def backward_run(output: Any, gradient: Any, create_graph: bool) -> Any:
    """Returns the watcher's observer of the backward walk, or None."""
    current = watcher()
    return None if current is None else current.backward_run(output, gradient, create_graph)


def backward_done() -> None:
    current = watcher()
    if current is not None:
        current.backward_done()


def value_read(what: str) -> None:
    current = watcher()
    if current is not None:
        current.value_read(what)


def unsupported(what: str) -> None:
    current = watcher()
    if current is not None:
        current.unsupported(what)


def random_draw(draw: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator for functions that draw a random tensor from the shared generator
    (`ad.randn`, dropout's mask): the watcher is told the call, to repeat it."""

    @functools.wraps(draw)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t = draw(*args, **kwargs)
        current = watcher()
        if current is not None:
            current.random_draw(t, draw, args, kwargs)
        return t

    return wrapper


@contextmanager
def unrecorded() -> Iterator[None]:
    """Library code whose library calls belong to a larger act that a replay does not
    repeat (a scheduler's constructor, which steps once): the watcher, if any, is paused
    for the block and told nothing of it."""
    current = watcher()
    if current is None:
        yield
        return
    current.paused += 1
    try:
        yield
    finally:
        current.paused -= 1


def library_call(method: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator for library functions with side effects (optimizer.step, zero_grad, a
    scheduler's step): under a watcher, the watcher runs the call (paused) and repeats it
    as a whole."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        current = grad_mode.state.watcher          # watcher(), inline: every step calls this
        if current is None or current.paused:
            return method(*args, **kwargs)
        return current.library_call(method, args, kwargs)

    return wrapper


_changes: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()
_all_changes = [0]          # of every object: while it stays, no object changed


def object_changed(obj: Any) -> None:
    """Count a change of `obj` (a member or a setting replaced)."""
    _changes[obj] = _changes.get(obj, 0) + 1
    _all_changes[0] += 1


def change_count(obj: Any) -> int:
    """How many changes `object_changed` has counted for `obj`."""
    return _changes.get(obj, 0)


def changes() -> int:
    """How many changes `object_changed` has counted for all objects: a guard that saw
    this number before need not look at each object again."""
    return _all_changes[0]
