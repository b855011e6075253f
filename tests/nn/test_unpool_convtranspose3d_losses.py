"""torch.nn names added here: F.max_unpool1d/2d/3d and MaxUnpool1d/2d/3d (one op of their
own, MaxUnpool: a write at the indices, whose gradient is a gather there); F.conv_transpose3d
and ConvTranspose3d (conv_transpose2d over the depth planes, then a fold along the depth);
F.adaptive_max_pool3d and AdaptiveMaxPool3d (argmax and a gather); the losses
F.multilabel_margin_loss / MultiLabelMarginLoss and F.triplet_margin_with_distance_loss /
TripletMarginWithDistanceLoss (compositions).

As tests/nn/test_functional_more.py: each case runs in both libraries on the same inputs
(values, output dtype and the gradient of a weighted sum of the output w.r.t. every float
input, in float64 and float32); the indices against torch's; gradcheck and gradgradcheck
on small float64 inputs (Hypothesis over shapes and windows for the MaxUnpool op); errors
(ours of torch's builtin class where torch refuses too, naming the function); the layers
against torch's, their files and ad.compile.
"""
from __future__ import annotations

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given, settings

import autodiff as ad
import nn
import nn.functional as F

from .test_conv_resample import assert_compiled_steps_give_eager_numbers
from .test_functional_names import DTYPES, REDUCTIONS, T, ad_or, compare, draw
from .test_functional_names import (  # the same check, on these cases
    test_errors_name_the_function_and_are_torchs_class as check_error_against_torch,
)


def ties(seed: int, *shape: int) -> np.ndarray:
    """Values of few distinct levels, so that pooling windows tie (torch's first-maximum
    rule decides which index wins) and overlapping windows pick the same input."""
    return np.random.default_rng(seed).integers(0, 3, shape).astype(np.float64)


# ---------------------------------------------------------------- max_unpool

# (dims, pooled input's shape, the pool's kwargs, output_size or None); overlapping windows
# (stride < kernel) pick one input from several windows, so their indices repeat
UNPOOLS = [
    (1, (2, 3, 9), {"kernel_size": 2}, None),
    (1, (3, 10), {"kernel_size": 3, "stride": 1, "padding": 1}, None),          # overlapping
    (1, (2, 2, 11), {"kernel_size": 3, "stride": 2}, (11,)),
    (2, (2, 3, 6, 8), {"kernel_size": 2}, None),
    (2, (2, 2, 7, 8), {"kernel_size": 3, "stride": 2, "padding": 1}, (7, 8)),   # overlapping
    (2, (3, 5, 7), {"kernel_size": (2, 3), "stride": (1, 2)}, (1, 3, 5, 7)),    # unbatched
    (3, (2, 2, 4, 6, 5), {"kernel_size": 2}, (4, 6, 5)),
    (3, (2, 5, 6, 7), {"kernel_size": (2, 3, 2), "stride": (1, 2, 2), "padding": (1, 1, 0)},
     (5, 6, 7)),                                                                  # unbatched
]


def max_pool(dims: int, x: ad.Tensor, **pool) -> tuple[ad.Tensor, ad.Tensor]:
    """Our max_pool{dims}d(return_indices=True) of a batched or unbatched input
    (max_pool2d takes only a batch: it gets one of one)."""
    unbatched = dims == 2 and x.ndim == 3
    values, indices = getattr(F, f"max_pool{dims}d")(x.unsqueeze(0) if unbatched else x,
                                                     return_indices=True, **pool)
    return (values[0], indices[0]) if unbatched else (values, indices)


def pooled(dims: int, shape: tuple[int, ...], pool: dict, seed: int
           ) -> tuple[np.ndarray, np.ndarray]:
    """The indices of our MaxPool…(return_indices=True) on an input of ties, and values
    read at them from a random input (so where indices repeat, so do the values, as a
    pool's do: torch keeps any one of several writes to a position)."""
    _, indices = max_pool(dims, ad.tensor(ties(seed, *shape)), **pool)
    lead = shape[:len(shape) - dims]
    field = draw(seed + 1, *shape).reshape(*lead, -1)
    values = np.take_along_axis(field, indices.numpy().reshape(*lead, -1), axis=-1)
    return values.reshape(indices.shape), indices.numpy()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", UNPOOLS, ids=[f"{c[0]}d-{i}" for i, c in enumerate(UNPOOLS)])
def test_max_unpool_matches_torch(torch_oracle, case, dtype):
    dims, shape, pool, output_size = case
    values, indices = pooled(dims, shape, pool, seed=len(shape) + dims)
    compare(torch_oracle, f"max_unpool{dims}d", (T(values), T(indices)),
            {**pool, "output_size": output_size}, dtype)


@pytest.mark.parametrize("case", UNPOOLS, ids=[f"{c[0]}d-{i}" for i, c in enumerate(UNPOOLS)])
def test_our_pool_indices_are_torchs_and_unpool_puts_each_maximum_back(torch_oracle, case):
    """The indices max_unpool takes are those our MaxPool gives, which are torch's; a
    pool's maxima unpooled land where they were, and pooling that gives them again."""
    torch = torch_oracle.torch
    dims, shape, pool, _ = case
    x = ties(7, *shape)
    values, indices = max_pool(dims, ad.tensor(x), **pool)
    expected_values, expected = getattr(torch.nn.functional, f"max_pool{dims}d")(
        torch.tensor(x), return_indices=True, **pool)
    np.testing.assert_array_equal(indices.numpy(), expected.numpy())
    np.testing.assert_array_equal(values.numpy(), expected_values.numpy())
    restored = getattr(F, f"max_unpool{dims}d")(values, indices, output_size=shape[-dims:],
                                                **pool)
    kept = restored.numpy() != 0
    np.testing.assert_array_equal(restored.numpy()[kept], x[kept])
    again, _ = max_pool(dims, restored, **pool)
    np.testing.assert_array_equal(again.numpy(), values.numpy())


