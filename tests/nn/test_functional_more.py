"""torch.nn.functional names built as compositions in nn/functional.py: conv3d (on conv2d),
conv_transpose1d (on conv_transpose2d), adaptive_max_pool2d and adaptive_max_pool1d
(argmax and a gather), bilinear (einsum), grid_sample (gathers and arithmetic) and
affine_grid (matmul); and their layers Conv3d, ConvTranspose1d, AdaptiveMaxPool2d,
AdaptiveMaxPool1d and Bilinear.

As tests/nn/test_functional_names.py: each case runs in both libraries on the same inputs
(values, output dtype and the gradient of a weighted sum of the output w.r.t. every float
input, in float64 and float32); then gradcheck on small float64 inputs, errors (ours of
torch's builtin class where torch refuses too, naming the function), and numbers by hand.
The layers: parameter shapes, torch's initialisation, state_dict keys, torch's weights
loaded into ours, forward and backward against torch, a model file and ad.compile (their
rebuilding from hyperparameters is in test_new_layers.py's NEW_LAYERS).
"""
from __future__ import annotations

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F

from .test_conv_resample import assert_compiled_steps_give_eager_numbers
from .test_functional_names import DTYPES, T, ad_or, compare, draw
from .test_functional_names import (  # the same check, on these cases
    test_errors_name_the_function_and_are_torchs_class as check_error_against_torch,
)


def grid(seed: int, *shape: int, reach: float = 1.3) -> np.ndarray:
    """Sampling points in [−reach, reach]: beyond ±1 they fall outside the image, where the
    padding modes differ."""
    return draw(seed, *shape, low=-reach, high=reach)


# (id, function name, positional args, keyword args)
CASES = [
    ("conv3d-plain", "conv3d", (T(draw(0, 2, 3, 5, 6, 4)), T(draw(1, 4, 3, 3, 2, 2))), {}),
    ("conv3d-bias-strided-padded-dilated-groups", "conv3d",
     (T(draw(2, 2, 4, 7, 6, 8)), T(draw(3, 6, 2, 3, 2, 3)), T(draw(4, 6))),
     {"stride": (2, 1, 3), "padding": (1, 0, 2), "dilation": (2, 1, 1), "groups": 2}),
    ("conv3d-same-even-kernel", "conv3d",
     (T(draw(5, 1, 2, 5, 4, 6)), T(draw(6, 3, 2, 2, 3, 4)), T(draw(7, 3))),
     {"padding": "same", "dilation": (1, 2, 1)}),
    ("conv3d-valid-int-args", "conv3d", (T(draw(8, 2, 2, 5, 5, 5)), T(draw(9, 2, 1, 2, 2, 2))),
     {"stride": 2, "padding": "valid", "dilation": 2, "groups": 2}),
    ("conv_transpose1d-plain", "conv_transpose1d",
     (T(draw(10, 2, 3, 6)), T(draw(11, 3, 4, 3))), {}),
    ("conv_transpose1d-all-options", "conv_transpose1d",
     (T(draw(12, 2, 4, 5)), T(draw(13, 4, 3, 3)), T(draw(14, 6))),
     {"stride": 3, "padding": 2, "output_padding": 1, "groups": 2, "dilation": 2}),
    ("conv_transpose1d-tuples", "conv_transpose1d",
     (T(draw(15, 1, 2, 4)), T(draw(16, 2, 2, 4)), T(draw(17, 2))),
     {"stride": (2,), "padding": (1,), "output_padding": (1,)}),
    ("adaptive_max_pool2d-shrink", "adaptive_max_pool2d", (T(draw(18, 2, 3, 9, 7)), (4, 3)), {}),
    ("adaptive_max_pool2d-grow", "adaptive_max_pool2d", (T(draw(19, 2, 2, 3, 4)), (7, 5)), {}),
    ("adaptive_max_pool2d-int", "adaptive_max_pool2d", (T(draw(20, 1, 3, 6, 5)),),
     {"output_size": 4}),
    ("adaptive_max_pool2d-none", "adaptive_max_pool2d", (T(draw(21, 2, 2, 6, 5)), (None, 2)),
     {}),
    ("adaptive_max_pool2d-global", "adaptive_max_pool2d", (T(draw(22, 2, 4, 5, 5)), 1), {}),
    ("adaptive_max_pool1d-batched", "adaptive_max_pool1d", (T(draw(23, 2, 3, 10)), 4), {}),
    ("adaptive_max_pool1d-unbatched-tuple", "adaptive_max_pool1d", (T(draw(24, 3, 7)), (5,)),
     {}),
    ("bilinear-2d", "bilinear",
     (T(draw(25, 5, 3)), T(draw(26, 5, 4)), T(draw(27, 2, 3, 4)), T(draw(28, 2))), {}),
    ("bilinear-batch-dims-no-bias", "bilinear",
     (T(draw(29, 2, 3, 4)), T(draw(30, 2, 3, 2)), T(draw(31, 5, 4, 2))), {}),
    ("bilinear-1d", "bilinear",
     (T(draw(32, 3)), T(draw(33, 2)), T(draw(34, 4, 3, 2)), T(draw(35, 4))), {}),
    ("affine_grid-2d", "affine_grid", (T(draw(36, 2, 2, 3)), (2, 3, 4, 5)),
     {"align_corners": False}),
    ("affine_grid-2d-corners", "affine_grid", (T(draw(37, 2, 2, 3)), (2, 1, 5, 1)),
     {"align_corners": True}),
    ("affine_grid-3d", "affine_grid", (T(draw(38, 2, 3, 4)), (2, 3, 3, 4, 2)),
     {"align_corners": False}),
    ("affine_grid-3d-corners", "affine_grid", (T(draw(39, 1, 3, 4)), (1, 2, 2, 3, 4)),
     {"align_corners": True}),
]

