"""torch.nn.functional names built as compositions in nn/functional.py: glu, pixel_shuffle,
pixel_unshuffle, avg_pool1d, max_pool1d, adaptive_avg_pool1d, pairwise_distance,
margin_ranking_loss, triplet_margin_loss, gaussian_nll_loss and instance_norm.

Each case runs in both libraries on the same inputs: values, output dtype and the gradient
of a weighted sum of the output w.r.t. every float input, in float64 and float32; then
gradcheck on small float64 inputs, errors (ours of torch's builtin class, naming the
function), and a few numbers by hand.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import autodiff as ad
import nn.functional as F

DTYPES = [np.float64, np.float32]
REDUCTIONS = ["mean", "sum", "none"]


@dataclass
class T:
    """A tensor argument of a case: its values, and whether it is a leaf that requires grad
    (float tensors do by default)."""
    values: Any
    grad: bool = True


def draw(seed: int, *shape: int, low: float | None = None, high: float | None = None
         ) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if low is None:
        return rng.standard_normal(shape)
    return rng.uniform(low, high, shape)


def signs(seed: int, *shape: int) -> np.ndarray:
    return np.random.default_rng(seed).choice([-1.0, 1.0], shape)


# gaussian_nll_loss: variances with entries below eps (0 and 1e-9), where torch clamps the
# value but lets the gradient through
SMALL_VARIANCES = np.array([[0.5, 0.0, 2.0], [1e-9, 1.5, 0.3], [0.7, 4.0, 1e-7],
                            [0.2, 0.9, 1.1]])

# (id, function name, positional args, keyword args)
CASES = [
    ("glu-last", "glu", (T(draw(0, 4, 6)),), {}),
    ("glu-dim1", "glu", (T(draw(1, 3, 4, 5)),), {"dim": 1}),
    ("glu-dim0-1d", "glu", (T(draw(2, 8)),), {"dim": 0}),
    ("pixel_shuffle-4d", "pixel_shuffle", (T(draw(3, 2, 8, 3, 4)), 2), {}),
    ("pixel_shuffle-5d", "pixel_shuffle", (T(draw(4, 2, 3, 9, 2, 3)),),
     {"upscale_factor": 3}),
    ("pixel_shuffle-3d", "pixel_shuffle", (T(draw(5, 9, 2, 2)), 3), {}),
    ("pixel_unshuffle-4d", "pixel_unshuffle", (T(draw(6, 2, 2, 6, 4)), 2), {}),
    ("pixel_unshuffle-5d", "pixel_unshuffle", (T(draw(7, 2, 3, 1, 6, 9)),),
     {"downscale_factor": 3}),
    ("pixel_unshuffle-3d", "pixel_unshuffle", (T(draw(8, 2, 4, 4)), 2), {}),
    ("avg_pool1d-plain", "avg_pool1d", (T(draw(9, 2, 3, 9)), 3), {}),
    ("avg_pool1d-strided-padded", "avg_pool1d", (T(draw(10, 2, 3, 9)), 3),
     {"stride": 2, "padding": 1}),
    ("avg_pool1d-exclude-pad", "avg_pool1d", (T(draw(11, 2, 3, 10)), 4),
     {"stride": 3, "padding": 2, "count_include_pad": False}),
    ("avg_pool1d-ceil", "avg_pool1d", (T(draw(12, 2, 2, 10)), 3),
     {"stride": 2, "ceil_mode": True, "padding": 1, "count_include_pad": False}),
    ("avg_pool1d-unbatched-tuples", "avg_pool1d", (T(draw(13, 3, 8)), (4,)),
     {"stride": (1,)}),
    ("max_pool1d-plain", "max_pool1d", (T(draw(14, 2, 3, 9)), 3), {}),
    ("max_pool1d-dilated", "max_pool1d", (T(draw(15, 2, 3, 11)), 3),
     {"stride": 2, "padding": 1, "dilation": 2}),
    ("max_pool1d-ceil", "max_pool1d", (T(draw(16, 2, 2, 10)), 3),
     {"stride": 2, "ceil_mode": True}),
    ("max_pool1d-unbatched", "max_pool1d", (T(draw(17, 3, 8)), 2), {"stride": 1}),
    ("adaptive_avg_pool1d-shrink", "adaptive_avg_pool1d", (T(draw(18, 2, 3, 10)), 4), {}),
    ("adaptive_avg_pool1d-tuple", "adaptive_avg_pool1d", (T(draw(19, 2, 3, 7)), (3,)), {}),
    ("adaptive_avg_pool1d-unbatched", "adaptive_avg_pool1d", (T(draw(20, 3, 7)), 5), {}),
    ("adaptive_avg_pool1d-grow", "adaptive_avg_pool1d", (T(draw(21, 1, 2, 3)), 5), {}),
    ("pairwise_distance-plain", "pairwise_distance", (T(draw(22, 5, 4)), T(draw(23, 5, 4))),
     {}),
    ("pairwise_distance-p1", "pairwise_distance", (T(draw(24, 5, 4)), T(draw(25, 5, 4))),
     {"p": 1.0}),
    ("pairwise_distance-p3-keepdim", "pairwise_distance",
     (T(draw(26, 3, 5, 4)), T(draw(27, 3, 5, 4))), {"p": 3.0, "keepdim": True}),
    ("pairwise_distance-inf", "pairwise_distance", (T(draw(28, 5, 4)), T(draw(29, 5, 4))),
     {"p": math.inf, "eps": 1e-3}),
    ("pairwise_distance-broadcast", "pairwise_distance",
     (T(draw(30, 4, 3)), T(draw(31, 2, 1, 3))), {}),
    ("pairwise_distance-vector-batch", "pairwise_distance",
     (T(draw(32, 3)), T(draw(33, 2, 3))), {}),
    ("pairwise_distance-0d", "pairwise_distance", (T(np.array(1.5)), T(np.array(-0.5))), {}),
    ("triplet-1d", "triplet_margin_loss", (T(draw(34, 4)), T(draw(35, 4)), T(draw(36, 4))),
     {"margin": 3.0}),
    ("triplet-3d-p1", "triplet_margin_loss",
     (T(draw(37, 2, 3, 4)), T(draw(38, 2, 3, 4)), T(draw(39, 2, 3, 4))), {"p": 1}),
    ("gaussian_nll-full", "gaussian_nll_loss",
     (T(draw(40, 5, 3)), T(draw(41, 5, 3)), T(draw(42, 5, 3, low=0.1, high=2.0))),
     {"full": True}),
    ("gaussian_nll-var-without-last-dim", "gaussian_nll_loss",
     (T(draw(43, 5, 3)), T(draw(44, 5, 3)), T(draw(45, 5, low=0.1, high=2.0))), {}),
    ("gaussian_nll-var-size-1", "gaussian_nll_loss",
     (T(draw(46, 4, 3, 2)), T(draw(47, 4, 3, 2)), T(draw(48, 4, 1, 2, low=0.1, high=2.0))),
     {}),
    ("gaussian_nll-var-below-eps", "gaussian_nll_loss",
     (T(draw(49, 4, 3)), T(draw(50, 4, 3)), T(SMALL_VARIANCES)), {"eps": 1e-4}),
    ("gaussian_nll-var-number", "gaussian_nll_loss", (T(draw(51, 4, 3)), T(draw(52, 4, 3)),
                                                      0.7), {}),
    ("instance_norm-1d", "instance_norm", (T(draw(53, 3, 4, 5)),), {}),
    ("instance_norm-2d-affine", "instance_norm", (T(draw(54, 2, 3, 4, 5)),),
     {"weight": T(draw(55, 3)), "bias": T(draw(56, 3)), "eps": 1e-3}),
    ("instance_norm-running", "instance_norm", (T(draw(57, 3, 2, 6) * 2 + 1),),
     {"running_mean": T(draw(58, 2), False), "running_var": T(draw(59, 2, low=0.5, high=2),
                                                                False),
      "weight": T(draw(60, 2)), "momentum": 0.3}),
    ("instance_norm-running-stats-used", "instance_norm", (T(draw(61, 2, 3, 4)),),
     {"running_mean": T(draw(62, 3), False), "running_var": T(draw(63, 3, low=0.5, high=2),
                                                                False),
      "bias": T(draw(64, 3)), "use_input_stats": False}),
]

# (id, function name, positional args, keyword args) run for every reduction
LOSS_CASES = [
    ("margin_ranking-1d", "margin_ranking_loss",
     (T(draw(70, 6)), T(draw(71, 6)), T(signs(72, 6))), {}),
    ("margin_ranking-broadcast-margin", "margin_ranking_loss",
     (T(draw(73, 4, 3)), T(draw(74, 4, 1)), T(signs(75, 1, 3))), {"margin": 0.4}),
    ("triplet-2d", "triplet_margin_loss",
     (T(draw(76, 5, 4)), T(draw(77, 5, 4)), T(draw(78, 5, 4))), {}),
    ("triplet-swap", "triplet_margin_loss",
     (T(draw(79, 6, 3)), T(draw(80, 6, 3)), T(draw(81, 6, 3) * 0.5)),
     {"margin": 0.5, "p": 1.5, "swap": True}),
    ("gaussian_nll", "gaussian_nll_loss",
     (T(draw(82, 5, 3)), T(draw(83, 5, 3)), T(draw(84, 5, 3, low=0.1, high=2.0))), {}),
]


def build(arg: Any, dtype: type, lib: Any) -> Any:
    """A case's argument in `lib` (ad or torch), tensors in `dtype` when float."""
    if isinstance(arg, T):
        values = np.asarray(arg.values)
        is_float = values.dtype.kind == "f"
        values = values.astype(dtype if is_float else np.int64)
        if lib is ad:
            return ad.tensor(values, requires_grad=arg.grad and is_float)
        return lib.tensor(values, requires_grad=arg.grad and is_float)
    return arg


