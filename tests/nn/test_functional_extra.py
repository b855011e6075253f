"""torch.nn.functional names added as compositions in nn/functional.py: the activations
prelu, threshold, hardshrink, softshrink, tanhshrink and the in-place spellings relu_,
leaky_relu_, elu_, selu_, celu_, hardtanh_, threshold_; the normalizations rms_norm and
local_response_norm; channel_shuffle, pdist, lp_pool1d, lp_pool2d; dropout1d and
alpha_dropout; the deprecated upsample, upsample_nearest and upsample_bilinear; the losses
soft_margin_loss, multilabel_soft_margin_loss, hinge_embedding_loss, poisson_nll_loss and
multi_margin_loss.

As tests/nn/test_functional_names.py: each case runs in both libraries on the same inputs
(values, output dtype and the gradient of a weighted sum of the output w.r.t. every float
input, in float64 and float32; the losses for every reduction); the kinks take torch's
subgradients; gradcheck and gradgradcheck on small float64 inputs; errors (ours of torch's
builtin class, naming the function); numbers by hand; the random functions by their
statistics and by the gradient their mask implies.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import autodiff as ad
import nn.functional as F

from .test_functional_names import DTYPES, REDUCTIONS, T, ad_or, compare, draw, signs
from .test_functional_names import (  # the same check, on these cases
    test_errors_name_the_function_and_are_torchs_class as check_error_against_torch,
)
from .test_inplace_layers import run


def labels(seed: int, *shape: int) -> np.ndarray:
    """0/1 targets, as multilabel losses take them."""
    return np.random.default_rng(seed).integers(0, 2, shape).astype(np.float64)


def classes(seed: int, count: int, *shape: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, count, shape)


# (id, function name, positional args, keyword args)
CASES = [
    ("prelu-per-channel", "prelu", (T(draw(0, 2, 3, 4)), T(draw(1, 3))), {}),
    ("prelu-one-slope", "prelu", (T(draw(2, 4, 5)), T(draw(3, 1))), {}),
    ("prelu-0d-slope-4d", "prelu", (T(draw(4, 2, 3, 2, 2)), T(np.array(0.3))), {}),
    ("prelu-1d-input", "prelu", (T(draw(5, 6)), T(draw(6, 1))), {}),
    ("prelu-0d-input", "prelu", (T(np.array(-1.5)), T(draw(7, 1))), {}),
    ("threshold", "threshold", (T(draw(8, 4, 5)), 0.1, 20.0), {}),
    ("threshold-int-value", "threshold", (T(draw(9, 3, 4)), -0.5, 2), {}),
    ("hardshrink-default", "hardshrink", (T(draw(10, 4, 5)),), {}),
    ("hardshrink-lambd", "hardshrink", (T(draw(11, 4, 5) * 2),), {"lambd": 1.0}),
    ("softshrink-default", "softshrink", (T(draw(12, 4, 5)),), {}),
    ("softshrink-lambd", "softshrink", (T(draw(13, 3, 4) * 2), 1.2), {}),
    ("tanhshrink", "tanhshrink", (T(draw(14, 3, 4) * 2),), {}),
    ("rms_norm-last", "rms_norm", (T(draw(15, 2, 3, 4)), (4,)), {}),
    ("rms_norm-two-dims-weight", "rms_norm", (T(draw(16, 2, 3, 4)), [3, 4]),
     {"weight": T(draw(17, 3, 4)), "eps": 1e-3}),
    ("rms_norm-small-values", "rms_norm", (T(draw(18, 3, 5) * 1e-4), (5,)),
     {"weight": T(draw(19, 5))}),
    ("local_response_norm-3d", "local_response_norm", (T(draw(20, 2, 5, 4)), 3), {}),
    ("local_response_norm-4d-even", "local_response_norm", (T(draw(21, 2, 6, 3, 4)), 2),
     {"alpha": 1e-1, "beta": 0.5, "k": 2.0}),
    ("local_response_norm-5d-wide", "local_response_norm", (T(draw(22, 1, 3, 2, 3, 2)), 5),
     {"alpha": 0.5}),
    ("channel_shuffle-3d", "channel_shuffle", (T(draw(23, 2, 6, 3)), 3), {}),
    ("channel_shuffle-4d", "channel_shuffle", (T(draw(24, 2, 8, 2, 3)), 2), {}),
    ("channel_shuffle-5d", "channel_shuffle", (T(draw(25, 1, 4, 2, 1, 2)), 4), {}),
    ("pdist-p2", "pdist", (T(draw(26, 5, 3)),), {}),
    ("pdist-p1", "pdist", (T(draw(27, 4, 3)),), {"p": 1.0}),
    ("pdist-p3", "pdist", (T(draw(28, 4, 3)), 3.0), {}),
    ("pdist-inf", "pdist", (T(draw(29, 4, 3)),), {"p": math.inf}),
    ("pdist-p0", "pdist", (T(np.round(draw(35, 4, 3))),), {"p": 0.0}),
    ("pdist-one-row", "pdist", (T(draw(36, 1, 3)),), {}),
    ("lp_pool1d-p2", "lp_pool1d", (T(draw(30, 2, 3, 8)), 2, 3), {}),
    ("lp_pool1d-strided-ceil", "lp_pool1d", (T(draw(31, 2, 3, 8)), 2.0, 3),
     {"stride": 2, "ceil_mode": True}),
    ("lp_pool1d-p1.5-unbatched", "lp_pool1d", (T(draw(32, 3, 7, low=0.1, high=2.0)), 1.5, 2),
     {}),
    ("lp_pool2d-p2", "lp_pool2d", (T(draw(33, 2, 3, 6, 5)), 2, 2), {}),
    ("lp_pool2d-p3-rect-strided-ceil", "lp_pool2d",
     (T(draw(34, 2, 2, 7, 6, low=0.1, high=2.0)), 3, (3, 2)),
     {"stride": (2, 1), "ceil_mode": True}),
]

# (id, function name, positional args, keyword args) run for every reduction
LOSS_CASES = [
    ("soft_margin", "soft_margin_loss", (T(draw(40, 4, 5)), T(signs(41, 4, 5), False)), {}),
    ("soft_margin-large", "soft_margin_loss", (T(draw(42, 6) * 40), T(signs(43, 6), False)), {}),
    ("multilabel_soft_margin", "multilabel_soft_margin_loss",
     (T(draw(44, 4, 5)), T(labels(45, 4, 5), False)), {}),
    ("multilabel_soft_margin-class-weight", "multilabel_soft_margin_loss",
     (T(draw(46, 4, 5)), T(labels(47, 4, 5), False)),
     {"weight": T(draw(48, 5, low=0.5, high=2.0), False)}),
    ("multilabel_soft_margin-element-weight-3d", "multilabel_soft_margin_loss",
     (T(draw(49, 2, 3, 4)), T(labels(50, 2, 3, 4), False)),
     {"weight": T(draw(51, 2, 3, 4, low=0.5, high=2.0), False)}),
    ("multilabel_soft_margin-1d", "multilabel_soft_margin_loss",
     (T(draw(52, 5)), T(labels(53, 5), False)), {}),
    ("hinge_embedding", "hinge_embedding_loss", (T(draw(54, 4, 5)), T(signs(55, 4, 5), False)),
     {}),
    ("hinge_embedding-margin-other-labels", "hinge_embedding_loss",
     (T(draw(56, 3, 4) + 0.5), T(classes(57, 3, 3, 4) - 1.0, False)), {"margin": 0.7}),
    ("poisson_nll-log", "poisson_nll_loss",
     (T(draw(58, 4, 5)), T(classes(59, 6, 4, 5).astype(float), False)), {}),
    ("poisson_nll-rate", "poisson_nll_loss",
     (T(draw(60, 4, 5, low=0.1, high=3.0)), T(classes(61, 6, 4, 5).astype(float), False)),
     {"log_input": False}),
    ("poisson_nll-full", "poisson_nll_loss",
     (T(draw(62, 4, 5)), T(classes(63, 6, 4, 5).astype(float), False)), {"full": True}),
    ("poisson_nll-rate-full-eps", "poisson_nll_loss",
     (T(draw(64, 3, 4, low=0.0, high=2.0)), T(draw(65, 3, 4, low=0.0, high=4.0), False)),
     {"log_input": False, "full": True, "eps": 1e-3}),
    ("multi_margin", "multi_margin_loss", (T(draw(66, 6, 5)), T(classes(67, 5, 6))), {}),
    ("multi_margin-p2-margin", "multi_margin_loss", (T(draw(68, 6, 4)), T(classes(69, 4, 6)), 2),
     {"margin": 0.5}),
    ("multi_margin-weight", "multi_margin_loss", (T(draw(70, 5, 4)), T(classes(71, 4, 5))),
     {"weight": T(draw(72, 4, low=0.5, high=2.0), False), "margin": 2.0}),
    ("multi_margin-one-sample", "multi_margin_loss", (T(draw(73, 5)), T(np.array(3))), {}),
    ("multi_margin-one-sample-1d-target", "multi_margin_loss", (T(draw(74, 5)), T(np.array([1]))),
     {"p": 2}),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
def test_matches_torch(torch_oracle, case, dtype):
    _, name, args, kwargs = case
    compare(torch_oracle, name, args, kwargs, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", LOSS_CASES, ids=[case[0] for case in LOSS_CASES])
def test_losses_match_torch_for_each_reduction(torch_oracle, case, reduction, dtype):
    _, name, args, kwargs = case
    compare(torch_oracle, name, args, {**kwargs, "reduction": reduction}, dtype)


def test_at_the_kinks_the_gradients_are_torchs(torch_oracle):
    """Inputs exactly on each piece's end: prelu at 0 (slope a), threshold at the
    threshold (0), hardshrink and softshrink at ±λ (0), hinge_embedding_loss at
    x = margin (clamp_min passes it), multi_margin_loss at a zero hinge (0), pdist of two
    equal rows (0)."""
    x = np.array([[-1.0, 0.0, 0.5, 1.0], [-0.5, 0.0, 2.0, -2.0]])
    compare(torch_oracle, "prelu", (T(x), T(np.array([0.3, -0.2, 0.7, 1.5]))), {}, np.float64)
    compare(torch_oracle, "threshold", (T(x), 0.5, -3.0), {}, np.float64)
    for name in ("hardshrink", "softshrink"):
        compare(torch_oracle, name, (T(x),), {"lambd": 0.5}, np.float64)
        compare(torch_oracle, name, (T(x),), {"lambd": 0.0}, np.float64)
    compare(torch_oracle, "hinge_embedding_loss", (T(x), T(-np.ones_like(x), False)),
            {"margin": 0.5, "reduction": "sum"}, np.float64)
    scores = np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 3.0]])         # hinges 0 and 0, 2 and 1
    compare(torch_oracle, "multi_margin_loss", (T(scores), T(np.array([0, 2]))), {},
            np.float64)
    rows = np.array([[1.0, 2.0], [0.0, 1.5], [1.0, 2.0], [3.0, -1.0]])
    for p in (1.0, 2.0, 3.0, math.inf):
        compare(torch_oracle, "pdist", (T(rows),), {"p": p}, np.float64)


def test_pdist_shares_the_gradient_among_tied_maxima_for_p_inf(torch_oracle):
    """As cdist's (and max's): where |x_i − x_j| has several largest entries, p = inf
    splits the gradient among them; torch gives each the whole of it."""
    torch = torch_oracle.torch
    rows = np.array([[0.0, 0.0], [1.0, -1.0]])
    ours = ad.tensor(rows, requires_grad=True)
    F.pdist(ours, math.inf).sum().backward()
    np.testing.assert_array_equal(ours.grad.numpy(), [[-0.5, 0.5], [0.5, -0.5]])
    theirs = torch.tensor(rows, requires_grad=True)
    torch.nn.functional.pdist(theirs, math.inf).sum().backward()
    np.testing.assert_array_equal(theirs.grad.numpy(), [[-1.0, 1.0], [1.0, -1.0]])


# ---------------------------------------------------------------- in place

# (name, extra arguments) of the in-place spellings, each also the function of that name
# without the underscore, with inplace=True
IN_PLACE = [("relu_", ()), ("leaky_relu_", (0.2,)), ("elu_", (0.5,)), ("selu_", ()),
            ("celu_", (2.0,)), ("hardtanh_", (-0.5, 0.8)), ("threshold_", (0.5, -2.0))]
WITH_INPLACE = [(name.rstrip("_"), args) for name, args in IN_PLACE] + [
    ("relu6", ()), ("silu", ()), ("mish", ()), ("hardsigmoid", ()), ("hardswish", ())]


@pytest.mark.parametrize(("name", "args"), IN_PLACE)
def test_in_place_spellings_write_into_the_input_with_torchs_gradients(name, args,
                                                                       torch_oracle):
    torch = torch_oracle.torch
    wrote, ours = run(ad, lambda h: getattr(F, name)(h, *args))
    torch_wrote, theirs = run(torch, lambda h: getattr(torch.nn.functional, name)(h, *args))
    apart = run(ad, lambda h: getattr(F, name.rstrip("_"))(h, *args))[1]
    assert wrote and torch_wrote
    for mine, other, separate in zip(ours, theirs, apart):
        np.testing.assert_allclose(mine, other, rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(mine, separate)
    with pytest.raises(ad.InPlaceError, match="a leaf tensor that requires grad"):
        getattr(F, name)(ad.ones(2, requires_grad=True), *args)


@pytest.mark.parametrize(("name", "args"), WITH_INPLACE)
def test_inplace_true_writes_into_the_input_with_torchs_gradients(name, args, torch_oracle):
    torch = torch_oracle.torch
    wrote, ours = run(ad, lambda h: getattr(F, name)(h, *args, inplace=True))
    torch_wrote, theirs = run(torch, lambda h: getattr(torch.nn.functional, name)(
        h, *args, inplace=True))
    wrote_apart, apart = run(ad, lambda h: getattr(F, name)(h, *args))
    assert wrote and torch_wrote and not wrote_apart
    for mine, other, separate in zip(ours, theirs, apart):
        # 1e-7: torch's float64 hardsigmoid backward uses 1/6 rounded to float32
        np.testing.assert_allclose(mine, other, rtol=1e-7, atol=1e-12)
        np.testing.assert_array_equal(mine, separate)


# ---------------------------------------------------------------- random

def test_dropout1d_drops_whole_channels_at_rate_p():
    ad.manual_seed(0)
    x = ad.ones(200, 30, 4, requires_grad=True)
    y = F.dropout1d(x, p=0.3)
    values = y.detach().numpy()
    assert np.isin(values, [0.0, np.float32(1 / 0.7)]).all()
    assert (values == values[:, :, :1]).all()                # one draw per (n, c)
    assert abs((values[:, :, 0] == 0).mean() - 0.3) < 0.02
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), values)   # dL/dx = the mask
    unbatched = F.dropout1d(ad.ones(500, 3), p=0.5).numpy()
    assert (unbatched == unbatched[:, :1]).all() and 0.4 < (unbatched == 0).mean() < 0.6
    x = ad.randn(2, 3, 4)
    assert F.dropout1d(x, training=False) is x and F.dropout1d(x, p=0.0) is x
    assert (F.dropout1d(x, p=1.0).numpy() == 0).all()


def test_alpha_dropout_keeps_mean_and_variance_and_its_gradient_is_a_on_the_kept():
    ad.manual_seed(1)
    x = ad.randn(400_000, dtype=ad.float64, requires_grad=True)
    p = 0.2
    y = F.alpha_dropout(x, p, training=True)
    assert y.dtype == np.float64
    assert abs(y.mean().item()) < 0.01 and abs(y.std().item() - 1) < 0.01
    alpha = 1.7580993408473766                              # torch's constant, -α'
    a = 1 / math.sqrt((alpha ** 2 * p + 1) * (1 - p))
    dropped_value = a * alpha * (p - 1)                     # a·α' + b, b = a·α·p
    values, inputs = y.detach().numpy(), x.detach().numpy()
    dropped = np.isclose(values, dropped_value, rtol=0, atol=1e-12)
    assert abs(dropped.mean() - p) < 0.005
    np.testing.assert_allclose(values[~dropped], a * inputs[~dropped] + a * alpha * p,
                               rtol=1e-12)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.where(dropped, 0.0, a), rtol=1e-12)
    assert F.alpha_dropout(x) is x                          # training=False by default
    assert F.alpha_dropout(x, 0.0, True) is x
    assert (F.alpha_dropout(x, 1.0, True).numpy() == 0).all()


def test_alpha_dropout_statistics_are_torchs(torch_oracle):
    """Different random streams, one distribution: the fraction at the dropped value, the
    mean and the variance agree with torch's within sampling error."""
    torch = torch_oracle.torch
    x = np.random.default_rng(3).standard_normal(200_000).astype(np.float32)
    torch.manual_seed(0)
    ad.manual_seed(0)
    ours = F.alpha_dropout(ad.tensor(x), 0.4, True).numpy()
    theirs = torch.nn.functional.alpha_dropout(torch.tensor(x), 0.4, True).numpy()
    dropped, count = most_common(ours)
    theirs_dropped, theirs_count = most_common(theirs)
    assert dropped == pytest.approx(theirs_dropped, rel=1e-6)
    assert count / x.size == pytest.approx(theirs_count / x.size, abs=0.005)
    assert ours.mean() == pytest.approx(theirs.mean(), abs=0.01)
    assert ours.var() == pytest.approx(theirs.var(), abs=0.02)


