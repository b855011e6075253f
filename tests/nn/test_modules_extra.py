"""The layers added over nn.functional: PReLU, Threshold, Hardshrink, Softshrink,
Tanhshrink, GLU, Softmax2d; RMSNorm, LocalResponseNorm, InstanceNorm1d/2d/3d; Dropout1d,
AlphaDropout; MaxPool1d, AvgPool1d, AdaptiveAvgPool1d, LPPool1d, LPPool2d;
UpsamplingNearest2d, UpsamplingBilinear2d; PixelShuffle, PixelUnshuffle, ChannelShuffle,
Fold, Unfold; CosineSimilarity, PairwiseDistance; the padding layers (Zero, Constant,
Reflection, Replication, Circular × 1d, 2d, 3d); and the losses MarginRankingLoss,
TripletMarginLoss, GaussianNLLLoss, SoftMarginLoss, MultiLabelSoftMarginLoss,
HingeEmbeddingLoss, PoissonNLLLoss, MultiMarginLoss.

Each against torch's layer of the same arguments, our weights (and buffers) copied into
it: outputs, input gradients and parameter gradients, in float32 and float64; state dict
keys and torch's initialisation; running statistics over training steps; errors naming
the layer; a model file and ad.compile. (Reprs are in test_reprs.py, rebuilding from
hyperparameters in test_module.py and test_serialization.py.)
"""
from __future__ import annotations

import numpy as np
import pytest

import autodiff as ad
import nn

from .test_conv_resample import assert_compiled_steps_give_eager_numbers
from .test_functional_extra import classes, labels
from .test_functional_names import DTYPES, REDUCTIONS, T, build, draw, signs

# (class name, constructor arguments, keyword arguments, input shape); inputs are drawn
# from N(0, 1), or from U(0.1, 2) where the shape is given as ("positive", *shape)
LAYERS = [
    ("PReLU", (), {}, (4, 3, 5)),
    ("PReLU", (3, 0.1), {}, (4, 3, 5)),
    ("PReLU", (2,), {}, (5, 2)),
    ("Threshold", (0.1, 20.0), {}, (4, 6)),
    ("Hardshrink", (0.3,), {}, (4, 6)),
    ("Softshrink", (), {}, (4, 6)),
    ("Tanhshrink", (), {}, (4, 6)),
    ("GLU", (), {}, (3, 4)),
    ("GLU", (1,), {}, (2, 6, 3)),
    ("Softmax2d", (), {}, (2, 3, 4, 5)),
    ("Softmax2d", (), {}, (3, 4, 5)),
    ("RMSNorm", (4,), {}, (2, 3, 4)),
    ("RMSNorm", ((3, 4),), {"eps": 1e-3}, (2, 3, 4)),
    ("RMSNorm", ([4],), {"elementwise_affine": False}, (3, 4)),
    ("LocalResponseNorm", (3,), {}, (2, 5, 4)),
    ("LocalResponseNorm", (2, 1e-1, 0.5, 2.0), {}, (2, 4, 3, 3)),
    ("InstanceNorm1d", (3,), {}, (2, 3, 5)),
    ("InstanceNorm1d", (3,), {"affine": True}, (3, 5)),
    ("InstanceNorm2d", (3,), {"affine": True, "bias": False, "eps": 1e-3}, (2, 3, 4, 5)),
    ("InstanceNorm3d", (2,), {"affine": True}, (2, 2, 3, 2, 4)),
    ("MaxPool1d", (3,), {}, (2, 3, 10)),
    ("MaxPool1d", (3, 2, 1, 2), {"ceil_mode": True}, (3, 11)),
    ("AvgPool1d", (3, 2, 1), {"ceil_mode": True, "count_include_pad": False}, (2, 3, 10)),
    ("AvgPool1d", ((4,),), {}, (3, 9)),
    ("AdaptiveAvgPool1d", (4,), {}, (2, 3, 10)),
    ("LPPool1d", (2, 3), {"stride": 2}, (2, 3, 9)),
    ("LPPool1d", (1.5, 2), {"ceil_mode": True}, ("positive", 3, 7)),
    ("LPPool2d", (2, (3, 2)), {"stride": (2, 1), "ceil_mode": True}, (2, 2, 7, 6)),
    ("UpsamplingNearest2d", (), {"scale_factor": 2}, (2, 3, 3, 4)),
    ("UpsamplingNearest2d", ((5, 7),), {}, (1, 2, 3, 4)),
    ("UpsamplingBilinear2d", (), {"scale_factor": 2}, (2, 2, 3, 4)),
    ("UpsamplingBilinear2d", (), {"size": (5, 3)}, (1, 2, 3, 4)),
    ("PixelShuffle", (2,), {}, (2, 8, 3, 3)),
    ("PixelUnshuffle", (2,), {}, (2, 2, 4, 6)),
    ("ChannelShuffle", (3,), {}, (2, 6, 2, 2)),
    ("Unfold", ((2, 3),), {"padding": 1, "stride": 2}, (2, 3, 5, 6)),
    ("Fold", ((4, 5), 2), {}, (2, 12, 12)),
    ("Fold", (5, (2, 3)), {"dilation": 2, "padding": 1, "stride": 2}, (1, 12, 6)),
    ("ZeroPad1d", ((1, 2),), {}, (2, 3, 4)),
    ("ZeroPad2d", ((1, -1, 2, 0),), {}, (2, 3, 4)),
    ("ZeroPad3d", (1,), {}, (1, 2, 3, 2)),
    ("ConstantPad1d", (2, 3.5), {}, (3, 4)),
    ("ConstantPad2d", ((1, 2, 0, 1), -1.0), {}, (2, 3, 4)),
    ("ConstantPad3d", ((1, 0, 0, 1, 2, 1), 0.5), {}, (1, 2, 3, 2)),
    ("ReflectionPad1d", ((3, 1),), {}, (2, 3, 4)),
    ("ReflectionPad2d", (2,), {}, (3, 4, 5)),
    ("ReflectionPad3d", ((1, 0, 1, 2, 0, 1),), {}, (1, 2, 3, 3, 3)),
    ("ReplicationPad1d", ((0, 3),), {}, (3, 4)),
    ("ReplicationPad2d", ((1, 2, 3, 0),), {}, (2, 2, 3, 4)),
    ("ReplicationPad3d", (1,), {}, (2, 2, 3, 2)),
    ("CircularPad1d", (2,), {}, (2, 3, 4)),
    ("CircularPad2d", ((1, 1, 2, 0),), {}, (2, 3, 4)),
    ("CircularPad3d", ((1, 2, 0, 1, 1, 1),), {}, (1, 2, 2, 3, 3)),
]


