"""det, slogdet, logdet (autodiff/ops/linalg.py), cdist, and index_add / index_add_:
values, dtypes and gradients against torch; gradients against finite differences in
float64 (to second order where the function is smooth) over hypothesis-drawn shapes; the
edge cases by hand (singular matrices, repeated points, repeated indices), which run
without torch too."""
from __future__ import annotations

import math

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given

import autodiff as ad


def with_grads(fn_ours, fn_theirs, *arrays, rtol=1e-12, atol=1e-12):
    """Run both on float64 leaves made from the float `arrays` (others passed as they
    are); compare the outputs (a tensor or a tuple of them) and the gradients of a
    weighted sum of the float outputs."""
    torch = pytest.importorskip("torch")
    ours = [ad.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    theirs = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    out_ours, out_theirs = fn_ours(*ours), fn_theirs(*theirs)
    if not isinstance(out_ours, tuple):
        out_ours, out_theirs = (out_ours,), (out_theirs,)
    rng = np.random.default_rng(0)
    total_ours, total_theirs = 0, 0
    for a, b in zip(out_ours, out_theirs, strict=True):
        assert str(a.dtype) == str(b.dtype).removeprefix("torch.")
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=rtol,
                                   atol=atol)
        if b.requires_grad:
            w = rng.standard_normal(tuple(b.shape))
            finite = np.isfinite(b.detach().numpy())         # leave -inf and NaN out
            total_ours = total_ours + (a * ad.tensor(np.where(finite, w, 0))).sum()
            total_theirs = total_theirs + (b * torch.tensor(np.where(finite, w, 0))).sum()
    total_ours.backward()
    total_theirs.backward()
    for a, b in zip(ours, theirs):
        if not b.requires_grad:
            continue
        expected = np.zeros(a.shape) if b.grad is None else b.grad.numpy()
        got = np.zeros(a.shape) if a.grad is None else a.grad.numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)


SINGULAR = {
    "rank 2 of 3": np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]]),
    "rank 2 of 3, det ≈ 1e-16": np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]),
    "rank 1 of 3": np.outer([1.0, 2.0, 3.0], [1.0, -1.0, 2.0]),
    "a singular one in a batch": np.stack([np.array([[1.0, 2.0], [2.0, 4.0]]),
                                           np.array([[2.0, 1.0], [1.0, 3.0]])]),
}


# ---------------------------------------------------------------- det

@pytest.mark.parametrize("shape", [(1, 1), (3, 3), (2, 4, 4), (2, 1, 3, 3), (0, 2, 2)])
def test_det_matches_torch_with_its_gradient(shape):
    a = np.random.default_rng(1).standard_normal(shape)
    torch = pytest.importorskip("torch")
    with_grads(lambda t: t.det(), lambda t: t.det(), a)
    with_grads(ad.det, torch.det, a)


def test_det_by_hand_its_gradient_is_the_cofactor_matrix():
    a = ad.tensor([[2.0, 1.0], [1.0, 3.0]], requires_grad=True)
    d = a.det()
    assert d.item() == pytest.approx(5.0)                    # 2·3 − 1·1
    d.backward()
    np.testing.assert_allclose(a.grad.numpy(), [[3.0, -1.0], [-1.0, 2.0]])   # 5 · a⁻ᵀ
    assert ad.det(ad.zeros(2, 0, 0)).tolist() == [1.0, 1.0]  # the empty product


def test_det_of_a_matrix_holding_nan_gives_nan_and_its_gradient_nan_as_torch():
    a = ad.tensor([[math.nan, 1.0], [1.0, 2.0]], requires_grad=True)
    d = a.det()
    d.backward()
    assert math.isnan(d.item()) and np.isnan(a.grad.numpy()).all()


