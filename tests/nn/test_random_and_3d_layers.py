"""BatchNorm3d, Dropout3d / F.dropout3d, F.gumbel_softmax, RReLU / F.rrelu and
FeatureAlphaDropout / F.feature_alpha_dropout.

BatchNorm3d against torch's over training steps and in eval (outputs, gradients, running
statistics). The random ones cannot share torch's random stream, so they are checked by
their distribution (here and in torch: the fraction dropped, the slopes' range, mean and
variance, the frequencies of the Gumbel-max categories), by what one draw must look like
(whole channels, one slope per element), by their formula replayed from the same seed,
in eval mode against torch's values and gradients, and by gradcheck with the draws fixed
(the seed set again before every evaluation); a model of them saves and loads, and its
compiled training steps give eager's numbers. (Reprs are in test_reprs.py, rebuilding
from hyperparameters in test_module.py and test_serialization.py.)
"""
from __future__ import annotations

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F

from .test_conv_resample import assert_compiled_steps_give_eager_numbers
from .test_functional_names import DTYPES
from .test_layers import run_batchnorm_steps


def seeded(function, seed=7):
    """function, with the shared generator reseeded before every call: the same random
    draws each time, so gradcheck's finite differences see one fixed function."""
    def call(*args):
        ad.manual_seed(seed)
        return function(*args)
    return call


# ---------------------------------------------------------------- BatchNorm3d

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("options", [{}, {"momentum": None}, {"affine": False},
                                     {"bias": False}, {"track_running_stats": False}])
def test_batchnorm3d_training_steps_then_eval_match_torch(torch_oracle, dtype, options):
    torch = torch_oracle.torch
    rng = np.random.default_rng(6)
    inputs = [rng.standard_normal((3, 3, 2, 4, 3)) * (step + 1) - step for step in range(3)]
    ours = nn.BatchNorm3d(3, **options)
    if ours.affine:
        ours.weight.numpy()[...] = [0.5, -1.5, 2.0]
    if ours.bias is not None:
        ours.bias.numpy()[...] = [0.3, 0.0, -0.2]
    run_batchnorm_steps(torch_oracle, ours, torch.nn.BatchNorm3d(3, **options), inputs, dtype)
    assert list(ours.state_dict()) == list(torch.nn.BatchNorm3d(3, **options).state_dict())


def test_batchnorm3d_takes_statistics_over_the_batch_and_the_voxels():
    bn = nn.BatchNorm3d(2, eps=0.0, momentum=1.0)
    x = np.random.default_rng(0).standard_normal((3, 2, 2, 3, 2))
    y = bn(ad.tensor(x)).numpy()
    for c in range(2):
        values = x[:, c]
        np.testing.assert_allclose(y[:, c], (values - values.mean()) / values.std(), rtol=1e-5,
                                   atol=1e-6)
        np.testing.assert_allclose(bn.running_var.numpy()[c], values.var(ddof=1), rtol=1e-5)
    with pytest.raises(ad.ShapeError, match=r"BatchNorm3d\(2\): expected input of shape "
                                            r"\(N, 2, D, H, W\), got \(2, 2, 5, 5\)"):
        bn(ad.zeros(2, 2, 5, 5))


# ---------------------------------------------------------------- Dropout3d

def test_dropout3d_drops_whole_channels_at_rate_p():
    ad.manual_seed(0)
    x = ad.ones(100, 30, 2, 3, 2, requires_grad=True)
    y = F.dropout3d(x, p=0.3)
    values = y.detach().numpy()
    assert np.isin(values, [0.0, np.float32(1 / 0.7)]).all()
    assert (values == values[:, :, :1, :1, :1]).all()          # one draw per (n, c)
    assert abs((values[:, :, 0, 0, 0] == 0).mean() - 0.3) < 0.02
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), values)     # dL/dx = the mask
    unbatched = F.dropout3d(ad.ones(2000, 2, 1, 2), p=0.5).numpy()   # (C, D, H, W)
    assert (unbatched == unbatched[:, :1, :1, :1]).all()
    assert 0.45 < (unbatched == 0).mean() < 0.55
    x = ad.randn(2, 3, 1, 2, 2)
    assert F.dropout3d(x, training=False) is x and F.dropout3d(x, p=0.0) is x
    assert (F.dropout3d(x, p=1.0).numpy() == 0).all()