def layer_input(seed: int, shape: tuple) -> np.ndarray:
    if shape[0] == "positive":
        return draw(seed, *shape[1:], low=0.1, high=2.0)
    return draw(seed, *shape)


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, args, kwargs, shape", LAYERS,
                         ids=[f"{name}{args}{kwargs or ''}" for name, args, kwargs, _ in LAYERS])
def test_layers_match_torch(torch_oracle, name, args, kwargs, shape, dtype):
    torch = torch_oracle.torch
    ad.manual_seed(0)
    ours = getattr(nn, name)(*args, **kwargs)
    theirs = getattr(torch.nn, name)(*args, **kwargs)
    torch_oracle.compare(ours, theirs, layer_input(len(name), shape), dtype)


def compare_call(torch_oracle, ours, theirs, args: list, dtype: type, seed: int = 0) -> None:
    """ours(*args) and theirs(*args) on the same arguments (T: tensors, leaves requiring
    grad when float): outputs, dtype and the gradients of a weighted sum of the output."""
    torch = torch_oracle.torch
    mine = [build(arg, dtype, ad) for arg in args]
    other = [build(arg, dtype, torch) for arg in args]
    y, expected = ours(*mine), theirs(*other)
    assert y.dtype == dtype and y.shape == tuple(expected.shape)
    torch_oracle.assert_close(y.numpy(), expected.detach().numpy(), dtype)
    weights = np.random.default_rng(seed).standard_normal(y.shape).astype(dtype)
    (y * ad.tensor(weights)).sum().backward()
    (expected * torch.from_numpy(weights)).sum().backward()
    leaves = [(a, b) for a, b in zip(mine, other) if isinstance(a, ad.Tensor) and a.requires_grad]
    assert leaves
    for a, b in leaves:
        torch_oracle.assert_close(a.grad.numpy(), b.grad.numpy(), dtype)


