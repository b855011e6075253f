"""torch.nn names added as compositions: F.max_pool3d, F.avg_pool3d, F.adaptive_avg_pool3d
and the layers MaxPool3d, AvgPool3d, AdaptiveAvgPool3d (the 2-D pools over each depth
slice, then over the depth); F.embedding_bag and the layer EmbeddingBag (embedding,
index_add and gather).

Each case runs in both libraries on the same inputs: values, output dtype, indices, and
the gradient of a weighted sum of the output, in float64 and float32 (inputs rounded to
one decimal so that windows hold ties, where torch's first-maximum rule decides); gradcheck
and gradgradcheck on small float64 inputs; the layers' reprs; errors (ours of torch's
builtin class, naming the function).
"""
from __future__ import annotations

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F

torch = pytest.importorskip("torch")

SHAPES = [(2, 3, 5, 6, 7), (3, 5, 6, 7)]

MAX_CASES = [
    {"kernel_size": 2},
    {"kernel_size": (3, 2, 3), "stride": (2, 1, 2), "padding": 1, "ceil_mode": True},
    {"kernel_size": 3, "stride": 2, "padding": (1, 0, 1), "dilation": (1, 2, 1)},
    {"kernel_size": (2, 3, 3), "stride": 2, "ceil_mode": True, "return_indices": True},
    {"kernel_size": 3, "stride": 2, "padding": 1, "dilation": 2, "return_indices": True},
    {"kernel_size": (1, 2, 1), "stride": (1, 1, 2)},
]
AVG_CASES = [
    {"kernel_size": 2},
    {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
    {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False},
    {"kernel_size": (3, 2, 3), "stride": (2, 1, 2), "padding": (1, 1, 0), "ceil_mode": True,
     "divisor_override": 5},
    {"kernel_size": (2, 3, 1), "stride": 1, "padding": (1, 1, 0), "count_include_pad": False},
]
ADAPTIVE_CASES = [1, (2, 3, 4), (None, 3, 2), (4, None, 5), [3, 4, 9]]

CASES = ([("max_pool3d", kwargs) for kwargs in MAX_CASES]
         + [("avg_pool3d", kwargs) for kwargs in AVG_CASES]
         + [("adaptive_avg_pool3d", {"output_size": size}) for size in ADAPTIVE_CASES])


@pytest.mark.parametrize("shape", SHAPES, ids=["batched", "unbatched"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=[f"{n}-{i}" for i, (n, _) in
                                                          enumerate(CASES)])
def test_pools_match_torch(name, kwargs, dtype, shape):
    rng = np.random.default_rng(len(shape))
    x = rng.standard_normal(shape).round(1).astype(dtype)
    ours_x = ad.tensor(x, requires_grad=True)
    theirs_x = torch.tensor(x, requires_grad=True)
    ours = getattr(F, name)(ours_x, **kwargs)
    theirs = getattr(torch.nn.functional, name)(theirs_x, **kwargs)
    if kwargs.get("return_indices"):
        (ours, ours_indices), (theirs, theirs_indices) = ours, theirs
        assert ours_indices.dtype == ad.int64
        np.testing.assert_array_equal(ours_indices.numpy(), theirs_indices.numpy())
    assert ours.dtype == getattr(ad, dtype)
    assert ours.shape == tuple(theirs.shape)
    tolerance = 1e-12 if dtype == "float64" else 1e-5
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=tolerance,
                               atol=tolerance)
    weights = rng.standard_normal(ours.shape).astype(dtype)
    (ours * ad.tensor(weights)).sum().backward()
    (theirs * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(ours_x.grad.numpy(), theirs_x.grad.numpy(), rtol=tolerance,
                               atol=tolerance)


def test_pools_pass_gradcheck():
    def leaf(seed, *shape):
        # distinct values, so the maxima are not ties the finite differences would cross
        values = np.random.default_rng(seed).permutation(np.prod(shape)).reshape(shape)
        return ad.tensor(values / 10.0, requires_grad=True)
    x = leaf(1, 1, 2, 3, 4, 5)
    assert ad.gradcheck(lambda v: F.max_pool3d(v, 2, 1, 1, ceil_mode=True), (x,))
    assert ad.gradcheck(lambda v: F.avg_pool3d(v, 3, 2, 1, ceil_mode=True,
                                               count_include_pad=False), (x,))
    assert ad.gradcheck(lambda v: F.avg_pool3d(v, 2, divisor_override=3), (x,))
    assert ad.gradcheck(lambda v: F.adaptive_avg_pool3d(v, (2, 2, 3)), (x,))
    assert ad.gradgradcheck(lambda v: F.avg_pool3d(v, 2, 1), (x,))
    assert ad.gradgradcheck(lambda v: F.adaptive_avg_pool3d(v, (2, None, 3)), (x,))


def test_pools_by_hand():
    x = ad.arange(8, dtype=ad.float64).reshape(1, 1, 2, 2, 2)
    assert F.max_pool3d(x, 2).tolist() == [[[[[7.0]]]]]
    assert F.avg_pool3d(x, 2).tolist() == [[[[[3.5]]]]]
    assert F.avg_pool3d(x, 2, divisor_override=2).tolist() == [[[[[14.0]]]]]
    # rows h = 0 hold 0, 1, 4, 5 and h = 1 hold 2, 3, 6, 7
    assert F.adaptive_avg_pool3d(x, (1, 2, 1)).tolist() == [[[[[2.5], [4.5]]]]]
    values, indices = F.max_pool3d(x, (2, 1, 2), return_indices=True)
    assert values.tolist() == [[[[[5.0], [7.0]]]]]          # (d, h, w) = (1, 0, 1), (1, 1, 1)
    assert indices.tolist() == [[[[[5], [7]]]]]


LAYERS = [("MaxPool3d", (2,), {}),
          ("MaxPool3d", ((2, 3, 1),), {"stride": 1, "padding": (1, 1, 0), "dilation": 2,
                                        "ceil_mode": True}),
          ("MaxPool3d", (3,), {"stride": 2, "return_indices": True}),
          ("AvgPool3d", (2,), {}),
          ("AvgPool3d", (3, 2, 1), {"ceil_mode": True, "count_include_pad": False,
                                    "divisor_override": 2}),
          ("AdaptiveAvgPool3d", (1,), {}),
          ("AdaptiveAvgPool3d", ((2, None, 3),), {})]


@pytest.mark.parametrize(("name", "args", "kwargs"), LAYERS,
                         ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(LAYERS)])
def test_layers_match_torch(name, args, kwargs):
    ours = getattr(nn, name)(*args, **kwargs)
    theirs = getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    x = np.random.default_rng(5).standard_normal((2, 2, 6, 7, 5)).round(1)
    ours_y = ours(ad.tensor(x))
    theirs_y = theirs(torch.tensor(x))
    if kwargs.get("return_indices"):
        np.testing.assert_array_equal(ours_y[1].numpy(), theirs_y[1].numpy())
        ours_y, theirs_y = ours_y[0], theirs_y[0]
    np.testing.assert_allclose(ours_y.numpy(), theirs_y.numpy(), rtol=1e-12, atol=1e-12)


ERRORS = [
    ("max_pool3d-rank", lambda f, x: f.max_pool3d(x[0, 0, 0], 2), "5-D"),
    ("max_pool3d-padding", lambda f, x: f.max_pool3d(x, 2, padding=(0, 2, 0)), "half"),
    ("max_pool3d-window", lambda f, x: f.max_pool3d(x, (7, 1, 1)), "larger"),
    ("avg_pool3d-rank", lambda f, x: f.avg_pool3d(x[0, 0], 2), "5-D"),
    ("avg_pool3d-padding", lambda f, x: f.avg_pool3d(x, 3, padding=2), "half"),
    ("avg_pool3d-divisor", lambda f, x: f.avg_pool3d(x, 2, divisor_override=0), "nonzero"),
    ("adaptive_avg_pool3d-rank", lambda f, x: f.adaptive_avg_pool3d(x[0, 0], 2), "5-D"),
    ("adaptive_avg_pool3d-size", lambda f, x: f.adaptive_avg_pool3d(x, (2, 2)), "triple"),
]


@pytest.mark.parametrize("case", ERRORS, ids=[case[0] for case in ERRORS])
def test_errors_name_the_function_and_are_torchs_class(case):
    name, call, text = case
    x = np.zeros((1, 2, 4, 4, 4))
    with pytest.raises(Exception) as raised:
        call(F, ad.tensor(x))
    assert str(raised.value).startswith(f"{name.split('-')[0]}:"), raised.value
    assert text in str(raised.value)
    with pytest.raises(Exception) as theirs:
        call(torch.nn.functional, torch.tensor(x))
    builtin = next(c for c in type(theirs.value).__mro__ if c.__module__ == "builtins")
    assert isinstance(raised.value, builtin), (type(raised.value), builtin)


# ---------------------------------------------------------------- embedding_bag

BAGS = [  # (input, offsets, keyword arguments)
    ([[1, 2, 4], [4, 3, 2]], None, {}),
    ([1, 2, 4, 5, 4, 3, 2, 9], [0, 2, 2, 5], {}),                          # an empty bag
    ([1, 2, 4, 5, 4, 3, 2, 9], [0, 2, 2, 5], {"padding_idx": 4}),
    ([1, 2, 4, 5, 4, 3, 2, 9], [0, 2, 2, 5, 8], {"padding_idx": -1, "include_last_offset": True}),
    ([[1, 4, 4], [4, 3, 2]], None, {"padding_idx": 4}),                  # an all-padding bag
    ([7, 7, 0, 7], [0, 3], {}),                                          # a row used twice
]
BAG_CASES = [(mode, *bag) for mode in ("sum", "mean", "max") for bag in BAGS]


def weight_with_ties(dtype):
    weight = np.random.default_rng(3).standard_normal((10, 3)).round(1).astype(dtype)
    weight[2] = weight[1]                  # rows 1 and 2 tie: max gives the first
    weight[3, 0] = weight[4, 0]
    return weight


def run_bag(lib, functional, weight, inputs, offsets, per_sample_weights, kwargs):
    ours = lib is ad
    w = ad.tensor(weight, requires_grad=True) if ours else torch.tensor(weight,
                                                                         requires_grad=True)
    p = None
    if per_sample_weights is not None:
        p = (ad.tensor(per_sample_weights, requires_grad=True) if ours
             else torch.tensor(per_sample_weights, requires_grad=True))
    index = ad.tensor(np.array(inputs)) if ours else torch.tensor(inputs)
    bounds = None if offsets is None else (ad.tensor(np.array(offsets)) if ours
                                           else torch.tensor(offsets))
    return functional.embedding_bag(index, w, bounds, per_sample_weights=p, **kwargs), w, p


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("mode", "inputs", "offsets", "kwargs"), BAG_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(BAG_CASES)])
def test_embedding_bag_matches_torch(mode, inputs, offsets, kwargs, dtype):
    check_bag(dict(kwargs, mode=mode), inputs, offsets, None, dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("inputs", "offsets", "kwargs"),
                         [bag for bag in BAGS if "include_last_offset" not in bag[2]])