def test_repeated_indices_keep_one_value_and_send_each_its_gradient(torch_oracle):
    """Where indices repeat (overlapping windows), one value is kept (here the last; torch
    keeps any one, varying from call to call) and every value gets the gradient of its
    position: torch's rule, which a scatter would not give."""
    torch = torch_oracle.torch
    values, indices = np.array([[[7.0, 8.0, 9.0]]]), np.array([[[1, 1, 4]]])
    ours = ad.tensor(values, requires_grad=True)
    theirs = torch.tensor(values, requires_grad=True)
    y = F.max_unpool1d(ours, ad.tensor(indices), 3, stride=1, output_size=(5,))
    expected = torch.nn.functional.max_unpool1d(theirs, torch.tensor(indices), 3, stride=1,
                                                output_size=(5,))
    assert y.tolist() == [[[0.0, 8.0, 0.0, 0.0, 9.0]]]
    assert expected.tolist() in ([[[0.0, 7.0, 0.0, 0.0, 9.0]]], [[[0.0, 8.0, 0.0, 0.0, 9.0]]])
    upstream = np.array([[[10.0, 20.0, 30.0, 40.0, 50.0]]])
    y.backward(ad.tensor(upstream))
    expected.backward(torch.tensor(upstream))
    assert ours.grad.tolist() == theirs.grad.tolist() == [[[20.0, 20.0, 50.0]]]


def distinct_indices(rng: np.random.Generator, shape: tuple[int, ...], positions: int
                     ) -> np.ndarray:
    """For each (n, c) plane, distinct positions in [0, positions): a one-to-one write,
    whose gradient is the true derivative (with repeats, torch's rule is not)."""
    planes = int(np.prod(shape[:2]))
    count = int(np.prod(shape[2:]))
    return np.stack([rng.permutation(positions)[:count] for _ in range(planes)]).reshape(shape)


@settings(max_examples=25, deadline=None)
@given(dims=st.integers(1, 3), batch=st.integers(1, 2), channels=st.integers(1, 2),
       kernel=st.integers(1, 3), extra=st.integers(0, 2), seed=st.integers(0, 2**16))
def test_max_unpool_op_passes_gradcheck(dims, batch, channels, kernel, extra, seed):
    """MaxUnpool's gradient (a gather) against finite differences, to second order, on
    distinct indices; sizes 1 to 2 per dim, windows 1 to 3, the output up to stride − 1
    larger than the default."""
    extra = min(extra, kernel - 1)
    rng = np.random.default_rng(seed)
    sizes = tuple(int(n) for n in rng.integers(1, 3, dims))
    shape = (batch, channels, *sizes)
    output = tuple((n - 1) * kernel + kernel + extra for n in sizes)
    indices = ad.tensor(distinct_indices(rng, shape, int(np.prod(output))))
    x = ad.tensor(rng.standard_normal(shape), requires_grad=True)
    unpool = getattr(F, f"max_unpool{dims}d")

    def f(v):
        return unpool(v, indices, kernel, output_size=output)

    assert f(x).shape == (batch, channels, *output)
    assert ad.gradcheck(f, (x,))
    assert ad.gradgradcheck(f, (x,))


def test_max_unpool_replays_under_compile_with_new_indices():
    """A compiled step through MaxUnpool gives eager's numbers bit for bit when the values
    and the indices change between calls (the indices are an input of the op)."""
    def step(values, indices):
        values.grad = None
        y = F.max_unpool2d(values, indices, 2, output_size=(4, 5))
        (y * y).sum().backward()
        return y.detach(), values.grad

    compiled = ad.compile(step, fullgraph=True)
    rng = np.random.default_rng(3)
    for _ in range(3):
        values = rng.standard_normal((2, 3, 2, 2)).astype(np.float32)
        indices = rng.integers(0, 20, (2, 3, 2, 2))
        got = compiled(ad.tensor(values, requires_grad=True), ad.tensor(indices))
        expected = step(ad.tensor(values, requires_grad=True), ad.tensor(indices))
        for g, e in zip(got, expected):
            np.testing.assert_array_equal(g.numpy(), e.numpy())
    assert compiled.cache_info().replays == 2


UNPOOL_LAYERS = [(1, (2,), {}, (2, 3, 8)), (1, (3,), {"stride": 1, "padding": 1}, (3, 7)),
                 (2, (2,), {}, (2, 3, 6, 4)), (2, ((3, 2),), {"stride": (2, 1)}, (2, 2, 7, 5)),
                 (3, (2,), {}, (2, 2, 4, 6, 4)), (3, ((1, 2, 3),), {"padding": (0, 1, 1)},
                                                  (2, 3, 4, 4))]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", UNPOOL_LAYERS, ids=[f"{c[0]}d-{i}"
                                                     for i, c in enumerate(UNPOOL_LAYERS)])