def test_dropout3d_rate_is_torchs(torch_oracle):
    torch = torch_oracle.torch
    torch.manual_seed(0)
    ad.manual_seed(0)
    ours = F.dropout3d(ad.ones(400, 50, 1, 1, 2), 0.4).numpy()
    theirs = torch.nn.functional.dropout3d(torch.ones(400, 50, 1, 1, 2), 0.4).numpy()
    assert set(np.unique(ours)) == set(np.unique(theirs))
    assert (ours == 0).mean() == pytest.approx((theirs == 0).mean(), abs=0.02)


def test_dropout3d_layer_inplace_eval_and_errors():
    ad.manual_seed(1)
    layer = nn.Dropout3d(0.5, inplace=True)
    x = ad.ones(4, 6, 1, 2, 2)
    assert layer(x) is x and set(np.unique(x.numpy())) == {0.0, 2.0}
    x = ad.ones(4, 6, 1, 2, 2)
    assert layer.eval()(x) is x and (x.numpy() == 1).all()
    with pytest.raises(ad.ShapeError, match=r"dropout3d: expected a 5-D input \(N, C, D, H, W\) "
                                            r"or a 4-D one \(C, D, H, W\), got shape \(2, 3, 4\)"):
        nn.Dropout3d()(ad.ones(2, 3, 4))
    with pytest.raises(ValueError, match="Dropout3d: p is the probability"):
        nn.Dropout3d(1.5)


# ---------------------------------------------------------------- gumbel_softmax

LOGITS = np.array([1.0, 0.0, -1.0, 2.0])


def test_gumbel_softmax_is_softmax_of_the_logits_plus_gumbel_noise():
    """Replayed from the same seed: U ~ U[0, 1), g = −log(−log U), y = softmax((x + g)/τ)."""
    logits = ad.tensor(np.random.default_rng(0).standard_normal((3, 5)))
    ad.manual_seed(3)
    y = F.gumbel_softmax(logits, tau=0.7, dim=0)
    ad.manual_seed(3)
    u = ad.rand_like(logits).numpy()
    noisy = (logits.numpy() - np.log(-np.log(u))) / 0.7
    expected = np.exp(noisy) / np.exp(noisy).sum(axis=0)
    assert y.dtype == np.float64
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12)


def test_gumbel_softmax_hard_is_one_hot_with_the_soft_gradient():
    logits = ad.tensor(np.random.default_rng(1).standard_normal((4, 6)), dtype=ad.float32,
                       requires_grad=True)
    weights = ad.tensor(np.random.default_rng(2).standard_normal((4, 6)), dtype=ad.float32)
    hard = seeded(lambda x: F.gumbel_softmax(x, tau=0.5, hard=True))(logits)
    soft = seeded(lambda x: F.gumbel_softmax(x, tau=0.5))(logits)
    assert hard.dtype == np.float32
    expected = np.eye(6)[soft.detach().numpy().argmax(-1)]
    np.testing.assert_allclose(hard.detach().numpy(), expected, atol=1e-7)
    (hard_grad,) = ad.grad((hard * weights).sum(), logits)
    (soft_grad,) = ad.grad((soft * weights).sum(), logits)
    np.testing.assert_allclose(hard_grad.numpy(), soft_grad.numpy(), rtol=1e-6)


@pytest.mark.parametrize("hard", [False, True])
def test_gumbel_softmax_frequencies_are_torchs(torch_oracle, hard):
    """The Gumbel-max trick: the argmax of a sample is category i with probability
    softmax(logits)ᵢ; the mean sample agrees with torch's within sampling error."""
    torch = torch_oracle.torch
    batch = np.tile(LOGITS, (50_000, 1))
    ad.manual_seed(0)
    torch.manual_seed(0)
    ours = F.gumbel_softmax(ad.tensor(batch), tau=2.0, hard=hard).numpy()
    theirs = torch.nn.functional.gumbel_softmax(torch.tensor(batch), tau=2.0, hard=hard).numpy()
    probabilities = np.exp(LOGITS) / np.exp(LOGITS).sum()
    frequencies = np.bincount(ours.argmax(1), minlength=4) / len(batch)
    np.testing.assert_allclose(frequencies, probabilities, atol=0.01)
    np.testing.assert_allclose(ours.mean(0), theirs.mean(0), atol=0.01)
    np.testing.assert_allclose(ours.std(0), theirs.std(0), atol=0.01)


def test_gumbel_softmax_passes_gradcheck_with_its_noise_fixed():
    logits = ad.tensor(np.random.default_rng(4).standard_normal((2, 4)), requires_grad=True)
    assert ad.gradcheck(seeded(lambda x: F.gumbel_softmax(x, tau=0.8)), (logits,))
    assert ad.gradcheck(seeded(lambda x: F.gumbel_softmax(x, tau=1.5, dim=0)), (logits,))
    assert ad.gradgradcheck(seeded(lambda x: F.gumbel_softmax(x)), (logits,))