def compare(torch_oracle: Any, name: str, args: tuple, kwargs: dict, dtype: type,
            seed: int = 0) -> None:
    """Run F.name in both libraries and compare values, output dtype and the gradients of
    a weighted sum of the output w.r.t. each leaf, and any tensor argument changed in place
    (running statistics)."""
    torch, assert_close = torch_oracle.torch, torch_oracle.assert_close
    ours_args = [build(a, dtype, ad) for a in args]
    ours_kwargs = {k: build(v, dtype, ad) for k, v in kwargs.items()}
    theirs_args = [build(a, dtype, torch) for a in args]
    theirs_kwargs = {k: build(v, dtype, torch) for k, v in kwargs.items()}
    ours = getattr(F, name)(*ours_args, **ours_kwargs)
    theirs = getattr(torch.nn.functional, name)(*theirs_args, **theirs_kwargs)
    assert ours.dtype == dtype
    assert ours.shape == tuple(theirs.shape)
    assert_close(ours.numpy(), theirs.detach().numpy(), dtype)
    weights = np.random.default_rng(seed).standard_normal(ours.shape).astype(dtype)
    (ours * ad.tensor(weights)).sum().backward()
    (theirs * torch.from_numpy(weights)).sum().backward()
    leaves = [(str(i), a, b) for i, (a, b) in enumerate(zip(ours_args, theirs_args))]
    leaves += [(k, ours_kwargs[k], theirs_kwargs[k]) for k in kwargs]
    compared = 0
    for where, a, b in leaves:
        if not isinstance(a, ad.Tensor):
            continue
        if a.requires_grad:
            assert a.grad is not None, f"no gradient for argument {where}"
            assert a.grad.dtype == dtype
            assert_close(a.grad.numpy(), b.grad.numpy(), dtype, err_msg=f"grad of {where}")
            compared += 1
        else:           # constants, or running statistics updated in place
            assert_close(a.numpy(), b.detach().numpy(), dtype, err_msg=f"argument {where}")
    assert compared >= 1


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