# grid_sample: every mode, padding and alignment on one input and random points (none of
# them on a pixel centre, where the bilinear weights have a kink); 'nearest' gives the grid
# no gradient (torch gives it zeros), so there the grid is a constant
SAMPLING = [(mode, padding, corners) for mode in ("bilinear", "nearest")
            for padding in ("zeros", "border", "reflection") for corners in (False, True)]
CASES += [(f"grid_sample-{mode}-{padding}-{'corners' if corners else 'edges'}", "grid_sample",
           (T(draw(40, 2, 3, 5, 7)), T(grid(41, 2, 4, 6, 2, reach=2.7), mode == "bilinear")),
           {"mode": mode, "padding_mode": padding, "align_corners": corners})
          for mode, padding, corners in SAMPLING]
CASES += [("grid_sample-reflection-one-row", "grid_sample",     # reflection in a 1-pixel dim
           (T(draw(42, 1, 2, 1, 4)), T(grid(43, 1, 3, 3, 2, reach=2.7))),
           {"padding_mode": "reflection", "align_corners": True}),
          ("grid_sample-larger-output", "grid_sample",
           (T(draw(44, 1, 9, 4, 3)), T(grid(45, 1, 6, 8, 2, reach=1.0))),
           {"padding_mode": "border", "align_corners": False})]


@pytest.mark.filterwarnings("ignore:Using padding='same'")      # torch's, on its own speed
@pytest.mark.filterwarnings("ignore:Since version 1.3.0, affine_grid")   # one-pixel dims
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
def test_matches_torch(torch_oracle, case, dtype):
    _, name, args, kwargs = case
    compare(torch_oracle, name, args, kwargs, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, shape, output_size", [
    ("adaptive_max_pool2d", (2, 3, 9, 7), (4, 3)), ("adaptive_max_pool2d", (1, 2, 3, 4), (5, 7)),
    ("adaptive_max_pool2d", (1, 2, 6, 5), (None, 2)), ("adaptive_max_pool1d", (2, 3, 10), 4),
    ("adaptive_max_pool1d", (3, 7), 5)])
def test_adaptive_max_pool_indices_match_torch(torch_oracle, name, shape, output_size, dtype):
    torch = torch_oracle.torch
    x = draw(50, *shape).astype(dtype)
    values, indices = getattr(F, name)(ad.tensor(x), output_size, return_indices=True)
    expected_values, expected_indices = getattr(torch.nn.functional, name)(
        torch.tensor(x), output_size, return_indices=True)
    np.testing.assert_array_equal(values.numpy(), expected_values.numpy())
    np.testing.assert_array_equal(indices.numpy(), expected_indices.numpy())
    assert indices.dtype == np.int64 and values.dtype == dtype


def test_adaptive_max_pool_ties_go_to_the_first_in_row_major_order_as_torch(torch_oracle):
    """Inputs of few distinct values tie in most cells: the index, and the gradient, is
    torch's (the first maximum, rows before columns)."""
    torch = torch_oracle.torch
    x = np.random.default_rng(51).integers(0, 3, (2, 3, 7, 6)).astype(np.float64)
    x[0, 0] = 1.0                                                   # everything ties
    ours, theirs = ad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    values, indices = F.adaptive_max_pool2d(ours, (3, 4), return_indices=True)
    expected_values, expected_indices = torch.nn.functional.adaptive_max_pool2d(
        theirs, (3, 4), return_indices=True)
    np.testing.assert_array_equal(indices.numpy(), expected_indices.numpy())
    weights = np.random.default_rng(52).standard_normal(values.shape)
    (values * ad.tensor(weights)).sum().backward()
    (expected_values * torch.tensor(weights)).sum().backward()
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())


def test_grid_sample_with_affine_grid_matches_torch(torch_oracle):
    """The spatial-transformer pair: a random affine map (away from pixel centres), values
    and the gradients of the input and of theta through both functions."""
    torch = torch_oracle.torch
    x, theta = draw(53, 2, 3, 6, 5), draw(54, 2, 2, 3) * 0.7
    def pipeline(f, image, matrix, padding, corners):
        points = f.affine_grid(matrix, (2, 3, 4, 7), align_corners=corners)
        return f.grid_sample(image, points, padding_mode=padding, align_corners=corners)

    for padding in ("zeros", "border", "reflection"):
        for corners in (False, True):
            ours = [ad.tensor(a, requires_grad=True) for a in (x, theta)]
            theirs = [torch.tensor(a, requires_grad=True) for a in (x, theta)]
            y = pipeline(F, *ours, padding, corners)
            expected = pipeline(torch.nn.functional, *theirs, padding, corners)
            torch_oracle.assert_close(y.numpy(), expected.detach().numpy(), np.float64)
            (y ** 2).sum().backward()
            (expected ** 2).sum().backward()
            for a, b in zip(ours, theirs):
                torch_oracle.assert_close(a.grad.numpy(), b.grad.numpy(), np.float64)


