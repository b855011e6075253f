"""Losses (nn/functional.py and nn/losses.py): numbers by hand and PyTorch on the same
inputs, in float32 and float64, for every reduction, values and gradients."""
import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F

DTYPES = [np.float32, np.float64]
REDUCTIONS = ["mean", "sum", "none"]


@pytest.fixture
def rng():
    """Each test's own generator, seeded the same every time: what a test draws does not
    depend on which tests ran before it."""
    return np.random.default_rng(0)


# name -> (module class, input maker, target maker, target is differentiable); the makers
# draw from the generator they are given
CASES = {
    "mse_loss": ("MSELoss", lambda rng: rng.standard_normal((4, 3)),
                 lambda rng: rng.standard_normal((4, 3)), True),
    "l1_loss": ("L1Loss", lambda rng: rng.standard_normal((4, 3)),
                lambda rng: rng.standard_normal((4, 3)), True),
    "binary_cross_entropy": ("BCELoss", lambda rng: rng.uniform(0.05, 0.95, (5, 2)),
                             lambda rng: rng.uniform(0, 1, (5, 2)), True),
    "binary_cross_entropy_with_logits": ("BCEWithLogitsLoss",
                                         lambda rng: rng.standard_normal((5, 2)) * 3,
                                         lambda rng: rng.uniform(0, 1, (5, 2)), True),
    "nll_loss": ("NLLLoss", lambda rng: np.log(rng.dirichlet(np.ones(4), size=6)),
                 lambda rng: rng.integers(0, 4, 6), False),
    "cross_entropy": ("CrossEntropyLoss", lambda rng: rng.standard_normal((6, 4)) * 2,
                      lambda rng: rng.integers(0, 4, 6), False),
}


def as_leaf(array, dtype, differentiable, torch=None):
    array = np.asarray(array, dtype=dtype if array.dtype.kind == "f" else np.int64)
    if torch is None:
        return ad.tensor(array, requires_grad=differentiable)
    return torch.tensor(array, requires_grad=differentiable)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", list(CASES))
def test_losses_match_torch(torch_oracle, rng, name, reduction, dtype):
    torch, assert_close = torch_oracle.torch, torch_oracle.assert_close
    module_name, make_input, make_target, target_grad = CASES[name]
    x, t = make_input(rng), make_target(rng)
    xa, ta = as_leaf(x, dtype, True), as_leaf(t, dtype, target_grad)
    xt, tt = as_leaf(x, dtype, True, torch), as_leaf(t, dtype, target_grad, torch)
    ours = getattr(nn, module_name)(reduction=reduction)(xa, ta)
    theirs = getattr(torch.nn.functional, name)(xt, tt, reduction=reduction)
    assert ours.dtype == dtype and ours.shape == tuple(theirs.shape)
    assert_close(ours.numpy(), theirs.detach().numpy(), dtype)
    upstream = rng.standard_normal(ours.shape).astype(dtype)
    ours.backward(upstream)
    theirs.backward(torch.from_numpy(upstream))
    assert_close(xa.grad.numpy(), xt.grad.numpy(), dtype)
    assert xa.grad.dtype == dtype
    if target_grad:
        assert_close(ta.grad.numpy(), tt.grad.numpy(), dtype)


def test_losses_by_hand():
    x = ad.tensor([1.0, 2.0, 4.0], requires_grad=True)
    y = ad.tensor([1.0, 0.0, 1.0])
    assert F.mse_loss(x, y).item() == pytest.approx((0 + 4 + 9) / 3)
    assert F.mse_loss(x, y, reduction="sum").item() == pytest.approx(13)
    np.testing.assert_allclose(F.mse_loss(x, y, reduction="none").numpy(), [0, 4, 9], rtol=1e-6)
    F.mse_loss(x, y).backward()
    np.testing.assert_allclose(x.grad.numpy(), [0, 4 / 3, 2], rtol=1e-6)    # 2(x - y)/n
    assert F.l1_loss(x, y).item() == pytest.approx(5 / 3)
    p = ad.tensor([0.5, 0.25])
    assert F.binary_cross_entropy(p, ad.tensor([1.0, 0.0])).item() == pytest.approx(
        (np.log(2) - np.log(0.75)) / 2, rel=1e-6)
    logits = ad.tensor([[np.log(3.0), 0.0]])                              # p = (3/4, 1/4)
    assert F.cross_entropy(logits, ad.tensor([1])).item() == pytest.approx(np.log(4), rel=1e-6)
    log_probs = ad.tensor([[-0.1, -2.0], [-3.0, -0.05]])
    np.testing.assert_allclose(F.nll_loss(log_probs, ad.tensor([1, 1]), reduction="none").numpy(),
                               [2.0, 0.05], rtol=1e-6)


def test_log_softmax_then_nll_equals_cross_entropy(rng):
    """Document 004's pair of nodes gives the same loss and gradient as the fused one."""
    x = rng.standard_normal((15, 10))
    a = ad.tensor(x, requires_grad=True)
    b = ad.tensor(x, requires_grad=True)
    target = ad.tensor(rng.integers(0, 10, 15))
    two_step = F.nll_loss(F.log_softmax(a, dim=1), target)
    fused = F.cross_entropy(b, target)
    assert two_step.item() == pytest.approx(fused.item(), rel=1e-9)
    two_step.backward()
    fused.backward()
    # grads <= 1/15
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9, atol=1e-11)


def test_loss_arguments_are_checked():
    with pytest.raises(ValueError, match="reduction must be"):
        nn.MSELoss(reduction="avg")
    with pytest.raises(ad.ShapeError, match=r"\(4, 1\) and target of shape \(4,\)"):
        F.mse_loss(ad.zeros(4, 1), ad.zeros(4))
    with pytest.raises(ad.DtypeError, match="float target holds class probabilities"):
        nn.CrossEntropyLoss()(ad.zeros(2, 3), ad.tensor([0.0, 1.0]))
    assert nn.NLLLoss(reduction="sum").hyperparameters() == {"weight": None, "ignore_index": -100,
                                                             "reduction": "sum"}


def test_mse_target_as_numbers_keeps_float32():
    loss = F.mse_loss(ad.zeros(3, requires_grad=True), np.array([1.0, 2.0, 3.0]))
    assert loss.dtype == np.float32 and loss.item() == pytest.approx(14 / 3)
