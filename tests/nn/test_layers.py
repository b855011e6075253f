"""The layers (nn/linear.py, activation.py, flatten.py, dropout.py, batchnorm.py): numbers
by hand, PyTorch on the same weights (values and gradients, float32 and float64),
initialisation statistics, Dropout's and Dropout2d's statistics and BatchNorm's (1-D and
2-D) running estimates. Conv2d and pooling are in test_conv_layers.py."""
import numpy as np
import pytest

import autodiff as ad
import nn

DTYPES = [np.float32, np.float64]


# ---------------------------------------------------------------- Linear

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch", [(), (5,), (2, 3)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch(torch_oracle, dtype, batch, bias):
    torch = torch_oracle.torch
    x = np.random.default_rng(1).standard_normal(batch + (4,))
    torch_oracle.compare(nn.Linear(4, 3, bias=bias), torch.nn.Linear(4, 3, bias=bias), x, dtype)


def test_linear_by_hand():
    layer = nn.Linear(2, 1)
    layer.weight.numpy()[...] = [[2.0, -1.0]]
    layer.bias.numpy()[...] = [0.5]
    y = layer(ad.tensor([[1.0, 3.0], [0.0, 1.0]]))
    np.testing.assert_allclose(y.numpy(), [[-0.5], [-0.5]], rtol=1e-6)
    assert list(nn.Linear(2, 1, bias=False).state_dict()) == ["weight"]
    assert nn.Linear(2, 1, bias=False).bias is None
    with pytest.raises(ValueError, match="Linear: in_features must be a whole number >= 0"):
        nn.Linear(2.5, 3)
    with pytest.raises(ValueError, match="BatchNorm1d: num_features"):
        nn.BatchNorm1d(-1)


def test_linear_init_is_torchs_uniform():
    """weight and bias ~ U(-1/√in, 1/√in): within the bound, mean 0, variance bound²/3."""
    ad.manual_seed(0)
    layer = nn.Linear(400, 300)
    bound = 1 / 20
    for p in (layer.weight, layer.bias):
        assert p.dtype == np.float32 and p.requires_grad
        assert np.abs(p.numpy()).max() <= bound
    w = layer.weight.numpy().astype(np.float64)
    assert abs(w.mean()) < 3 * bound / np.sqrt(3 * w.size)          # 3 standard errors
    assert w.var() == pytest.approx(bound ** 2 / 3, rel=0.02)
    assert np.abs(w).max() > 0.99 * bound                           # the whole range is used
    assert layer.weight.shape == (300, 400) and layer.bias.shape == (300,)
    assert np.abs(layer.bias.numpy()).max() > 0.9 * bound


def test_manual_seed_reproduces_models():
    ad.manual_seed(7)
    a = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    ad.manual_seed(7)
    b = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    for (name, p), q in zip(a.named_parameters(), b.parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy(), err_msg=name)
    c = nn.Linear(3, 4)
    assert not np.array_equal(c.weight.numpy(), a[0].weight.numpy())


# ---------------------------------------------------------------- activations and shapes

ACTIVATIONS = [("ReLU", {}), ("LeakyReLU", {"negative_slope": 0.2}), ("LeakyReLU", {}),
               ("Sigmoid", {}), ("Tanh", {}), ("Softmax", {"dim": 1}),
               ("LogSoftmax", {"dim": 1}), ("Softmax", {"dim": 0}), ("Identity", {}),
               ("Flatten", {}), ("Flatten", {"start_dim": 0, "end_dim": 1})]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, kwargs", ACTIVATIONS)
def test_activations_match_torch(torch_oracle, name, kwargs, dtype):
    torch = torch_oracle.torch
    x = np.random.default_rng(2).standard_normal((4, 3, 2)) * 3
    if name not in ("Flatten", "Identity"):
        x = x[:, :, 0]
    torch_oracle.compare(getattr(nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs), x, dtype)


def test_activations_by_hand():
    x = ad.tensor([-2.0, 0.0, 3.0], requires_grad=True)
    np.testing.assert_allclose(nn.LeakyReLU(0.1)(x).numpy(), [-0.2, 0.0, 3.0], rtol=1e-6)
    nn.ReLU()(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 0, 1])            # relu'(0) = 0
    np.testing.assert_allclose(nn.Sigmoid()(ad.tensor([0.0, np.log(3)])).numpy(), [0.5, 0.75],
                               rtol=1e-6)
    np.testing.assert_allclose(nn.Softmax(dim=0)(ad.tensor([0.0, np.log(3)])).numpy(),
                               [0.25, 0.75], rtol=1e-6)
    np.testing.assert_allclose(nn.LogSoftmax(dim=0)(ad.tensor([0.0, np.log(3)])).numpy(),
                               np.log([0.25, 0.75]), rtol=1e-6)
    assert nn.Flatten()(ad.zeros(2, 3, 4)).shape == (2, 12)


def test_softmax_without_dim_says_what_to_do():
    with pytest.raises(ad.ShapeError, match="say which dim"):
        nn.Softmax()(ad.zeros(2, 3))