def test_grid_sample_border_gradient_is_zero_on_the_edges_as_torchs(torch_oracle):
    """Points exactly on an edge pixel's centre, or beyond it: 'border' clips them there,
    and torch gives no gradient to the grid for the clipped coordinate (nor at the edge
    itself); the other coordinate still gets one."""
    torch = torch_oracle.torch
    x = draw(55, 1, 2, 4, 5)
    points = np.array([[[[-1.0, 0.3], [1.0, -0.2], [1.6, 0.1], [0.4, -1.0], [0.2, 1.4]]]])
    ours, theirs = ad.tensor(points, requires_grad=True), torch.tensor(points, requires_grad=True)
    y = F.grid_sample(ad.tensor(x), ours, padding_mode="border", align_corners=True)
    expected = torch.nn.functional.grid_sample(torch.tensor(x), theirs, padding_mode="border",
                                               align_corners=True)
    y.sum().backward()
    expected.sum().backward()
    torch_oracle.assert_close(y.numpy(), expected.detach().numpy(), np.float64)
    torch_oracle.assert_close(ours.grad.numpy(), theirs.grad.numpy(), np.float64)
    gradient = ours.grad.numpy()[0, 0]
    assert (gradient[:3, 0] == 0).all() and (gradient[3:, 1] == 0).all()
    assert (gradient[:3, 1] != 0).all()


# ---------------------------------------------------------------- gradcheck


def leaf(seed: int, *shape: int, low: float | None = None, high: float | None = None
         ) -> ad.Tensor:
    return ad.tensor(draw(seed, *shape, low=low, high=high), requires_grad=True)


def test_compositions_pass_gradcheck():
    assert ad.gradcheck(lambda x, w, b: F.conv3d(x, w, b, stride=(1, 2, 1), padding=(1, 0, 1),
                                                 dilation=(2, 1, 1), groups=2),
                        (leaf(60, 1, 2, 4, 4, 3), leaf(61, 2, 1, 2, 2, 2), leaf(62, 2)))
    assert ad.gradcheck(lambda x, w, b: F.conv_transpose1d(x, w, b, stride=2, padding=1,
                                                           output_padding=1, groups=2),
                        (leaf(63, 2, 2, 4), leaf(64, 2, 2, 3), leaf(65, 4)))
    assert ad.gradcheck(lambda x: F.adaptive_max_pool2d(x, (2, 3)), (leaf(66, 2, 2, 5, 4),))
    assert ad.gradcheck(lambda x: F.adaptive_max_pool1d(x, 3), (leaf(67, 2, 7),))
    assert ad.gradcheck(F.bilinear, (leaf(68, 3, 2), leaf(69, 3, 4), leaf(70, 2, 2, 4),
                                     leaf(71, 2)))
    for padding in ("zeros", "border", "reflection"):
        assert ad.gradcheck(lambda x, g, mode=padding: F.grid_sample(x, g, padding_mode=mode,
                                                                     align_corners=False),
                            (leaf(72, 1, 2, 3, 4), leaf(73, 1, 3, 2, 2, low=-2.2, high=2.2)))
    assert ad.gradcheck(lambda x: F.grid_sample(x, ad.tensor(grid(74, 1, 3, 2, 2)),
                                                mode="nearest", align_corners=True),
                        (leaf(75, 1, 2, 3, 4),))
    assert ad.gradcheck(lambda t: F.affine_grid(t, (2, 1, 3, 4), align_corners=False),
                        (leaf(76, 2, 2, 3),))


def test_second_order_gradients():
    assert ad.gradgradcheck(lambda x, w, b: F.conv3d(x, w, b, padding="same"),
                            (leaf(80, 1, 2, 3, 3, 3), leaf(81, 2, 2, 2, 2, 2), leaf(82, 2)))
    assert ad.gradgradcheck(lambda x, w: F.conv_transpose1d(x, w, stride=2),
                            (leaf(83, 1, 2, 3), leaf(84, 2, 3, 2)))
    assert ad.gradgradcheck(F.bilinear, (leaf(85, 2, 3), leaf(86, 2, 2), leaf(87, 2, 3, 2)))
    assert ad.gradgradcheck(lambda x, g: F.grid_sample(x, g, align_corners=True),
                            (leaf(88, 1, 2, 3, 3), leaf(89, 1, 2, 2, 2, low=-0.9, high=0.9)))


# ---------------------------------------------------------------- by hand


