"""Every layer and loss of nn against its formula, worked out independently on small
float64 cases: numbers by hand, or plain Python loops written here (explicit loops over
the windows for convolution and pooling), never the library's own functional. No PyTorch
needed, so these tests bite on a machine without it; test_layers.py, test_conv_layers.py
and test_losses.py add the comparison with PyTorch where it is installed."""
import functools
import itertools
import math

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F

# Tolerances, relative to each value and to the array's largest value (see assert_close).
ARITHMETIC = 1e-12      # + − × ÷ √ over a few float64 values: a few roundings of 1.1e-16
NUMERICS = 1e-9         # through exp/log/tanh (libm differs between machines) or BLAS sums
                        # (summation order differs); a wrong formula is off by far more


def assert_close(actual, expected, rtol):
    """actual ≈ expected within rtol of each value or of the largest one (so values that
    cancel to about 0 are held to the array's scale, not to their own)."""
    expected = np.asarray(expected, dtype=np.float64)
    actual = actual.numpy() if isinstance(actual, ad.Tensor) else np.asarray(actual)
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, rtol=rtol,
                               atol=rtol * np.abs(expected).max(initial=0.0))


def leaf(array):
    """A float64 tensor that requires grad."""
    return ad.tensor(np.asarray(array, dtype=np.float64), requires_grad=True)


def elementwise(fn, array):
    """fn applied to each element of array, one Python call at a time."""
    return np.array([fn(v) for v in np.ravel(array)]).reshape(np.shape(array))


# ---------------------------------------------------------------- Linear, Identity, Sequential

def test_linear_is_x_times_weight_transposed_plus_bias():
    """y = x Wᵀ + b;  for L = Σ g·y: dL/dx = g W, dL/dW = gᵀ x, dL/db = Σₙ g."""
    layer = nn.Linear(3, 2).to(np.float64)
    layer.weight.numpy()[...] = [[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]]
    layer.bias.numpy()[...] = [0.25, -4.0]
    x = leaf([[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]])
    y = layer(x)
    assert_close(y, [[1 - 4 + 1.5 + 0.25, 6 - 3 - 4], [-1 - 1 + 1 + 0.25, 1.5 - 2 - 4]], NUMERICS)
    y.backward(np.array([[1.0, 2.0], [3.0, -1.0]]))
    assert_close(x.grad, [[1.0, 4.0, -1.5], [3.0, -9.0, 2.5]], NUMERICS)
    assert_close(layer.weight.grad, [[1 - 3, 2 + 1.5, 3 + 6], [2 + 1, 4 - 0.5, 6 - 2]], NUMERICS)
    assert_close(layer.bias.grad, [1 + 3, 2 - 1], NUMERICS)


def test_linear_without_bias_maps_a_single_vector():
    """y = W x for an input with no batch dim and bias=False."""
    layer = nn.Linear(2, 3, bias=False).to(np.float64)
    layer.weight.numpy()[...] = [[1.0, 2.0], [-1.0, 0.5], [0.0, 4.0]]
    assert_close(layer(leaf([3.0, -2.0])), [3 - 4, -3 - 1, -8], NUMERICS)


def test_identity_returns_its_input():
    """y = x, and dL/dx = dL/dy."""
    x = leaf([[1.5, -2.0]])
    y = nn.Identity()(x)
    np.testing.assert_array_equal(y.numpy(), x.numpy())
    y.backward(np.array([[3.0, 4.0]]))
    np.testing.assert_array_equal(x.grad.numpy(), [[3.0, 4.0]])


def test_sequential_applies_its_layers_in_order():
    """Sequential(f, relu, g)(x) = g(relu(f(x))): here -relu(2x - 3) + 1."""
    first, last = nn.Linear(1, 1).to(np.float64), nn.Linear(1, 1).to(np.float64)
    first.weight.numpy()[...], first.bias.numpy()[...] = 2.0, -3.0
    last.weight.numpy()[...], last.bias.numpy()[...] = -1.0, 1.0
    model = nn.Sequential(first, nn.ReLU(), last)
    assert_close(model(leaf([[1.0], [2.5], [4.0]])), [[1.0], [-1.0], [-4.0]], NUMERICS)


def test_flatten_merges_dims_in_row_major_order():
    """Flatten(): y[n, c·H·W + h·W + w] = x[n, c, h, w]; Flatten(0, 1) merges (N, C)."""
    x = leaf(np.arange(24.0).reshape(2, 3, 2, 2) * 0.5)
    y = nn.Flatten()(x)
    assert y.shape == (2, 12)
    for n, c, h, w in np.ndindex(x.shape):
        assert y.numpy()[n, c * 4 + h * 2 + w] == x.numpy()[n, c, h, w]      # a copy: exact
    upstream = np.arange(24.0).reshape(2, 12)
    y.backward(upstream)
    np.testing.assert_array_equal(x.grad.numpy(), upstream.reshape(2, 3, 2, 2))
    assert nn.Flatten(0, 1)(x).shape == (6, 2, 2)


# ---------------------------------------------------------------- activations

