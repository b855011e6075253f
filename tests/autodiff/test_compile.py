"""ad.compile (autodiff/jit/): compiled training steps give eager's
numbers bit for bit; every guard retraces when what it guards changes (and a replay that
ignored it would give other numbers); value reads and what replay cannot follow fall back
to eager with one warning naming the line, or raise with fullgraph=True."""
from __future__ import annotations

import copy
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autodiff as ad
import nn
import optim
from nn import functional as F

STEPS = 200


def mnist_net() -> nn.Module:
    return nn.Sequential(nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                         nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10), nn.LogSoftmax(dim=1))


def regression_net() -> nn.Module:
    return nn.Sequential(nn.Linear(1, 2), nn.Sigmoid(), nn.Linear(2, 5), nn.Sigmoid(),
                         nn.Linear(5, 1))


def xor_net() -> nn.Module:
    return nn.Sequential(nn.Linear(2, 10), nn.Tanh(), nn.Linear(10, 1), nn.Sigmoid())


def training(make_model: Callable[[], nn.Module], make_opt: Callable[[Any], optim.Optimizer],
             loss_fn: Callable[..., ad.Tensor], dtype: type = np.float32
             ) -> tuple[nn.Module, Callable[..., ad.Tensor]]:
    """A model (seed 0) and its training step, as a user writes it."""
    ad.manual_seed(0)
    model = make_model().to(dtype)
    opt = make_opt(model.parameters())

    def train_step(x: ad.Tensor, y: ad.Tensor) -> ad.Tensor:
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return model, train_step


def batches(shape: tuple[int, ...], target: Callable[[np.random.Generator, np.ndarray], Any],
            dtype: type = np.float32, count: int = STEPS) -> list[tuple[ad.Tensor, ad.Tensor]]:
    rng = np.random.default_rng(1)
    out = []
    for _ in range(count):
        x = rng.random(shape).astype(dtype)
        out.append((ad.tensor(x), ad.tensor(target(rng, x))))
    return out


def labels(rng: np.random.Generator, x: np.ndarray) -> np.ndarray:
    """A class a net can learn: which of the first ten pixels is brightest."""
    return x[:, :10].argmax(axis=1)


WORKLOADS = {
    "mnist-15": (mnist_net, lambda p: optim.Adam(p, lr=1e-3), F.nll_loss, (15, 784), labels),
    "mnist-128": (mnist_net, lambda p: optim.Adam(p, lr=1e-3), F.nll_loss, (128, 784), labels),
    "regression": (regression_net, lambda p: optim.Adam(p, lr=0.02), F.mse_loss, (1, 1),
                   lambda rng, x: 2.3 * x + 4.7),
    "xor": (xor_net, lambda p: optim.SGD(p, lr=0.1), F.binary_cross_entropy, (4, 2),
            lambda rng, x: (x.round().sum(axis=1, keepdims=True) % 2)),
}


def assert_same_parameters(a: nn.Module, b: nn.Module) -> None:
    for (name, p), q in zip(a.named_parameters(), b.parameters()):
        assert p.dtype == q.dtype, name
        np.testing.assert_array_equal(p.numpy(), q.numpy(), err_msg=name)
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy(), err_msg=name)


# ------------------------------------------------------------------ the same numbers as eager

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("workload", sorted(WORKLOADS))
def test_compiled_training_equals_eager_bit_for_bit(workload: str, dtype: type) -> None:
    make_model, make_opt, loss_fn, shape, target = WORKLOADS[workload]
    data = batches(shape, target, dtype, count=STEPS if dtype is np.float32 else 40)
    eager_model, eager_step = training(make_model, make_opt, loss_fn, dtype)
    compiled_model, step = training(make_model, make_opt, loss_fn, dtype)
    compiled = ad.compile(step)
    eager_losses = [eager_step(x, y).item() for x, y in data]
    compiled_losses = [compiled(x, y).item() for x, y in data]
    assert compiled_losses == eager_losses
    assert len(set(eager_losses)) == len(data)            # every step moved the weights
    assert_same_parameters(eager_model, compiled_model)
    info = compiled.cache_info()
    assert (info.traces, info.replays, info.entries) == (1, len(data) - 1, 1)
    assert info.eager_reason is None


def test_the_first_call_returns_eagers_result_and_later_ones_a_plain_tensor() -> None:
    _, step = training(xor_net, lambda p: optim.SGD(p, lr=0.1), F.binary_cross_entropy)
    compiled = ad.compile(step)
    (x, y), = batches((4, 2), WORKLOADS["xor"][4], count=1)
    traced, replayed = compiled(x, y), compiled(x, y)
    assert traced.grad_fn is not None                    # the trace is an eager call
    assert replayed.grad_fn is None and not replayed.requires_grad
    assert replayed.shape == () and replayed.dtype == np.float32
    assert replayed.item() < traced.item()               # the second step learned from the first


