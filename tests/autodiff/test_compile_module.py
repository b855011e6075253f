"""ad.compile(model) (autodiff/jit/compiled.py: CompiledModule, CompiledForward): the
model's forward compiled, used as torch users use torch.compile(model): training with it
gives the model's numbers bit for bit, a last partial batch retraces once, the model's
attributes read through, and the replay's one graph node keeps autograd's rules."""
from __future__ import annotations

import numpy as np
import pytest

import autodiff as ad
import nn
import optim
from nn import functional as F


def cnn() -> nn.Module:
    ad.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Dropout(0.25), nn.Flatten(),
                         nn.Linear(4 * 4 * 4, 3))


def mlp() -> nn.Module:
    ad.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 2))


def train(model: nn.Module, batches: list[tuple[ad.Tensor, ad.Tensor]], seed: int
          ) -> list[float]:
    opt = optim.Adam(model.parameters(), lr=0.01)
    ad.manual_seed(seed)
    losses = []
    for x, y in batches:
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def data(shape: tuple[int, ...], classes: int, sizes: list[int]
         ) -> list[tuple[ad.Tensor, ad.Tensor]]:
    rng = np.random.default_rng(1)
    return [(ad.tensor(rng.standard_normal((n, *shape)).astype(np.float32)),
             ad.tensor(rng.integers(0, classes, n))) for n in sizes]


@pytest.mark.parametrize("make, shape, classes", [(mlp, (3,), 2), (cnn, (1, 8, 8), 3)],
                         ids=["mlp", "cnn with batch norm and dropout"])
def test_training_a_compiled_model_gives_the_models_numbers(make, shape, classes) -> None:
    batches = data(shape, classes, [5] * 6 + [3])          # a last, partial batch
    eager_model, compiled_model = make(), make()
    compiled = ad.compile(compiled_model)
    assert train(compiled, batches, seed=7) == train(eager_model, batches, seed=7)
    for (name, p), q in zip(eager_model.state_dict().items(), compiled_model.state_dict().values()):
        np.testing.assert_array_equal(q.numpy(), p.numpy(), err_msg=name)
    info = compiled.cache_info()
    assert (info.traces, info.replays, info.entries) == (2, 5, 2)
    assert info.last_retrace.startswith("argument 0: tensor (5,") and "→ tensor (3," in \
        info.last_retrace
    assert "_backward(ctxs, grad)" in compiled.source


def test_the_model_reads_through() -> None:
    model = mlp()
    compiled = ad.compile(model)
    assert [id(p) for p in compiled.parameters()] == [id(p) for p in model.parameters()]
    compiled.eval()
    assert not model.training and not compiled.training
    assert compiled._orig_mod is model and compiled.get_submodule("0") is model[0]
    assert repr(compiled).startswith("Compiled(Sequential(")
    assert compiled.state_dict().keys() == model.state_dict().keys()


def test_the_replay_is_one_node_with_autograds_rules() -> None:
    model = mlp()
    compiled = ad.compile(model)
    x = ad.tensor(np.ones((2, 3), np.float32))
    compiled(x)
    out = compiled(x)
    assert type(out.grad_fn).__name__ == "CompiledForward"
    out.sum().backward()
    with pytest.raises(ad.BackwardError, match="second time"):
        out.sum().backward()
    out = compiled(x)
    with ad.no_grad():
        model[0].weight += 1.0
    with pytest.raises(ad.InPlaceError):
        out.sum().backward()


def test_two_calls_before_one_backward_each_keep_their_own_values() -> None:
    """Each replay makes fresh op contexts: the second call must not overwrite what the
    first saved for its backward (a siamese net, gradient accumulation)."""
    eager_model, compiled_model = mlp(), mlp()
    compiled = ad.compile(compiled_model)
    a, b = (ad.tensor(np.full((2, 3), v, np.float32)) for v in (1.0, -2.0))
    compiled(a)                                            # the trace
    for model in (eager_model, compiled):
        (model(a) * model(b)).sum().backward()
    for p, q in zip(eager_model.parameters(), compiled_model.parameters()):
        np.testing.assert_array_equal(q.grad.numpy(), p.grad.numpy())
    assert compiled.cache_info().replays == 2


def test_inputs_that_require_grad_get_their_gradient() -> None:
    model = mlp()
    compiled = ad.compile(model)
    x = ad.tensor(np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3), requires_grad=True)
    compiled(x)
    compiled(x).sum().backward()
    replayed = x.grad.numpy().copy()
    x.grad = None
    model(x).sum().backward()
    np.testing.assert_array_equal(replayed, x.grad.numpy())


def test_under_no_grad_the_output_has_no_graph_and_its_own_trace() -> None:
    model = mlp()
    compiled = ad.compile(model)
    x = ad.ones(2, 3)
    with ad.no_grad():
        compiled(x), compiled(x)
        out = compiled(x)
    assert out.grad_fn is None
    assert compiled.cache_info().replays == 2
    np.testing.assert_array_equal(out.numpy(), model(x).detach().numpy())


def test_a_second_derivative_through_a_compiled_model_is_refused() -> None:
    model = mlp()
    compiled = ad.compile(model)
    x = ad.tensor(np.ones((2, 3), np.float32), requires_grad=True)
    compiled(x)
    out = compiled(x).sum()
    with pytest.raises(ad.BackwardError, match=r"create_graph=True\) through a compiled model"):
        ad.grad(out, [x], create_graph=True)
