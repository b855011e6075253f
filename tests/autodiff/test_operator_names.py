"""torch's named comparisons, logical and bitwise functions, narrow and concat: each name
exists as a method and an `ad.` function and gives torch's values and dtypes."""
from __future__ import annotations

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given

import autodiff as ad

COMPARISONS = ["gt", "ge", "lt", "le", "ne", "greater", "greater_equal", "less",
               "less_equal", "not_equal"]
LOGICAL = ["logical_and", "logical_or", "logical_xor"]
BITWISE = ["bitwise_and", "bitwise_or", "bitwise_xor"]
A = np.array([-2.0, 0.0, 0.5, 3.0, 3.0])
B = np.array([1.0, 0.0, -0.5, 3.0, 4.0])


def same(ours: ad.Tensor, theirs) -> None:
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch."), (ours, theirs)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("name", COMPARISONS + LOGICAL)
@pytest.mark.parametrize("other", ["tensor", "number"])
def test_comparisons_and_logical_functions_match_torch(name, other):
    torch = pytest.importorskip("torch")
    b_ours, b_theirs = (ad.tensor(B), torch.tensor(B)) if other == "tensor" else (0.5, 0.5)
    if name in LOGICAL and other == "number":       # torch takes tensors alone there
        b_theirs = torch.tensor(b_theirs)
    same(getattr(ad.tensor(A), name)(b_ours), getattr(torch.tensor(A), name)(b_theirs))
    same(getattr(ad, name)(ad.tensor(A), b_ours), getattr(torch, name)(torch.tensor(A),
                                                                       b_theirs))


def test_comparisons_give_the_operators_answers_without_torch():
    a, b = ad.tensor(A), ad.tensor(B)
    np.testing.assert_array_equal(a.ge(b).numpy(), [False, True, True, True, False])
    np.testing.assert_array_equal(a.ne(b).numpy(), [True, False, True, False, True])
    np.testing.assert_array_equal(ad.logical_and(a, b).numpy(), [True, False, True, True, True])
    np.testing.assert_array_equal(a.logical_not().numpy(), [False, True, False, False, False])


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
def test_bitwise_and_logical_not_match_torch(dtype):
    torch = pytest.importorskip("torch")
    a = np.array([5, 0, 3, -1, 6]).astype(dtype)
    b = np.array([3, 0, 1, 2, 6]).astype(dtype)
    for name in BITWISE:
        same(getattr(ad.tensor(a), name)(ad.tensor(b)), getattr(torch.tensor(a), name)(
            torch.tensor(b)))
        same(getattr(ad, name)(ad.tensor(a), ad.tensor(b)),
             getattr(torch, name)(torch.tensor(a), torch.tensor(b)))
    same(ad.tensor(a).bitwise_not(), torch.tensor(a).bitwise_not())
    same(ad.logical_not(ad.tensor(a)), torch.logical_not(torch.tensor(a)))


def test_bitwise_functions_refuse_floats_as_torch():
    with pytest.raises(ad.DtypeError, match="&"):
        ad.tensor([1.0]).bitwise_and(ad.tensor([1.0]))


@pytest.mark.parametrize("dim, start, length", [(0, 1, 2), (1, -3, 2), (1, 0, 0), (-1, 4, 0),
                                                (0, -4, 4)])
def test_narrow_matches_torch_and_is_a_view_in_the_graph(dim, start, length):
    x = np.arange(20.0).reshape(4, 5)
    ours = ad.tensor(x, requires_grad=True)
    narrowed = ours.narrow(dim, start, length)
    (narrowed * 2).sum().backward()
    torch = pytest.importorskip("torch")
    theirs = torch.tensor(x, requires_grad=True)
    expected = theirs.narrow(dim, start, length)
    (expected * 2).sum().backward()
    np.testing.assert_array_equal(narrowed.detach().numpy(), expected.detach().numpy())
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())
    np.testing.assert_array_equal(ad.narrow(ours, dim, start, length).detach().numpy(),
                                  expected.detach().numpy())


def test_narrow_writes_through_as_a_view():
    x = ad.zeros(3, 4)
    x.narrow(1, 1, 2).fill_(7.0)
    np.testing.assert_array_equal(x.numpy()[:, 1:3], 7.0)
    np.testing.assert_array_equal(x.numpy()[:, [0, 3]], 0.0)


@pytest.mark.parametrize("start, length", [(5, 0), (-5, 1), (2, 4), (0, -1), (6, 0)])
def test_narrow_refuses_a_range_outside_the_dimension(start, length):
    with pytest.raises(ad.ShapeError, match="narrow: start"):
        ad.zeros(3, 4).narrow(1, start, length)


