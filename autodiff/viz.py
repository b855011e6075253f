"""Computation graphs as pictures. This module starts with `scope`, the engine's way to
group ops by the part of a model that created them; drawing builds on it."""
from __future__ import annotations

from .grad_mode import state


class scope:
    """Context manager: ops created inside are grouped under `name` in graph drawings.
    Scopes nest; `nn.Module.__call__` enters one per module. Costs one tuple per entry.

    >>> import autodiff as ad
    >>> with ad.viz.scope("fc1: Linear(2→1)"):
    ...     y = ad.tensor([1.0], requires_grad=True) * 2
    >>> y.grad_fn.scope
    ('fc1: Linear(2→1)',)
    """

    def __init__(self, name: str) -> None:
        self.name = name

    def __enter__(self) -> scope:
        self._previous = state.scope
        state.scope = (self._previous or ()) + (self.name,)
        return self

    def __exit__(self, *exc_info: object) -> None:
        state.scope = self._previous
