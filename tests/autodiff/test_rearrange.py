"""torch's rearranging, selecting and sorting functions (autodiff/ops/rearrange.py): each
gradient against finite differences to second order (Hypothesis, float64), each name's
values and dtypes against torch where it is installed, and hard-coded cases for the
semantics that differ from numpy's (repeat tiles; split takes a chunk size; chunk may
give fewer pieces; sort gives values and int64 indices; topk's order)."""
import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given, settings

import autodiff as ad
import autodiff.ops.rearrange as ra

few = settings(max_examples=10, deadline=None)


def draw_dim(data, x):
    return data.draw(st.integers(-x.ndim, x.ndim - 1))


def same(ours, expected):
    """ours (a tensor) holds expected's numbers (an ndarray) in expected's shape."""
    assert ours.shape == expected.shape
    np.testing.assert_array_equal(ours.numpy(), expected)


# ---------------------------------------------------------------- splitting


@few
@given(data=st.data())
def test_split_chunk_tensor_split_unbind(data, strategies, check_grads):
    x = data.draw(strategies.floats(strategies.shapes(min_dims=1)))
    dim = draw_dim(data, x)
    n = x.shape[dim]
    size = data.draw(st.integers(1, n + 1))
    cuts = data.draw(st.lists(st.integers(-n, n), max_size=3))
    sections = data.draw(st.integers(1, 4))
    sizes = data.draw(st.sampled_from([[n], [1, n - 1], [n - 1, 0, 1]]))
    calls = [lambda t: ra.split(t, size, dim), lambda t: t.split(sizes, dim),
             lambda t: ra.chunk(t, sections, dim), lambda t: t.tensor_split(cuts, dim),
             lambda t: ra.tensor_split(t, sections, dim), lambda t: t.unbind(dim)]
    expected = [np.split(x, range(size, n, size), dim), np.split(x, np.cumsum(sizes)[:-1], dim),
                np.array_split(x, range(-(-n // sections), n, -(-n // sections)), dim),
                [x[(slice(None),) * (dim % x.ndim) + (slice(a, b),)]
                 for a, b in zip([None] + cuts, cuts + [None])],
                np.array_split(x, sections, dim), [np.take(x, i, dim) for i in range(n)]]
    for call, pieces in zip(calls, expected):
        ours = call(ad.tensor(x))
        assert len(ours) == len(pieces)
        for piece, want in zip(ours, pieces):
            same(piece, want)
        check_grads(call, x)


def test_split_with_an_int_takes_a_chunk_size_not_a_count():
    pieces = ra.split(ad.arange(5), 2)
    assert [p.tolist() for p in pieces] == [[0, 1], [2, 3], [4]]     # numpy: 2 pieces


def test_chunk_may_return_fewer_pieces_than_asked():
    pieces = ad.zeros(5, 3).chunk(4)
    assert [p.shape for p in pieces] == [(2, 3), (2, 3), (1, 3)]
    assert len(ad.zeros(0).chunk(3)) == 3                   # an empty dim: all empty, as torch


def test_tensor_split_gives_the_first_pieces_one_more():
    assert [p.tolist() for p in ad.arange(7).tensor_split(3)] == [[0, 1, 2], [3, 4], [5, 6]]


def test_split_refuses_sizes_that_do_not_add_up():
    with pytest.raises(ad.ShapeError, match="split: sizes .* add up to 5"):
        ad.zeros(5).split([2, 2])
    with pytest.raises(ad.DimError, match="unbind: dim 2 is out of range"):
        ad.zeros(2, 3).unbind(2)


# ---------------------------------------------------------------- reordering


@few
@given(data=st.data())
def test_flip_roll_movedim_unflatten_rot90(data, strategies, check_grads):
    x = data.draw(strategies.floats(strategies.shapes(min_dims=2)))
    dims = data.draw(st.lists(st.integers(0, x.ndim - 1), unique=True, min_size=1))
    shifts = data.draw(st.lists(st.integers(-5, 5), min_size=len(dims), max_size=len(dims)))
    a, b = data.draw(st.permutations(range(x.ndim)))[:2]
    k = data.draw(st.integers(-5, 5))
    cases = [(lambda t: t.flip(*dims), lambda t: ra.flip(t, dims), np.flip(x, dims)),
             (lambda t: t.roll(shifts, dims), lambda t: ra.roll(t, shifts, dims),
              np.roll(x, shifts, dims)),
             (lambda t: t.roll(shifts[0]), lambda t: ra.roll(t, shifts[0]),
              np.roll(x, shifts[0])),
             (lambda t: t.movedim(a, b), lambda t: ra.movedim(t, a, b), np.moveaxis(x, a, b)),
             (lambda t: t.unflatten(a, (1, -1)), lambda t: ra.unflatten(t, a, (1, x.shape[a])),
              np.expand_dims(x, a)),
             (lambda t: t.rot90(k, (a, b)), lambda t: ra.rot90(t, k, (a, b)),
              np.rot90(x, k, (a, b)))]
    for method, function, expected in cases:
        same(method(ad.tensor(x)), expected)
        same(function(ad.tensor(x)), expected)
        check_grads(method, x)


def test_flip_copies_and_roll_wraps():
    x = ad.tensor([1.0, 2.0, 3.0])
    y = x.flip(0)
    y[0] = 9.0
    assert x.tolist() == [1.0, 2.0, 3.0]                    # a copy, as torch's
    assert ra.roll(x, 1).tolist() == [3.0, 1.0, 2.0]


# ---------------------------------------------------------------- repeating


@few
@given(data=st.data())
def test_repeat_tile_repeat_interleave(data, strategies, check_grads):
    x = data.draw(strategies.floats(strategies.shapes(max_dims=2, max_side=3)))
    sizes = tuple(data.draw(st.lists(st.integers(1, 3), min_size=x.ndim, max_size=x.ndim + 1)))
    dims = tuple(data.draw(st.lists(st.integers(1, 3), max_size=3)))
    r = data.draw(st.integers(0, 3))
    same(ra.repeat(ad.tensor(x), sizes), np.tile(x, sizes))
    same(ad.tensor(x).tile(*dims), np.tile(x, dims))
    same(ra.repeat_interleave(ad.tensor(x), r), np.repeat(x, r))
    check_grads(lambda t: t.repeat(*sizes), x)
    check_grads(lambda t: ra.tile(t, dims), x)
    check_grads(lambda t: t.repeat_interleave(r), x)
    if x.ndim:
        dim = draw_dim(data, x)
        counts = np.array(data.draw(st.lists(st.integers(0, 2), min_size=x.shape[dim],
                                             max_size=x.shape[dim])), dtype=np.int64)
        same(ad.tensor(x).repeat_interleave(ad.tensor(counts), dim), np.repeat(x, counts, dim))
        check_grads(lambda t: ra.repeat_interleave(t, counts, dim), x)


def test_repeat_tiles_but_repeat_interleave_repeats_elements():
    x = ad.tensor([1, 2, 3])
    assert x.repeat(2).tolist() == [1, 2, 3, 1, 2, 3]
    assert x.repeat_interleave(2).tolist() == [1, 1, 2, 2, 3, 3]
    assert x.repeat(2, 1).shape == (2, 3)                   # extra sizes add leading dims
    with pytest.raises(ad.ShapeError, match="repeat: needs at least 2 sizes"):
        ad.zeros(2, 2).repeat(3)


def test_repeat_gradient_sums_the_copies():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    (x.repeat(3) * ad.arange(6.0)).sum().backward()
    assert x.grad.tolist() == [0 + 2 + 4, 1 + 3 + 5]


# ---------------------------------------------------------------- triangles and diagonals


@few
@given(data=st.data())
def test_tril_triu_diagonal_diag_trace(data, strategies, check_grads):
    x = data.draw(strategies.floats(strategies.shapes(min_dims=2)))
    k = data.draw(st.integers(-4, 4))
    d1, d2 = data.draw(st.permutations(range(x.ndim)))[:2]
    same(ad.tensor(x).tril(k), np.tril(x, k))
    same(ra.triu(ad.tensor(x), k), np.triu(x, k))
    same(ad.tensor(x).diagonal(k, d1, d2), np.diagonal(x, k, d1, d2))
    check_grads(lambda t: t.tril(k), x)
    check_grads(lambda t: ra.triu(t, k), x)
    check_grads(lambda t: ra.diagonal(t, k, d1, d2), x)
    m, v = x.reshape(x.shape[0], -1), x.reshape(-1)
    same(ra.diag(ad.tensor(m), k), np.diag(m, k))
    same(ad.tensor(v).diag(k), np.diag(v, k))
    same(ad.tensor(m).trace(), np.asarray(np.trace(m)))
    check_grads(lambda t: t.diag(k), m)
    check_grads(lambda t: ra.diag(t, k), v)
    check_grads(lambda t: ra.trace(t), m)


# ---------------------------------------------------------------- selecting


@few
@given(data=st.data())
def test_where_masked_fill_masked_select(data, strategies, check_grads):
    x = data.draw(strategies.floats(strategies.shapes()))
    mask = data.draw(hnp.arrays(np.bool_, x.shape[data.draw(st.integers(0, x.ndim)):]))
    other = data.draw(strategies.floats(x.shape[1:] if x.ndim else ()))
    value = ad.tensor(np.float64(0.5), requires_grad=True)
    same(ad.tensor(x).where(ad.tensor(mask), ad.tensor(other)), np.where(mask, x, other))
    same(ra.masked_fill(ad.tensor(x), mask, 0.5), np.where(mask, 0.5, x))
    same(ad.tensor(x).masked_select(ad.tensor(mask)), np.broadcast_to(x, np.broadcast_shapes(
        x.shape, mask.shape))[np.broadcast_to(mask, x.shape)])
    check_grads(lambda t, o: t.where(ad.tensor(mask), o), x, other)
    check_grads(lambda t: t.masked_fill(ad.tensor(mask), 0.5), x)
    check_grads(lambda t, v: t.masked_fill(ad.tensor(mask), v), x, value.numpy())
    check_grads(lambda t: ra.masked_select(t, mask), x)


def test_masked_fill_is_out_of_place_and_keeps_the_dtype():
    x = ad.tensor([1, 2, 3])
    y = x.masked_fill(x > 1, 7.9)
    assert y.tolist() == [1, 7, 7] and y.dtype == np.int64 and x.tolist() == [1, 2, 3]
    with pytest.raises(ad.DtypeError, match="masked_fill: the mask must be a bool tensor"):
        x.masked_fill(x, 0)


@few
@given(data=st.data())
def test_index_select_gather_take_along_dim(data, strategies, check_grads):
    x = data.draw(strategies.floats(strategies.shapes(min_dims=1)))
    dim = draw_dim(data, x)
    n = x.shape[dim]
    picks = data.draw(hnp.arrays(np.int64, data.draw(st.integers(0, 5)),
                                 elements=st.integers(0, n - 1)))
    shape = tuple(data.draw(st.integers(1, m)) for m in x.shape)
    shape = shape[:dim % x.ndim] + (data.draw(st.integers(1, 4)),) + shape[dim % x.ndim + 1:]
    index = data.draw(hnp.arrays(np.int64, shape, elements=st.integers(0, n - 1)))
    same(ad.tensor(x).index_select(dim, ad.tensor(picks)), np.take(x, picks, dim))
    check_grads(lambda t: ra.index_select(t, dim, picks), x)
    if index.shape[:dim % x.ndim] + index.shape[dim % x.ndim + 1:] == \
            x.shape[:dim % x.ndim] + x.shape[dim % x.ndim + 1:]:
        same(ra.gather(ad.tensor(x), dim, index), np.take_along_axis(x, index, dim))
    check_grads(lambda t: t.gather(dim, ad.tensor(index)), x)
    narrow = data.draw(hnp.arrays(np.int64, tuple(          # broadcast in the other dims
        1 if a == dim % x.ndim or data.draw(st.booleans()) else m for a, m in enumerate(x.shape)),
        elements=st.integers(0, n - 1)))
    same(ad.tensor(x).take_along_dim(ad.tensor(narrow), dim),
         np.take_along_axis(x, np.broadcast_to(narrow, x.shape[:dim % x.ndim] + (1,)
                                               + x.shape[dim % x.ndim + 1:]), dim))
    check_grads(lambda t: ra.take_along_dim(t, narrow, dim), x)
    check_grads(lambda t: t.take_along_dim(ad.tensor(picks)), x)


def test_gather_gradient_adds_up_repeated_picks():
    x = ad.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = x.gather(1, ad.tensor([[0, 0, 1], [1, 1, 1]]))
    assert y.tolist() == [[1.0, 1.0, 2.0], [4.0, 4.0, 4.0]]
    y.sum().backward()
    assert x.grad.tolist() == [[2.0, 1.0], [0.0, 3.0]]
    with pytest.raises(ad.DimError, match=r"gather: index values must lie in \[0, 2\)"):
        x.gather(1, ad.tensor([[-1], [0]]))


@few
@given(data=st.data())
def test_scatter_and_scatter_add(data, strategies, check_grads):
    x = data.draw(strategies.floats(strategies.shapes(min_dims=1)))
    dim = draw_dim(data, x)
    axis = dim % x.ndim
    shape = tuple(data.draw(st.integers(1, m)) for m in x.shape)
    shape = shape[:axis] + (data.draw(st.integers(1, 4)),) + shape[axis + 1:]
    index = data.draw(hnp.arrays(np.int64, shape, elements=st.integers(0, x.shape[dim] - 1)))
    src = data.draw(strategies.floats(tuple(n + data.draw(st.integers(0, 1)) for n in shape)))
    added = x.copy()
    written = x.copy()
    for position in np.ndindex(*shape):
        target = position[:axis] + (index[position],) + position[axis + 1:]
        added[target] += src[position]
        written[target] = src[position]                  # the last write wins
    np.testing.assert_allclose(ad.tensor(x).scatter_add(dim, ad.tensor(index), ad.tensor(src))
                               .numpy(), added)
    same(ra.scatter(ad.tensor(x), dim, index, ad.tensor(src)), written)
    check_grads(lambda t, s: ra.scatter_add(t, dim, index, s), x, src)
    check_grads(lambda t, s: t.scatter(dim, ad.tensor(index), s), x, src)
    check_grads(lambda t: t.scatter(dim, ad.tensor(index), 2.0), x)


# ---------------------------------------------------------------- running totals


@few
@given(data=st.data())
def test_cumsum_and_cumprod(data, strategies, check_grads):
    x = data.draw(strategies.floats(strategies.shapes(min_dims=1)))
    dim = draw_dim(data, x)
    same(ad.tensor(x).cumsum(dim), np.cumsum(x, dim))
    np.testing.assert_allclose(ra.cumprod(ad.tensor(x), dim).numpy(), np.cumprod(x, dim))
    check_grads(lambda t: t.cumsum(dim), x)
    check_grads(lambda t: ra.cumprod(t, dim), x)


def test_cumprod_gradient_is_exact_at_a_zero():
    x = ad.tensor([2.0, 0.0, 3.0], requires_grad=True)
    x.cumprod(0).sum().backward()          # y = (2, 0, 0): dy/dx₁ = 2 + 2·3
    assert x.grad.tolist() == [1.0, 8.0, 0.0]


def test_cumsum_of_integers_and_bools_is_int64():
    assert ad.tensor(np.array([1, 2], np.int32)).cumsum(0).dtype == np.int64
    assert ad.tensor([True, True]).cumsum(0).tolist() == [1, 2]


@few
@given(data=st.data())
def test_cummax_cummin_logcumsumexp(data, strategies, check_grads):
    x = data.draw(strategies.distinct(strategies.shapes(min_dims=1)))
    dim = draw_dim(data, x)
    same(ad.tensor(x).cummax(dim).values, np.maximum.accumulate(x, dim))
    same(ad.tensor(x).cummin(dim).values, np.minimum.accumulate(x, dim))
    np.testing.assert_allclose(ad.tensor(x).logcumsumexp(dim).numpy(),
                               np.log(np.cumsum(np.exp(x), dim)), rtol=1e-12)
    check_grads(lambda t: t.cummax(dim).values, x)
    check_grads(lambda t: ra.cummin(t, dim).values, x)
    check_grads(lambda t: t.logcumsumexp(dim), x)


def test_cummax_names_the_latest_tie_and_keeps_a_nan():
    values, indices = ad.tensor([1.0, 3.0, 3.0, 2.0, np.nan, 5.0, np.nan]).cummax(0)
    assert indices.tolist() == [0, 1, 2, 2, 4, 4, 6]
    np.testing.assert_array_equal(values.numpy(), [1, 3, 3, 3, np.nan, np.nan, np.nan])
    assert ad.tensor([[3, 1, 1, 0]]).cummin(1).indices.tolist() == [[0, 1, 2, 3]]


def test_logcumsumexp_does_not_overflow():
    y = ad.tensor([-1000.0, 0.0, 1000.0, 1000.0], dtype=ad.float64).logcumsumexp(0)
    np.testing.assert_allclose(y.numpy(), [-1000.0, 0.0, 1000.0, 1000.0 + np.log(2)],
                               rtol=1e-15)


@few
@given(data=st.data())
def test_scatter_reduce(data, strategies, check_grads):
    x = data.draw(strategies.distinct(strategies.shapes(min_dims=1, min_side=2)))
    dim = draw_dim(data, x)
    shape = list(x.shape)
    shape[dim] = data.draw(st.integers(1, 4))
    index = data.draw(hnp.arrays(np.int64, tuple(shape), elements=st.integers(0, x.shape[dim] - 1)))
    # x and src drawn as one distinct array: amax/amin have no tie between them either
    both = data.draw(strategies.distinct(st.just((x.size + int(np.prod(shape)),))))
    x, src = both[:x.size].reshape(x.shape), both[x.size:].reshape(shape)
    reduce = data.draw(st.sampled_from(ra.REDUCTIONS))
    include_self = data.draw(st.booleans())
    check_grads(lambda t, s: t.scatter_reduce(dim, ad.tensor(index), s, reduce,
                                              include_self=include_self), x, src)


def test_scatter_reduce_by_hand():
    x = ad.tensor([1.0, 4.0, 2.0, 9.0], dtype=ad.float64)
    index = ad.tensor([1, 1, 2, 0])
    src = ad.tensor([4.0, 6.0, 0.5, 3.0], dtype=ad.float64)
    assert x.scatter_reduce(0, index, src, "sum").tolist() == [4.0, 14.0, 2.5, 9.0]
    assert x.scatter_reduce(0, index, src, "mean").tolist() == [2.0, 14 / 3, 1.25, 9.0]
    assert x.scatter_reduce(0, index, src, "mean", include_self=False).tolist() == \
        [3.0, 5.0, 0.5, 9.0]
    assert x.scatter_reduce(0, index, src, "prod").tolist() == [3.0, 96.0, 1.0, 9.0]
    assert x.scatter_reduce(0, index, src, "amax").tolist() == [3.0, 6.0, 2.0, 9.0]
    assert x.scatter_reduce(0, index, src, "amin", include_self=False).tolist() == \
        [3.0, 4.0, 0.5, 9.0]
    with pytest.raises(ValueError, match="reduce must be one of sum, prod, mean, amax, amin, "
                                         "got 'max'"):
        x.scatter_reduce(0, index, src, "max")


def test_scatter_reduce_amax_shares_the_gradient_among_ties():
    x = ad.tensor([1.0, 4.0, 2.0], requires_grad=True)
    src = ad.tensor([4.0, 4.0, 0.0], requires_grad=True)
    x.scatter_reduce(0, ad.tensor([1, 1, 2]), src, "amax").sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1, 1 / 3, 1])
    np.testing.assert_allclose(src.grad.numpy(), [1 / 3, 1 / 3, 0])


# ---------------------------------------------------------------- sorting


@few
@given(data=st.data())
def test_sort_argsort_topk(data, strategies, check_grads):
    x = data.draw(strategies.distinct(strategies.shapes(min_dims=1)))
    dim = draw_dim(data, x)
    descending = data.draw(st.booleans())
    k = data.draw(st.integers(0, x.shape[dim]))
    order = np.argsort(-x if descending else x, axis=dim)
    values, indices = ad.tensor(x).sort(dim, descending)
    same(values, np.take_along_axis(x, order, dim))
    same(indices, order)
    same(ra.argsort(ad.tensor(x), dim, descending), order)
    top = ra.topk(ad.tensor(x), k, dim, largest=descending)
    same(top.values, np.take_along_axis(x, order, dim)[(slice(None),) * (dim % x.ndim)
                                                         + (slice(0, k),)])
    check_grads(lambda t: ra.sort(t, dim, descending).values, x)
    check_grads(lambda t: t.topk(k, dim, largest=descending).values, x)


def test_sort_returns_values_and_int64_indices():
    result = ad.tensor([3.0, 1.0, 2.0]).sort()
    values, indices = result
    assert result.values is values and result.indices is indices
    assert values.tolist() == [1.0, 2.0, 3.0]
    assert indices.tolist() == [1, 2, 0] and indices.dtype == np.int64
    assert ad.tensor([1.0, 3.0, 3.0, 2.0]).sort(descending=True).indices.tolist() == [1, 2, 3, 0]


def test_topk_gives_the_largest_first():
    values, indices = ad.tensor([1.0, 5.0, 3.0, 4.0]).topk(2)
    assert values.tolist() == [5.0, 4.0] and indices.tolist() == [1, 3]
    assert ad.tensor([1.0, 5.0, 3.0]).topk(2, largest=False).values.tolist() == [1.0, 3.0]
    with pytest.raises(ad.DimError, match="topk: k=4 is out of range"):
        ad.zeros(3).topk(4)


# ---------------------------------------------------------------- combining


@few
@given(data=st.data())
def test_kthvalue(data, strategies, check_grads):
    x = data.draw(strategies.distinct(strategies.shapes(min_dims=1)))
    dim = draw_dim(data, x)
    k = data.draw(st.integers(1, x.shape[dim]))
    keepdim = data.draw(st.booleans())
    values, indices = ad.tensor(x).kthvalue(k, dim, keepdim)
    expected = np.take(np.sort(x, dim), [k - 1] if keepdim else k - 1, axis=dim)
    same(values, expected)
    same(ad.tensor(x).gather(dim, indices if keepdim else indices.unsqueeze(dim)),
         expected if keepdim else np.expand_dims(expected, dim))
    check_grads(lambda t: ra.kthvalue(t, k, dim, keepdim).values, x)


def test_kthvalue_counts_from_one():
    assert ad.tensor([3.0, 1.0, 2.0]).kthvalue(1).values.item() == 1.0
    with pytest.raises(IndexError, match=r"kthvalue: k=0 is out of range.*counts from 1"):
        ad.tensor([3.0, 1.0, 2.0]).kthvalue(0)


@few
@given(data=st.data())
def test_meshgrid_outer_cross(data, strategies, check_grads):
    vectors = data.draw(st.lists(strategies.floats(st.integers(1, 3).map(lambda n: (n,))),
                                 min_size=1, max_size=3))
    indexing = data.draw(st.sampled_from(["ij", "xy"]))
    for ours, expected in zip(ra.meshgrid(*map(ad.tensor, vectors), indexing=indexing),
                              np.meshgrid(*vectors, indexing=indexing)):
        same(ours, expected)
    check_grads(lambda *ts: ra.meshgrid(ts, indexing=indexing), *vectors)
    a, b = vectors[0], vectors[-1]
    same(ad.tensor(a).outer(ad.tensor(b)), np.outer(a, b))
    check_grads(lambda s, t: ra.outer(s, t), a, b)
    shape = data.draw(strategies.shapes(min_dims=1, max_dims=2, max_side=3))
    dim = data.draw(st.integers(0, len(shape)))
    shape = shape[:dim] + (3,) + shape[dim:]
    u, v = data.draw(strategies.floats(shape)), data.draw(strategies.floats(shape[1:]))
    np.testing.assert_allclose(ad.tensor(u).cross(ad.tensor(v), dim - len(shape)).numpy(),
                               np.cross(u, np.broadcast_to(v, shape), axis=dim))
    check_grads(lambda s, t: ra.cross(s, t, dim), u, v)


EQUATIONS = [("ij,jk->ik", [(2, 3), (3, 4)]), ("bij,bkj", [(2, 2, 3), (2, 4, 3)]),
             ("ii->i", [(3, 3)]), ("ii", [(3, 3)]), ("ij->", [(2, 3)]), ("ij->ji", [(2, 3)]),
             ("i,i,j->ij", [(3,), (3,), (2,)]), ("iij,j->ij", [(2, 2, 3), (3,)]),
             ("...ij,...jk", [(2, 2, 3), (3, 1)]), ("b...,...->b", [(2, 3, 4), (3, 4)])]


@pytest.mark.parametrize("equation, shapes", EQUATIONS)
def test_einsum(equation, shapes, check_grads):
    rng = np.random.default_rng(0)
    xs = [rng.normal(size=s) for s in shapes]
    # torch sums the "..." dims an output leaves out; numpy refuses that spelling
    expected = np.einsum({"b...,...->b": "bij,ij->b"}.get(equation, equation), *xs)
    np.testing.assert_allclose(ra.einsum(equation, *map(ad.tensor, xs)).numpy(), expected)
    np.testing.assert_allclose(ra.einsum(equation, list(map(ad.tensor, xs))).numpy(), expected)
    check_grads(lambda *ts: ra.einsum(equation, *ts), *xs)


@pytest.mark.parametrize("dims", [0, 1, 2, ([0, 2], [1, 0])])
def test_tensordot(dims, check_grads):
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(2, 3, 4)), rng.normal(size=(4, 2, 3) if dims != 2 else (3, 4))
    if dims == 1:
        b = rng.normal(size=(4, 2))
    np.testing.assert_allclose(ra.tensordot(ad.tensor(a), ad.tensor(b), dims).numpy(),
                               np.tensordot(a, b, dims))
    check_grads(lambda s, t: ra.tensordot(s, t, dims), a, b)


