"""Conv1d, ConvTranspose2d (nn/conv.py), F.interpolate and Upsample (nn/upsampling.py), and
F.pad's modes 'reflect', 'replicate' and 'circular' (also as the convs' padding_mode):
PyTorch on the same weights (values and gradients, float32 and float64, torch's state
dicts loaded into ours, torch's printed forms), numbers by hand and identities that need
no torch, gradcheck to second order, and errors that name the op, the values and the fix."""
from __future__ import annotations

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F

DTYPES = [np.float32, np.float64]


def leaf(shape: tuple[int, ...], seed: int) -> ad.Tensor:
    """A float64 tensor of standard normals that requires grad (for gradcheck)."""
    return ad.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


def compare_function(torch_oracle, ours, theirs, arrays, dtype, seed=0):
    """ours(*tensors) and theirs(*torch tensors) on the same arrays: values, and the
    gradients of every array for one random upstream gradient."""
    torch = torch_oracle.torch
    arrays = [np.asarray(a, dtype=dtype) for a in arrays]
    xa = [ad.tensor(a, requires_grad=True) for a in arrays]
    xt = [torch.tensor(a, requires_grad=True) for a in arrays]
    ya, yt = ours(*xa), theirs(*xt)
    assert ya.shape == tuple(yt.shape) and ya.dtype == dtype
    torch_oracle.assert_close(ya.numpy(), yt.detach().numpy(), dtype)
    upstream = np.random.default_rng(seed).standard_normal(ya.shape).astype(dtype)
    ya.backward(upstream)
    yt.backward(torch.from_numpy(upstream))
    for k, (a, t) in enumerate(zip(xa, xt)):
        torch_oracle.assert_close(a.grad.numpy(), t.grad.numpy(), dtype, err_msg=f"input {k}")


# ---------------------------------------------------------------- Conv1d

CONV1DS = [((3, 8, 3), {}),
           ((4, 6, 3), {"stride": 2, "padding": 1, "dilation": 2, "groups": 2}),
           ((2, 4, 4), {"padding": "same", "dilation": 3}),
           ((2, 4, 3), {"padding": "valid", "bias": False}),
           ((4, 4, 5), {"groups": 4, "stride": 3, "padding": 2}),
           ((2, 3, 4), {"padding": "same", "padding_mode": "reflect"}),
           ((2, 3, 3), {"padding": 2, "padding_mode": "replicate", "stride": 2}),
           ((2, 3, 3), {"padding": 3, "padding_mode": "circular"})]


@pytest.mark.filterwarnings("ignore:Using padding='same'")   # torch's, on its own speed
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("args, kwargs", CONV1DS)
def test_conv1d_matches_torch(torch_oracle, args, kwargs, dtype):
    torch = torch_oracle.torch
    x = np.random.default_rng(1).standard_normal((2, args[0], 11))
    torch_oracle.compare(nn.Conv1d(*args, **kwargs), torch.nn.Conv1d(*args, **kwargs), x, dtype)


@pytest.mark.parametrize("args, kwargs", CONV1DS)
def test_conv1d_loads_torchs_state_dict_and_prints_like_torch(torch_oracle, args, kwargs):
    torch = torch_oracle.torch
    torch.manual_seed(0)
    ours, theirs = nn.Conv1d(*args, **kwargs), torch.nn.Conv1d(*args, **kwargs)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(2).standard_normal((3, args[0], 9)).astype(np.float32)
    torch_oracle.assert_close(ours(ad.tensor(x)).numpy(),
                              theirs(torch.from_numpy(x)).detach().numpy(), np.float32)
    assert repr(ours) == repr(theirs)


def test_conv1d_init_is_torchs_kaiming_uniform():
    """weight and bias ~ U(-1/√fan_in, 1/√fan_in), fan_in = in_channels / groups · k."""
    ad.manual_seed(0)
    conv = nn.Conv1d(32, 64, 5, groups=2)
    bound = 1 / np.sqrt(16 * 5)
    w = conv.weight.numpy().astype(np.float64)
    assert conv.weight.dtype == np.float32 and conv.weight.shape == (64, 16, 5)
    assert bound * 0.99 < np.abs(w).max() <= bound
    assert w.var() == pytest.approx(bound ** 2 / 3, rel=0.05)
    assert np.abs(conv.bias.numpy()).max() <= bound and conv.bias.shape == (64,)
    assert list(nn.Conv1d(1, 2, 3, bias=False).state_dict()) == ["weight"]


