"""nn.utils.stateless.functional_call against torch.func.functional_call: the module run
with given parameters and buffers, restored afterwards (also on error), tied weights,
strict; and the per-sample-gradient recipe with ad.func."""
from __future__ import annotations

import numpy as np
import pytest

import autodiff as ad
import nn
from nn.utils.stateless import functional_call


def test_runs_with_the_given_tensors_and_restores_the_module() -> None:
    torch = pytest.importorskip("torch")
    model = nn.Linear(3, 2)
    weight, bias = model.weight, model.bias
    params = {"weight": ad.tensor(np.arange(6.0, dtype=np.float32).reshape(2, 3),
                                requires_grad=True),
              "bias": ad.tensor([1.0, -1.0])}
    x = ad.tensor([1.0, 2.0, 3.0])
    out = functional_call(model, params, (x,))
    twin = torch.nn.Linear(3, 2)
    expected = torch.func.functional_call(
        twin, {k: torch.tensor(v.numpy()) for k, v in params.items()},
        (torch.tensor(x.numpy()),))
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy())
    assert model.weight is weight and model.bias is bias
    out.sum().backward()
    np.testing.assert_allclose(params["weight"].grad.numpy(), np.tile(x.numpy(), (2, 1)))
    assert weight.grad is None
    split = functional_call(model, ({"weight": params["weight"]}, {"bias": params["bias"]}),
                            x)
    np.testing.assert_allclose(split.numpy(), out.numpy())


def test_restores_the_module_when_the_forward_raises() -> None:
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    weight = model[0].weight
    with pytest.raises(ad.ShapeError):
        functional_call(model, {"0.weight": ad.ones(2, 2)}, (ad.ones(3),))
    assert model[0].weight is weight
    with pytest.raises(AttributeError):
        functional_call(model, {"1.extra": ad.ones(1), "5.weight": ad.ones(1)}, (ad.ones(2),))
    assert "extra" not in vars(model[1])


def test_buffers_tied_weights_and_strict() -> None:
    model = nn.BatchNorm1d(2)
    model.eval()
    out = functional_call(model, {"running_mean": ad.tensor([1.0, 1.0])},
                          (ad.tensor([[1.0, 3.0]]),))
    np.testing.assert_allclose(out.numpy(), [[0.0, 2.0 / np.sqrt(1 + 1e-5)]], rtol=1e-6)
    np.testing.assert_allclose(model.running_mean.numpy(), [0.0, 0.0])
    tied = nn.Sequential(nn.Linear(2, 2, bias=False), nn.Linear(2, 2, bias=False))
    tied[1].weight = tied[0].weight
    value = ad.eye(2) * 2
    out = functional_call(tied, {"0.weight": value}, (ad.ones(2),))
    np.testing.assert_allclose(out.numpy(), [4.0, 4.0])
    untied = functional_call(tied, {"0.weight": value}, (ad.ones(2),), tie_weights=False)
    assert not np.allclose(untied.numpy(), [4.0, 4.0])
    with pytest.raises(ValueError, match="tied"):
        functional_call(tied, {"0.weight": value, "1.weight": value * 2}, (ad.ones(2),))
    with pytest.raises(ValueError, match="more than one"):
        functional_call(tied, ({"0.weight": value}, {"0.weight": value}), (ad.ones(2),))
    linear = nn.Linear(2, 1)
    with pytest.raises(RuntimeError, match=r"missing key\(s\): \['bias'\]"):
        functional_call(linear, {"weight": ad.ones(1, 2)}, (ad.ones(2),), strict=True)


def test_per_sample_gradients_with_func_grad_and_vmap() -> None:
    """torch's recipe: vmap(grad(loss of functional_call)) over the batch, checked
    against one backward per sample."""
    model = nn.Linear(3, 1)
    params = {k: v.detach() for k, v in model.named_parameters()}
    xs, ys = ad.randn(4, 3), ad.randn(4, 1)

    def loss(params: dict[str, ad.Tensor], x: ad.Tensor, y: ad.Tensor) -> ad.Tensor:
        return ((functional_call(model, params, (x,)) - y) ** 2).sum()

    per_sample = ad.func.vmap(ad.func.grad(loss), in_dims=(None, 0, 0))(params, xs, ys)
    for i in range(4):
        model.zero_grad()
        loss(dict(model.named_parameters()), xs[i], ys[i]).backward()
        np.testing.assert_allclose(per_sample["weight"][i].numpy(), model.weight.grad.numpy(),
                                   rtol=1e-5)
        np.testing.assert_allclose(per_sample["bias"][i].numpy(), model.bias.grad.numpy(),
                                   rtol=1e-5)