# ---------------------------------------------------------------- against torch


def _cases():
    """(name, f(ns, T, x)): ns is the module of functions (ra or torch), T makes a tensor."""
    rng = np.random.default_rng(2)
    gi, si = rng.integers(0, 3, (2, 2, 4)), np.array([[[0, 1, 2, 0]], [[2, 2, 1, 0]]])
    mask = np.arange(24).reshape(2, 3, 4) % 3 == 0
    distinct = rng.permutation(24).reshape(2, 3, 4) / 4.0
    small = np.arange(24).reshape(2, 3, 4) % 3
    return [
        ("split", lambda ns, T, x: x.split(2, 2) + ns.split(x, [1, 2], 1)),
        ("chunk", lambda ns, T, x: x.chunk(3, 2) + ns.chunk(x, 4, 1)),
        ("tensor_split", lambda ns, T, x: x.tensor_split([-2, 3], 2) + ns.tensor_split(x, 3, 1)),
        ("unbind", lambda ns, T, x: ns.unbind(x, 1)),
        ("flip", lambda ns, T, x: (x.flip(0, 2), ns.flip(x, [1]))),
        ("roll", lambda ns, T, x: (x.roll(1), ns.roll(x, (1, -5), (0, 2)))),
        ("repeat", lambda ns, T, x: (x.repeat(2, 1, 1, 2),)),
        ("tile", lambda ns, T, x: (x.tile(2), ns.tile(x, (2, 1)))),
        ("repeat_interleave", lambda ns, T, x: (x.repeat_interleave(2, 1), x.repeat_interleave(2),
                                                ns.repeat_interleave(x, T([1, 0, 2]), 1),
                                                ns.repeat_interleave(T([1, 2]), 2))),
        ("tril", lambda ns, T, x: (x.tril(1), ns.tril(x, -2))),
        ("triu", lambda ns, T, x: (x.triu(-1), ns.triu(x, 2))),
        ("diag", lambda ns, T, x: (x[0].diag(1), ns.diag(x[0, 0], -2))),
        ("diagonal", lambda ns, T, x: (x.diagonal(1, 2, 1), ns.diagonal(x, -1))),
        ("trace", lambda ns, T, x: (x[0].trace(),)),
        ("movedim", lambda ns, T, x: (x.movedim((0, 1), (2, 0)), ns.movedim(x, -1, 0))),
        ("unflatten", lambda ns, T, x: (x.unflatten(2, (2, -1)),)),
        ("outer", lambda ns, T, x: (x[0, 0].outer(x[0, 1]), ns.outer(x[1, 1], x[0, 0]))),
        ("where", lambda ns, T, x: (x.where(T(mask), 0.5), x.where(T(mask), x * 2))),
        ("masked_fill", lambda ns, T, x: (x.masked_fill(T(mask), 2.5),
                                          x.long().masked_fill(T(mask[0]), 2.5))),
        ("index_select", lambda ns, T, x: (x.index_select(2, T([2, 0, 0])),)),
        ("gather", lambda ns, T, x: (x.gather(1, T(gi)),)),
        ("take_along_dim", lambda ns, T, x: (x.take_along_dim(T(gi[:, :, :1]), 1),
                                             ns.take_along_dim(x, T([5, 0, 5])))),
        ("scatter", lambda ns, T, x: (x.scatter(1, T(si), x * 10),
                                      x.scatter(0, T(si[:1] % 2), 7.0))),
        ("scatter_add", lambda ns, T, x: (x.scatter_add(1, T(si), -x),)),
        ("masked_select", lambda ns, T, x: (x.masked_select(T(mask[0])),)),
        ("cumsum", lambda ns, T, x: (x.cumsum(1), x.long().cumsum(-1), T(mask).cumsum(0))),
        ("cumprod", lambda ns, T, x: (x.cumprod(2), T(small).cumprod(0))),
        ("cummax", lambda ns, T, x: tuple(x.cummax(1)) + tuple(ns.cummax(T(small), 2))),
        ("cummin", lambda ns, T, x: tuple(x.cummin(2)) + tuple(ns.cummin(T(small), 0))),
        ("logcumsumexp", lambda ns, T, x: (x.logcumsumexp(2), ns.logcumsumexp(x * 100, 0))),
        ("kthvalue", lambda ns, T, x: tuple(x.kthvalue(2)) + tuple(ns.kthvalue(x, 3, 1, True))),
        ("scatter_reduce", lambda ns, T, x: tuple(
            x.scatter_reduce(1, T(si), x[:, :1] * 3, reduce, include_self=include_self)
            for reduce in ("sum", "prod", "mean", "amax", "amin")
            for include_self in (True, False))),
        ("sort", lambda ns, T, x: tuple(T(distinct).sort(1)) + tuple(x.sort(descending=True))),
        ("argsort", lambda ns, T, x: (T(distinct).argsort(0), ns.argsort(x, descending=True))),
        ("topk", lambda ns, T, x: tuple(x.topk(2)) + tuple(T(distinct).topk(1, 1, False))),
        ("meshgrid", lambda ns, T, x: ns.meshgrid(x[0, 0], x[0, :, 0], indexing="ij")
         + ns.meshgrid([x[0, 0], x[0, :, 0], x[1, 1]], indexing="xy")),
        ("rot90", lambda ns, T, x: (x.rot90(1, (1, 2)), x.rot90(-1, (2, 0)), ns.rot90(x, 2))),
        ("cross", lambda ns, T, x: (x[0].T.cross(x[1].T ** 2, dim=1),
                                    ns.cross(x[0, :, :3], x[1, :, 1:], dim=0))),
        ("einsum", lambda ns, T, x: (ns.einsum("bij,bkj->bik", x, x), ns.einsum("ii", x[0, :, :3]),
                                     ns.einsum("b...,...->b", x, x[0]))),
        ("tensordot", lambda ns, T, x: (ns.tensordot(x, x.permute(2, 0, 1), 1),
                                        ns.tensordot(x, x, ([1, 2], [1, 2])))),
    ]


