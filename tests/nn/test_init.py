"""nn.init: every initialiser's distribution checked statistically (bounds, mean,
variance), torch's gains and fans, in-place writes that keep the dtype, and
reproducibility under ad.manual_seed."""
import math

import numpy as np
import pytest

import autodiff as ad
import nn
from nn import init

SHAPE = (300, 200)          # fan_in 200, fan_out 300: 60,000 draws
N = SHAPE[0] * SHAPE[1]


def draws(fn, *args, **kwargs):
    ad.manual_seed(11)
    t = ad.zeros(*SHAPE)
    assert fn(t, *args, **kwargs) is t
    assert t.dtype == np.float32
    return t.numpy().astype(np.float64)


def assert_moments(values, mean, variance):
    """Sample mean within 4 standard errors; sample variance within 3 %."""
    assert abs(values.mean() - mean) < 4 * math.sqrt(variance / values.size)
    assert values.var() == pytest.approx(variance, rel=0.03)


def assert_uniform(values, low, high):
    assert values.min() >= low and values.max() <= high
    assert values.min() < low + 0.01 * (high - low) and values.max() > high - 0.01 * (high - low)
    assert_moments(values, (low + high) / 2, (high - low) ** 2 / 12)


def test_constant_fills_keep_dtype_and_identity():
    t = ad.zeros(2, 3, dtype=ad.float64)
    array = t.numpy()
    init.constant_(t, 0.25)
    assert t.numpy() is array and t.dtype == np.float64 and np.all(t.numpy() == 0.25)
    assert np.all(init.ones_(t).numpy() == 1) and np.all(init.zeros_(t).numpy() == 0)


def test_uniform_and_normal():
    assert_uniform(draws(init.uniform_), 0, 1)
    assert_uniform(draws(init.uniform_, -3, 2), -3, 2)
    assert_moments(draws(init.normal_), 0, 1)
    assert_moments(draws(init.normal_, 2.0, 0.5), 2.0, 0.25)


def test_xavier():
    bound = math.sqrt(6 / (200 + 300))
    assert_uniform(draws(init.xavier_uniform_), -bound, bound)
    assert_uniform(draws(init.xavier_uniform_, gain=2.0), -2 * bound, 2 * bound)
    assert_moments(draws(init.xavier_normal_), 0, 2 / 500)


def test_kaiming_defaults_are_torchs():
    """Defaults a=0, mode='fan_in', nonlinearity='leaky_relu': gain √2, bound √(6/fan_in)."""
    bound = math.sqrt(6 / 200)
    assert_uniform(draws(init.kaiming_uniform_), -bound, bound)
    assert_moments(draws(init.kaiming_normal_), 0, 2 / 200)
    assert_moments(draws(init.kaiming_normal_, mode="fan_out", nonlinearity="relu"), 0, 2 / 300)
    # a = √5 is how torch writes Linear's default: bound 1/√fan_in
    assert_uniform(draws(init.kaiming_uniform_, math.sqrt(5)), -1 / math.sqrt(200),
                   1 / math.sqrt(200))
    with pytest.raises(ValueError, match="mode must be 'fan_in' or 'fan_out'"):
        init.kaiming_uniform_(ad.zeros(2, 2), mode="fan")


def test_lecun_normal_is_the_lecture_notes_rule():
    """w = randn(n) / sqrt(n): variance 1/fan_in; for 1-D, n is the length."""
    assert_moments(draws(init.lecun_normal_), 0, 1 / 200)
    ad.manual_seed(1)
    w = init.lecun_normal_(ad.zeros(40000)).numpy().astype(np.float64)
    assert_moments(w, 0, 1 / 40000)


def test_calculate_gain_matches_torch():
    torch = pytest.importorskip("torch")
    for name, param in [("linear", None), ("sigmoid", None), ("tanh", None), ("relu", None),
                        ("leaky_relu", None), ("leaky_relu", 0.2), ("selu", None),
                        ("conv2d", None)]:
        assert init.calculate_gain(name, param) == pytest.approx(
            torch.nn.init.calculate_gain(name, param), rel=1e-12)
    with pytest.raises(ValueError, match="unknown nonlinearity 'swish'"):
        init.calculate_gain("swish")


def test_fans_and_errors():
    assert init.calculate_fan_in_and_fan_out(ad.zeros(8, 3, 5)) == (15, 40)
    with pytest.raises(ValueError, match="at least 2 dims"):
        init.xavier_uniform_(ad.zeros(5))


def test_manual_seed_reproduces_every_initialiser():
    for fn in (init.uniform_, init.normal_, init.xavier_uniform_, init.xavier_normal_,
               init.kaiming_uniform_, init.kaiming_normal_, init.lecun_normal_):
        np.testing.assert_array_equal(draws(fn), draws(fn), err_msg=fn.__name__)


def test_init_writes_into_parameters_in_place():
    layer = nn.Linear(3, 2)
    weight = layer.weight
    init.zeros_(layer.weight)
    assert layer.weight is weight and weight.requires_grad and np.all(weight.numpy() == 0)


def test_eye_is_the_identity_and_refuses_other_than_two_dims():
    t = init.eye_(ad.full((2, 3), 7.0))
    np.testing.assert_array_equal(t.numpy(), [[1, 0, 0], [0, 1, 0]])
    with pytest.raises(ValueError, match=r"init.eye_: needs a 2-D tensor, got shape \(3,\)"):
        init.eye_(ad.zeros(3))


@pytest.mark.parametrize("shape, groups", [((4, 3, 5), 1), ((6, 2, 3, 3), 2), ((4, 4, 3, 2, 4), 2),
                                           ((2, 5, 4, 4), 1)])
def test_dirac_matches_torch(shape, groups):
    torch = pytest.importorskip("torch")
    ours = init.dirac_(ad.full(shape, 3.0), groups)
    theirs = torch.nn.init.dirac_(torch.full(shape, 3.0), groups)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_dirac_passes_the_channels_through_a_convolution():
    conv = nn.Conv2d(3, 3, 3, padding=1, bias=False)
    init.dirac_(conv.weight)
    x = ad.randn(2, 3, 5, 5)
    np.testing.assert_allclose(conv(x).numpy(), x.numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="init.dirac_: needs a convolution weight with 3, 4 "
                                         "or 5 dims"):
        init.dirac_(ad.zeros(3, 3))
    with pytest.raises(ValueError, match="groups must be a positive integer dividing the 3 "
                                         "out channels, got 2"):
        init.dirac_(ad.zeros(3, 3, 3), groups=2)


def test_sparse_zeroes_the_same_share_of_every_column():
    values = draws(init.sparse_, 0.3, std=0.5)
    zeros = (values == 0).sum(axis=0)
    assert np.all(zeros == math.ceil(0.3 * SHAPE[0]))
    assert_moments(values[values != 0], 0, 0.25)
    with pytest.raises(ValueError, match=r"init.sparse_: sparsity is the fraction .* got 1.5"):
        init.sparse_(ad.zeros(3, 3), 1.5)