def most_common(values: np.ndarray) -> tuple[float, int]:
    """The value that occurs most often, and how often."""
    distinct, counts = np.unique(values, return_counts=True)
    return distinct[counts.argmax()], counts.max()


@pytest.mark.parametrize("name", ["dropout", "dropout1d", "dropout2d", "alpha_dropout"])
def test_dropouts_inplace_write_into_the_input_only_when_they_drop(name):
    leaf = ad.ones(2, 3, 4, 4, requires_grad=True)
    x = leaf[0] * 1.0 if name == "dropout1d" else leaf * 1.0
    ad.manual_seed(5)
    expected = getattr(F, name)(x.detach().clone(), 0.5, True)
    ad.manual_seed(5)
    out = getattr(F, name)(x, 0.5, True, True)
    assert out is x
    np.testing.assert_array_equal(out.detach().numpy(), expected.numpy())
    out.sum().backward()
    assert (leaf.grad.numpy() != 1).any()                  # through the mask
    y = ad.ones(3, 4, 4) if name == "dropout1d" else ad.ones(2, 3, 4, 4)
    assert getattr(F, name)(y, 0.5, False, True) is y and (y.numpy() == 1).all()


# ---------------------------------------------------------------- deprecated names

UPSAMPLES = [("upsample", (T(draw(80, 1, 2, 3, 4)),), {"scale_factor": 2}),
             ("upsample", (T(draw(81, 2, 2, 5)),), {"size": 8, "mode": "linear",
                                                    "align_corners": True}),
             ("upsample_nearest", (T(draw(82, 1, 2, 3, 4)),), {"size": (5, 7)}),
             ("upsample_bilinear", (T(draw(83, 1, 2, 3, 4)),), {"scale_factor": 2}),
             ("upsample_bilinear", (T(draw(84, 2, 1, 4, 3)),), {"size": (3, 5)})]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, args, kwargs", UPSAMPLES)
