"""Matrix multiplication (autodiff/ops/matmul.py) with numpy's rules: 1-D operands on
either side, batch dimensions that broadcast, ndarrays on either side of `@`. Results
against numpy, gradients against finite differences to second order."""
import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given

import autodiff as ad
from autodiff.ops.matmul import linear, sum_rows


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


# ---------------------------------------------------------------- linear: x Wᵀ + b as one node

def floats(shape):
    return hnp.arrays(np.float64, shape, elements=st.floats(-2.0, 2.0, width=64))


def leaf(array):
    return ad.tensor(np.asarray(array, dtype=np.float64), requires_grad=True)


@given(data=st.data())
def test_linear_matches_formula_and_is_twice_differentiable(data):
    batch = data.draw(hnp.array_shapes(min_dims=0, max_dims=2, max_side=3))
    n_in, n_out = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))
    with_bias = data.draw(st.booleans())
    x = leaf(data.draw(floats(batch + (n_in,))))
    w = leaf(data.draw(floats((n_out, n_in))))
    b = leaf(data.draw(floats((n_out,)))) if with_bias else None
    y = linear(x, w, b)
    expected = x.numpy() @ w.numpy().T + (b.numpy() if with_bias else 0)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-9, atol=1e-9)    # terms |x·w| <= 4
    assert y.shape == batch + (n_out,)
    assert type(y.grad_fn).__name__ == "Linear" and y.grad_fn.inputs[0] is x
    inputs = (x, w, b) if with_bias else (x, w)
    assert ad.gradcheck(linear, inputs)
    assert ad.gradgradcheck(linear, inputs)


def test_linear_backward_by_hand():
    x = ad.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    w = ad.tensor([[1.0, -1.0], [0.5, 2.0], [0.0, 1.0]], requires_grad=True)
    b = ad.tensor([0.1, 0.2, 0.3], requires_grad=True)
    y = linear(x, w, b)
    np.testing.assert_allclose(y.numpy(), [[-0.9, 4.7, 2.3], [-0.9, 9.7, 4.3]], rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[1.5, 2.0], [1.5, 2.0]], rtol=1e-6)     # Σ_out W
    np.testing.assert_allclose(w.grad.numpy(), [[4.0, 6.0]] * 3, rtol=1e-6)             # Σ_batch x
    np.testing.assert_allclose(b.grad.numpy(), [2.0, 2.0, 2.0], rtol=1e-6)              # batch size
    assert y.dtype == x.grad.dtype == w.grad.dtype == np.float32


@given(rows=hnp.arrays(st.sampled_from([np.float16, np.float32, np.float64]),
                     st.tuples(st.integers(1, 3), st.integers(1, 5)),
                     elements=st.floats(allow_nan=True, allow_infinity=True, width=16)))
def test_sum_rows_gives_the_bits_of_the_sum_over_axis_0(rows):
    # one row takes a shortcut (the row plus 0), which must keep −0 → +0 as the sum does
    assert sum_rows(rows).tobytes() == np.add.reduce(rows, 0).tobytes()
    assert sum_rows(rows).dtype == rows.dtype


def test_a_one_sample_bias_gradient_is_the_row_with_zero_made_positive():
    x = ad.tensor([[1.0, 2.0]], requires_grad=True)
    w = ad.tensor([[1.0, -1.0], [0.5, 2.0]], requires_grad=True)
    b = ad.tensor([0.1, 0.2], requires_grad=True)
    linear(x, w, b).backward(ad.tensor([[-0.0, 3.0]]))
    assert b.grad.tolist() == [0.0, 3.0] and not np.signbit(b.grad.numpy()[0])
    assert b.grad.numpy().base is None          # its own array, not a view of the gradient


def test_linear_shape_errors_name_the_shapes():
    w = ad.zeros(10, 784)
    with pytest.raises(ad.ShapeError, match=r"\(64, 783\).*in_features = 784"):
        linear(ad.zeros(64, 783), w)
    with pytest.raises(ad.ShapeError, match=r"bias must have shape \(10,\)"):
        linear(ad.zeros(2, 784), w, ad.zeros(784))
    with pytest.raises(ad.ShapeError, match="weight must have shape"):
        linear(ad.zeros(2, 3), ad.zeros(3))
