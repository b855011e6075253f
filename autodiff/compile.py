"""`ad.compile(fn)`: trace a function once, then replay it without the engine's
bookkeeping.

The first call runs `fn` eagerly while a tracer writes down every op's forward, the
backward pass node by node, and the library calls with side effects (optimizer.step(),
zero_grad()) as one flat program over numpy arrays (`autodiff.tracing`). Later calls
with arguments of the same kinds, shapes, dtypes and requires_grad run that program:
the same numpy calls in the same order, so the same numbers, bit for bit, without
making tensors or graph nodes, sorting the graph, or walking to the user's source line.

    @ad.compile
    def train_step(x, y):
        opt.zero_grad()
        loss = F.nll_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss

Guards, checked on every call, send a call back to tracing when something the program
depends on changed: the arguments' shapes, dtypes or requires_grad (each combination has
its own program), which arguments are the same tensor (`step(x, x)` and `step(x, y)` get
programs of their own), the grad mode, a parameter's array (`load_state_dict`,
`model.double()`) or requires_grad, a module's train/eval mode, a new hook, and a module
whose parameter, buffer, submodule or setting was replaced or set anew after tracing
(`m[0].weight = nn.Parameter(...)`, `m.add_module(...)`, `dropout.p = 0.5`).
`cache_info()` says how many traces exist and why the last one was made.

Some functions cannot be replayed: they read a tensor's values in Python (`.item()`,
`.numpy()`, `.tolist()`, `.data`, `if loss > 1:`, printing a tensor), so what they do next
may depend on the numbers; or they use what replay cannot follow (hooks, create_graph,
a graph built before the call). Tracing detects this, warns once naming the line, and
runs the function eagerly from then on; with `fullgraph=True` it raises CompileError.
Random ops (dropout, `ad.randn`) draw new numbers on every replay, from the same shared
generator and in the same order as eager calls would.

Python numbers the function reads itself from globals or enclosing functions (a global
`SCALE`, a learning rate in a closure) are guarded: when one changes, the call retraces.
What tracing cannot see, and so keeps as it was on the first call: numpy arithmetic of
your own on arrays inside the function (`np.log(x.shape[0])` is fine, `ad.tensor(x_array
/ 255)` is baked in), and numbers read deeper (in functions it calls, or an attribute of
an object of your own, `self.scale`): do arithmetic with autodiff's ops, pass changing
numbers as arguments (each value gets its own trace), or read them in library calls that
replay (optimizer.step() reads its learning rate afresh, so schedulers work; a built-in
layer's settings are guarded).

Every library op replays; ops that `backward(create_graph=True)` makes (ScatterAdd) are
never reached, since a compiled function does not replay create_graph. Dropout and the
random creation functions draw afresh; comparisons and masks are ops and are recomputed;
loss targets are converted and range-checked on every call.
"""
from __future__ import annotations

import collections
import functools
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from . import grad_mode
from .errors import CompileWarning
from .tensor import Tensor
from .tracing import Problem, Program, Tracer

CacheInfo = collections.namedtuple(
    "CacheInfo", ["traces", "replays", "entries", "last_retrace", "eager_reason"])
CacheInfo.__doc__ = """What a compiled function has done: `traces` (calls that ran eagerly
under the tracer), `replays`, `entries` (programs kept, one per argument signature), why
the last trace after the first was needed (`last_retrace`), and, when the function runs
eagerly for good, why (`eager_reason`)."""

MAX_ENTRIES = 8      # programs kept per function; the least recently traced goes first


def compile(fn: Callable[..., Any] | None = None, *, fullgraph: bool = False
            ) -> Any:
    """Trace `fn` on its first call and replay it on later calls (see the module
    docstring). Usable as `ad.compile(fn)`, `@ad.compile` or
    `@ad.compile(fullgraph=True)`.

    >>> import autodiff as ad, numpy as np
    >>> params = [ad.tensor([1.0, -2.0], requires_grad=True)]
    >>> @ad.compile
    ... def step(x):
    ...     w, = params
    ...     w.grad = None
    ...     loss = ((x * w).sum() - 1) ** 2
    ...     loss.backward()
    ...     with ad.no_grad():
    ...         w -= 0.1 * w.grad                # SGD by hand: x -= lr * dx
    ...     return loss
    >>> [round(step(ad.tensor([1.0, 1.0])).item(), 4) for _ in range(3)]
    [4.0, 1.44, 0.5184]
    >>> step.cache_info().traces, step.cache_info().replays
    (1, 2)
    """
    if fn is None:
        return functools.partial(compile, fullgraph=fullgraph)
    return Compiled(fn, fullgraph)