def test_deprecated_upsamples_are_interpolate_and_warn_as_torch(torch_oracle, name, args,
                                                                  kwargs, dtype):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compare(torch_oracle, name, args, kwargs, dtype)
    messages = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    expected = f"`nn.functional.{name}` is deprecated. Use `nn.functional.interpolate` instead."
    assert messages == [expected, expected]                 # ours, then torch's


def test_upsample_bilinear_aligns_the_corners():
    x = ad.tensor([[[[1.0, 2.0]]]])
    with pytest.warns(UserWarning, match="upsample_bilinear` is deprecated") as caught:
        y = F.upsample_bilinear(x, size=(1, 3))
    assert caught[0].filename == __file__                   # the warning points at the caller
    np.testing.assert_array_equal(y.numpy(), [[[[1.0, 1.5, 2.0]]]])


# ---------------------------------------------------------------- gradcheck


def leaf(seed: int, *shape: int, low: float | None = None, high: float | None = None
         ) -> ad.Tensor:
    return ad.tensor(draw(seed, *shape, low=low, high=high), requires_grad=True)


def test_compositions_pass_gradcheck():
    assert ad.gradcheck(F.prelu, (leaf(90, 2, 3, 4), leaf(91, 3)))
    assert ad.gradcheck(lambda x: F.threshold(x, 0.1, 2.0), (leaf(92, 3, 4),))
    assert ad.gradcheck(lambda x: F.softshrink(x, 0.3), (leaf(93, 3, 4),))
    assert ad.gradcheck(lambda x: F.hardshrink(x, 0.3), (leaf(94, 3, 4),))
    assert ad.gradcheck(F.tanhshrink, (leaf(95, 3, 4),))
    assert ad.gradcheck(lambda x, w: F.rms_norm(x, (3, 4), w), (leaf(96, 2, 3, 4),
                                                                leaf(97, 3, 4)))
    assert ad.gradcheck(lambda x: F.local_response_norm(x, 3, alpha=0.5, beta=0.7, k=1.5),
                        (leaf(98, 2, 4, 3),))
    assert ad.gradcheck(lambda x: F.channel_shuffle(x, 2), (leaf(99, 1, 4, 3),))
    assert ad.gradcheck(lambda x: F.pdist(x, 3.0), (leaf(100, 4, 3),))
    assert ad.gradcheck(lambda x: F.lp_pool1d(x, 2, 3, 2, ceil_mode=True), (leaf(101, 2, 2, 8),))
    assert ad.gradcheck(lambda x: F.lp_pool2d(x, 1.5, 2), (leaf(102, 1, 2, 4, 4, low=0.2,
                                                                high=2.0),))
    target = ad.tensor(signs(103, 3, 4))
    assert ad.gradcheck(lambda x: F.soft_margin_loss(x, target), (leaf(104, 3, 4),))
    assert ad.gradcheck(lambda x: F.hinge_embedding_loss(x, target, margin=0.5),
                        (leaf(105, 3, 4),))
    assert ad.gradcheck(lambda x: F.multilabel_soft_margin_loss(
        x, ad.tensor(labels(106, 3, 4)), ad.tensor([1.0, 2.0, 0.5, 1.5])), (leaf(107, 3, 4),))
    counts = ad.tensor(classes(108, 5, 3, 4).astype(np.float64))
    assert ad.gradcheck(lambda x: F.poisson_nll_loss(x, counts, full=True), (leaf(109, 3, 4),))
    assert ad.gradcheck(lambda x: F.poisson_nll_loss(x, counts, log_input=False),
                        (leaf(110, 3, 4, low=0.5, high=2.0),))
    assert ad.gradcheck(lambda x: F.multi_margin_loss(x, ad.tensor([0, 2, 1]), p=2,
                                                      weight=ad.tensor([1.0, 0.5, 2.0])),
                        (leaf(111, 3, 3),))


