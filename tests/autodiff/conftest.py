"""Shared helpers for the engine's tests, most handed to tests as fixtures.

`strategies` draws shapes and float64 values for Hypothesis; `check_grads` runs
`ad.gradcheck` and `ad.gradgradcheck` on a function of float64 leaves; `wrong_square` is
an op whose derivative is deliberately wrong, for the checkers to catch; `both_raise`
(imported: `from .conftest import both_raise`) checks that torch and autodiff refuse the
same misuse, and `assert_same` (imported too) that our results are torch's.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest

import autodiff as ad

GRID = 50       # distinct values are drawn from multiples of 1/GRID: ties are impossible


class Strategies:
    """Hypothesis strategies for the engine's property tests. Sizes stay small (at most
    three dims of at most four elements) so that finite differences stay fast."""

    @staticmethod
    def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1,
               max_side: int = 4) -> st.SearchStrategy[tuple[int, ...]]:
        return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                                max_side=max_side)

    @staticmethod
    def broadcastable(num_shapes: int = 2, min_dims: int = 0, max_dims: int = 3,
                      max_side: int = 3) -> st.SearchStrategy[Any]:
        """Shapes that broadcast together: `.input_shapes`, `.result_shape`."""
        return hnp.mutually_broadcastable_shapes(num_shapes=num_shapes, min_dims=min_dims,
                                                 max_dims=max_dims, max_side=max_side)

    @staticmethod
    def floats(shape: Any, low: float = -2.0, high: float = 2.0
               ) -> st.SearchStrategy[np.ndarray]:
        """float64 arrays with elements in [low, high]."""
        return hnp.arrays(np.float64, shape, elements=st.floats(low, high, width=64))

    @staticmethod
    def away_from_zero(shape: Any, gap: float = 0.05, high: float = 2.0
                       ) -> st.SearchStrategy[np.ndarray]:
        """float64 arrays with gap <= |x| <= high (for kinks at 0: abs, relu, sqrt)."""
        magnitude = st.floats(gap, high)
        return hnp.arrays(np.float64, shape, elements=st.one_of(magnitude,
                                                                 magnitude.map(lambda v: -v)))

    @staticmethod
    def distinct(shape: Any, offset: float = 0.0, bound: int = 2
                 ) -> st.SearchStrategy[np.ndarray]:
        """float64 arrays of distinct multiples of 1/GRID (plus `offset`) in
        [-bound, bound]: no two elements closer than 1/GRID, so max/min have no ties."""
        elements = st.integers(-bound * GRID, bound * GRID).map(lambda k: k / GRID + offset)
        return hnp.arrays(np.float64, shape, elements=elements, unique=True)


@pytest.fixture(scope="session")
def strategies() -> type[Strategies]:
    return Strategies


def leaves(*arrays: Any) -> list[ad.Tensor]:
    """Each float array as a fresh float64 leaf that requires grad; others unchanged."""
    return [ad.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)
            if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a for a in arrays]


def check_grads_to_second_order(fn: Callable[..., Any], *arrays: Any,
                                second_order: bool = True) -> None:
    """gradcheck (and gradgradcheck) of `fn` at float64 leaves made from `arrays`."""
    inputs = leaves(*arrays)
    assert ad.gradcheck(fn, inputs)
    if second_order:
        assert ad.gradgradcheck(fn, inputs)


@pytest.fixture(scope="session")
def check_grads() -> Callable[..., None]:
    return check_grads_to_second_order


class WrongSquare(ad.Function):
    """y = x², with a deliberately wrong derivative 3x (the right one is 2x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * 3 * x


@pytest.fixture
def wrong_square() -> type[ad.Function]:
    """`WrongSquare`: y = x² whose backward says 3x."""
    return WrongSquare


def assert_same(ours: Any, theirs: Any) -> None:
    """ours against torch's: the same nesting (tuples, lists, dicts), shapes, dtypes,
    numbers (to rtol 1e-6) and requires_grad."""
    import torch
    if isinstance(theirs, (tuple, list)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            assert_same(o, t)
        return
    if isinstance(theirs, dict):
        assert isinstance(ours, dict) and list(ours) == list(theirs)
        for key in theirs:
            assert_same(ours[key], theirs[key])
        return
    assert isinstance(theirs, torch.Tensor) and isinstance(ours, ad.Tensor)
    assert ours.shape == tuple(theirs.shape)
    assert ours.dtype == np.dtype(str(theirs.dtype).removeprefix("torch."))
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-6, atol=1e-9)
    assert ours.requires_grad == theirs.requires_grad


def both_raise(error: type, ours: Callable[[], Any], theirs: Callable[[], Any]) -> str:
    """Check that torch (`theirs`) and autodiff (`ours`) both raise `error`; return our
    message, for the test to check that it names the call and the fix."""
    with pytest.raises(error):
        theirs()
    with pytest.raises(error) as caught:
        ours()
    return str(caught.value)
