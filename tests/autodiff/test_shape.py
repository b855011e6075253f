"""Shape ops and indexing (autodiff/ops/shape.py): reshape, view, flatten, transpose,
permute, squeeze, unsqueeze, expand, T, mT, every kind of index, cat/concatenate and
stack. Results against numpy, gradients against finite differences to second order."""
import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given, settings

import autodiff as ad
from autodiff.ops import shape as shape_ops


def factorizations(n, max_dims=3):
    """Every shape of at most max_dims dims with n elements."""
    shapes = [()] if n == 1 else []
    if max_dims:
        for first in range(1, n + 1):
            if n % first == 0:
                shapes += [(first,) + rest for rest in factorizations(n // first, max_dims - 1)]
    return shapes


@given(data=st.data())
def test_reshape_and_view(data, strategies, check_grads):
    x = data.draw(strategies.floats(strategies.shapes()))
    target = data.draw(st.sampled_from(factorizations(x.size)))
    if target and data.draw(st.booleans()):
        unknown = data.draw(st.integers(0, len(target) - 1))
        target = target[:unknown] + (-1,) + target[unknown + 1:]
    spelled = data.draw(st.sampled_from([
        lambda t: t.reshape(*target), lambda t: t.reshape(target), lambda t: t.view(*target),
        lambda t: ad.reshape(t, target)]))
    y = spelled(ad.tensor(x))
    np.testing.assert_array_equal(y.numpy(), x.reshape(target))
    check_grads(spelled, x)


@given(data=st.data())
def test_flatten(data, strategies, check_grads):
    shape = data.draw(strategies.shapes(min_dims=1))
    ndim = len(shape)
    start = data.draw(st.integers(-ndim, ndim - 1))
    end = data.draw(st.integers(start % ndim, ndim - 1)) - data.draw(st.sampled_from([0, ndim]))
    x = data.draw(strategies.floats(shape))
    merged = int(np.prod(shape[start % ndim:end % ndim + 1]))
    expected = shape[:start % ndim] + (merged,) + shape[end % ndim + 1:]
    for fn in (lambda t: t.flatten(start, end), lambda t: ad.flatten(t, start, end)):
        y = fn(ad.tensor(x))
        assert y.shape == expected
        np.testing.assert_array_equal(y.numpy(), x.reshape(expected))
    check_grads(lambda t: t.flatten(start, end), x)
    check_grads(lambda t: t.flatten(), x)


def test_flatten_of_a_0d_tensor_has_one_element():
    assert ad.tensor(3.0).flatten().shape == (1,)


@given(data=st.data())
def test_transpose_swaps_two_dims(data, strategies, check_grads):
    shape = data.draw(strategies.shapes(min_dims=1))
    d0, d1 = (data.draw(st.integers(-len(shape), len(shape) - 1)) for _ in range(2))
    x = data.draw(strategies.floats(shape))
    for fn in (lambda t: t.transpose(d0, d1), lambda t: ad.transpose(t, d0, d1)):
        np.testing.assert_array_equal(fn(ad.tensor(x)).numpy(), np.swapaxes(x, d0, d1))
    check_grads(lambda t: t.transpose(d0, d1), x)


@given(data=st.data())
def test_permute(data, strategies, check_grads):
    shape = data.draw(strategies.shapes())
    dims = tuple(data.draw(st.permutations(range(len(shape)))))
    if dims and data.draw(st.booleans()):
        dims = tuple(d - len(shape) for d in dims)                     # negative dims
    x = data.draw(strategies.floats(shape))
    for fn in (lambda t: t.permute(*dims), lambda t: t.permute(dims),
               lambda t: ad.permute(t, *dims)):
        np.testing.assert_array_equal(fn(ad.tensor(x)).numpy(), np.transpose(x, dims))
    check_grads(lambda t: t.permute(*dims), x)


@given(data=st.data())
def test_T_reverses_all_dims_and_mT_swaps_the_last_two(data, strategies, check_grads):
    x = data.draw(strategies.floats(strategies.shapes()))
    np.testing.assert_array_equal(ad.tensor(x).T.numpy(), x.T)
    check_grads(lambda t: t.T, x)
    if x.ndim >= 2:
        np.testing.assert_array_equal(ad.tensor(x).mT.numpy(), np.swapaxes(x, -1, -2))
        check_grads(lambda t: t.mT, x)


@given(data=st.data())
def test_squeeze_and_unsqueeze(data, strategies, check_grads):
    shape = data.draw(strategies.shapes(max_side=2))          # plenty of size-1 dims
    x = data.draw(strategies.floats(shape))
    dim = data.draw(st.none() | st.integers(-len(shape), len(shape) - 1)) if shape else None
    expected = x.squeeze() if dim is None else (x.squeeze(dim) if shape[dim] == 1 else x)
    for fn in (lambda t: t.squeeze(dim), lambda t: ad.squeeze(t, dim)):
        y = fn(ad.tensor(x))
        assert y.shape == expected.shape
        np.testing.assert_array_equal(y.numpy(), expected)
    check_grads(lambda t: t.squeeze(dim), x)
    new = data.draw(st.integers(-len(shape) - 1, len(shape)))
    for fn in (lambda t: t.unsqueeze(new), lambda t: ad.unsqueeze(t, new)):
        np.testing.assert_array_equal(fn(ad.tensor(x)).numpy(), np.expand_dims(x, new))
    check_grads(lambda t: t.unsqueeze(new), x)


@given(data=st.data())
def test_expand_and_broadcast_to(data, strategies, check_grads):
    shape = data.draw(strategies.shapes(max_dims=2, max_side=2))
    grown = tuple(data.draw(st.integers(1, 3)) if n == 1 else n for n in shape)
    leading = tuple(data.draw(st.lists(st.integers(1, 3), max_size=3 - len(shape))))
    target = leading + grown
    spelled_target = leading + tuple(-1 if n == m and data.draw(st.booleans()) else m
                                     for n, m in zip(shape, grown))
    x = data.draw(strategies.floats(shape))
    for fn in (lambda t: t.expand(*spelled_target), lambda t: t.expand(spelled_target),
               lambda t: ad.expand(t, *spelled_target), lambda t: ad.broadcast_to(t, target)):
        y = fn(ad.tensor(x))
        np.testing.assert_array_equal(y.numpy(), np.broadcast_to(x, target))
    check_grads(lambda t: t.expand(*spelled_target), x)


def test_expand_gradient_sums_over_the_copies():
    x = ad.tensor(np.array([[1.0], [2.0]]), requires_grad=True)
    y = x.expand(3, 2, 4)
    (y * ad.tensor(np.arange(24.0).reshape(3, 2, 4))).sum().backward()
    expected = np.arange(24.0).reshape(3, 2, 4).sum(axis=(0, 2))[:, None]
    np.testing.assert_array_equal(x.grad.numpy(), expected)


# ---------------------------------------------------------------- indexing


def check_index(x, index, check_grads, as_tensors=False):
    """x[index] matches numpy, and its gradient (and second derivative) is right."""
    expected = x[index]
    if as_tensors:                      # integer and boolean arrays given as tensors
        parts = index if isinstance(index, tuple) else (index,)
        parts = tuple(ad.tensor(p) if isinstance(p, np.ndarray) else p for p in parts)
        index = parts if isinstance(index, tuple) else parts[0]
    y = ad.tensor(x)[index]
    assert y.shape == expected.shape
    np.testing.assert_array_equal(y.numpy(), expected)
    check_grads(lambda t: t[index], x)


@given(data=st.data())
def test_basic_indices_ints_slices_steps_none_ellipsis(data, strategies, check_grads):
    x = data.draw(strategies.floats(strategies.shapes()))
    index = data.draw(hnp.basic_indices(x.shape, allow_newaxis=True, allow_ellipsis=True))
    check_index(x, index, check_grads)


@given(data=st.data())
def test_integer_array_indices_with_repeats(data, strategies, check_grads):
    x = data.draw(strategies.floats(strategies.shapes(min_dims=1)))
    index = data.draw(hnp.integer_array_indices(x.shape, result_shape=strategies.shapes(1, 2)))
    check_index(x, index, check_grads, as_tensors=data.draw(st.booleans()))


@given(data=st.data())
def test_boolean_masks(data, strategies, check_grads):
    x = data.draw(strategies.floats(strategies.shapes(min_dims=1)))
    covered = data.draw(st.integers(1, x.ndim))                 # mask the leading dims
    mask = data.draw(hnp.arrays(np.bool_, x.shape[:covered]))
    check_index(x, mask, check_grads, as_tensors=data.draw(st.booleans()))
    check_index(x, x > 0, check_grads)


@given(data=st.data())
def test_mixed_indices(data, strategies, check_grads):
    x = data.draw(strategies.floats(strategies.shapes(min_dims=2)))
    rows = data.draw(hnp.arrays(np.int64, data.draw(st.integers(1, 4)),
                                elements=st.integers(-x.shape[0], x.shape[0] - 1)))
    last = data.draw(hnp.arrays(np.int64, rows.shape,
                                elements=st.integers(-x.shape[-1], x.shape[-1] - 1)))
    step = data.draw(st.sampled_from([1, 2, -1]))
    mask = data.draw(hnp.arrays(np.bool_, x.shape[1]))
    index = data.draw(st.sampled_from([
        (rows, slice(None, None, step)),
        (slice(None, None, step), ..., last),
        (..., last),
        (None, rows),
        (rows, ..., last),
        (rows[0], mask),
        (slice(None), mask),
        (-1, slice(None, None, step)),
    ]))
    check_index(x, index, check_grads, as_tensors=data.draw(st.booleans()))


def test_repeated_indices_accumulate_the_gradient():
    x = ad.tensor(np.array([10.0, 20.0, 30.0]), requires_grad=True)
    y = x[[0, 0, 2, 0]]
    (y * ad.tensor(np.array([1.0, 2.0, 3.0, 4.0]))).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [7.0, 0.0, 3.0])


def test_repeated_integer_tensor_index_on_a_matrix():
    x = ad.tensor(np.zeros((3, 2)), requires_grad=True)
    x[ad.tensor([2, 2, 1]), ad.tensor([0, 0, 1])].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 0], [0, 1], [2, 0]])


