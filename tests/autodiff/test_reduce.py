"""Reductions (autodiff/ops/reduce.py): sum, mean, var, std, max, min, argmax, argmin over
Hypothesis-drawn shapes and dims (None, ints, negative ints, tuples), spelled both
torch's way (dim/keepdim) and numpy's (axis/keepdims); values against numpy, gradients
against finite differences to second order, and the tie rule with exact numbers."""
import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given

import autodiff as ad


def draw_dims(data, ndim, allow_tuple=True):
    """None, one int (negative allowed) or a tuple of distinct ints, valid for ndim."""
    kinds = ["none"] + (["int"] if ndim else []) + (["tuple"] if ndim and allow_tuple else [])
    kind = data.draw(st.sampled_from(kinds))
    if kind == "none":
        return None
    if kind == "int":
        return data.draw(st.integers(-ndim, ndim - 1))
    return data.draw(hnp.valid_tuple_axes(ndim, min_size=1))


def reduced_count(shape, dims):
    if dims is None:
        return int(np.prod(shape))
    dims = (dims,) if isinstance(dims, int) else dims
    return int(np.prod([shape[d] for d in dims]))


def call(method, x, dims, keep, spelling, **options):
    """x.method(...) with torch's or numpy's argument names, or as an ad. function."""
    if spelling == "torch":
        return getattr(x, method)(dim=dims, keepdim=keep, **options)
    if spelling == "numpy":
        return getattr(x, method)(axis=dims, keepdims=keep, **options)
    return getattr(ad, method)(x, dims, keepdim=keep, **options)


SPELLINGS = st.sampled_from(["torch", "numpy", "function"])

REDUCTIONS = {
    "sum": (np.sum, {}, {}),
    "mean": (np.mean, {}, {}),
    "var": (np.var, {}, {"ddof": 1}),
    "var correction=0": (np.var, {"correction": 0}, {"ddof": 0}),
    "var unbiased=False": (np.var, {"unbiased": False}, {"ddof": 0}),
    "var correction=2": (np.var, {"correction": 2}, {"ddof": 2}),
    "std": (np.std, {}, {"ddof": 1}),
    "std correction=0": (np.std, {"correction": 0}, {"ddof": 0}),
}


@pytest.mark.parametrize("name", REDUCTIONS)
@given(data=st.data())
def test_reduction(name, data, strategies, check_grads):
    reference, options, numpy_options = REDUCTIONS[name]
    method = name.split()[0]
    shape = data.draw(strategies.shapes())
    dims = draw_dims(data, len(shape))
    keep = data.draw(st.booleans())
    spelling = data.draw(SPELLINGS)
    needed = numpy_options.get("ddof", 0) + 1 if method == "var" else 1
    needed = max(needed, 2) if method == "std" else needed    # std'(0) is infinite
    if reduced_count(shape, dims) < needed:
        dims = None
    if reduced_count(shape, dims) < needed:
        shape = shape + (3,)
    x = data.draw(strategies.distinct(shape) if method == "std" else strategies.floats(shape))
    y = call(method, ad.tensor(x), dims, keep, spelling, **options)
    np.testing.assert_allclose(y.data, reference(x, axis=dims, keepdims=keep, **numpy_options),
                               rtol=1e-10, atol=1e-14)
    check_grads(lambda t: call(method, t, dims, keep, spelling, **options), x)


@pytest.mark.filterwarnings("ignore:Degrees of freedom")   # var of one element is NaN
@pytest.mark.parametrize("method", ["sum", "mean", "var", "max", "min", "logsumexp"])
@pytest.mark.parametrize("dim", [0, -1])
def test_zero_dimensional_tensors_reduce_over_dim_0_or_minus_1(method, dim):
    x = ad.tensor(np.array(1.5), requires_grad=True)
    y = getattr(x, method)(dim)
    y = y.values if method in ("max", "min") else y
    assert y.shape == ()
    expected = np.nan if method == "var" else 1.5
    np.testing.assert_array_equal(y.data, expected)


@pytest.mark.parametrize("method, reference", [("max", np.max), ("min", np.min)])
@given(data=st.data())
def test_max_and_min_of_everything(method, reference, data, strategies, check_grads):
    x = data.draw(strategies.distinct(strategies.shapes()))
    y = getattr(ad.tensor(x), method)()
    assert y.shape == ()
    assert y.item() == reference(x)
    check_grads(lambda t: getattr(t, method)(), x)
    check_grads(lambda t: getattr(ad, method)(t), x)


