"""Max and sum along one axis, kept dims, without numpy's slow path for short rows.

numpy reduces the last axis of a C-ordered array one row at a time, so a batch of class
scores (N, C) with few classes pays a loop step per row: for 1024 × 10 float32, `max`
takes 48 µs and `sum` 21 µs. Reducing the contiguous transpose (C, N) along axis 0 is
one vectorised pass per class instead (6 µs each, copy included). Results are the same
numbers (the max exactly; the sum to rounding, as it adds in a different order).
Softmax, log-softmax and cross-entropy reduce along their class axis with these.
"""
from __future__ import annotations

from typing import Any

import numpy as np

SHORT_ROW = 32      # at most this many classes ...
TALL = 64           # ... in at least this many rows: the transposed path is faster


def _short_rows(x: np.ndarray, axis: int) -> bool:
    return x.ndim == 2 and axis in (1, -1) and x.shape[1] <= SHORT_ROW and x.shape[0] >= TALL


def max_along(x: np.ndarray, axis: int) -> np.ndarray:
    """x.max(axis=axis, keepdims=True)."""
    if _short_rows(x, axis):
        return np.ascontiguousarray(x.T).max(axis=0).reshape(-1, 1)
    return x.max(axis=axis, keepdims=True)


def sum_along(x: Any, axis: int) -> Any:
    """x.sum(axis=axis, keepdims=True), for arrays and (recorded) tensors alike."""
    if isinstance(x, np.ndarray) and _short_rows(x, axis):
        return np.ascontiguousarray(x.T).sum(axis=0).reshape(-1, 1)
    return x.sum(axis=axis, keepdims=True)