# ---------------------------------------------------------------- Dropout

def test_dropout_statistics():
    ad.manual_seed(3)
    p = 0.3
    x = ad.full((200, 500), 2.0)
    y = nn.Dropout(p)(x).numpy()
    survived = y != 0
    fraction = survived.mean()
    assert abs(fraction - (1 - p)) < 3 * np.sqrt(p * (1 - p) / y.size)     # 3 std errors
    np.testing.assert_allclose(y[survived], 2.0 / (1 - p), rtol=1e-6)      # inverted scaling
    assert y.mean() == pytest.approx(2.0, rel=0.01)                        # mean kept


@pytest.mark.parametrize("dtype", DTYPES)
def test_dropout_keeps_dtype_and_routes_gradients_through_the_mask(dtype):
    x = ad.ones(1000, dtype=dtype, requires_grad=True)
    y = nn.Dropout(0.5)(x)
    assert y.dtype == dtype
    y.sum().backward()
    assert x.grad.dtype == dtype
    np.testing.assert_array_equal(x.grad.numpy(), y.numpy())     # d(x·mask)/dx = mask


def test_dropout_draws_a_new_mask_per_call_and_is_reproducible():
    drop = nn.Dropout(0.5)
    x = ad.ones(100)
    ad.manual_seed(5)
    first, second = drop(x).numpy(), drop(x).numpy()
    assert not np.array_equal(first, second)
    ad.manual_seed(5)
    np.testing.assert_array_equal(drop(x).numpy(), first)


def test_dropout_is_exact_identity_in_eval_and_at_the_extremes():
    x = ad.randn(10, requires_grad=True)
    drop = nn.Dropout(0.5).eval()
    assert drop(x) is x
    assert nn.Dropout(0.0)(x) is x
    np.testing.assert_array_equal(nn.Dropout(1.0)(x).numpy(), np.zeros(10))
    with pytest.raises(ValueError, match="between 0 and 1, got 1.5"):
        nn.Dropout(1.5)


# ---------------------------------------------------------------- Dropout2d

def test_dropout2d_drops_whole_channels_at_rate_p():
    ad.manual_seed(4)
    p = 0.25
    y = nn.Dropout2d(p)(ad.full((100, 40, 3, 5), 2.0)).numpy()
    per_channel = y.reshape(100, 40, -1)
    assert np.all(per_channel.min(axis=2) == per_channel.max(axis=2))   # all or nothing
    kept = per_channel[:, :, 0] != 0
    assert abs(kept.mean() - (1 - p)) < 3 * np.sqrt(p * (1 - p) / kept.size)
    np.testing.assert_allclose(y[y != 0], 2.0 / (1 - p), rtol=1e-6)


def test_dropout2d_gradient_eval_and_errors():
    x = ad.randn(4, 6, 2, 2, requires_grad=True)
    y = nn.Dropout2d(0.5)(x)
    y.backward(ad.ones(4, 6, 2, 2))
    np.testing.assert_array_equal(x.grad.numpy(), (y.numpy() != 0) * 2.0)     # d(x·mask)/dx = mask
    assert nn.Dropout2d(0.5).eval()(x) is x
    with pytest.raises(ad.ShapeError, match=r"dropout2d: expected a 4-D input \(N, C, H, W\), "
                                            r"got shape \(6, 2, 2\); add a batch dim"):
        nn.Dropout2d()(x[0])
    with pytest.raises(ValueError, match="Dropout2d: p is the probability"):
        nn.Dropout2d(-0.1)


# ---------------------------------------------------------------- BatchNorm1d and BatchNorm2d

def run_batchnorm_steps(oracle, ours, theirs, inputs, dtype):
    """Several training steps (outputs, gradients, running statistics), then eval."""
    ours.to(dtype)
    theirs = oracle.copy(ours, theirs, dtype)
    for step, x in enumerate(inputs):
        oracle.compare(ours, theirs, x, dtype, upstream_seed=step, sync=False)
        for p in (*ours.parameters(), *theirs.parameters()):
            p.grad = None
        for name, value in theirs.state_dict().items():
            oracle.assert_close(ours.state_dict()[name].numpy(), value.numpy(), dtype,
                                err_msg=name)
    ours.eval()
    theirs.eval()
    before = {k: v.numpy().copy() for k, v in ours.state_dict().items()}
    oracle.compare(ours, theirs, inputs[0] * 2 + 1, dtype, sync=False)
    for name, value in ours.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), before[name])         # eval changes nothing


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5)])
@pytest.mark.parametrize("options", [{}, {"momentum": None}, {"affine": False},
                                     {"momentum": 0.5, "eps": 1e-3}, {"bias": False}])
def test_batchnorm_training_steps_then_eval_match_torch(torch_oracle, dtype, shape, options):
    torch = torch_oracle.torch
    rng = np.random.default_rng(4)
    inputs = [rng.standard_normal(shape) * (step + 1) + step for step in range(4)]
    ours = nn.BatchNorm1d(3, **options)
    if ours.affine:
        ours.weight.numpy()[...] = [1.5, -0.5, 2.0]
    if ours.bias is not None:
        ours.bias.numpy()[...] = [0.1, 0.2, -0.3]
    run_batchnorm_steps(torch_oracle, ours, torch.nn.BatchNorm1d(3, **options), inputs, dtype)
    assert ours.num_batches_tracked.item() == 4


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("options", [{}, {"momentum": None}, {"affine": False},
                                     {"bias": False}])
