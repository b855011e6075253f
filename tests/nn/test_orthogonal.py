"""nn.utils.parametrizations.orthogonal against PyTorch, for each map, square, tall, wide
and batched weights, with and without trivialization: the weight after registration from
the same original, orthogonality, gradients with respect to the original, the state dict,
assignment, SGD steps that keep the weight orthogonal; and the compositions it is built
of (`matrix_exp`, `householder_product`) against torch's ops."""
from __future__ import annotations

import numpy as np
import pytest

import autodiff as ad
import nn
import optim
from nn.utils import parametrizations as P

from .conftest import assert_close

MAPS = ["matrix_exp", "cayley", "householder"]
SHAPES = {"square": (4, 4), "tall": (5, 3), "wide": (3, 5), "batch": (2, 4, 3)}


class Batched(nn.Module):
    """A module whose weight is the given array (a matrix or a batch of them)."""

    def __init__(self, weight: np.ndarray) -> None:
        super().__init__()
        self.weight = nn.Parameter(ad.tensor(weight))


def pair(torch, shape, seed=0):
    """Our module and torch's, their weight the same random (not orthogonal) matrix."""
    weight = np.random.default_rng(seed).standard_normal(shape)
    ours = Batched(weight)
    theirs = torch.nn.Module()
    theirs.weight = torch.nn.Parameter(torch.tensor(weight))
    return ours, theirs


def register(torch, shape, orthogonal_map, use_trivialization, seed=0):
    ours, theirs = pair(torch, shape, seed)
    P.orthogonal(ours, orthogonal_map=orthogonal_map, use_trivialization=use_trivialization)
    torch.nn.utils.parametrizations.orthogonal(theirs, orthogonal_map=orthogonal_map,
                                               use_trivialization=use_trivialization)
    return ours, theirs


def orthogonality_error(Q: np.ndarray) -> float:
    m, n = Q.shape[-2:]
    gram = Q.mT @ Q if m >= n else Q @ Q.mT
    return float(np.abs(gram - np.eye(min(m, n))).max())


def copy_state(torch, ours, theirs):
    """Give our module torch's originals and base (their random completion included)."""
    ours.load_state_dict({k: ad.tensor(v.detach().numpy().copy())
                          for k, v in theirs.state_dict().items()})


def perturb(torch, ours, theirs, seed=1):
    """Move both originals off their starting point by the same noise, its diagonal zero
    (Householder's diagonal holds the signs ±1)."""
    original = ours.parametrizations.weight.original
    noise = 0.3 * np.random.default_rng(seed).standard_normal(original.shape)
    noise[..., range(min(noise.shape[-2:])), range(min(noise.shape[-2:]))] = 0.0
    value = original.numpy() + noise
    with ad.no_grad():
        original.copy_(ad.tensor(value))
    with torch.no_grad():
        theirs.parametrizations.weight.original.copy_(torch.tensor(value))


CASES = [(m, s, t) for m in MAPS for s in SHAPES for t in (True, False)]
IDS = [f"{m}-{s}-{'triv' if t else 'plain'}" for m, s, t in CASES]


@pytest.mark.parametrize("orthogonal_map, shape, use_trivialization", CASES, ids=IDS)
def test_registration_matches_torch(torch_oracle, orthogonal_map, shape, use_trivialization):
    torch = torch_oracle.torch
    ours, theirs = register(torch, SHAPES[shape], orthogonal_map, use_trivialization)
    Q = ours.weight.numpy()
    assert Q.shape == SHAPES[shape]
    assert_close(Q, theirs.weight.detach().numpy(), np.float64)
    assert orthogonality_error(Q) < 1e-13
    ours_state, theirs_state = ours.state_dict(), theirs.state_dict()
    assert list(ours_state) == list(theirs_state)
    m, n = SHAPES[shape][-2:]
    for key, value in theirs_state.items():
        mine, value = ours_state[key].numpy(), value.numpy()
        if key.endswith("base") and m != n:
            # B's first min(m, n) columns (of the tall side) are Q's; the rest are random
            keep = min(m, n)
            mine, value = (mine[..., :keep], value[..., :keep])
            assert orthogonality_error(ours_state[key].numpy()) < 1e-14
        assert_close(mine, value, np.float64, key)