def test_numpy_arrays_as_arguments_are_inputs_too() -> None:
    ad.manual_seed(0)
    model = regression_net()
    opt = optim.Adam(model.parameters(), lr=0.02)

    @ad.compile
    def step(x: np.ndarray, y: np.ndarray) -> ad.Tensor:
        opt.zero_grad()
        loss = F.mse_loss(model(ad.from_numpy(x)), ad.from_numpy(y))
        loss.backward()
        opt.step()
        return loss

    ad.manual_seed(0)
    twin = regression_net()
    twin_opt = optim.Adam(twin.parameters(), lr=0.02)
    for value in np.linspace(0, 3, 30, dtype=np.float32):
        x, y = np.array([[value]]), np.array([[2.3 * value + 4.7]], dtype=np.float32)
        twin_opt.zero_grad()
        expected = F.mse_loss(twin(ad.from_numpy(x)), ad.from_numpy(y))
        expected.backward()
        twin_opt.step()
        assert step(x, y).item() == expected.item()
    assert step.cache_info().replays == 29


def test_a_hand_written_update_and_tensors_made_inside_are_replayed() -> None:
    params = [ad.tensor([5.0], dtype=ad.float64, requires_grad=True)]

    @ad.compile
    def descend() -> ad.Tensor:          # document 003: x -= lr * f'(x) for f = x²
        w, = params
        w.grad = None
        loss = (w ** 2).sum() + ad.zeros(1, dtype=ad.float64).sum()
        loss.backward()
        with ad.no_grad():
            w -= 0.3 * w.grad
        return loss

    xs = []
    for _ in range(6):
        descend()
        xs.append(params[0].item())
    assert xs == pytest.approx([5 * 0.4 ** k for k in range(1, 7)], rel=1e-12)   # x ← 0.4x
    assert descend.cache_info().replays == 5


def test_gradients_accumulate_across_calls_without_zero_grad() -> None:
    w = ad.tensor([1.0, 2.0], requires_grad=True)

    @ad.compile
    def accumulate(x: ad.Tensor) -> ad.Tensor:
        loss = (w * x).sum()
        loss.backward()
        return loss

    for _ in range(3):
        accumulate(ad.tensor([1.0, 3.0]))
    np.testing.assert_array_equal(w.grad.numpy(), [3.0, 9.0])
    assert accumulate.cache_info().replays == 2


def test_reading_a_gradient_from_an_earlier_call_reads_the_current_one() -> None:
    w = ad.tensor([1.0, 2.0], requires_grad=True)
    (w * 2).sum().backward()

    @ad.compile
    def scaled() -> ad.Tensor:
        return w.grad * 10

    assert scaled().tolist() == [20.0, 20.0]
    w.grad = ad.tensor([1.0, -1.0])
    assert scaled().tolist() == [10.0, -10.0]
    assert scaled.cache_info().replays == 1


# ------------------------------------------------------------------ guards

def replay_count(compiled: Any) -> tuple[int, int]:
    info = compiled.cache_info()
    return info.traces, info.replays


def test_a_new_shape_dtype_or_requires_grad_gets_its_own_trace() -> None:
    @ad.compile
    def f(x: ad.Tensor) -> ad.Tensor:
        return (x * 2).sum().detach()

    assert f(ad.ones(3)).item() == 6
    assert f(ad.ones(3)).item() == 6
    assert f(ad.ones(4)).item() == 8
    assert f.cache_info().last_retrace == "argument 0: tensor (3,) float32 → tensor (4,) float32"
    assert f(ad.ones(4, dtype=ad.float64)).dtype == np.float64
    assert "float64" in f.cache_info().last_retrace
    assert f(ad.ones(4, requires_grad=True)).item() == 8
    assert "requires_grad" in f.cache_info().last_retrace
    assert replay_count(f) == (4, 1)
    assert f(ad.ones(3)).item() == 6 and replay_count(f) == (4, 2)   # the old trace is kept


def test_numbers_given_as_arguments_are_part_of_the_signature() -> None:
    @ad.compile
    def scale(x: ad.Tensor, k: float) -> ad.Tensor:
        return x * k

    assert scale(ad.ones(2), 2.0).tolist() == [2.0, 2.0]
    assert scale(ad.ones(2), 3.0).tolist() == [3.0, 3.0]
    assert scale.cache_info().last_retrace == "argument 1: 2.0 → 3.0"


def test_switching_train_and_eval_retraces() -> None:
    ad.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    f = ad.compile(lambda x: model(x))
    x = ad.ones(8, 4)
    with ad.no_grad():
        f(x), f(x)
        model.eval()
        expected = model(x)
        assert np.array_equal(f(x).numpy(), expected.numpy())
    assert f.cache_info().last_retrace == "the Sequential module was switched to eval mode"