@pytest.mark.parametrize("case", sorted(SINGULAR))
def test_det_of_a_singular_matrix_gets_torchs_gradient_to_second_order(case):
    """The cofactor matrix, not NaN: first order from the SVD, second order (create_graph)
    from the minors' determinants."""
    a = SINGULAR[case]
    torch = pytest.importorskip("torch")
    ours, theirs = ad.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    g_ours, = ad.grad(ours.det().sum(), [ours], create_graph=True)
    g_theirs, = torch.autograd.grad(theirs.det().sum(), theirs, create_graph=True)
    np.testing.assert_allclose(g_ours.detach().numpy(), g_theirs.detach().numpy(),
                               atol=1e-12)
    w = np.random.default_rng(2).standard_normal(a.shape)
    h_ours, = ad.grad((g_ours * ad.tensor(w)).sum(), [ours])
    h_theirs, = torch.autograd.grad((g_theirs * torch.tensor(w)).sum(), theirs)
    np.testing.assert_allclose(h_ours.numpy(), h_theirs.numpy(), atol=1e-10)


def test_det_gradient_at_singular_matrices_by_hand():
    a = ad.tensor([[1.0, 2.0], [2.0, 4.0]], requires_grad=True)
    a.det().backward()
    np.testing.assert_allclose(a.grad.numpy(), [[4.0, -2.0], [-2.0, 1.0]], atol=1e-14)
    zero = ad.zeros(3, 3, dtype=ad.float64, requires_grad=True)
    g, = ad.grad(zero.det(), [zero], create_graph=True)
    np.testing.assert_array_equal(g.detach().numpy(), np.zeros((3, 3)))
    # Σ cof(a) at a = 0: each 2 × 2 minor's derivative; torch gives NaN here
    h, = ad.grad(g.sum(), [zero])
    assert np.isfinite(h.numpy()).all()
    assert ad.gradgradcheck(ad.det, [zero])


@given(data=st.data())
def test_det_gradients_against_finite_differences(data, strategies, check_grads):
    n = data.draw(st.integers(1, 3))
    batch = data.draw(strategies.shapes(max_dims=2, max_side=2))
    # multiples of 1/50: no subnormal entries, whose inverse overflows (cofactors of
    # singular draws come from the formulas that never divide)
    check_grads(ad.det, data.draw(strategies.distinct(batch + (n, n))))


@pytest.mark.parametrize("case", sorted(SINGULAR))
def test_det_gradients_at_singular_matrices_against_finite_differences(case, check_grads):
    check_grads(ad.det, SINGULAR[case])


def test_det_keeps_float32_and_refuses_integers_and_non_square_matrices():
    assert ad.tensor(np.eye(3, dtype=np.float32)).det().dtype == np.float32
    with pytest.raises(ad.DtypeError, match=r"det: needs a float32 or float64 tensor .* "
                                            r"got int64"):
        ad.tensor([[1, 2], [3, 4]]).det()
    with pytest.raises(ad.DtypeError, match=r"slogdet: .* got float16"):
        ad.eye(2, dtype=ad.float16).slogdet()
    with pytest.raises(ad.ShapeError, match=r"det: needs square matrices \(\*, n, n\), got "
                                            r"shape \(2, 3\)"):
        ad.det(ad.zeros(2, 3))
    with pytest.raises(ad.ShapeError, match=r"slogdet: needs square matrices"):
        ad.zeros(3).slogdet()
    with pytest.raises(ad.ShapeError, match=r"logdet: needs square matrices"):
        ad.logdet(ad.zeros(3, 2))


# ---------------------------------------------------------------- slogdet, logdet

def signed_matrices() -> np.ndarray:
    """Three 3 × 3 matrices: det > 0, det < 0, and a large one whose det would be 1e60."""
    rng = np.random.default_rng(3)
    positive = rng.standard_normal((3, 3)) + 3 * np.eye(3)
    return np.stack([positive, positive[[1, 0, 2]], 1e20 * np.eye(3)])


def test_slogdet_is_a_named_tuple_as_torchs_and_matches_its_values_and_gradients():
    torch = pytest.importorskip("torch")
    a = signed_matrices()
    with_grads(lambda t: tuple(t.slogdet()), lambda t: tuple(t.slogdet()), a)
    with_grads(lambda t: tuple(ad.slogdet(t)), lambda t: tuple(torch.slogdet(t)), a)
    ours, theirs = ad.slogdet(ad.tensor(a)), torch.slogdet(torch.tensor(a))
    assert ours._fields == ("sign", "logabsdet")
    np.testing.assert_array_equal(ours.sign.numpy(), theirs.sign.numpy())
    np.testing.assert_allclose(ours.logabsdet.numpy(), theirs.logabsdet.numpy(), rtol=1e-12)


