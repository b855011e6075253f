"""nn.utils.parametrizations.weight_norm and spectral_norm against PyTorch: values,
gradients with respect to the originals, state dicts both ways, the power iteration over
several training steps from the same `_u`, `_v` (and none in eval mode), removal; and a
parametrized model inside ad.compile, bit for bit against eager."""
from __future__ import annotations

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F
import optim
from nn.utils import parametrizations as P
from nn.utils import parametrize

from .conftest import assert_close


def to_torch(torch, state):
    return {k: torch.from_numpy(v.numpy().copy()) for k, v in state.items()}


def to_ours(state):
    return {k: v.detach().numpy().copy() for k, v in state.items()}


def same_state(ours, theirs, dtype):
    theirs_state = theirs.state_dict()
    assert list(ours.state_dict()) == list(theirs_state)
    for key, value in ours.state_dict().items():
        assert_close(value.numpy(), theirs_state[key].numpy(), dtype, key)


def check_forward_backward(torch, ours, theirs, x, dtype, seed=1):
    """Same input and upstream gradient: outputs and the originals' gradients agree."""
    ya, yt = ours(ad.tensor(x)), theirs(torch.from_numpy(x))
    assert_close(ya.numpy(), yt.detach().numpy(), dtype)
    upstream = np.random.default_rng(seed).standard_normal(ya.shape).astype(dtype)
    ya.backward(ad.tensor(upstream))
    yt.backward(torch.from_numpy(upstream))
    theirs_params = dict(theirs.named_parameters())
    assert [name for name, _ in ours.named_parameters()] == list(theirs_params)
    for name, p in ours.named_parameters():
        assert_close(p.grad.numpy(), theirs_params[name].grad.numpy(), dtype, name)


def layers(torch, kind):
    """(ours, torch's, an input) for a layer kind, with the same weights."""
    ad.manual_seed(0)
    rng = np.random.default_rng(0)
    if kind == "linear":
        ours, theirs, x = nn.Linear(4, 3), torch.nn.Linear(4, 3), rng.standard_normal((5, 4))
    elif kind == "conv":
        ours, theirs = nn.Conv2d(2, 3, 3), torch.nn.Conv2d(2, 3, 3)
        x = rng.standard_normal((2, 2, 5, 5))
    else:
        ours, theirs = nn.ConvTranspose2d(2, 3, 3), torch.nn.ConvTranspose2d(2, 3, 3)
        x = rng.standard_normal((2, 2, 4, 4))
    theirs.load_state_dict(to_torch(torch, ours.state_dict()))
    return ours, theirs, x.astype(np.float32)


# ---------------------------------------------------------------- weight_norm

@pytest.mark.parametrize("kind, dim", [("linear", 0), ("linear", 1), ("linear", None),
                                       ("linear", -1), ("linear", -2), ("conv", 0),
                                       ("conv", 2), ("conv", None), ("convt", 1)])
def test_weight_norm_matches_torch(torch_oracle, kind, dim):
    torch = torch_oracle.torch
    ours, theirs, x = layers(torch, kind)
    P.weight_norm(ours, dim=dim)
    torch.nn.utils.parametrizations.weight_norm(theirs, dim=dim)
    same_state(ours, theirs, np.float32)
    assert_close(ours.weight.numpy(), theirs.weight.detach().numpy(), np.float32)
    check_forward_backward(torch, ours, theirs, x, np.float32)


def test_weight_norm_layout_and_repr(torch_oracle):
    torch = torch_oracle.torch
    ours, theirs, _ = layers(torch, "linear")
    P.weight_norm(ours)
    torch.nn.utils.parametrizations.weight_norm(theirs)
    assert repr(ours) == repr(theirs)
    g = ours.parametrizations.weight.original0
    v = ours.parametrizations.weight.original1
    assert g.shape == (3, 1) and v.shape == (3, 4)
    np.testing.assert_allclose(g.numpy()[:, 0], np.linalg.norm(v.numpy(), axis=1), rtol=1e-6)


def test_weight_norm_state_dicts_load_both_ways(torch_oracle):
    torch = torch_oracle.torch
    ours, theirs, x = layers(torch, "conv")
    P.weight_norm(ours)
    torch.nn.utils.parametrizations.weight_norm(theirs)
    with torch.no_grad():
        theirs.parametrizations.weight.original0.mul_(2)
    ours.load_state_dict(to_ours(theirs.state_dict()))
    assert_close(ours.weight.numpy(), theirs.weight.detach().numpy(), np.float32)
    with ad.no_grad():
        ours.parametrizations.weight.original1.mul_(-1)
    theirs.load_state_dict(to_torch(torch, ours.state_dict()))
    check_forward_backward(torch, ours, theirs, x, np.float32)


def test_weight_norm_assignment_and_removal_match_torch(torch_oracle):
    torch = torch_oracle.torch
    ours, theirs, x = layers(torch, "linear")
    P.weight_norm(ours)
    torch.nn.utils.parametrizations.weight_norm(theirs)
    value = np.random.default_rng(3).standard_normal((3, 4)).astype(np.float32)
    ours.weight = ad.tensor(value)
    theirs.weight = torch.from_numpy(value)
    same_state(ours, theirs, np.float32)
    parametrize.remove_parametrizations(ours, "weight")
    torch.nn.utils.parametrize.remove_parametrizations(theirs, "weight")
    assert type(ours) is nn.Linear
    same_state(ours, theirs, np.float32)
    check_forward_backward(torch, ours, theirs, x, np.float32)


# ---------------------------------------------------------------- spectral_norm