def test_conv1d_by_hand():
    x = ad.tensor([[[1.0, 2.0, 4.0, 8.0, 16.0]]])
    differences = F.conv1d(x, ad.tensor([[[-1.0, 1.0]]]))
    assert differences.tolist() == [[[1.0, 2.0, 4.0, 8.0]]]
    assert F.conv1d(x, ad.tensor([[[1.0, 0.0, 1.0]]]), stride=2, padding=1).tolist() == \
        [[[2.0, 10.0, 8.0]]]                     # x[p·2 - 1] + x[p·2 + 1], zeros outside
    assert F.conv1d(x, ad.tensor([[[1.0, 1.0]]]), dilation=3).tolist() == [[[9.0, 18.0]]]
    conv = nn.Conv1d(1, 1, 3, padding=1, padding_mode="replicate", bias=False)
    conv.weight.numpy()[...] = [[[1.0, 0.0, 0.0]]]                  # reads x[p - 1]
    assert conv(x).tolist() == [[[1.0, 1.0, 2.0, 4.0, 8.0]]]        # the edge repeated


def test_conv1d_passes_gradcheck_to_second_order():
    x, w, b = leaf((2, 4, 6), 3), leaf((4, 2, 3), 4), leaf((4,), 5)
    assert ad.gradcheck(lambda *t: F.conv1d(*t, stride=2, padding=1, dilation=2, groups=2),
                        (x, w, b))
    assert ad.gradgradcheck(lambda *t: F.conv1d(*t, padding="same"),
                            (x[:1], leaf((2, 4, 4), 6), b[:2]))
    conv = nn.Conv1d(4, 2, 3, padding=2, padding_mode="reflect").to(ad.float64)
    assert ad.gradgradcheck(conv, (x[:1],))


def test_conv1d_errors_name_the_layer_the_shapes_and_the_fix():
    conv = nn.Conv1d(4, 8, 5)
    with pytest.raises(ad.ShapeError, match=r"Conv1d\(4, 8, kernel_size=\(5,\), stride=\(1,\)\)"
                                            r": expected a 3-D input \(N, C, L\), got shape "
                                            r"\(4, 20\); add a batch dim with x.unsqueeze\(0\)"):
        conv(ad.zeros(4, 20))
    with pytest.raises(ad.ShapeError, match=r"input of shape \(2, 3, 20\) has 3 channels "
                                            r"\(dim 1\), but weight of shape \(8, 4, 5\) with "
                                            r"groups=1 expects 4"):
        conv(ad.zeros(2, 3, 20))
    with pytest.raises(ad.ShapeError, match=r"the kernel \(5,\) is longer than the input "
                                            r"length 3 padded by \(0, 0\) to 3"):
        conv(ad.zeros(2, 4, 3))
    with pytest.raises(ValueError, match=r"Conv1d: in_channels \(3\) must be divisible by "
                                         r"groups \(2\).*use groups=1 or 3"):
        nn.Conv1d(3, 6, 3, groups=2)
    with pytest.raises(ValueError, match="Conv1d: kernel_size must be an int >= 1 or a tuple "
                                         "of 1 of them, got"):
        nn.Conv1d(1, 2, (3, 3))
    with pytest.raises(ValueError, match=r"padding='same' is not supported for strided "
                                         r"convolutions \(stride \(2,\)\)"):
        nn.Conv1d(1, 2, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="Conv1d: padding_mode must be 'zeros', 'reflect', "
                                         "'replicate' or 'circular', got 'mirror'"):
        nn.Conv1d(1, 2, 3, padding_mode="mirror")
    with pytest.raises(ad.ShapeError, match=r"conv1d: weight must have shape \(out_channels, "
                                            r"in_channels / groups, kernel_size\)"):
        F.conv1d(ad.zeros(1, 1, 5), ad.zeros(1, 1, 1, 3))
    with pytest.raises(ad.ShapeError, match=r"conv1d: bias must have shape \(2,\)"):
        F.conv1d(ad.zeros(1, 1, 5), ad.zeros(2, 1, 3), ad.zeros(3))


def test_conv2d_padding_modes_match_torch(torch_oracle):
    torch = torch_oracle.torch
    x = np.random.default_rng(6).standard_normal((2, 3, 7, 6))
    for mode, padding in (("reflect", 2), ("replicate", (1, 3)), ("circular", "same")):
        kwargs = {"padding": padding, "padding_mode": mode, "groups": 3}
        ours, theirs = nn.Conv2d(3, 6, (3, 4), **kwargs), torch.nn.Conv2d(3, 6, (3, 4), **kwargs)
        torch_oracle.compare(ours, theirs, x, np.float64)
        assert repr(ours) == repr(theirs)


# ---------------------------------------------------------------- ConvTranspose2d