TWO_INPUTS = [
    ("CosineSimilarity", (), {}, (T(draw(1, 4, 5)), T(draw(2, 4, 5)))),
    ("CosineSimilarity", (0, 1e-6), {}, (T(draw(3, 4, 5)), T(draw(4, 4, 1)))),
    ("PairwiseDistance", (), {}, (T(draw(5, 4, 5)), T(draw(6, 4, 5)))),
    ("PairwiseDistance", (1.0, 0.0, True), {}, (T(draw(7, 3, 4)), T(draw(8, 3, 4)))),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, args, kwargs, inputs", TWO_INPUTS)
def test_distances_match_torch(torch_oracle, name, args, kwargs, inputs, dtype):
    torch = torch_oracle.torch
    compare_call(torch_oracle, getattr(nn, name)(*args, **kwargs),
                 getattr(torch.nn, name)(*args, **kwargs), list(inputs), dtype)


# (class name, constructor keyword arguments, the call's arguments) run for every reduction
LOSSES = [
    ("MarginRankingLoss", {"margin": 0.3},
     (T(draw(10, 6)), T(draw(11, 6)), T(signs(12, 6), False))),
    ("TripletMarginLoss", {"margin": 0.5, "p": 1.5, "swap": True},
     (T(draw(13, 5, 3)), T(draw(14, 5, 3)), T(draw(15, 5, 3)))),
    ("GaussianNLLLoss", {"full": True, "eps": 1e-3},
     (T(draw(16, 5, 3)), T(draw(17, 5, 3)), T(draw(18, 5, 3, low=0.1, high=2.0)))),
    ("SoftMarginLoss", {}, (T(draw(19, 4, 5)), T(signs(20, 4, 5), False))),
    ("MultiLabelSoftMarginLoss", {}, (T(draw(21, 4, 5)), T(labels(22, 4, 5), False))),
    ("MultiLabelSoftMarginLoss", {"weight": draw(23, 5, low=0.5, high=2.0)},
     (T(draw(24, 4, 5)), T(labels(25, 4, 5), False))),
    ("HingeEmbeddingLoss", {"margin": 0.5}, (T(draw(26, 4, 5)), T(signs(27, 4, 5), False))),
    ("PoissonNLLLoss", {}, (T(draw(28, 4, 5)), T(classes(29, 5, 4, 5).astype(float), False))),
    ("PoissonNLLLoss", {"log_input": False, "full": True, "eps": 1e-4},
     (T(draw(30, 4, 5, low=0.1, high=3.0)), T(classes(31, 5, 4, 5).astype(float), False))),
    ("MultiMarginLoss", {}, (T(draw(32, 6, 4)), T(classes(33, 4, 6)))),
    ("MultiMarginLoss", {"p": 2, "margin": 0.5, "weight": draw(34, 4, low=0.5, high=2.0)},
     (T(draw(35, 6, 4)), T(classes(36, 4, 6)))),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name, kwargs, inputs", LOSSES,
                         ids=[f"{name}{kwargs and sorted(kwargs)}" for name, kwargs, _ in LOSSES])
def test_losses_match_torch(torch_oracle, name, kwargs, inputs, reduction, dtype):
    torch = torch_oracle.torch
    ours_kwargs = {k: ad.tensor(v.astype(dtype)) if isinstance(v, np.ndarray) else v
                   for k, v in kwargs.items()}
    theirs_kwargs = {k: torch.tensor(v.astype(dtype)) if isinstance(v, np.ndarray) else v
                     for k, v in kwargs.items()}
    compare_call(torch_oracle, getattr(nn, name)(**ours_kwargs, reduction=reduction),
                 getattr(torch.nn, name)(**theirs_kwargs, reduction=reduction), list(inputs),
                 dtype)


# ---------------------------------------------------------------- state

WITH_STATE = [("PReLU", (), {}), ("PReLU", (4,), {"init": -0.5}), ("RMSNorm", ((2, 3),), {}),
              ("InstanceNorm1d", (3,), {}), ("InstanceNorm1d", (3,), {"affine": True}),
              ("InstanceNorm2d", (3,), {"affine": True, "track_running_stats": True}),
              ("InstanceNorm3d", (2,), {"track_running_stats": True, "affine": True,
                                        "bias": False}),
              ("MultiLabelSoftMarginLoss", (), {"weight": [1.0, 2.0, 3.0]}),
              ("MultiMarginLoss", (), {"weight": [1.0, 2.0, 3.0]})]


@pytest.mark.parametrize("name, args, kwargs", WITH_STATE)
def test_state_dicts_and_initial_values_are_torchs(torch_oracle, name, args, kwargs):
    torch = torch_oracle.torch
    ours = getattr(nn, name)(*args, **kwargs)
    theirs = getattr(torch.nn, name)(*args, **{k: torch.tensor(v) if isinstance(v, list)
                                               else v for k, v in kwargs.items()})
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for key, value in theirs.state_dict().items():
        mine = ours.state_dict()[key]
        assert mine.shape == tuple(value.shape) and mine.dtype.name == str(value.dtype)[6:]
        np.testing.assert_array_equal(mine.numpy(), value.numpy())
    assert [name for name, _ in ours.named_parameters()] == \
        [name for name, _ in theirs.named_parameters()]
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})