def spectral_pair(torch, kind, **options):
    """Both layers spectrally normalized, ours given torch's state (originals, _u, _v),
    in float64."""
    ours, theirs, x = layers(torch, kind)
    P.spectral_norm(ours, **options)
    torch.nn.utils.parametrizations.spectral_norm(theirs, **options)
    theirs.double()
    ours.double()
    ours.load_state_dict(to_ours(theirs.state_dict()))
    return ours, theirs, x.astype(np.float64)


def train_both(torch, ours, theirs, x, steps):
    """SGD steps on the same loss in both; the states must agree after each."""
    opt = optim.SGD(ours.parameters(), lr=0.1)
    topt = torch.optim.SGD(theirs.parameters(), lr=0.1)
    for _ in range(steps):
        opt.zero_grad()
        topt.zero_grad()
        (ours(ad.tensor(x)) ** 2).mean().backward()
        (theirs(torch.from_numpy(x)) ** 2).mean().backward()
        opt.step()
        topt.step()
        same_state(ours, theirs, np.float64)


@pytest.mark.parametrize("kind, options", [("linear", {}), ("conv", {}), ("convt", {}),
                                           ("linear", {"n_power_iterations": 3}),
                                           ("conv", {"dim": 1})])
def test_spectral_norm_trains_as_torch(torch_oracle, kind, options):
    torch = torch_oracle.torch
    ours, theirs, x = spectral_pair(torch, kind, **options)
    train_both(torch, ours, theirs, x, steps=4)
    check_forward_backward(torch, ours, theirs, x, np.float64)


def test_spectral_norm_in_eval_mode_keeps_u_and_v(torch_oracle):
    torch = torch_oracle.torch
    ours, theirs, x = spectral_pair(torch, "linear")
    ours.eval()
    theirs.eval()
    u = ours.parametrizations.weight[0]._u.numpy().copy()
    for _ in range(3):
        check_forward_backward(torch, ours, theirs, x, np.float64)
    np.testing.assert_array_equal(ours.parametrizations.weight[0]._u.numpy(), u)
    same_state(ours, theirs, np.float64)
    ours.train()
    ours(ad.tensor(x))
    assert not np.array_equal(ours.parametrizations.weight[0]._u.numpy(), u)


def test_spectral_norm_divides_by_the_largest_singular_value():
    ad.manual_seed(1)
    layer = P.spectral_norm(nn.Linear(6, 5), n_power_iterations=50).double()
    weight = layer.weight.numpy()
    np.testing.assert_allclose(np.linalg.svd(weight, compute_uv=False)[0], 1.0, rtol=1e-6)


def test_spectral_norm_of_a_vector_matches_torch(torch_oracle):
    torch = torch_oracle.torch
    ours, theirs, x = layers(torch, "linear")
    P.spectral_norm(ours, "bias")
    torch.nn.utils.parametrizations.spectral_norm(theirs, "bias")
    same_state(ours, theirs, np.float32)
    np.testing.assert_allclose(np.linalg.norm(ours.bias.numpy()), 1.0, rtol=1e-6)
    check_forward_backward(torch, ours, theirs, x, np.float32)


def test_spectral_norm_state_dict_loads_into_torch_and_removal_matches(torch_oracle):
    torch = torch_oracle.torch
    ours, theirs, x = spectral_pair(torch, "conv")
    train_both(torch, ours, theirs, x, steps=1)
    fresh = torch.nn.utils.parametrizations.spectral_norm(torch.nn.Conv2d(2, 3, 3)).double()
    fresh.load_state_dict(to_torch(torch, ours.state_dict()))
    same_state(ours, fresh, np.float64)
    ours.eval()
    fresh.eval()
    parametrize.remove_parametrizations(ours, "weight")
    torch.nn.utils.parametrize.remove_parametrizations(fresh, "weight")
    same_state(ours, fresh, np.float64)


def test_spectral_norm_refusals():
    with pytest.raises(IndexError, match=r"spectral_norm: dim 2 is out of range .*\(3, 4\)"):
        P.spectral_norm(nn.Linear(4, 3), dim=2)
    with pytest.raises(ValueError, match="n_power_iterations must be positive, got 0"):
        P.spectral_norm(nn.Linear(4, 3), n_power_iterations=0)
    with pytest.raises(ValueError, match="Linear has no parameter or buffer named 'w'"):
        P.spectral_norm(nn.Linear(4, 3), "w")


# ---------------------------------------------------------------- inside ad.compile

def train(compiled: bool, steps: int = 4):
    """SGD steps on a model with both parametrizations, using cached(); then eval."""
    ad.manual_seed(3)
    model = nn.Sequential(P.weight_norm(nn.Linear(3, 5)), nn.Tanh(),
                          P.spectral_norm(nn.Linear(5, 2)))
    opt = optim.SGD(model.parameters(), lr=0.1)

    def step(x, y):
        opt.zero_grad()
        with parametrize.cached():
            loss = F.mse_loss(model(x), y) + model[2].weight.square().sum()
        loss.backward()
        opt.step()
        return loss.detach()

    run = ad.compile(step, fullgraph=True) if compiled else step
    x, y = ad.randn(4, 3), ad.randn(4, 2)
    losses = [run(x, y).item() for _ in range(steps)]
    model.eval()
    losses += [run(x, y).item() for _ in range(2)]
    state = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    return losses, state, run


def test_a_parametrized_model_replays_bit_for_bit():
    eager_losses, eager_state, _ = train(False)
    losses, state, run = train(True)
    assert losses == eager_losses
    assert list(state) == list(eager_state)
    for key in state:
        np.testing.assert_array_equal(state[key], eager_state[key], err_msg=key)
    info = run.cache_info()
    assert info.eager_reason is None and info.traces == 2 and info.replays == 4
