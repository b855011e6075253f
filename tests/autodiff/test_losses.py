"""The losses (autodiff/ops/losses.py): one graph node each, values against
direct numpy formulas, gradients against finite differences to second order in float64
(Hypothesis over shapes), stability at huge logits, and the errors for bad input."""
import warnings

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given

import autodiff as ad
from autodiff.ops import losses as loss_ops

try:
    import torch
except ImportError:
    torch = None

REDUCTIONS = ["mean", "sum", "none"]


def floats(shape, low=-2.0, high=2.0):
    return hnp.arrays(np.float64, shape, elements=st.floats(low, high, width=64))


def leaf(array):
    return ad.tensor(np.asarray(array, dtype=np.float64), requires_grad=True)


def check_both_orders(fn, inputs):
    """gradcheck of fn, and gradgradcheck (its first derivatives, second order)."""
    assert ad.gradcheck(fn, inputs)
    assert ad.gradgradcheck(fn, inputs)


def reduce(losses, reduction):
    return {"mean": losses.mean, "sum": losses.sum, "none": lambda: losses}[reduction]()


# ---------------------------------------------------------------- class-index losses

def class_problem(data):
    """(logits shape, target shape, class count) for (C,), (N, C) or (N, C, d)."""
    kind = data.draw(st.sampled_from(["single", "batch", "spatial"]))
    classes = data.draw(st.integers(1, 4))
    n, d = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    shapes = {"single": ((classes,), ()), "batch": ((n, classes), (n,)),
              "spatial": ((n, classes, d), (n, d))}
    x_shape, t_shape = shapes[kind]
    target = data.draw(hnp.arrays(np.int64, t_shape, elements=st.integers(0, classes - 1)))
    return x_shape, target


def numpy_log_softmax(x, axis):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def picked(log_probs, target, axis):
    return np.take_along_axis(log_probs, np.expand_dims(target, axis), axis).squeeze(axis)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(data=st.data())
def test_cross_entropy_matches_formula_and_is_twice_differentiable(reduction, data):
    x_shape, target = class_problem(data)
    x = leaf(data.draw(floats(x_shape, -3.0, 3.0)))
    axis = 0 if x.ndim == 1 else 1
    loss = loss_ops.cross_entropy(x, ad.tensor(target), reduction)
    expected = reduce(-picked(numpy_log_softmax(x.numpy(), axis), target, axis), reduction)
    np.testing.assert_allclose(loss.numpy(), expected, rtol=1e-9, atol=1e-9)   # losses O(1)
    assert type(loss.grad_fn).__name__ == "CrossEntropy" and loss.grad_fn.inputs[0] is x
    check_both_orders(lambda t: loss_ops.cross_entropy(t, target, reduction), (x,))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(data=st.data())
def test_nll_loss_matches_formula_and_is_twice_differentiable(reduction, data):
    x_shape, target = class_problem(data)
    x = leaf(data.draw(floats(x_shape, -3.0, 0.0)))
    axis = 0 if x.ndim == 1 else 1
    loss = loss_ops.nll_loss(x, target, reduction)
    np.testing.assert_allclose(loss.numpy(), reduce(-picked(x.numpy(), target, axis), reduction),
                               rtol=1e-12)
    assert type(loss.grad_fn).__name__ == "NLLLoss"
    check_both_orders(lambda t: loss_ops.nll_loss(t, target, reduction), (x,))


def test_cross_entropy_gradient_by_hand():
    """dL/dx = (softmax(x) - onehot(t)) / N."""
    x = ad.tensor([[0.0, 0.0], [np.log(3.0), 0.0]], requires_grad=True)
    loss = loss_ops.cross_entropy(x, ad.tensor([0, 1]))
    assert loss.item() == pytest.approx((np.log(2) + np.log(4)) / 2, rel=1e-6)
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), [[-0.25, 0.25], [0.375, -0.375]], rtol=1e-6)