def test_embedding_bag_per_sample_weights_match_torch(inputs, offsets, kwargs, dtype):
    samples = np.random.default_rng(4).standard_normal(np.shape(inputs)).astype(dtype)
    check_bag(dict(kwargs, mode="sum"), inputs, offsets, samples, dtype)


def check_bag(kwargs, inputs, offsets, samples, dtype):
    weight = weight_with_ties(dtype)
    ours, ours_w, ours_p = run_bag(ad, F, weight, inputs, offsets, samples, kwargs)
    theirs, theirs_w, theirs_p = run_bag(torch, torch.nn.functional, weight, inputs, offsets,
                                         samples, kwargs)
    assert ours.dtype == getattr(ad, dtype)
    assert ours.shape == tuple(theirs.shape)
    tolerance = 1e-12 if dtype == "float64" else 1e-5
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=tolerance,
                               atol=tolerance)
    grad = np.random.default_rng(6).standard_normal(ours.shape).astype(dtype)
    (ours * ad.tensor(grad)).sum().backward()
    (theirs * torch.tensor(grad)).sum().backward()
    np.testing.assert_allclose(ours_w.grad.numpy(), theirs_w.grad.numpy(), rtol=tolerance,
                               atol=tolerance)
    if samples is not None:
        np.testing.assert_allclose(ours_p.grad.numpy(), theirs_p.grad.numpy(),
                                   rtol=tolerance, atol=tolerance)