@pytest.mark.parametrize("method, reference, arg", [("max", np.max, np.argmax),
                                                    ("min", np.min, np.argmin)])
@given(data=st.data())
def test_max_and_min_along_a_dim_return_values_and_indices(method, reference, arg, data,
                                                           strategies, check_grads):
    shape = data.draw(strategies.shapes(min_dims=1))
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    keep = data.draw(st.booleans())
    spelling = data.draw(SPELLINGS)
    x = data.draw(strategies.distinct(shape))
    values, indices = call(method, ad.tensor(x), dim, keep, spelling)
    np.testing.assert_array_equal(values.data, reference(x, axis=dim, keepdims=keep))
    assert indices.dtype == np.int64 and not indices.requires_grad
    np.testing.assert_array_equal(indices.data, arg(x, axis=dim, keepdims=keep))
    result = call(method, ad.tensor(x), dim, keep, spelling)
    assert result.values is result[0] and result.indices is result[1]
    check_grads(lambda t: call(method, t, dim, keep, spelling).values, x)


@pytest.mark.parametrize("method, reference", [("argmax", np.argmax), ("argmin", np.argmin)])
@given(data=st.data())
def test_argmax_and_argmin_are_int64_and_not_differentiable(method, reference, data,
                                                            strategies):
    shape = data.draw(strategies.shapes())
    dim = draw_dims(data, len(shape), allow_tuple=False)
    keep = data.draw(st.booleans())
    x = data.draw(strategies.floats(shape))
    t = ad.tensor(x, requires_grad=True)
    for spelling in ("torch", "numpy", "function"):
        index = call(method, t, dim, keep, spelling)
        assert index.dtype == np.int64
        assert not index.requires_grad
        expected = reference(x, axis=dim if shape else None, keepdims=keep)
        np.testing.assert_array_equal(index.data, expected)


# ---------------------------------------------------------------- the tie rule, exactly


@pytest.mark.parametrize("method", ["max", "min"])
def test_ties_share_the_gradient_equally(method):
    sign = 1.0 if method == "max" else -1.0
    x = ad.tensor(sign * np.array([1.0, 3.0, 3.0, 2.0, 3.0]), requires_grad=True)
    getattr(x, method)().backward()
    np.testing.assert_allclose(x.grad.data, [0, 1 / 3, 1 / 3, 0, 1 / 3])


@pytest.mark.parametrize("method", ["max", "min"])
def test_ties_along_a_dim_share_the_gradient_and_index_the_first(method):
    sign = 1.0 if method == "max" else -1.0
    x = ad.tensor(sign * np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]]), requires_grad=True)
    values, indices = getattr(x, method)(dim=1)
    np.testing.assert_array_equal(values.data, sign * np.array([3.0, 2.0]))
    np.testing.assert_array_equal(indices.data, [1, 0])
    (values * ad.tensor(np.array([2.0, 4.0]))).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[0, 1, 1], [2, 2, 0]])


def test_all_equal_elements_share_the_gradient():
    x = ad.tensor(np.full((2, 2), 7.0), requires_grad=True)
    x.max().backward()
    np.testing.assert_array_equal(x.grad.data, np.full((2, 2), 0.25))


# ---------------------------------------------------------------- values worth knowing


def test_var_is_unbiased_by_default_and_biased_on_request():
    x = ad.tensor([1.0, 2.0, 3.0, 4.0])
    assert x.var().item() == pytest.approx(5 / 3)
    assert x.var(correction=0).item() == pytest.approx(1.25)
    assert x.var(unbiased=False).item() == pytest.approx(1.25)
    assert x.std().item() == pytest.approx(np.sqrt(5 / 3))
    assert ad.std(x, correction=0).item() == pytest.approx(np.sqrt(1.25))


def test_mean_gradient_is_one_over_n_of_the_reduced_axes():
    x = ad.tensor(np.zeros((2, 3, 4)), requires_grad=True)
    x.mean(dim=(0, 2)).sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.full((2, 3, 4), 1 / 8))


def test_sum_with_keepdim_broadcasts_back():
    x = ad.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    s = x.sum(dim=1, keepdim=True)
    assert s.shape == (2, 1)
    (s * ad.tensor(np.array([[1.0], [10.0]]))).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[1, 1, 1], [10, 10, 10]])