def test_no_grad_around_the_call_retraces() -> None:
    w = ad.tensor([2.0], requires_grad=True)
    f = ad.compile(lambda: (w * 3).sum())
    with ad.no_grad():
        assert f().item() == 6.0 and f().item() == 6.0
    out = f()                        # with grad: a graph, as a compiled forward gives
    assert f.cache_info().last_retrace == "grad mode changed to enabled"
    f().backward()
    assert out.requires_grad and w.grad.tolist() == [3.0]
    assert f.cache_info().replays == 2


def test_replacing_a_parameters_array_retraces_and_uses_the_new_values() -> None:
    model, step = training(xor_net, lambda p: optim.SGD(p, lr=0.1), F.binary_cross_entropy)
    compiled = ad.compile(step)
    (x, y), = batches((4, 2), WORKLOADS["xor"][4], count=1)
    compiled(x, y), compiled(x, y)
    first = model[0].weight
    first.data = np.zeros_like(first.numpy())               # a new array, as load_state_dict may
    with ad.no_grad():
        expected = F.binary_cross_entropy(model(x), y).item()
    assert compiled(x, y).item() == expected
    reason = compiled.cache_info().last_retrace
    assert reason.startswith("parameter '0.weight''s array was replaced")


def test_model_double_retraces_in_float64() -> None:
    model, step = training(regression_net, lambda p: optim.SGD(p, lr=0.1), F.mse_loss)
    compiled = ad.compile(step)
    x, y = ad.tensor([[1.0]]), ad.tensor([[7.0]])
    compiled(x, y), compiled(x, y)
    model.double()
    loss = compiled(x.double(), y.double())
    assert loss.dtype == np.float64
    assert all(p.dtype == np.float64 for p in model.parameters())
    assert compiled.cache_info().traces == 2


def test_freezing_a_parameter_retraces() -> None:
    model, step = training(xor_net, lambda p: optim.SGD(p, lr=0.1), F.binary_cross_entropy)
    compiled = ad.compile(step)
    (x, y), = batches((4, 2), WORKLOADS["xor"][4], count=1)
    compiled(x, y), compiled(x, y)
    model[0].weight.requires_grad_(False)
    model[0].weight.grad = None
    before = model[0].weight.numpy().copy()
    compiled(x, y)
    np.testing.assert_array_equal(model[0].weight.numpy(), before)
    assert "requires_grad changed to False" in compiled.cache_info().last_retrace


def test_a_hook_added_later_retraces_and_runs() -> None:
    model, step = training(xor_net, lambda p: optim.SGD(p, lr=0.1), F.binary_cross_entropy)
    compiled = ad.compile(step)
    (x, y), = batches((4, 2), WORKLOADS["xor"][4], count=1)
    compiled(x, y), compiled(x, y)
    seen = []
    model[2].bias.register_hook(lambda g: seen.append(g.shape))
    with pytest.warns(ad.CompileWarning, match="hook"):
        compiled(x, y)
    assert seen == [(1,)]
    compiled(x, y)
    assert seen == [(1,), (1,)]                          # eager from then on: still runs


@pytest.mark.parametrize("kind", ["forward pre-hooks", "backward hooks", "backward pre-hooks"])
def test_a_module_hook_added_later_retraces_and_runs(kind: str) -> None:
    model, step = training(xor_net, lambda p: optim.SGD(p, lr=0.1), F.binary_cross_entropy)
    compiled = ad.compile(step)
    (x, y), = batches((4, 2), WORKLOADS["xor"][4], count=1)
    compiled(x, y), compiled(x, y)
    assert compiled.cache_info().replays == 1
    seen = []
    register = {"forward pre-hooks": lambda m: m.register_forward_pre_hook(
                    lambda module, args: seen.append("pre")),
                "backward hooks": lambda m: m.register_full_backward_hook(
                    lambda module, grad_in, grad_out: seen.append("backward")),
                "backward pre-hooks": lambda m: m.register_full_backward_pre_hook(
                    lambda module, grad_out: seen.append("backward pre"))}[kind]
    register(model[2])
    with pytest.warns(ad.CompileWarning, match=kind):
        compiled(x, y)
    compiled(x, y)
    assert len(seen) == 2                                # eager from then on: still runs


def test_the_same_tensor_for_two_arguments_gets_its_own_program() -> None:
    def step(a: ad.Tensor, b: ad.Tensor) -> ad.Tensor:
        return (a * 2 + b).sum()

    compiled = ad.compile(step)
    x, y = ad.tensor([1.0, 2.0]), ad.tensor([10.0, 20.0])
    assert compiled(x, x).item() == 9.0
    assert compiled(x, y).item() == 36.0                # not y read as x, as it once was
    assert compiled(y, y).item() == 90.0
    info = compiled.cache_info()
    assert (info.traces, info.replays) == (2, 1)
    assert info.last_retrace == "the arguments are the same tensor in other places"