def test_slogdet_by_hand():
    a = ad.tensor([[0.0, 2.0], [1.0, 0.0]], requires_grad=True)     # det = −2
    sign, logabsdet = ad.slogdet(a)
    assert (sign.item(), logabsdet.item()) == (-1.0, pytest.approx(math.log(2)))
    assert sign.requires_grad                                       # as torch's
    sign.backward()
    assert a.grad is None                                           # no gradient flows
    logabsdet.backward()
    np.testing.assert_allclose(a.grad.numpy(), [[0.0, 0.5], [1.0, 0.0]])     # a⁻ᵀ


@given(data=st.data())
def test_logabsdet_gradients_against_finite_differences(data, strategies, check_grads):
    n = data.draw(st.integers(1, 3))
    batch = data.draw(strategies.shapes(max_dims=2, max_side=2))
    values = data.draw(strategies.floats(batch + (n, n)))
    sign = data.draw(st.sampled_from([1.0, -1.0]))
    # off the diagonal |a| <= 1 under a diagonal of ±4: invertible, of either sign of det
    check_grads(lambda t: ad.slogdet(t).logabsdet, values / 2 + sign * 4 * np.eye(n))


def test_logdet_matches_torch_for_each_sign_of_det():
    torch = pytest.importorskip("torch")
    singular = np.array([[[1.0, 2.0, 0.0], [2.0, 4.0, 0.0], [0.0, 0.0, 1.0]]])
    a = np.concatenate([signed_matrices(), singular])
    for ours, theirs in ((ad.logdet, torch.logdet), (ad.Tensor.logdet, torch.Tensor.logdet)):
        got, expected = ours(ad.tensor(a)), theirs(torch.tensor(a))
        np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-12)  # NaN, -inf
    with_grads(ad.logdet, torch.logdet, signed_matrices())  # gradient 0 where det < 0


def test_logdet_by_hand():
    a = ad.tensor([[[2.0, 0.0], [0.0, 3.0]], [[0.0, 1.0], [1.0, 0.0]]], requires_grad=True)
    value = a.logdet()
    assert value[0].item() == pytest.approx(math.log(6)) and math.isnan(value[1].item())
    value[0].backward()
    np.testing.assert_allclose(a.grad.numpy(), [[[0.5, 0.0], [0.0, 1 / 3]], np.zeros((2, 2))])


def test_log_of_det_refuses_the_gradient_at_a_singular_matrix_by_name():
    """log|det| is -inf there (the value torch gives too), and its gradient a⁻ᵀ does not
    exist (torch returns infinities); a singular matrix whose gradient is 0 is fine."""
    a = ad.tensor(SINGULAR["a singular one in a batch"], requires_grad=True)
    sign, logabsdet = a.slogdet()
    assert sign.tolist() == [0.0, 1.0] and logabsdet[0].item() == -math.inf
    with pytest.raises(ad.DomainError, match=r"slogdet/logdet: a matrix of the input \(shape "
                                             r"\(2, 2, 2\)\) is singular"):
        logabsdet.sum().backward()
    with pytest.raises(ad.DomainError, match=r"a \+ eps·I"):
        a.logdet().sum().backward()
    a.slogdet().logabsdet[1].backward()
    np.testing.assert_allclose(a.grad.numpy()[1], np.linalg.inv(a.numpy()[1]).T)
    np.testing.assert_array_equal(a.grad.numpy()[0], np.zeros((2, 2)))


# ---------------------------------------------------------------- cdist

P_VALUES = [0, 0.5, 1, 1.5, 2, 3, math.inf]