def test_second_order_gradients():
    assert ad.gradgradcheck(F.prelu, (leaf(112, 2, 3, 2), leaf(113, 3)))
    assert ad.gradgradcheck(lambda x, w: F.rms_norm(x, (4,), w), (leaf(114, 3, 4), leaf(115, 4)))
    assert ad.gradgradcheck(lambda x: F.local_response_norm(x, 2, alpha=0.5), (leaf(116, 1, 3, 2),))
    assert ad.gradgradcheck(F.tanhshrink, (leaf(117, 3, 4),))
    assert ad.gradgradcheck(lambda x: F.lp_pool1d(x, 2, 2), (leaf(118, 1, 2, 6),))
    assert ad.gradgradcheck(lambda x: F.pdist(x), (leaf(119, 3, 2),))
    assert ad.gradgradcheck(lambda x: F.soft_margin_loss(x, ad.tensor(signs(120, 5))),
                            (leaf(121, 5),))
    assert ad.gradgradcheck(lambda x: F.poisson_nll_loss(x, ad.tensor([0.0, 1.0, 3.0])),
                            (leaf(122, 3),))


# ---------------------------------------------------------------- by hand


def test_numbers_by_hand():
    x = ad.tensor([[-2.0, 3.0], [-4.0, 0.5]])
    np.testing.assert_array_equal(F.prelu(x, ad.tensor([0.5, 0.1])).numpy(),
                                  [[-1.0, 3.0], [-2.0, 0.5]])
    np.testing.assert_array_equal(F.threshold(x, 0.5, 9.0).numpy(), [[9.0, 3.0], [9.0, 9.0]])
    np.testing.assert_array_equal(F.hardshrink(x, 2.0).numpy(), [[0.0, 3.0], [-4.0, 0.0]])
    np.testing.assert_array_equal(F.softshrink(x, 1.0).numpy(), [[-1.0, 2.0], [-3.0, 0.0]])
    np.testing.assert_allclose(F.tanhshrink(ad.tensor([1.0])).item(), 1 - math.tanh(1.0))
    y = F.rms_norm(ad.tensor([[3.0, 4.0]]), (2,), ad.tensor([2.0, 1.0]), eps=0.0)
    np.testing.assert_allclose(y.numpy(), [[6 / math.sqrt(12.5), 4 / math.sqrt(12.5)]],
                               rtol=1e-6)
    # channels 1, 2, 3 at one position, size 3: windows {0, 1}, {1, 2, 3}, {2, 3}
    lrn = F.local_response_norm(ad.tensor([[[1.0], [2.0], [3.0]]]), 3, alpha=3.0, beta=1.0,
                                k=0.0)
    np.testing.assert_allclose(lrn.numpy().ravel(), [1 / 5, 2 / 14, 3 / 13], rtol=1e-6)
    shuffled = F.channel_shuffle(ad.arange(6, dtype=ad.float64).reshape(1, 6, 1), 3)
    np.testing.assert_array_equal(shuffled.numpy().ravel(), [0, 2, 4, 1, 3, 5])
    d = F.pdist(ad.tensor([[0.0, 0.0], [3.0, 4.0], [6.0, 8.0]]), p=1.0)
    np.testing.assert_array_equal(d.numpy(), [7.0, 14.0, 7.0])
    np.testing.assert_allclose(F.lp_pool1d(ad.tensor([[[1.0, 2.0, 2.0]]]), 3, 3).numpy(),
                               [[[17 ** (1 / 3)]]], rtol=1e-6)
    loss = F.soft_margin_loss(ad.tensor([2.0, -1.0]), ad.tensor([1.0, 1.0]), reduction="none")
    np.testing.assert_allclose(loss.numpy(), [math.log1p(math.exp(-2)), math.log1p(math.e)],
                               rtol=1e-6)
    loss = F.multilabel_soft_margin_loss(ad.tensor([[0.0, 0.0]]), ad.tensor([[1.0, 0.0]]),
                                         ad.tensor([1.0, 3.0]))
    np.testing.assert_allclose(loss.item(), (1 + 3) * math.log(2) / 2, rtol=1e-6)
    loss = F.hinge_embedding_loss(ad.tensor([0.2, 0.2, 0.2]), ad.tensor([1.0, -1.0, 0.0]),
                                  margin=1.0, reduction="none")
    np.testing.assert_allclose(loss.numpy(), [0.2, 0.8, 1.0], rtol=1e-6)   # 0: both terms
    loss = F.poisson_nll_loss(ad.tensor([2.0]), ad.tensor([3.0]), log_input=False, eps=0.0,
                              full=True)
    stirling = 3 * math.log(3) - 3 + 0.5 * math.log(2 * math.pi * 3)
    np.testing.assert_allclose(loss.item(), 2 - 3 * math.log(2) + stirling, rtol=1e-6)
    loss = F.multi_margin_loss(ad.tensor([[0.1, 0.2, 0.4], [1.0, 0.0, 0.0]]),
                               ad.tensor([2, 0]), p=2, weight=ad.tensor([2.0, 1.0, 3.0]),
                               reduction="none")
    np.testing.assert_allclose(loss.numpy(), [3 * (0.7 ** 2 + 0.8 ** 2) / 3, 0.0], rtol=1e-6)