def test_a_new_object_whose_id_python_reuses_retraces() -> None:
    class Scale:
        def __init__(self, k: float) -> None:
            self.k = k

    def step(x: ad.Tensor, scale: Scale) -> ad.Tensor:
        return (x * scale.k).sum()          # a Python number read from the object

    compiled = ad.compile(step)
    x = ad.tensor([1.0, 2.0])
    results = [compiled(x, Scale(k)).item() for k in range(4)]   # each freed after its call
    assert results == [0.0, 3.0, 6.0, 9.0]
    assert compiled.cache_info().traces == 4


SCALE = 2.0


def test_a_global_or_enclosing_number_that_changes_retraces(monkeypatch) -> None:
    def step(x: ad.Tensor) -> ad.Tensor:
        return (x * SCALE).sum()

    compiled = ad.compile(step)
    x = ad.tensor([1.0, 2.0])
    assert [compiled(x).item(), compiled(x).item()] == [6.0, 6.0]
    monkeypatch.setitem(globals(), "SCALE", 3.0)
    assert compiled(x).item() == 9.0
    assert compiled.cache_info().last_retrace == "the global 'SCALE' changed from 2.0 to 3.0"

    rate = 1.0

    def scaled(x: ad.Tensor) -> ad.Tensor:
        return (x * rate).sum()

    compiled = ad.compile(scaled)
    assert [compiled(x).item(), compiled(x).item()] == [3.0, 3.0]
    rate = 5.0
    assert compiled(x).item() == 15.0
    assert "'rate' of the enclosing function changed from 1.0 to 5.0" in \
        compiled.cache_info().last_retrace


def _replays_after(change: Callable[[nn.Module], None]) -> tuple[list[float], list[float], str]:
    """The losses of a compiled and an eager training step on twin models, 3 steps each
    side of `change` (applied to both), and why the compiled one retraced."""
    losses: dict[str, list[float]] = {}
    compiled = None
    for kind in ("compiled", "eager"):
        ad.manual_seed(0)
        model = nn.Sequential(nn.Linear(2, 8), nn.LeakyReLU(0.1), nn.Dropout(0.0),
                              nn.Linear(8, 1))
        opt = optim.SGD(model.parameters(), lr=0.1)

        def step(x: ad.Tensor, model: nn.Module = model, opt: optim.Optimizer = opt
                 ) -> ad.Tensor:
            opt.zero_grad()
            loss = (model(x) ** 2).mean()
            loss.backward()
            opt.step()
            return loss

        run = ad.compile(step) if kind == "compiled" else step
        compiled = run if kind == "compiled" else compiled
        x = ad.tensor(np.linspace(-1, 1, 8, dtype=np.float32).reshape(4, 2))
        losses[kind] = [run(x).item() for _ in range(3)]
        ad.manual_seed(1)
        change(model)
        losses[kind] += [run(x).item() for _ in range(3)]
    return losses["compiled"], losses["eager"], compiled.cache_info().last_retrace


@pytest.mark.parametrize("change", [
    lambda m: setattr(m[0], "weight", nn.Parameter(ad.ones(8, 2))),
    lambda m: m.add_module("1", nn.Tanh()),
    lambda m: setattr(m[1], "negative_slope", 0.5),
    lambda m: setattr(m[2], "p", 0.5),
    lambda m: m[3].register_buffer("offset", ad.zeros(1)),
], ids=["parameter replaced", "layer replaced", "negative_slope", "dropout p", "new buffer"])
def test_a_module_changed_after_tracing_retraces(change: Callable[[nn.Module], None]) -> None:
    compiled, eager, reason = _replays_after(change)
    assert compiled == eager
    assert "changed: a parameter, buffer, submodule, hook or setting" in reason


def test_batch_norm_counting_its_batches_still_replays() -> None:
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    step = ad.compile(lambda x: model(x).sum())
    with ad.no_grad():
        for _ in range(4):
            step(ad.ones(5, 3))
    assert step.cache_info().replays == 3
    assert model[1].num_batches_tracked.item() == 4


# ------------------------------------------------------------------ what falls back to eager

def _fallback_cases() -> dict[str, Callable[[ad.Tensor], Any]]:
    def item(x: ad.Tensor) -> Any:
        loss = (x * 2).sum()
        if loss.item() > 1:                  # a branch on a value: not traceable
            return loss * 2
        return loss

    def branch(x: ad.Tensor) -> Any:
        y = x * 2
        return y * 2 if y.sum() > 1 else y

    return {
        "item": item,
        "bool": branch,
        "numpy": lambda x: ad.tensor((x * 2).numpy() + 1),
        "tolist": lambda x: sum((x * 2).tolist()),
        "data": lambda x: ad.tensor((x * 2).numpy() + 1),
        "print": lambda x: print(x * 2) or x,
    }


