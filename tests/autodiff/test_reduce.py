"""Reductions (autodiff/ops/reduce.py): sum, mean, var, std, prod, max, min, amax, amin,
norm, argmax, argmin over Hypothesis-drawn shapes and dims (None, ints, negative ints,
tuples), spelled both torch's way (dim/keepdim) and numpy's (axis/keepdims); values
against numpy, gradients against finite differences to second order, the tie rule with
exact numbers, and dim=None with keepdim=True keeping every axis as size 1."""
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
    return getattr(ad, method)(x, dim=dims, keepdim=keep, **options)


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
    np.testing.assert_allclose(y.numpy(), reference(x, axis=dims, keepdims=keep, **numpy_options),
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
    np.testing.assert_array_equal(y.numpy(), expected)


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
    np.testing.assert_array_equal(values.numpy(), reference(x, axis=dim, keepdims=keep))
    assert indices.dtype == np.int64 and not indices.requires_grad
    np.testing.assert_array_equal(indices.numpy(), arg(x, axis=dim, keepdims=keep))
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
        np.testing.assert_array_equal(index.numpy(), expected)


# ---------------------------------------------------------------- the tie rule, exactly


@pytest.mark.parametrize("method", ["max", "min"])
def test_ties_share_the_gradient_equally(method):
    sign = 1.0 if method == "max" else -1.0
    x = ad.tensor(sign * np.array([1.0, 3.0, 3.0, 2.0, 3.0]), requires_grad=True)
    getattr(x, method)().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0, 1 / 3, 1 / 3, 0, 1 / 3])


@pytest.mark.parametrize("method", ["max", "min"])
def test_ties_along_a_dim_share_the_gradient_and_index_the_first(method):
    sign = 1.0 if method == "max" else -1.0
    x = ad.tensor(sign * np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]]), requires_grad=True)
    values, indices = getattr(x, method)(dim=1)
    np.testing.assert_array_equal(values.numpy(), sign * np.array([3.0, 2.0]))
    np.testing.assert_array_equal(indices.numpy(), [1, 0])
    (values * ad.tensor(np.array([2.0, 4.0]))).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 1, 1], [2, 2, 0]])


def test_all_equal_elements_share_the_gradient():
    x = ad.tensor(np.full((2, 2), 7.0), requires_grad=True)
    x.max().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full((2, 2), 0.25))


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
    np.testing.assert_array_equal(x.grad.numpy(), np.full((2, 3, 4), 1 / 8))


def test_sum_with_keepdim_broadcasts_back():
    x = ad.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    s = x.sum(dim=1, keepdim=True)
    assert s.shape == (2, 1)
    (s * ad.tensor(np.array([[1.0], [10.0]]))).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1, 1, 1], [10, 10, 10]])


# ---------------------------------------------------------------- prod, amax, amin, norm


@given(data=st.data())
def test_prod(data, strategies, check_grads):
    shape = data.draw(strategies.shapes())
    dim = data.draw(st.sampled_from([None] + list(range(-len(shape), len(shape)))))
    keep = data.draw(st.booleans())
    spelling = data.draw(SPELLINGS)
    x = data.draw(strategies.away_from_zero(shape, gap=0.5, high=1.5))
    y = call("prod", ad.tensor(x), dim, keep, spelling)
    np.testing.assert_allclose(y.numpy(), np.prod(x, axis=dim, keepdims=keep), rtol=1e-12)
    check_grads(lambda t: call("prod", t, dim, keep, spelling), x)


@pytest.mark.parametrize("values, expected", [
    ([2.0, 0.0, 3.0], [0.0, 6.0, 0.0]),         # one zero: only it gets a gradient
    ([0.0, 2.0, 0.0], [0.0, 0.0, 0.0]),         # two zeros: the product of the others is 0
    ([2.0, -3.0, 0.5], [-1.5, 1.0, -6.0]),
])
def test_prod_gradient_is_the_product_of_the_others_even_at_zeros(values, expected,
                                                                   check_grads):
    x = ad.tensor(np.array(values), requires_grad=True)
    x.prod().backward()
    np.testing.assert_array_equal(x.grad.numpy(), expected)
    check_grads(lambda t: t.prod(), np.array(values))


def test_prod_takes_one_int_dim_like_torch():
    with pytest.raises(ad.ShapeError, match=r"prod: dim must be one int.*x.prod\(0\).prod\(0\)"):
        ad.ones(2, 3).prod(dim=(0, 1))


@pytest.mark.parametrize("method, reference", [("amax", np.max), ("amin", np.min)])
@given(data=st.data())
def test_amax_and_amin(method, reference, data, strategies, check_grads):
    shape = data.draw(strategies.shapes())
    dims = draw_dims(data, len(shape))
    if dims is None and data.draw(st.booleans()):
        dims = ()                                           # torch's default: every dim
    keep = data.draw(st.booleans())
    spelling = data.draw(SPELLINGS)
    x = data.draw(strategies.distinct(shape))
    y = call(method, ad.tensor(x), dims, keep, spelling)
    axis = None if dims == () else dims                    # torch: dim=() means every dim
    np.testing.assert_array_equal(y.numpy(), reference(x, axis=axis, keepdims=keep))
    check_grads(lambda t: call(method, t, dims, keep, spelling), x)


def test_amax_ties_share_the_gradient_along_a_dim():
    x = ad.tensor(np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]), requires_grad=True)
    x.amax(dim=1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])


def vector_norm(x, p, axis, keepdims):
    """torch.linalg.vector_norm in numpy."""
    a = np.abs(x)
    if p == np.inf:
        return a.max(axis=axis, keepdims=keepdims)
    if p == -np.inf:
        return a.min(axis=axis, keepdims=keepdims)
    if p == 0:
        return (x != 0).sum(axis=axis, keepdims=keepdims).astype(x.dtype)
    return (a ** p).sum(axis=axis, keepdims=keepdims) ** (1 / p)