def test_rms_norm_eps_defaults_to_the_dtypes_machine_epsilon():
    for dtype in (ad.float32, ad.float64):
        x = ad.zeros(1, 3, dtype=dtype) + 1e-9
        eps = np.finfo(dtype).eps
        np.testing.assert_allclose(F.rms_norm(x, (3,)).numpy(), 1e-9 / np.sqrt(1e-18 + eps),
                                   rtol=1e-5)


# ---------------------------------------------------------------- errors

# (id, call of lib.functional (F or torch's), our class, text in our message); torch refuses
# each too, with an exception of the same builtin class
ERRORS = [
    ("prelu-weight-2d", lambda f: f.prelu(ad_or(f, draw(1, 2, 6)), ad_or(f, draw(2, 6, 1))),
     ad.ShapeError, "weight must be 0-d or 1-d"),
    ("prelu-channels", lambda f: f.prelu(ad_or(f, draw(1, 2, 6)), ad_or(f, draw(2, 3))),
     ad.ShapeError, "weight holds 3 slopes, but the input of shape (2, 6) has 6 channels"),
    ("prelu-1d-input", lambda f: f.prelu(ad_or(f, draw(1, 6)), ad_or(f, draw(2, 6))),
     ad.ShapeError, "has 1 channels"),
    ("softshrink-lambd", lambda f: f.softshrink(ad_or(f, draw(1, 3)), -1.0),
     ad.DomainError, "lambd must be >= 0"),
    ("rms_norm-shape", lambda f: f.rms_norm(ad_or(f, draw(1, 2, 3)), [4]),
     ad.ShapeError, "normalized_shape (4,) needs an input of shape (*, 4), got (2, 3)"),
    ("rms_norm-weight", lambda f: f.rms_norm(ad_or(f, draw(1, 2, 3)), [3],
                                             ad_or(f, draw(2, 2))),
     ad.ShapeError, "weight has shape (2,), but normalized_shape is (3,)"),
    ("local_response_norm-2d", lambda f: f.local_response_norm(ad_or(f, draw(1, 2, 6)), 2),
     ad.ShapeError, "expected an input (N, C, *) of 3 or more dims, got shape (2, 6)"),
    ("channel_shuffle-2d", lambda f: f.channel_shuffle(ad_or(f, draw(1, 2, 6)), 2),
     ad.ShapeError, "expected an input (N, C, *) of 3 or more dims"),
    ("channel_shuffle-groups", lambda f: f.channel_shuffle(ad_or(f, draw(1, 2, 6, 3)), 4),
     ad.ShapeError, "has 6 channels (dim 1), which groups=4 does not divide"),
    ("channel_shuffle-zero", lambda f: f.channel_shuffle(ad_or(f, draw(1, 2, 6, 3)), 0),
     ad.DomainError, "groups must be a positive int, got 0"),
    ("pdist-3d", lambda f: f.pdist(ad_or(f, draw(1, 2, 6, 3))),
     ad.ShapeError, "expected a 2-D input (N, M)"),
    ("pdist-p", lambda f: f.pdist(ad_or(f, draw(1, 4, 3)), p=-1.0),
     ad.DomainError, "p must be >= 0, got -1.0"),
    ("dropout1d-4d", lambda f: f.dropout1d(ad_or(f, draw(1, 2, 3, 4, 5))),
     ad.ShapeError, "expected a 3-D input (N, C, L) or a 2-D one (C, L), got shape (2, 3, 4, 5)"),
    ("dropout1d-p", lambda f: f.dropout1d(ad_or(f, draw(1, 2, 3)), 1.5),
     ValueError, "p is the probability of zeroing an element and must be between 0 and 1"),
    ("alpha_dropout-p", lambda f: f.alpha_dropout(ad_or(f, draw(1, 2, 3)), -0.1, True),
     ValueError, "must be between 0 and 1, got -0.1"),
    ("soft_margin_loss-reduction", lambda f: f.soft_margin_loss(
        ad_or(f, draw(1, 3)), ad_or(f, signs(2, 3)), reduction="avg"),
     ValueError, "reduction must be 'mean', 'sum' or 'none', got 'avg'"),
    ("multilabel_soft_margin_loss-0d", lambda f: f.multilabel_soft_margin_loss(
        ad_or(f, np.array(1.0)), ad_or(f, np.array(1.0))),
     ad.DimError, "got a 0-d tensor"),
    ("hinge_embedding_loss-shape", lambda f: f.hinge_embedding_loss(
        ad_or(f, draw(1, 3, 4)), ad_or(f, signs(2, 4, 3))),
     ad.ShapeError, "input of shape (3, 4) and target of shape (4, 3) must have the same shape"),
    ("poisson_nll_loss-shape", lambda f: f.poisson_nll_loss(
        ad_or(f, draw(1, 3, 4)), ad_or(f, draw(2, 4, 3))),
     ad.ShapeError, "must have the same shape"),
    ("multi_margin_loss-p", lambda f: f.multi_margin_loss(
        ad_or(f, draw(1, 3, 4)), ad_or(f, classes(2, 4, 3)), p=3),
     ad.DomainError, "p must be 1 or 2, got 3"),
    ("multi_margin_loss-3d", lambda f: f.multi_margin_loss(
        ad_or(f, draw(1, 3, 4, 2)), ad_or(f, classes(2, 4, 3))),
     ad.ShapeError, "expected a non-empty input (N, C) or (C,), got shape (3, 4, 2)"),
    ("multi_margin_loss-float-target", lambda f: f.multi_margin_loss(
        ad_or(f, draw(1, 3, 4)), ad_or(f, np.array([0.0, 1.0, 2.0]))),
     ad.DtypeError, "the indices must be a tensor of integers"),
    ("multi_margin_loss-target-shape", lambda f: f.multi_margin_loss(
        ad_or(f, draw(1, 3, 4)), ad_or(f, classes(2, 4, 3, 1))),
     ad.ShapeError, "expected one target class per sample, shape (3,)"),
    ("multi_margin_loss-weight", lambda f: f.multi_margin_loss(
        ad_or(f, draw(1, 3, 4)), ad_or(f, classes(2, 4, 3)), weight=ad_or(f, np.ones(3))),
     ad.ShapeError, "weight must hold one number per class, shape (4,)"),
]

