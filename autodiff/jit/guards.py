"""Guards: what must still hold for a recorded step to be replayed.

- The arguments' signature (`signature`): tensors and arrays by shape, dtype and
  requires_grad; numbers and strings by value; other objects by identity, held so their
  id cannot pass to a new object; and which arguments are the same object (`aliases`).
- The tensors the step read from outside (parameters, buffers, ...): the same array
  (a write into it, by load_state_dict or by hand, is read by the next replay; a new
  array, by `.data =`, `model.double()`, retraces), requires_grad, no hooks.
- The modules it called: the same train/eval mode, no member, setting or hook changed
  since (`autodiff.events.change_count`).
- The Python numbers the function reads itself from its globals and closure cells, and
  those of the functions defined inside it (`numbers_read`), by value.
"""
from __future__ import annotations

import functools
import types
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import events
from ..tensor import Tensor


def signature(value: Any, arguments: list[Any], names: list[str] | None = None,
              name: str = "") -> Any:
    """What must match for a program to be replayed on `value`: tensors and arrays by
    kind, shape, dtype (and requires_grad); numbers, strings and None by value; anything
    else by identity. Tensors and arrays are appended to `arguments` in order, and, when
    `names` is given (a trace needs them, a replay does not), a name for each (`name`, or
    name_0, name_1, ... inside a tuple) to `names`."""
    kind = type(value)
    if kind is Tensor or isinstance(value, Tensor):
        arguments.append(value)
        if names is not None:
            names.append(name)
        return ("tensor", value._data.shape, value._data.dtype, value._requires_grad,
                value.grad_fn is not None)
    if kind is np.ndarray:
        arguments.append(value)
        if names is not None:
            names.append(name)
        return ("array", value.shape, value.dtype)
    if kind in (tuple, list):
        return (kind.__name__, *(signature(v, arguments, names, f"{name}_{i}")
                                 for i, v in enumerate(value)))
    if kind is dict:
        return ("dict", *((k, signature(v, arguments, names, f"{name}_{k}"))
                          for k, v in value.items()))
    if value is None or kind in (bool, int, float, str) or isinstance(value, np.generic):
        return ("value", kind, value)
    return ("object", Same(value))


class Same:
    """An argument compared by identity, held so that its id cannot pass to a new object
    while its program is cached (a fresh object per call whose id Python reuses would
    otherwise replay what the first one gave)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return type(other) is Same and other.value is self.value

    def __hash__(self) -> int:
        return id(self.value)


def aliases(arguments: list[Any]) -> tuple[int, ...]:
    """For each tensor or array argument, the position of the first argument that is the
    same object: `step(x, x)` and `step(x, y)` need programs of their own."""
    first: dict[int, int] = {}
    return tuple([first.setdefault(id(value), i) for i, value in enumerate(arguments)])


class Guards:
    """The tensors and modules a trace read, as they were (see the module docstring)."""

    def __init__(self, tensors: list[Tensor], names: dict[int, str],
                 modules: list[tuple[Any, bool, int, str]]) -> None:
        self.tensors = [(t, t._data, t._requires_grad) for t in tensors]
        self.names = names
        self.modules = modules
        self.changes_seen = -1          # events.changes() when the modules were last checked

    def stale(self) -> str | None:
        """The first guard that no longer holds, said for a person; None when all hold."""
        for tensor, array, requires_grad in self.tensors:
            if tensor._data is not array or tensor._requires_grad != requires_grad \
                    or tensor._hooks:
                name = self.names.get(id(tensor))
                name = f"parameter {name!r}" if name else "a tensor the function uses"
                if tensor._data is not array:
                    return (f"{name}'s array was replaced (.data = ..., model.to(), "
                            f"model.double())")
                if tensor._requires_grad != requires_grad:
                    return f"{name}.requires_grad changed to {tensor._requires_grad}"
                return f"{name} has a hook now"
        for module, training, _, label in self.modules:
            if module.training != training:
                return f"{label} was switched to {'train' if module.training else 'eval'} mode"
        changes = events.changes()
        if changes == self.changes_seen:            # no module changed since the last check
            return None
        for module, _, count, label in self.modules:
            if events.change_count(module) != count:
                return (f"{label} changed: a parameter, buffer, submodule, hook or setting "
                        f"(such as Dropout's p) was replaced or set anew")
        self.changes_seen = changes
        return None


NumberRead = tuple[str, Callable[[], Any], Any]      # (what, how to read it now, traced value)


def numbers_read(fn: Callable[..., Any]) -> list[NumberRead]:
    """The Python numbers `fn` reads itself from its globals and closure cells, and those
    the functions defined inside it read, with their values now: a trace bakes them in,
    so a replay holds only while they are the same. Numbers read deeper (in functions it
    calls, or as attributes of objects) are not seen; `Compiled.report` lists them."""
    fn = getattr(fn, "__func__", fn)
    code = getattr(fn, "__code__", None)
    if code is None:
        return []
    reads: list[NumberRead] = []
    space = fn.__globals__
    for name in _names_read(code):
        if type(space.get(name)) in (int, float, bool):
            reads.append((f"the global {name!r}", functools.partial(space.get, name),
                          space[name]))
    for name, cell in zip(code.co_freevars, fn.__closure__ or ()):
        try:
            value = cell.cell_contents
        except ValueError:              # a variable of the enclosing function not set yet
            continue
        if type(value) in (int, float, bool):
            reads.append((f"{name!r} of the enclosing function",
                          functools.partial(getattr, cell, "cell_contents"), value))
    return reads


def _names_read(code: types.CodeType) -> list[str]:
    """The global names a code object reads, with those of the functions it defines."""
    names = list(code.co_names)
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names += _names_read(constant)
    return names


def number_changed(reads: list[NumberRead]) -> str | None:
    """Why a replay would be stale: a number the function reads changed since its trace."""
    for what, read, value in reads:
        now = read()
        if now != value or type(now) is not type(value):
            return f"{what} changed from {value!r} to {now!r}"
    return None


def what_changed(old: tuple[Any, ...], new: tuple[Any, ...]) -> str:
    """Why a new signature needs its own trace, said for a person (`old` is the last
    traced signature, which differs from `new`)."""
    if old[0] != new[0]:
        return f"grad mode changed to {'enabled' if new[0] else 'disabled (no_grad)'}"
    for where, before, after in (("argument", old[1], new[1]), ("keyword", old[2], new[2])):
        if before == after:
            continue
        if len(before) != len(after):
            return f"{len(after) - 1} {where}s instead of {len(before) - 1}"
        for index, (a, b) in enumerate(zip(before[1:], after[1:])):
            if a != b:
                return f"{where} {index}: {_describe(a)} → {_describe(b)}"
    return "the arguments are the same tensor in other places"


def _describe(signature: Any) -> str:
    if type(signature) is tuple and signature and signature[0] == "tensor":
        _, shape, dtype, requires_grad, _ = signature
        return f"tensor {tuple(shape)} {dtype}{' requires_grad' if requires_grad else ''}"
    if type(signature) is tuple and signature and signature[0] == "array":
        return f"array {tuple(signature[1])} {signature[2]}"
    if type(signature) is tuple and signature and signature[0] == "value":
        return repr(signature[2])
    return "another object"