@pytest.mark.parametrize("case", sorted(_fallback_cases()))
def test_value_reads_fall_back_to_eager_with_one_warning_naming_the_line(
        case: str, capsys: pytest.CaptureFixture[str]) -> None:
    fn = _fallback_cases()[case]
    compiled = ad.compile(fn)
    with pytest.warns(ad.CompileWarning, match="runs eagerly from now on: the function reads "
                                               "a tensor's values") as caught:
        first = compiled(ad.ones(3))
    assert len(caught) == 1 and caught[0].filename == __file__
    assert "reads a tensor's values" in compiled.cache_info().eager_reason
    with warnings.catch_warnings():
        warnings.simplefilter("error")                   # no second warning
        for value in (2.0, -1.0):
            x = ad.full((3,), value)
            expected, got = fn(x), compiled(x)
            if isinstance(expected, ad.Tensor):
                np.testing.assert_array_equal(got.numpy(), expected.numpy())
            else:
                assert got == expected
    assert first is not None
    capsys.readouterr()


@pytest.mark.parametrize("case", sorted(_fallback_cases()))
def test_fullgraph_raises_instead(case: str, capsys: pytest.CaptureFixture[str]) -> None:
    compiled = ad.compile(_fallback_cases()[case], fullgraph=True)
    with pytest.raises(ad.CompileError, match="fullgraph=True.*reads a tensor's values"):
        compiled(ad.ones(3))
    capsys.readouterr()


def test_uses_replay_cannot_follow_are_named() -> None:
    outside = ad.tensor([1.0], requires_grad=True) * 2
    w = ad.tensor([1.0, 2.0], requires_grad=True)
    cases = {
        "computed by ops before": lambda: (outside * 3).sum().backward(),
        "create_graph": lambda: (w * w).sum().backward(create_graph=True),
        "ad.grad": lambda: ad.grad((w * w).sum(), [w]),
        "retain_grad": lambda: (w * 2).retain_grad(),
        r"tensors that require grad \(in a tuple": lambda: (w * 2, w * 3),
        "requires_grad=True": lambda: (ad.tensor([1.0], requires_grad=True) * 2).sum().backward(),
    }
    for expected, fn in cases.items():
        with pytest.warns(ad.CompileWarning, match=expected):
            ad.compile(fn)()
        with pytest.raises(ad.CompileError, match=expected):
            ad.compile(fn, fullgraph=True)()


@pytest.mark.parametrize("name, fn", [
    ("scatter_reduce", lambda x: x.scatter_reduce(0, ad.tensor([0, 0, 1]), x, "amax")),
    ("unique", lambda x: ad.unique(x.floor())),
    ("equal", lambda x: x * 2 if x.equal(x.floor()) else x),
    ("allclose", lambda x: x * 2 if x.allclose(x.floor()) else x),
], ids=["scatter_reduce", "unique", "equal", "allclose"])
def test_ops_that_compute_from_values_fall_back_to_eager(name: str, fn: Any) -> None:
    compiled = ad.compile(fn)
    with pytest.warns(ad.CompileWarning, match=f"the function calls {name}, "):
        compiled(ad.tensor([0.5, 2.0, 1.0]))
    for values in ([3.0, 1.0, 1.0], [-1.5, 2.5, 0.0]):
        x = ad.tensor(values)
        np.testing.assert_array_equal(compiled(x).numpy(), fn(x).numpy())


def test_randomness_draws_new_numbers_on_every_replay() -> None:
    def draw() -> ad.Tensor:
        return ad.randn(5) + ad.rand(5)

    compiled = ad.compile(draw)
    ad.manual_seed(3)
    eager = [draw().tolist() for _ in range(3)]
    ad.manual_seed(3)
    replayed = [compiled().tolist() for _ in range(3)]
    assert replayed == eager and eager[1] != eager[2]
    assert compiled.cache_info().replays == 2


def test_a_compiled_function_called_inside_another_is_traced_there() -> None:
    inner = ad.compile(lambda x: x * 2)
    outer = ad.compile(lambda x: inner(x) + 1)
    for value in (1.0, 5.0):
        assert outer(ad.tensor([value])).tolist() == [2 * value + 1]
    assert outer.cache_info().replays == 1 and inner.cache_info().traces == 0


def test_as_a_method_each_instance_gets_its_own_signature() -> None:
    class Doubler:
        def __init__(self, k: float) -> None:
            self.k = k

        @ad.compile
        def __call__(self, x: ad.Tensor) -> ad.Tensor:
            return x * self.k

    two, three = Doubler(2.0), Doubler(3.0)
    assert two(ad.ones(1)).tolist() == [2.0] and three(ad.ones(1)).tolist() == [3.0]
    assert two(ad.ones(1)).tolist() == [2.0] and three(ad.ones(1)).tolist() == [3.0]
    assert Doubler.__call__.cache_info()[:2] == (2, 2)       # a trace and a replay each


def trained_with_a_schedule(compiled: bool) -> list[np.ndarray]:
    """XOR's parameters after 6 SGD steps whose lr StepLR lowers every 2 steps (compiled:
    each step after the first a replay)."""
    ad.manual_seed(0)
    model = xor_net()
    opt = optim.SGD(model.parameters(), lr=0.5)
    scheduler = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.1)

    def step(x: ad.Tensor, y: ad.Tensor) -> ad.Tensor:
        opt.zero_grad()
        loss = F.binary_cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    run = ad.compile(step) if compiled else step
    for x, y in batches((4, 2), WORKLOADS["xor"][4], count=6):
        run(x, y)
        scheduler.step()
    if compiled:
        assert run.cache_info().replays == 5
    return [p.numpy().copy() for p in model.parameters()]


