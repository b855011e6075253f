"""One random generator for everything autodiff and nn draw (init, dropout, shuffling),
so `manual_seed(s)` makes a whole run reproducible."""
from __future__ import annotations

import numpy as np

from .tracing import replayed

_generator = np.random.default_rng()


@replayed
def manual_seed(seed: int) -> np.random.Generator:
    """Reset the shared generator to `seed` and return it."""
    global _generator
    _generator = np.random.default_rng(seed)
    return _generator


def generator() -> np.random.Generator:
    """The shared generator (replaced by each `manual_seed` call: do not keep it)."""
    return _generator
