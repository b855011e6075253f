"""Whether operations are recorded into the graph, per thread.

`no_grad()` turns recording off (inference, optimizer updates), `enable_grad()` turns it
back on, `set_grad_enabled(mode)` sets it (also as a plain call); all three work as
context managers and as decorators, generator functions included. The same
thread-local object carries the other recording switches the engine reads on every op,
each with its public switch here: anomaly detection (`detect_anomaly`), the current
drawing scope (`scope`, also `autodiff.viz.scope`), and the watcher of `autodiff.events`
(ad.compile's tracer).
"""
from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable, Generator
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class _RecordingState(threading.local):
    grad_enabled = True
    detect_anomaly = False
    scope: tuple[str, ...] | None = None
    watcher: Any = None             # the autodiff.events.Watcher of this thread, if any
    site: Any = None                # (code, line) of the user's call an nn layer is running


state = _RecordingState()


def is_grad_enabled() -> bool:
    """True when new operations are recorded into the graph (the default)."""
    return state.grad_enabled


def _decorate(fn: F, enabled: bool) -> F:
    """`fn` running in grad mode `enabled`. For a generator function the mode covers
    each resumption of the generator (its body between yields), and the caller's own
    mode is back while the generator is suspended, as in PyTorch."""
    if inspect.isgeneratorfunction(fn):
        return _decorate_generator(fn, enabled)

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with _switch(enabled):
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _decorate_generator(fn: F, enabled: bool) -> F:
    """Generator function `fn` whose generators run in grad mode `enabled` on each
    resumption (next, send, throw, close), as torch.utils._contextlib does."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        generator = fn(*args, **kwargs)
        try:
            with _switch(enabled):
                response = generator.send(None)
            while True:
                try:
                    request = yield response
                except GeneratorExit:  # noqa: PERF203 (the generator protocol is per resumption)
                    with _switch(enabled):
                        generator.close()
                    raise
                except BaseException as error:     # thrown in by the caller: pass it on
                    with _switch(enabled):
                        response = generator.throw(error)
                else:
                    with _switch(enabled):
                        response = generator.send(request)
        except StopIteration as stop:
            return stop.value

    return wrapper  # type: ignore[return-value]


class _GradModeSwitch:
    """Base of the switches: a context manager setting grad mode to `enabled` and
    restoring the previous mode on exit, and a decorator (see `_decorate`)."""

    enabled: bool

    def __enter__(self) -> None:
        self._previous = state.grad_enabled
        state.grad_enabled = self.enabled

    def __exit__(self, *exc_info: object) -> None:
        state.grad_enabled = self._previous

    def __call__(self, fn: F) -> F:
        return _decorate(fn, self.enabled)


def _switch(enabled: bool) -> _GradModeSwitch:
    """A new context manager for grad mode `enabled` (one per use: it keeps the mode it
    restores)."""
    return enable_grad() if enabled else no_grad()


class no_grad(_GradModeSwitch):
    """Context manager and decorator: nothing inside is recorded, results need no grad.

    >>> import autodiff as ad
    >>> w = ad.tensor([1.0, 2.0], requires_grad=True)
    >>> with ad.no_grad():
    ...     y = w * 2
    >>> y.requires_grad
    False
    """

    enabled = False


class enable_grad(_GradModeSwitch):
    """Context manager and decorator: record operations even inside `no_grad`."""

    enabled = True


class inference_mode(_GradModeSwitch):
    """torch.inference_mode: here the same as `no_grad()` (mode=True) or `enable_grad()`
    (mode=False), as a context manager and a decorator (`@ad.inference_mode()`)."""

    def __init__(self, mode: bool = True) -> None:
        self.enabled = not mode


class set_grad_enabled(_GradModeSwitch):
    """Record operations if `mode` is True, for this thread, from the call on; as in
    PyTorch the call itself switches the mode, so it works as a plain function, as a
    context manager (restoring the previous mode on exit) and as a decorator.

    >>> import autodiff as ad
    >>> _ = ad.set_grad_enabled(False)
    >>> ad.is_grad_enabled()
    False
    >>> with ad.set_grad_enabled(True):
    ...     ad.is_grad_enabled()
    True
    >>> ad.is_grad_enabled()
    False
    >>> _ = ad.set_grad_enabled(True)
    """

    def __init__(self, mode: bool) -> None:
        self.enabled = bool(mode)
        self._previous = state.grad_enabled
        state.grad_enabled = self.enabled

    def __enter__(self) -> None:
        """Nothing more: the constructor has already switched the mode."""

    def __call__(self, fn: F) -> F:
        state.grad_enabled = self._previous     # decorating alone changes no mode
        return super().__call__(fn)


class scope:
    """Context manager: ops created inside are grouped under `name` in graph drawings
    (`autodiff.viz.scope` is this class). Scopes nest; `nn.Module.__call__` enters one
    per module call. On exit the enclosing scope is back, and so is the call site the
    ops are attributed to (`state.site`, which an nn layer sets for the ops it runs).
    Costs one tuple per entry.

    >>> import autodiff as ad
    >>> with ad.viz.scope("fc1: Linear(2→1)"):
    ...     y = ad.tensor([1.0], requires_grad=True) * 2
    >>> y.grad_fn.scope
    ('fc1: Linear(2→1)',)
    """

    __slots__ = ("name", "_outer_scope", "_outer_site")

    def __init__(self, name: str) -> None:
        self.name = name

    def __enter__(self) -> scope:
        outer = self._outer_scope = state.scope
        self._outer_site = state.site
        state.scope = (self.name,) if outer is None else outer + (self.name,)
        return self

    def __exit__(self, *exc_info: object) -> None:
        state.scope = self._outer_scope
        state.site = self._outer_site


class detect_anomaly:
    """Context manager: the first op whose forward or backward produces NaN or inf raises
    AnomalyError naming the op and the line of user code that created it. Slower
    (every result is scanned for NaN and inf): use it to debug.

    >>> import autodiff as ad
    >>> x = ad.tensor([0.0], requires_grad=True)
    >>> with ad.detect_anomaly():
    ...     y = x.log()
    Traceback (most recent call last):
    ...
    autodiff.errors.AnomalyError: log: forward produced inf (created at <doctest ...>:2); ...
    """

    __slots__ = ("_previous",)

    def __enter__(self) -> detect_anomaly:
        self._previous = state.detect_anomaly
        state.detect_anomaly = True
        return self

    def __exit__(self, *exc_info: object) -> None:
        state.detect_anomaly = self._previous