@pytest.mark.parametrize("dtype", DTYPES)
def test_max_pool1d_indices_match_torch(torch_oracle, dtype):
    torch = torch_oracle.torch
    for shape, kwargs in [((2, 3, 11), {"kernel_size": 3, "stride": 2, "padding": 1,
                                        "dilation": 2}),
                          ((3, 9), {"kernel_size": 4, "ceil_mode": True, "stride": 3})]:
        x = draw(90, *shape).astype(dtype)
        values, indices = F.max_pool1d(ad.tensor(x), return_indices=True, **kwargs)
        expected_values, expected_indices = torch.nn.functional.max_pool1d(
            torch.tensor(x), return_indices=True, **kwargs)
        np.testing.assert_array_equal(values.numpy(), expected_values.numpy())
        np.testing.assert_array_equal(indices.numpy(), expected_indices.numpy())
        assert indices.dtype == np.int64 and indices.shape == tuple(expected_indices.shape)


@pytest.mark.parametrize("p", [0.0, 1.0, 2.0, math.inf, -math.inf, -1.0])
def test_pairwise_distance_every_p_matches_torch(torch_oracle, p):
    torch = torch_oracle.torch
    x1, x2 = draw(91, 4, 5), draw(92, 4, 5)
    x2[0, :2] = x1[0, :2]                    # equal entries: x1 - x2 + eps = eps there
    ours = F.pairwise_distance(ad.tensor(x1), ad.tensor(x2), p=p)
    theirs = torch.nn.functional.pairwise_distance(torch.tensor(x1), torch.tensor(x2), p=p)
    torch_oracle.assert_close(ours.numpy(), theirs.numpy(), np.float64)