def test_batchnorm2d_training_steps_then_eval_match_torch(torch_oracle, dtype, options):
    torch = torch_oracle.torch
    rng = np.random.default_rng(6)
    inputs = [rng.standard_normal((4, 3, 5, 6)) * (step + 1) - step for step in range(3)]
    ours = nn.BatchNorm2d(3, **options)
    if ours.affine:
        ours.weight.numpy()[...] = [0.5, -1.5, 2.0]
    if ours.bias is not None:
        ours.bias.numpy()[...] = [0.3, 0.0, -0.2]
    run_batchnorm_steps(torch_oracle, ours, torch.nn.BatchNorm2d(3, **options), inputs, dtype)
    assert ours.num_batches_tracked.item() == 3


def test_batchnorm2d_takes_statistics_over_the_batch_and_the_pixels():
    bn = nn.BatchNorm2d(2, eps=0.0, momentum=1.0)
    x = np.stack([np.arange(8.0).reshape(2, 2, 2), -np.arange(8.0).reshape(2, 2, 2)], axis=1)
    y = bn(ad.tensor(x)).numpy()                                    # x: (2, 2, 2, 2)
    for c in range(2):
        values = x[:, c]
        np.testing.assert_allclose(y[:, c], (values - values.mean()) / values.std(), rtol=1e-6)
    np.testing.assert_allclose(bn.running_mean.numpy(), [3.5, -3.5], rtol=1e-6)
    np.testing.assert_allclose(bn.running_var.numpy(), [np.var(np.arange(8.0), ddof=1)] * 2,
                               rtol=1e-6)
    with pytest.raises(ad.ShapeError, match=r"BatchNorm2d\(2\): expected input of shape "
                                            r"\(N, 2, H, W\), got \(2, 5, 5\)"):
        bn(ad.zeros(2, 5, 5))


def test_batchnorm_without_running_stats_uses_batch_statistics_in_eval(torch_oracle):
    torch = torch_oracle.torch
    ours = nn.BatchNorm1d(3, track_running_stats=False)
    assert list(ours.state_dict()) == ["weight", "bias"]
    ours.eval()
    theirs = torch.nn.BatchNorm1d(3, track_running_stats=False).eval()
    x = np.random.default_rng(5).standard_normal((6, 3))
    torch_oracle.compare(ours, theirs, x, np.float64)


def test_batchnorm_by_hand():
    """Biased variance to normalise, unbiased variance for the running estimate."""
    bn = nn.BatchNorm1d(1, eps=0.0)
    y = bn(ad.tensor([[1.0], [2.0], [3.0], [6.0]]))     # mean 3, biased var 3.5, unbiased 14/3
    np.testing.assert_allclose(y.numpy()[:, 0], np.array([-2, -1, 0, 3]) / np.sqrt(3.5),
                               rtol=1e-6)
    np.testing.assert_allclose(bn.running_mean.numpy(), [0.3], rtol=1e-6)
    np.testing.assert_allclose(bn.running_var.numpy(), [0.9 + 0.1 * 14 / 3], rtol=1e-6)
    assert bn.state_dict()["num_batches_tracked"].item() == 1


def test_batchnorm_errors():
    bn = nn.BatchNorm1d(3)
    with pytest.raises(ad.ShapeError, match=r"\(N, 3\) or \(N, 3, L\), got \(4, 2\)"):
        bn(ad.zeros(4, 2))
    with pytest.raises(ad.ShapeError, match="more than one value per channel"):
        bn(ad.zeros(1, 3))
    assert bn.eval()(ad.zeros(1, 3)).shape == (1, 3)


def test_batchnorm_reset_restores_the_initial_statistics_and_affine_parameters():
    layer = nn.BatchNorm1d(3)
    layer(ad.tensor([[1.0, 2.0, 3.0], [3.0, 6.0, 9.0]]))
    with ad.no_grad():
        layer.weight.mul_(2)
        layer.bias.add_(1)
    assert layer.num_batches_tracked.item() == 1 and layer.running_mean.numpy()[0] > 0
    mean = layer.running_mean
    layer.reset_running_stats()
    assert layer.running_mean is mean              # in place, as torch's
    np.testing.assert_array_equal(layer.running_mean.numpy(), [0, 0, 0])
    np.testing.assert_array_equal(layer.running_var.numpy(), [1, 1, 1])
    assert layer.num_batches_tracked.item() == 0
    np.testing.assert_array_equal(layer.weight.numpy(), [2, 2, 2])
    layer.reset_parameters()
    np.testing.assert_array_equal(layer.weight.numpy(), [1, 1, 1])
    np.testing.assert_array_equal(layer.bias.numpy(), [0, 0, 0])
