"""Matrix multiplication (autodiff/ops/matmul.py) with numpy's rules: 1-D operands on
either side, batch dimensions that broadcast, ndarrays on either side of `@`. Results
against numpy, gradients against finite differences to second order."""
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given

import autodiff as ad


def draw_matmul_shapes(data, strategies):
    """Shapes (a, b) that numpy can multiply: 1-D or matrices with broadcast batches."""
    n, k, m = (data.draw(st.integers(1, 3)) for _ in range(3))
    (batch_a, batch_b), _ = data.draw(strategies.broadcastable(max_dims=2))
    a = (k,) if data.draw(st.booleans()) else batch_a + (n, k)
    b = (k,) if data.draw(st.booleans()) else batch_b + (k, m)
    return a, b


@given(data=st.data())
def test_matmul_1d_and_batched(data, strategies, check_grads):
    shape_a, shape_b = draw_matmul_shapes(data, strategies)
    a, b = data.draw(strategies.floats(shape_a)), data.draw(strategies.floats(shape_b))
    expected = np.matmul(a, b)
    for fn in (lambda s, t: s @ t, ad.matmul):
        y = fn(ad.tensor(a), ad.tensor(b))
        assert y.shape == expected.shape
        np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12, atol=1e-15)
    check_grads(lambda s, t: s @ t, a, b)


@given(data=st.data())
def test_matmul_with_an_ndarray_on_either_side(data, strategies, check_grads):
    shape_a, shape_b = draw_matmul_shapes(data, strategies)
    a, b = data.draw(strategies.floats(shape_a)), data.draw(strategies.floats(shape_b))
    left, right = ad.tensor(a) @ b, a @ ad.tensor(b)
    assert isinstance(left, ad.Tensor) and isinstance(right, ad.Tensor)
    np.testing.assert_allclose(left.numpy(), np.matmul(a, b), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(right.numpy(), np.matmul(a, b), rtol=1e-12, atol=1e-15)
    check_grads(lambda s: s @ b, a)
    check_grads(lambda t: a @ t, b)


def test_matmul_gradients_by_hand():
    a = ad.tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    b = ad.tensor(np.array([[5.0], [6.0]]), requires_grad=True)
    (a @ b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [[5, 6], [5, 6]])          # 1 @ bᵀ
    np.testing.assert_array_equal(b.grad.numpy(), [[4], [6]])                # aᵀ @ 1


@pytest.mark.parametrize("shape_a, shape_b, result", [
    ((3,), (3,), ()),
    ((3,), (3, 2), (2,)),
    ((2, 3), (3,), (2,)),
    ((3,), (4, 3, 2), (4, 2)),
    ((4, 2, 3), (3,), (4, 2)),
    ((4, 1, 2, 3), (5, 3, 2), (4, 5, 2, 2)),
    ((2, 3), (4, 3, 5), (4, 2, 5)),
])
def test_matmul_result_shapes_and_summed_batch_gradients(shape_a, shape_b, result):
    a = ad.ones(*shape_a, dtype=ad.float64, requires_grad=True)
    b = ad.ones(*shape_b, dtype=ad.float64, requires_grad=True)
    y = a @ b
    assert y.shape == result
    np.testing.assert_array_equal(y.numpy(), np.full(result, 3.0))
    y.sum().backward()
    assert a.grad.shape == shape_a and b.grad.shape == shape_b
    # y.sum() adds y.numel() · 3 products of ones; each element of a (and of b) takes an
    # equal share of them, and that count is its gradient
    np.testing.assert_array_equal(a.grad.numpy(), np.full(shape_a, y.numel() * 3 / a.numel()))
    np.testing.assert_array_equal(b.grad.numpy(), np.full(shape_b, y.numel() * 3 / b.numel()))