def test_numbers_by_hand():
    volume = ad.arange(8, dtype=ad.float64).reshape(1, 1, 2, 2, 2)      # x[d, h, w] = 4d + 2h + w
    kernel = ad.zeros(1, 1, 2, 1, 1)
    kernel.numpy()[0, 0, :, 0, 0] = [1.0, -1.0]                     # plane 0 minus plane 1
    np.testing.assert_array_equal(F.conv3d(volume, kernel).numpy(), -4 * np.ones((1, 1, 1, 2, 2)))
    y = F.conv_transpose1d(ad.tensor([[[1.0, 2.0, 3.0]]]), ad.tensor([[[1.0, 1.0, 1.0]]]),
                           stride=2, padding=1)
    np.testing.assert_array_equal(y.numpy(), [[[1.0, 3.0, 2.0, 5.0, 3.0]]])  # overlaps add
    image = ad.tensor([[[[1.0, 7.0, 2.0], [4.0, 0.0, 9.0]]]])
    values, indices = F.adaptive_max_pool2d(image, (1, 2), return_indices=True)
    np.testing.assert_array_equal(values.numpy(), [[[[7.0, 9.0]]]])  # columns 0-1 and 1-2
    np.testing.assert_array_equal(indices.numpy(), [[[[1, 5]]]])
    y = F.bilinear(ad.tensor([1.0, 2.0]), ad.tensor([3.0, 4.0]),
                   ad.tensor([[[1.0, 0.0], [0.0, 1.0]]]), ad.tensor([0.5]))
    np.testing.assert_allclose(y.numpy(), [1 * 3 + 2 * 4 + 0.5])     # x₁ · x₂ + b
    image = ad.tensor([[[[0.0, 10.0], [20.0, 30.0]]]])
    points = ad.tensor([[[[0.0, 0.0], [-0.5, 0.0], [-1.0, -1.0], [1.0, 1.0], [3.0, 0.0]]]])
    # align_corners=False: ±1 are the outer edges, so (−1, −1) is a quarter of the corner
    # pixel (the rest zeros); (−0.5, 0) is the centre of the left column
    np.testing.assert_allclose(F.grid_sample(image, points).numpy(),
                               [[[[15.0, 10.0, 0.0, 7.5, 0.0]]]])
    np.testing.assert_allclose(F.grid_sample(image, points, padding_mode="border").numpy(),
                               [[[[15.0, 10.0, 0.0, 30.0, 20.0]]]])
    # (0, 0) is u = v = 0.5, which rounds (half to even) to the top left pixel
    centres = ad.tensor([[[[0.5, -0.5], [0.0, 0.0], [0.5, 0.5]]]])
    np.testing.assert_allclose(F.grid_sample(image, centres, mode="nearest").numpy(),
                               [[[[10.0, 0.0, 30.0]]]])
    # with the corners aligned x = 3 is u = 2, mirrored about u = 1 to 0 (then about u = 0,
    # to itself); y = 0 is v = 0.5: (0 + 20) / 2
    np.testing.assert_allclose(F.grid_sample(image, points, padding_mode="reflection",
                                             align_corners=True).numpy()[..., 4], [[[10.0]]])
    identity = ad.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
    np.testing.assert_allclose(F.affine_grid(identity, (1, 1, 2, 3), align_corners=True).numpy(),
                               [[[[-1, -1], [0, -1], [1, -1]], [[-1, 1], [0, 1], [1, 1]]]])
    np.testing.assert_allclose(F.affine_grid(identity, (1, 1, 1, 2)).numpy(),
                               [[[[-0.5, 0.0], [0.5, 0.0]]]])


def test_identity_affine_grid_samples_the_input_unchanged():
    x = ad.tensor(draw(90, 2, 3, 4, 5))
    identity = ad.tensor(np.tile([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], (2, 1, 1)))
    for corners in (False, True):
        for padding in ("zeros", "border", "reflection"):
            points = F.affine_grid(identity, (2, 3, 4, 5), align_corners=corners)
            for mode in ("bilinear", "nearest"):
                y = F.grid_sample(x, points, mode=mode, padding_mode=padding,
                                  align_corners=corners)
                np.testing.assert_allclose(y.numpy(), x.numpy(), atol=1e-12)


def test_grid_sample_align_corners_none_is_false_and_nearest_gives_the_grid_no_gradient():
    x = ad.tensor(draw(91, 1, 2, 3, 4), requires_grad=True)
    points = ad.tensor(grid(92, 1, 2, 2, 2), requires_grad=True)
    np.testing.assert_array_equal(F.grid_sample(x, points).numpy(),
                                  F.grid_sample(x, points, align_corners=False).numpy())
    F.grid_sample(x, points, mode="nearest").sum().backward()
    assert points.grad is None and x.grad is not None


def test_conv3d_is_the_sum_of_conv2d_over_depth_taps():
    """The identity the composite rests on, checked against conv2d without torch."""
    x, w, b = draw(93, 2, 4, 5, 6, 6), draw(94, 3, 4, 2, 3, 3), draw(95, 3)
    y = F.conv3d(ad.tensor(x), ad.tensor(w), ad.tensor(b), stride=(2, 1, 1)).numpy()
    for r in range(y.shape[2]):
        planes = sum(F.conv2d(ad.tensor(x[:, :, 2 * r + t]), ad.tensor(w[:, :, t])).numpy()
                     for t in range(2))
        np.testing.assert_allclose(y[:, :, r], planes + b[:, None, None], rtol=1e-12)


# ---------------------------------------------------------------- errors