def points_with_repeats(rng: np.random.Generator, batch: tuple[int, ...] = ()
                        ) -> tuple[np.ndarray, np.ndarray]:
    """x1 (*batch, 4, 3) and x2 (*batch, 3, 3) where x2's row 0 repeats x1's row 1 (a
    distance of 0) and x2's row 1 shares one coordinate with x1's row 0 (a difference of 0
    in a non-zero distance)."""
    x1 = rng.standard_normal(batch + (4, 3))
    x2 = rng.standard_normal(batch + (3, 3))
    x2[..., 0, :] = x1[..., 1, :]
    x2[..., 1, 0] = x1[..., 0, 0]
    return x1, x2


@pytest.mark.parametrize("p", P_VALUES)
def test_cdist_matches_torch_with_gradients_at_repeated_points(p):
    torch = pytest.importorskip("torch")
    x1, x2 = points_with_repeats(np.random.default_rng(5))
    with_grads(lambda a, b: ad.cdist(a, b, p=p), lambda a, b: torch.cdist(a, b, p=p), x1, x2)


@pytest.mark.parametrize("p", [0, 1, 2, 3, math.inf])
def test_cdist_broadcasts_batch_dims_as_torch(p):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    x1, x2 = rng.standard_normal((2, 1, 4, 3)), rng.standard_normal((5, 3, 3))
    with_grads(lambda a, b: ad.cdist(a, b, p), lambda a, b: torch.cdist(a, b, p), x1, x2)
    x1, x2 = points_with_repeats(rng, (2,))
    with_grads(lambda a, b: ad.cdist(a, b, p), lambda a, b: torch.cdist(a, b, p), x1, x2)


@pytest.mark.parametrize("p", P_VALUES)
def test_cdist_with_no_columns_or_no_rows_matches_torch(p):
    torch = pytest.importorskip("torch")
    for s1, s2 in (((2, 0), (3, 0)), ((0, 2), (3, 2))):
        got = ad.cdist(ad.zeros(*s1), ad.zeros(*s2), p=p)
        expected = torch.cdist(torch.zeros(*s1), torch.zeros(*s2), p=p)
        assert got.dtype == np.float32 and got.shape == tuple(expected.shape)
        np.testing.assert_array_equal(got.numpy(), expected.numpy())


def test_cdist_by_hand_with_gradient_zero_at_zero_distance():
    x1 = ad.tensor([[0.0, 0.0], [1.0, 1.0]], requires_grad=True)
    x2 = ad.tensor([[3.0, 4.0], [0.0, 0.0]], requires_grad=True)
    d = ad.cdist(x1, x2)
    np.testing.assert_allclose(d.detach().numpy(), [[5.0, 0.0], [math.sqrt(13), math.sqrt(2)]])
    d[0].sum().backward()
    np.testing.assert_allclose(x1.grad.numpy(), [[-0.6, -0.8], [0.0, 0.0]])   # d/dx1 of 5 only
    np.testing.assert_allclose(x2.grad.numpy(), [[0.6, 0.8], [0.0, 0.0]])
    assert ad.cdist(x1, x2, p=0).tolist() == [[2.0, 0.0], [2.0, 2.0]]
    assert ad.cdist(x1, x2, p=1).tolist() == [[7.0, 0.0], [5.0, 2.0]]
    assert ad.cdist(x1, x2, p=math.inf).tolist() == [[4.0, 0.0], [3.0, 1.0]]


def test_cdist_p_zero_has_gradient_zero_and_p_inf_ties_share_it():
    x1 = ad.tensor([[0.0, 0.0]], requires_grad=True)
    ad.cdist(x1, ad.tensor([[1.0, -1.0]]), p=0).sum().backward()
    np.testing.assert_array_equal(x1.grad.numpy(), [[0.0, 0.0]])
    x1.grad = None
    ad.cdist(x1, ad.tensor([[1.0, -1.0]]), p=math.inf).sum().backward()
    np.testing.assert_array_equal(x1.grad.numpy(), [[-0.5, 0.5]])    # torch: [[-1, 1]]