def test_embedding_bag_by_hand_and_gradcheck():
    w = ad.tensor([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]], dtype=ad.float64, requires_grad=True)
    index, offsets = ad.tensor([0, 2, 1]), ad.tensor([0, 2, 3])
    assert F.embedding_bag(index, w, offsets, mode="sum").tolist() == [[4, 6], [2, 3], [0, 0]]
    assert F.embedding_bag(index, w, offsets).tolist() == [[2, 3], [2, 3], [0, 0]]
    assert F.embedding_bag(index, w, offsets, mode="max",
                           padding_idx=2).tolist() == [[0, 1], [2, 3], [0, 0]]
    samples = ad.tensor([0.5, 2.0, -1.0], dtype=ad.float64, requires_grad=True)
    assert ad.gradcheck(lambda v, s: F.embedding_bag(index, v, offsets, mode="sum",
                                                     per_sample_weights=s, padding_idx=1),
                        (w, samples))
    assert ad.gradcheck(lambda v: F.embedding_bag(ad.tensor([[0, 2], [1, 1]]), v), (w,))
    assert ad.gradcheck(lambda v: F.embedding_bag(index, v, offsets, mode="max"), (w,))


LAYER_BAGS = [((10, 3), {}), ((10, 3), {"mode": "sum", "padding_idx": -1,
                                        "include_last_offset": True}),
              ((10, 3), {"mode": "max", "norm_type": 3.0, "padding_idx": 2})]