# (id, call of lib.functional (F or torch's), our class, text in our message); torch refuses
# each too, with an exception of the same builtin class
ERRORS = [
    ("conv3d-weight", lambda f: f.conv3d(ad_or(f, draw(1, 1, 2, 4, 4, 4)),
                                         ad_or(f, draw(2, 3, 2, 3, 3))),
     ad.ShapeError, "weight must have shape (out_channels, in_channels / groups, kd, kh, kw)"),
    ("conv3d-channels", lambda f: f.conv3d(ad_or(f, draw(1, 1, 3, 4, 4, 4)),
                                           ad_or(f, draw(2, 3, 2, 3, 3, 3))),
     ad.ShapeError, "has 3 channels (dim 1), but weight of shape (3, 2, 3, 3, 3)"),
    ("conv3d-kernel", lambda f: f.conv3d(ad_or(f, draw(1, 1, 2, 2, 4, 4)),
                                         ad_or(f, draw(2, 3, 2, 3, 3, 3))),
     ad.ShapeError, "the kernel (3, 3, 3) is larger than the input (2, 4, 4)"),
    ("conv3d-bias", lambda f: f.conv3d(ad_or(f, draw(1, 1, 2, 4, 4, 4)),
                                       ad_or(f, draw(2, 3, 2, 3, 3, 3)), ad_or(f, draw(3, 2))),
     ad.ShapeError, "bias must have shape (3,)"),
    ("conv_transpose1d-weight", lambda f: f.conv_transpose1d(
        ad_or(f, draw(1, 1, 2, 4)), ad_or(f, draw(2, 2, 3, 3, 3))),
     ad.ShapeError, "weight must have shape (in_channels, out_channels / groups, kernel_size)"),
    ("conv_transpose1d-channels", lambda f: f.conv_transpose1d(
        ad_or(f, draw(1, 1, 3, 4)), ad_or(f, draw(2, 2, 3, 3))),
     ad.ShapeError, "has 3 channels (dim 1), but weight of shape (2, 3, 3)"),
    ("conv_transpose1d-groups", lambda f: f.conv_transpose1d(
        ad_or(f, draw(1, 1, 3, 4)), ad_or(f, draw(2, 3, 3, 3)), groups=2),
     ad.ShapeError, "has 3 input channels (dim 0), which groups=2 does not divide"),
    ("conv_transpose1d-padding", lambda f: f.conv_transpose1d(
        ad_or(f, draw(1, 1, 2, 2)), ad_or(f, draw(2, 2, 3, 3)), padding=3),
     ad.ShapeError, "the output would be (-2,): padding (3,) cuts more than the (4,)"),
    ("adaptive_max_pool2d-2d", lambda f: f.adaptive_max_pool2d(ad_or(f, draw(1, 4, 4)), 2),
     ad.ShapeError, "expected a 4-D input (N, C, H, W)"),
    ("adaptive_max_pool1d-4d", lambda f: f.adaptive_max_pool1d(ad_or(f, draw(1, 1, 2, 4, 4)),
                                                               2),
     ad.ShapeError, "expected a 3-D input (N, C, L) or a 2-D one (C, L)"),
    ("bilinear-batch", lambda f: f.bilinear(ad_or(f, draw(1, 2, 3)), ad_or(f, draw(2, 3, 4)),
                                            ad_or(f, draw(3, 5, 3, 4))),
     ad.ShapeError, "must have the same batch dims"),
    ("bilinear-in1", lambda f: f.bilinear(ad_or(f, draw(1, 2, 2)), ad_or(f, draw(2, 2, 4)),
                                          ad_or(f, draw(3, 5, 3, 4))),
     ad.ShapeError, "input1 of shape (2, 2) must end in in1_features = weight.shape[1] = 3"),
    ("bilinear-in2", lambda f: f.bilinear(ad_or(f, draw(1, 2, 3)), ad_or(f, draw(2, 2, 3)),
                                          ad_or(f, draw(3, 5, 3, 4))),
     ad.ShapeError, "input2 of shape (2, 3) must end in in2_features = weight.shape[2] = 4"),
    ("bilinear-bias", lambda f: f.bilinear(ad_or(f, draw(1, 2, 3)), ad_or(f, draw(2, 2, 4)),
                                           ad_or(f, draw(3, 5, 3, 4)), ad_or(f, draw(4, 4))),
     ad.ShapeError, "bias must have shape (5,)"),
    ("bilinear-dtype", lambda f: f.bilinear(ad_or(f, draw(1, 2, 3)),
                                            ad_or(f, draw(2, 2, 4).astype(np.float32)),
                                            ad_or(f, draw(3, 5, 3, 4))),
     ad.DtypeError, "must share a dtype, got float64, float32 and float64"),
    ("grid_sample-mode", lambda f: f.grid_sample(ad_or(f, draw(1, 1, 2, 3, 3)),
                                                 ad_or(f, draw(2, 1, 3, 3, 2)), mode="linear",
                                                 align_corners=False),
     ValueError, "mode must be 'bilinear' or 'nearest', got 'linear'"),
    ("grid_sample-padding", lambda f: f.grid_sample(ad_or(f, draw(1, 1, 2, 3, 3)),
                                                    ad_or(f, draw(2, 1, 3, 3, 2)),
                                                    padding_mode="mirror", align_corners=False),
     ValueError, "padding_mode must be 'zeros', 'border' or 'reflection', got 'mirror'"),
    ("grid_sample-grid-batch", lambda f: f.grid_sample(ad_or(f, draw(1, 1, 2, 3, 3)),
                                                       ad_or(f, draw(2, 2, 3, 3, 2)),
                                                       align_corners=False),
     ad.ShapeError, "grid must have shape (N, H_out, W_out, 2)"),
    ("grid_sample-grid-points", lambda f: f.grid_sample(ad_or(f, draw(1, 1, 2, 3, 3)),
                                                        ad_or(f, draw(2, 1, 3, 3, 3)),
                                                        align_corners=False),
     ad.ShapeError, "with N = 1 as the input of shape (1, 2, 3, 3); got (1, 3, 3, 3)"),
    ("grid_sample-dtype", lambda f: f.grid_sample(ad_or(f, draw(1, 1, 2, 3, 3)),
                                                  ad_or(f, draw(2, 1, 3, 3, 2).astype(np.float32)),
                                                  align_corners=False),
     ad.DtypeError, "input and grid must have one float dtype, got float64 and float32"),
    ("affine_grid-theta", lambda f: f.affine_grid(ad_or(f, draw(1, 1, 3, 3)), (1, 1, 2, 2),
                                                  align_corners=False),
     ad.ShapeError, "theta must be a batch of 2-D affine matrices of shape (1, 2, 3)"),
    ("affine_grid-batch", lambda f: f.affine_grid(ad_or(f, draw(1, 2, 2, 3)), (1, 1, 2, 2),
                                                  align_corners=False),
     ad.ShapeError, "got (2, 2, 3)"),
    ("affine_grid-size", lambda f: f.affine_grid(ad_or(f, draw(1, 1, 2, 3)), (1, 1, 0, 2),
                                                 align_corners=False),
     ValueError, "every size must be at least 1, got (1, 1, 0, 2)"),
]