X = np.array([[-2.0, -0.5, 0.0], [0.5, 1.0, 3.0]])


def sigmoid(v):
    return 1 / (1 + math.exp(-v))


# layer, f(x) and f'(x), each written for one number
ELEMENTWISE = {
    "ReLU": (nn.ReLU(), lambda v: max(v, 0.0), lambda v: 1.0 if v > 0 else 0.0),
    "LeakyReLU(0.2)": (nn.LeakyReLU(0.2), lambda v: v if v > 0 else 0.2 * v,
                       lambda v: 1.0 if v > 0 else 0.2),
    "LeakyReLU()": (nn.LeakyReLU(), lambda v: v if v > 0 else 0.01 * v,
                    lambda v: 1.0 if v > 0 else 0.01),
    "Sigmoid": (nn.Sigmoid(), sigmoid, lambda v: sigmoid(v) * (1 - sigmoid(v))),
    "Tanh": (nn.Tanh(), math.tanh, lambda v: 1 - math.tanh(v) ** 2),
}


@pytest.mark.parametrize("name", list(ELEMENTWISE))
def test_elementwise_activation_and_its_derivative(name):
    """y = f(x) elementwise and dL/dx = g · f'(x): ReLU max(0, x) with relu'(0) = 0;
    LeakyReLU x or slope·x (slope where x <= 0); Sigmoid 1/(1 + e⁻ˣ) with σ(1 - σ);
    Tanh with 1 - tanh²."""
    layer, f, derivative = ELEMENTWISE[name]
    x = leaf(X)
    y = layer(x)
    assert_close(y, elementwise(f, X), NUMERICS)
    upstream = np.array([[1.0, -2.0, 0.5], [3.0, 1.5, -1.0]])
    y.backward(upstream)
    assert_close(x.grad, upstream * elementwise(derivative, X), NUMERICS)


def softmax_by_loops(x, dim):
    """exp(xᵢ) / Σⱼ exp(xⱼ) along `dim`, one line of x at a time."""
    lines = np.moveaxis(x, dim, -1)
    out = np.empty_like(lines)
    for index in np.ndindex(lines.shape[:-1]):
        exps = [math.exp(v) for v in lines[index]]
        out[index] = [e / sum(exps) for e in exps]
    return np.moveaxis(out, -1, dim)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_along_dim_and_its_gradient(dim):
    """y = exp(xᵢ) / Σⱼ exp(xⱼ) along dim; dL/dxᵢ = yᵢ (gᵢ - Σⱼ gⱼ yⱼ)."""
    x = leaf(X)
    y = nn.Softmax(dim=dim)(x)
    s = softmax_by_loops(X, dim)
    assert_close(y, s, NUMERICS)
    upstream = np.array([[1.0, -2.0, 0.5], [3.0, 1.5, -1.0]])
    y.backward(upstream)
    assert_close(x.grad, s * (upstream - (upstream * s).sum(axis=dim, keepdims=True)), NUMERICS)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_log_softmax_along_dim_and_its_gradient(dim):
    """y = xᵢ - log Σⱼ exp(xⱼ) along dim; dL/dxᵢ = gᵢ - softmax(x)ᵢ Σⱼ gⱼ."""
    x = leaf(X)
    y = nn.LogSoftmax(dim=dim)(x)
    s = softmax_by_loops(X, dim)
    assert_close(y, np.log(s), NUMERICS)
    upstream = np.array([[1.0, -2.0, 0.5], [3.0, 1.5, -1.0]])
    y.backward(upstream)
    assert_close(x.grad, upstream - s * upstream.sum(axis=dim, keepdims=True), NUMERICS)


# ---------------------------------------------------------------- Dropout and Dropout2d

def test_dropout_in_training_zeroes_at_rate_p_and_scales_survivors():
    """y = x · m / (1 - p) with m ~ Bernoulli(1 - p) per element, so E[y] = x;
    dL/dx = g · m / (1 - p)."""
    ad.manual_seed(0)
    p = 0.25
    x = leaf(np.linspace(1.0, 2.0, 20_000).reshape(100, 200))           # no zeros
    y = nn.Dropout(p)(x)
    kept = y.numpy() != 0
    assert abs(kept.mean() - (1 - p)) < 3 * math.sqrt(p * (1 - p) / kept.size)
    assert_close(y.numpy()[kept], x.numpy()[kept] / (1 - p), ARITHMETIC)
    y.backward(np.full(x.shape, 2.0))
    assert_close(x.grad, 2.0 * kept / (1 - p), ARITHMETIC)


def test_dropout2d_in_training_zeroes_whole_channels_at_rate_p():
    """y[n, c] = x[n, c] · m[n, c] / (1 - p): one draw per (sample, channel), shared by
    all of the channel's pixels."""
    ad.manual_seed(1)
    p = 0.4
    x = leaf(np.linspace(1.0, 2.0, 60 * 50 * 6).reshape(60, 50, 2, 3))
    y = nn.Dropout2d(p)(x).numpy()
    kept = y[:, :, 0, 0] != 0
    assert abs(kept.mean() - (1 - p)) < 3 * math.sqrt(p * (1 - p) / kept.size)
    assert_close(y, x.numpy() * kept[:, :, None, None] / (1 - p), ARITHMETIC)