def test_max_unpool_layers_match_torch(torch_oracle, case, dtype):
    torch = torch_oracle.torch
    dims, args, kwargs, shape = case
    name = f"MaxUnpool{dims}d"
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    values, indices = pooled(dims, shape, {"kernel_size": args[0], **kwargs}, seed=8)
    values = ad.tensor(values.astype(dtype), requires_grad=True)
    indices = ad.tensor(indices)
    expected_values = torch.tensor(values.numpy(), requires_grad=True)
    for output_size in (None, shape[-dims:]):
        y = ours(values, indices, output_size=output_size)
        expected = theirs(expected_values, torch.tensor(indices.numpy()),
                          output_size=output_size)
        assert y.dtype == dtype and y.shape == tuple(expected.shape)
        np.testing.assert_array_equal(y.numpy(), expected.detach().numpy())
        upstream = draw(10, *y.shape).astype(dtype)
        values.grad, expected_values.grad = None, None
        y.backward(ad.tensor(upstream))
        expected.backward(torch.tensor(upstream))
        np.testing.assert_array_equal(values.grad.numpy(), expected_values.grad.numpy())


def test_max_unpool_by_hand():
    y = F.max_unpool2d(ad.tensor([[[[1.0, 2.0], [3.0, 4.0]]]]), ad.tensor([[[[0, 3], [9, 14]]]]),
                       2, output_size=(3, 5))
    assert y.tolist() == [[[[1.0, 0.0, 0.0, 2.0, 0.0], [0.0, 0.0, 0.0, 0.0, 3.0],
                            [0.0, 0.0, 0.0, 0.0, 4.0]]]]
    assert F.max_unpool1d(ad.tensor([[5.0]]), ad.tensor([[2]]), 3).tolist() == [[0.0, 0.0, 5.0]]
    volume = F.max_unpool3d(ad.tensor([[[[[1.0]]]]], dtype=ad.float32), ad.tensor([[[[[5]]]]]),
                            (1, 2, 3))
    assert volume.shape == (1, 1, 1, 2, 3) and volume.dtype == ad.float32
    assert volume.flatten().tolist() == [0.0, 0.0, 0.0, 0.0, 0.0, 1.0]


# ---------------------------------------------------------------- conv_transpose3d

CONV_TRANSPOSE3D_CASES = [
    ("plain", (T(draw(20, 2, 3, 3, 4, 2)), T(draw(21, 3, 2, 2, 3, 2))), {}),
    ("bias-all-options", (T(draw(22, 2, 4, 3, 2, 3)), T(draw(23, 4, 3, 3, 2, 2)), T(draw(24, 6))),
     {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2, "dilation": (1, 2, 1)}),
    ("tuples", (T(draw(25, 1, 2, 2, 3, 3)), T(draw(26, 2, 2, 3, 1, 2)), T(draw(27, 2))),
     {"stride": (3, 1, 2), "padding": (2, 0, 1), "output_padding": (2, 0, 1),
      "dilation": (2, 1, 1)}),
    ("output-padding-beyond-padding", (T(draw(28, 2, 2, 2, 2, 3)), T(draw(29, 2, 1, 2, 2, 2))),
     {"stride": (2, 3, 2), "output_padding": (1, 2, 0), "padding": (0, 1, 0)}),
    ("dilation-and-groups", (T(draw(30, 1, 6, 3, 3, 2)), T(draw(31, 6, 1, 2, 2, 3)),
                             T(draw(32, 3))),
     {"groups": 3, "dilation": 2, "padding": (1, 0, 2)}),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CONV_TRANSPOSE3D_CASES,
                         ids=[case[0] for case in CONV_TRANSPOSE3D_CASES])
def test_conv_transpose3d_matches_torch(torch_oracle, case, dtype):
    _, args, kwargs = case
    compare(torch_oracle, "conv_transpose3d", args, kwargs, dtype)


def leaf(seed: int, *shape: int) -> ad.Tensor:
    return ad.tensor(draw(seed, *shape), requires_grad=True)


def test_conv_transpose3d_passes_gradcheck():
    assert ad.gradcheck(lambda x, w, b: F.conv_transpose3d(x, w, b, stride=(2, 1, 2),
                                                           padding=(1, 0, 0),
                                                           output_padding=(1, 0, 1), groups=2),
                        (leaf(40, 1, 2, 2, 2, 2), leaf(41, 2, 1, 3, 2, 2), leaf(42, 2)))
    assert ad.gradgradcheck(lambda x, w: F.conv_transpose3d(x, w, stride=2, dilation=(2, 1, 1)),
                            (leaf(43, 1, 2, 2, 1, 2), leaf(44, 2, 1, 2, 2, 1)))


def test_conv_transpose3d_is_the_adjoint_of_conv3d():
    """⟨conv3d(u, W), v⟩ = ⟨u, conv_transpose3d(v, W)⟩, the identity that defines it,
    without torch."""
    w = draw(45, 4, 2, 3, 2, 2)                 # conv3d: 4 channels to 4, in 2 groups
    u = draw(46, 2, 4, 7, 6, 5)
    options = {"stride": 2, "padding": (1, 0, 1), "groups": 2}
    y = F.conv3d(ad.tensor(u), ad.tensor(w), **options).numpy()
    v = draw(47, *y.shape)
    left = (y * v).sum()
    transposed = F.conv_transpose3d(ad.tensor(v), ad.tensor(w), output_padding=(0, 0, 1),
                                    **options)
    assert transposed.shape == u.shape
    np.testing.assert_allclose(left, (u * transposed.numpy()).sum(), rtol=1e-12)


CONV_TRANSPOSE3DS = [((3, 4, 3), {}),
                     ((4, 6, (3, 2, 3)), {"stride": (2, 1, 2), "padding": (1, 0, 1),
                                          "output_padding": (1, 0, 0), "groups": 2,
                                          "dilation": (1, 2, 1)}),
                     ((2, 4, 2), {"stride": 2, "bias": False})]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("args, kwargs", CONV_TRANSPOSE3DS)