# where torch gives an answer, or refuses with another builtin class
OUR_ERRORS = [
    # torch takes unbatched input; here, as for conv2d, the batch dim is asked for
    ("conv3d-4d", lambda: F.conv3d(ad.zeros(2, 4, 4, 4), ad.zeros(3, 2, 3, 3, 3)),
     ad.ShapeError, "conv3d: expected a 5-D input (N, C, D, H, W), got shape (2, 4, 4, 4); add "
                    "a batch dim with x.unsqueeze(0)"),
    ("conv_transpose1d-2d", lambda: F.conv_transpose1d(ad.zeros(2, 4), ad.zeros(2, 3, 3)),
     ad.ShapeError, "conv_transpose1d: expected a 3-D input (N, C, L), got shape (2, 4)"),
    ("adaptive_max_pool2d-3d", lambda: F.adaptive_max_pool2d(ad.zeros(2, 4, 4), 2),
     ad.ShapeError, "adaptive_max_pool2d: expected a 4-D input (N, C, H, W), got shape "
                    "(2, 4, 4); add a batch dim"),
    # torch gives an empty output
    ("adaptive_max_pool2d-0", lambda: F.adaptive_max_pool2d(ad.zeros(1, 2, 4, 4), (0, 2)),
     ValueError, "adaptive_max_pool2d: output_size must be an int >= 1, or a pair of them"),
    # torch: RuntimeError (conv_transpose2d and the conv layers raise ValueError alike here)
    ("conv3d-same-strided", lambda: F.conv3d(ad.zeros(1, 2, 4, 4, 4), ad.zeros(3, 2, 3, 3, 3),
                                             stride=2, padding="same"),
     ValueError, "conv3d: padding='same' is not supported for strided convolutions"),
    ("conv_transpose1d-output_padding", lambda: F.conv_transpose1d(
        ad.zeros(1, 2, 4), ad.zeros(2, 3, 3), stride=2, output_padding=2),
     ValueError, "conv_transpose1d: output_padding (2,) must be smaller than either the stride "
                 "(2,) or the dilation (1,)"),
    ("conv_transpose1d-same", lambda: F.conv_transpose1d(ad.zeros(1, 2, 4), ad.zeros(2, 3, 3),
                                                         padding="same"),
     ValueError, "conv_transpose1d: padding must be an int or a tuple (a transposed "
                 "convolution takes no 'same' or 'valid'), got 'same'"),
    # torch: IndexError from inside
    ("bilinear-weight", lambda: F.bilinear(ad.zeros(2, 3), ad.zeros(2, 4), ad.zeros(5, 3)),
     ad.ShapeError, "bilinear: weight must have shape (out_features, in1_features, "
                    "in2_features), got (5, 3)"),
    # torch samples 5-D input trilinearly and has 'bicubic'; neither is here
    ("grid_sample-5d", lambda: F.grid_sample(ad.zeros(1, 2, 3, 3, 3), ad.zeros(1, 2, 2, 2, 3)),
     ad.ShapeError, "grid_sample: expected a 4-D input (N, C, H, W), got shape (1, 2, 3, 3, 3); "
                    "5-D (volumetric) input is not supported"),
    ("grid_sample-bicubic", lambda: F.grid_sample(ad.zeros(1, 2, 3, 3), ad.zeros(1, 2, 2, 2),
                                                  mode="bicubic"),
     ValueError, "grid_sample: mode must be 'bilinear' or 'nearest', got 'bicubic'; 'bicubic' "
                 "is not supported"),
    # torch: NotImplementedError (here a ValueError, as for the other bad sizes)
    ("affine_grid-3d-size", lambda: F.affine_grid(ad.zeros(1, 2, 3), (1, 1, 4)),
     ValueError, "affine_grid: size must be (N, C, H, W) or (N, C, D, H, W), the shape of the "
                 "output of grid_sample, got (1, 1, 4)"),
    # torch: ValueError
    ("affine_grid-int-theta", lambda: F.affine_grid(ad.zeros(1, 2, 3, dtype=ad.int64),
                                                    (1, 1, 2, 2)),
     ad.DtypeError, "affine_grid: theta must be a float tensor, got int64"),
]


@pytest.mark.parametrize("case", ERRORS, ids=[case[0] for case in ERRORS])
def test_errors_name_the_function_and_are_torchs_class(case):
    check_error_against_torch(case)


@pytest.mark.parametrize("case", OUR_ERRORS, ids=[case[0] for case in OUR_ERRORS])
def test_errors_torch_does_not_raise_alike(case):
    _, call, ours, text = case
    with pytest.raises(ours) as raised:
        call()
    assert text in str(raised.value)


# ---------------------------------------------------------------- the layers

CONV3DS = [((3, 4, 3), {}),
           ((4, 6, (3, 2, 3)), {"stride": (2, 1, 2), "padding": (1, 0, 1), "dilation": (1, 2, 1),
                                "groups": 2}),
           ((2, 4, 2), {"padding": "same", "bias": False}),
           ((2, 2, 3), {"padding": 1, "padding_mode": "reflect"}),
           ((2, 2, (1, 3, 2)), {"padding": (0, 2, 1), "padding_mode": "replicate", "stride": 2}),
           ((2, 4, 3), {"padding": 2, "padding_mode": "circular", "groups": 2})]

CONV_TRANSPOSE1DS = [((3, 4, 3), {}),
                     ((4, 6, 3), {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2}),
                     ((2, 4, 4), {"stride": 3, "dilation": 2, "output_padding": 1,
                                  "bias": False})]