def test_a_learning_rate_changed_between_calls_is_used_by_the_replay() -> None:
    for eager, replayed in zip(trained_with_a_schedule(False), trained_with_a_schedule(True),
                               strict=True):
        np.testing.assert_array_equal(replayed, eager)


def test_replays_bump_the_versions_of_the_tensors_they_change_as_eager_does() -> None:
    w = ad.tensor([1.0, 2.0], requires_grad=True)
    log = ad.zeros(2)
    model = nn.Linear(2, 1)
    opt = optim.SGD(model.parameters(), lr=0.1)

    def step(x: ad.Tensor) -> ad.Tensor:
        nonlocal w
        loss = ((w * x).sum() - 1) ** 2 + model(x).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        with ad.no_grad():
            w -= 0.1 * w.grad
            log[0] = loss
        w.grad = None
        return loss

    compiled = ad.compile(step)
    initialised = model.weight._version                 # nn.init wrote it once
    for call in range(1, 5):
        compiled(ad.tensor([1.0, 1.0]))
        assert (w._version, log._version, model.weight._version - initialised) == (call,) * 3
    assert compiled.cache_info().replays == 3


@pytest.mark.parametrize("write", ["load_state_dict", "in place by hand"])
def test_a_write_into_the_parameters_between_calls_is_read_by_the_next_replay(
        write: str) -> None:
    model, step = training(xor_net, lambda p: optim.SGD(p, lr=0.1), F.binary_cross_entropy)
    twin, twin_step = training(xor_net, lambda p: optim.SGD(p, lr=0.1), F.binary_cross_entropy)
    compiled = ad.compile(step)
    data = batches((4, 2), WORKLOADS["xor"][4], count=4)
    for x, y in data[:2]:
        compiled(x, y), twin_step(x, y)
    if write == "load_state_dict":
        state = {key: ad.tensor(np.full(value.shape, 0.25, np.float32))
                 for key, value in model.state_dict().items()}
        model.load_state_dict(state)
        twin.load_state_dict(state)
    else:
        with ad.no_grad():
            for m in (model, twin):
                m[0].weight += 1.0
    for x, y in data[2:]:
        assert compiled(x, y).item() == twin_step(x, y).item()
    assert_same_parameters(model, twin)
    assert compiled.cache_info().replays >= 2


# ------------------------------------------------------------------ read from outside

def _eager_and_compiled(run: Callable[[Callable[..., Any]], list[Any]]
                        ) -> tuple[list[Any], list[Any], Any]:
    """`run(wrap)` on a fresh setup twice: with wrap = the identity (eager) and with wrap
    = ad.compile; returns both results and the compiled function."""
    made: list[Any] = []

    def compiled(fn: Callable[..., Any]) -> Any:
        made.append(ad.compile(fn))
        return made[-1]

    return run(lambda fn: fn), run(compiled), made[-1]


OFFSET = ad.tensor([1.0, 2.0], dtype=ad.float64)
model = opt = None


def _global_tensor(wrap: Callable[..., Any]) -> list[Any]:
    global OFFSET
    OFFSET = ad.tensor([1.0, 2.0], dtype=ad.float64)
    w = ad.tensor([0.5, -0.5], dtype=ad.float64, requires_grad=True)

    def step(x: ad.Tensor) -> ad.Tensor:
        w.grad = None
        loss = ((x * w + OFFSET) ** 2).sum()
        loss.backward()
        return loss

    f, out = wrap(step), []
    for i in range(4):
        if i == 2:
            OFFSET = ad.tensor([10.0, 20.0], dtype=ad.float64)       # the global re-bound
        out.append(f(ad.tensor([1.0, 1.0], dtype=ad.float64)).item())
    return out


def _global_model_and_optimizer(which: str) -> Callable[[Callable[..., Any]], list[Any]]:
    def run(wrap: Callable[..., Any]) -> list[Any]:
        global model, opt
        ad.manual_seed(0)
        model = nn.Linear(4, 2).double()
        opt = optim.SGD(model.parameters(), lr=0.1)
        x = ad.tensor(np.linspace(-1, 1, 20).reshape(5, 4))
        y = ad.tensor(np.linspace(0, 1, 10).reshape(5, 2))

        def step(x: ad.Tensor, y: ad.Tensor) -> ad.Tensor:
            opt.zero_grad()
            loss = F.mse_loss(model(x), y)
            loss.backward()
            opt.step()
            return loss

        f, out = wrap(step), []
        for i in range(4):
            if i == 2:
                if which == "model and optimizer":          # a new model
                    ad.manual_seed(123)
                    model = nn.Linear(4, 2).double()
                opt = optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
            out.append(f(x, y).item())
        try:
            return out + [p.numpy().tolist() for p in model.parameters()]
        finally:
            model = opt = None

    return run


