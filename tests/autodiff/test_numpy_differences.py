"""Where torch's semantics differ from numpy's and the easy version (numpy's) would be
silently wrong: bitwise operators on integers, and an integer beside index arrays."""
import numpy as np
import pytest

import autodiff as ad


@pytest.mark.parametrize("expression, expected, dtype", [
    (lambda: ad.tensor([6, 5]) & ad.tensor([3, 1]), [2, 1], np.int64),
    (lambda: ad.tensor([6, 5]) | 3, [7, 7], np.int64),
    (lambda: 3 ^ ad.tensor([6, 5]), [5, 6], np.int64),
    (lambda: ~ad.tensor([5, 0]), [-6, -1], np.int64),
    (lambda: ad.tensor([True, False]) & ad.tensor([True, True]), [True, False], np.bool_),
    (lambda: ~ad.tensor([True, False]), [False, True], np.bool_),
    (lambda: ad.tensor([True, False]) | ad.tensor([2, 4]), [3, 4], np.int64),
    (lambda: ad.tensor([12], dtype=ad.int32) ^ 10, [6], np.int32),
])
def test_bitwise_operators_are_bitwise_on_integers_as_torch(expression, expected, dtype):
    result = expression()
    assert result.tolist() == expected and result.dtype == dtype


@pytest.mark.parametrize("expression", [
    lambda: ad.tensor([1.0]) & ad.tensor([1.0]),
    lambda: ad.tensor([1.0]) | 1,
    lambda: ~ad.tensor([1.0]),
])
def test_bitwise_operators_refuse_floats_as_torch(expression):
    with pytest.raises(ad.DtypeError, match="bitwise"):
        expression()


def test_bitwise_operators_match_torch():
    torch = pytest.importorskip("torch")
    a, b = np.array([6, -5, 12, 0]), np.array([3, 1, -7, 9])
    for op in (np.bitwise_and, np.bitwise_or, np.bitwise_xor):
        ours = {np.bitwise_and: lambda x, y: x & y, np.bitwise_or: lambda x, y: x | y,
                np.bitwise_xor: lambda x, y: x ^ y}[op]
        assert ours(ad.tensor(a), ad.tensor(b)).tolist() == \
            ours(torch.tensor(a), torch.tensor(b)).tolist()


X = np.arange(24.0).reshape(2, 3, 4)
INDEXES = {
    "int, slice, list": (1, slice(None), [0, 2]),
    "int, list": (1, [2, 0]),
    "slice, int, list": (slice(None), 1, [0, 1]),
    "list, slice, int": ([1, 0], slice(None), 2),
    "int, slice, bool mask": (0, slice(None), np.array([True, False, True, False])),
    "int, None, list": (1, None, [2, 0, 1]),
    "Ellipsis, int, list": (Ellipsis, 2, [3, 1]),
}
# torch's shapes: integers are applied first (basic indexing), then the index arrays
SHAPES = {"int, slice, list": (3, 2), "int, list": (2, 4), "slice, int, list": (2, 2),
          "list, slice, int": (2, 3), "int, slice, bool mask": (3, 2),
          "int, None, list": (1, 3, 4), "Ellipsis, int, list": (2, 2)}


@pytest.mark.parametrize("name", INDEXES)
def test_an_integer_beside_index_arrays_indexes_as_torch(name):
    index = INDEXES[name]
    x = ad.tensor(X, requires_grad=True)
    y = x[index]
    assert y.shape == SHAPES[name]
    stepwise = X[tuple(p for p in index if isinstance(p, int))] if name == "int, slice, list" \
        else None
    if stepwise is not None:                       # x[1, :, idx] is x[1][:, idx]
        np.testing.assert_array_equal(y.numpy(), stepwise[:, [0, 2]])
    upstream = np.arange(np.prod(y.shape), dtype=np.float64).reshape(y.shape)
    y.backward(ad.tensor(upstream))
    assert x.grad.numpy().sum() == upstream.sum()
    buffer = ad.zeros(2, 3, 4, dtype=ad.float64)
    buffer[index] = ad.tensor(upstream)          # the same positions, in the same order
    np.testing.assert_array_equal(buffer.numpy(), x.grad.numpy())


@pytest.mark.parametrize("name", INDEXES)
def test_indexing_with_an_integer_beside_index_arrays_matches_torch(name):
    torch = pytest.importorskip("torch")
    index = INDEXES[name]
    torch_index = tuple(torch.from_numpy(p) if isinstance(p, np.ndarray) else p for p in index)
    ours, theirs = ad.tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    y, ty = ours[index], theirs[torch_index]
    np.testing.assert_array_equal(y.numpy(), ty.detach().numpy())
    upstream = np.random.default_rng(0).standard_normal(y.shape)
    y.backward(ad.tensor(upstream))
    ty.backward(torch.from_numpy(upstream))
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())
    buffer, torch_buffer = ad.zeros(2, 3, 4, dtype=ad.float64), torch.zeros(2, 3, 4).double()
    buffer[index] = ad.tensor(upstream)
    torch_buffer[torch_index] = torch.from_numpy(upstream)
    np.testing.assert_array_equal(buffer.numpy(), torch_buffer.numpy())
