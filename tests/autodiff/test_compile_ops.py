"""Every op replays under ad.compile, or is listed as falling back to eager: a compiled
function that uses the op (and backpropagates through it) gives eager's outputs and
gradients bit for bit on new values, replay after replay. Dropout and comparisons draw
and compute afresh on every call rather than keeping the first call's mask. The step
writes each op's forward and backward out as its own lines, but for the bodies listed
as staying calls."""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autodiff as ad
import nn
import optim
from autodiff.function import Function
from nn import functional as F

Input = tuple[int, ...] | Callable[[np.random.Generator], np.ndarray]


def labels(rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, 4, 3)


def gather_index(rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, 4, (3, 2))


def probabilities(rng: np.random.Generator) -> np.ndarray:
    return rng.random((3, 4)).astype(np.float32)


# op -> (a function that uses it, its inputs: a shape for a float tensor that requires
# grad, or a function drawing an array that does not)
CASES: dict[str, tuple[Callable[..., ad.Tensor], list[Input]]] = {
    "Abs": (lambda a: a.abs(), [(3, 4)]),
    "Add": (lambda a, b: a + b, [(3, 4), (4,)]),
    "Cast": (lambda a: a.to(ad.float64) * 2, [(3, 4)]),
    "Clip": (lambda a: a.clip(-0.5, 0.5), [(3, 4)]),
    "Div": (lambda a, b: a / (b * b + 1), [(3, 4), (3, 1)]),
    "Exp": (lambda a: a.exp(), [(3, 4)]),
    "LeakyReLU": (lambda a: F.leaky_relu(a, 0.1), [(3, 4)]),
    "Log": (lambda a: (a * a + 1).log(), [(3, 4)]),
    "Maximum": (lambda a, b: ad.maximum(a, b), [(3, 4), (3, 4)]),
    "Minimum": (lambda a, b: ad.minimum(a, b), [(3, 4), (4,)]),
    "Mul": (lambda a, b: a * b * 2, [(3, 4), (3, 4)]),
    "Neg": (lambda a: -a, [(3, 4)]),
    "Pow": (lambda a, b: (a * a + 1) ** b, [(3, 4), (4,)]),
    "ReLU": (lambda a: a.relu(), [(3, 4)]),
    "Sigmoid": (lambda a: a.sigmoid(), [(3, 4)]),
    "Sqrt": (lambda a: (a * a + 1).sqrt(), [(3, 4)]),
    "Sub": (lambda a, b: a - b, [(3, 4), (3, 1)]),
    "Tanh": (lambda a: a.tanh(), [(3, 4)]),
    "Where": (lambda a, b: ad.where(a > b, a, b * 3), [(3, 4), (3, 4)]),
    "MatMul": (lambda a, b: a @ b, [(3, 4), (4, 2)]),
    "Inverse": (lambda a: (a + ad.eye(3) * 4).inverse(), [(2, 3, 3)]),
    "Det": (lambda a: a.det() + a.slogdet().sign * a.slogdet().logabsdet, [(2, 3, 3)]),
    "BinaryCrossEntropy": (lambda a, t: F.binary_cross_entropy(a.sigmoid(), t),
                           [(3, 4), probabilities]),
    "BinaryCrossEntropyWithLogits": (F.binary_cross_entropy_with_logits,
                                     [(3, 4), probabilities]),
    "CrossEntropy": (F.cross_entropy, [(3, 4), labels]),
    "Linear": (F.linear, [(3, 4), (2, 4), (2,)]),
    "MSELoss": (F.mse_loss, [(3, 4), (3, 4)]),
    "NLLLoss": (lambda a, t: F.nll_loss(F.log_softmax(a, dim=1), t), [(3, 4), labels]),
    "Conv2d": (lambda a, w, b: F.conv2d(a, w, b, stride=(1, 2), padding=1, groups=2),
               [(2, 4, 5, 6), (6, 2, 3, 2), (6,)]),
    "MaxPool2d": (lambda a: F.max_pool2d(a, 2, stride=1, padding=1), [(2, 3, 5, 4)]),
    "MaxPositions": (lambda a: F.max_pool2d(a, 2, return_indices=True)[1], [(2, 3, 5, 4)]),
    "AvgPool2d": (lambda a: F.avg_pool2d(a, 3, stride=2, padding=1, ceil_mode=True),
                  [(2, 3, 5, 4)]),
    "Unfold": (lambda a: F.unfold(a, 2, dilation=2, padding=1), [(2, 3, 4, 5)]),
    "Fold": (lambda a: F.fold(a, (3, 4), 2), [(2, 8, 6)]),
    "Max": (lambda a: a.max() + a.max(dim=1).values.sum(), [(3, 4)]),
    "Min": (lambda a: a.min() + a.min(dim=0).values.sum(), [(3, 4)]),
    "Mean": (lambda a: a.mean(dim=0), [(3, 4)]),
    "Sum": (lambda a: a.sum(dim=1, keepdim=True), [(3, 4)]),
    "Var": (lambda a: a.var(dim=1), [(3, 4)]),
    "Std": (lambda a: a.std(dim=1) + a.std(), [(3, 4)]),
    "Prod": (lambda a: a.prod() + a.prod(dim=1).sum(), [(3, 4)]),
    "Norm": (lambda a: a.norm() + a.norm(p=1, dim=1).sum() + a.norm(p=float("inf"))
             + a.norm(p=3, dim=0, keepdim=True).sum(), [(3, 4)]),
    "Cat": (lambda a, b: ad.cat([a, b], dim=0), [(3, 4), (2, 4)]),
    "Expand": (lambda a: a.expand(3, 4) * 2, [(1, 4)]),
    "GetItem": (lambda a: a[1:, ::2] * 2, [(3, 4)]),
    "IndexRange": (lambda a, i: a.gather(1, i) * 2, [(3, 4), gather_index]),
    "Permute": (lambda a: a.permute(1, 0) * 2, [(3, 4)]),
    "Reshape": (lambda a: a.reshape(2, 6) * 2, [(3, 4)]),
    "Stack": (lambda a, b: ad.stack([a, b], dim=1), [(3, 4), (3, 4)]),
    "LogSoftmax": (lambda a: F.log_softmax(a, dim=1), [(3, 4)]),
    "LogSumExp": (lambda a: a.logsumexp(dim=0), [(3, 4)]),
    "Softmax": (lambda a: F.softmax(a, dim=1), [(3, 4)]),
    "ArgExtreme": (lambda a: a.argmax(dim=1) + a.argmin(), [(3, 4)]),
    "Binary": (lambda a, b: (a > b) | (a <= 0), [(3, 4), (3, 4)]),
    "Unary": (lambda a: ~(a > 0), [(3, 4)]),
    "IntegerCast": (lambda a: (a * 3).to(ad.int64), [(3, 4)]),
    "Reduction": (lambda a: (a > 0).all(dim=1) | (a > 1).any(), [(3, 4)]),
    "Contiguous": (lambda a: a.T.contiguous() * 2, [(3, 4)]),
    "Cumsum": (lambda a: a.cumsum(1) * 2, [(3, 4)]),
    "Scatter": (lambda a, b: a.scatter(1, ad.tensor([[2, 0], [1, 3], [0, 0]]), b[:, :2]),
                [(3, 4), (3, 4)]),
    "Einsum": (lambda a, b: ad.einsum("ij,kj->ik", a, b) + ad.einsum("ij->ji", b)[:3],
               [(3, 4), (3, 4)]),
    "Diagonal": (lambda a: a.diagonal() * 2 + a.diagonal(1, 0, 2).sum(-1), [(3, 3, 4)]),
    "UnfoldWindows": (lambda a: a.unfold(1, 2, 1) * 2 + a.unfold(2, 3, 2).sum(-1)[..., None],
                      [(3, 2, 4)]),
    "Argsort": (lambda a: a.argsort(dim=1) + a.argsort(dim=0), [(3, 4)]),
    "RunningArgExtreme": (lambda a: a.cummax(1).values * a.cummin(0).values, [(3, 4)]),
    "Sin": (lambda a: a.sin(), [(3, 4)]),
    "Cos": (lambda a: a.cos(), [(3, 4)]),
    "Tan": (lambda a: a.tan(), [(3, 4)]),
    "Asin": (lambda a: a.tanh().asin(), [(3, 4)]),
    "Acos": (lambda a: a.tanh().acos(), [(3, 4)]),
    "Atan": (lambda a: a.atan(), [(3, 4)]),
    "Atan2": (lambda a, b: a.atan2(b), [(3, 4), (4,)]),
    "Sinh": (lambda a: a.sinh(), [(3, 4)]),
    "Cosh": (lambda a: a.cosh(), [(3, 4)]),
    "Asinh": (lambda a: a.asinh(), [(3, 4)]),
    "Acosh": (lambda a: (a * a + 1.5).acosh(), [(3, 4)]),
    "Atanh": (lambda a: a.tanh().atanh(), [(3, 4)]),
    "Log2": (lambda a: (a * a + 1).log2(), [(3, 4)]),
    "Log10": (lambda a: (a * a + 1).log10(), [(3, 4)]),
    "Log1p": (lambda a: (a * a).log1p(), [(3, 4)]),
    "Expm1": (lambda a: a.expm1(), [(3, 4)]),
    "Erf": (lambda a: a.erf(), [(3, 4)]),
    "ErfInv": (lambda a: a.tanh().erfinv(), [(3, 4)]),
    "Step": (lambda a: (a.floor() + a.sign() + a.round(decimals=1)) * a, [(3, 4)]),
    "FloorDivide": (lambda a, b: (a // b) * a, [(3, 4), (4,)]),
    "Remainder": (lambda a, b: a % b, [(3, 4), (4,)]),
    "Fmod": (lambda a, b: a.fmod(b), [(3, 4), (4,)]),
    "Copysign": (lambda a, b: a.copysign(b), [(3, 4), (3, 1)]),
    "NanToNum": (lambda a: a.log().nan_to_num(), [(3, 4)]),
}

# op -> why it is not replayed, and a function that reaches it (it must warn)
FALLS_BACK: dict[str, tuple[str, Callable[[ad.Tensor], Any]]] = {
    "ScatterAdd": ("create_graph",   # made only by GetItem's backward with create_graph
                   lambda a: a[1:].sum().backward(create_graph=True)),
    "CopySlices": ("writes a value that requires grad",     # made only by in-place writes
                   lambda a: ad.zeros(4, 4).__setitem__(slice(1, None), a)),
}


# op -> why a trace never meets it (a test shows the case that comes closest)
NEVER_TRACED = {
    "CompiledForward": "the node of a compiled forward's replay; a compiled function "
                       "called inside a trace runs its own body eagerly there",
}


# op -> its bodies the generated step calls instead of writing out, and why (inlining
# carries no comprehension and no keyword-only parameter over)
STAY_CALLS = {
    "Cat": ({"forward", "backward"}, "a list comprehension, a generator expression"),
    "Det": ({"forward"}, "keyword-only `part`"),
    "Diagonal": ({"forward", "backward"}, "generator expressions"),
    "Einsum": ({"forward", "backward"}, "generator expressions, a dict comprehension"),
    "FloorDivide": ({"backward"}, "a generator expression"),
    "MaxPool2d": ({"backward"}, "a generator expression"),
    "MaxPositions": ({"forward"}, "a generator expression"),
    "Stack": ({"forward", "backward"}, "generator expressions"),
    "UnfoldWindows": ({"forward"}, "keyword-only `dim`, `size`, `step`"),
}


def all_ops() -> set[str]:
    """The library's ops (not the Functions other tests define)."""
    found, todo = set(), [Function]
    while todo:
        for op in todo.pop().__subclasses__():
            if op.__module__.startswith("autodiff."):
                found.add(op.__name__)
            todo.append(op)
    return found


def test_every_op_replays_or_is_listed_as_falling_back() -> None:
    assert all_ops() == set(CASES) | set(FALLS_BACK) | set(NEVER_TRACED)


def test_a_compiled_model_inside_a_compiled_step_is_traced_as_its_ops() -> None:
    ad.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    compiled_model = ad.compile(model)
    opt = optim.SGD(model.parameters(), lr=0.1)

    def step(x: ad.Tensor) -> ad.Tensor:
        opt.zero_grad()
        loss = (compiled_model(x) ** 2).mean()
        loss.backward()
        opt.step()
        return loss

    compiled_step = ad.compile(step, fullgraph=True)
    x = ad.tensor(np.arange(6.0, dtype=np.float32).reshape(2, 3))
    compiled_step(x), compiled_step(x)
    assert "CompiledForward" not in compiled_step.source
    assert "np.tanh(" in compiled_step.source      # the model's tanh, inlined in the step
    assert compiled_step.cache_info().replays == 1
    assert compiled_model.cache_info().traces == 0


def draw(rng: np.random.Generator, inputs: list[Input]) -> list[ad.Tensor]:
    return [ad.tensor(rng.standard_normal(spec).astype(np.float32), requires_grad=True)
            if isinstance(spec, tuple) else ad.tensor(spec(rng)) for spec in inputs]


def step_of(fn: Callable[..., ad.Tensor]) -> Callable[..., tuple[ad.Tensor, ...]]:
    """fn's output and, when it is differentiable, the inputs' gradients of its sum."""

    def step(*xs: ad.Tensor) -> tuple[ad.Tensor, ...]:
        for x in xs:
            x.grad = None
        out = fn(*xs)
        if not out.requires_grad:
            return (out,)
        (out * out).sum().backward()
        return (out.detach(), *[x.grad for x in xs if x.requires_grad])

    return step


@pytest.mark.parametrize("op", sorted(CASES))
def test_op_replays_as_eager(op: str) -> None:
    fn, inputs = CASES[op]
    step = step_of(fn)
    compiled = ad.compile(step, fullgraph=True)
    rng = np.random.default_rng(0)
    for _ in range(3):
        xs = draw(rng, inputs)
        twins = [ad.tensor(x.numpy(), requires_grad=x.requires_grad) for x in xs]
        got, expected = compiled(*xs), step(*twins)
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            assert g.dtype == e.dtype
            np.testing.assert_array_equal(g.numpy(), e.numpy())
    assert compiled.cache_info().replays == 2
    called = {m.group(2) for m in re.finditer(rf"\b{op}(_\d+)?\.(forward|backward)\(",
                                              compiled.source)}
    assert called == STAY_CALLS.get(op, (set(), ""))[0]


@pytest.mark.parametrize("op", sorted(FALLS_BACK))
def test_op_that_falls_back_warns_and_runs_eagerly(op: str) -> None:
    reason, fn = FALLS_BACK[op]
    a = ad.tensor(np.ones((3, 4), np.float32), requires_grad=True)
    compiled = ad.compile(fn)
    with pytest.warns(ad.CompileWarning, match=reason):
        compiled(a)
    assert compiled.cache_info().eager_reason is not None


def test_dropout_draws_a_new_mask_on_every_replay_as_eager_does() -> None:
    def forward(x: ad.Tensor) -> ad.Tensor:
        return F.dropout(x, p=0.5) + nn.functional.dropout(x * 2, p=0.25)

    compiled = ad.compile(forward)
    x = ad.ones(64)
    ad.manual_seed(4)
    eager = [forward(x).tolist() for _ in range(4)]
    ad.manual_seed(4)
    replayed = [compiled(x).tolist() for _ in range(4)]
    assert replayed == eager and eager[2] != eager[3]
    assert compiled.cache_info().replays == 3


def test_a_comparison_mask_is_computed_afresh_on_every_replay() -> None:
    compiled = ad.compile(lambda x: x * (x > 0))
    assert compiled(ad.tensor([1.0, -1.0])).tolist() == [1.0, -0.0]
    assert compiled(ad.tensor([-2.0, 3.0])).tolist() == [-0.0, 3.0]
    assert compiled.cache_info().replays == 1


def test_class_targets_are_converted_and_checked_on_every_replay() -> None:
    step = ad.compile(lambda x, t: F.nll_loss(x, t))
    x = ad.tensor(np.log(np.full((2, 3), 1 / 3, np.float32)))
    for labels_ in ([0, 2], [1, 1]):                 # int32: converted, not baked in
        t = ad.tensor(np.array(labels_, np.int32))
        weights = np.zeros((2, 3), np.float32)
        weights[[0, 1], labels_] = [1.0, 2.0]
        got = step(x * ad.tensor(weights + 1), t).item()
        expected = F.nll_loss(x * ad.tensor(weights + 1), t).item()
        assert got == expected
    with pytest.raises(IndexError, match="target holds class 3, but the input has 3 classes"):
        step(x, ad.tensor(np.array([0, 3], np.int32)))
    assert step.cache_info().replays == 2


def test_probabilities_are_checked_on_every_replay() -> None:
    loss = ad.compile(F.binary_cross_entropy)
    t = ad.zeros(2)
    assert loss(ad.tensor([0.5, 0.5]), t).item() == pytest.approx(np.log(2))
    with pytest.raises(ad.DomainError, match="from 0.5 to 1.5"):
        loss(ad.tensor([0.5, 1.5]), t)
    with pytest.raises(ad.DomainError, match="every target .* from -1.0 to 0.0"):
        loss(ad.tensor([0.5, 0.5]), ad.tensor([-1.0, 0.0]))
    assert loss.cache_info().replays == 2


def test_dropout2d_draws_a_new_channel_mask_on_every_replay() -> None:
    compiled = ad.compile(lambda x: F.dropout2d(x, p=0.5))
    x = ad.ones(2, 8, 1, 1)
    ad.manual_seed(3)
    eager = [F.dropout2d(x, p=0.5).tolist() for _ in range(4)]
    ad.manual_seed(3)
    assert [compiled(x).tolist() for _ in range(4)] == eager and eager[2] != eager[3]
    assert compiled.cache_info().replays == 3


def batch_norm_net(momentum: float | None) -> tuple[nn.Module, Any]:
    ad.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4, momentum=momentum),
                          nn.ReLU(), nn.Flatten(), nn.Linear(4 * 5 * 5, 3))
    optimizer = optim.SGD(model.parameters(), lr=0.1)

    def step(x: ad.Tensor, y: ad.Tensor) -> ad.Tensor:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        return loss.detach()

    return model, step


