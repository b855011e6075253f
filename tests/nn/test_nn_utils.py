"""nn.utils: clip_grad_norm_, clip_grad_value_, parameters_to_vector and
vector_to_parameters, against PyTorch on the same gradients and by hand (the clipped norm
is max_norm, small gradients are left alone), and inside a compiled training step."""
from __future__ import annotations

import math

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F


def model_with_grads(seed: int = 0, scale: float = 1.0, dtype: type = np.float32):
    """A small model whose parameters hold gradients (the last Linear's bias has none)."""
    ad.manual_seed(seed)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).to(dtype)
    rng = np.random.default_rng(seed)
    for p in list(model.parameters())[:-1]:
        p.grad = ad.tensor(rng.standard_normal(p.shape) * scale, dtype=dtype)
    return model


def torch_copy(torch, model):
    """torch tensors with the same values and gradients as the model's parameters."""
    params = []
    for p in model.parameters():
        t = torch.tensor(p.numpy().copy(), requires_grad=True)
        if p.grad is not None:
            t.grad = torch.tensor(p.grad.numpy().copy())
        params.append(t)
    return params


def grads(model):
    return [None if p.grad is None else p.grad.numpy().copy() for p in model.parameters()]


# ---------------------------------------------------------------- clip_grad_norm_

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(torch_oracle, dtype, norm_type, max_norm):
    torch = torch_oracle.torch
    model = model_with_grads(1, dtype=dtype)
    theirs = torch_copy(torch, model)
    total = nn.utils.clip_grad_norm_(model.parameters(), max_norm, norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert isinstance(total, ad.Tensor) and total.shape == () and total.dtype == dtype
    torch_oracle.assert_close(total.numpy(), expected.numpy(), dtype)
    for ours, t in zip(grads(model), theirs):
        if ours is None:
            assert t.grad is None
        else:
            torch_oracle.assert_close(ours, t.grad.numpy(), dtype)


def test_clip_grad_norm_by_hand():
    """Afterwards the gradients' joint 2-norm is max_norm; each keeps its direction."""
    model = model_with_grads(2, scale=10.0, dtype=np.float64)
    before = [g for g in grads(model) if g is not None]
    norm = math.sqrt(sum((g ** 2).sum() for g in before))
    total = nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    assert total.item() == pytest.approx(norm, rel=1e-12)
    after = [g for g in grads(model) if g is not None]
    assert math.sqrt(sum((g ** 2).sum() for g in after)) == pytest.approx(1.0, rel=1e-5)
    for b, a in zip(before, after):
        np.testing.assert_allclose(a, b / (norm + 1e-6), rtol=1e-12)     # max_norm / (total + ε)
    assert model[2].bias.grad is None                                    # skipped, left alone


def test_clip_grad_norm_leaves_small_gradients_alone():
    model = model_with_grads(3, scale=0.01)
    before = grads(model)
    total = nn.utils.clip_grad_norm_(model.parameters(), max_norm=5.0)
    assert total.item() < 5.0
    for b, a in zip(before, grads(model)):
        if b is not None:
            np.testing.assert_array_equal(a, b)                 # coef clamped to exactly 1


def test_clip_grad_norm_inf_and_single_tensors():
    w = ad.zeros(3, requires_grad=True)
    w.grad = ad.tensor([3.0, -4.0, 1.0])
    total = nn.utils.clip_grad_norm_(w, max_norm=2.0, norm_type="inf")
    assert total.item() == 4.0
    np.testing.assert_allclose(w.grad.numpy(), np.array([3.0, -4.0, 1.0]) * 2 / (4 + 1e-6),
                               rtol=1e-6)
    assert nn.utils.clip_grad_norm_([ad.zeros(2, requires_grad=True)], 1.0).item() == 0.0


def test_clip_grad_norm_nonfinite():
    w = ad.zeros(2, requires_grad=True)
    w.grad = ad.tensor([math.nan, 1.0])
    with pytest.raises(ad.DomainError, match="clip_grad_norm_: the total norm of order 2.0 is "
                                             "nan, so the gradients cannot be clipped"):
        nn.utils.clip_grad_norm_(w, 1.0, error_if_nonfinite=True)
    np.testing.assert_array_equal(w.grad.numpy(), [math.nan, 1.0])     # untouched
    assert math.isnan(nn.utils.clip_grad_norm_(w, 1.0).item())        # as torch: scaled by NaN
    assert np.isnan(w.grad.numpy()).all()


def test_get_total_norm_then_clip_grads_with_norm_is_clip_grad_norm_():
    """The two halves, given the gradients of two models, clip as one clip_grad_norm_ over
    both; None entries are skipped; torch gives the same numbers."""
    first, second = model_with_grads(5, scale=10.0), model_with_grads(6, scale=10.0)
    expected = [model_with_grads(s, scale=10.0) for s in (5, 6)]
    total_expected = nn.utils.clip_grad_norm_(
        [p for m in expected for p in m.parameters()], max_norm=0.5, norm_type=3.0)
    grads_of_both = [p.grad for m in (first, second) for p in m.parameters()]
    assert any(g is None for g in grads_of_both)
    total = nn.utils.get_total_norm(grads_of_both, norm_type=3.0)
    assert total.item() == pytest.approx(total_expected.item(), rel=1e-6)
    nn.utils.clip_grads_with_norm_(first.parameters(), 0.5, total)
    nn.utils.clip_grads_with_norm_(second.parameters(), 0.5, total)
    for model, reference in zip((first, second), expected):
        for a, b in zip(grads(model), grads(reference)):
            if b is not None:
                np.testing.assert_array_equal(a, b)
    torch = pytest.importorskip("torch")
    tensors = [np.array([3.0, -4.0]), np.array([[1.0, 2.0], [0.5, -7.0]])]
    theirs = torch.nn.utils.get_total_norm([torch.tensor(t) for t in tensors], norm_type=1.5)
    ours = nn.utils.get_total_norm([ad.tensor(t) for t in tensors], norm_type=1.5)
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-12)