@pytest.mark.parametrize("p", ["fro", 2, 1, 3, 0.5, np.inf, -np.inf, 0])
@given(data=st.data())
def test_norm(p, data, strategies, check_grads):
    shape = data.draw(strategies.shapes())
    dims = draw_dims(data, len(shape))
    if p == "fro" and isinstance(dims, tuple) and len(dims) > 2:
        dims = dims[:2]
    keep = data.draw(st.booleans())
    spelling = data.draw(SPELLINGS)
    x = data.draw(strategies.distinct(shape, offset=0.005))     # never 0, no tie in |x|
    y = call("norm", ad.tensor(x), dims, keep, spelling, p=p)
    expected = vector_norm(x, 2 if p == "fro" else p, dims, keep)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12)
    check_grads(lambda t: call("norm", t, dims, keep, spelling, p=p), x)


@pytest.mark.parametrize("p, expected", [
    (2, [0.6, 0.0, -0.8]),              # x / ‖x‖
    (1, [1.0, 0.0, -1.0]),              # sign(x), 0 at 0
    (np.inf, [0.0, 0.0, -1.0]),         # the largest |x| only
    (0.5, [(1 + 2 / np.sqrt(3)), 0.0, -(np.sqrt(3) / 2 + 1)]),   # sign(x) √(y/|x|), 0 at 0
    (0, [0.0, 0.0, 0.0]),
    (-1, [0.0, 0.0, 0.0]),              # a zero makes y = 0 for p < 0, whatever the others do
    (-2.5, [0.0, 0.0, 0.0]),
])
def test_norm_gradients_with_a_zero_element(p, expected):
    x = ad.tensor(np.array([3.0, 0.0, -4.0]), requires_grad=True)
    x.norm(p).backward()
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12)


def test_norm_of_zeros_has_a_zero_gradient():
    for p in (2, 1, 3, 0.5):
        x = ad.tensor(np.zeros(3), requires_grad=True)
        y = x.norm(p)
        y.backward()
        assert y.item() == 0
        np.testing.assert_array_equal(x.grad.numpy(), np.zeros(3))


def test_norm_rejects_what_it_cannot_compute():
    with pytest.raises(ValueError, match="'nuc'"):
        ad.ones(2, 2).norm("nuc")
    with pytest.raises(ad.ShapeError, match="use p=2"):
        ad.ones(2, 2, 2).norm("fro", dim=(0, 1, 2))
    with pytest.raises(ad.DtypeError, match=r"norm: .*int64.*x.float\(\)"):
        ad.tensor([1, 2]).norm()


# ---------------------------------------------------------------- dim=None, keepdim=True


def _logsumexp(x, keepdims):
    return np.log(np.exp(x).sum(keepdims=keepdims))


# name: (method, options, numpy reference of (x, keepdims))
EVERY_REDUCTION = {
    "sum": ("sum", {}, lambda x, k: np.sum(x, keepdims=k)),
    "mean": ("mean", {}, lambda x, k: np.mean(x, keepdims=k)),
    "var": ("var", {}, lambda x, k: np.var(x, ddof=1, keepdims=k)),
    "std": ("std", {}, lambda x, k: np.std(x, ddof=1, keepdims=k)),
    "prod": ("prod", {}, lambda x, k: np.prod(x, keepdims=k)),
    "max": ("max", {}, lambda x, k: np.max(x, keepdims=k)),
    "min": ("min", {}, lambda x, k: np.min(x, keepdims=k)),
    "amax": ("amax", {}, lambda x, k: np.max(x, keepdims=k)),
    "amin": ("amin", {}, lambda x, k: np.min(x, keepdims=k)),
    "logsumexp": ("logsumexp", {}, _logsumexp),
    "norm": ("norm", {}, lambda x, k: np.sqrt((x * x).sum(keepdims=k))),
    "norm p=1": ("norm", {"p": 1}, lambda x, k: np.abs(x).sum(keepdims=k)),
}


@pytest.mark.filterwarnings("ignore:Degrees of freedom")   # var of one element is NaN
@pytest.mark.filterwarnings("ignore:invalid value")
@pytest.mark.parametrize("shape", [(), (3,), (2, 3, 4)])
@pytest.mark.parametrize("spelling", ["torch", "numpy", "function"])
@pytest.mark.parametrize("name", EVERY_REDUCTION)
def test_dim_none_with_keepdim_keeps_every_axis_as_size_one(name, spelling, shape):
    method, options, reference = EVERY_REDUCTION[name]
    a = np.random.default_rng(len(shape)).permutation(np.arange(1, 25))[:int(np.prod(shape))]
    a = (a / 10).reshape(shape)
    x = ad.tensor(a, requires_grad=True)
    y = call(method, x, None, True, spelling, **options)
    assert y.shape == (1,) * len(shape)
    np.testing.assert_allclose(y.numpy(), reference(a, True), rtol=1e-12)
    y.sum().backward()
    kept = x.grad.numpy()
    x.grad = None
    call(method, x, None, False, spelling, **options).backward()      # the same gradient
    np.testing.assert_allclose(kept, x.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("method", ["sum", "mean", "var", "logsumexp", "amax", "norm"])
def test_an_empty_dim_means_every_dim_as_in_torch(method):
    x = ad.tensor(np.arange(1.0, 7.0).reshape(2, 3))
    np.testing.assert_allclose(getattr(x, method)(dim=()).numpy(),
                               getattr(x, method)(dim=(0, 1)).numpy())
    assert getattr(x, method)(dim=(), keepdim=True).shape == (1, 1)
