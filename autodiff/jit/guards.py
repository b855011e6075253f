"""Guards: what must still hold for a recorded step to be replayed.

- The arguments' signature (`signature`): tensors and arrays by shape, dtype, C order
  and requires_grad; numbers and strings by value; other objects by identity, held so
  their id cannot pass to a new object; and which arguments are the same object
  (`aliases`).
- The tensors the step read from outside (parameters, buffers, ...): the same array
  (a write into it, by load_state_dict or by hand, is read by the next replay; a new
  array, by `.data =`, `model.double()`, retraces), requires_grad, no hooks.
- The modules it called: the same train/eval mode, no member, setting or hook changed
  since (`autodiff.events.change_count`); likewise each optimizer whose step it runs
  prepared (`Optimizer.prepared_step`): no state loaded or written, no parameter group
  or step hook added or removed since it was prepared.
- What the function reads itself from its globals and closure cells, and what the
  functions defined inside it read (`Outside`): numbers (Python's and numpy's) by value
  and type, other objects (a tensor, a model, an optimizer) by identity, and the
  tensors, modules and optimizers the trace used that it reached through an attribute of
  an argument or of such an object (`batch.x`, `self.opt`), by identity.
- The default dtype and the grad mode are part of the signature (`Compiled.__call__`).
"""
from __future__ import annotations

import dis
import functools
import types
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import events
from ..tensor import Tensor


def signature(value: Any, arguments: list[Any], names: list[str] | None = None,
              name: str = "") -> Any:
    """What must match for a program to be replayed on `value`: tensors and arrays by
    kind, shape, dtype, whether their numbers are in C order (`t.contiguous()` is `t`
    itself or a copy, and the trace kept which), requires_grad and, for tensors, whether
    they have a graph or hooks; numbers, strings and None by value (a zero with its
    sign: 0.0 and -0.0 divide apart); anything else by identity. Tensors and arrays are appended to
    `arguments` in order, and, when `names` is given (a trace needs them, a replay does
    not), a name for each (`name`, or name_0, name_1, ... inside a tuple) to `names`."""
    kind = type(value)
    if kind is np.ndarray:
        arguments.append(value)
        if names is not None:
            names.append(name)
        return ("array", value.shape, value.dtype, value.flags.c_contiguous)
    if kind is Tensor or isinstance(value, Tensor):
        arguments.append(value)
        if names is not None:
            names.append(name)
        data = value._data
        return ("tensor", data.shape, data.dtype, value._requires_grad,
                value.grad_fn is not None, data.flags.c_contiguous, bool(value._hooks))
    if kind in (tuple, list):
        return (kind.__name__, *(signature(v, arguments, names, f"{name}_{i}")
                                 for i, v in enumerate(value)))
    if kind is dict:
        return ("dict", *((k, signature(v, arguments, names, f"{name}_{k}"))
                          for k, v in value.items()))
    if value is None or kind in (bool, int, float, str) or isinstance(value, np.generic):
        return ("value", kind, value, str(value)) if value == 0 else ("value", kind, value)
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
        # objects whose step the program runs prepared (`autodiff.jit.codegen.Writer.prepare`),
        # each with its change count when it was prepared
        self.prepared: list[tuple[Any, int]] = []

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
        for obj, count in self.prepared:
            if events.change_count(obj) != count:
                return (f"the {type(obj).__name__} changed: its state was loaded or written, "
                        f"a parameter group or a step hook added or removed")
        self.changes_seen = changes
        return None


NumberRead = tuple[str, Callable[[], Any], Any]      # (what, how to read it now, traced value)
ObjectRead = tuple[str, Callable[[], Any], Callable[[], Any]]
#              (what, how to read it now, the traced object: a weak reference, or a stand-in)

_MISSING = object()                     # what a read gives for a name no longer there