@pytest.mark.filterwarnings("ignore:Using padding='same'")   # torch's, on its own speed
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("args, kwargs", CONV3DS)
def test_conv3d_matches_torch(torch_oracle, args, kwargs, dtype):
    torch = torch_oracle.torch
    x = draw(100, 2, args[0], 5, 6, 7)
    torch_oracle.compare(nn.Conv3d(*args, **kwargs), torch.nn.Conv3d(*args, **kwargs), x, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("args, kwargs", CONV_TRANSPOSE1DS)
def test_conv_transpose1d_matches_torch(torch_oracle, args, kwargs, dtype):
    torch = torch_oracle.torch
    x = draw(101, 2, args[0], 6)
    torch_oracle.compare(nn.ConvTranspose1d(*args, **kwargs),
                         torch.nn.ConvTranspose1d(*args, **kwargs), x, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, output_size, shape", [
    ("AdaptiveMaxPool2d", (3, 2), (2, 3, 7, 5)), ("AdaptiveMaxPool2d", 4, (1, 2, 5, 9)),
    ("AdaptiveMaxPool2d", (None, 3), (2, 2, 4, 7)), ("AdaptiveMaxPool1d", 3, (2, 3, 8)),
    ("AdaptiveMaxPool1d", (4,), (3, 9))])
def test_adaptive_max_pools_match_torch(torch_oracle, name, output_size, shape, dtype):
    torch = torch_oracle.torch
    ours, theirs = getattr(nn, name)(output_size), getattr(torch.nn, name)(output_size)
    torch_oracle.compare(ours, theirs, draw(102, *shape), dtype)
    x = draw(103, *shape)
    _, indices = getattr(nn, name)(output_size, return_indices=True)(ad.tensor(x))
    _, expected = getattr(torch.nn, name)(output_size, return_indices=True)(torch.tensor(x))
    np.testing.assert_array_equal(indices.numpy(), expected.numpy())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [True, False])
def test_bilinear_matches_torch(torch_oracle, bias, dtype):
    torch = torch_oracle.torch
    ours = nn.Bilinear(3, 4, 5, bias=bias).to(dtype)
    theirs = torch_oracle.copy(ours, torch.nn.Bilinear(3, 4, 5, bias=bias), dtype)
    inputs = [draw(104, 2, 6, 3).astype(dtype), draw(105, 2, 6, 4).astype(dtype)]
    xa = [ad.tensor(a, requires_grad=True) for a in inputs]
    xt = [torch.tensor(a, requires_grad=True) for a in inputs]
    ya, yt = ours(*xa), theirs(*xt)
    assert ya.dtype == dtype and ya.shape == (2, 6, 5)
    torch_oracle.assert_close(ya.numpy(), yt.detach().numpy(), dtype)
    upstream = draw(106, 2, 6, 5).astype(dtype)
    ya.backward(upstream)
    yt.backward(torch.from_numpy(upstream))
    for a, t in zip(xa, xt):
        torch_oracle.assert_close(a.grad.numpy(), t.grad.numpy(), dtype)
    theirs_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        torch_oracle.assert_close(p.grad.numpy(), theirs_params[name].grad.numpy(), dtype,
                                  err_msg=name)


LAYERS_WITH_WEIGHTS = [("Conv3d", (4, 6, (3, 2, 2)), {"groups": 2, "padding": 1}),
                       ("Conv3d", (2, 3, 2), {"bias": False}),
                       ("ConvTranspose1d", (4, 6, 3), {"stride": 2, "groups": 2}),
                       ("ConvTranspose1d", (2, 3, 4), {"bias": False}),
                       ("Bilinear", (3, 4, 5), {}), ("Bilinear", (3, 4, 5), {"bias": False})]