def test_cross_entropy_second_derivative_by_hand():
    """For two classes, d²L/dx₀² = p₀ p₁ (the softmax's Jacobian)."""
    x = ad.tensor(np.array([1.0, -1.0]), requires_grad=True)
    g, = ad.grad(loss_ops.cross_entropy(x, np.array(0)), [x], create_graph=True)
    h, = ad.grad(g[0], [x])
    p0 = 1 / (1 + np.exp(-2.0))
    np.testing.assert_allclose(h.numpy(), [p0 * (1 - p0), -p0 * (1 - p0)], rtol=1e-9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("scale", [1e4, 1000.0])
def test_cross_entropy_is_finite_at_huge_logits(dtype, scale):
    base = np.array([[1.0, -1.0, 0.5], [-1.0, 1.0, 0.0]])
    x = ad.tensor((base * scale).astype(dtype), requires_grad=True)
    target = ad.tensor([1, 1])
    loss = loss_ops.cross_entropy(x, target)
    g, = ad.grad(loss, [x], create_graph=True)
    h, = ad.grad(g.sum(), [x])
    for t in (loss, g, h):
        assert np.all(np.isfinite(t.numpy())) and t.dtype == dtype
    # sample 0: the right class is 2·scale below the best one; sample 1 is right
    assert loss.item() == pytest.approx(scale, rel=1e-5)
    np.testing.assert_allclose(g.numpy(), [[0.5, -0.5, 0], [0, 0, 0]], atol=1e-6)
    log_probs = ad.tensor((base * scale).astype(dtype)).log_softmax(dim=1)
    nll = loss_ops.nll_loss(log_probs, target)
    assert np.isfinite(nll.item()) and nll.item() == pytest.approx(loss.item(), rel=1e-6)


def test_class_target_errors():
    x = ad.zeros(4, 10)
    with pytest.raises(ad.DtypeError, match="class indices as integers.*argmax"):
        loss_ops.cross_entropy(x, ad.zeros(4))
    with pytest.raises(ad.ShapeError, match=r"needs a target of shape \(4,\).*got \(4, 1\)"):
        loss_ops.nll_loss(x, np.zeros((4, 1), dtype=np.int64))
    with pytest.raises(IndexError, match="class 10, but the input has 10 classes"):
        loss_ops.cross_entropy(x, ad.tensor([0, 1, 10, 2]))
    with pytest.raises(IndexError, match="class -1"):
        loss_ops.nll_loss(x, ad.tensor([0, -1, 1, 2]))
    with pytest.raises(ValueError, match="reduction must be 'mean', 'sum' or 'none'"):
        loss_ops.cross_entropy(x, ad.tensor([0, 1, 2, 3]), "average")


# ---------------------------------------------------------------- regression loss

@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(data=st.data())
def test_mse_loss_matches_formula_and_is_twice_differentiable(reduction, data):
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=2, max_side=3))
    x = leaf(data.draw(floats(shape)))
    t = leaf(data.draw(floats(shape)))
    loss = loss_ops.mse_loss(x, t, reduction)
    np.testing.assert_allclose(loss.numpy(), reduce((x.numpy() - t.numpy()) ** 2, reduction),
                               rtol=1e-12, atol=1e-12)
    assert type(loss.grad_fn).__name__ == "MSELoss"
    check_both_orders(lambda a, b: loss_ops.mse_loss(a, b, reduction), (x, t))


def test_mse_loss_gradient_by_hand():
    x = ad.tensor([1.0, 2.0, 4.0], requires_grad=True)
    loss_ops.mse_loss(x, [0.0, 2.0, 1.0]).backward()      # 2(x - t) / 3
    np.testing.assert_allclose(x.grad.numpy(), [2 / 3, 0.0, 2.0], rtol=1e-6)
    assert x.grad.dtype == np.float32


# ---------------------------------------------------------------- two-class losses

@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(data=st.data())
def test_binary_cross_entropy_is_twice_differentiable_in_both_inputs(reduction, data):
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=2, max_side=3))
    p = leaf(data.draw(floats(shape, 0.05, 0.95)))
    t = leaf(data.draw(floats(shape, 0.01, 0.99)))    # (differences step t; it stays in [0, 1])
    loss = loss_ops.binary_cross_entropy(p, t, reduction)
    expected = -(t.numpy() * np.log(p.numpy()) + (1 - t.numpy()) * np.log(1 - p.numpy()))
    np.testing.assert_allclose(loss.numpy(), reduce(expected, reduction), rtol=1e-9)
    check_both_orders(lambda a, b: loss_ops.binary_cross_entropy(a, b, reduction), (p, t))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(data=st.data())
def test_binary_cross_entropy_with_logits_is_twice_differentiable(reduction, data):
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=2, max_side=3))
    x = leaf(data.draw(floats(shape, -4.0, 4.0)))
    t = leaf(data.draw(floats(shape, 0.0, 1.0)))
    loss = loss_ops.binary_cross_entropy_with_logits(x, t, reduction)
    s = 1 / (1 + np.exp(-x.numpy()))
    expected = -(t.numpy() * np.log(s) + (1 - t.numpy()) * np.log(1 - s))
    np.testing.assert_allclose(loss.numpy(), reduce(expected, reduction), rtol=1e-9)
    check_both_orders(
        lambda a, b: loss_ops.binary_cross_entropy_with_logits(a, b, reduction), (x, t))