def test_concat_is_cat():
    a, b = ad.tensor([[1.0, 2.0]]), ad.tensor([[3.0, 4.0]])
    np.testing.assert_array_equal(ad.concat([a, b], dim=1).numpy(), [[1.0, 2.0, 3.0, 4.0]])
    np.testing.assert_array_equal(ad.concat([a, b]).numpy(), [[1.0, 2.0], [3.0, 4.0]])


# ---------------------------------------------------------------- reductions and products

def with_grads(fn_ours, fn_theirs, *arrays, weights_seed=0):
    """Run both on float64 leaves made from `arrays`; compare the float outputs and the
    gradients of a weighted sum of them."""
    torch = pytest.importorskip("torch")
    ours = [ad.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out_ours, out_theirs = fn_ours(*ours), fn_theirs(*theirs)
    if not isinstance(out_ours, tuple):
        out_ours, out_theirs = (out_ours,), (out_theirs,)
    rng = np.random.default_rng(weights_seed)
    total_ours, total_theirs = 0, 0
    for a, b in zip(out_ours, out_theirs):
        assert tuple(a.shape) == tuple(b.shape)
        if b.dtype.is_floating_point:
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12,
                                       atol=1e-12)
            w = rng.standard_normal(tuple(b.shape))
            total_ours = total_ours + (a * ad.tensor(w)).sum()
            total_theirs = total_theirs + (b * torch.tensor(w)).sum()
        else:
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    total_ours.backward()
    total_theirs.backward()
    for a, b in zip(ours, theirs):
        expected = np.zeros(a.shape) if b.grad is None else b.grad.numpy()
        got = np.zeros(a.shape) if a.grad is None else a.grad.numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape, dim, keepdim", [((7,), 0, False), ((4, 6), 1, False),
                                                 ((4, 6), 0, True), ((3, 4, 5), -1, True)])
def test_median_along_a_dim_matches_torch(shape, dim, keepdim):
    x = np.random.default_rng(1).permutation(np.prod(shape)).reshape(shape).astype(float)
    with_grads(lambda t: tuple(t.median(dim, keepdim=keepdim)),
               lambda t: tuple(t.median(dim, keepdim=keepdim)), x)


def test_median_of_everything_is_the_lower_median_and_nan_wins():
    torch = pytest.importorskip("torch")
    for values in ([4.0, 1.0, 3.0, 2.0], [5.0, 1.0, 3.0], [[2.0, np.nan], [1.0, 0.0]]):
        x = np.array(values)
        np.testing.assert_array_equal(ad.tensor(x).median().numpy(),
                                      torch.tensor(x).median().numpy())
    x = np.array([[3.0, np.nan, 2.0, 5.0], [0.0, 4.0, 4.0, 1.0]])
    ours, theirs = ad.tensor(x).median(1), torch.tensor(x).median(1)
    np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
    np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
    assert ad.tensor([[1, 2], [3, 4]]).median().item() == 2


def test_median_of_an_empty_tensor_is_refused():
    with pytest.raises(ad.ShapeError, match="median"):
        ad.zeros(0).median()


@pytest.mark.parametrize("correction", [0, 1])
@pytest.mark.parametrize("dim", [None, 0, 1, (0, 1)])
def test_count_nonzero_var_mean_and_std_mean_match_torch(dim, correction):
    torch = pytest.importorskip("torch")
    x = np.array([[0.0, 1.5, -2.0], [0.0, 0.0, 3.0]])
    same(ad.count_nonzero(ad.tensor(x), dim), torch.count_nonzero(torch.tensor(x), dim))
    same(ad.tensor(x).count_nonzero(dim), torch.tensor(x).count_nonzero(dim))
    with_grads(lambda t: ad.var_mean(t, dim, correction=correction),
               lambda t: torch.var_mean(t, dim, correction=correction), x)
    with_grads(lambda t: ad.std_mean(t, dim, correction=correction, keepdim=True),
               lambda t: torch.std_mean(t, dim, correction=correction, keepdim=True), x)


@pytest.mark.parametrize("values", [[[0, 1], [2, 0]], [0, 3, 0, 1], 5, 0, [[0, 0]]])
def test_nonzero_matches_torch(values):
    torch = pytest.importorskip("torch")
    x = np.array(values)
    same(ad.tensor(x).nonzero(), torch.tensor(x).nonzero())
    for ours, theirs in zip(ad.nonzero(ad.tensor(x), as_tuple=True),
                            torch.nonzero(torch.tensor(x), as_tuple=True), strict=True):
        same(ours, theirs)