def test_batch_norm_running_statistics_are_updated_on_every_replay() -> None:
    rng = np.random.default_rng(0)
    batches = [(ad.tensor(rng.normal(size=(6, 1, 5, 5)).astype(np.float32)),
                ad.tensor(rng.integers(0, 3, 6))) for _ in range(5)]
    runs = []
    for compile_ in (False, True):
        model, step = batch_norm_net(momentum=0.1)
        step = ad.compile(step, fullgraph=True) if compile_ else step
        losses = [step(x, y).item() for x, y in batches]
        bn = model[1]
        runs.append((losses, bn.running_mean.tolist(), bn.running_var.tolist(),
                     bn.num_batches_tracked.item()))
        model.eval()                                  # eval uses the running statistics
        evaluate = ad.compile(model.forward, fullgraph=True) if compile_ else model.forward
        with ad.no_grad():
            runs[-1] += tuple(evaluate(x).tolist() for x, _ in batches[:2])
    assert runs[1] == runs[0]
    assert runs[0][3] == 5 and runs[0][1] != [0.0] * 4
    assert step.cache_info().replays == 4 and evaluate.cache_info().replays == 1


def test_batch_norm_with_a_cumulative_average_falls_back_to_eager() -> None:
    model, step = batch_norm_net(momentum=None)
    compiled = ad.compile(step)
    x, y = ad.randn(6, 1, 5, 5), ad.tensor([0, 1, 2, 0, 1, 2])
    with pytest.warns(ad.CompileWarning, match=r"BatchNorm2d\(4\) with momentum=None"):
        compiled(x, y)
    compiled(x, y)
    assert model[1].num_batches_tracked.item() == 2
    with pytest.raises(ad.CompileError, match="momentum=None"):
        ad.compile(step, fullgraph=True)(x, y)
