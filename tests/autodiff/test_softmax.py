"""Softmax, log-softmax and log-sum-exp (autodiff/ops/softmax.py): values against a
direct numpy formula, gradients against finite differences to second order, and
stability at logits of ±1000."""
import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given

import autodiff as ad
from autodiff.ops.losses import cross_entropy
from autodiff.ops.softmax import max_along, sum_along


def numpy_logsumexp(x, axis, keepdims):
    return np.log(np.exp(x).sum(axis=axis, keepdims=keepdims))


def numpy_softmax(x, axis):
    e = np.exp(x)
    return e / e.sum(axis=axis, keepdims=True)


def draw_dim(data, ndim):
    return data.draw(st.integers(-ndim, ndim - 1)) if ndim else data.draw(st.sampled_from([0, -1]))


@given(data=st.data())
def test_logsumexp(data, strategies, check_grads):
    shape = data.draw(strategies.shapes())
    dims = data.draw(st.one_of(st.none(), hnp.valid_tuple_axes(len(shape), min_size=1))
                     if shape else st.none())
    if dims is not None and len(dims) == 1 and data.draw(st.booleans()):
        dims = dims[0]                                          # an int, not a tuple
    keep = data.draw(st.booleans())
    x = data.draw(strategies.floats(shape, -3.0, 3.0))
    spelled = data.draw(st.sampled_from([
        lambda t: t.logsumexp(dim=dims, keepdim=keep),
        lambda t: t.logsumexp(axis=dims, keepdims=keep),
        lambda t: ad.logsumexp(t, dims, keep)]))
    y = spelled(ad.tensor(x))
    # log-sum-exp near 0 (e.g. of -0.7 and -0.7) is a difference of numbers as large as
    # max|x| = 3: its rounding error is on that scale, a few 1e-16, not relative to itself
    np.testing.assert_allclose(y.numpy(), numpy_logsumexp(x, dims, keep), rtol=1e-12, atol=1e-14)
    check_grads(spelled, x)


@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
@given(data=st.data())
def test_softmax_and_log_softmax(op, data, strategies, check_grads):
    shape = data.draw(strategies.shapes())
    dim = draw_dim(data, len(shape))
    x = data.draw(strategies.floats(shape, -3.0, 3.0))
    spelled = data.draw(st.sampled_from([
        lambda t: getattr(t, op)(dim), lambda t: getattr(t, op)(axis=dim),
        lambda t: getattr(ad, op)(t, dim=dim)]))
    y = spelled(ad.tensor(x))
    axis = dim if shape else None
    expected = numpy_softmax(x, axis)
    expected = np.log(expected) if op == "log_softmax" else expected
    # log p near 0 (p near 1) is x - logsumexp(x), rounded on the scale of max|x| = 3
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12, atol=1e-14)
    check_grads(spelled, x)


def test_softmax_rows_sum_to_one_and_gradient_of_the_sum_is_zero():
    x = ad.tensor(np.array([[1.0, 2.0, 3.0], [-1.0, 0.0, 5.0]]), requires_grad=True)
    y = x.softmax(dim=1)
    np.testing.assert_allclose(y.numpy().sum(axis=1), [1.0, 1.0])
    y.sum().backward()
    # s·(1 - Σs): rounding noise of probabilities of order one
    np.testing.assert_allclose(x.grad.numpy(), np.zeros((2, 3)), atol=1e-14)


def test_log_softmax_gradient_is_one_hot_minus_softmax():
    logits = np.array([[0.5, -1.0, 2.0]])
    x = ad.tensor(logits, requires_grad=True)
    x.log_softmax(dim=1)[0, 2].backward()                  # d log p₂ / dx = e₂ - p
    np.testing.assert_allclose(x.grad.numpy(), np.array([[0, 0, 1.0]]) - numpy_softmax(logits, 1))