def test_margin_ranking_loss_takes_an_int_target(torch_oracle):
    torch = torch_oracle.torch
    x1, x2, y = draw(93, 6), draw(94, 6), signs(95, 6).astype(np.int64)
    ours = F.margin_ranking_loss(ad.tensor(x1), ad.tensor(x2), ad.tensor(y), margin=0.2)
    theirs = torch.nn.functional.margin_ranking_loss(torch.tensor(x1), torch.tensor(x2),
                                                     torch.tensor(y), margin=0.2)
    assert ours.dtype == np.float64
    torch_oracle.assert_close(ours.numpy(), theirs.numpy(), np.float64)


def test_at_the_kinks_the_gradients_are_torchs(torch_oracle):
    """margin_ranking_loss at exactly 0 (clamp_min passes the gradient there) and
    triplet_margin_loss with swap on a tie d(a, neg) = d(pos, neg) (minimum splits it)."""
    x = np.array([1.0, 2.0, 0.5])
    args = (T(x), T(x.copy()), T(np.array([1.0, -1.0, 1.0])))
    compare(torch_oracle, "margin_ranking_loss", args, {"reduction": "sum"}, np.float64)
    anchor, positive = np.array([[0.0, 0.0]]), np.array([[1.0, 0.0]])
    negative = np.array([[0.5, 2.0]])     # as far from the anchor as from the positive
    compare(torch_oracle, "triplet_margin_loss", (T(anchor), T(positive), T(negative)),
            {"swap": True, "margin": 2.0, "eps": 0.0}, np.float64)


# ---------------------------------------------------------------- gradcheck


def test_compositions_pass_gradcheck():
    rng = np.random.default_rng(7)

    def leaf(*shape, low=None, high=None):
        values = rng.standard_normal(shape) if low is None else rng.uniform(low, high, shape)
        return ad.tensor(values, requires_grad=True)

    assert ad.gradcheck(lambda x: F.glu(x, dim=1), (leaf(2, 4, 3),))
    assert ad.gradcheck(lambda x: F.pixel_shuffle(x, 2), (leaf(1, 4, 2, 3),))
    assert ad.gradcheck(lambda x: F.pixel_unshuffle(x, 2), (leaf(1, 1, 4, 2),))
    assert ad.gradcheck(lambda x: F.max_pool1d(x, 3, stride=2, padding=1), (leaf(2, 2, 7),))
    assert ad.gradcheck(lambda x: F.avg_pool1d(x, 3, stride=2, padding=1, ceil_mode=True,
                                               count_include_pad=False), (leaf(2, 2, 8),))
    assert ad.gradcheck(lambda x: F.adaptive_avg_pool1d(x, 3), (leaf(2, 2, 7),))
    assert ad.gradcheck(lambda a, b: F.pairwise_distance(a, b, p=3.0), (leaf(3, 4), leaf(3, 4)))
    assert ad.gradcheck(lambda a, b, y: F.margin_ranking_loss(a, b, y, margin=0.1),
                        (leaf(5), leaf(5), ad.tensor(signs(8, 5))))
    assert ad.gradcheck(lambda a, p, n: F.triplet_margin_loss(a, p, n, margin=2.0, swap=True),
                        (leaf(3, 4), leaf(3, 4), leaf(3, 4)))
    assert ad.gradcheck(lambda x, y, v: F.gaussian_nll_loss(x, y, v, full=True),
                        (leaf(4, 3), leaf(4, 3), leaf(4, 3, low=0.5, high=2.0)))
    assert ad.gradcheck(lambda x, w, b: F.instance_norm(x, weight=w, bias=b),
                        (leaf(2, 3, 5), leaf(3), leaf(3)))


def test_second_order_gradients():
    rng = np.random.default_rng(8)
    x = ad.tensor(rng.standard_normal((2, 4, 3)), requires_grad=True)
    assert ad.gradgradcheck(lambda x: F.glu(x, dim=1), (x,))
    y = ad.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    v = ad.tensor(rng.uniform(0.5, 2.0, (4,)), requires_grad=True)
    assert ad.gradgradcheck(lambda y, v: F.gaussian_nll_loss(y, y * 0.5, v), (y, v))