# ---------------------------------------------------------------- RReLU

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bounds", [(), (0.1, 0.3), (0.2, 0.2)])
def test_rrelu_in_eval_matches_torch(torch_oracle, dtype, bounds):
    torch_oracle.compare(nn.RReLU(*bounds).eval(), torch_oracle.torch.nn.RReLU(*bounds).eval(),
                         np.random.default_rng(5).standard_normal((4, 6)), dtype)


def test_rrelu_functional_in_eval_and_in_place_match_torch(torch_oracle):
    torch = torch_oracle.torch
    x = np.random.default_rng(6).standard_normal(8)
    expected = torch.nn.functional.rrelu(torch.tensor(x), 0.1, 0.5).numpy()
    np.testing.assert_allclose(F.rrelu(ad.tensor(x), 0.1, 0.5).numpy(), expected, rtol=1e-12)
    ours = ad.tensor(x)
    assert F.rrelu_(ours, 0.1, 0.5) is ours
    np.testing.assert_allclose(ours.numpy(), expected, rtol=1e-12)


def test_rrelu_in_training_draws_one_slope_per_element_as_torch_does(torch_oracle):
    """Positive inputs pass; each negative one is scaled by its own slope from U(l, u),
    the slope is its gradient, and the slopes' mean and variance are torch's."""
    torch = torch_oracle.torch
    lower, upper = 0.1, 0.4
    x = np.concatenate([-np.random.default_rng(7).uniform(0.5, 2.0, 100_000), [3.0, 0.5]])
    ad.manual_seed(0)
    leaf = ad.tensor(x, requires_grad=True)
    y = nn.RReLU(lower, upper)(leaf)
    y.sum().backward()
    slopes = y.detach().numpy()[:-2] / x[:-2]
    np.testing.assert_array_equal(y.detach().numpy()[-2:], [3.0, 0.5])
    np.testing.assert_allclose(leaf.grad.numpy()[:-2], slopes, rtol=1e-12)
    np.testing.assert_array_equal(leaf.grad.numpy()[-2:], [1.0, 1.0])
    assert lower <= slopes.min() and slopes.max() <= upper
    torch.manual_seed(0)
    theirs = torch.nn.functional.rrelu(torch.tensor(x), lower, upper, training=True).numpy()
    their_slopes = theirs[:-2] / x[:-2]
    assert slopes.mean() == pytest.approx(their_slopes.mean(), abs=0.002)
    assert slopes.var() == pytest.approx(their_slopes.var(), abs=0.001)
    assert slopes.var() == pytest.approx((upper - lower) ** 2 / 12, rel=0.03)


def test_rrelu_takes_the_slope_at_zero_as_torch_does(torch_oracle):
    torch = torch_oracle.torch
    ours = ad.zeros(3, requires_grad=True)
    F.rrelu(ours, 0.2, 0.2, training=True).sum().backward()
    theirs = torch.zeros(3, requires_grad=True)
    torch.nn.functional.rrelu(theirs, 0.2, 0.2, training=True).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-7)


def test_rrelu_passes_gradcheck_with_its_slopes_fixed():
    x = ad.tensor([[-1.5, 0.7, -0.3], [2.0, -0.8, 0.4]], dtype=ad.float64, requires_grad=True)
    assert ad.gradcheck(seeded(lambda h: F.rrelu(h, training=True)), (x,))
    assert ad.gradgradcheck(seeded(lambda h: F.rrelu(h, 0.1, 0.9, training=True)), (x,))


def test_rrelu_refuses_a_lower_bound_above_the_upper():
    with pytest.raises(RuntimeError, match=r"rrelu: lower \(0.5\) should be less than or "
                                           r"equal to the upper bound \(0.1\)"):
        F.rrelu(ad.ones(2), 0.5, 0.1, training=True)


# ---------------------------------------------------------------- FeatureAlphaDropout

ALPHA = 1.7580993408473766                                     # −α', torch's constant