def test_conv_transpose3d_layer_matches_torch(torch_oracle, args, kwargs, dtype):
    torch = torch_oracle.torch
    ours = nn.ConvTranspose3d(*args, **kwargs)
    theirs = torch.nn.ConvTranspose3d(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    torch_oracle.compare(ours, theirs, draw(50, 2, args[0], 3, 4, 3), dtype)


def test_conv_transpose3d_layer_has_torchs_state_dict_init_and_output_size(torch_oracle):
    torch = torch_oracle.torch
    torch.manual_seed(0)
    ours, theirs = nn.ConvTranspose3d(4, 6, (3, 2, 2), groups=2), \
        torch.nn.ConvTranspose3d(4, 6, (3, 2, 2), groups=2)
    assert {k: v.shape for k, v in ours.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in theirs.state_dict().items()} == \
        {"weight": (4, 3, 3, 2, 2), "bias": (6,)}
    assert all(v.dtype == np.float32 for v in ours.state_dict().values())
    # torch's fan_in: weight.shape[1] · kd · kh · kw = 3 · 12
    ad.manual_seed(0)
    layer = nn.ConvTranspose3d(32, 48, (3, 4, 5), groups=2)
    bound = 1 / np.sqrt(24 * 60)
    w = layer.weight.numpy().astype(np.float64)
    assert 0.99 * bound < np.abs(w).max() <= bound
    assert w.var() == pytest.approx(bound ** 2 / 3, rel=0.05)
    assert 0.7 * bound < np.abs(layer.bias.numpy()).max() <= bound
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = draw(51, 1, 4, 3, 2, 4).astype(np.float32)
    for size in (None, (5, 3, 5), (1, 6, 5, 3, 5)):
        y = ours(ad.tensor(x), output_size=size)
        expected = theirs(torch.tensor(x), output_size=size)
        assert y.shape == tuple(expected.shape)
        torch_oracle.assert_close(y.numpy(), expected.detach().numpy(), np.float32)
    strided = nn.ConvTranspose3d(4, 6, 3, stride=(3, 1, 2))
    assert strided(ad.tensor(x), output_size=(9, 4, 10)).shape == (1, 6, 9, 4, 10)
    with pytest.raises(ValueError, match=r"requested an output size of \(10, 4, 11\), but "
                                         r"valid sizes range from \(9, 4, 9\) to \(11, 4, 10\)"):
        strided(ad.tensor(x), output_size=(10, 4, 11))


# ---------------------------------------------------------------- adaptive_max_pool3d

ADAPTIVE = [((2, 3, 5, 6, 7), (2, 3, 4)), ((3, 5, 6, 7), (None, 4, 9)), ((2, 2, 4, 4, 4), 1),
            ((1, 2, 3, 3, 3), (5, 4, 6)), ((2, 1, 6, 5, 4), [3, None, 2])]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, output_size", ADAPTIVE)
def test_adaptive_max_pool3d_matches_torch(torch_oracle, shape, output_size, dtype):
    """Values, indices and gradients on inputs of ties (the first maximum in (d, h, w)
    order wins, as torch's), and on distinct values."""
    torch = torch_oracle.torch
    for x in (ties(60, *shape), draw(61, *shape)):
        x = x.astype(dtype)
        ours, theirs = ad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        values, indices = F.adaptive_max_pool3d(ours, output_size, return_indices=True)
        expected_values, expected = torch.nn.functional.adaptive_max_pool3d(
            theirs, output_size, return_indices=True)
        assert values.dtype == dtype and indices.dtype == ad.int64
        np.testing.assert_array_equal(indices.numpy(), expected.numpy())
        np.testing.assert_array_equal(values.numpy(), expected_values.detach().numpy())
        upstream = draw(62, *values.shape).astype(dtype)
        values.backward(ad.tensor(upstream))
        expected_values.backward(torch.tensor(upstream))
        np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())
    assert F.adaptive_max_pool3d(ad.tensor(x), output_size).shape == values.shape


def test_adaptive_max_pool3d_passes_gradcheck_and_by_hand():
    values = np.random.default_rng(63).permutation(2 * 2 * 3 * 4 * 5).reshape(2, 2, 3, 4, 5)
    x = ad.tensor(values / 10.0, requires_grad=True)
    assert ad.gradcheck(lambda v: F.adaptive_max_pool3d(v, (2, 3, 2)), (x,))
    assert ad.gradcheck(lambda v: F.adaptive_max_pool3d(v[0], (4, None, 7)), (x,))
    cube = ad.arange(8, dtype=ad.float64).reshape(1, 1, 2, 2, 2)        # 4d + 2h + w
    y, where = F.adaptive_max_pool3d(cube, (2, 1, 1), return_indices=True)
    assert y.tolist() == [[[[[3.0]], [[7.0]]]]] and where.tolist() == [[[[[3]], [[7]]]]]


@pytest.mark.parametrize("output_size, shape", [((2, 3, 1), (2, 3, 5, 6, 4)), (3, (2, 4, 5, 3)),
                                                ((None, 2, None), (1, 2, 3, 4, 5))])
def test_adaptive_max_pool3d_layer_matches_torch(torch_oracle, output_size, shape):
    torch = torch_oracle.torch
    ours = nn.AdaptiveMaxPool3d(output_size)
    theirs = torch.nn.AdaptiveMaxPool3d(output_size)
    assert repr(ours) == repr(theirs)
    for dtype in DTYPES:
        torch_oracle.compare(ours, theirs, draw(64, *shape), dtype)
    x = ties(65, *shape)
    _, indices = nn.AdaptiveMaxPool3d(output_size, return_indices=True)(ad.tensor(x))
    _, expected = torch.nn.AdaptiveMaxPool3d(output_size, return_indices=True)(torch.tensor(x))
    np.testing.assert_array_equal(indices.numpy(), expected.numpy())


