"""The older hook-based nn.utils.weight_norm / remove_weight_norm and spectral_norm /
remove_spectral_norm against PyTorch: parameter and buffer names, values, gradients,
power iteration over training steps from the same weight_u, eval mode, removal; and
ad.compile running such a model eagerly, with its warning."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F
import optim
from autodiff.errors import CompileWarning

from .test_parametrizations import check_forward_backward, layers, same_state, to_ours, to_torch


def old_weight_norm(module, **options):
    with pytest.warns(FutureWarning, match="nn.utils.weight_norm is deprecated in favor of "
                                           "nn.utils.parametrizations.weight_norm"):
        return nn.utils.weight_norm(module, **options)


def torch_old_weight_norm(torch, module, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return torch.nn.utils.weight_norm(module, **options)


# ---------------------------------------------------------------- weight_norm

@pytest.mark.parametrize("kind, dim", [("linear", 0), ("linear", 1), ("linear", None),
                                       ("conv", 0), ("convt", 1)])
def test_weight_norm_matches_torch(torch_oracle, kind, dim):
    torch = torch_oracle.torch
    ours, theirs, x = layers(torch, kind)
    old_weight_norm(ours, dim=dim)
    torch_old_weight_norm(torch, theirs, dim=dim)
    same_state(ours, theirs, np.float32)
    assert not isinstance(ours.weight, nn.Parameter)
    with torch.no_grad():
        theirs.weight_g.mul_(1.5)
    ours.load_state_dict(to_ours(theirs.state_dict()))
    check_forward_backward(torch, ours, theirs, x, np.float32)
    assert_weights_match(ours, theirs)


def assert_weights_match(ours, theirs):
    np.testing.assert_allclose(ours.weight.numpy(), theirs.weight.detach().numpy(),
                               rtol=1e-5, atol=1e-6)


def test_remove_weight_norm_matches_torch(torch_oracle):
    torch = torch_oracle.torch
    ours, theirs, x = layers(torch, "linear")
    old_weight_norm(ours)
    torch_old_weight_norm(torch, theirs)
    with torch.no_grad():
        theirs.weight_v.mul_(-2)
    ours.load_state_dict(to_ours(theirs.state_dict()))
    nn.utils.remove_weight_norm(ours)
    torch.nn.utils.remove_weight_norm(theirs)
    same_state(ours, theirs, np.float32)
    assert not ours._forward_pre_hooks and type(ours._parameters) is dict
    check_forward_backward(torch, ours, theirs, x, np.float32)


def test_weight_norm_refusals():
    layer = old_weight_norm(nn.Linear(2, 2))
    with pytest.raises(RuntimeError, match="already has a weight_norm hook"):
        old_weight_norm(layer)
    with pytest.raises(ValueError, match="has no weight_norm of 'bias'"):
        nn.utils.remove_weight_norm(layer, "bias")
    with pytest.raises(ValueError, match="Linear has no parameter named 'w'"):
        old_weight_norm(nn.Linear(2, 2), name="w")


# ---------------------------------------------------------------- spectral_norm

def old_spectral_pair(torch, kind, **options):
    """Both layers with the spectral_norm hook, ours given torch's state, in float64."""
    ours, theirs, x = layers(torch, kind)
    nn.utils.spectral_norm(ours, **options)
    torch.nn.utils.spectral_norm(theirs, **options)
    theirs.double()
    ours.double()
    ours.load_state_dict(to_ours(theirs.state_dict()))
    return ours, theirs, x.astype(np.float64)


@pytest.mark.parametrize("kind, options", [("linear", {}), ("conv", {}), ("convt", {}),
                                           ("linear", {"n_power_iterations": 2})])
def test_spectral_norm_trains_as_torch(torch_oracle, kind, options):
    torch = torch_oracle.torch
    ours, theirs, x = old_spectral_pair(torch, kind, **options)
    assert list(ours.state_dict()) == ["bias", "weight_orig", "weight_u", "weight_v"]
    opt = optim.SGD(ours.parameters(), lr=0.1)
    topt = torch.optim.SGD(theirs.parameters(), lr=0.1)
    for _ in range(4):
        opt.zero_grad()
        topt.zero_grad()
        (ours(ad.tensor(x)) ** 2).mean().backward()
        (theirs(torch.from_numpy(x)) ** 2).mean().backward()
        opt.step()
        topt.step()
        same_state(ours, theirs, np.float64)
        assert_weights_match(ours, theirs)


def test_spectral_norm_eval_and_removal_match_torch(torch_oracle):
    torch = torch_oracle.torch
    ours, theirs, x = old_spectral_pair(torch, "conv")
    ours.eval()
    theirs.eval()
    u = ours.weight_u.numpy().copy()
    for _ in range(2):
        check_forward_backward(torch, ours, theirs, x, np.float64)
    np.testing.assert_array_equal(ours.weight_u.numpy(), u)
    same_state(ours, theirs, np.float64)
    fresh = torch.nn.utils.spectral_norm(torch.nn.Conv2d(2, 3, 3)).double()
    fresh.load_state_dict(to_torch(torch, ours.state_dict()))
    same_state(ours, fresh, np.float64)
    nn.utils.remove_spectral_norm(ours)
    torch.nn.utils.remove_spectral_norm(theirs)
    same_state(ours, theirs, np.float64)
    assert isinstance(ours.weight, nn.Parameter)
    assert not ours._forward_pre_hooks and type(ours._parameters) is dict


def test_spectral_norm_refusals():
    layer = nn.utils.spectral_norm(nn.Linear(2, 2))
    with pytest.raises(RuntimeError, match="already has a spectral_norm hook"):
        nn.utils.spectral_norm(layer)
    with pytest.raises(ValueError, match="has no spectral_norm of 'bias'"):
        nn.utils.remove_spectral_norm(layer, "bias")
    with pytest.raises(ValueError, match="Linear has no parameter named 'w'"):
        nn.utils.spectral_norm(nn.Linear(2, 2), name="w")
    with pytest.raises(ValueError, match="n_power_iterations must be positive, got 0"):
        nn.utils.spectral_norm(nn.Linear(2, 2), n_power_iterations=0)


# ---------------------------------------------------------------- inside ad.compile

def train(compiled: bool):
    ad.manual_seed(3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        model = nn.Sequential(nn.utils.weight_norm(nn.Linear(3, 5)), nn.Tanh(),
                              nn.utils.spectral_norm(nn.Linear(5, 2)))
    opt = optim.SGD(model.parameters(), lr=0.1)

    def step(x, y):
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss.detach()

    run = ad.compile(step) if compiled else step
    x, y = ad.randn(4, 3), ad.randn(4, 2)
    losses = [run(x, y).item() for _ in range(3)]
    return losses, {k: v.numpy().copy() for k, v in model.state_dict().items()}


def test_compile_runs_hooked_models_eagerly_with_a_warning():
    eager = train(False)
    with pytest.warns(CompileWarning, match="calls Linear, which has forward pre-hooks"):
        compiled = train(True)
    assert compiled[0] == eager[0]
    for key, value in eager[1].items():
        np.testing.assert_array_equal(compiled[1][key], value, err_msg=key)


def test_a_plain_tensor_attribute_can_be_reassigned():
    """What the hooks do on every call: module.weight = a new tensor of the same shape
    (Module.__setattr__ compared tensors with == once, which has no single truth value)."""
    layer = nn.Linear(2, 2)
    layer.cache = ad.ones(2, 2)
    layer.cache = ad.ones(2, 2)
    np.testing.assert_array_equal(layer.cache.numpy(), np.ones((2, 2), np.float32))