@pytest.mark.parametrize("beta, alpha", [(1, 1), (0.5, 2.0), (0, 1.5)])
def test_mv_addmm_and_baddbmm_match_torch(beta, alpha):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    m, v = rng.standard_normal((3, 4)), rng.standard_normal(4)
    with_grads(lambda a, b: a.mv(b), lambda a, b: a.mv(b), m, v)
    c, m1 = rng.standard_normal((3, 5)), rng.standard_normal((3, 4))
    m2 = rng.standard_normal((4, 5))
    with_grads(lambda a, b, d: ad.addmm(a, b, d, beta=beta, alpha=alpha),
               lambda a, b, d: torch.addmm(a, b, d, beta=beta, alpha=alpha), c, m1, m2)
    row = rng.standard_normal(5)                       # broadcast to the product's shape
    with_grads(lambda a, b, d: a.addmm(b, d), lambda a, b, d: a.addmm(b, d), row, m1, m2)
    b1, b2, c3 = (rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 4, 5)),
                  rng.standard_normal((2, 3, 5)))
    with_grads(lambda a, b, d: ad.baddbmm(a, b, d, beta=2.0, alpha=0.5),
               lambda a, b, d: torch.baddbmm(a, b, d, beta=2.0, alpha=0.5), c3, b1, b2)


def test_addmm_with_beta_zero_ignores_nan_in_the_input():
    c = ad.tensor([[np.nan, np.inf]], requires_grad=True)
    out = ad.addmm(c, ad.tensor([[1.0], [2.0]]), ad.tensor([[3.0, 4.0]]), beta=0)
    np.testing.assert_array_equal(out.detach().numpy(), [[3.0, 4.0], [6.0, 8.0]])
    out.sum().backward()
    np.testing.assert_array_equal(c.grad.numpy(), [[0.0, 0.0]])


def test_mv_refuses_shapes_that_do_not_fit():
    with pytest.raises(ad.ShapeError, match="mv"):
        ad.zeros(3, 4).mv(ad.zeros(3))


@pytest.mark.parametrize("shapes", [((2, 2), (2, 3)), ((3,), (2,)), ((2, 3), (4,)),
                                    ((2, 1, 2), (3, 2))])
def test_kron_matches_torch(shapes):
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    with_grads(lambda x, y: ad.kron(x, y), lambda x, y: __import__("torch").kron(x, y), a, b)


@pytest.mark.parametrize("eps", [None, 1e-6, 0.2])
def test_logit_matches_torch(eps):
    x = np.array([0.05, 0.25, 0.5, 0.9, 0.99])
    with_grads(lambda t: t.logit(eps), lambda t: t.logit(eps), x)
    torch = pytest.importorskip("torch")
    edges = np.array([0.0, 1.0, 1.5])
    np.testing.assert_array_equal(ad.logit(ad.tensor(edges), eps).numpy(),
                                  torch.logit(torch.tensor(edges), eps).numpy())


def test_logspace_matches_torch():
    torch = pytest.importorskip("torch")
    for args in ((0, 2, 3), (-1.0, 1.0, 5), (0, 3, 4, 2.0)):
        ours, theirs = ad.logspace(*args), torch.logspace(*args)
        assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)
    assert ad.logspace(0, 1, 2, dtype=ad.float64).dtype == np.float64


@pytest.mark.parametrize("offset, dim1, dim2", [(0, -2, -1), (1, -2, -1), (-2, -2, -1),
                                                (0, 0, 2), (1, 2, 0)])
def test_diag_embed_matches_torch(offset, dim1, dim2):
    torch = pytest.importorskip("torch")
    x = np.arange(1.0, 7.0).reshape(2, 3)
    with_grads(lambda t: ad.diag_embed(t, offset, dim1, dim2),
               lambda t: torch.diag_embed(t, offset, dim1, dim2), x)
    np.testing.assert_array_equal(ad.tensor(x).diag_embed(offset).numpy(),
                                  torch.tensor(x).diag_embed(offset).numpy())


