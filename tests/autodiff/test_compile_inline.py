"""Inlined ops (autodiff/jit/inline.py): autodiff's own ops' forward and backward written
into the generated step as their own bodies, with what the trace fixed folded, give the
eager numbers bit for bit; names cannot collide; globals are read when the line runs;
ops from other modules, and bodies inlining cannot carry over, stay calls. The rewriting
itself is checked on op classes defined here, run through `inline` directly.
(test_compile_ops.py replays every op of the engine, inlined where it can be.)"""
from __future__ import annotations

import re
import warnings
from typing import Any

import numpy as np
import pytest

import autodiff as ad
import nn
import optim
from autodiff.function import Function
from autodiff.jit.codegen import run_once, saved_read_directly
from autodiff.jit.inline import inline
from autodiff.ops import losses
from nn import functional as F

from .test_compile import _eager_and_compiled


class Context:
    """An op context's stand-in: attributes only."""


def test_library_ops_are_inlined_with_their_branches_folded() -> None:
    def run(wrap: Any) -> list[Any]:
        def step(x: ad.Tensor, w: ad.Tensor) -> ad.Tensor:
            w.grad = None
            F.linear(x, w).clamp(None, 1.0).sum().backward()
            return w.grad

        f = wrap(step)
        w = ad.tensor([[0.25, -1.5], [2.0, 0.5]], requires_grad=True)
        return [f(ad.tensor([[1.0, 3.0]]), w).tolist() for _ in range(3)]

    eager, compiled, f = _eager_and_compiled(run)
    assert compiled == eager == [[[1.0, 3.0], [0.0, 0.0]]] * 3
    assert f.cache_info().replays == 2
    lines = [line.split("#")[0].strip() for line in f.source.splitlines()]
    assert not any(".forward(" in line or ".backward(" in line for line in lines)
    # no bias: `bias is not None` decided, so no `+=`; x is 2-d: np.dot; low is None
    assert "linear = np.dot(x, w.T)" in lines and not any("+=" in line for line in lines)
    assert "if None is not None" not in f.source and "inside &= linear >= None" not in f.source