# ---------------------------------------------------------------- by hand


def test_numbers_by_hand():
    x = ad.tensor([[2.0, 4.0, 0.0, math.log(3.0)]])
    np.testing.assert_allclose(F.glu(x).numpy(), [[1.0, 4.0 * 0.75]], rtol=1e-6)
    image = ad.arange(8, dtype=ad.float64).reshape(1, 8, 1, 1)
    shuffled = F.pixel_shuffle(image, 2)
    assert shuffled.shape == (1, 2, 2, 2)
    np.testing.assert_array_equal(shuffled.numpy()[0, 1], [[4.0, 5.0], [6.0, 7.0]])
    np.testing.assert_array_equal(F.pixel_unshuffle(shuffled, 2).numpy(), image.numpy())
    seq = ad.tensor([[[1.0, 5.0, 3.0, 2.0, 8.0]]])
    np.testing.assert_array_equal(F.max_pool1d(seq, 2).numpy(), [[[5.0, 3.0]]])
    np.testing.assert_allclose(F.avg_pool1d(seq, 2, padding=1).numpy(),
                               [[[0.5, 4.0, 5.0]]])
    np.testing.assert_allclose(F.adaptive_avg_pool1d(seq, 1).numpy(), [[[3.8]]])
    d = F.pairwise_distance(ad.tensor([[0.0, 0.0]]), ad.tensor([[3.0, 4.0]]), eps=0.0)
    np.testing.assert_allclose(d.numpy(), [5.0])
    loss = F.margin_ranking_loss(ad.tensor([1.0, 0.0]), ad.tensor([0.0, 1.0]),
                                 ad.tensor([1.0, 1.0]), margin=0.5, reduction="none")
    np.testing.assert_allclose(loss.numpy(), [0.0, 1.5])
    loss = F.gaussian_nll_loss(ad.tensor([0.0]), ad.tensor([2.0]), ad.tensor([2.0]),
                               full=True)
    np.testing.assert_allclose(loss.item(), 0.5 * (math.log(2.0) + 2.0 + math.log(2 * math.pi)))
    inst = F.instance_norm(ad.tensor([[[1.0, 3.0]]]), eps=0.0)
    np.testing.assert_allclose(inst.numpy(), [[[-1.0, 1.0]]])


def test_gaussian_nll_loss_clamps_var_in_value_only():
    """Where var < eps the loss uses eps, but var still gets the unclamped derivative
    ½ (1/v - (x - y)²/v²) taken at v = eps."""
    var = ad.tensor([0.0], requires_grad=True)
    loss = F.gaussian_nll_loss(ad.tensor([1.0]), ad.tensor([0.0]), var, eps=0.5)
    np.testing.assert_allclose(loss.item(), 0.5 * (math.log(0.5) + 2.0))
    loss.backward()
    np.testing.assert_allclose(var.grad.numpy(), [0.5 * (2.0 - 4.0)])


def test_instance_norm_updates_running_statistics_by_hand():
    x = ad.tensor([[[1.0, 3.0]], [[0.0, 4.0]]])               # (N=2, C=1, L=2)
    mean, var = ad.zeros(1), ad.ones(1)
    F.instance_norm(x, mean, var, momentum=0.5)
    # instance means 2 and 2, unbiased variances 2 and 8: averaged over the batch
    np.testing.assert_allclose(mean.numpy(), [0.5 * 0 + 0.5 * 2.0])
    np.testing.assert_allclose(var.numpy(), [0.5 * 1 + 0.5 * 5.0])


# ---------------------------------------------------------------- errors