@pytest.mark.parametrize("orthogonal_map, shape, use_trivialization", CASES, ids=IDS)
def test_gradients_with_respect_to_the_original_match_torch(
        torch_oracle, orthogonal_map, shape, use_trivialization):
    torch = torch_oracle.torch
    ours, theirs = register(torch, SHAPES[shape], orthogonal_map, use_trivialization)
    copy_state(torch, ours, theirs)
    perturb(torch, ours, theirs)
    upstream = np.random.default_rng(2).standard_normal(SHAPES[shape])
    Qa, Qt = ours.weight, theirs.weight
    assert_close(Qa.numpy(), Qt.detach().numpy(), np.float64)
    assert orthogonality_error(Qa.numpy()) < 1e-13
    (Qa * ad.tensor(upstream)).sum().backward()
    (Qt * torch.tensor(upstream)).sum().backward()
    assert_close(ours.parametrizations.weight.original.grad.numpy(),
                 theirs.parametrizations.weight.original.grad.numpy(), np.float64)


@pytest.mark.parametrize("orthogonal_map", MAPS)
def test_sgd_steps_keep_the_weight_orthogonal_as_torchs(torch_oracle, orthogonal_map):
    torch = torch_oracle.torch
    ours, theirs = register(torch, (5, 3), orthogonal_map, True)
    copy_state(torch, ours, theirs)
    target = np.random.default_rng(3).standard_normal((5, 3))
    opt_a = optim.SGD(ours.parameters(), lr=0.1, momentum=0.9)
    opt_t = torch.optim.SGD(theirs.parameters(), lr=0.1, momentum=0.9)
    losses = []
    for _ in range(6):
        opt_a.zero_grad()
        opt_t.zero_grad()
        loss_a = ((ours.weight - ad.tensor(target)) ** 2).sum()
        loss_t = ((theirs.weight - torch.tensor(target)) ** 2).sum()
        loss_a.backward()
        loss_t.backward()
        opt_a.step()
        opt_t.step()
        losses.append(loss_a.item())
        assert_close(loss_a.item(), loss_t.item(), np.float64)
        assert_close(ours.weight.numpy(), theirs.weight.detach().numpy(), np.float64)
        assert orthogonality_error(ours.weight.numpy()) < 1e-13
    assert losses[-1] < losses[0]


@pytest.mark.parametrize("orthogonal_map", MAPS)
@pytest.mark.parametrize("use_trivialization", [True, False], ids=["triv", "plain"])
def test_assigning_an_orthogonal_matrix_matches_torch(torch_oracle, orthogonal_map,
                                                      use_trivialization):
    torch = torch_oracle.torch
    ours, theirs = register(torch, (4, 4), orthogonal_map, use_trivialization)
    value = np.linalg.qr(np.random.default_rng(4).standard_normal((4, 4)))[0]
    if not use_trivialization and orthogonal_map != "householder":
        with pytest.raises(NotImplementedError, match=f"orthogonal: cannot assign to a "
                                                      f"weight parametrized by the "
                                                      f"{orthogonal_map} map"):
            ours.weight = ad.tensor(value)
        return
    ours.weight = ad.tensor(value)
    theirs.weight = torch.tensor(value)
    assert_close(ours.weight.numpy(), value, np.float64)
    for key, tensor in theirs.state_dict().items():
        assert_close(ours.state_dict()[key].numpy(), tensor.numpy(), np.float64, key)


@pytest.mark.parametrize("orthogonal_map", MAPS)
@pytest.mark.parametrize("use_trivialization", [True, False], ids=["triv", "plain"])
def test_float32_weights_stay_float32_and_orthogonal(orthogonal_map, use_trivialization):
    layer = P.orthogonal(nn.Linear(3, 6), orthogonal_map=orthogonal_map,
                         use_trivialization=use_trivialization)
    assert layer.weight.dtype == np.float32
    assert orthogonality_error(layer.weight.numpy().astype(np.float64)) < 1e-6