class Compiled:
    """A function wrapped by `ad.compile`: call it as the function itself."""

    def __init__(self, fn: Callable[..., Any], fullgraph: bool) -> None:
        functools.update_wrapper(self, fn)
        self._fn = fn
        self._fullgraph = fullgraph
        self._programs: dict[tuple[Any, ...], Program] = {}
        self._numbers: dict[tuple[Any, ...], list[NumberRead]] = {}
        self._traces = self._replays = 0
        self._last_retrace: str | None = None
        self._last_key: tuple[Any, ...] | None = None
        self._eager_reason: str | None = None

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        """As a method: bound to the instance, sharing this cache."""
        return self if instance is None else functools.partial(self, instance)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        state = grad_mode.state
        if self._eager_reason is not None or state.tracer is not None or state.detect_anomaly:
            return self._fn(*args, **kwargs)     # inside another trace, it is traced there
        arguments: list[Any] = []
        key = (state.grad_enabled, _signature(args, arguments), _signature(kwargs, arguments),
               _aliases(arguments))
        program = self._programs.get(key)
        if program is not None:
            reason = program.stale() or _number_changed(self._numbers.get(key, ()))
            if reason is None:
                self._replays += 1
                return program.run(arguments)
        else:
            reason = _what_changed(self._last_key, key) if self._programs else None
        return self._trace(args, kwargs, arguments, key, reason)

    def _trace(self, args: tuple[Any, ...], kwargs: dict[str, Any], arguments: list[Any],
               key: tuple[Any, ...], reason: str | None) -> Any:
        tracer = Tracer(arguments, self._fullgraph)
        state = grad_mode.state
        state.tracer = tracer
        try:
            output = self._fn(*args, **kwargs)
        finally:
            state.tracer = None
        returned = tracer.output_template(output)
        program = Program(tracer, returned) if tracer.problem is None else None
        self._traces += 1
        if reason is not None:
            self._last_retrace = reason
        if program is None:
            self._go_eager(tracer.problem)
            return output
        self._programs.pop(key, None)
        self._programs[key] = program
        self._numbers[key] = _numbers_read(self._fn)
        if len(self._programs) > MAX_ENTRIES:
            oldest = next(iter(self._programs))
            del self._programs[oldest]
            self._numbers.pop(oldest, None)
        self._last_key = key
        return output

    def _go_eager(self, problem: Problem) -> None:
        self._eager_reason = str(problem)
        self._programs.clear()
        self._numbers.clear()
        name = getattr(self._fn, "__qualname__", "the function")
        warnings.warn_explicit(
            f"ad.compile: {name} runs eagerly from now on: {problem.reason}",
            CompileWarning, *(problem.site or ("<unknown>", 0)))

    def cache_info(self) -> CacheInfo:
        """How many traces and replays there were, and why the last retrace happened."""
        return CacheInfo(self._traces, self._replays, len(self._programs), self._last_retrace,
                         self._eager_reason)


def _signature(value: Any, arguments: list[Any]) -> Any:
    """What must match for a program to be replayed on `value`: tensors and arrays by
    kind, shape, dtype (and requires_grad); numbers, strings and None by value; anything
    else by identity. Tensors and arrays are appended to `arguments` in order."""
    kind = type(value)
    if kind is Tensor or isinstance(value, Tensor):
        arguments.append(value)
        return ("tensor", value._data.shape, value._data.dtype, value._requires_grad,
                value.grad_fn is not None)
    if kind is np.ndarray:
        arguments.append(value)
        return ("array", value.shape, value.dtype)
    if kind in (tuple, list):
        return (kind.__name__, *(_signature(v, arguments) for v in value))
    if kind is dict:
        return ("dict", *((k, _signature(v, arguments)) for k, v in value.items()))
    if value is None or kind in (bool, int, float, str) or isinstance(value, np.generic):
        return ("value", kind, value)
    return ("object", _Same(value))


class _Same:
    """An argument compared by identity, held so that its id cannot pass to a new object
    while its program is cached (a fresh object per call whose id Python reuses would
    otherwise replay what the first one gave)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return type(other) is _Same and other.value is self.value

    def __hash__(self) -> int:
        return id(self.value)


NumberRead = tuple[str, Callable[[], Any], Any]      # (what, how to read it now, traced value)


def _numbers_read(fn: Callable[..., Any]) -> list[NumberRead]:
    """The Python numbers `fn` reads itself from globals and from enclosing functions (a
    learning rate, a scale), with their values now: a trace bakes them in, so a replay
    holds only while they are the same. Numbers read deeper (in functions it calls, or as
    attributes of objects) are not seen; pass those as arguments."""
    fn = getattr(fn, "__func__", fn)
    code = getattr(fn, "__code__", None)
    if code is None:
        return []
    reads: list[NumberRead] = []
    space = fn.__globals__
    for name in code.co_names:
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


def _number_changed(reads: Any) -> str | None:
    """Why a replay would be stale: a number the function reads changed since its trace."""
    for what, read, value in reads:
        now = read()
        if now != value or type(now) is not type(value):
            return f"{what} changed from {value!r} to {now!r}"
    return None


def _aliases(arguments: list[Any]) -> tuple[int, ...]:
    """For each tensor or array argument, the position of the first argument that is the
    same object: `step(x, x)` and `step(x, y)` need programs of their own."""
    first: dict[int, int] = {}
    return tuple(first.setdefault(id(value), i) for i, value in enumerate(arguments))


def _what_changed(old: tuple[Any, ...] | None, new: tuple[Any, ...]) -> str:
    """Why a new signature needs its own trace, said for a person."""
    if old is None:
        return "new arguments"
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
    if old[3] != new[3]:
        return "the arguments are the same tensor in other places"
    return "new arguments"


def _describe(signature: Any) -> str:
    if type(signature) is tuple and signature and signature[0] == "tensor":
        _, shape, dtype, requires_grad, _ = signature
        return f"tensor {tuple(shape)} {dtype}{' requires_grad' if requires_grad else ''}"
    if type(signature) is tuple and signature and signature[0] == "array":
        return f"array {tuple(signature[1])} {signature[2]}"
    if type(signature) is tuple and signature and signature[0] == "value":
        return repr(signature[2])
    return "another object"