# (id, call of lib.functional (F or torch's), our class, text in our message)
ERRORS = [
    ("glu-odd", lambda f: f.glu(ad_or(f, draw(1, 3, 3)), 1), ad.ShapeError, "odd size 3"),
    ("glu-0d", lambda f: f.glu(ad_or(f, np.array(1.0))), ad.ShapeError, "0-d"),
    ("glu-dim", lambda f: f.glu(ad_or(f, draw(1, 3, 4)), 2), ad.DimError, "dim 2"),
    ("pixel_shuffle-channels", lambda f: f.pixel_shuffle(ad_or(f, draw(1, 2, 6, 5, 5)), 2),
     ad.ShapeError, "6 channels"),
    ("pixel_shuffle-2d", lambda f: f.pixel_shuffle(ad_or(f, draw(1, 4, 4)), 2),
     ad.ShapeError, "at least 3 dims"),
    ("pixel_shuffle-factor", lambda f: f.pixel_shuffle(ad_or(f, draw(1, 2, 8, 5, 5)), 0),
     ad.DomainError, "upscale_factor must be a positive int"),
    ("pixel_unshuffle-height", lambda f: f.pixel_unshuffle(ad_or(f, draw(1, 2, 8, 5, 6)), 2),
     ad.ShapeError, "height 5"),
    ("avg_pool1d-padding", lambda f: f.avg_pool1d(ad_or(f, draw(1, 2, 3, 7)), 3, padding=2),
     ad.DomainError, "padding 2 must be at most half the kernel_size 3"),
    ("max_pool1d-padding", lambda f: f.max_pool1d(ad_or(f, draw(1, 2, 3, 7)), 3, padding=2),
     ad.DomainError, "max_pool1d: padding 2"),
    ("max_pool1d-too-long", lambda f: f.max_pool1d(ad_or(f, draw(1, 2, 3, 7)), 8),
     ad.ShapeError, "longer than the input length 7"),
    ("adaptive_avg_pool1d-4d", lambda f: f.adaptive_avg_pool1d(ad_or(f, draw(1, 2, 3, 4, 5)),
                                                               3),
     ad.ShapeError, "adaptive_avg_pool1d: expected a 3-D input"),
    ("margin_ranking_loss-dims", lambda f: f.margin_ranking_loss(
        ad_or(f, draw(1, 4)), ad_or(f, draw(2, 4)), ad_or(f, np.array(1.0))),
     ad.ShapeError, "same number of dims"),
    ("triplet_margin_loss-margin", lambda f: f.triplet_margin_loss(
        ad_or(f, draw(1, 4, 3)), ad_or(f, draw(2, 4, 3)), ad_or(f, draw(3, 4, 3)), margin=0.0),
     ad.DomainError, "margin must be greater than 0"),
    ("triplet_margin_loss-dims", lambda f: f.triplet_margin_loss(
        ad_or(f, draw(1, 4, 3)), ad_or(f, draw(2, 4, 3)), ad_or(f, draw(3, 4, 3, 1))),
     ad.ShapeError, "same number of dims"),
    ("gaussian_nll_loss-negative-var", lambda f: f.gaussian_nll_loss(
        ad_or(f, draw(1, 4)), ad_or(f, draw(2, 4)), ad_or(f, np.array([1.0, -1.0, 1, 1]))),
     ad.DomainError, "1 negative"),
    ("gaussian_nll_loss-var-shape", lambda f: f.gaussian_nll_loss(
        ad_or(f, draw(1, 4, 3)), ad_or(f, draw(2, 4, 3)), ad_or(f, np.ones(3))),
     ad.ShapeError, "var of shape (3,) does not fit the input of shape (4, 3)"),
    ("gaussian_nll_loss-reduction", lambda f: f.gaussian_nll_loss(
        ad_or(f, draw(1, 4)), ad_or(f, draw(2, 4)), ad_or(f, np.ones(4)), reduction="avg"),
     ValueError, "reduction must be"),
    ("instance_norm-one-position", lambda f: f.instance_norm(ad_or(f, draw(1, 2, 3, 1))),
     ad.ShapeError, "more than one position"),
    ("instance_norm-no-running", lambda f: f.instance_norm(ad_or(f, draw(1, 2, 3, 4)),
                                                           use_input_stats=False),
     ad.DomainError, "running_mean and running_var must be given"),
]


def ad_or(functional: Any, values: np.ndarray) -> Any:
    """values as a tensor of the library `functional` belongs to."""
    if functional is F:
        return ad.tensor(values)
    import torch
    return torch.tensor(values)


@pytest.mark.parametrize("case", ERRORS, ids=[case[0] for case in ERRORS])
def test_errors_name_the_function_and_are_torchs_class(case):
    _, call, ours, text = case
    with pytest.raises(ours) as raised:
        call(F)
    name = case[0].split("-")[0]          # each id starts with the function's name
    assert str(raised.value).startswith(f"{name}:")
    assert text in str(raised.value)
    torch = pytest.importorskip("torch")
    with pytest.raises(Exception) as theirs:
        call(torch.nn.functional)
    builtin = next(c for c in type(theirs.value).__mro__ if c.__module__ == "builtins")
    assert isinstance(raised.value, builtin), (type(raised.value), builtin)