def test_ops_of_other_modules_and_bodies_inlining_cannot_carry_stay_calls() -> None:
    class Doubled(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    def run(wrap: Any) -> list[Any]:
        def step(x: ad.Tensor, y: ad.Tensor) -> ad.Tensor:
            x.grad = None
            ad.cat([Doubled.apply(x), y]).sum().backward()
            return x.grad

        f = wrap(step)
        return [f(ad.tensor([1.0, 2.0], requires_grad=True), ad.tensor([3.0])).tolist()
                for _ in range(3)]

    eager, compiled, f = _eager_and_compiled(run)
    assert compiled == eager == [[2.0, 2.0]] * 3
    source = f.source
    assert "Doubled.forward(ctx_doubled, x)" in source and "Doubled.backward(" in source
    assert "Cat.forward(" in source             # a return inside a loop: a call


def test_names_in_the_step_cannot_hide_what_an_inlined_body_reads() -> None:
    # Var's forward reads the builtin max, tanh's backward elementwise.scalar: the step's
    # own arguments, and its function's name, take other names
    def run(wrap: Any) -> list[Any]:
        def step(elementwise: ad.Tensor, np: ad.Tensor, g: ad.Tensor) -> ad.Tensor:
            elementwise.grad = None
            (elementwise.tanh() * np + g.sigmoid()).var().backward()
            return elementwise.grad

        step.__name__ = "max"
        f = wrap(step)
        args = [ad.tensor([0.5, -2.0], requires_grad=True), ad.tensor([1.0, 3.0]),
                ad.tensor([4.0, 0.0])]
        return [f(*args).tolist() for _ in range(3)]

    eager, compiled, f = _eager_and_compiled(run)
    assert compiled == eager
    assert f.cache_info().replays == 2
    source = f.source
    assert source.startswith("def max_2(args):") and "elementwise_2.scalar(1," in source
    assert "elementwise = args[0]._data" in source


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
    # 0.0 == -0.0, but the rewrite of Mul's forward that folds one in is not the other's
    positive = ad.compile(lambda x: 1 / (x * 0.0))
    negative = ad.compile(lambda x: 1 / (x * -0.0))
    x = ad.tensor([2.0])
    for _ in range(2):
        assert positive(x).item() == np.inf and negative(x).item() == -np.inf
    assert positive.cache_info().replays == negative.cache_info().replays == 1


def test_a_negative_number_folded_in_keeps_its_sign_under_a_power() -> None:
    def run(wrap: Any) -> list[Any]:
        f = wrap(lambda x: ((-2.0) ** x, (-0.0) ** (x - x)))
        return [[t.tolist() for t in f(ad.tensor([2.0, 3.0]))] for _ in range(3)]

    eager, compiled, f = _eager_and_compiled(run)
    assert compiled == eager == [[[4.0, -8.0], [1.0, 1.0]]] * 3
    assert f.cache_info().replays == 2


def test_none_true_and_false_arguments_are_constants_not_variables() -> None:
    # clip(x, None, 1.0): `low is not None` must fold to False, not to an array's True
    def run(wrap: Any) -> list[Any]:
        f = wrap(lambda x: (x.clamp(None, 1.0), x.clamp(-1.0, None)))
        x = ad.tensor([-2.0, 0.5, 3.0])
        return [[t.tolist() for t in f(x)] for _ in range(3)]

    eager, compiled, f = _eager_and_compiled(run)
    assert compiled == eager == [[[-2.0, 0.5, 1.0], [-1.0, 0.5, 3.0]]] * 3
    assert f.cache_info().replays == 2 and "Clip.forward" not in f.source


def test_a_global_an_inlined_body_reads_is_read_when_the_line_runs(monkeypatch) -> None:
    calls = []
    per_loss = losses.per_loss

    def counted(*args: Any) -> Any:
        calls.append(1)
        return per_loss(*args)

    def step(x: ad.Tensor, t: ad.Tensor) -> ad.Tensor:
        x.grad = None
        F.mse_loss(x, t).backward()
        return x.grad

    f = ad.compile(step)
    x, t = ad.tensor([[1.0, 2.0]], requires_grad=True), ad.tensor([[0.5, 1.5]])
    f(x, t), f(x, t)
    assert "losses.per_loss(" in f.source
    monkeypatch.setattr(losses, "per_loss", counted)     # what eager would call now
    f(x, t)
    assert calls == [1] and f.cache_info().replays == 2


def test_a_numpy_scalar_gradient_reaches_the_next_backward_as_the_array_eager_makes() -> None:
    class Tagged(Function):
        """y = x; dL/dx tells which kind of gradient its backward got (an array, as
        backward makes every gradient it sends on, gives 1/2)"""

        @staticmethod
        def forward(ctx, x):
            return x.copy()

        @staticmethod
        def backward(ctx, grad):
            return grad * (0.5 if type(grad) is np.ndarray else 0.25)

    def run(wrap: Any) -> list[Any]:
        def step(a: ad.Tensor, b: ad.Tensor) -> ad.Tensor:
            a.grad = None
            Tagged.apply(a * b).exp().backward()       # mul's backward gives 0-d scalars
            return a.grad

        f = wrap(step)
        return [f(ad.tensor(1.5, requires_grad=True), ad.tensor(2.0)).item() for _ in range(3)]

    eager, compiled, f = _eager_and_compiled(run)
    assert compiled == eager
    assert f.cache_info().replays == 2


def test_another_modules_op_warns_in_replays_as_in_eager() -> None:
    class Logged(Function):
        @staticmethod
        def forward(ctx, x):
            return np.log(x)

        @staticmethod
        def backward(ctx, grad):
            return grad

    f = ad.compile(lambda x: Logged.apply(x))
    f(ad.tensor([1.0, 2.0])), f(ad.tensor([1.0, 2.0]))
    with warnings.catch_warnings(record=True) as caught:
        warnings.filterwarnings("always", append=True)      # after autodiff's own filter
        f(ad.tensor([0.0, 1.0]))
    assert f.cache_info().replays == 2
    assert any("divide by zero" in str(w.message) for w in caught)


# ---------------------------------------------------------------- the rewriting itself

def inlined(op: type, which: str, *arguments: str, needs: tuple[bool, ...] = (True,),
            **values: Any) -> Any:
    """Run op.which's inlined lines on `values` (the arguments' variables) and return the
    target; the lines come from `inline` on `op` (a class of this module)."""
    ctx = op.__new__(op)
    ctx._needs_input_grad, ctx.saved_tensors = needs, ()
    namespace: dict[str, Any] = {"ctx": ctx, **values}

    def bind(name: str, value: Any) -> str:
        namespace[f"bound_{name}"] = value
        return f"bound_{name}"

    written = inline(op, which, list(arguments), {}, "ctx", needs, {}, "out",
                     lambda hint: f"local_{hint}", bind)
    assert written is not None, "not inlined"
    source = "\n".join(["def lines():", *(f"    {line}" for line in written[0]),
                        "    return out", ""])
    return run_once(source, "lines", namespace)()


class Reassigned(Function):
    @staticmethod
    def forward(ctx, x):
        doubled = x * 2
        x = None
        return doubled if x is None else x

    @staticmethod
    def backward(ctx, grad):
        return grad


class Tripled(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 3

    @staticmethod
    def backward(ctx, grad):
        return grad * 3


# A comment at the module's indentation right after a body is not the body's: taken with
# it, the dedent failed and the body stayed a call (seven of the library's did, such as
# Pow's and Conv2d's backward).


class Nested(Function):
    @staticmethod
    def forward(ctx, x, scale):
        if scale > 0:
            if x.size == 0:
                return x
            y = x * scale
        else:
            y = -x
        if x.ndim > 0:
            return y
        return x * 0

    @staticmethod
    def backward(ctx, grad):
        return grad


class Guarded(Function):
    @staticmethod
    def forward(ctx, x, dims=None):
        if dims is not None and 0 in dims:
            return x * 0
        if ctx.needs_input_grad[0] and len(ctx.needs_input_grad) > 1 \
                and ctx.needs_input_grad[1]:
            return x * 3
        return x + 1

    @staticmethod
    def backward(ctx, grad):
        return grad


@pytest.mark.parametrize("scale, expected", [(-1.0, [-1.0, -2.0]), (2.0, [2.0, 4.0])])
def test_each_branch_after_a_return_is_lowered_on_its_own_copy(scale, expected) -> None:
    x = np.array([1.0, 2.0])
    assert Nested.forward(None, x, scale).tolist() == expected
    assert inlined(Nested, "forward", "x", repr(scale), x=x).tolist() == expected


def test_a_body_followed_by_a_comment_at_the_modules_indentation_is_inlined() -> None:
    assert inlined(Tripled, "backward", "g", g=np.array([1.0, -2.0])).tolist() == [3.0, -6.0]


def test_a_parameter_reassigned_in_the_body_is_read_before_as_the_argument() -> None:
    x = np.array([1.0, -3.0])
    assert inlined(Reassigned, "forward", "x", x=x).tolist() == [2.0, -6.0]


def test_folding_leaves_what_cannot_be_evaluated_to_where_the_code_reaches_it() -> None:
    # `0 in None` and needs_input_grad[1] of a one-input op are never reached eagerly
    x = np.array([1.0, 2.0])
    assert inlined(Guarded, "forward", "x", x=x).tolist() == [2.0, 3.0]
    assert inlined(Guarded, "forward", "x", "(0,)", x=x).tolist() == [0.0, 0.0]


def test_an_op_context_only_carrying_saved_values_is_read_through_the_variables() -> None:
    def run(wrap: Any) -> list[Any]:
        model = nn.Sequential(nn.Linear(2, 3), nn.Sigmoid(), nn.Linear(3, 1))
        for i, p in enumerate(model.parameters()):
            p.data = ad.linspace(-1.0, 1.0, p.numel()).reshape(p.shape) * (i + 1)
        opt = optim.SGD(model.parameters(), lr=0.1)

        def step(x: ad.Tensor) -> ad.Tensor:
            opt.zero_grad()
            loss = (model(x) ** 2).mean()
            loss.backward()
            opt.step()
            return loss

        f = wrap(step)
        x = ad.tensor([[0.5, -1.0], [2.0, 0.25]])
        return [f(x).item() for _ in range(3)] + [p.tolist() for p in model.parameters()]

    eager, compiled, f = _eager_and_compiled(run)
    assert compiled == eager
    code = [line.split("#")[0].rstrip() for line in f.source.splitlines()]
    assert not any("ctx_linear" in line or "ctx_sigmoid" in line for line in code)
    assert "    x_2, weight = sigmoid, layer2_weight" in code
    assert any(re.fullmatch(r"    y(_\d+)? = sigmoid", line) for line in code)


def test_a_saved_array_replaced_before_the_backward_is_still_the_one_saved() -> None:
    # opt.step()'s hook gives x a new array between the forward that saved x and its
    # backward; the second forward reads x again, so the step's variable for x changes,
    # and the backward must still use the array the forward saved
    def run(wrap: Any) -> list[Any]:
        w = ad.tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True)
        x = ad.tensor([[1.0, 1.0]])
        opt = optim.SGD([w], lr=0.1)
        opt.register_step_pre_hook(lambda *_: setattr(x, "data", x.detach() * 2))

        def step(x: ad.Tensor) -> ad.Tensor:
            w.grad = None
            first = F.linear(x, w).sum()
            opt.step()
            second = F.linear(x, w).sum()
            first.backward()
            return second

        f = wrap(step)
        return [(f(x).item(), w.grad.tolist()) for _ in range(3)]

    eager, compiled, f = _eager_and_compiled(run)
    assert compiled == eager == [(5.0, [[1.0, 1.0]] * 2), (10.0, [[2.0, 2.0]] * 2),
                                 (20.0, [[4.0, 4.0]] * 2)]
    assert f.cache_info().replays == 1       # (the second call traces again: x's array)
    assert "x_2, weight = x, None" in f.source


def test_saved_values_stay_in_the_context_unless_they_are_carried_safely() -> None:
    source = "\n".join([
        "def step(args):",
        "    x = args[0]",
        "    w = args[1]",
        "    層 = args[2]",
        "    ctx_a.saved_tensors = (x, None)              # a   the op's line",
        "    a = x * 2",
        "    ctx_b.saved_tensors = (w,)                   # b",
        "    b = w * 2",
        "    ctx_c.saved_tensors = (層, 'a # b')          # c",
        "    c = 層 + 1                                    # (commented already)",
        "    ctx_d.saved_tensors = (x,)",
        "    d = f(ctx_d)",
        "    ctx_e.saved_tensors = ('p  # q',)",
        "    ctx_f.saved_tensors = (a,)",
        "    g('  # ', a := 5)",
        "    w = w + 1",
        "    u, v = ctx_a.saved_tensors                   # d a",
        "    y, = ctx_b.saved_tensors",
        "    k, t = ctx_c.saved_tensors",
        "    z, = ctx_d.saved_tensors",
        "    e = ctx_e.saved_tensors[0]",
        "    h, = ctx_f.saved_tensors",
        "    return (u, v, y, k, t, z, a, b, c, d, e, h)",
        ""])
    written = saved_read_directly(source)
    lines = written.splitlines()
    assert lines[4:6] == ["    a = x * 2                                     # a   the op's line",
                          "    ctx_b.saved_tensors = (w,)                   # b"]  # w: two values
    assert "    y, = ctx_b.saved_tensors" in lines
    assert lines[7] == "    # c"
    assert lines[8].startswith("    c = 層 + 1  ")
    assert "    k, t = 層, 'a # b'" in lines
    assert "    ctx_d.saved_tensors = (x,)" in lines                # ctx_d is passed on
    assert "    ctx_e.saved_tensors = ('p  # q',)" in lines         # (not parsed: kept)
    assert "    h, = ctx_f.saved_tensors" in lines   # a is assigned again after "  # "
    assert "    u, v = x, None                                # d a" in lines
    namespace = {"ctx_a": Context(), "ctx_b": Context(), "ctx_c": Context(),
                 "ctx_d": Context(), "ctx_e": Context(), "ctx_f": Context(),
                 "f": lambda ctx: 0, "g": lambda *_: None}
    assert run_once(written, "step", namespace)([1, 2, 3]) == \
        (1, None, 2, 3, "a # b", 1, 5, 4, 4, 0, "p  # q", 2)
    assert not hasattr(namespace["ctx_a"], "saved_tensors")