@pytest.mark.parametrize("layer", [nn.Dropout, nn.Dropout2d])
def test_dropout_in_eval_returns_the_input_exactly(layer):
    """Eval: y = x, no mask, no scaling (inverted dropout does its scaling in training)."""
    ad.manual_seed(2)
    x = leaf(np.linspace(1.0, 2.0, 48).reshape(4, 3, 2, 2))
    drop = layer(0.5)
    np.testing.assert_array_equal(drop.eval()(x).numpy(), x.numpy())          # no arithmetic: exact
    assert np.any(drop.train()(x).numpy() == 0)                            # training does drop


# ---------------------------------------------------------------- BatchNorm1d and BatchNorm2d

def batch_norm_by_loops(x, gamma, beta, eps, mean=None, var=None):
    """(x - mean) / √(var + eps) · γ + β per channel (dim 1); without mean and var given,
    the channel's own over every other dim: mean Σv/n, biased variance Σ(v - mean)²/n."""
    y = np.empty_like(x)
    for c in range(x.shape[1]):
        values = list(np.ravel(x[:, c]))
        m = sum(values) / len(values) if mean is None else mean[c]
        v = sum((value - m) ** 2 for value in values) / len(values) if var is None else var[c]
        y[:, c] = (x[:, c] - m) / math.sqrt(v + eps) * gamma[c] + beta[c]
    return y