def train(compiled: bool) -> tuple[list[float], list[np.ndarray]]:
    """Three SGD steps with both clippings, eager or compiled."""
    ad.manual_seed(4)
    model = nn.Sequential(nn.Embedding(10, 4, padding_idx=0), nn.LayerNorm(4), nn.SiLU(),
                          nn.Flatten(), nn.Linear(12, 3))
    params = list(model.parameters())

    def step(x, y):
        model.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        total = nn.utils.clip_grad_norm_(params, 0.1)
        nn.utils.clip_grad_value_(params, 0.01)
        with ad.no_grad():
            for p in params:
                p -= 0.5 * p.grad
        return loss.detach(), total

    run = ad.compile(step, fullgraph=True) if compiled else step
    x, y = ad.tensor([[1, 2, 0], [3, 0, 9]]), ad.tensor([0, 2])
    totals = [run(x, y)[1].item() for _ in range(3)]
    return totals, [p.numpy().copy() for p in params]


def test_clipping_replays_in_a_compiled_step():
    eager, compiled = train(False), train(True)
    assert eager[0] == compiled[0]
    for a, b in zip(eager[1], compiled[1]):
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------- clip_grad_value_

def test_clip_grad_value_matches_torch(torch_oracle):
    torch = torch_oracle.torch
    model = model_with_grads(5, scale=2.0)
    theirs = torch_copy(torch, model)
    assert nn.utils.clip_grad_value_(model.parameters(), 0.7) is None
    torch.nn.utils.clip_grad_value_(theirs, 0.7)
    for ours, t in zip(grads(model), theirs):
        if ours is not None:
            np.testing.assert_array_equal(ours, t.grad.numpy())


def test_clip_grad_value_by_hand():
    w = ad.zeros(4, requires_grad=True)
    w.grad = ad.tensor([-3.0, -0.2, 0.5, 8.0])
    nn.utils.clip_grad_value_([w, ad.zeros(1, requires_grad=True)], 1.0)
    np.testing.assert_array_equal(w.grad.numpy(), np.float32([-1.0, -0.2, 0.5, 1.0]))
    assert w.grad.dtype == np.float32


# ---------------------------------------------------------------- parameters <-> vector

def test_parameters_to_vector_matches_torch(torch_oracle):
    torch = torch_oracle.torch
    model = model_with_grads(6)
    vec = nn.utils.parameters_to_vector(model.parameters())
    expected = torch.nn.utils.parameters_to_vector(torch_copy(torch, model))
    np.testing.assert_array_equal(vec.numpy(), expected.detach().numpy())


def test_parameters_to_vector_by_hand_and_its_gradient():
    w = ad.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    b = ad.tensor([5.0], requires_grad=True)
    vec = nn.utils.parameters_to_vector([w, b])
    assert vec.tolist() == [1, 2, 3, 4, 5] and vec.shape == (5,)
    (vec * ad.arange(5.0)).sum().backward()              # d/dvec = [0, 1, 2, 3, 4]
    assert w.grad.tolist() == [[0, 1], [2, 3]] and b.grad.tolist() == [4]


def test_vector_to_parameters_round_trip(torch_oracle):
    torch = torch_oracle.torch
    model = model_with_grads(7)
    theirs = torch_copy(torch, model)
    vec = np.arange(sum(p.numel() for p in model.parameters()), dtype=np.float32) / 10
    nn.utils.vector_to_parameters(ad.tensor(vec), model.parameters())
    torch.nn.utils.vector_to_parameters(torch.tensor(vec), theirs)
    for ours, t in zip(model.parameters(), theirs):
        np.testing.assert_array_equal(ours.numpy(), t.detach().numpy())
    np.testing.assert_array_equal(nn.utils.parameters_to_vector(model.parameters()).numpy(),
                                  vec)


def test_vector_to_parameters_by_hand_and_errors():
    w = nn.Parameter(ad.zeros(2, 2))
    b = nn.Parameter(ad.zeros(1))
    nn.utils.vector_to_parameters(ad.tensor([1.0, 2.0, 3.0, 4.0, 5.0]), [w, b])
    assert w.tolist() == [[1, 2], [3, 4]] and b.tolist() == [5]
    assert w.is_leaf and w.grad_fn is None and w.requires_grad        # no graph recorded
    with pytest.raises(TypeError, match="vector_to_parameters: vec must be a Tensor, got list"):
        nn.utils.vector_to_parameters([1.0] * 5, [w, b])
    with pytest.raises(ad.ShapeError, match=r"vec must be 1-D with 5 numbers, one per "
                                            r"parameter element, got shape \(4,\)"):
        nn.utils.vector_to_parameters(ad.zeros(4), [w, b])
    with pytest.raises(ad.ShapeError, match=r"got shape \(5, 1\)"):
        nn.utils.vector_to_parameters(ad.zeros(5, 1), [w, b])