CONV_TRANSPOSES = [((3, 4, 3), {}),
                   ((4, 6, (3, 2)), {"stride": 2, "padding": 1, "output_padding": 1,
                                     "groups": 2}),
                   ((2, 4, 3), {"stride": (3, 2), "padding": (2, 0), "dilation": (2, 1),
                                "output_padding": (2, 1)}),
                   ((2, 3, 2), {"dilation": 3, "output_padding": 2, "padding": 1}),
                   ((2, 3, 1), {"stride": 4, "padding": 1, "output_padding": 3}),
                   ((4, 4, 4), {"groups": 4, "stride": 2, "padding": 1, "bias": False})]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("args, kwargs", CONV_TRANSPOSES)
def test_conv_transpose2d_matches_torch(torch_oracle, args, kwargs, dtype):
    torch = torch_oracle.torch
    x = np.random.default_rng(7).standard_normal((2, args[0], 5, 4))
    torch_oracle.compare(nn.ConvTranspose2d(*args, **kwargs),
                         torch.nn.ConvTranspose2d(*args, **kwargs), x, dtype)


@pytest.mark.parametrize("args, kwargs", CONV_TRANSPOSES)
def test_conv_transpose2d_loads_torchs_state_dict_and_prints_like_torch(torch_oracle, args,
                                                                         kwargs):
    torch = torch_oracle.torch
    torch.manual_seed(1)
    ours, theirs = nn.ConvTranspose2d(*args, **kwargs), torch.nn.ConvTranspose2d(*args, **kwargs)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(8).standard_normal((2, args[0], 3, 6)).astype(np.float32)
    torch_oracle.assert_close(ours(ad.tensor(x)).numpy(),
                              theirs(torch.from_numpy(x)).detach().numpy(), np.float32)
    assert repr(ours) == repr(theirs)


def test_conv_transpose2d_output_size_like_torch(torch_oracle):
    torch = torch_oracle.torch
    ours = nn.ConvTranspose2d(3, 2, 3, stride=(3, 2), padding=1)
    theirs = torch_oracle.copy(ours, torch.nn.ConvTranspose2d(3, 2, 3, stride=(3, 2), padding=1),
                               np.float32)
    x = np.random.default_rng(9).standard_normal((2, 3, 4, 5)).astype(np.float32)
    for size in [(10, 9), (12, 10), (2, 2, 11, 10)]:
        torch_oracle.assert_close(ours(ad.tensor(x), output_size=size).numpy(),
                                  theirs(torch.from_numpy(x), output_size=size).detach().numpy(),
                                  np.float32)
    with pytest.raises(ValueError, match=r"requested an output size of \(13, 9\), but valid "
                                         r"sizes range from \(10, 9\) to \(12, 10\) \(for an "
                                         r"input of \(4, 5\)\)"):
        ours(ad.tensor(x), output_size=(13, 9))
    with pytest.raises(ValueError, match=r"output_size must be \(H_out, W_out\) or"):
        ours(ad.tensor(x), output_size=(10,))