@pytest.mark.parametrize("name, args, kwargs", LAYERS_WITH_WEIGHTS)
def test_layers_have_torchs_state_dict_and_load_its_weights(torch_oracle, name, args, kwargs):
    torch = torch_oracle.torch
    torch.manual_seed(0)
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert {k: v.shape for k, v in ours.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert all(v.dtype == np.float32 for v in ours.state_dict().values())
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    shapes = {"Conv3d": [(2, args[0], 4, 5, 3)], "ConvTranspose1d": [(2, args[0], 5)],
              "Bilinear": [(7, 3), (7, 4)]}[name]
    inputs = [draw(107 + k, *shape).astype(np.float32) for k, shape in enumerate(shapes)]
    torch_oracle.assert_close(ours(*(ad.tensor(a) for a in inputs)).numpy(),
                              theirs(*(torch.tensor(a) for a in inputs)).detach().numpy(),
                              np.float32)


@pytest.mark.parametrize("name, args, kwargs, fan_in", [
    ("Conv3d", (16, 32, (3, 2, 4)), {"groups": 2}, 8 * 3 * 2 * 4),
    ("ConvTranspose1d", (64, 48, 5), {"groups": 4}, 12 * 5),  # torch: weight.shape[1] · k
    ("Bilinear", (40, 30, 20), {}, 40)])                        # torch: in1_features alone
def test_init_is_torchs_uniform(name, args, kwargs, fan_in):
    """weight and bias ~ U(−1/√fan_in, 1/√fan_in), fan_in as torch computes it."""
    ad.manual_seed(0)
    layer = getattr(nn, name)(*args, **kwargs)
    bound = 1 / np.sqrt(fan_in)
    w = layer.weight.numpy().astype(np.float64)
    assert layer.weight.dtype == np.float32
    assert 0.99 * bound < np.abs(w).max() <= bound
    assert w.var() == pytest.approx(bound ** 2 / 3, rel=0.05)
    assert abs(w.mean()) < 3 * bound / np.sqrt(3 * w.size)             # 3 standard errors
    assert 0.7 * bound < np.abs(layer.bias.numpy()).max() <= bound


def test_layer_shapes_and_reprs():
    assert nn.Conv3d(4, 6, (3, 2, 1), groups=2).weight.shape == (6, 2, 3, 2, 1)
    assert nn.ConvTranspose1d(4, 6, 3, groups=2).weight.shape == (4, 3, 3)
    assert nn.Bilinear(3, 4, 5).weight.shape == (5, 3, 4)
    assert nn.Bilinear(3, 4, 5).bias.shape == (5,)
    assert repr(nn.Conv3d(4, 8, 3, stride=2)) == \
        "Conv3d(4, 8, kernel_size=(3, 3, 3), stride=(2, 2, 2))"
    assert repr(nn.AdaptiveMaxPool2d((2, None), return_indices=True)) == \
        "AdaptiveMaxPool2d(output_size=(2, None))"


def test_conv_transpose1d_output_size_like_torch(torch_oracle):
    torch = torch_oracle.torch
    ours = nn.ConvTranspose1d(2, 3, 3, stride=3, padding=1)
    theirs = torch_oracle.copy(ours, torch.nn.ConvTranspose1d(2, 3, 3, stride=3, padding=1),
                               np.float32)
    x = draw(110, 1, 2, 4).astype(np.float32)
    for size in ([10], [11], [12], (1, 3, 12)):
        y = ours(ad.tensor(x), output_size=size)
        expected = theirs(torch.tensor(x), output_size=size)
        assert y.shape == tuple(expected.shape)
        torch_oracle.assert_close(y.numpy(), expected.detach().numpy(), np.float32)
    with pytest.raises(ValueError, match=r"requested an output size of \(13,\), but valid sizes "
                                         r"range from \(10,\) to \(12,\)"):
        ours(ad.tensor(x), output_size=(13,))
    with pytest.raises(ValueError, match=r"output_size must be \(L_out,\) or \(N, C_out, L_out\)"):
        ours(ad.tensor(x), output_size=(10, 10))


def test_layer_errors_name_the_layer():
    with pytest.raises(ad.ShapeError, match=r"Conv3d\(2, 4, kernel_size=\(3, 3, 3\), stride=\(1, "
                                            r"1, 1\)\): expected a 5-D input \(N, C, D, H, W\)"):
        nn.Conv3d(2, 4, 3)(ad.zeros(2, 5, 5, 5))
    with pytest.raises(ValueError, match="Conv3d: kernel_size must be an int >= 1 or a tuple of "
                                         "3 of them"):
        nn.Conv3d(2, 4, (3, 3))
    with pytest.raises(ValueError, match="ConvTranspose1d: padding_mode must be 'zeros', got "
                                         "'reflect'"):
        nn.ConvTranspose1d(2, 4, 3, padding_mode="reflect")
    with pytest.raises(ad.ShapeError, match=r"ConvTranspose1d\(2, 4, kernel_size=\(3,\), "
                                            r"stride=\(1,\)\): input of shape \(1, 3, 5\) has 3 "
                                            r"channels"):
        nn.ConvTranspose1d(2, 4, 3)(ad.zeros(1, 3, 5))
    with pytest.raises(ad.ShapeError, match=r"AdaptiveMaxPool2d\(output_size=2\): expected a 4-D "
                                            r"input"):
        nn.AdaptiveMaxPool2d(2)(ad.zeros(3, 4))
    with pytest.raises(ValueError, match="Bilinear: in2_features must be a whole number >= 0"):
        nn.Bilinear(2, -1, 3)


def test_a_model_of_the_new_layers_saves_and_loads(tmp_path):
    ad.manual_seed(2)
    model = nn.Sequential(nn.Conv3d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(1, 2),
                          nn.AdaptiveMaxPool2d((2, 3)), nn.Flatten(2), nn.ConvTranspose1d(8, 2, 3,
                                                                                          stride=2),
                          nn.AdaptiveMaxPool1d(4))
    path = tmp_path / "model.safetensors"
    nn.save(model, path)
    loaded = nn.load(path)
    x = ad.randn(2, 1, 2, 5, 6)
    assert model(x).shape == (2, 2, 4)
    np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())


# ---------------------------------------------------------------- ad.compile

def test_compiled_training_steps_give_eager_numbers():
    """A spatial transformer (theta → affine_grid → grid_sample) and the new layers replay
    under ad.compile: the gather indices the grid gives are recomputed on every call."""
    class Model(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.theta = nn.Parameter(ad.tensor(np.tile(
                np.array([[0.9, 0.2, 0.1], [-0.1, 1.1, 0.05]], np.float32), (2, 1, 1))))
            self.conv = nn.Conv3d(2, 3, (1, 3, 3), padding=(0, 1, 1))
            self.pool = nn.AdaptiveMaxPool2d((2, 2))
            self.up = nn.ConvTranspose1d(2, 3, 2, stride=2)
            self.mix = nn.Bilinear(12, 40, 2)

        def forward(self, x: ad.Tensor) -> ad.Tensor:
            points = F.affine_grid(self.theta, (2, 2, 4, 5), align_corners=False)
            warped = F.grid_sample(x, points, padding_mode="reflection", align_corners=False)
            pooled = self.pool(self.conv(warped.unsqueeze(2)).squeeze(2)).flatten(1)  # (N, 12)
            return self.mix(pooled, self.up(warped.flatten(2)).flatten(1)[:, :40])

    x = ad.tensor(draw(111, 2, 2, 6, 7).astype(np.float32))
    assert_compiled_steps_give_eager_numbers(Model, x)