class Outside:
    """What the function reads from outside its arguments, as the trace found it:

    - `numbers`: the Python and numpy numbers (int, float, bool, np.float32, np.int64,
      np.bool_, ...) it reads itself from its globals and closure cells, and those the
      functions defined inside it read, by value and type (a trace bakes them in);
    - `objects`: every other value read there (a tensor, a model, an optimizer, a loss
      function, a list), by identity, through a weak reference where the object takes
      one (a new object whose id Python reuses is another object); and, one attribute
      deep, the tensors, modules and objects of library calls (an optimizer) the trace
      used that it reached through an attribute (`batch.x`, `self.opt`, `net.model`) of
      an argument, of the object a method is bound to, or of an object read from the
      globals and closure cells.

    Python modules (`np`, `F`) are not guarded. What the function reads deeper (numbers
    and objects read by functions it calls, or attributes of attributes) is not seen;
    `Compiled.report` lists the numbers baked in."""

    def __init__(self, fn: Callable[..., Any], used: set[int],
                 owners: list[tuple[str, Any]]) -> None:
        self.numbers: list[NumberRead] = []
        self.objects: list[ObjectRead] = []
        owners = list(owners)
        bound = getattr(fn, "__self__", None)
        if bound is not None and not isinstance(bound, types.ModuleType):
            owners.append(("the object the method is bound to", bound))
        fn = getattr(fn, "__func__", fn)
        code = getattr(fn, "__code__", None)
        if code is None:                    # an object with __call__: its attributes
            owners.append(("the compiled object", fn))
        else:
            space = fn.__globals__
            for name in dict.fromkeys(_names_read(code)):
                if name in space:
                    self._add(f"the global {name!r}", functools.partial(space.get, name,
                                                                          _MISSING),
                              space[name], owners)
            for name, cell in zip(code.co_freevars, fn.__closure__ or ()):
                try:
                    value = cell.cell_contents
                except ValueError:          # a variable of the enclosing function not set yet
                    continue
                self._add(f"{name!r} of the enclosing function",
                          functools.partial(getattr, cell, "cell_contents"), value, owners)
        for label, owner in owners:
            members = getattr(owner, "__dict__", None)
            if type(members) is not dict or _is_library_object(owner):
                continue
            for name, value in members.items():
                if id(value) in used and not _is_number(value):
                    self.objects.append((f"the attribute {name!r} of {label}",
                                         functools.partial(members.get, name, _MISSING),
                                         _reference(value)))

    def _add(self, what: str, read: Callable[[], Any], value: Any,
             owners: list[tuple[str, Any]]) -> None:
        if _is_number(value):
            self.numbers.append((what, read, value))
        elif not isinstance(value, types.ModuleType):
            self.objects.append((what, read, _reference(value)))
            owners.append((what, value))

    def __bool__(self) -> bool:
        return bool(self.numbers or self.objects)

    def changed(self) -> str | None:
        """Why a replay would be stale: a number or object the function reads from
        outside changed since its trace; None when none did."""
        try:
            for what, read, value in self.numbers:
                now = read()
                if now is _MISSING:
                    return f"{what} was deleted"
                if type(now) is not type(value) \
                        or (now != value and (now == now or value == value)) \
                        or (now == 0 and str(now) != str(value)):     # NaN; 0.0, -0.0
                    return f"{what} changed from {value!r} to {now!r}"
            for what, read, reference in self.objects:
                now = read()
                if now is not reference():
                    if now is _MISSING:
                        return f"{what} was deleted"
                    return (f"{what} is another object ({type(now).__name__}) than the "
                            f"one traced")
        except ValueError:                  # a closure cell emptied (del)
            return f"{what} was deleted"
        return None

    def described(self) -> list[str]:
        """The reads, one line each, for `Compiled.report`."""
        lines = [f"{what} = {value!r}" for what, _, value in self.numbers]
        for what, _, reference in self.objects:
            value = reference()
            lines.append(f"{what} is the same object ({type(value).__name__})")
        return lines


def _is_number(value: Any) -> bool:
    return type(value) in (int, float, bool) or isinstance(value, (np.number, np.bool_))


def _is_library_object(value: Any) -> bool:
    """A tensor, or a module (whose members its own guards follow), or a Python module
    or class: objects whose attributes are not the user's names."""
    return isinstance(value, (Tensor, type, types.ModuleType)) or (
        hasattr(value, "named_modules") and hasattr(value, "forward"))


def _reference(value: Any) -> Callable[[], Any]:
    """A weak reference to `value`, or, for objects that take none (a list, None, a
    string), a function returning it."""
    try:
        return weakref.ref(value)
    except TypeError:
        return lambda: value


def _names_read(code: types.CodeType) -> list[str]:
    """The global names a code object reads, with those of the functions it defines."""
    names = [instruction.argval for instruction in dis.get_instructions(code)
             if instruction.opname in ("LOAD_GLOBAL", "LOAD_NAME")]
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names += _names_read(constant)
    return names


def what_changed(old: tuple[Any, ...], new: tuple[Any, ...]) -> str:
    """Why a new signature needs its own trace, said for a person (`old` is the last
    traced signature, which differs from `new`)."""
    if old[0] != new[0]:
        return f"grad mode changed to {'enabled' if new[0] else 'disabled (no_grad)'}"
    if old[1] != new[1]:
        return f"the default dtype changed to {new[1]}"
    for where, before, after in (("argument", old[2], new[2]), ("keyword", old[3], new[3])):
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
        _, shape, dtype, requires_grad, _, contiguous, hooked = signature
        return (f"tensor {tuple(shape)} {dtype}{' requires_grad' if requires_grad else ''}"
                f"{'' if contiguous else ' non-contiguous'}{' with hooks' if hooked else ''}")
    if type(signature) is tuple and signature and signature[0] == "array":
        _, shape, dtype, contiguous = signature
        return f"array {tuple(shape)} {dtype}{'' if contiguous else ' non-contiguous'}"
    if type(signature) is tuple and signature and signature[0] == "value":
        return repr(signature[2])
    return "another object"