@given(data=st.data(), p=st.sampled_from([1, 1.5, 2, 3]))
def test_cdist_gradients_against_finite_differences(data, p, strategies, check_grads):
    """Away from zero differences (x2 sits on a grid shifted by half a step), where every
    p-norm is smooth."""
    batch = data.draw(strategies.shapes(max_dims=1, max_side=2))
    rows1, rows2, m = (data.draw(st.integers(1, 3)) for _ in range(3))
    x1 = data.draw(strategies.distinct(batch + (rows1, m)))
    x2 = data.draw(strategies.distinct(batch + (rows2, m), offset=0.01))
    check_grads(lambda a, b: ad.cdist(a, b, p=p), x1, x2)


def test_cdist_p_two_second_derivative_is_zero_at_zero_distance():
    x1 = ad.tensor([[1.0, 2.0]], dtype=ad.float64, requires_grad=True)
    g, = ad.grad(ad.cdist(x1, ad.tensor([[1.0, 2.0]], dtype=ad.float64)).sum(), [x1],
                 create_graph=True)
    h, = ad.grad(g.sum(), [x1])
    assert g.tolist() == [[0.0, 0.0]] and h.tolist() == [[0.0, 0.0]]


def test_cdist_ignores_compute_mode_and_keeps_float32():
    rng = np.random.default_rng(7)
    x1 = ad.tensor(rng.standard_normal((30, 3)).astype(np.float32))
    x2 = ad.tensor(rng.standard_normal((40, 3)).astype(np.float32))
    results = [ad.cdist(x1, x2, compute_mode=mode).numpy()
               for mode in (None, "use_mm_for_euclid_dist_if_necessary",
                            "use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist")]
    assert results[0].dtype == np.float32
    for result in results[1:]:
        np.testing.assert_array_equal(result, results[0])


def test_cdist_refuses_bad_input_by_name():
    x = ad.zeros(2, 3)
    with pytest.raises(ad.ShapeError, match=r"cdist: x1 must have at least 2 dims"):
        ad.cdist(ad.zeros(3), x)
    with pytest.raises(ad.ShapeError, match=r"same number of columns"):
        ad.cdist(x, ad.zeros(2, 4))
    with pytest.raises(ad.ShapeError, match=r"batch dims .* do not broadcast"):
        ad.cdist(ad.zeros(2, 2, 3), ad.zeros(3, 2, 3))
    with pytest.raises(ad.DtypeError, match=r"cdist: needs floating-point tensors, x2 is int64"):
        ad.cdist(x, ad.tensor([[1, 2, 3]]))
    with pytest.raises(ad.DtypeError, match=r"x1 \(float32\) and x2 \(float64\)"):
        ad.cdist(x, x.double())
    with pytest.raises(ValueError, match=r"cdist: p must be a number >= 0"):
        ad.cdist(x, x, p=-1.0)
    with pytest.raises(ValueError, match=r"cdist: compute_mode must be one of"):
        ad.cdist(x, x, compute_mode="fast")


# ---------------------------------------------------------------- index_add

INDEX_CASES = [  # (self's shape, dim, index, alpha)
    ((3, 4), 0, [2, 0, 2], 1),
    ((3, 4), 1, [3, 3, 3, 0, 1], 2.5),
    ((2, 3, 4), -1, [0, 1], -1),
    ((2, 3, 4), 1, [2], 1),
    ((5,), 0, [4, 4], 0.5),
    ((3, 4), 0, [], 1),
]


@pytest.mark.parametrize("shape, dim, index, alpha", INDEX_CASES)
def test_index_add_matches_torch_with_gradients_to_self_and_source(shape, dim, index, alpha):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(8)
    x = rng.standard_normal(shape)
    source_shape = list(shape)
    source_shape[dim] = len(index)
    source = rng.standard_normal(source_shape)
    i = np.array(index, dtype=np.int64)
    with_grads(lambda a, b, j: a.index_add(dim, j, b, alpha=alpha),
               lambda a, b, j: a.index_add(dim, j, b, alpha=alpha), x, source, i)
    with_grads(lambda a, b, j: ad.index_add(a, dim, j, b, alpha=alpha),
               lambda a, b, j: torch.index_add(a, dim, j, b, alpha=alpha), x, source, i)