def unbiased_variance_by_loops(x):
    """Σ(v - mean)² / (n - 1) per channel (dim 1)."""
    variances = []
    for c in range(x.shape[1]):
        values = list(np.ravel(x[:, c]))
        mean = sum(values) / len(values)
        variances.append(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
    return variances


def test_batchnorm1d_training_uses_batch_mean_and_biased_variance_by_hand():
    """y = (x - mean) / √(var + eps) · γ + β, mean and var the batch's, var dividing by n:
    feature 0 has mean 3 and var (4 + 1 + 0 + 9)/4 = 3.5; feature 1 mean 30, var 350."""
    bn = nn.BatchNorm1d(2, eps=0.5).to(np.float64)
    bn.weight.numpy()[...] = [2.0, -1.0]
    bn.bias.numpy()[...] = [0.5, 3.0]
    y = bn(leaf([[1.0, 10.0], [2.0, 20.0], [3.0, 60.0], [6.0, 30.0]]))
    # feature 0: (x - 3) / √4 · 2 + 0.5;  feature 1: (x - 30) / √350.5 · (-1) + 3
    expected_1 = 3 - np.array([-20.0, -10.0, 30.0, 0.0]) / math.sqrt(350.5)
    assert_close(y.numpy()[:, 0], [-1.5, -0.5, 0.5, 3.5], ARITHMETIC)
    assert_close(y.numpy()[:, 1], expected_1, ARITHMETIC)


def test_batchnorm_running_statistics_follow_momentum_with_unbiased_variance():
    """running ← (1 - momentum) · running + momentum · batch statistic, the variance
    unbiased (dividing by n - 1); starting from mean 0 and variance 1."""
    bn = nn.BatchNorm1d(2, momentum=0.3).to(np.float64)
    bn(leaf([[1.0, 10.0], [2.0, 20.0], [3.0, 60.0], [6.0, 30.0]]))     # unbiased var 14/3, 1400/3
    assert_close(bn.running_mean, [0.3 * 3, 0.3 * 30], ARITHMETIC)
    assert_close(bn.running_var, [0.7 + 0.3 * 14 / 3, 0.7 + 0.3 * 1400 / 3], ARITHMETIC)
    bn(leaf([[0.0, 5.0], [2.0, -5.0]]))                                 # mean 1, 0; var 2, 50
    assert_close(bn.running_mean, [0.7 * 0.9 + 0.3 * 1, 0.7 * 9 + 0.3 * 0], ARITHMETIC)
    assert_close(bn.running_var, [0.7 * 2.1 + 0.3 * 2, 0.7 * 140.7 + 0.3 * 50], ARITHMETIC)
    assert bn.num_batches_tracked.item() == 2


def test_batchnorm_momentum_none_keeps_a_cumulative_average():
    """momentum=None: after k batches the running estimates are the plain average of the
    k batch statistics (momentum 1/k at the k-th)."""
    bn = nn.BatchNorm1d(2, momentum=None).to(np.float64)
    bn(leaf([[1.0, 10.0], [2.0, 20.0], [3.0, 60.0], [6.0, 30.0]]))
    bn(leaf([[0.0, 5.0], [2.0, -5.0]]))
    assert_close(bn.running_mean, [(3 + 1) / 2, (30 + 0) / 2], ARITHMETIC)
    assert_close(bn.running_var, [(14 / 3 + 2) / 2, (1400 / 3 + 50) / 2], ARITHMETIC)


def test_batchnorm1d_eval_uses_running_statistics_by_hand():
    """Eval: y = (x - running_mean) / √(running_var + eps) · γ + β, dy/dx = γ / √(running_var
    + eps), and the running estimates stay as they are."""
    bn = nn.BatchNorm1d(2, eps=0.5).to(np.float64).eval()
    bn.running_mean.numpy()[...] = [1.0, -2.0]
    bn.running_var.numpy()[...] = [3.5, 0.25]                   # + eps: 4 and 0.75
    bn.weight.numpy()[...] = [3.0, -2.0]
    bn.bias.numpy()[...] = [0.5, 1.0]
    x = leaf([[3.0, -2.0], [-1.0, 1.0], [1.0, 0.5]])
    y = bn(x)
    assert_close(y.numpy()[:, 0], [3.5, -2.5, 0.5], ARITHMETIC)            # (x - 1) / 2 · 3 + 0.5
    assert_close(y.numpy()[:, 1], 1 - 2 * np.array([0.0, 3.0, 2.5]) / math.sqrt(0.75), ARITHMETIC)
    y.backward(np.ones((3, 2)))
    assert_close(x.grad, [[1.5, -2 / math.sqrt(0.75)]] * 3, ARITHMETIC)
    np.testing.assert_array_equal(bn.running_mean.numpy(), [1.0, -2.0])   # untouched: exact
    np.testing.assert_array_equal(bn.running_var.numpy(), [3.5, 0.25])
    assert bn.num_batches_tracked.item() == 0


@pytest.mark.parametrize("layer, shape", [(nn.BatchNorm1d, (4, 3, 5)),
                                          (nn.BatchNorm2d, (3, 3, 2, 4))])
def test_batchnorm_takes_statistics_over_the_batch_and_the_positions(layer, shape):
    """Training: each channel's mean and biased variance over N and every position (L, or
    H·W); the running variance takes the unbiased one, over as many values."""
    x = np.random.default_rng(0).standard_normal(shape) * 2 + 1
    bn = layer(3, eps=0.1, momentum=1.0).to(np.float64)          # running = the batch's
    bn.weight.numpy()[...] = [1.5, -0.5, 2.0]
    bn.bias.numpy()[...] = [0.1, 0.2, -0.3]
    assert_close(bn(leaf(x)), batch_norm_by_loops(x, [1.5, -0.5, 2.0], [0.1, 0.2, -0.3], 0.1),
                 ARITHMETIC)
    assert_close(bn.running_mean, [x[:, c].mean() for c in range(3)], ARITHMETIC)
    assert_close(bn.running_var, unbiased_variance_by_loops(x), ARITHMETIC)


def test_batchnorm2d_eval_uses_running_statistics_per_channel():
    """Eval: y[n, c, h, w] = (x - running_mean[c]) / √(running_var[c] + eps), with no γ
    and β (affine=False)."""
    bn = nn.BatchNorm2d(2, eps=0.3, affine=False).to(np.float64).eval()
    bn.running_mean.numpy()[...] = [0.5, -1.0]
    bn.running_var.numpy()[...] = [2.0, 0.2]
    x = np.random.default_rng(1).standard_normal((2, 2, 3, 3))
    expected = batch_norm_by_loops(x, [1.0, 1.0], [0.0, 0.0], 0.3, mean=[0.5, -1.0],
                                   var=[2.0, 0.2])
    assert_close(bn(leaf(x)), expected, ARITHMETIC)


# ---------------------------------------------------------------- Conv2d

def zero_pad(x, padding):
    """x (N, C, H, W) with padding = ((top, bottom), (left, right)) zeros around each image."""
    (top, bottom), (left, right) = padding
    n, c, h, w = x.shape
    padded = np.zeros((n, c, top + h + bottom, left + w + right))
    padded[:, :, top:top + h, left:left + w] = x
    return padded


def conv_products(x_padded_shape, weight_shape, stride, dilation, groups):
    """The output's shape, and every product of the convolution as (output index, weight
    index, padded-input index): y[n, o, p, q] sums W[o, c, i, j] · x̃[n, first + c,
    p·sh + i·dh, q·sw + j·dw], first = the first input channel of o's group."""
    n_batch, _, height, width = x_padded_shape
    out_channels, group_channels, kh, kw = weight_shape
    out_h = (height - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    out_w = (width - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    per_group = out_channels // groups
    products = []
    for n, o, p, q in np.ndindex(n_batch, out_channels, out_h, out_w):
        first = o // per_group * group_channels
        for c, i, j in np.ndindex(group_channels, kh, kw):
            products.append(((n, o, p, q), (o, c, i, j),
                             (n, first + c, p * stride[0] + i * dilation[0],
                              q * stride[1] + j * dilation[1])))
    return (n_batch, out_channels, out_h, out_w), products


CONVS = {   # id: (in, out, kernel), options, padding ((top, bottom), (left, right)) they mean
    "plain": ((2, 3, 3), {}, ((0, 0), (0, 0))),
    "stride-padding-no-bias": ((2, 2, (2, 3)), {"stride": (2, 1), "padding": (1, 2),
                                                "bias": False}, ((1, 1), (2, 2))),
    "dilation": ((2, 2, 3), {"dilation": (2, 1), "padding": 1}, ((1, 1), (1, 1))),
    "groups": ((4, 6, 2), {"groups": 2, "stride": 2}, ((0, 0), (0, 0))),
    "depthwise": ((3, 3, 3), {"groups": 3, "padding": (0, 1)}, ((0, 0), (1, 1))),
    "same-uneven": ((2, 2, (4, 3)), {"padding": "same", "dilation": (1, 2)}, ((1, 2), (2, 2))),
}


@pytest.mark.parametrize("case", list(CONVS))
def test_conv2d_matches_loops_over_every_product(case):
    """y[n, o, p, q] = b[o] + Σ_{c,i,j} W[o, c, i, j] · x̃[n, c', p·sh + i·dh, q·sw + j·dw]
    (x̃ zero-padded, c' within o's group); for L = Σ g·y each product adds g · x̃ to dL/dW,
    g · W to dL/dx̃, and dL/db[o] = Σ g[:, o]. "same" pads an odd total more at the end."""
    (in_channels, out_channels, kernel), options, padding = CONVS[case]
    layer = nn.Conv2d(in_channels, out_channels, kernel, **options).to(np.float64)
    rng = np.random.default_rng(2)
    weight = layer.weight.numpy()
    weight[...] = rng.standard_normal(weight.shape)
    if layer.bias is not None:
        layer.bias.numpy()[...] = rng.standard_normal(out_channels)
    bias = np.zeros(out_channels) if layer.bias is None else layer.bias.numpy()
    x = rng.standard_normal((2, in_channels, 6, 5))
    x_padded = zero_pad(x, padding)
    out_shape, products = conv_products(x_padded.shape, weight.shape, layer.stride,
                                        layer.dilation, layer.groups)
    expected = np.zeros(out_shape) + bias[:, None, None]
    for out, w, inp in products:
        expected[out] += weight[w] * x_padded[inp]
    xt = leaf(x)
    y = layer(xt)
    assert_close(y, expected, NUMERICS)

    upstream = rng.standard_normal(out_shape)
    y.backward(upstream)
    weight_grad, x_padded_grad = np.zeros_like(weight), np.zeros_like(x_padded)
    for out, w, inp in products:
        weight_grad[w] += upstream[out] * x_padded[inp]
        x_padded_grad[inp] += upstream[out] * weight[w]
    (top, _), (left, _) = padding
    height, width = x.shape[2:]
    assert_close(layer.weight.grad, weight_grad, NUMERICS)
    assert_close(xt.grad, x_padded_grad[:, :, top:top + height, left:left + width], NUMERICS)
    if layer.bias is not None:
        assert_close(layer.bias.grad, upstream.sum(axis=(0, 2, 3)), NUMERICS)


def test_conv2d_by_hand():
    """A 2×2 filter [[1, 0], [0, -1]] with stride 2 and bias 0.5 takes x[i, j] - x[i+1, j+1]
    + 0.5 = -5 + 0.5 on 0..15 laid out 4 × 4."""
    layer = nn.Conv2d(1, 1, 2, stride=2).to(np.float64)
    layer.weight.numpy()[...] = [[[[1.0, 0.0], [0.0, -1.0]]]]
    layer.bias.numpy()[...] = 0.5
    y = layer(leaf(np.arange(16.0).reshape(1, 1, 4, 4)))
    assert_close(y, np.full((1, 1, 2, 2), -4.5), NUMERICS)


# ---------------------------------------------------------------- pooling

def pool_output_size(size, kernel, stride, padding, dilation, ceil_mode):
    """⌊(size + 2·padding − dilation·(kernel − 1) − 1) / stride⌋ + 1 (⌈…⌉ with ceil_mode,
    less the last window if it would start in the right padding)."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


def max_pool_by_loops(x, kernel, stride, padding, dilation, ceil_mode):
    """y[n, c, p, q] = max over the window's taps inside x (padding is −inf, never chosen),
    and where each maximum is: the first in row-major window order."""
    n_batch, channels, height, width = x.shape
    out_h = pool_output_size(height, kernel[0], stride[0], padding[0], dilation[0], ceil_mode)
    out_w = pool_output_size(width, kernel[1], stride[1], padding[1], dilation[1], ceil_mode)
    y = np.empty((n_batch, channels, out_h, out_w))
    where = np.empty(y.shape + (2,), dtype=int)
    for n, c, p, q in np.ndindex(y.shape):
        best = None
        for i, j in itertools.product(range(kernel[0]), range(kernel[1])):
            row = p * stride[0] - padding[0] + i * dilation[0]
            col = q * stride[1] - padding[1] + j * dilation[1]
            inside = 0 <= row < height and 0 <= col < width
            if inside and (best is None or x[n, c, row, col] > best):      # strict: first wins
                best, where[n, c, p, q] = x[n, c, row, col], (row, col)
        y[n, c, p, q] = best
    return y, where


MAX_POOLS = [((2, 2), {}),
             ((3, 3), {"stride": (2, 2), "padding": (1, 1), "ceil_mode": True}),
             ((2, 3), {"stride": (1, 2), "padding": (1, 1), "dilation": (2, 1)})]


@pytest.mark.parametrize("kernel, options", MAX_POOLS)
def test_max_pool2d_matches_loops_and_routes_the_gradient_to_each_maximum(kernel, options):
    """y = the maximum of each window (stride defaults to the kernel); dL/dx gets g at the
    position of each window's maximum, summed where windows share it; return_indices
    gives that position as row·W + col."""
    stride = options.get("stride", kernel)
    x = np.random.default_rng(3).standard_normal((2, 2, 7, 6))
    expected, where = max_pool_by_loops(x, kernel, stride, options.get("padding", (0, 0)),
                                        options.get("dilation", (1, 1)),
                                        options.get("ceil_mode", False))
    xt = leaf(x)
    y, indices = nn.MaxPool2d(kernel, return_indices=True, **options)(xt)
    assert_close(y, expected, ARITHMETIC)
    np.testing.assert_array_equal(indices.numpy(), where[..., 0] * 6 + where[..., 1])
    upstream = np.random.default_rng(4).standard_normal(expected.shape)
    y.backward(upstream)
    x_grad = np.zeros_like(x)
    for n, c, p, q in np.ndindex(expected.shape):
        x_grad[(n, c, *where[n, c, p, q])] += upstream[n, c, p, q]
    assert_close(xt.grad, x_grad, ARITHMETIC)


def test_max_pool2d_gives_a_tied_gradient_to_the_first_maximum():
    """When several taps hold the maximum, the gradient goes to the first, row by row."""
    x = leaf([[[[1.0, 2.0], [2.0, 2.0]]]])
    nn.MaxPool2d(2)(x).backward(np.array([[[[5.0]]]]))
    assert_close(x.grad, [[[[0.0, 5.0], [0.0, 0.0]]]], ARITHMETIC)


def avg_pool_by_loops(x, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override):
    """y[n, c, p, q] = (sum of the window's pixels inside x) / divisor, and the divisor
    of each window: divisor_override if given; else the window's size clipped to the
    padded input (count_include_pad) or to x itself."""
    n_batch, channels, height, width = x.shape
    out_h = pool_output_size(height, kernel[0], stride[0], padding[0], 1, ceil_mode)
    out_w = pool_output_size(width, kernel[1], stride[1], padding[1], 1, ceil_mode)
    y = np.empty((n_batch, channels, out_h, out_w))
    divisors = np.empty((out_h, out_w))
    for p, q in np.ndindex(out_h, out_w):
        top, left = p * stride[0] - padding[0], q * stride[1] - padding[1]
        bottom = min(top + kernel[0], height + padding[0])             # clipped to the padding
        right = min(left + kernel[1], width + padding[1])
        rows = range(max(top, 0), min(bottom, height))                 # clipped to x
        cols = range(max(left, 0), min(right, width))
        if divisor_override:
            divisors[p, q] = divisor_override
        elif count_include_pad:
            divisors[p, q] = (bottom - top) * (right - left)
        else:
            divisors[p, q] = len(rows) * len(cols)
        for n, c in np.ndindex(n_batch, channels):
            y[n, c, p, q] = sum(x[n, c, r, s] for r in rows for s in cols) / divisors[p, q]
    return y, divisors


AVG_POOLS = {
    "plain": ((2, 2), {}),
    "padding-counted": ((3, 3), {"stride": (2, 2), "padding": (1, 1)}),
    "padding-not-counted": ((3, 3), {"stride": (2, 2), "padding": (1, 1),
                                     "count_include_pad": False}),
    "ceil-counted": ((3, 2), {"stride": (2, 2), "padding": (1, 1), "ceil_mode": True}),
    "ceil-not-counted": ((3, 2), {"stride": (2, 2), "padding": (1, 1), "ceil_mode": True,
                                  "count_include_pad": False}),
    "divisor-override": ((2, 3), {"stride": (1, 2), "padding": (1, 1), "divisor_override": 5}),
}


@pytest.mark.parametrize("case", list(AVG_POOLS))
def test_avg_pool2d_matches_loops_with_its_divisor(case):
    """y = (sum of the window's pixels) / divisor, the divisor counting the zero padding
    or not (count_include_pad), never the part of a ceil_mode window past the padding, or
    divisor_override; dL/dx[pixel] = Σ over the windows holding it of g / divisor."""
    kernel, options = AVG_POOLS[case]
    stride = options.get("stride", kernel)
    x = np.random.default_rng(5).standard_normal((2, 2, 6, 7))
    expected, divisors = avg_pool_by_loops(
        x, kernel, stride, options.get("padding", (0, 0)), options.get("ceil_mode", False),
        options.get("count_include_pad", True), options.get("divisor_override"))
    xt = leaf(x)
    y = nn.AvgPool2d(kernel, **options)(xt)
    assert_close(y, expected, ARITHMETIC)
    upstream = np.random.default_rng(6).standard_normal(expected.shape)
    y.backward(upstream)
    x_grad = np.zeros_like(x)
    padding = options.get("padding", (0, 0))
    for p, q in np.ndindex(divisors.shape):
        top, left = p * stride[0] - padding[0], q * stride[1] - padding[1]
        rows = slice(max(top, 0), top + kernel[0])
        cols = slice(max(left, 0), left + kernel[1])
        x_grad[:, :, rows, cols] += upstream[:, :, p, q, None, None] / divisors[p, q]
    assert_close(xt.grad, x_grad, ARITHMETIC)


def test_avg_pool2d_padding_by_hand():
    """3×3 windows, stride 2, padding 1 on a 3×3 image of ones: the corner window holds 4
    pixels, so 4/9 counting the padding and 4/4 = 1 without."""
    x = leaf(np.ones((1, 1, 3, 3)))
    assert_close(nn.AvgPool2d(3, 2, 1)(x), np.full((1, 1, 2, 2), 4 / 9), ARITHMETIC)
    assert_close(nn.AvgPool2d(3, 2, 1, count_include_pad=False)(x), np.ones((1, 1, 2, 2)),
                 ARITHMETIC)


def adaptive_cells(size, cells):
    """torch's cells: cell p covers ⌊p·size / cells⌋ to ⌈(p + 1)·size / cells⌉ − 1."""
    return [range(p * size // cells, math.ceil((p + 1) * size / cells)) for p in range(cells)]


@pytest.mark.parametrize("output_size, cells", [((1, 1), (1, 1)), ((2, 3), (2, 3)), (4, (4, 4)),
                                                ((None, 2), (5, 2))])
def test_adaptive_avg_pool2d_averages_each_cell(output_size, cells):
    """y[n, c, p, q] = mean of x over rows cell p × columns cell q (cells overlap when the
    sizes do not divide); dL/dx[pixel] = Σ over its cells of g / cell size."""
    x = np.random.default_rng(7).standard_normal((2, 2, 5, 7))
    rows, cols = adaptive_cells(5, cells[0]), adaptive_cells(7, cells[1])
    expected = np.empty((2, 2) + cells)
    for n, c, p, q in np.ndindex(expected.shape):
        window = [x[n, c, r, s] for r in rows[p] for s in cols[q]]
        expected[n, c, p, q] = sum(window) / len(window)
    xt = leaf(x)
    y = nn.AdaptiveAvgPool2d(output_size)(xt)
    assert_close(y, expected, NUMERICS)
    upstream = np.random.default_rng(8).standard_normal(expected.shape)
    y.backward(upstream)
    x_grad = np.zeros_like(x)
    for n, c, p, q in np.ndindex(expected.shape):
        for r, s in itertools.product(rows[p], cols[q]):
            x_grad[n, c, r, s] += upstream[n, c, p, q] / (len(rows[p]) * len(cols[q]))
    assert_close(xt.grad, x_grad, NUMERICS)


# ---------------------------------------------------------------- losses

def reduce_by_hand(losses, reduction):
    """The per-element losses as they are ("none"), summed, or averaged."""
    if reduction == "none":
        return losses
    total = sum(np.ravel(losses))
    return total if reduction == "sum" else total / losses.size


def upstream_and_weights(reduction, shape):
    """The gradient to start backward from, and the dL/dℓ it gives each per-element loss ℓ:
    1 and 1/n each for the mean, 1 and 1 each for the sum, one array as both for none."""
    if reduction == "none":
        upstream = np.arange(1.0, 1.0 + math.prod(shape)).reshape(shape)
        return upstream, upstream
    return 1.0, np.full(shape, 1 / math.prod(shape) if reduction == "mean" else 1.0)


def loss_function(api, name, functional, reduction):
    """The loss module `name` or the functional, with `reduction`."""
    if api == "module":
        return getattr(nn, name)(reduction=reduction)
    return functools.partial(functional, reduction=reduction)


INPUT = np.array([[1.5, -0.5, 2.0], [0.0, 3.0, -1.0]])
TARGET = np.array([[1.0, 0.5, 2.0], [-2.0, 1.0, 0.5]])         # ties INPUT at [0, 2]
PROBABILITY = np.array([[0.9, 0.2, 0.5], [0.3, 0.75, 0.6]])
LABEL = np.array([[1.0, 0.0, 0.25], [0.0, 1.0, 0.8]])

# name: functional, input, target, per-element loss ℓ(x, t) and ∂ℓ/∂x, and the tolerance
ELEMENTWISE_LOSSES = {
    "MSELoss": (F.mse_loss, INPUT, TARGET, lambda x, t: (x - t) ** 2,
                lambda x, t: 2 * (x - t), ARITHMETIC),
    "L1Loss": (F.l1_loss, INPUT, TARGET, lambda x, t: abs(x - t),
               lambda x, t: 1.0 if x > t else -1.0 if x < t else 0.0, ARITHMETIC),
    "BCELoss": (F.binary_cross_entropy, PROBABILITY, LABEL,
                lambda p, t: -(t * math.log(p) + (1 - t) * math.log(1 - p)),
                lambda p, t: (p - t) / (p * (1 - p)), NUMERICS),
    "BCEWithLogitsLoss": (F.binary_cross_entropy_with_logits, INPUT, LABEL,
                          lambda x, t: -(t * math.log(sigmoid(x))
                                         + (1 - t) * math.log(1 - sigmoid(x))),
                          lambda x, t: sigmoid(x) - t, NUMERICS),
}


@pytest.mark.parametrize("api", ["module", "functional"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", list(ELEMENTWISE_LOSSES))
def test_elementwise_loss_and_its_gradient(name, reduction, api):
    """MSE (x - t)², L1 |x - t|, BCE -(t log p + (1 - t) log(1 - p)), BCEWithLogits the
    same of σ(x); per element, then mean, sum or none. dL/dx = ∂ℓ/∂x times 1/n (mean),
    1 (sum) or the upstream gradient (none): 2(x - t), sign(x - t), (p - t)/(p(1 - p)),
    σ(x) - t."""
    functional, x, t, per_element, derivative, rtol = ELEMENTWISE_LOSSES[name]
    xt = leaf(x)
    loss = loss_function(api, name, functional, reduction)(xt, ad.tensor(t))
    losses = np.array([[per_element(a, b) for a, b in zip(row, row_t)] for row, row_t in zip(x, t)])
    assert_close(loss, reduce_by_hand(losses, reduction), rtol)
    upstream, weights = upstream_and_weights(reduction, x.shape)
    loss.backward(upstream)
    derivatives = np.array([[derivative(a, b) for a, b in zip(row, row_t)]
                            for row, row_t in zip(x, t)])
    assert_close(xt.grad, weights * derivatives, rtol)


LOGITS = np.array([[2.0, 0.0, -1.0, 0.5], [0.1, 0.2, 0.3, -0.4], [-3.0, 1.0, 2.0, 0.0]])
CLASSES = np.array([0, 3, 2])


def cross_entropy_by_hand(row, label):
    """-log softmax(row)[label] = log Σⱼ exp(row[j]) - row[label]."""
    return math.log(sum(math.exp(v) for v in row)) - row[label]


# name: functional, input, per-sample loss ℓ(row, label) and ∂ℓ/∂row, the tolerance
CLASS_LOSSES = {
    "CrossEntropyLoss": (F.cross_entropy, LOGITS, cross_entropy_by_hand,
                         lambda row, label: softmax_by_loops(row, 0) - np.eye(4)[label],
                         NUMERICS),
    "NLLLoss": (F.nll_loss, np.log(softmax_by_loops(LOGITS, 1)), lambda row, label: -row[label],
                lambda row, label: -np.eye(4)[label], ARITHMETIC),
}


@pytest.mark.parametrize("api", ["module", "functional"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", list(CLASS_LOSSES))
def test_class_index_loss_and_its_gradient(name, reduction, api):
    """CrossEntropy -log softmax(x)[t] from logits, NLL -x[t] from log-probabilities, per
    sample, then mean, sum or none. dL/dx[n] = softmax(x[n]) - onehot(t[n]) and
    -onehot(t[n]) respectively, times 1/N (mean), 1 (sum) or the upstream gradient."""
    functional, x, per_sample, derivative, rtol = CLASS_LOSSES[name]
    xt = leaf(x)
    loss = loss_function(api, name, functional, reduction)(xt, ad.tensor(CLASSES))
    losses = np.array([per_sample(row, label) for row, label in zip(x, CLASSES)])
    assert_close(loss, reduce_by_hand(losses, reduction), rtol)
    upstream, weights = upstream_and_weights(reduction, CLASSES.shape)
    loss.backward(upstream)
    derivatives = np.array([derivative(row, label) for row, label in zip(x, CLASSES)])
    assert_close(xt.grad, weights[:, None] * derivatives, rtol)


def test_losses_by_hand():
    """Worked numbers: MSE of (1, 2, 4) against (1, 0, 1) is (0 + 4 + 9)/3 and the summed
    L1 0 + 2 + 3; cross-entropy of logits (log 3, 0) for class 1 is -log(1/4); BCE of
    p = 1/2 for t = 1 is log 2."""
    x, t = leaf([1.0, 2.0, 4.0]), ad.tensor(np.array([1.0, 0.0, 1.0]))
    assert nn.MSELoss()(x, t).item() == pytest.approx(13 / 3, rel=ARITHMETIC)
    assert nn.L1Loss(reduction="sum")(x, t).item() == pytest.approx(5.0, rel=ARITHMETIC)
    logits = leaf([[math.log(3.0), 0.0]])
    assert nn.CrossEntropyLoss()(logits, ad.tensor([1])).item() == pytest.approx(
        math.log(4), rel=NUMERICS)
    assert nn.BCELoss()(leaf([0.5]), ad.tensor(np.array([1.0]))).item() == pytest.approx(
        math.log(2), rel=NUMERICS)