def test_searchsorted_matches_torch():
    torch = pytest.importorskip("torch")
    sequence, values = np.array([1, 3, 5, 7, 9]), np.array([3, 6, 9, 0, 10])
    for options in ({}, {"right": True}, {"side": "right"}, {"out_int32": True}):
        same(ad.searchsorted(ad.tensor(sequence), ad.tensor(values), **options),
             torch.searchsorted(torch.tensor(sequence), torch.tensor(values), **options))
    rows, row_values = np.array([[1, 3, 5], [2, 4, 6]]), np.array([[3, 6], [1, 5]])
    same(ad.searchsorted(ad.tensor(rows), ad.tensor(row_values)),
         torch.searchsorted(torch.tensor(rows), torch.tensor(row_values)))
    same(ad.searchsorted(ad.tensor(sequence), 4), torch.searchsorted(torch.tensor(sequence), 4))
    shuffled, order = np.array([5, 1, 3]), np.array([1, 2, 0])
    same(ad.searchsorted(ad.tensor(shuffled), ad.tensor([2, 4]), sorter=ad.tensor(order)),
         torch.searchsorted(torch.tensor(shuffled), torch.tensor([2, 4]),
                            sorter=torch.tensor(order)))


def test_searchsorted_refuses_a_side_that_contradicts_right():
    with pytest.raises(ValueError, match="side"):
        ad.searchsorted(ad.tensor([1, 2]), ad.tensor([1]), right=True, side="left")


# ---------------------------------------------------------------- inverse

def well_conditioned(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    n = shape[-1]
    return rng.standard_normal(shape) + 3 * np.eye(n)


@pytest.mark.parametrize("shape", [(1, 1), (3, 3), (2, 4, 4), (2, 1, 3, 3)])
def test_inverse_matches_torch_with_its_gradient(shape):
    a = well_conditioned(np.random.default_rng(4), shape)
    torch = pytest.importorskip("torch")
    with_grads(lambda t: t.inverse(), lambda t: t.inverse(), a)
    with_grads(lambda t: ad.inverse(t), lambda t: torch.inverse(t), a)


@given(data=st.data())
def test_inverse_gradients_against_finite_differences(data, strategies, check_grads):
    n = data.draw(st.integers(1, 3))
    batch = data.draw(strategies.shapes(max_dims=2, max_side=2))
    values = data.draw(strategies.floats(batch + (n, n)))
    # off the diagonal |a| <= 1, so each row's sum stays below its diagonal (>= 3): invertible
    check_grads(lambda t: t.inverse(), values / 2 + 4 * np.eye(n))


def test_inverse_times_the_matrix_is_the_identity_and_integers_become_floats():
    a = ad.tensor([[2, 1], [1, 1]])
    inverse = a.inverse()
    assert inverse.dtype == np.float32
    np.testing.assert_allclose((inverse @ a.float()).numpy(), np.eye(2), atol=1e-6)


def test_inverse_refuses_singular_and_non_square_matrices():
    with pytest.raises(ad.DomainError, match="inverse: a matrix of the input is singular"):
        ad.tensor([[1.0, 2.0], [2.0, 4.0]]).inverse()
    with pytest.raises(ad.ShapeError, match=r"inverse: needs square matrices"):
        ad.zeros(2, 3).inverse()
    with pytest.raises(ad.ShapeError, match=r"inverse: needs square matrices"):
        ad.zeros(3).inverse()


# ---------------------------------------------------------------- quantile

@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "midpoint", "nearest"])
@pytest.mark.parametrize("q, dim, keepdim", [(0.3, None, False), (0.5, 1, False),
                                             ([0.1, 0.5, 0.9], 0, True), (0.75, -1, True),
                                             ([0.0, 1.0], None, True)])
def test_quantile_matches_torch_with_its_gradient(q, dim, keepdim, interpolation):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(5).permutation(24).reshape(4, 6) / 3.0
    q_ours = ad.tensor(q, dtype=ad.float64) if isinstance(q, list) else q
    q_theirs = torch.tensor(q, dtype=torch.float64) if isinstance(q, list) else q
    with_grads(lambda t: ad.quantile(t, q_ours, dim, keepdim, interpolation=interpolation),
               lambda t: torch.quantile(t, q_theirs, dim, keepdim, interpolation=interpolation),
               x)
    with_grads(lambda t: t.quantile(q_ours, dim, keepdim, interpolation=interpolation),
               lambda t: t.quantile(q_theirs, dim, keepdim, interpolation=interpolation), x)


def test_quantile_is_nan_where_the_elements_hold_a_nan():
    x = ad.tensor([[1.0, 5.0, 2.0, 8.0], [3.0, np.nan, 0.0, 1.0]])
    np.testing.assert_array_equal(ad.quantile(x, 0.5, dim=1).numpy(), [3.5, np.nan])
    assert np.isnan(ad.quantile(x, 0.1).item())