@pytest.mark.parametrize("name, case", _cases(), ids=[name for name, _ in _cases()])
def test_values_and_dtypes_match_torch(name, case):
    torch = pytest.importorskip("torch")
    x = np.arange(24.0).reshape(2, 3, 4) * 0.25 - 1
    ours = case(ra, ad.tensor, ad.tensor(x))
    theirs = case(torch, torch.tensor, torch.tensor(x))
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert a.shape == tuple(b.shape)
        assert str(a.dtype) == str(b.dtype).removeprefix("torch.")
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-12)


def test_gradients_match_torch_for_sort_scatter_cummax_and_einsum():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(3).permutation(12).reshape(3, 4) / 4.0
    index = np.array([[0, 1, 0, 2]])

    def run(ns, T):
        t = T(x, requires_grad=True)
        y = (t.sort(1).values * T(np.arange(12.0).reshape(3, 4))).sum() \
            + t.scatter(0, T(index), t[:1] * 3).cumsum(1).sum() \
            + (t.cummax(1).values * t.logcumsumexp(0)).sum() + t.kthvalue(2, 0).values.sum() \
            + t.scatter_reduce(0, T(index), t[1:2] ** 2, "prod").sum() \
            + t.scatter_reduce(1, T(index % 2), t[2:] * 2, "amax", include_self=False).sum() \
            + ns.einsum("ij,kj->ik", t, t).tril().sum() + t.roll(1, 0).cumprod(1).sum()
        y.backward()
        return t.grad.numpy()
    np.testing.assert_allclose(run(ra, ad.tensor), run(torch, torch.tensor), rtol=1e-12)