def test_negative_int_and_stepped_slice():
    x = ad.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    y = x[-1, ::-2]
    np.testing.assert_array_equal(y.numpy(), [11.0, 9.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0] * 4, [0] * 4, [0, 1, 0, 1]])


def test_iterating_a_tensor_yields_differentiable_rows():
    x = ad.tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    total = sum(row[0] * row[1] for row in x)
    total.backward()
    assert total.item() == 14.0
    np.testing.assert_array_equal(x.grad.numpy(), [[2.0, 1.0], [4.0, 3.0]])


# ---------------------------------------------------------------- cat and stack


@given(data=st.data())
def test_cat_and_concatenate(data, strategies, check_grads):
    shape = data.draw(strategies.shapes(min_dims=1))
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    sizes = data.draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    parts = [data.draw(strategies.floats(shape[:dim % len(shape)] + (n,)
                                         + shape[dim % len(shape) + 1:])) for n in sizes]
    expected = np.concatenate(parts, axis=dim)
    for fn in (lambda *ts: ad.cat(ts, dim), lambda *ts: ad.cat(list(ts), dim=dim),
               lambda *ts: ad.concatenate(ts, axis=dim)):
        np.testing.assert_array_equal(fn(*map(ad.tensor, parts)).numpy(), expected)
    check_grads(lambda *ts: ad.cat(ts, dim), *parts)