@given(data=st.data())
def test_quantile_gradients_against_finite_differences(data, strategies, check_grads):
    shape = data.draw(strategies.shapes(min_dims=1, max_dims=2))
    values = data.draw(strategies.distinct(shape))              # no ties between sorted places
    q = data.draw(st.floats(0, 1))
    dim = data.draw(st.sampled_from([None, -1]))
    check_grads(lambda t: ad.quantile(t, q, dim), values)


@pytest.mark.parametrize("call, error, match", [
    (lambda: ad.quantile(ad.tensor([1, 2]), 0.5), ad.DtypeError, "float tensor"),
    (lambda: ad.quantile(ad.tensor([1.0, 2.0]), 1.5), ValueError, r"\[0, 1\]"),
    (lambda: ad.quantile(ad.tensor([1.0]), 0.5, interpolation="cubic"), ValueError,
     "interpolation"),
    (lambda: ad.quantile(ad.zeros(0), 0.5), ad.ShapeError, "no elements")])
def test_quantile_refuses_bad_input_by_name(call, error, match):
    with pytest.raises(error, match=f"quantile: .*{match}"):
        call()


def test_as_tensor_shares_an_ndarray_as_torch_and_converts_the_rest():
    """torch.as_tensor: no copy of an ndarray of the wanted dtype (writes on either side
    show on the other), the tensor itself for a tensor, a new tensor otherwise."""
    torch = pytest.importorskip("torch")
    for lib in (ad, torch):
        a = np.array([1.0, 2.0])
        t = lib.as_tensor(a)
        a[0] = 100.0
        t.add_(1.0)
        assert t.tolist() == [101.0, 3.0] and a.tolist() == [101.0, 3.0]
        b = np.array([1, 2])
        converted = lib.as_tensor(b, dtype=lib.float32)
        b[0] = 7
        assert converted.tolist() == [1.0, 2.0]                 # another dtype: a copy
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        assert lib.as_tensor(x) is x
        assert lib.as_tensor(x, dtype=lib.float64).requires_grad
    assert str(ad.as_tensor([1, 2]).dtype) == str(torch.as_tensor([1, 2]).dtype).removeprefix(
        "torch.")
    with pytest.raises(ad.DeviceError):
        ad.as_tensor(np.zeros(2), device="cuda")


@pytest.mark.parametrize("dim, index", [(0, 1), (1, -1), (-1, 0), (2, 2)])
def test_select_is_a_view_as_torchs(dim, index):
    torch = pytest.importorskip("torch")
    values = np.arange(24.0).reshape(2, 3, 4)
    ours, theirs = ad.tensor(values.copy()), torch.tensor(values.copy())
    if dim == 2 and index == 2:
        mine, their = ad.select(ours, dim, index), torch.select(theirs, dim, index)
    else:
        mine, their = ours.select(dim, index), theirs.select(dim, index)
    same(mine, their)
    mine.mul_(10)
    their.mul_(10)
    same(ours, theirs)                             # the write went through to the base
    x = ad.tensor(values, requires_grad=True)
    x.select(dim, index).sum().backward()
    expected = np.zeros_like(values)
    expected[(slice(None),) * (dim % 3) + (index,)] = 1
    np.testing.assert_array_equal(x.grad.numpy(), expected)


def test_select_refuses_an_index_out_of_range_by_name():
    with pytest.raises(IndexError, match=r"select: index 3 is out of range for dimension 1 "
                                         r"of size 3"):
        ad.zeros(2, 3).select(1, 3)


def test_mean_takes_a_dtype_as_torch():
    torch = pytest.importorskip("torch")
    same(ad.tensor([1, 2, 4]).mean(dtype=ad.float64), torch.tensor([1, 2, 4]).mean(
        dtype=torch.float64))
    same(ad.mean(ad.tensor([[1.0, 2.0]]), 1, dtype=ad.float64),
         torch.mean(torch.tensor([[1.0, 2.0]]), 1, dtype=torch.float64))


def test_einsum_with_an_ellipsis_that_stands_for_no_dims_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    v, w, u = rng.standard_normal(3), rng.standard_normal((2, 3, 4)), rng.standard_normal(4)
    ours = [ad.tensor(a, requires_grad=True) for a in (v, w, u)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (v, w, u)]
    ad.einsum("...i,oij,...j->...o", *ours).sum().backward()
    torch.einsum("...i,oij,...j->...o", *theirs).sum().backward()
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12)