def test_conv_transpose2d_is_the_adjoint_of_conv2d():
    """⟨conv2d(x, W), y⟩ = ⟨x, conv_transpose2d(y, W)⟩ for every stride, padding, dilation
    and groups, with the output_padding that gives back x's size."""
    rng = np.random.default_rng(10)
    for stride, padding, dilation, groups, size in [(1, 0, 1, 1, (6, 5)), (2, 1, 1, 2, (7, 8)),
                                                    ((3, 2), (2, 1), (1, 2), 1, (9, 7)),
                                                    (2, 0, 3, 3, (10, 9))]:
        x = ad.tensor(rng.standard_normal((2, 6) + size))
        w = ad.tensor(rng.standard_normal((4 * groups, 6 // groups, 3, 2)))
        y = F.conv2d(x, w, stride=stride, padding=padding, dilation=dilation, groups=groups)
        upstream = ad.tensor(rng.standard_normal(y.shape))
        stride_, padding_, dilation_ = (np.broadcast_to(v, 2) for v in (stride, padding, dilation))
        smallest = [(n - 1) * s - 2 * p + d * (k - 1) + 1 for n, s, p, d, k in
                    zip(y.shape[2:], stride_, padding_, dilation_, (3, 2))]
        extra = tuple(int(a - b) for a, b in zip(size, smallest))
        back = F.conv_transpose2d(upstream, w, stride=stride, padding=padding,
                                  output_padding=extra, groups=groups, dilation=dilation)
        assert back.shape == x.shape
        np.testing.assert_allclose((y * upstream).sum().item(), (x * back).sum().item(),
                                   rtol=1e-12)


def test_conv_transpose2d_by_hand():
    x = ad.tensor([[[[1.0, 2.0]]]])
    assert F.conv_transpose2d(x, ad.ones(1, 1, 1, 2), stride=2).tolist() == \
        [[[[1.0, 1.0, 2.0, 2.0]]]]                # each pixel spreads over its own 1 × 2 window
    assert F.conv_transpose2d(x, ad.ones(1, 1, 1, 3), stride=2).tolist() == \
        [[[[1.0, 1.0, 3.0, 2.0, 2.0]]]]            # windows overlapping at the middle add up
    kernel = ad.tensor([[[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]]])
    assert F.conv_transpose2d(ad.ones(1, 1, 1, 1), kernel).tolist() == kernel.tolist()
    assert F.conv_transpose2d(ad.ones(1, 1, 1, 1), kernel, padding=(0, 1)).tolist() == \
        [[[[2.0], [5.0]]]]                         # padding cuts the output's edges
    layer = nn.ConvTranspose2d(1, 1, 2, stride=2, output_padding=1)
    layer.weight.numpy()[...] = 1.0
    layer.bias.numpy()[...] = 0.5
    assert layer(ad.ones(1, 1, 1, 1)).tolist() == [[[[1.5, 1.5, 0.5], [1.5, 1.5, 0.5],
                                                     [0.5, 0.5, 0.5]]]]   # output_padding rows


def test_conv_transpose2d_init_and_shapes_are_torchs():
    """fan_in is read from the weight (C_in, C_out / groups, kh, kw) as torch does:
    C_out / groups · kh · kw."""
    ad.manual_seed(0)
    layer = nn.ConvTranspose2d(8, 12, (3, 2), groups=2)
    bound = 1 / np.sqrt(6 * 3 * 2)
    assert layer.weight.shape == (8, 6, 3, 2) and layer.bias.shape == (12,)
    assert bound * 0.95 < np.abs(layer.weight.numpy()).max() <= bound
    assert np.abs(layer.bias.numpy()).max() <= bound
    assert type(layer).state_shapes(**layer.hyperparameters()) == \
        {"weight": (8, 6, 3, 2), "bias": (12,)}


def test_conv_transpose2d_passes_gradcheck_to_second_order():
    x, w, b = leaf((1, 4, 3, 2), 11), leaf((4, 1, 2, 3), 12), leaf((2,), 13)
    assert ad.gradcheck(lambda *t: F.conv_transpose2d(*t, stride=2, padding=1, groups=2,
                                                      output_padding=(1, 0)), (x, w, b))
    assert ad.gradgradcheck(lambda *t: F.conv_transpose2d(*t, stride=(1, 2), dilation=(2, 1),
                                                          groups=2), (x, w, b))


def test_conv_transpose2d_errors_name_the_layer_the_values_and_the_fix():
    layer = nn.ConvTranspose2d(4, 2, 3)
    with pytest.raises(ad.ShapeError, match=r"ConvTranspose2d\(4, 2, kernel_size=\(3, 3\), "
                                            r"stride=\(1, 1\)\): expected a 4-D input"):
        layer(ad.zeros(4, 5, 5))
    with pytest.raises(ad.ShapeError, match=r"input of shape \(1, 3, 5, 5\) has 3 channels "
                                            r"\(dim 1\), but weight of shape \(4, 2, 3, 3\) with "
                                            r"groups=1 expects 4 \(weight.shape\[0\]\)"):
        layer(ad.zeros(1, 3, 5, 5))
    with pytest.raises(ValueError, match=r"output_padding \(1, 1\) must be smaller than either "
                                         r"the stride \(1, 1\) or the dilation \(1, 1\)"):
        nn.ConvTranspose2d(4, 2, 3, output_padding=1)(ad.zeros(1, 4, 5, 5))
    with pytest.raises(ad.ShapeError, match=r"the output would be \(-1, -1\): padding \(3, 3\) "
                                            r"cuts more than the \(5, 5\)"):
        nn.ConvTranspose2d(4, 2, 3, padding=3)(ad.zeros(1, 4, 3, 3))
    with pytest.raises(ValueError, match="ConvTranspose2d: padding_mode must be 'zeros', got "
                                         "'reflect'"):
        nn.ConvTranspose2d(4, 2, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="ConvTranspose2d: padding must be an int or a tuple"):
        nn.ConvTranspose2d(4, 2, 3, padding="same")
    with pytest.raises(ValueError, match=r"ConvTranspose2d: out_channels \(3\) must be "
                                         r"divisible by groups \(2\)"):
        nn.ConvTranspose2d(4, 3, 3, groups=2)
    with pytest.raises(ad.ShapeError, match=r"conv_transpose2d: weight of shape \(3, 2, 1, 1\) "
                                            r"has 3 input channels \(dim 0\), which groups=2 "
                                            r"does not divide"):
        F.conv_transpose2d(ad.zeros(1, 3, 2, 2), ad.zeros(3, 2, 1, 1), groups=2)


# ---------------------------------------------------------------- interpolate, Upsample

# (input shape, kwargs); 1-D 'nearest' keeps to factors where torch's backward agrees with
# its forward (with scale_factor 1.2 on 3 or 2.2 on 2 its backward copies or halves the
# index, which its forward does not: ours is the derivative of the forward)
INTERPOLATIONS = [((2, 3, 5), {"scale_factor": 2}),
                  ((2, 3, 5), {"scale_factor": 1.5}),
                  ((2, 3, 7), {"scale_factor": 0.5}),
                  ((2, 3, 5), {"size": 8, "mode": "nearest-exact"}),
                  ((2, 3, 5), {"scale_factor": 1.5, "mode": "linear"}),
                  ((2, 3, 5), {"scale_factor": 1.5, "mode": "linear", "align_corners": True}),
                  ((2, 3, 7), {"size": 3, "mode": "linear"}),
                  ((2, 3, 7), {"size": 1, "mode": "linear", "align_corners": True}),
                  ((2, 3, 7), {"size": 3, "mode": "area"}),
                  ((2, 3, 4, 5), {"scale_factor": 2}),
                  ((2, 3, 4, 5), {"scale_factor": (1.5, 0.5)}),
                  ((2, 3, 3, 4), {"scale_factor": (1.2, 2.2)}),   # torch's 2-D copy and halving
                  ((2, 3, 5, 4), {"size": (7, 3), "mode": "nearest"}),
                  ((2, 3, 5, 4), {"scale_factor": 1.7, "mode": "nearest-exact"}),
                  ((2, 3, 4, 5), {"scale_factor": 2, "mode": "bilinear"}),
                  ((2, 3, 4, 5), {"scale_factor": 2, "mode": "bilinear", "align_corners": True}),
                  ((2, 3, 5, 7), {"scale_factor": (0.5, 1.5), "mode": "bilinear"}),
                  ((2, 3, 5, 7), {"size": (3, 10), "mode": "bilinear", "align_corners": True}),
                  ((2, 3, 5, 7), {"scale_factor": 1.7, "mode": "bilinear",
                                  "recompute_scale_factor": True}),
                  ((2, 3, 6, 7), {"size": (4, 2), "mode": "area"})]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, kwargs", INTERPOLATIONS)
def test_interpolate_matches_torch(torch_oracle, shape, kwargs, dtype):
    x = np.random.default_rng(14).standard_normal(shape)
    compare_function(torch_oracle, lambda t: F.interpolate(t, **kwargs),
                     lambda t: torch_oracle.torch.nn.functional.interpolate(t, **kwargs),
                     [x], dtype)


def test_interpolate_nearest_indices_are_torchs_for_many_sizes(torch_oracle):
    """torch computes the nearest source index in float32: ⌊j · s⌋ rounds differently from
    exact arithmetic for some sizes (e.g. 6 → 74), which float64 would miss."""
    functional = torch_oracle.torch.nn.functional
    for mode in ("nearest", "nearest-exact"):
        for size in range(1, 13):
            x = np.arange(size, dtype=np.float32).reshape(1, 1, size)
            for out in (1, 5, 7, 13, 29, 74):
                ours = F.interpolate(ad.tensor(x), size=out, mode=mode).numpy()
                theirs = functional.interpolate(torch_oracle.torch.from_numpy(x), size=out,
                                                mode=mode).numpy()
                np.testing.assert_array_equal(ours, theirs, err_msg=f"{mode} {size} → {out}")


@pytest.mark.parametrize("kwargs", [{"scale_factor": 2}, {"size": (5, 3), "mode": "bilinear"},
                                    {"scale_factor": (2, 1.5), "mode": "bilinear",
                                     "align_corners": True},
                                    {"size": 4, "mode": "nearest-exact"}])
def test_upsample_matches_torch_and_prints_like_it(torch_oracle, kwargs):
    torch = torch_oracle.torch
    ours, theirs = nn.Upsample(**kwargs), torch.nn.Upsample(**kwargs)
    x = np.random.default_rng(15).standard_normal((2, 3, 4, 3))
    for dtype in DTYPES:
        torch_oracle.compare(ours, theirs, x, dtype)
    assert repr(ours) == repr(theirs)


def test_interpolate_by_hand():
    row = ad.tensor([[[1.0, 2.0]]])
    assert F.interpolate(row, scale_factor=2).tolist() == [[[1.0, 1.0, 2.0, 2.0]]]
    # pixel centres: source positions (j + ½)/2 − ½ = -¼ (clamped to 0), ¼, ¾, 1¼
    assert F.interpolate(row, scale_factor=2, mode="linear").tolist() == \
        [[[1.0, 1.25, 1.75, 2.0]]]
    # corners: source positions j · (2 − 1)/(3 − 1) = 0, ½, 1
    assert F.interpolate(row, size=3, mode="linear", align_corners=True).tolist() == \
        [[[1.0, 1.5, 2.0]]]
    four = ad.arange(4, dtype=ad.float32).reshape(1, 1, 4)
    assert F.interpolate(four, scale_factor=0.5).tolist() == [[[0.0, 2.0]]]
    assert F.interpolate(four, size=2, mode="linear").tolist() == [[[0.5, 2.5]]]
    assert F.interpolate(four, size=3, mode="area").tolist() == [[[0.5, 1.5, 2.5]]]
    three = ad.arange(3, dtype=ad.float32).reshape(1, 1, 3)
    assert F.interpolate(three, size=2).tolist() == [[[0.0, 1.0]]]                # ⌊j · 1.5⌋
    assert F.interpolate(three, size=2, mode="nearest-exact").tolist() == [[[0.0, 2.0]]]
    # torch's quirk, kept: 2-D nearest copies a dim whose size does not change, 1-D does not
    assert F.interpolate(three, scale_factor=1.2).tolist() == [[[0.0, 0.0, 1.0]]]
    assert F.interpolate(three.reshape(1, 1, 1, 3), scale_factor=1.2).tolist() == \
        [[[[0.0, 1.0, 2.0]]]]
    square = ad.tensor([[[[0.0, 1.0], [2.0, 3.0]]]])
    assert F.interpolate(square, size=3, mode="bilinear", align_corners=True).tolist() == \
        [[[[0.0, 0.5, 1.0], [1.0, 1.5, 2.0], [2.0, 2.5, 3.0]]]]
    assert F.interpolate(ad.tensor([[[3, 7]]]), scale_factor=2).tolist() == [[[3, 3, 7, 7]]]


@pytest.mark.parametrize("shape, kwargs", [
    ((2, 2, 5), {"scale_factor": 1.5, "mode": "linear"}),
    ((1, 2, 4, 3), {"size": (6, 2), "mode": "bilinear", "align_corners": True}),
    ((1, 2, 4, 3), {"scale_factor": 2}),
    ((1, 2, 4, 3), {"size": (3, 5), "mode": "nearest-exact"}),
    ((2, 2, 5), {"size": 3, "mode": "area"})])
def test_interpolate_passes_gradcheck_to_second_order(shape, kwargs):
    def f(t):
        return F.interpolate(t, **kwargs) ** 2

    assert ad.gradcheck(f, (leaf(shape, 16),))
    assert ad.gradgradcheck(f, (leaf(shape, 17),))


def test_upsample_rebuilds_from_its_hyperparameters_and_json():
    model = nn.Sequential(nn.Conv1d(2, 4, 3, padding_mode="circular", padding=1),
                          nn.Upsample(scale_factor=(2,), mode="linear", align_corners=True),
                          nn.Upsample(size=[12]))
    rebuilt = nn.from_json(model.to_json())
    assert repr(rebuilt) == repr(model)
    rebuilt.load_state_dict(model.state_dict())
    x = ad.tensor(np.random.default_rng(18).standard_normal((1, 2, 5)).astype(np.float32))
    assert model(x).shape == (1, 4, 12)
    np.testing.assert_array_equal(rebuilt(x).numpy(), model(x).numpy())
    deconv = nn.ConvTranspose2d(4, 6, (3, 2), stride=2, output_padding=(1, 0), groups=2,
                                dilation=(1, 2), bias=False)
    assert repr(nn.from_json(deconv.to_json())) == repr(deconv)


def test_interpolate_errors_name_the_op_the_values_and_the_fix():
    x3, x4 = ad.zeros(1, 2, 4), ad.zeros(1, 2, 4, 4)
    with pytest.raises(ValueError, match="interpolate: mode 'bicubic' is not supported; the "
                                         "modes are 'nearest', 'nearest-exact', 'linear' "
                                         r"\(3-D input\), 'bilinear' \(4-D input\) and 'area'"):
        F.interpolate(x4, scale_factor=2, mode="bicubic")
    with pytest.raises(ValueError, match="mode 'cubic' is unknown"):
        F.interpolate(x4, scale_factor=2, mode="cubic")
    with pytest.raises(ad.ShapeError, match=r"got shape \(1, 1, 2, 2, 2\); 5-D input \(mode "
                                            r"'trilinear'\) is not supported"):
        F.interpolate(ad.zeros(1, 1, 2, 2, 2), scale_factor=2)
    with pytest.raises(ad.ShapeError, match=r"mode 'linear' takes a 3-D input, got shape "
                                            r"\(1, 2, 4, 4\); for a 4-D input use "
                                            r"mode='bilinear'"):
        F.interpolate(x4, scale_factor=2, mode="linear")
    with pytest.raises(ValueError, match="give exactly one of size and scale_factor, got both"):
        F.interpolate(x3, size=2, scale_factor=2)
    with pytest.raises(ValueError, match="Upsample: give exactly one of size and scale_factor, "
                                         "got neither"):
        nn.Upsample()
    with pytest.raises(ValueError, match="align_corners applies to the modes 'linear' and "
                                         "'bilinear' only, not to 'nearest'"):
        F.interpolate(x3, size=2, align_corners=False)
    with pytest.raises(ValueError, match=r"size must be an int or 2 ints, one per dim after "
                                         r"batch and channels, for an input of shape "
                                         r"\(1, 2, 4, 4\); got \(3,\)"):
        F.interpolate(x4, size=(3,))
    with pytest.raises(ValueError, match=r"the output size \(0,\) must be at least 1"):
        F.interpolate(x3, scale_factor=0.1)
    with pytest.raises(ValueError, match="antialias=True .* is not supported"):
        F.interpolate(x4, scale_factor=0.5, mode="bilinear", antialias=True)
    with pytest.raises(ad.DtypeError, match="mode 'bilinear' averages values and needs a float "
                                            "input, got int64"):
        F.interpolate(ad.zeros(1, 1, 2, 2, dtype=ad.int64), scale_factor=2, mode="bilinear")
    with pytest.raises(ValueError, match="recompute_scale_factor applies to a scale_factor"):
        F.interpolate(x3, size=3, recompute_scale_factor=True)
    with pytest.raises(ad.ShapeError, match=r"Upsample\(scale_factor=2.0, mode='nearest'\): "
                                            r"expected a 3-D input"):
        nn.Upsample(scale_factor=2)(ad.zeros(4, 4))


# ---------------------------------------------------------------- F.pad's modes

PADS = [("reflect", (2, 5), (2, 3)), ("reflect", (2, 3, 5), (-1, 4)),
        ("reflect", (2, 3, 4, 5), (1, 2, 3, 0)), ("reflect", (1, 2, 3, 4, 5), (1, 2, 2, 1, 0, 2)),
        ("replicate", (2, 3, 5), (4, 7)), ("replicate", (3, 4, 5), (-2, 1, 2, -1)),
        ("replicate", (2, 2, 3, 4, 5), (2, 2, 2, 2, 2, 2)),
        ("circular", (2, 3, 5), (5, 2)), ("circular", (1, 3, 4, 5), (-1, 2, 3, -1)),
        ("circular", (2, 3, 4, 5), (1, 1, 1, 1, 1, 1))]


@pytest.mark.parametrize("mode, shape, pad", PADS)
def test_pad_modes_match_torch(torch_oracle, mode, shape, pad):
    torch = torch_oracle.torch
    x = np.random.default_rng(19).standard_normal(shape)
    y = F.pad(ad.tensor(x), pad, mode=mode)
    np.testing.assert_array_equal(y.numpy(), torch.nn.functional.pad(torch.tensor(x), pad,
                                                                      mode=mode).numpy())
    compare_function(torch_oracle, lambda t: F.pad(t, pad, mode=mode),
                     lambda t: torch.nn.functional.pad(t, pad, mode=mode), [x], np.float64)


def test_pad_modes_by_hand():
    x = ad.tensor([[[1.0, 2.0, 3.0]]])
    assert F.pad(x, (2, 1), mode="reflect").tolist() == [[[3.0, 2.0, 1.0, 2.0, 3.0, 2.0]]]
    assert F.pad(x, (2, 1), mode="replicate").tolist() == [[[1.0, 1.0, 1.0, 2.0, 3.0, 3.0]]]
    assert F.pad(x, (2, 1), mode="circular").tolist() == [[[2.0, 3.0, 1.0, 2.0, 3.0, 1.0]]]
    assert F.pad(x, (-1, 2), mode="circular").tolist() == [[[2.0, 3.0, 2.0, 3.0]]]  # crop first
    image = ad.tensor([[[1.0, 2.0], [3.0, 4.0]]])
    assert F.pad(image, (1, 0, 0, 1), mode="replicate").tolist() == \
        [[[1.0, 1.0, 2.0], [3.0, 3.0, 4.0], [3.0, 3.0, 4.0]]]
    assert F.pad(ad.tensor([[5, 6]]), (1, 1), mode="reflect").tolist() == [[6, 5, 6, 5]]
    leaf_ = ad.tensor([[[1.0, 2.0, 3.0]]], requires_grad=True)
    F.pad(leaf_, (2, 2), mode="replicate").sum().backward()
    assert leaf_.grad.tolist() == [[[3.0, 1.0, 3.0]]]        # each edge read three times


@pytest.mark.parametrize("mode, pad", [("reflect", (3, 1, 2, -1)), ("replicate", (2, 0, 1, 3)),
                                       ("circular", (4, 2, -1, 2))])
def test_pad_modes_pass_gradcheck_to_second_order(mode, pad):
    def f(t):
        return F.pad(t, pad, mode=mode) ** 2

    x = leaf((1, 2, 3, 4), 20)
    assert ad.gradcheck(f, (x,))
    assert ad.gradgradcheck(f, (x,))


def test_pad_mode_errors_name_the_rule_and_the_fix():
    x = ad.zeros(1, 2, 3)
    with pytest.raises(ad.ShapeError, match=r"pad: reflect padding \(3, 0\) of dim 2 of size 3 "
                                            r"\(input shape \(1, 2, 3\)\) must be less than "
                                            r"the dim's size 3.*use mode='replicate' or "
                                            r"'circular'"):
        F.pad(x, (3, 0), mode="reflect")
    with pytest.raises(ad.ShapeError, match=r"pad: circular padding \(0, 4\) of dim 2 .* wraps "
                                            r"around more than once; each amount must be at "
                                            r"most 3"):
        F.pad(x, (0, 4), mode="circular")
    with pytest.raises(ad.ShapeError, match=r"pad: mode='replicate' pads the last 1, 2 or 3 "
                                            r"dims.*got pad \(1, 1\) \(length 2\) for an input "
                                            r"of shape \(1, 1, 2, 3\)"):
        F.pad(ad.zeros(1, 1, 2, 3), (1, 1), mode="replicate")
    with pytest.raises(ad.ShapeError, match=r"padding \(-2, -1\) leaves nothing of dim 2"):
        F.pad(x, (-2, -1), mode="replicate")
    with pytest.raises(ValueError, match="pad: mode='reflect' fills with the input's own values "
                                         "and takes no value, got value=1.0"):
        F.pad(x, (1, 1), mode="reflect", value=1.0)
    assert F.pad(x, (1, 1), mode="reflect", value=0).shape == (1, 2, 5)     # as torch allows
    with pytest.raises(ValueError, match="pad: mode must be 'constant', 'reflect', 'replicate' "
                                         "or 'circular', got 'edge'"):
        F.pad(x, (1, 1), mode="edge")


# ---------------------------------------------------------------- ad.compile

def training_step(model: nn.Module):
    """One step of gradient descent on mean(model(x)²), returning the loss."""
    def step(x: ad.Tensor) -> ad.Tensor:
        model.zero_grad()
        loss = (model(x) ** 2).mean()
        loss.backward()
        with ad.no_grad():
            for p in model.parameters():
                p -= 0.1 * p.grad
        return loss.detach()

    return step


def assert_compiled_steps_give_eager_numbers(make_model, x: ad.Tensor) -> None:
    """Three training steps of a model from `make_model()` (seeded alike) on x, 0.5x and
    2x: compiled (traced, then replayed twice) they give eager's losses bit for bit."""
    runs = []
    for compiled in (False, True):
        ad.manual_seed(0)
        step = training_step(make_model())
        step = ad.compile(step, fullgraph=True) if compiled else step
        runs.append([step(x * scale).item() for scale in (1.0, 0.5, 2.0)])
        if compiled:
            assert step.cache_info().replays == 2
    assert runs[0] == runs[1]


def test_compiled_training_steps_give_eager_numbers():
    """The new layers replay under ad.compile: their index arrays and interpolation
    matrices depend on shapes only."""
    x = ad.tensor(np.random.default_rng(21).standard_normal((2, 2, 3, 4)).astype(np.float32))
    assert_compiled_steps_give_eager_numbers(
        lambda: nn.Sequential(nn.ConvTranspose2d(2, 3, 4, stride=2, padding=1),
                              nn.Upsample(scale_factor=1.5, mode="bilinear"),
                              nn.Conv2d(3, 2, 3, padding=1, padding_mode="reflect"),
                              nn.Upsample(size=(5, 7))), x)