def test_prelu_reset_parameters_restores_init():
    prelu = nn.PReLU(3, init=0.1)
    with ad.no_grad():
        prelu.weight += 1.0
    prelu.reset_parameters()
    np.testing.assert_allclose(prelu.weight.numpy(), [0.1, 0.1, 0.1])
    rms = nn.RMSNorm(2)
    with ad.no_grad():
        rms.weight *= 3.0
    rms.reset_parameters()
    np.testing.assert_array_equal(rms.weight.numpy(), [1.0, 1.0])


INSTANCE_NORMS = [("InstanceNorm1d", {"track_running_stats": True}, (3, 2, 5)),
                  ("InstanceNorm1d", {"track_running_stats": True, "affine": True,
                                      "momentum": 0.3}, (2, 6)),
                  ("InstanceNorm1d", {"track_running_stats": True, "momentum": None}, (3, 2, 5)),
                  ("InstanceNorm2d", {"track_running_stats": True, "affine": True}, (2, 2, 3, 4)),
                  ("InstanceNorm2d", {}, (2, 2, 3, 4))]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, kwargs, shape", INSTANCE_NORMS)
def test_instance_norm_training_steps_then_eval_match_torch(torch_oracle, name, kwargs, shape,
                                                            dtype):
    """Three training steps (the running estimates updated from each batch's instance
    statistics, or not at all with momentum=None), then eval mode (the running estimates
    normalise, when tracked), each against torch."""
    torch = torch_oracle.torch
    channels = shape[1] if len(shape) == 3 + (name == "InstanceNorm2d") else shape[0]
    ours = getattr(nn, name)(channels, **kwargs)
    theirs = getattr(torch.nn, name)(channels, **kwargs)
    for step in range(3):
        x = draw(40 + step, *shape) * (step + 1) + step
        torch_oracle.compare(ours, theirs, x, dtype, upstream_seed=step)
        for key, value in theirs.state_dict().items():
            torch_oracle.assert_close(ours.state_dict()[key].numpy(), value.numpy(), dtype,
                                      err_msg=key)
    ours.eval()
    theirs.eval()
    torch_oracle.compare(ours, theirs, draw(43, *shape), dtype)


def test_instance_norm_channel_mismatch_raises_with_weights_and_warns_without():
    with pytest.raises(ad.ShapeError, match=r"InstanceNorm1d\(3\): the input of shape "
                                            r"\(2, 4, 5\) has 4 channels \(dim 1\), not "
                                            r"num_features=3"):
        nn.InstanceNorm1d(3, affine=True)(ad.zeros(2, 4, 5))
    with pytest.raises(ad.ShapeError, match=r"has 4 channels \(dim 0\)"):
        nn.InstanceNorm1d(3, track_running_stats=True)(ad.zeros(4, 5))
    x = ad.randn(2, 4, 5)
    with pytest.warns(UserWarning, match="num_features is not used"):
        y = nn.InstanceNorm1d(3)(x)
    np.testing.assert_allclose(y.numpy(), nn.InstanceNorm1d(4)(x).numpy())
    with pytest.raises(ad.ShapeError, match=r"InstanceNorm2d\(3\): expected input of shape "
                                            r"\(N, C, H, W\) or \(C, H, W\), got \(2, 3\)"):
        nn.InstanceNorm2d(3)(ad.zeros(2, 3))


# ---------------------------------------------------------------- random layers

def test_dropout1d_and_alpha_dropout_layers():
    ad.manual_seed(0)
    x = ad.randn(300, 8, 5)
    y = nn.Dropout1d(0.25)(x).numpy()
    dropped = (y == 0).all(axis=2)
    assert abs(dropped.mean() - 0.25) < 0.03
    np.testing.assert_allclose(y[~dropped], x.numpy()[~dropped] / 0.75, rtol=1e-6)
    y = nn.AlphaDropout(0.3)(ad.randn(200_000)).numpy()
    assert abs(y.mean()) < 0.01 and abs(y.std() - 1) < 0.01
    for layer in (nn.Dropout1d(0.5), nn.AlphaDropout(0.5)):
        assert layer.eval()(x) is x
    h = x * 1.0
    assert nn.AlphaDropout(0.5, inplace=True)(h) is h
    assert (h.numpy() != x.numpy()).any()


def test_threshold_inplace_writes_into_its_input_with_torchs_gradients(torch_oracle):
    from .test_inplace_layers import run
    torch = torch_oracle.torch
    wrote, ours = run(ad, nn.Threshold(0.5, -2.0, inplace=True))
    torch_wrote, theirs = run(torch, torch.nn.Threshold(0.5, -2.0, inplace=True))
    assert wrote and torch_wrote
    for mine, other in zip(ours, theirs):
        np.testing.assert_allclose(mine, other, rtol=1e-12)