def test_binary_cross_entropy_with_logits_at_zero_and_extremes():
    """At x = 0 the gradient is σ(0) - t = 0.5 - t (a composition of relu and abs would
    give -t there); at ±1000 every value and derivative is finite."""
    x = ad.tensor([0.0, 1000.0, -1000.0], requires_grad=True)
    t = ad.tensor([1.0, 0.0, 1.0])
    loss = loss_ops.binary_cross_entropy_with_logits(x, t, "sum")
    np.testing.assert_allclose(loss.numpy(), np.log(2) + 2000, rtol=1e-6)
    g, = ad.grad(loss, [x], create_graph=True)
    np.testing.assert_allclose(g.numpy(), [-0.5, 1.0, -1.0], rtol=1e-6)
    h, = ad.grad(g.sum(), [x])
    np.testing.assert_allclose(h.numpy(), [0.25, 0.0, 0.0], rtol=1e-6, atol=1e-7)


def test_binary_cross_entropy_clamps_logs_at_minus_100():
    p = ad.tensor([0.0, 1.0, 0.5], requires_grad=True)
    t = ad.tensor([1.0, 0.0, 1.0])
    loss = loss_ops.binary_cross_entropy(p, t, "none")
    np.testing.assert_allclose(loss.numpy(), [100.0, 100.0, np.log(2)], rtol=1e-6)
    loss.sum().backward()
    # (p - t) / max(p(1 - p), 1e-12): huge but finite where p(1 - p) = 0
    np.testing.assert_allclose(p.grad.numpy(), [-1e12, 1e12, -2.0], rtol=1e-5)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("values", [[0.5, 1.5], [-0.25, 0.5], [np.nan, 2.0], [1.0 + 1e-7, 0.0]])
def test_binary_cross_entropy_refuses_values_outside_0_1(values, reduction):
    p = ad.tensor(values, dtype=ad.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # refused with the error alone, no warning
        with pytest.raises(ad.DomainError, match=r"probability in \[0, 1\]"):
            loss_ops.binary_cross_entropy(p, ad.tensor([1.0, 0.0], dtype=ad.float64),
                                          reduction)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("targets", [[1.5, 0.0], [1.0, -0.2], [np.nan, 2.0], [1.0 + 1e-7, 0.0]])
def test_binary_cross_entropy_refuses_targets_outside_0_1_as_torch_does(targets, reduction):
    # the losses stay finite (1.5·log p is a number), so only a check can tell
    p = ad.tensor([0.3, 0.6], dtype=ad.float64, requires_grad=True)
    with pytest.raises(ad.DomainError, match=r"every target must be a probability in \[0, 1\]"):
        loss_ops.binary_cross_entropy(p, ad.tensor(targets, dtype=ad.float64), reduction)
    if torch is not None:
        with pytest.raises(RuntimeError, match="target should be between 0 and 1"):
            torch.nn.functional.binary_cross_entropy(
                torch.tensor([0.3, 0.6], dtype=torch.float64),
                torch.tensor(targets, dtype=torch.float64), reduction=reduction)
    loss_ops.binary_cross_entropy_with_logits(p, ad.tensor([1.5, -0.2], dtype=ad.float64))


@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_binary_cross_entropy_passes_nan_through(reduction):
    loss = loss_ops.binary_cross_entropy(ad.tensor([np.nan, 0.25]), ad.tensor([1.0, 0.0]),
                                         reduction)
    assert np.isnan(loss.numpy()).any()
    if reduction == "none":
        np.testing.assert_allclose(loss.numpy()[1], -np.log(0.75), rtol=1e-6)
    # a NaN target passes as a NaN input does (torch refuses both)
    loss = loss_ops.binary_cross_entropy(ad.tensor([0.5, 0.25]), ad.tensor([np.nan, 0.0]),
                                         reduction)
    assert np.isnan(loss.numpy()).any()


def test_binary_losses_check_input():
    with pytest.raises(ValueError, match=r"probability in \[0, 1\].*with_logits"):
        loss_ops.binary_cross_entropy(ad.tensor([0.5, 1.5]), ad.tensor([1.0, 0.0]))
    with pytest.raises(ad.ShapeError, match=r"\(4, 1\).*\(4,\).*same shape"):
        loss_ops.binary_cross_entropy_with_logits(ad.zeros(4, 1), ad.zeros(4))
    loss = loss_ops.binary_cross_entropy_with_logits(ad.zeros(2), [1.0, 0.0])
    assert loss.dtype == np.float32     # a float64 list target does not upcast float32