# ---------------------------------------------------------------- multilabel_margin_loss

def label_lists(seed: int, samples: int, classes: int) -> np.ndarray:
    """Targets (samples, classes): each row a few classes (repeats allowed), then -1, then
    anything (classes or -1, which torch ignores after the first -1)."""
    rng = np.random.default_rng(seed)
    target = np.full((samples, classes), -1)
    for row in target:
        count = rng.integers(0, classes + 1)
        row[:count] = rng.integers(0, classes, count)
        row[count + 1:] = rng.integers(-1, classes, max(classes - count - 1, 0))
    return target


MULTILABEL = [
    ("batch", (T(draw(70, 6, 5)), T(label_lists(71, 6, 5))), {}),
    ("one-sample", (T(draw(72, 7)), T(label_lists(73, 1, 7)[0])), {}),
    ("one-class", (T(draw(74, 3, 1)), T(np.array([[0], [-1], [0]]))), {}),
    ("all-and-none-and-repeats", (T(draw(75, 4, 4)),
                                  T(np.array([[0, 1, 2, 3], [-1, 2, 1, 0], [2, 2, -1, 0],
                                              [3, 1, 3, -1]]))), {}),
    # scores 0.5 apart in halves: the hinges 1 − (x[j] − x[i]) are exactly 0 at some pairs,
    # where torch's slope is 0 as relu's
    ("kinks", (T(np.array([[0.0, 1.0, 0.5, 1.5], [2.0, 1.0, 1.0, 0.0]])),
               T(np.array([[1, 3, -1, 0], [0, -1, 1, 1]]))), {}),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", MULTILABEL, ids=[case[0] for case in MULTILABEL])
def test_multilabel_margin_loss_matches_torch(torch_oracle, case, reduction, dtype):
    _, args, kwargs = case
    compare(torch_oracle, "multilabel_margin_loss", args, {**kwargs, "reduction": reduction},
            dtype)


def test_multilabel_margin_loss_by_hand_and_gradcheck():
    x = ad.tensor([[0.1, 0.2, 0.4, 0.8]], dtype=ad.float64)
    # targets 3 and 0 against classes 1 and 2: (1 − 0.6 + 1 − 0.4 + 1 + 0.1 + 1 + 0.3) / 4
    loss = F.multilabel_margin_loss(x, ad.tensor([[3, 0, -1, 1]]))
    assert loss.item() == pytest.approx(0.85, abs=1e-15)
    assert F.multilabel_margin_loss(x, ad.tensor([[-1, 0, 1, 2]])).item() == 0.0   # none
    assert F.multilabel_margin_loss(x, ad.tensor([[0, 1, 2, 3]])).item() == 0.0    # all
    repeated = F.multilabel_margin_loss(x[0], ad.tensor([3, 3, -1, 1]))
    assert repeated.item() == pytest.approx(2 * F.multilabel_margin_loss(
        x[0], ad.tensor([3, -1, 0, 0])).item(), abs=1e-15)                       # counted twice
    scores = leaf(76, 3, 5)
    target = ad.tensor(label_lists(77, 3, 5))
    assert ad.gradcheck(lambda v: F.multilabel_margin_loss(v, target, reduction="none"),
                        (scores,))
    assert ad.gradgradcheck(lambda v: F.multilabel_margin_loss(v, target), (scores,))


def test_multilabel_margin_loss_layer_matches_torch(torch_oracle):
    torch = torch_oracle.torch
    x, target = draw(78, 5, 4), label_lists(79, 5, 4)
    for reduction in REDUCTIONS:
        ours = nn.MultiLabelMarginLoss(reduction=reduction)
        theirs = torch.nn.MultiLabelMarginLoss(reduction=reduction)
        assert repr(ours) == repr(theirs)
        xa, xt = ad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ya, yt = ours(xa, ad.tensor(target)), theirs(xt, torch.tensor(target))
        torch_oracle.assert_close(ya.numpy(), yt.detach().numpy(), np.float64)
        ya.sum().backward()
        yt.sum().backward()
        torch_oracle.assert_close(xa.grad.numpy(), xt.grad.numpy(), np.float64)


# ---------------------------------------------------------------- triplet_margin_with_distance_loss

def l1_distance(x, y):
    """Σ |x − y| along the last dim, in either library."""
    return (x - y).abs().sum(-1)


def squared_distance(x, y):
    return ((x - y) ** 2).sum(-1)


TRIPLETS = [
    ("default", (T(draw(80, 5, 4)), T(draw(81, 5, 4)), T(draw(82, 5, 4))), {}),
    ("l1-swap-margin", (T(draw(83, 6, 3)), T(draw(84, 6, 3)), T(draw(85, 6, 3))),
     {"distance_function": l1_distance, "swap": True, "margin": 0.5}),
    ("one-triplet", (T(draw(86, 4)), T(draw(87, 4)), T(draw(88, 4))),
     {"distance_function": squared_distance, "margin": 2.0}),
    ("batch-dims-swap", (T(draw(89, 2, 3, 4)), T(draw(90, 2, 3, 4)), T(draw(91, 2, 3, 4))),
     {"swap": True, "margin": 3.0}),
    ("broadcast", (T(draw(92, 4, 3)), T(draw(93, 1, 3)), T(draw(94, 4, 3))),
     {"distance_function": l1_distance}),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", TRIPLETS, ids=[case[0] for case in TRIPLETS])
def test_triplet_margin_with_distance_loss_matches_torch(torch_oracle, case, reduction, dtype):
    _, args, kwargs = case
    compare(torch_oracle, "triplet_margin_with_distance_loss", args,
            {**kwargs, "reduction": reduction}, dtype)


def test_triplet_margin_with_distance_loss_by_hand_and_gradcheck():
    a, pos, neg = ad.tensor([[0.0, 0.0]]), ad.tensor([[3.0, 4.0]]), ad.tensor([[1.0, 0.0]])
    assert F.triplet_margin_with_distance_loss(a, pos, neg, distance_function=l1_distance,
                                               reduction="none").tolist() == [7.0]
    # swap: d(pos, neg) = |2| + |4| = 6 is not below d(a, neg) = 1, so nothing changes
    assert F.triplet_margin_with_distance_loss(a, pos, neg, distance_function=l1_distance,
                                               swap=True).item() == 7.0
    # the default matches triplet_margin_loss (pairwise_distance, p = 2, eps = 1e-6)
    x = [draw(95 + k, 4, 3) for k in range(3)]
    np.testing.assert_allclose(
        F.triplet_margin_with_distance_loss(*map(ad.tensor, x), swap=True).item(),
        F.triplet_margin_loss(*map(ad.tensor, x), swap=True).item(), rtol=1e-15)
    leaves = [leaf(98 + k, 4, 3) for k in range(3)]
    assert ad.gradcheck(lambda *t: F.triplet_margin_with_distance_loss(
        *t, distance_function=squared_distance, swap=True, reduction="none"), leaves)
    assert ad.gradgradcheck(lambda *t: F.triplet_margin_with_distance_loss(*t, margin=2.0),
                            leaves)


@pytest.mark.parametrize("kwargs", [{}, {"margin": 0.3, "swap": True, "reduction": "sum"},
                                    {"reduction": "none"}])
def test_triplet_margin_with_distance_loss_layer_matches_torch(torch_oracle, kwargs):
    torch = torch_oracle.torch
    inputs = [draw(101 + k, 5, 3) for k in range(3)]
    for ours_distance, theirs_distance in [(None, None), (l1_distance, l1_distance),
                                           (nn.PairwiseDistance(p=1.0),
                                            torch.nn.PairwiseDistance(p=1.0))]:
        ours = nn.TripletMarginWithDistanceLoss(distance_function=ours_distance, **kwargs)
        theirs = torch.nn.TripletMarginWithDistanceLoss(distance_function=theirs_distance,
                                                        **kwargs)
        assert repr(ours) == repr(theirs)
        xa = [ad.tensor(a, requires_grad=True) for a in inputs]
        xt = [torch.tensor(a, requires_grad=True) for a in inputs]
        ya, yt = ours(*xa), theirs(*xt)
        torch_oracle.assert_close(ya.numpy(), yt.detach().numpy(), np.float64)
        ya.sum().backward()
        yt.sum().backward()
        for a, t in zip(xa, xt):
            torch_oracle.assert_close(a.grad.numpy(), t.grad.numpy(), np.float64)


def test_triplet_loss_with_a_module_distance_saves_and_a_plain_function_is_refused(tmp_path):
    loss = nn.TripletMarginWithDistanceLoss(distance_function=nn.PairwiseDistance(p=1.0),
                                            margin=0.5, swap=True, reduction="sum")
    rebuilt = nn.from_json(nn.Sequential(loss).to_json())[0]
    assert rebuilt.hyperparameters() == {"margin": 0.5, "swap": True, "reduction": "sum"}
    assert rebuilt.distance_function.hyperparameters() == {"p": 1.0, "eps": 1e-6,
                                                           "keepdim": False}
    x = [ad.tensor(draw(104 + k, 3, 4)) for k in range(3)]
    assert rebuilt(*x).item() == loss(*x).item()
    path = tmp_path / "loss.safetensors"
    nn.save(nn.Sequential(nn.Linear(4, 4), loss), path)
    assert nn.load(path)[1](*x).item() == loss(*x).item()
    with pytest.raises(TypeError, match="TripletMarginWithDistanceLoss: its distance_function "
                                        "l1_distance is a plain function"):
        nn.Sequential(nn.TripletMarginWithDistanceLoss(distance_function=l1_distance)).to_json()


# ---------------------------------------------------------------- the layers together

def test_a_model_of_the_new_layers_saves_and_loads(tmp_path):
    ad.manual_seed(3)
    model = nn.Sequential(nn.ConvTranspose3d(2, 3, (2, 3, 3), stride=2, padding=(0, 1, 1),
                                             output_padding=1),
                          nn.ReLU(), nn.AdaptiveMaxPool3d((2, None, 3)))
    path = tmp_path / "model.safetensors"
    nn.save(model, path)
    loaded = nn.load(path)
    x = ad.randn(2, 2, 2, 3, 3)
    assert model(x).shape == (2, 3, 2, 6, 3)
    np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())


def test_compiled_training_steps_give_eager_numbers():
    """ConvTranspose3d and AdaptiveMaxPool3d replay under ad.compile: their index arrays
    depend on shapes only, and argmax is recomputed on every call."""
    x = ad.tensor(np.random.default_rng(22).standard_normal((2, 2, 2, 3, 3)).astype(np.float32))
    assert_compiled_steps_give_eager_numbers(
        lambda: nn.Sequential(nn.ConvTranspose3d(2, 3, 2, stride=2, groups=1),
                              nn.AdaptiveMaxPool3d((3, 2, 4))), x)


# ---------------------------------------------------------------- errors

# (id, call of lib.functional (F or torch's), our class, text in our message); torch refuses
# each too, with an exception of the same builtin class
ERRORS = [
    ("max_unpool3d-rank", lambda f: f.max_unpool3d(ad_or(f, draw(1, 2, 2, 2)),
                                                   ad_or(f, np.zeros((2, 2, 2), np.int64)), 2),
     ad.ShapeError, "expected a 5-D input (N, C, D, H, W) or a 4-D one (C, D, H, W), got shape "
                    "(2, 2, 2)"),
    ("max_unpool1d-indices-shape", lambda f: f.max_unpool1d(
        ad_or(f, draw(1, 1, 1, 2)), ad_or(f, np.zeros((1, 1, 3), np.int64)), 2),
     ad.ShapeError, "indices must have the input's shape (1, 1, 2), one position per value (as "
                    "MaxPool1d(return_indices=True) gives them), got (1, 1, 3)"),
    ("max_unpool1d-float-indices", lambda f: f.max_unpool1d(
        ad_or(f, draw(1, 1, 1, 2)), ad_or(f, np.zeros((1, 1, 2))), 2),
     ad.DtypeError, "the indices must be a tensor of integers (int64), got float64"),
    ("max_unpool1d-output_size", lambda f: f.max_unpool1d(
        ad_or(f, draw(1, 1, 1, 2)), ad_or(f, np.zeros((1, 1, 2), np.int64)), 2,
        output_size=(6,)),
     ValueError, "output_size (6,) does not fit an input of spatial size (2,): with "
                 "kernel_size (2,), stride (2,) and padding (0,) each size must lie strictly "
                 "between (2,) and (6,)"),
    ("max_unpool2d-output_size-length", lambda f: f.max_unpool2d(
        ad_or(f, draw(1, 1, 1, 2, 2)), ad_or(f, np.zeros((1, 1, 2, 2), np.int64)), 2,
        output_size=(4, 4, 4)),
     ValueError, "output_size must hold 2 sizes, or 4 (the whole output shape), got (4, 4, 4)"),
    ("conv_transpose3d-weight", lambda f: f.conv_transpose3d(
        ad_or(f, draw(1, 1, 2, 3, 3, 3)), ad_or(f, draw(2, 2, 3, 3, 3))),
     ad.ShapeError, "weight must have shape (in_channels, out_channels / groups, kd, kh, kw), "
                    "got (2, 3, 3, 3)"),
    ("conv_transpose3d-channels", lambda f: f.conv_transpose3d(
        ad_or(f, draw(1, 1, 3, 2, 2, 2)), ad_or(f, draw(2, 2, 3, 2, 2, 2))),
     ad.ShapeError, "has 3 channels (dim 1), but weight of shape (2, 3, 2, 2, 2)"),
    ("conv_transpose3d-groups", lambda f: f.conv_transpose3d(
        ad_or(f, draw(1, 1, 3, 2, 2, 2)), ad_or(f, draw(2, 3, 3, 2, 2, 2)), groups=2),
     ad.ShapeError, "has 3 input channels (dim 0), which groups=2 does not divide"),
    ("conv_transpose3d-padding", lambda f: f.conv_transpose3d(
        ad_or(f, draw(1, 1, 2, 2, 2, 2)), ad_or(f, draw(2, 2, 3, 3, 3, 3)), padding=3),
     ad.ShapeError, "the output would be (-2, -2, -2): padding (3, 3, 3) cuts more than the "
                    "(4, 4, 4)"),
    ("conv_transpose3d-bias", lambda f: f.conv_transpose3d(
        ad_or(f, draw(1, 1, 2, 2, 2, 2)), ad_or(f, draw(2, 2, 3, 2, 2, 2)), ad_or(f, draw(3, 2))),
     ad.ShapeError, "bias must have shape (3,)"),
    ("adaptive_max_pool3d-rank", lambda f: f.adaptive_max_pool3d(ad_or(f, draw(1, 2, 4, 4)), 2),
     ad.ShapeError, "expected a 5-D input (N, C, D, H, W) or a 4-D one (C, D, H, W)"),
    ("adaptive_max_pool3d-size", lambda f: f.adaptive_max_pool3d(ad_or(f, draw(1, 1, 2, 4, 4, 4)),
                                                                 (2, 2)),
     ad.DomainError, "output_size must be an int >= 1, or a triple of them"),
    ("multilabel_margin_loss-target-shape", lambda f: f.multilabel_margin_loss(
        ad_or(f, draw(1, 2, 3)), ad_or(f, np.zeros((2, 2), np.int64))),
     ad.ShapeError, "target must have the input's shape (2, 3)"),
    ("multilabel_margin_loss-float-target", lambda f: f.multilabel_margin_loss(
        ad_or(f, draw(1, 2, 3)), ad_or(f, np.zeros((2, 3)))),
     ad.DtypeError, "the indices must be a tensor of integers (int64), got float64"),
    ("multilabel_margin_loss-3d", lambda f: f.multilabel_margin_loss(
        ad_or(f, draw(1, 2, 3, 4)), ad_or(f, np.zeros((2, 3, 4), np.int64))),
     ad.ShapeError, "expected a non-empty input (N, C) or (C,), one score per class, got "
                    "(2, 3, 4)"),
    ("multilabel_margin_loss-reduction", lambda f: f.multilabel_margin_loss(
        ad_or(f, draw(1, 2, 3)), ad_or(f, np.zeros((2, 3), np.int64)), reduction="avg"),
     ValueError, "reduction must be 'mean', 'sum' or 'none', got 'avg'"),
    ("triplet_margin_with_distance_loss-dims", lambda f: f.triplet_margin_with_distance_loss(
        ad_or(f, draw(1, 2, 3)), ad_or(f, draw(2, 2, 3)), ad_or(f, draw(3, 3))),
     ad.ShapeError, "anchor, positive and negative must have the same number of dims, got 2-D, "
                    "2-D and 1-D"),
    ("triplet_margin_with_distance_loss-margin", lambda f: f.triplet_margin_with_distance_loss(
        ad_or(f, draw(1, 2, 3)), ad_or(f, draw(2, 2, 3)), ad_or(f, draw(3, 2, 3)), margin=0.0),
     ad.DomainError, "margin must be greater than 0, got 0.0"),
    ("triplet_margin_with_distance_loss-reduction",
     lambda f: f.triplet_margin_with_distance_loss(
         ad_or(f, draw(1, 2, 3)), ad_or(f, draw(2, 2, 3)), ad_or(f, draw(3, 2, 3)),
         reduction="avg"),
     ValueError, "reduction must be 'mean', 'sum' or 'none', got 'avg'"),
    ("triplet_margin_with_distance_loss-distance",
     lambda f: f.triplet_margin_with_distance_loss(
         ad_or(f, draw(1, 2, 3)), ad_or(f, draw(2, 2, 3)), ad_or(f, draw(3, 2, 3)),
         distance_function=3),
     TypeError, "distance_function must be a callable of two tensors"),
]


@pytest.mark.parametrize("case", ERRORS, ids=[case[0] for case in ERRORS])
def test_errors_name_the_function_and_are_torchs_class(case):
    check_error_against_torch(case)


# where torch gives an answer, or refuses with another builtin class
OUR_ERRORS = [
    # torch: RuntimeError; here an IndexError, as for every index out of range
    ("max_unpool1d-index", lambda: F.max_unpool1d(ad.ones(1, 1, 2), ad.tensor([[[0, 4]]]), 2),
     IndexError, "max_unpool1d: index 4 is out of range for an output of size (4,) (4 "
                 "positions, 0 to 3); pass the indices of the max pool whose output this is"),
    ("multilabel_margin_loss-class", lambda: F.multilabel_margin_loss(
        ad.zeros(2, 3), ad.tensor([[0, -1, 3], [0, 0, 0]])),
     IndexError, "multilabel_margin_loss: index 3 is out of range for 3 classes (and -1, "
                 "which ends a sample's list) (valid indices are 0 to 2)"),
    # torch takes unbatched input; here, as for conv3d and conv_transpose1d, the batch dim
    # is asked for
    ("conv_transpose3d-4d", lambda: F.conv_transpose3d(ad.zeros(2, 4, 4, 4),
                                                       ad.zeros(2, 3, 3, 3, 3)),
     ad.ShapeError, "conv_transpose3d: expected a 5-D input (N, C, D, H, W), got shape "
                    "(2, 4, 4, 4); add a batch dim with x.unsqueeze(0)"),
    # torch gives an empty output
    ("adaptive_max_pool3d-0", lambda: F.adaptive_max_pool3d(ad.zeros(1, 2, 4, 4, 4), (0, 2, 2)),
     ad.DomainError, "adaptive_max_pool3d: output_size must be an int >= 1"),
    # torch takes a 0-d input as one class; here, as multi_margin_loss, (C,) or (N, C)
    ("multilabel_margin_loss-0d", lambda: F.multilabel_margin_loss(ad.tensor(1.0),
                                                                   ad.tensor(0)),
     ad.ShapeError, "multilabel_margin_loss: expected a non-empty input (N, C) or (C,)"),
]


@pytest.mark.parametrize("case", OUR_ERRORS, ids=[case[0] for case in OUR_ERRORS])
def test_errors_torch_does_not_raise_alike(case):
    _, call, ours, text = case
    with pytest.raises(ours) as raised:
        call()
    assert text in str(raised.value)


def test_layer_errors_name_the_layer():
    with pytest.raises(ValueError, match="MaxUnpool3d: kernel_size must be an int >= 1 or a "
                                         "tuple of 3 of them, got \\(2, 3\\)"):
        nn.MaxUnpool3d((2, 3))
    with pytest.raises(ValueError, match="MaxUnpool1d: padding must be an int >= 0"):
        nn.MaxUnpool1d(2, padding=-1)
    with pytest.raises(ValueError, match="ConvTranspose3d: padding_mode must be 'zeros', got "
                                         "'reflect'"):
        nn.ConvTranspose3d(2, 4, 3, padding_mode="reflect")
    with pytest.raises(ad.ShapeError, match=r"ConvTranspose3d\(2, 4, kernel_size=\(3, 3, 3\), "
                                            r"stride=\(1, 1, 1\)\): input of shape "
                                            r"\(1, 3, 2, 2, 2\) has 3 channels"):
        nn.ConvTranspose3d(2, 4, 3)(ad.zeros(1, 3, 2, 2, 2))
    with pytest.raises(ValueError, match="TripletMarginWithDistanceLoss: margin must be greater "
                                         "than 0, got -1"):
        nn.TripletMarginWithDistanceLoss(margin=-1)
    with pytest.raises(TypeError, match="TripletMarginWithDistanceLoss: distance_function must "
                                        "be a callable"):
        nn.TripletMarginWithDistanceLoss(distance_function="l1")
    with pytest.raises(ValueError, match="MultiLabelMarginLoss: reduction must be"):
        nn.MultiLabelMarginLoss(reduction="avg")