def test_cat_with_an_ndarray_and_a_tensor():
    x = ad.tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = ad.cat([np.array([5.0]), x, x])
    np.testing.assert_array_equal(y.numpy(), [5, 1, 2, 1, 2])
    (y * ad.tensor(np.arange(5.0))).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1 + 3, 2 + 4])


@given(data=st.data())
def test_stack(data, strategies, check_grads):
    shape = data.draw(strategies.shapes(max_dims=2))
    dim = data.draw(st.integers(-len(shape) - 1, len(shape)))
    parts = data.draw(st.lists(strategies.floats(shape), min_size=1, max_size=3))
    for fn in (lambda *ts: ad.stack(ts, dim), lambda *ts: ad.stack(list(ts), dim=dim)):
        np.testing.assert_array_equal(fn(*map(ad.tensor, parts)).numpy(), np.stack(parts, dim))
    check_grads(lambda *ts: ad.stack(ts, dim), *parts)


@pytest.mark.parametrize("op", [ad.cat, ad.stack])
def test_cat_and_stack_need_a_tensor(op):
    with pytest.raises(ad.ShapeError, match="needs at least one tensor"):
        op([])


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_index_backward_adds_repeated_picks_as_add_at(data):
    """GetItem's adjoint sums the slices an integer array picks more than once; with full
    slices around one array (embeddings, index_select) it sorts the index and sums runs
    (shape_ops._add_rows) instead of np.add.at: the same sums, in another order."""
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5))
    axis = data.draw(st.integers(0, len(shape) - 1))
    picks = data.draw(hnp.arrays(np.int64, data.draw(hnp.array_shapes(max_dims=2, max_side=6)),
                                 elements=st.integers(-shape[axis], shape[axis] - 1)))
    index = (slice(None),) * axis + (picks,)
    x = data.draw(hnp.arrays(np.float64, np.zeros(shape)[index].shape,
                             elements=st.floats(-10, 10)))
    expected = np.zeros(shape)
    np.add.at(expected, index, x)
    np.testing.assert_allclose(shape_ops.scatter_add_array(x, shape, index), expected,
                               rtol=1e-12, atol=1e-12)
    if axis == 0:
        np.testing.assert_allclose(shape_ops.scatter_add_array(x, shape, picks), expected,
                                   rtol=1e-12, atol=1e-12)


def test_embedding_rows_picked_twice_get_both_gradients():
    weight = ad.tensor(np.zeros((4, 9)), requires_grad=True)
    rows = ad.tensor([[3, 1, 3], [0, 3, 1]])
    (weight[rows] * ad.arange(9.0)).sum().backward()
    np.testing.assert_array_equal(weight.grad.numpy(),
                                  np.outer([1, 2, 0, 3], np.arange(9.0)))


# ---------------------------------------------------------------- a uint8 index is a mask

def uint8_index(lib):
    x = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
    y = x[lib.tensor([1, 0, 1], dtype=lib.uint8)]
    y.sum().backward()
    return y.tolist(), x.grad.tolist()


def test_a_uint8_index_is_read_as_a_mask_with_a_warning():
    with pytest.warns(UserWarning, match=r"uint8 is deprecated.*index\.bool\(\)"):
        assert uint8_index(ad) == ([1.0, 3.0], [1.0, 0.0, 1.0])
    torch = pytest.importorskip("torch")
    with pytest.warns(UserWarning, match="uint8"):
        assert uint8_index(torch) == ([1.0, 3.0], [1.0, 0.0, 1.0])
