"""Inlined ops (autodiff/jit/inline.py): an op's forward and backward written into the
generated step as their own bodies, with what the trace fixed folded, give the eager
numbers bit for bit; names cannot collide; a body inlining cannot carry stays a call.
(test_compile_ops.py replays every op of the engine, inlined where it can be.)"""
from __future__ import annotations

from typing import Any

import numpy as np

import autodiff as ad
import nn
from autodiff.function import Function

from .test_compile import _eager_and_compiled


class Scaled(Function):
    """y = factor · x (a test op with an early return, a default and needs_input_grad)"""

    @staticmethod
    def forward(ctx, x, factor=2.0, bias=None):
        need_x, = ctx.needs_input_grad
        ctx.save_for_backward(x if need_x else None)
        ctx.factor = factor
        if bias is None:
            return x * factor
        return x * factor + bias

    @staticmethod
    def backward(ctx, grad):
        if not ctx.needs_input_grad[0]:
            return None
        grad = grad * ctx.factor
        return grad


class Guarded(Function):
    """y = √x, a ValueError caught and named inside the body, and a return inside `with`
    (which keeps the body from being inlined)"""

    @staticmethod
    def forward(ctx, x):
        try:
            root = np.sqrt(x)
        except ValueError as error:
            raise ad.ShapeError(str(error)) from error
        ctx.save_for_backward(root)
        return root

    @staticmethod
    def backward(ctx, grad):
        root, = ctx.saved_tensors
        with np.errstate(divide="ignore"):
            return grad / (2 * root)


def test_an_inlined_body_replays_bit_for_bit_with_its_branches_folded() -> None:
    def run(wrap: Any) -> list[Any]:
        def step(x: ad.Tensor, w: ad.Tensor) -> ad.Tensor:
            w.grad = None
            y = Scaled.apply(x * w) + Scaled.apply(w, factor=-0.5)
            y.sum().backward()
            return w.grad

        f = wrap(step)
        w = ad.tensor([0.25, -1.5], requires_grad=True)
        return [f(ad.tensor([1.0, 3.0]), w).tolist() for _ in range(3)]

    eager, compiled, f = _eager_and_compiled(run)
    assert compiled == eager == [[2.0 - 0.5, 6.0 - 0.5]] * 3
    assert f.cache_info().replays == 2
    lines = [line.split("#")[0].strip() for line in f.source.splitlines()]
    assert not any("Scaled." in line for line in lines)
    # the default folded in, `bias is None` decided, the return made the target
    assert "scaled = mul * 2.0" in lines and "scaled_2 = w * -0.5" in lines
    assert "ctx_scaled.saved_tensors = (mul,)" in lines


def test_argument_names_cannot_hide_what_an_inlined_body_reads() -> None:
    # tanh's backward reads the global `scalar`; the step's own names take it first
    def run(wrap: Any) -> list[Any]:
        def step(scalar: ad.Tensor, np: ad.Tensor, g: ad.Tensor) -> ad.Tensor:
            scalar.grad = None
            (scalar.tanh() * np + g.sigmoid()).sum().backward()
            return scalar.grad

        f = wrap(step)
        args = [ad.tensor([0.5, -2.0], requires_grad=True), ad.tensor([1.0, 3.0]),
                ad.tensor([4.0, 0.0])]
        return [f(*args).tolist() for _ in range(3)]

    eager, compiled, f = _eager_and_compiled(run)
    assert compiled == eager
    assert f.cache_info().replays == 2
    assert "scalar_2(1," in f.source and "scalar = args[0]._data" in f.source


def test_a_body_inlining_cannot_carry_stays_a_call() -> None:
    def run(wrap: Any) -> list[Any]:
        def step(x: ad.Tensor) -> ad.Tensor:
            x.grad = None
            Guarded.apply(x).sum().backward()
            return x.grad

        f = wrap(step)
        x = ad.tensor([4.0, 0.25], requires_grad=True)
        return [f(x).tolist() for _ in range(3)]

    eager, compiled, f = _eager_and_compiled(run)
    assert compiled == eager == [[0.25, 1.0]] * 3
    assert f.cache_info().replays == 2
    source = f.source
    assert "Guarded.backward(ctx" in source             # a return inside `with`
    assert "Guarded.forward(" not in source and "except ValueError as error" in source


def test_each_program_folds_the_branches_its_own_arrays_decide() -> None:
    # linear's forward takes np.dot for a 2-d input and @ otherwise; its backward
    # flattens batch dims for other shapes: each shape's program keeps its own branch
    def run(wrap: Any) -> list[Any]:
        ad.manual_seed(0)
        layer = nn.Linear(3, 2)

        def step(x: ad.Tensor) -> ad.Tensor:
            layer.zero_grad()
            layer(x).square().sum().backward()
            return layer.weight.grad

        f = wrap(step)
        shapes = [(4, 3), (2, 4, 3), (3,), (4, 3)]
        return [f(ad.tensor(np.arange(np.prod(s), dtype=np.float32).reshape(s) / 7)).tolist()
                for s in shapes]

    eager, compiled, f = _eager_and_compiled(run)
    assert compiled == eager
    assert f.cache_info().traces == 3 and f.cache_info().replays == 1
    source = f.source                    # the last program: a 2-d input
    assert "np.dot(x, weight.T)" in source and " @ " not in source


def test_rewrites_kept_for_reuse_tell_apart_constants_that_compare_equal() -> None:
    # 0.0 == -0.0, but the rewrite of Scaled's forward that folds one in is not the other's
    def reciprocal_of_scaled(factor: float) -> Any:
        return ad.compile(lambda x: 1 / Scaled.apply(x, factor=factor))

    positive, negative = reciprocal_of_scaled(0.0), reciprocal_of_scaled(-0.0)
    x = ad.tensor([2.0])
    for _ in range(2):
        assert positive(x).item() == np.inf and negative(x).item() == -np.inf
    assert positive.cache_info().replays == negative.cache_info().replays == 1


class Shifted(Function):
    """y = x + 1, its backward reassigning its parameter after reading it"""

    @staticmethod
    def forward(ctx, x):
        return x + 1

    @staticmethod
    def backward(ctx, grad):
        doubled = grad * 2
        grad = None
        return doubled if grad is None else grad


def test_a_parameter_reassigned_to_a_constant_is_read_before_as_the_argument() -> None:
    def run(wrap: Any) -> list[Any]:
        def step(x: ad.Tensor) -> ad.Tensor:
            x.grad = None
            Shifted.apply(x).sum().backward()
            return x.grad

        f = wrap(step)
        return [f(ad.tensor([1.0, -3.0], requires_grad=True)).tolist() for _ in range(3)]

    eager, compiled, f = _eager_and_compiled(run)
    assert compiled == eager == [[2.0, 2.0]] * 3
    assert "Shifted.backward" not in f.source and f.cache_info().replays == 2


def test_none_true_and_false_arguments_are_constants_not_variables() -> None:
    # clip(x, None, 1.0): `low is not None` must fold to False, not to an array's True
    def run(wrap: Any) -> list[Any]:
        f = wrap(lambda x: (x.clamp(None, 1.0), x.clamp(-1.0, None)))
        x = ad.tensor([-2.0, 0.5, 3.0])
        return [[t.tolist() for t in f(x)] for _ in range(3)]

    eager, compiled, f = _eager_and_compiled(run)
    assert compiled == eager == [[[-2.0, 0.5, 1.0], [-1.0, 0.5, 3.0]]] * 3
    assert f.cache_info().replays == 2 and "Clip.forward" not in f.source