def test_compiled_steps_replay_indices_found_from_the_data():
    w = ad.tensor([3.0, 1.0, 2.0, 0.0], requires_grad=True)

    def step(x):
        values, order = (w * x).sort()
        loss = (values * ad.arange(4.0)).sum() + w.masked_select(x > 1).sum() \
            + w.scatter(0, order[:2], w[:2] * 3).cumsum(0).sum() + ra.einsum("i,i->", w, x)
        loss.backward()
        return loss.detach()
    compiled = ad.compile(step)
    for data in ([3.0, 1.0, 2.0, 0.0], [0.0, 1.0, 2.0, 3.0], [2.0, -1.0, 1.0, 4.0]):
        w.grad = None
        got, got_grad = compiled(ad.tensor(data)).item(), w.grad.tolist()
        w.grad = None
        assert (got, got_grad) == (step(ad.tensor(data)).item(), w.grad.tolist())


def test_float32_cumsum_adds_up_in_float64_as_torch():
    x = ad.tensor(np.full(100000, 0.1, dtype=np.float32), requires_grad=True)
    y = x.cumsum(0)
    assert y.dtype == ad.float32 and y[-1].item() == 10000.0     # numpy's float32: 9998.56
    y.sum().backward()
    assert x.grad[0].item() == 100000.0 and x.grad.dtype == ad.float32
    torch = pytest.importorskip("torch")
    assert torch.tensor(np.full(100000, 0.1, dtype=np.float32)).cumsum(0)[-1].item() == 10000.0