def test_max_pool1d_layer_returns_torchs_indices(torch_oracle):
    torch = torch_oracle.torch
    x = draw(50, 2, 3, 11)
    values, indices = nn.MaxPool1d(3, 2, 1, return_indices=True)(ad.tensor(x))
    expected_values, expected_indices = torch.nn.MaxPool1d(3, 2, 1, return_indices=True)(
        torch.tensor(x))
    np.testing.assert_array_equal(values.numpy(), expected_values.numpy())
    np.testing.assert_array_equal(indices.numpy(), expected_indices.numpy())


# ---------------------------------------------------------------- errors

LAYER_ERRORS = [
    (lambda: nn.Softmax2d()(ad.zeros(2, 3)), ad.ShapeError,
     "Softmax2d: expected a 3-D input (C, H, W) or a 4-D one (N, C, H, W), got shape (2, 3)"),
    (lambda: nn.PReLU(-1), ValueError, "PReLU: num_parameters must be a whole number >= 0"),
    (lambda: nn.PReLU(3)(ad.zeros(2, 4)), ad.ShapeError,
     "prelu: weight holds 3 slopes, but the input of shape (2, 4) has 4 channels"),
    (lambda: nn.MultiMarginLoss(p=3), ValueError, "MultiMarginLoss: p must be 1 or 2, got 3"),
    (lambda: nn.TripletMarginLoss(margin=0.0), ValueError,
     "TripletMarginLoss: margin must be greater than 0, got 0.0"),
    (lambda: nn.SoftMarginLoss(reduction="avg"), ValueError,
     "SoftMarginLoss: reduction must be 'mean', 'sum' or 'none', got 'avg'"),
    (lambda: nn.ReflectionPad2d((1, 2)), ValueError,
     "ReflectionPad2d: padding must be an int or 4 ints (left, right, top, bottom), got (1, 2)"),
    (lambda: nn.ZeroPad1d(1.5), ValueError,
     "ZeroPad1d: padding must be an int or 2 ints (left, right), got 1.5"),
    (lambda: nn.CircularPad3d((1, 1, 1, 1, 1, True)), ValueError,
     "padding must be an int or 6 ints (left, right, top, bottom, front, back)"),
    (lambda: nn.UpsamplingNearest2d(), ValueError,
     "UpsamplingNearest2d: give exactly one of size and scale_factor, got neither"),
    (lambda: nn.Dropout1d(1.5), ValueError, "Dropout1d: p is the probability"),
]


@pytest.mark.parametrize("call, error, text", LAYER_ERRORS)
def test_layer_errors_name_the_layer(call, error, text):
    with pytest.raises(error) as raised:
        call()
    assert text in str(raised.value)


# ---------------------------------------------------------------- a model of them

class Model(nn.Module):
    """Most of the new layers in one network: (N, 2, 6, 6) → a number per sample."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(2, 8, 3), nn.InstanceNorm2d(8, affine=True),
            nn.PReLU(8), nn.ChannelShuffle(2), nn.LocalResponseNorm(3),
            nn.PixelUnshuffle(2), nn.GLU(1), nn.UpsamplingBilinear2d(scale_factor=2),
            nn.LPPool2d(2, 2), nn.ZeroPad2d((1, 0, 0, 1)), nn.Flatten(2),
            nn.RMSNorm(16), nn.Softshrink(0.1), nn.Tanhshrink(), nn.MaxPool1d(2),
            nn.AvgPool1d(2), nn.AdaptiveAvgPool1d(3), nn.Threshold(-0.5, 0.0),
            nn.Hardshrink(0.01), nn.Flatten())
        self.head = nn.Linear(48, 1)

    def forward(self, x: ad.Tensor) -> ad.Tensor:
        return self.head(self.body(x))


def test_a_model_of_the_new_layers_saves_and_loads(tmp_path):
    ad.manual_seed(3)
    model = Model()
    x = ad.randn(2, 2, 6, 6)
    assert model(x).shape == (2, 1)
    path = tmp_path / "model.safetensors"
    nn.save(model.body, path)
    loaded = nn.load(path)
    assert repr(loaded) == repr(model.body)
    np.testing.assert_array_equal(loaded(x).numpy(), model.body(x).numpy())


def test_compiled_training_steps_give_eager_numbers():
    x = ad.tensor(draw(60, 2, 2, 6, 6).astype(np.float32))
    assert_compiled_steps_give_eager_numbers(Model, x)
