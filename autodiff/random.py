"""Random numbers, as torch draws them: one default `Generator` for everything autodiff
and nn draw (init, dropout, shuffling), so `manual_seed(s)` makes a whole run
reproducible, and `Generator` objects of one's own, passed as `generator=`.

>>> import autodiff as ad
>>> first = ad.rand(2, generator=ad.Generator().manual_seed(42))
>>> ad.rand(2, generator=ad.Generator().manual_seed(42)).tolist() == first.tolist()
True
"""
from __future__ import annotations

from typing import Any

import numpy as np

from . import events
from .errors import DomainError


class Generator:
    """torch.Generator: a source of random numbers (numpy's PCG64) with a seed."""

    def __init__(self, device: Any = "cpu") -> None:
        from .device import device as as_device
        as_device(device)
        self._seed = int(np.random.SeedSequence().entropy % 2 ** 63)
        self.rng = np.random.default_rng(self._seed)

    def manual_seed(self, seed: int) -> Generator:
        """Restart from `seed`; returns the generator (as torch's)."""
        self._seed = int(seed)
        self.rng = np.random.default_rng(self._seed)
        return self

    def seed(self) -> int:
        """Restart from a fresh non-deterministic seed, and return it."""
        self.manual_seed(int(np.random.SeedSequence().entropy % 2 ** 63))
        return self._seed

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> dict[str, Any]:
        """The generator's state (restore it with set_state)."""
        return self.rng.bit_generator.state

    def set_state(self, state: dict[str, Any]) -> Generator:
        self.rng.bit_generator.state = state
        return self


default_generator = Generator()


@events.library_call
def manual_seed(seed: int) -> Generator:
    """Restart the default generator from `seed` and return it."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Restart the default generator from a fresh seed, and return it."""
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def generator(chosen: Generator | None = None) -> np.random.Generator:
    """The numpy generator to draw from: `chosen`'s, or the default one's (which
    `manual_seed` restarts: do not keep it)."""
    return (default_generator if chosen is None else chosen).rng


def probabilities(op: str, p: Any) -> np.ndarray:
    """`p` as an array of probabilities, each checked to lie in [0, 1] (a NaN does not),
    as torch's bernoulli checks."""
    array = np.asarray(p)
    if not np.all((array >= 0) & (array <= 1)):
        raise DomainError(f"{op}: every probability must lie in [0, 1], got values from "
                          f"{np.min(array)} to {np.max(array)}")
    return array