@pytest.mark.parametrize(("args", "kwargs"), LAYER_BAGS)
def test_embedding_bag_layer_matches_torch(args, kwargs):
    ours = nn.EmbeddingBag(*args, **kwargs)
    theirs = torch.nn.EmbeddingBag(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    assert ours.weight.shape == tuple(theirs.weight.shape) and ours.weight.dtype == ad.float32
    if ours.padding_idx is not None:
        assert ours.weight[ours.padding_idx].tolist() == [0.0] * args[1]
    weight = weight_with_ties("float32")
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(weight))
    ours = nn.EmbeddingBag(*args, _weight=ad.tensor(weight), **kwargs)
    index, offsets = [1, 2, 9, 5, 4, 3, 2, 9], [0, 2, 2, 5, 8]
    y = ours(ad.tensor(np.array(index)), ad.tensor(np.array(offsets)))
    expected = theirs(torch.tensor(index), torch.tensor(offsets))
    np.testing.assert_allclose(y.numpy(), expected.detach().numpy(), rtol=1e-6)
    y.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(),
                               rtol=1e-6)


BAG_ERRORS = [
    ("embedding_bag-offsets", lambda f, i, w: f.embedding_bag(i.reshape(-1), w), "offsets"),
    ("embedding_bag-range", lambda f, i, w: f.embedding_bag(i + 8, w), "embedding"),
    ("embedding_bag-per_sample_weights",
     lambda f, i, w: f.embedding_bag(i, w, per_sample_weights=w[:2, :3] * 0), "mode='sum'"),
    ("embedding_bag-max_norm", lambda f, i, w: f.embedding_bag(i, w, max_norm=1.0),
     "max_norm"),
]


@pytest.mark.parametrize("case", BAG_ERRORS, ids=[case[0] for case in BAG_ERRORS])
def test_embedding_bag_errors_name_the_function(case):
    _, call, text = case
    index, weight = np.array([[1, 2, 3], [4, 5, 6]]), np.zeros((10, 3))
    with pytest.raises(Exception) as raised:
        call(F, ad.tensor(index), ad.tensor(weight))
    assert str(raised.value).startswith("embedding_bag:"), raised.value
    assert text in str(raised.value)
    if case[0].endswith("max_norm"):      # torch supports it; we refuse it
        assert isinstance(raised.value, NotImplementedError)
        return
    if case[0].endswith("range"):         # torch's RuntimeError here, IndexError in
        assert isinstance(raised.value, IndexError)      # F.embedding: ours is embedding's
        return
    with pytest.raises(Exception) as theirs:
        call(torch.nn.functional, torch.tensor(index), torch.tensor(weight))
    builtin = next(c for c in type(theirs.value).__mro__ if c.__module__ == "builtins")
    assert isinstance(raised.value, builtin), (type(raised.value), builtin)


def test_embedding_bag_layer_refuses_what_it_does_not_support():
    for kwargs, text in [({"max_norm": 1.0}, "max_norm"),
                         ({"scale_grad_by_freq": True}, "scale_grad_by_freq"),
                         ({"sparse": True}, "sparse")]:
        with pytest.raises(NotImplementedError, match=f"EmbeddingBag: {text}"):
            nn.EmbeddingBag(10, 3, **kwargs)
