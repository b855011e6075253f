"""What a call's arguments must match for `ad.compile` to replay a program: a zero's
sign, a tensor argument's hooks, and which tensors reached from outside (parameters,
globals) an argument is. Each case runs the calls eagerly and compiled and compares."""
from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autodiff as ad
import optim
from autodiff.errors import CompileWarning

from .test_compile import _eager_and_compiled


@pytest.mark.parametrize("zero", [0.0, np.float64(0.0), np.float32(0.0)],
                         ids=["float", "float64", "float32"])
def test_a_zero_argument_and_its_negative_get_programs_of_their_own(zero: Any) -> None:
    def run(wrap: Callable[..., Any]) -> list[Any]:
        f = wrap(lambda x, s: 1 / (x * s))
        x = ad.tensor([1.0, -2.0])
        return [f(x, s).tolist() for s in (zero, -zero, zero, -zero)]

    eager, compiled, f = _eager_and_compiled(run)
    assert compiled == eager == [[np.inf, -np.inf], [-np.inf, np.inf]] * 2
    assert f.cache_info().traces == 2 and f.cache_info().replays == 2


def test_a_tensor_argument_with_a_hook_is_not_replayed_without_it() -> None:
    def run(wrap: Callable[..., Any]) -> list[Any]:
        def grad_of_square(x: ad.Tensor) -> ad.Tensor:
            (x * x).sum().backward()
            return x.grad
        f = wrap(grad_of_square)
        out = [f(ad.tensor([1.0, 2.0], requires_grad=True)).tolist()]
        hooked = ad.tensor([1.0, 2.0], requires_grad=True)
        hooked.register_hook(lambda g: g * 10)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CompileWarning)
            out.append(f(hooked).tolist())
        return out

    eager, compiled, f = _eager_and_compiled(run)
    assert compiled == eager == [[2.0, 4.0], [20.0, 40.0]]
    assert "hook" in f.cache_info().eager_reason


W = ad.tensor([1.0, 2.0], requires_grad=True)


def _products(x: ad.Tensor) -> tuple[ad.Tensor, ad.Tensor]:
    W.grad = None
    x.grad = None
    (x * W).sum().backward()
    return W.grad, x.grad


@pytest.mark.parametrize("first", ["the global", "another tensor"])
def test_an_argument_that_is_a_tensor_read_from_outside_is_told_apart(first: str) -> None:
    def run(wrap: Callable[..., Any]) -> list[Any]:
        f = wrap(_products)
        other = ad.tensor([5.0, 6.0], requires_grad=True)
        calls = [W, other, other, W, W] if first == "the global" else [other, W, W, other]
        return [[g.tolist() for g in f(x)] for x in calls]

    eager, compiled, f = _eager_and_compiled(run)
    assert compiled == eager
    assert [[2.0, 4.0], [2.0, 4.0]] in eager and [[5.0, 6.0], [1.0, 2.0]] in eager
    assert f.cache_info().replays >= 1


def test_a_parameter_passed_to_a_step_that_also_trains_it_is_told_apart() -> None:
    def run(wrap: Callable[..., Any]) -> list[Any]:
        ad.manual_seed(0)
        w = ad.tensor([0.5, -1.0], dtype=ad.float64, requires_grad=True)
        opt = optim.SGD([w], lr=0.1)

        def step(scale: ad.Tensor) -> float:
            opt.zero_grad()
            loss = ((w * scale) ** 2).sum()
            loss.backward()
            opt.step()
            return loss

        f = wrap(step)
        fixed = ad.tensor([2.0, 3.0], dtype=ad.float64)
        return [f(s).item() for s in (fixed, w, fixed, w, w)] + [w.tolist()]

    eager, compiled, _ = _eager_and_compiled(run)
    assert compiled == eager


def test_a_scheduler_made_inside_a_compiled_step_is_made_once() -> None:
    def run(wrap: Callable[..., Any]) -> list[Any]:
        w = ad.tensor([1.0, -1.0], dtype=ad.float64, requires_grad=True)
        opt = optim.SGD([w], lr=0.1)
        made: list[Any] = [None]

        def step() -> ad.Tensor:
            if made[0] is None:
                made[0] = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
            opt.zero_grad()
            loss = (w * w).sum()
            loss.backward()
            opt.step()
            made[0].step()
            return loss

        f = wrap(step)
        return [f().item() for _ in range(6)] + [opt.param_groups[0]["lr"], w.tolist()]

    eager, compiled, f = _eager_and_compiled(run)
    assert compiled == eager
    assert eager[6] == 0.1 * 0.5 ** 3
    assert f.cache_info().replays == 5


@pytest.mark.parametrize("op", ["gather", "scatter_add", "index_add", "index_select"])
@pytest.mark.parametrize("bad", [-1, 3])
def test_an_index_out_of_range_is_refused_on_every_call_not_only_the_first(op, bad) -> None:
    # the range check is an op (IndexRange), so a replay checks as eager does instead of
    # letting numpy take -1 as the last element (index_select eagerly too, as torch)
    uses = {"gather": lambda x, i: x.gather(1, i.reshape(1, -1)),
            "scatter_add": lambda x, i: x.scatter_add(1, i.reshape(1, -1), x[:, :2]),
            "index_add": lambda x, i: x.reshape(-1).index_add(0, i, x[0, :2]),
            "index_select": lambda x, i: x.reshape(-1).index_select(0, i)}
    f = ad.compile(uses[op])
    x = ad.tensor([[1.0, 2.0, 3.0]])
    for good in ([0, 2], [1, 1]):
        np.testing.assert_array_equal(f(x, ad.tensor(good)).numpy(),
                                      uses[op](x, ad.tensor(good)).numpy())
    for run in (uses[op], f):
        with pytest.raises(ad.DimError, match=rf"{op}: index values must lie in \[0, 3\)"):
            run(x, ad.tensor([0, bad]))
    assert f.cache_info().replays == 2


def test_a_compiled_function_called_inside_another_trace_is_traced_there() -> None:
    inner = ad.compile(lambda x: (x * 3).exp())
    x = ad.tensor([0.5, -1.0], requires_grad=True)
    for _ in range(3):                  # a program, and its quick replay, exist
        inner(x)
    assert inner.cache_info().replays == 2

    @ad.compile
    def outer(x: ad.Tensor) -> ad.Tensor:
        x.grad = None
        y = inner(x).sum()
        y.backward()
        return x.grad

    grads = [outer(x).tolist() for _ in range(3)]
    expected = (3 * np.exp(3 * np.array([0.5, -1.0], np.float32))).tolist()
    assert grads == [expected] * 3
    assert outer.cache_info().replays == 2 and "np.exp" in outer.source
    assert inner.cache_info().replays == 2  # it ran eagerly under outer's tracer


def test_a_compiled_function_runs_eagerly_under_anomaly_detection() -> None:
    f = ad.compile(lambda x: (x * x).sum())
    x = ad.tensor([1.0, 2.0])
    assert [f(x).item() for _ in range(3)] == [5.0] * 3
    with ad.detect_anomaly():
        assert f(x).item() == 5.0
    assert f.cache_info().replays == 2
    assert f(x).item() == 5.0 and f.cache_info().replays == 3