def test_index_add_with_int32_and_0_d_indices_and_integer_tensors_matches_torch():
    torch = pytest.importorskip("torch")
    x, source = np.zeros((3, 4)), np.arange(8.0).reshape(2, 4)
    with_grads(lambda a, b, j: a.index_add(0, j, b), lambda a, b, j: a.index_add(0, j, b),
               x, source, np.array([2, 1], np.int32))
    with_grads(lambda a, b, j: a.index_add(0, j, b), lambda a, b, j: a.index_add(0, j, b),
               x, source[:1], np.array(2))
    with_grads(lambda a, b, j: a.index_add(0, j, b), lambda a, b, j: a.index_add(0, j, b),
               np.array(1.0), np.array(5.0), np.array(0))
    ints, int_source = np.arange(12).reshape(3, 4), np.arange(8).reshape(2, 4)
    got = ad.tensor(ints).index_add(0, ad.tensor([1, 1]), ad.tensor(int_source), alpha=2)
    expected = torch.tensor(ints).index_add(0, torch.tensor([1, 1]),
                                            torch.tensor(int_source), alpha=2)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got.numpy(), expected.numpy())


def test_index_add_by_hand_repeated_indices_accumulate():
    x = ad.zeros(3, 2, requires_grad=True)
    source = ad.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)
    out = x.index_add(0, ad.tensor([2, 0, 2]), source, alpha=2)
    assert out.tolist() == [[6.0, 8.0], [0.0, 0.0], [12.0, 16.0]]
    (out * ad.tensor([[1.0], [10.0], [100.0]])).sum().backward()
    assert x.grad.tolist() == [[1.0, 1.0], [10.0, 10.0], [100.0, 100.0]]
    assert source.grad.tolist() == [[200.0, 200.0], [2.0, 2.0], [200.0, 200.0]]
    flags = ad.zeros(3, dtype=ad.bool).index_add(0, ad.tensor([1, 1]), ad.tensor([True, False]))
    assert flags.dtype == np.bool_ and flags.tolist() == [False, True, False]   # or, as torch


@given(data=st.data())
def test_index_add_gradients_against_finite_differences(data, strategies, check_grads):
    shape = data.draw(strategies.shapes(min_dims=1, max_dims=3))
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    index = data.draw(st.lists(st.integers(0, shape[dim] - 1), max_size=4))
    source_shape = list(shape)
    source_shape[dim] = len(index)
    x = data.draw(strategies.floats(shape))
    source = data.draw(strategies.floats(tuple(source_shape)))
    check_grads(lambda a, b: a.index_add(dim, ad.tensor(index, dtype=ad.int64), b, alpha=1.5),
                x, source)


def test_index_add_in_place_bumps_the_version_and_matches_torchs_gradients():
    rng = np.random.default_rng(9)
    x0, source0 = rng.standard_normal((3, 4)), rng.standard_normal((2, 4))
    weights = rng.standard_normal((3, 4))

    def run(lib, tensor):
        leaf, source = tensor(x0, requires_grad=True), tensor(source0, requires_grad=True)
        x = leaf * 2                                     # not a leaf: may change in place
        version = x._version
        returned = x.index_add_(0, tensor([1, 1]), source, alpha=3)
        assert returned is x and x._version == version + 1
        (x * tensor(weights)).sum().backward()
        return x.detach().numpy(), leaf.grad.numpy(), source.grad.numpy()

    ours = run(ad, ad.tensor)
    np.testing.assert_allclose(ours[2], [3 * weights[1], 3 * weights[1]])
    np.testing.assert_allclose(ours[1], 2 * weights)
    torch = pytest.importorskip("torch")
    for got, expected in zip(ours, run(torch, torch.tensor)):
        np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_index_add_in_place_follows_autograds_rules():
    leaf = ad.ones(3, requires_grad=True)
    with pytest.raises(ad.InPlaceError, match=r"index_add_: a leaf tensor that requires grad"):
        leaf.index_add_(0, ad.tensor([0]), ad.ones(1))
    x = leaf * 1
    y = x * x                                            # saves x's value
    x.index_add_(0, ad.tensor([0]), ad.ones(1))
    with pytest.raises(ad.InPlaceError, match="index_add_|modified|version"):
        y.sum().backward()
    plain = ad.zeros(3)                                  # outside the graph: just written
    plain.index_add_(0, ad.tensor([2, 2]), ad.tensor([1.0, 2.0]))
    assert plain.tolist() == [0.0, 0.0, 3.0] and plain._version == 1