def test_feature_alpha_dropout_drops_whole_channels_with_alpha_dropouts_values():
    ad.manual_seed(1)
    p = 0.3
    x = ad.randn(300, 40, 3, 2, dtype=ad.float64, requires_grad=True)
    y = F.feature_alpha_dropout(x, p, training=True)
    a = 1 / np.sqrt((ALPHA ** 2 * p + 1) * (1 - p))
    values, inputs = y.detach().numpy(), x.detach().numpy()
    dropped = np.isclose(values, a * ALPHA * (p - 1), rtol=0, atol=1e-12)
    assert (dropped == dropped[:, :, :1, :1]).all()            # one draw per (n, c)
    assert abs(dropped[:, :, 0, 0].mean() - p) < 0.02
    np.testing.assert_allclose(values[~dropped], a * inputs[~dropped] + a * ALPHA * p,
                               rtol=1e-12)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.where(dropped, 0.0, a), rtol=1e-12)
    assert F.feature_alpha_dropout(x) is x                     # training=False by default
    assert F.feature_alpha_dropout(x, 0.0, True) is x
    assert (F.feature_alpha_dropout(x, 1.0, True).numpy() == 0).all()


def test_feature_alpha_dropout_statistics_are_torchs(torch_oracle):
    torch = torch_oracle.torch
    x = np.random.default_rng(3).standard_normal((2000, 50, 4)).astype(np.float32)
    ad.manual_seed(0)
    torch.manual_seed(0)
    ours = nn.FeatureAlphaDropout(0.4)(ad.tensor(x)).numpy()
    theirs = torch.nn.FeatureAlphaDropout(0.4)(torch.tensor(x)).numpy()
    assert ours.dtype == np.float32
    dropped_value = ALPHA * (0.4 - 1) / np.sqrt((ALPHA ** 2 * 0.4 + 1) * 0.6)
    ours_dropped = np.isclose(ours, dropped_value, atol=1e-6).all(-1).mean()
    theirs_dropped = np.isclose(theirs, dropped_value, atol=1e-6).all(-1).mean()
    assert ours_dropped == pytest.approx(theirs_dropped, abs=0.01)
    assert ours.mean() == pytest.approx(theirs.mean(), abs=0.01)
    assert ours.var() == pytest.approx(theirs.var(), abs=0.02)


def test_feature_alpha_dropout_in_eval_matches_torch_and_passes_gradcheck(torch_oracle):
    torch = torch_oracle.torch
    torch_oracle.compare(nn.FeatureAlphaDropout(0.2).eval(),
                         torch.nn.FeatureAlphaDropout(0.2).eval(),
                         np.random.default_rng(8).standard_normal((2, 3, 4)), np.float64)
    x = ad.tensor(np.random.default_rng(9).standard_normal((3, 4, 2)), requires_grad=True)
    assert ad.gradcheck(seeded(lambda h: F.feature_alpha_dropout(h, 0.5, True)), (x,))


def test_feature_alpha_dropout_in_place_and_errors():
    ad.manual_seed(2)
    x = ad.zeros(6, 5, 2)
    ad.manual_seed(2)
    expected = F.feature_alpha_dropout(ad.zeros(6, 5, 2), 0.5, True).numpy()
    ad.manual_seed(2)
    assert nn.FeatureAlphaDropout(0.5, inplace=True)(x) is x
    np.testing.assert_array_equal(x.numpy(), expected)
    with pytest.raises(ad.ShapeError, match="feature_alpha_dropout: drops whole channels"):
        F.feature_alpha_dropout(ad.ones(5), 0.5, True)
    with pytest.raises(ValueError, match="FeatureAlphaDropout: p is the probability"):
        nn.FeatureAlphaDropout(-0.5)


# ---------------------------------------------------------------- in a model

def model_of_the_new_layers() -> nn.Sequential:
    return nn.Sequential(nn.Conv3d(2, 4, 2), nn.BatchNorm3d(4), nn.RReLU(0.1, 0.3),
                         nn.Dropout3d(0.3), nn.FeatureAlphaDropout(0.2), nn.Flatten(),
                         nn.Linear(4 * 2 * 2 * 2, 3))


def test_a_model_of_the_new_layers_saves_and_loads(tmp_path):
    ad.manual_seed(3)
    model = model_of_the_new_layers().eval()
    x = ad.randn(2, 2, 3, 3, 3)
    path = tmp_path / "model.safetensors"
    nn.save(model, path)
    loaded = nn.load(path).eval()
    assert repr(loaded) == repr(model)
    np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())


def test_compiled_training_steps_redraw_as_eager_steps_do():
    """The random layers draw from the shared generator under ad.compile too: a new
    draw on every replayed step, the same numbers as eager steps."""
    x = ad.tensor(np.random.default_rng(10).standard_normal((3, 2, 3, 3, 3)).astype(np.float32))
    assert_compiled_steps_give_eager_numbers(model_of_the_new_layers, x)