def test_the_default_map_is_torchs():
    square = P.orthogonal(nn.Linear(3, 3))
    tall = P.orthogonal(nn.Linear(3, 5))
    assert square.parametrizations.weight[0].orthogonal_map == "matrix_exp"
    assert tall.parametrizations.weight[0].orthogonal_map == "householder"


def test_an_orthogonal_weight_is_kept_as_it_is():
    layer = nn.Linear(4, 4).double()
    value = np.linalg.qr(np.random.default_rng(5).standard_normal((4, 4)))[0]
    layer.weight.data = value.copy()
    P.orthogonal(layer)
    np.testing.assert_array_equal(layer.parametrizations.weight[0].base.numpy(), value)
    np.testing.assert_array_equal(layer.weight.numpy(), value)      # B · exp(0) = B


@pytest.mark.parametrize("make, kwargs, error, message", [
    (lambda: nn.Linear(3, 3), dict(name="bias"), ValueError,
     r"orthogonal: expected a matrix or a batch of matrices, got 'bias' of shape \(3,\)"),
    (lambda: nn.Linear(3, 3), dict(name="scale"), ValueError,
     r"orthogonal: Linear has no parameter or buffer named 'scale'"),
    (lambda: nn.Linear(3, 3), dict(orthogonal_map="qr"), ValueError,
     r"orthogonal: orthogonal_map must be one of \"matrix_exp\", \"cayley\", "
     r"\"householder\", got 'qr'"),
])
def test_refusals(make, kwargs, error, message):
    with pytest.raises(error, match=message):
        P.orthogonal(make(), **kwargs)


def test_assigning_a_matrix_of_another_shape_is_refused():
    layer = P.orthogonal(nn.Linear(3, 4))
    with pytest.raises(ValueError, match=r"orthogonal: expected a matrix or batch of matrices "
                                         r"of shape \(4, 3\), got shape \(3, 3\)"):
        layer.weight = ad.eye(3)


# ---------------------------------------------------------------- the compositions

@pytest.mark.parametrize("scale", [0.0, 0.3, 2.0, 20.0])
def test_matrix_exp_matches_torch_with_its_gradient(torch_oracle, scale):
    torch = torch_oracle.torch
    A = scale * np.random.default_rng(6).standard_normal((3, 4, 4))
    upstream = np.random.default_rng(7).standard_normal((3, 4, 4))
    a, t = ad.tensor(A, requires_grad=True), torch.tensor(A, requires_grad=True)
    ya, yt = P.matrix_exp(a), torch.matrix_exp(t)
    np.testing.assert_allclose(ya.numpy(), yt.detach().numpy(), rtol=1e-12,
                               atol=1e-14 * np.abs(yt.detach().numpy()).max())
    (ya * ad.tensor(upstream)).sum().backward()
    (yt * torch.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-10,
                               atol=1e-12 * np.abs(t.grad.numpy()).max())


def test_householder_product_matches_torch_with_its_gradients(torch_oracle):
    torch = torch_oracle.torch
    rng = np.random.default_rng(8)
    V, tau = rng.standard_normal((2, 5, 3)), rng.standard_normal((2, 3))
    upstream = rng.standard_normal((2, 5, 3))
    va, ta = ad.tensor(V, requires_grad=True), ad.tensor(tau, requires_grad=True)
    vt, tt = torch.tensor(V, requires_grad=True), torch.tensor(tau, requires_grad=True)
    ya, yt = P.householder_product(va, ta), torch.linalg.householder_product(vt, tt)
    assert_close(ya.numpy(), yt.detach().numpy(), np.float64)
    (ya * ad.tensor(upstream)).sum().backward()
    (yt * torch.tensor(upstream)).sum().backward()
    assert_close(va.grad.numpy(), vt.grad.numpy(), np.float64)
    assert_close(ta.grad.numpy(), tt.grad.numpy(), np.float64)