def test_index_add_refuses_bad_input_by_name():
    x = ad.zeros(3, 4)
    with pytest.raises(ad.DtypeError, match=r"index_add: the index must hold integers, got "
                                            r"float32"):
        x.index_add(0, ad.tensor([1.0]), ad.zeros(1, 4))
    with pytest.raises(ad.ShapeError, match=r"index_add: the index must be a vector .* "
                                            r"shape \(1, 2\)"):
        x.index_add(0, ad.tensor([[1, 2]]), ad.zeros(2, 4))
    with pytest.raises(ad.DimError, match=r"index values must lie in \[0, 3\) .* got -1 to 1"):
        x.index_add(0, ad.tensor([1, -1]), ad.zeros(2, 4))
    with pytest.raises(ad.DimError, match=r"got 3 to 3"):
        x.index_add(0, ad.tensor([3]), ad.zeros(1, 4))
    with pytest.raises(ad.DimError, match="index_add: dim 2 is out of range"):
        x.index_add(2, ad.tensor([0]), ad.zeros(1, 4))
    with pytest.raises(ad.ShapeError, match=r"source of shape \(2, 3\) does not fit: .* "
                                            r"needs source of shape \(2, 4\)"):
        x.index_add(0, ad.tensor([0, 1]), ad.zeros(2, 3))
    with pytest.raises(ad.ShapeError, match=r"needs source of shape \(\) and one index"):
        ad.tensor(1.0).index_add(0, ad.tensor([0, 0]), ad.tensor(5.0))
    with pytest.raises(ad.DtypeError, match=r"source \(float64\) must have the dtype .* "
                                            r"\(float32\)"):
        x.index_add(0, ad.tensor([0]), ad.zeros(1, 4, dtype=ad.float64))
    with pytest.raises(ad.DtypeError, match=r"alpha 2.5 is not a whole number"):
        ad.tensor([1, 2]).index_add(0, ad.tensor([0]), ad.tensor([1]), alpha=2.5)


# ---------------------------------------------------------------- under ad.compile

def test_cdist_slogdet_and_index_add_replay_under_compile_with_new_values():
    def step(a, b, index):
        square = a[:, :2] @ b[:, :2].T
        out = ad.cdist(a, b, p=1.5).sum() + ad.slogdet(square).logabsdet + square.det()
        added = ad.zeros(3, dtype=ad.float64).index_add(0, index, a[:, 0])
        out = out + (added * ad.tensor([1.0, 2.0, 3.0])).sum()
        out.backward()
        return out.detach(), a.grad, b.grad

    compiled = ad.compile(step, fullgraph=True)
    rng = np.random.default_rng(10)
    for index in ([0, 0], [2, 1], [1, 2]):
        a = rng.standard_normal((2, 3))
        b = rng.standard_normal((2, 3))
        twins = [ad.tensor(v, requires_grad=True) for v in (a, b, a, b)]
        got = compiled(twins[0], twins[1], ad.tensor(index))
        expected = step(twins[2], twins[3], ad.tensor(index))
        for g, e in zip(got, expected, strict=True):
            np.testing.assert_array_equal(g.numpy(), e.numpy())
    assert compiled.cache_info().replays == 2


def test_index_add_refuses_backward_after_its_index_changed_as_torch():
    torch = pytest.importorskip("torch")
    for lib in (ad, torch):
        source = lib.tensor([1.0, 2.0], requires_grad=True)
        index = lib.tensor([0, 2])
        y = lib.zeros(3).index_add(0, index, source * 1)
        index[0] = 1
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            (y * lib.tensor([1.0, 2.0, 3.0])).sum().backward()
