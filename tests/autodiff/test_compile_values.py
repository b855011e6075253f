"""A compiled function never answers from the traced call's values: library functions that
decide in Python from a tensor's values (a median's NaNs, a tensor of repeats, a draw's
parameters, isclose, an index) run eagerly under ad.compile or record what the replay
needs, and checks of values (index ranges) are ops, run on every call. Each case is
traced on one input, then called on another: it must give eager's answer."""
from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autodiff as ad
from autodiff.errors import CompileWarning

F32 = ad.float32


def _set_at(x: ad.Tensor, i: ad.Tensor) -> ad.Tensor:
    y = x.clone()
    y[i] = 5.0
    return y


def T(values: Any) -> ad.Tensor:
    return ad.tensor(values, dtype=F32)


def L(values: Any) -> ad.Tensor:
    return ad.tensor(values, dtype=ad.int64)


# name -> (function, the traced call's arguments, a later call's)
CASES: dict[str, tuple[Callable[..., Any], tuple[Any, ...], tuple[Any, ...]]] = {
    "multinomial": (lambda p: ad.multinomial(p, 1), (T([1, 0, 0]),), (T([0, 0, 1]),)),
    "normal": (lambda m: ad.normal(m, ad.zeros(2)), (T([0, 0]),), (T([100, 100]),)),
    "bernoulli": (lambda p: ad.bernoulli(p), (T([0, 0]),), (T([1, 1]),)),
    "median": (lambda x: x.median(), (T([1, 2, 3]),), (T([1, np.nan, 3]),)),
    "median(dim)": (lambda x: x.median(0).indices, (T([1, 2, 3]),), (T([1, np.nan, 3]),)),
    "quantile": (lambda x: x.quantile(0.5), (T([1, 2, 3]),), (T([1, np.nan, 3]),)),
    "quantile(q)": (lambda x, q: x.quantile(q), (T([1, 2, 3]), T([0.5])),
                    (T([1, 2, 3]), T([1.0]))),
    "repeat_interleave": (lambda x, r: x.repeat_interleave(r), (T([1, 2]), L([1, 2])),
                          (T([1, 2]), L([2, 1]))),
    "tensor_split": (lambda x, s: x.tensor_split(s)[-1], (T([1, 2, 3, 4]), L(2)),
                     (T([1, 2, 3, 4]), L(3))),
    "flip": (lambda x, d: x.reshape(2, 3).flip(d), (T(np.arange(6)), L([0])),
             (T(np.arange(6)), L([1]))),
    "tile": (lambda x, d: x.tile(d), (T([1, 2]), L([2])), (T([1, 2]), L([3]))),
    "isclose": (lambda a, b: a.isclose(b), (T([1, 2]), T([1, 2])), (T([1, 2]), T([5, 2]))),
    "setitem": (_set_at, (T([0, 0, 0]), L([0])), (T([0, 0, 0]), L([2]))),
    "setitem(mask)": (_set_at, (T([0, 0, 0]), ad.tensor([True, False, False])),
                      (T([0, 0, 0]), ad.tensor([False, False, True]))),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_later_call_gets_eagers_answer_not_the_traced_calls(name: str) -> None:
    fn, traced, later = CASES[name]
    compiled = ad.compile(fn)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CompileWarning)       # a fall back to eager says so
        for _ in range(2):
            compiled(*traced)
        got = compiled(*later)
    np.testing.assert_array_equal(got.numpy(), fn(*later).numpy())


def test_a_random_fill_in_place_draws_afresh_on_every_call() -> None:
    compiled = ad.compile(lambda x: x.clone().normal_())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CompileWarning)
        draws = [compiled(ad.zeros(4)).numpy() for _ in range(3)]
    assert not np.array_equal(draws[1], draws[2])
    assert "normal_" in compiled.cache_info().eager_reason


def test_a_tensor_index_a_replay_can_follow_still_replays() -> None:
    compiled = ad.compile(_set_at)
    x = T([0, 0, 0])
    for i in ([0], [2], [1]):
        np.testing.assert_array_equal(compiled(x, L(i)).numpy(), _set_at(x, L(i)).numpy())
    assert compiled.cache_info().replays == 2
