"""Whether operations are recorded into the graph, per thread.

`no_grad()` turns recording off (inference, optimizer updates), `enable_grad()` turns it
back on; both work as context managers and as decorators. The same thread-local object
carries the other recording switches the engine reads on every op: anomaly detection,
the current drawing scope (see `autodiff.viz.scope`) and the tracer of `ad.compile`.
"""
from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class _RecordingState(threading.local):
    grad_enabled = True
    detect_anomaly = False
    scope: tuple[str, ...] | None = None
    tracer: Any = None              # the autodiff.tracing.Tracer watching, if any


state = _RecordingState()


def is_grad_enabled() -> bool:
    """True when new operations are recorded into the graph (the default)."""
    return state.grad_enabled


class _GradModeSwitch:
    enabled: bool

    def __enter__(self) -> None:
        self._previous = state.grad_enabled
        state.grad_enabled = self.enabled

    def __exit__(self, *exc_info: object) -> None:
        state.grad_enabled = self._previous

    def __call__(self, fn: F) -> F:
        enabled = self.enabled

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            previous = state.grad_enabled
            state.grad_enabled = enabled
            try:
                return fn(*args, **kwargs)
            finally:
                state.grad_enabled = previous

        return wrapper  # type: ignore[return-value]


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


class set_grad_enabled(_GradModeSwitch):
    """Context manager and decorator: record operations if `mode` is True."""

    def __init__(self, mode: bool) -> None:
        self.enabled = bool(mode)