def _closure_tensor(wrap: Callable[..., Any]) -> list[Any]:
    offset = ad.tensor([1.0, 2.0], dtype=ad.float64)
    w = ad.tensor([0.5, -0.5], dtype=ad.float64, requires_grad=True)

    def step(x: ad.Tensor) -> ad.Tensor:
        w.grad = None
        loss = ((x * w + offset) ** 2).sum()
        loss.backward()
        return loss

    f, out = wrap(step), []
    for i in range(4):
        if i == 2:
            offset = ad.tensor([10.0, 20.0], dtype=ad.float64)
        out.append(f(ad.tensor([1.0, 1.0], dtype=ad.float64)).item())
    return out


class Batch:
    """An object of the user's own passed as an argument."""


def _argument_attribute(wrap: Callable[..., Any]) -> list[Any]:
    w = ad.tensor([0.5, -0.5], dtype=ad.float64, requires_grad=True)

    def step(batch: Batch) -> ad.Tensor:
        w.grad = None
        loss = ((batch.x * w) ** 2).sum()
        loss.backward()
        return loss

    f, batch, out = wrap(step), Batch(), []
    for i in range(4):
        if i in (0, 2):                          # the next batch, in the same holder
            batch.x = ad.tensor([1.0 + i, 2.0 * i], dtype=ad.float64)
        out.append(f(batch).item())
    return out


def _closure_object_attribute(wrap: Callable[..., Any]) -> list[Any]:
    class Trainer:
        def __init__(self, lr: float) -> None:
            ad.manual_seed(0)
            self.model = nn.Linear(2, 1).double()
            self.opt = optim.SGD(self.model.parameters(), lr=lr)

    trainer = Trainer(0.1)
    x = ad.tensor([[1.0, -2.0], [0.5, 3.0]], dtype=ad.float64)

    def step(x: ad.Tensor) -> ad.Tensor:            # as benchmarks/compiled.py's step
        trainer.opt.zero_grad()
        loss = (trainer.model(x) ** 2).mean()
        loss.backward()
        trainer.opt.step()
        return loss

    f, out = wrap(step), []
    for i in range(4):
        if i == 2:
            trainer.opt = optim.SGD(trainer.model.parameters(), lr=0.5)
        out.append(f(x).item())
    return out


def _method_attribute(wrap: Callable[..., Any]) -> list[Any]:
    class Trainer:
        def __init__(self) -> None:
            ad.manual_seed(0)
            self.model = nn.Linear(2, 1).double()
            self.opt = optim.SGD(self.model.parameters(), lr=0.1)

        def step(self, x: ad.Tensor) -> ad.Tensor:
            self.opt.zero_grad()
            loss = (self.model(x) ** 2).mean()
            loss.backward()
            self.opt.step()
            return loss

    Trainer.step = wrap(Trainer.step)                # as @ad.compile on the method
    trainer, out = Trainer(), []
    x = ad.tensor([[1.0, -2.0], [0.5, 3.0]], dtype=ad.float64)
    for i in range(4):
        if i == 2:
            trainer.opt = optim.SGD(trainer.model.parameters(), lr=0.5, momentum=0.5)
        out.append(trainer.step(x).item())
    return out


@pytest.mark.parametrize("run, reason", [
    (_global_tensor, "the global 'OFFSET' is another object"),
    (_global_model_and_optimizer("model and optimizer"), "the global 'opt' is another object"),
    (_global_model_and_optimizer("optimizer"), "the global 'opt' is another object"),
    (_closure_tensor, "'offset' of the enclosing function is another object"),
    (_argument_attribute, "the attribute 'x' of argument 'batch' is another object"),
    (_closure_object_attribute, "the attribute 'opt' of 'trainer' of the enclosing "
                                "function is another object"),
    (_method_attribute, "the attribute 'opt' of argument 'self' is another object"),
], ids=["global tensor", "global model and optimizer", "global optimizer", "closure tensor",
        "attribute of an argument", "attribute of a closure's object", "method's self"])
def test_a_tensor_model_or_optimizer_rebound_outside_retraces(
        run: Callable[[Callable[..., Any]], list[Any]], reason: str) -> None:
    eager, compiled, f = _eager_and_compiled(run)
    assert compiled == eager
    info = f.cache_info()
    assert info.replays >= 1 and info.traces >= 2
    assert reason in info.last_retrace


