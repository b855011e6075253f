"""Conv2d (nn/conv.py) and the pooling layers (nn/pooling.py): PyTorch on the same weights
(values and gradients, float32 and float64), torch's printed forms, its initialisation,
state_dict keys, and errors that name the layer, the shapes and the fix."""
import numpy as np
import pytest

import autodiff as ad
import nn

DTYPES = [np.float32, np.float64]


CONVS = [((3, 8, 3), {}),
         ((3, 8, 3), {"padding": 1}),
         ((4, 6, (3, 2)), {"stride": (2, 1), "padding": (1, 0), "dilation": (1, 2)}),
         ((4, 6, 3), {"padding": "same", "groups": 2}),
         ((2, 4, 4), {"padding": "same", "dilation": 2}),
         ((2, 4, 3), {"padding": "valid", "bias": False}),
         ((4, 4, 3), {"groups": 4, "stride": 2})]


# ---------------------------------------------------------------- Conv2d

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("args, kwargs", CONVS)
def test_conv2d_matches_torch(torch_oracle, args, kwargs, dtype):
    torch = torch_oracle.torch
    x = np.random.default_rng(1).standard_normal((2, args[0], 9, 8))
    torch_oracle.compare(nn.Conv2d(*args, **kwargs), torch.nn.Conv2d(*args, **kwargs), x, dtype)