@pytest.mark.parametrize("dtype", [ad.float32, ad.float64])
def test_stable_at_plus_minus_1000(dtype):
    logits = np.array([[1000.0, 0.0, -1000.0], [-1000.0, -1000.0, -1000.0]], dtype=dtype)
    for op, expected, expected_grad in [
            ("softmax", [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]], None),
            ("log_softmax", [[0, -1000, -2000], [-np.log(3)] * 3], None),
            ("logsumexp", [1000, -1000 + np.log(3)], [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]])]:
        x = ad.tensor(logits, requires_grad=True)
        y = getattr(x, op)(dim=1)
        assert y.dtype == dtype
        np.testing.assert_allclose(y.numpy(), expected, rtol=1e-6)
        (y * ad.tensor(np.arange(y.numel(), dtype=dtype).reshape(y.shape))).sum().backward()
        assert np.all(np.isfinite(x.grad.numpy()))
        if expected_grad is not None:
            # exp(x - y) with y = -1000 + log 3 rounded to float32: torch's 0.33332649 too;
            # in float64 the rounding of y (1000·eps ≈ 1e-13) is the error's scale
            np.testing.assert_allclose(x.grad.numpy(), np.array(expected_grad) * [[0], [1]],
                                       rtol=1e-4 if dtype == ad.float32 else 1e-11)


def test_logsumexp_of_everything_at_1000():
    x = ad.tensor(np.array([1000.0, 1000.0]), requires_grad=True)
    y = x.logsumexp()
    y.backward()
    assert y.item() == pytest.approx(1000 + np.log(2))
    np.testing.assert_allclose(x.grad.numpy(), [0.5, 0.5])


def test_softmax_needs_a_dim():
    with pytest.raises(ad.ShapeError, match=r"softmax: say which dim"):
        ad.tensor([1.0, 2.0]).softmax()


# ------------------------------------------------------------ tall batches of short rows

@pytest.mark.parametrize("rows, classes", [(64, 1), (100, 10), (70, 32), (64, 33), (63, 10)])
def test_max_and_sum_along_short_rows_match_numpy(rows, classes):
    x = np.random.default_rng(rows + classes).standard_normal((rows, classes))
    x[3, 0], x[5, :] = np.nan, -np.inf                  # NaN propagates; -inf rows stay -inf
    np.testing.assert_array_equal(max_along(x, 1), x.max(axis=1, keepdims=True))
    # the two add in different orders: a sum near 0 differs on the scale of Σ|x|, not of
    # itself (up to 2 eps · Σ|x| over 1,500 seeds)
    scale = np.abs(np.where(np.isfinite(x), x, 0)).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(sum_along(x, 1), x.sum(axis=1, keepdims=True), rtol=1e-14,
                               atol=1e-14 * scale.max())
    np.testing.assert_array_equal(max_along(x, 0), x.max(axis=0, keepdims=True))


@pytest.mark.parametrize("op", ["softmax", "log_softmax", "cross_entropy"])
def test_tall_batches_of_few_classes_match_the_formula_and_finite_differences(op):
    """(100, 10) takes the transposed reductions of autodiff/ops/softmax.py; the property
    tests above use small shapes, which take numpy's own."""
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((100, 10)) * 3
    target = rng.integers(0, 10, 100)
    fn = {"softmax": lambda t: t.softmax(dim=1), "log_softmax": lambda t: t.log_softmax(dim=1),
          "cross_entropy": lambda t: cross_entropy(t, target)}[op]
    probs = numpy_softmax(logits - logits.max(axis=1, keepdims=True), 1)
    expected = {"softmax": probs, "log_softmax": np.log(probs),
                "cross_entropy": -np.log(probs[np.arange(100), target]).mean()}[op]
    # log p near 0 is rounded on the scale of the logits (|x| up to 10), not of itself
    np.testing.assert_allclose(fn(ad.tensor(logits)).numpy(), expected, rtol=1e-12, atol=1e-13)
    weights = rng.standard_normal((100, 10))
    scalar = (lambda t: (fn(t) * ad.tensor(weights)).sum()) if op != "cross_entropy" else fn
    assert ad.gradcheck(scalar, [ad.tensor(logits, requires_grad=True)])
    assert ad.gradgradcheck(scalar, [ad.tensor(logits, requires_grad=True)])