@pytest.mark.parametrize("kind", [np.float64, np.float32, np.int64, np.bool_])
def test_a_numpy_scalar_global_that_changes_retraces(kind: type, monkeypatch) -> None:
    monkeypatch.setitem(globals(), "SCALE", kind(1))

    def step(x: ad.Tensor) -> ad.Tensor:
        return (x * SCALE).sum()

    compiled = ad.compile(step)
    x = ad.tensor([1.5, 2.0], dtype=ad.float64)
    results = []
    for value in (1, 1, 3 if kind is not np.bool_ else 0, 3 if kind is not np.bool_ else 0):
        monkeypatch.setitem(globals(), "SCALE", kind(value))
        results.append((compiled(x).item(), step(x).item()))
    assert [c for c, _ in results] == [e for _, e in results]
    assert compiled.cache_info()[:2] == (2, 2)
    assert compiled.cache_info().last_retrace.startswith("the global 'SCALE' changed from")
    monkeypatch.setitem(globals(), "SCALE", np.float32(3) if kind is np.float64 else 3.0)
    compiled(x)                                             # same value, another dtype
    assert compiled.cache_info().traces == 3


def test_a_non_contiguous_argument_where_the_trace_had_a_contiguous_one_retraces() -> None:
    def make() -> Callable[[ad.Tensor], Any]:
        w = ad.tensor(np.ones((3, 3)), requires_grad=True)

        def step(a: ad.Tensor) -> Any:
            w.grad = None
            c = a.contiguous()                   # a itself, or a copy when not contiguous
            c += 1.0
            loss = (c * w).sum() + (a * w).sum()
            loss.backward()
            return loss, w.grad.sum()
        return step

    results = {}
    for mode in ("eager", "compiled"):
        step = make()
        f = ad.compile(step) if mode == "compiled" else step
        out = []
        for i in range(4):
            base = np.arange(9.0).reshape(3, 3)
            a = ad.tensor(base) if i in (0, 3) else ad.tensor(base).T
            loss, grad = f(a)
            out.append((loss.item(), a.numpy().tolist(), grad.item()))
        results[mode] = out
        if mode == "compiled":
            info = f.cache_info()
            assert (info.traces, info.replays) == (2, 2)
            assert "non-contiguous" in info.last_retrace
    assert results["compiled"] == results["eager"]


def test_the_default_dtype_set_between_calls_retraces() -> None:
    w = ad.tensor([0.5, -0.5, 1.0], dtype=ad.float64, requires_grad=True)

    def step(x: ad.Tensor) -> ad.Tensor:
        w.grad = None
        c = ad.tensor([0.1, 0.2, 0.3])                  # in the default dtype
        loss = ((x * w + c) ** 2).sum()
        loss.backward()
        return loss

    compiled = ad.compile(step)
    x = ad.tensor([1.0, 2.0, 3.0], dtype=ad.float64)
    try:
        results = []
        for dtype in (ad.float32, ad.float32, ad.float64, ad.float64, ad.float32):
            ad.set_default_dtype(dtype)
            results.append((compiled(x).item(), step(x).item()))
    finally:
        ad.set_default_dtype(ad.float32)
    assert [c for c, _ in results] == [e for _, e in results]
    assert results[0] != results[2]
    info = compiled.cache_info()
    assert (info.traces, info.replays) == (2, 3)             # float32's program kept
    assert info.last_retrace == "the default dtype changed to float64"


def _step_after_the_optimizer(change: str) -> Callable[[Callable[..., Any]], list[Any]]:
    """A step that runs the model again after opt.step() (the loss after the update), with
    `change` between calls: the optimizer's state reloaded, or a step pre-hook giving a
    parameter a new array (either makes opt.step() rebuild its flat buffers)."""
    def run(wrap: Callable[..., Any]) -> list[Any]:
        ad.manual_seed(0)
        model = nn.Linear(4, 2).double()
        opt = optim.Adam(model.parameters(), lr=0.1)
        x = ad.tensor(np.linspace(-1, 1, 24).reshape(6, 4))
        y = ad.tensor(np.linspace(0, 1, 12).reshape(6, 2))

        def step(x: ad.Tensor, y: ad.Tensor) -> ad.Tensor:
            opt.zero_grad()
            loss = F.mse_loss(model(x), y)
            loss.backward()
            opt.step()
            return F.mse_loss(model(x), y)          # the loss after the update

        def rescale(optimizer: Any, args: Any, kwargs: Any) -> None:
            model.weight.data = model.weight.numpy() * 0.5

        f, out = wrap(step), []
        for i in range(6):
            if i == 1:
                saved = copy.deepcopy(opt.state_dict())
            if i == 3 and change == "load_state_dict":
                opt.load_state_dict(saved)
            if i == 3 and change == "hook":
                handle = opt.register_step_pre_hook(rescale)
            if i == 4 and change == "hook":
                handle.remove()
            out.append(f(x, y).item())
        return out + [p.numpy().tolist() for p in model.parameters()]

    return run


@pytest.mark.parametrize("change", ["load_state_dict", "hook"])
def test_ops_after_an_optimizer_step_that_rebuilt_its_buffers_read_the_new_arrays(
        change: str) -> None:
    eager, compiled, f = _eager_and_compiled(_step_after_the_optimizer(change))
    assert compiled == eager
    assert f.cache_info().replays >= 3