@pytest.mark.parametrize("args, kwargs", CONVS)
def test_conv2d_prints_and_keys_like_torch(args, kwargs):
    torch = pytest.importorskip("torch")
    ours, theirs = nn.Conv2d(*args, **kwargs), torch.nn.Conv2d(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    assert {k: v.shape for k, v in ours.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in theirs.state_dict().items()}


def test_conv2d_init_is_torchs_kaiming_uniform():
    """weight and bias ~ U(-1/√fan_in, 1/√fan_in), fan_in = in_channels / groups · kh · kw."""
    ad.manual_seed(0)
    conv = nn.Conv2d(32, 64, 5, groups=2)
    bound = 1 / np.sqrt(16 * 25)
    w = conv.weight.numpy().astype(np.float64)
    assert conv.weight.dtype == np.float32 and conv.weight.shape == (64, 16, 5, 5)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert w.var() == pytest.approx(bound ** 2 / 3, rel=0.03)
    assert abs(w.mean()) < 3 * bound / np.sqrt(3 * w.size)             # 3 standard errors
    assert np.abs(conv.bias.numpy()).max() <= bound
    assert np.abs(conv.bias.numpy()).max() > 0.8 * bound
    assert conv.bias.shape == (64,)
    assert list(nn.Conv2d(1, 2, 3, bias=False).state_dict()) == ["weight"]


def test_conv2d_by_hand():
    conv = nn.Conv2d(1, 1, 2, stride=2, bias=False)
    conv.weight.numpy()[...] = [[[[1.0, 0.0], [0.0, -1.0]]]]
    y = conv(ad.arange(16, dtype=ad.float32).reshape(1, 1, 4, 4))
    np.testing.assert_allclose(y.numpy(), [[[[-5, -5], [-5, -5]]]], rtol=1e-6)   # x[0, 0] - x[1, 1]
    assert conv(ad.zeros(3, 1, 4, 4)).shape == (3, 1, 2, 2)


def test_conv2d_errors_name_the_layer_the_shapes_and_the_fix():
    conv = nn.Conv2d(1, 32, 5)
    with pytest.raises(ad.ShapeError, match=r"Conv2d\(1, 32, kernel_size=\(5, 5\), "
                                            r"stride=\(1, 1\)\): expected a 4-D input "
                                            r"\(N, C, H, W\), got shape \(1, 28, 28\); add a "
                                            r"batch dim with x.unsqueeze\(0\)"):
        conv(ad.zeros(1, 28, 28))
    with pytest.raises(ad.ShapeError, match=r"Conv2d\(1, 32.*\): the kernel \(5, 5\) is larger "
                                            r"than the input \(3, 3\) padded by "
                                            r"\(\(0, 0\), \(0, 0\)\) to \(3, 3\)"):
        conv(ad.zeros(2, 1, 3, 3))
    with pytest.raises(ad.ShapeError, match=r"Conv2d\(1, 32.*\): input of shape "
                                            r"\(2, 3, 28, 28\) has 3 channels"):
        conv(ad.zeros(2, 3, 28, 28))
    with pytest.raises(ValueError, match=r"Conv2d: in_channels \(3\) must be divisible by "
                                         r"groups \(2\).*; for Conv2d\(3, 6, ...\) use "
                                         r"groups=1 or 3"):
        nn.Conv2d(3, 6, 3, groups=2)
    with pytest.raises(ValueError, match=r"out_channels \(6\) must be divisible by groups"):
        nn.Conv2d(4, 6, 3, groups=4)
    with pytest.raises(ValueError, match="'same' is not supported for strided convolutions"):
        nn.Conv2d(1, 2, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="Conv2d: padding_mode must be 'zeros', 'reflect', "
                                         "'replicate' or 'circular', got 'mirror'"):
        nn.Conv2d(1, 2, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match="in_channels must be a whole number >= 1"):
        nn.Conv2d(0, 2, 3)
    with pytest.raises(ValueError, match="kernel_size must be an int >= 1"):
        nn.Conv2d(1, 2, (3, 0))


# ---------------------------------------------------------------- pooling

POOLS = [("MaxPool2d", (2,), {}),
         ("MaxPool2d", (3,), {"stride": 2, "padding": 1, "ceil_mode": True}),
         ("MaxPool2d", ((2, 3),), {"stride": 1, "dilation": (2, 1)}),
         ("AvgPool2d", (2,), {}),
         ("AvgPool2d", (3, 2, 1), {"ceil_mode": True, "count_include_pad": False}),
         ("AvgPool2d", ((2, 3),), {"stride": (1, 2), "divisor_override": 5}),
         ("AdaptiveAvgPool2d", ((1, 1),), {}),
         ("AdaptiveAvgPool2d", ((4, 3),), {}),
         ("AdaptiveAvgPool2d", (5,), {}),
         ("AdaptiveAvgPool2d", ((None, 2),), {})]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, args, kwargs", POOLS)
def test_pooling_matches_torch(torch_oracle, name, args, kwargs, dtype):
    torch = torch_oracle.torch
    x = np.random.default_rng(2).standard_normal((2, 3, 9, 7))
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    torch_oracle.compare(ours, theirs, x, dtype)
    assert repr(ours) == repr(theirs)


def test_max_pool_layer_returns_indices_like_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(3).standard_normal((2, 2, 6, 5)).astype(np.float32)
    y, indices = nn.MaxPool2d(2, return_indices=True)(ad.tensor(x))
    yt, indices_t = torch.nn.MaxPool2d(2, return_indices=True)(torch.from_numpy(x))
    np.testing.assert_array_equal(y.numpy(), yt.numpy())
    np.testing.assert_array_equal(indices.numpy(), indices_t.numpy())


def test_adaptive_avg_pool2d_cells_by_hand_and_second_order():
    """5 rows into 2 cells: rows 0-2 and 2-4 (⌊p·5/2⌋ to ⌈(p+1)·5/2⌉ - 1), overlapping."""
    x = ad.arange(5, dtype=ad.float64).reshape(1, 1, 5, 1)
    np.testing.assert_allclose(nn.AdaptiveAvgPool2d((2, 1))(x).numpy().ravel(), [1.0, 3.0])
    x = ad.tensor(np.random.default_rng(4).standard_normal((2, 2, 5, 3)), requires_grad=True)
    assert ad.gradgradcheck(lambda t: nn.AdaptiveAvgPool2d((2, 2))(t) ** 2, (x,))


def test_pooling_errors_name_the_layer():
    with pytest.raises(ad.ShapeError, match=r"MaxPool2d\(kernel_size=2, stride=2, padding=0, "
                                            r"dilation=1, ceil_mode=False\): expected a 4-D "
                                            r"input"):
        nn.MaxPool2d(2)(ad.zeros(32, 28, 28))
    with pytest.raises(ad.ShapeError, match=r"AvgPool2d\(kernel_size=5, stride=5, padding=0\): "
                                            r"the window \(5, 5\) is larger than the input"):
        nn.AvgPool2d(5)(ad.zeros(1, 1, 4, 4))
    with pytest.raises(ValueError, match=r"MaxPool2d.*: padding \(2, 2\) must be at most half"):
        nn.MaxPool2d(2, padding=2)(ad.zeros(1, 1, 8, 8))
    with pytest.raises(ad.ShapeError, match=r"AdaptiveAvgPool2d\(output_size=1\): expected a "
                                            r"4-D input"):
        nn.AdaptiveAvgPool2d(1)(ad.zeros(3, 4))
    with pytest.raises(ValueError, match=r"AdaptiveAvgPool2d\(output_size=\(0, 1\)\): "
                                         r"output_size must be an int >= 1"):
        nn.AdaptiveAvgPool2d((0, 1))(ad.zeros(1, 1, 3, 4))
    with pytest.raises(ad.ShapeError, match="adaptive_avg_pool2d: expected a 4-D input"):
        nn.functional.adaptive_avg_pool2d(ad.zeros(3, 4), 1)


def test_layers_rebuilt_from_json_keep_tuples():
    """JSON turns tuples into lists; the layers turn them back, so repr is unchanged."""
    model = nn.Sequential(nn.Conv2d(1, 4, (3, 2), padding=(1, 0)), nn.MaxPool2d((2, 1)),
                          nn.AvgPool2d(2, stride=(1, 2)), nn.AdaptiveAvgPool2d((1, 1)))
    assert repr(nn.from_json(model.to_json())) == repr(model)