# where torch gives an answer, or refuses with another builtin class
OUR_ERRORS = [
    # torch: RuntimeError ("target out of range")
    ("multi_margin_loss-class", lambda: F.multi_margin_loss(ad.zeros(2, 3), ad.tensor([0, 3])),
     IndexError, "multi_margin_loss: index 3 is out of range for 3 classes"),
    # torch: ZeroDivisionError from inside
    ("lp_pool1d-norm_type", lambda: F.lp_pool1d(ad.zeros(1, 2, 4), 0, 2),
     ad.DomainError, "lp_pool1d: norm_type must not be 0"),
    ("lp_pool2d-norm_type", lambda: F.lp_pool2d(ad.zeros(1, 1, 4, 4), 0.0, 2),
     ad.DomainError, "lp_pool2d: norm_type must not be 0"),
    # torch takes unbatched (C, H, W); here, as for avg_pool2d, the batch dim is asked for
    ("lp_pool2d-3d", lambda: F.lp_pool2d(ad.zeros(2, 4, 4), 2, 2),
     ad.ShapeError, "lp_pool2d: expected a 4-D input (N, C, H, W), got shape (2, 4, 4); add a "
                    "batch dim"),
    # torch broadcasts the target silently; here, as for mse_loss, the shapes must match
    ("soft_margin_loss-broadcast", lambda: F.soft_margin_loss(ad.zeros(3, 4), ad.ones(4)),
     ad.ShapeError, "soft_margin_loss: input of shape (3, 4) and target of shape (4,) must "
                    "have the same shape (no broadcasting)"),
    ("multilabel_soft_margin_loss-broadcast", lambda: F.multilabel_soft_margin_loss(
        ad.zeros(3, 4), ad.ones(4)), ad.ShapeError, "must have the same shape"),
    # torch: NotImplementedError
    ("rms_norm-int", lambda: F.rms_norm(ad.tensor(np.ones((2, 3), np.int64)), [3]),
     ad.DtypeError, "rms_norm: the input must be floating point, got int64"),
    ("upsample_bilinear-3d", lambda: F.upsample_bilinear(ad.zeros(1, 2, 3), size=4),
     ad.ShapeError, "upsample_bilinear: mode 'bilinear' takes a 4-D input, got shape (1, 2, 3)"),
]


@pytest.mark.parametrize("case", ERRORS, ids=[case[0] for case in ERRORS])
def test_errors_name_the_function_and_are_torchs_class(case):
    check_error_against_torch(case)


@pytest.mark.filterwarnings("ignore:`nn.functional.upsample_bilinear` is deprecated")
@pytest.mark.parametrize("case", OUR_ERRORS, ids=[case[0] for case in OUR_ERRORS])
def test_errors_torch_does_not_raise_alike(case):
    _, call, ours, text = case
    with pytest.raises(ours) as raised:
        call()
    assert text in str(raised.value)
