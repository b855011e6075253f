"""The activations from GELU to Softmin, Embedding, LayerNorm, GroupNorm, Unflatten, the
containers ModuleDict, ParameterList and ParameterDict, and the functions one_hot, pad,
normalize and cosine_similarity: PyTorch on the same weights (values and gradients,
float32 and float64, torch's state dicts loaded into ours), numbers and formulas by hand
that need no torch, gradcheck to second order, model files and ad.compile; the layers
of test_functional_more.py (Conv3d, ConvTranspose1d, the adaptive max pools, Bilinear)
are rebuilt from their hyperparameters here too."""
from __future__ import annotations

import math

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F

DTYPES = [np.float32, np.float64]

# name, kwargs, the nn.functional function the layer calls
ACTIVATIONS = [("GELU", {"approximate": "tanh"}, "gelu"), ("SiLU", {}, "silu"),
               ("ELU", {}, "elu"), ("ELU", {"alpha": 0.5}, "elu"), ("SELU", {}, "selu"),
               ("CELU", {"alpha": 2.0}, "celu"), ("Softplus", {}, "softplus"),
               ("Softplus", {"beta": 2.0, "threshold": 3.0}, "softplus"), ("Mish", {}, "mish"),
               ("Hardtanh", {}, "hardtanh"), ("Hardtanh", {"min_val": -2.0, "max_val": 0.5},
                                             "hardtanh"),
               ("ReLU6", {}, "relu6"), ("Hardswish", {}, "hardswish"),
               ("Hardsigmoid", {}, "hardsigmoid"), ("LogSigmoid", {}, "logsigmoid"),
               ("Softsign", {}, "softsign"), ("Softmin", {"dim": 1}, "softmin"),
               ("Softmin", {"dim": 0}, "softmin")]
IDS = [f"{name}{kwargs or ''}" for name, kwargs, _ in ACTIVATIONS]

# points away from every kink (0, ±1, ±3, 6, softplus's 1.5 for beta=2, threshold=3)
SMOOTH_POINTS = np.array([-3.7, -2.5, -1.6, -0.7, -0.3, 0.4, 0.8, 1.3, 2.2, 3.5, 5.1, 6.6])


# ---------------------------------------------------------------- activations against torch

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, kwargs, function", ACTIVATIONS, ids=IDS)
def test_activations_match_torch(torch_oracle, name, kwargs, function, dtype):
    torch = torch_oracle.torch
    x = np.random.default_rng(2).standard_normal((4, 6)) * 4
    if name == "Hardsigmoid" and dtype == np.float64:
        pytest.skip("torch's float64 hardsigmoid gradient is 1/6 rounded to float32 "
                    "(0.16666667163), 3e-8 off the exact 1/6 we give; the kink test "
                    "compares it at 1e-7 and test_subgradients_at_the_kinks_by_hand "
                    "checks the exact 1/6")
    torch_oracle.compare(getattr(nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs), x,
                         dtype)


@pytest.mark.parametrize("name, kwargs, function", ACTIVATIONS, ids=IDS)
def test_activation_layers_are_their_functions(name, kwargs, function):
    x = ad.tensor(np.random.default_rng(3).standard_normal((3, 5)))
    np.testing.assert_array_equal(getattr(nn, name)(**kwargs)(x).numpy(),
                                  getattr(F, function)(x, **kwargs).numpy())


KINKS = np.array([-3.0, -1.0, 0.0, 1.0, 1.5, 3.0, 6.0, 20.0, -2.0, 0.5])


@pytest.mark.parametrize("name, kwargs, function", ACTIVATIONS, ids=IDS)
def test_subgradients_at_the_kinks_are_torchs(torch_oracle, name, kwargs, function):
    """At the points where a piece ends, the slope torch picks (e.g. hardtanh'(±1) = 0,
    hardswish'(3) = 1), in float64; the values too."""
    torch = torch_oracle.torch
    x = ad.tensor(KINKS.reshape(2, 5), requires_grad=True)
    y = getattr(F, function)(x, **kwargs)
    y.sum().backward()
    xt = torch.tensor(KINKS.reshape(2, 5), requires_grad=True)
    yt = getattr(torch.nn.functional, function)(xt, **kwargs)
    yt.sum().backward()
    rtol = 1e-7 if name == "Hardsigmoid" else 1e-12       # torch's float32 1/6, see above
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=rtol, atol=1e-15)


def test_gelu_exact_matches_torch(torch_oracle):
    torch = torch_oracle.torch
    x = np.random.default_rng(4).standard_normal((3, 4)) * 3
    for dtype in DTYPES:
        torch_oracle.compare(nn.GELU(), torch.nn.GELU(), x, dtype)


# ---------------------------------------------------------------- gradcheck, second order

@pytest.mark.parametrize("name, kwargs, function", ACTIVATIONS, ids=IDS)
def test_activations_pass_gradcheck_to_second_order(name, kwargs, function):
    x = ad.tensor(SMOOTH_POINTS.reshape(3, 4), requires_grad=True)

    def f(t):
        return getattr(F, function)(t, **kwargs)

    assert ad.gradcheck(f, (x,))
    assert ad.gradgradcheck(f, (x,))


def test_gelu_exact_passes_gradcheck_to_second_order():
    x = ad.tensor(SMOOTH_POINTS, requires_grad=True)
    assert ad.gradcheck(F.gelu, (x,))
    assert ad.gradgradcheck(F.gelu, (x,))


# ---------------------------------------------------------------- activations by hand

def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def test_activation_values_by_formula():
    x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0, 7.0])
    t = ad.tensor(x)
    alpha, scale = 1.6732632423543772, 1.0507009873554805
    softplus = np.log1p(np.exp(x))
    expected = {
        "silu": x * sigmoid(x),
        "elu": np.where(x > 0, x, np.exp(x) - 1),
        "selu": scale * np.where(x > 0, x, alpha * (np.exp(x) - 1)),
        "softplus": softplus,
        "mish": x * np.tanh(softplus),
        "hardtanh": np.clip(x, -1, 1),
        "relu6": np.clip(x, 0, 6),
        "hardsigmoid": np.clip(x / 6 + 0.5, 0, 1),
        "hardswish": x * np.clip(x + 3, 0, 6) / 6,
        "logsigmoid": np.log(sigmoid(x)),
        "softsign": x / (1 + np.abs(x)),
    }
    for name, values in expected.items():
        np.testing.assert_allclose(getattr(F, name)(t).numpy(), values, rtol=1e-12,
                                   atol=1e-15, err_msg=name)
    np.testing.assert_allclose(F.celu(t, alpha=2.0).numpy(),
                               np.where(x > 0, x, 2 * (np.exp(x / 2) - 1)), rtol=1e-12)
    np.testing.assert_allclose(F.softplus(t, beta=2.0).numpy(), np.log1p(np.exp(2 * x)) / 2,
                               rtol=1e-12)
    tanh_gelu = 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))
    np.testing.assert_allclose(F.gelu(t, approximate="tanh").numpy(), tanh_gelu, rtol=1e-12)
    weights = F.softmin(ad.tensor([[0.0, math.log(3)]]), dim=1).numpy()
    np.testing.assert_allclose(weights, [[0.75, 0.25]], rtol=1e-6)


def test_gelu_tanh_is_within_5e_4_of_the_exact_gelu():
    x = np.linspace(-8, 8, 1601)
    exact = np.array([v * 0.5 * (1 + math.erf(v / math.sqrt(2))) for v in x])
    approx = F.gelu(ad.tensor(x), approximate="tanh").numpy()
    assert np.abs(approx - exact).max() < 5e-4


def test_gelu_exact_by_formula():
    x = np.linspace(-4, 4, 17)
    exact = np.array([v * 0.5 * (1 + math.erf(v / math.sqrt(2))) for v in x])
    np.testing.assert_allclose(nn.GELU()(ad.tensor(x)).numpy(), exact, rtol=1e-12, atol=1e-15)


def test_subgradients_at_the_kinks_by_hand():
    """torch's slopes where pieces meet, hard-coded."""
    def slope(function, x, **kwargs):
        t = ad.tensor([float(x)], dtype=ad.float64, requires_grad=True)
        function(t, **kwargs).sum().backward()
        return t.grad.item()

    assert slope(F.hardtanh, -1) == 0 and slope(F.hardtanh, 1) == 0
    assert slope(F.hardtanh, 0.5) == 1
    assert slope(F.relu6, 0) == 0 and slope(F.relu6, 6) == 0 and slope(F.relu6, 3) == 1
    assert slope(F.hardsigmoid, -3) == 0 and slope(F.hardsigmoid, 3) == 0
    assert slope(F.hardsigmoid, 0) == 1 / 6
    assert slope(F.hardswish, -3) == 0 and slope(F.hardswish, 3) == 1
    assert slope(F.hardswish, 0) == 0.5
    assert slope(F.elu, 0, alpha=2.0) == 2.0                   # the x <= 0 piece: α·e⁰
    assert slope(F.celu, 0, alpha=2.0) == 1.0
    assert slope(F.logsigmoid, 0) == 0.5                       # σ(-0)
    assert slope(F.softsign, 0) == 1
    assert slope(F.silu, 0) == 0.5
    assert slope(F.softplus, 1.5, beta=2.0, threshold=3.0) == pytest.approx(sigmoid(3.0))
    assert slope(F.softplus, 1.6, beta=2.0, threshold=3.0) == 1     # x itself past it


def test_activations_never_overflow():
    x = ad.tensor([-1000.0, -50.0, 0.0, 50.0, 1000.0], dtype=ad.float64, requires_grad=True)
    for function in (F.elu, F.selu, F.celu, F.softplus, F.mish, F.logsigmoid, F.silu):
        y = function(x)
        y.sum().backward()
        assert np.isfinite(y.numpy()).all() and np.isfinite(x.grad.numpy()).all(), function
        x.grad = None
    np.testing.assert_array_equal(F.softplus(x).numpy(), [0, 0, math.log(2), 50, 1000])
    np.testing.assert_allclose(F.logsigmoid(x).numpy(), [-1000, -50, -math.log(2), 0, 0],
                               atol=1e-7)


def test_activations_keep_the_dtype():
    for dtype in DTYPES:
        x = ad.tensor([-1.0, 0.5], dtype=dtype)
        for name, kwargs, _ in ACTIVATIONS:
            assert getattr(nn, name)(**kwargs)(x.reshape(1, 2)).dtype == dtype, name


def test_activation_reprs_and_hyperparameters():
    assert repr(nn.GELU()) == "GELU(approximate='none')"
    assert repr(nn.GELU("tanh")) == "GELU(approximate='tanh')"
    assert repr(nn.ELU()) == "ELU(alpha=1.0)" and repr(nn.CELU(2.0)) == "CELU(alpha=2.0)"
    assert repr(nn.Softplus()) == "Softplus(beta=1.0, threshold=20.0)"
    assert repr(nn.Hardtanh()) == "Hardtanh(min_val=-1.0, max_val=1.0)"
    assert repr(nn.Softmin(dim=1)) == "Softmin(dim=1)"
    for name in ("SiLU", "SELU", "Mish", "ReLU6", "Hardswish", "Hardsigmoid"):
        assert repr(getattr(nn, name)()) == f"{name}()"
        assert getattr(nn, name)().hyperparameters() == {"inplace": False}
    for name in ("LogSigmoid", "Softsign"):
        assert repr(getattr(nn, name)()) == f"{name}()"
        assert getattr(nn, name)().hyperparameters() == {}
    assert nn.Softplus(2.0, 5.0).hyperparameters() == {"beta": 2.0, "threshold": 5.0}
    assert nn.GELU("tanh").hyperparameters() == {"approximate": "tanh"}
    assert nn.Hardtanh(-2.0, 0.5)._scope_label() == "Hardtanh(min_val=-2.0, max_val=0.5)"


def test_activation_reprs_match_torch(torch_oracle):
    torch = torch_oracle.torch
    for name, kwargs, _ in ACTIVATIONS:
        assert repr(getattr(nn, name)(**kwargs)) == repr(getattr(torch.nn, name)(**kwargs))


def test_activation_argument_errors():
    with pytest.raises(ValueError, match="GELU: approximate must be 'none' or 'tanh', got 'x'"):
        nn.GELU("x")
    with pytest.raises(ValueError, match="gelu: approximate must be"):
        F.gelu(ad.zeros(2), approximate="erf")
    with pytest.raises(ValueError, match="CELU: alpha must not be 0"):
        nn.CELU(0.0)
    with pytest.raises(ValueError, match="celu: alpha must not be 0"):
        F.celu(ad.zeros(2), 0.0)
    with pytest.raises(ValueError, match="Hardtanh: min_val 2 is larger than max_val 1"):
        nn.Hardtanh(2, 1)
    with pytest.raises(ValueError, match="hardtanh: min_val 2 is larger"):
        F.hardtanh(ad.zeros(2), 2, 1)


# ---------------------------------------------------------------- Embedding

def compare_embedding(oracle, ours, theirs, indices, dtype):
    """Same weights, same indices, same upstream gradient: outputs and weight gradients."""
    torch = oracle.torch
    ours.to(dtype)
    theirs = oracle.copy(ours, theirs, dtype)
    y = ours(ad.tensor(indices))
    yt = theirs(torch.tensor(indices))
    oracle.assert_close(y.numpy(), yt.detach().numpy(), dtype)
    upstream = np.random.default_rng(0).standard_normal(y.shape).astype(dtype)
    y.backward(upstream)
    yt.backward(torch.from_numpy(upstream))
    assert ours.weight.grad.dtype == dtype
    oracle.assert_close(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("padding_idx", [None, 0, 3, -1])
@pytest.mark.parametrize("shape", [(), (7,), (2, 3, 4)])
def test_embedding_matches_torch(torch_oracle, dtype, padding_idx, shape):
    torch = torch_oracle.torch
    indices = np.random.default_rng(5).integers(0, 6, size=shape)
    ours = nn.Embedding(6, 3, padding_idx=padding_idx)
    if padding_idx is not None:
        ours.weight.numpy()[padding_idx] = [1.0, -2.0, 3.0]    # looked up as it is, all the same
    compare_embedding(torch_oracle, ours, torch.nn.Embedding(6, 3, padding_idx=padding_idx),
                      indices, dtype)


def test_embedding_loads_torchs_weights(torch_oracle):
    torch = torch_oracle.torch
    torch.manual_seed(0)
    theirs = torch.nn.Embedding(8, 5, padding_idx=2)
    ours = nn.Embedding(8, 5, padding_idx=2)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    indices = np.array([[2, 7, 7], [0, 1, 2]])
    compare_embedding(torch_oracle, ours, theirs, indices, np.float32)
    assert repr(ours) == repr(theirs)
    assert repr(nn.Embedding(10, 3, padding_idx=-1)) == repr(torch.nn.Embedding(10, 3, -1))


def test_embedding_by_hand():
    emb = nn.Embedding(4, 2, padding_idx=1)
    emb.weight.numpy()[...] = [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0], [6.0, 7.0]]
    y = emb(ad.tensor([[3, 1], [3, 0]]))
    np.testing.assert_array_equal(y.numpy(), [[[6, 7], [2, 3]], [[6, 7], [0, 1]]])
    y.backward(ad.ones(2, 2, 2))
    # row 3 looked up twice: its gradient adds up; row 1 is padding: no gradient
    np.testing.assert_array_equal(emb.weight.grad.numpy(), [[1, 1], [0, 0], [0, 0], [2, 2]])
    assert emb(ad.tensor(2)).shape == (2,)
    w = ad.tensor(emb.weight.numpy(), requires_grad=True)
    F.embedding(ad.tensor([3, 2]), w, padding_idx=-1).sum().backward()    # -1: the last row
    np.testing.assert_array_equal(w.grad.numpy(), [[0, 0], [0, 0], [1, 1], [0, 0]])
    assert emb(ad.tensor([1, 2], dtype=ad.int32)).tolist() == [[2.0, 3.0], [4.0, 5.0]]


def test_embedding_init_is_standard_normal_with_a_zero_padding_row():
    ad.manual_seed(0)
    emb = nn.Embedding(400, 50, padding_idx=7)
    w = emb.weight.numpy().astype(np.float64)
    assert emb.weight.dtype == np.float32 and emb.weight.requires_grad
    np.testing.assert_array_equal(w[7], 0)
    others = np.delete(w, 7, axis=0)
    assert abs(others.mean()) < 3 / np.sqrt(others.size)             # 3 standard errors
    assert others.std() == pytest.approx(1.0, rel=0.02)
    assert nn.Embedding(5, 2).padding_idx is None
    assert list(emb.state_dict()) == ["weight"] and emb.weight.shape == (400, 50)


def test_embedding_errors():
    emb = nn.Embedding(10, 3)
    with pytest.raises(ad.DtypeError, match="embedding: the indices must be a tensor of "
                                            "integers"):
        emb(ad.tensor([1.0, 2.0]))
    with pytest.raises(IndexError, match=r"embedding: index 10 is out of range for 10 "
                                         r"embeddings \(valid indices are 0 to 9\)"):
        emb(ad.tensor([[1, 10]]))
    with pytest.raises(IndexError, match="index -1 is out of range"):
        emb(ad.tensor([-1, 3]))                   # numpy would wrap it around; torch refuses
    with pytest.raises(ValueError, match="Embedding: padding_idx 10 is not a row of the 10"):
        nn.Embedding(10, 3, padding_idx=10)
    with pytest.raises(ValueError, match="Embedding: embedding_dim must be a whole number"):
        nn.Embedding(10, -3)
    with pytest.raises(ad.ShapeError, match="embedding: weight must be"):
        F.embedding(ad.tensor([0]), ad.zeros(3))
    with pytest.raises(TypeError, match=r"ad.tensor\(\[1, 2\]\)"):
        emb([1, 2])


def test_embedding_checks_its_indices_on_every_compiled_call():
    emb = nn.Embedding(5, 2)
    lookup = ad.compile(lambda i: emb(i).sum().detach(), fullgraph=True)
    good = ad.tensor([0, 4])
    assert lookup(good).item() == pytest.approx(emb(good).sum().item())
    assert lookup(ad.tensor([1, 2])).item() == pytest.approx(emb(ad.tensor([1, 2])).sum().item())
    with pytest.raises(IndexError, match="index -1 is out of range for 5 embeddings"):
        lookup(ad.tensor([-1, 2]))               # a replay: the check is an op


# ---------------------------------------------------------------- LayerNorm

def randomize(module, seed):
    """Give every parameter random values (so that γ and β matter), in place."""
    rng = np.random.default_rng(seed)
    for p in module.parameters():
        p.numpy()[...] = rng.standard_normal(p.shape)
    return module


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("normalized_shape, input_shape", [(5, (5,)), (5, (3, 5)),
                                                           ((4, 5), (2, 3, 4, 5))])
@pytest.mark.parametrize("options", [{}, {"elementwise_affine": False}, {"bias": False},
                                     {"eps": 1e-2}])
def test_layernorm_matches_torch(torch_oracle, dtype, normalized_shape, input_shape, options):
    torch = torch_oracle.torch
    x = np.random.default_rng(6).standard_normal(input_shape) * 3 + 1
    ours = randomize(nn.LayerNorm(normalized_shape, **options), 7)
    torch_oracle.compare(ours, torch.nn.LayerNorm(normalized_shape, **options), x, dtype)


def test_layernorm_loads_torchs_state_dict(torch_oracle):
    torch = torch_oracle.torch
    theirs = torch.nn.LayerNorm((2, 3))
    with torch.no_grad():
        for p in theirs.parameters():
            p.normal_()
    ours = nn.LayerNorm((2, 3))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    ours.to(np.float64)
    x = np.random.default_rng(8).standard_normal((4, 2, 3))
    torch_oracle.compare(ours, theirs.double(), x, np.float64, sync=False)
    for options in ({}, {"bias": False}, {"elementwise_affine": False}):
        assert repr(nn.LayerNorm(4, **options)) == repr(torch.nn.LayerNorm(4, **options))


def test_layernorm_by_hand():
    """Each row: mean 0 and variance 1 (biased), then γ·x̂ + β."""
    x = np.random.default_rng(9).standard_normal((6, 8)) * 5 + 3
    ln = nn.LayerNorm(8, eps=0.0)
    y = ln(ad.tensor(x)).numpy()
    np.testing.assert_allclose(y.mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=1), 1, rtol=1e-12)
    np.testing.assert_allclose(y, (x - x.mean(1, keepdims=True)) / x.std(1, keepdims=True),
                               rtol=1e-10)
    ln.weight.numpy()[...] = 2.0
    ln.bias.numpy()[...] = -1.0
    np.testing.assert_allclose(ln(ad.tensor(x)).numpy(), 2 * y - 1, rtol=1e-10)
    assert nn.LayerNorm((2, 3))(ad.ones(4, 2, 3)).numpy().max() == 0     # constant rows → 0
    assert ln.state_dict()["weight"].dtype == np.float32
    ln.reset_parameters()
    assert ln.weight.tolist() == [1.0] * 8 and ln.bias.tolist() == [0.0] * 8


def test_layernorm_attributes_and_errors():
    ln = nn.LayerNorm([2, 3], bias=False)
    assert ln.normalized_shape == (2, 3) and ln.weight.shape == (2, 3) and ln.bias is None
    assert list(ln.state_dict()) == ["weight"]
    assert list(nn.LayerNorm(3, elementwise_affine=False).state_dict()) == []
    with pytest.raises(ad.ShapeError, match=r"layer_norm: normalized_shape \(4,\) needs an "
                                            r"input of shape \(\*, 4\), got \(2, 3\)"):
        nn.LayerNorm(4)(ad.zeros(2, 3))
    with pytest.raises(ad.ShapeError, match=r"needs an input of shape \(\*, 2, 3\), got \(3,\)"):
        nn.LayerNorm((2, 3))(ad.zeros(3))
    with pytest.raises(ValueError, match="LayerNorm: normalized_shape must be a size >= 1"):
        nn.LayerNorm(0)
    with pytest.raises(ValueError, match="normalized_shape must be"):
        nn.LayerNorm(())
    with pytest.raises(ad.ShapeError, match=r"layer_norm: weight has shape \(3,\), but "
                                            r"normalized_shape is \(4,\)"):
        F.layer_norm(ad.zeros(2, 4), 4, weight=ad.ones(3))


# ---------------------------------------------------------------- GroupNorm

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("groups, shape", [(1, (5, 4)), (2, (3, 4, 5)), (4, (2, 4, 5)),
                                           (2, (2, 4, 3, 3))])
@pytest.mark.parametrize("options", [{}, {"affine": False}, {"bias": False}, {"eps": 1e-2}])
def test_groupnorm_matches_torch(torch_oracle, dtype, groups, shape, options):
    torch = torch_oracle.torch
    x = np.random.default_rng(10).standard_normal(shape) * 2 - 1
    ours = randomize(nn.GroupNorm(groups, 4, **options), 11)
    torch_oracle.compare(ours, torch.nn.GroupNorm(groups, 4, **options), x, dtype)


def test_groupnorm_loads_torchs_state_dict(torch_oracle):
    torch = torch_oracle.torch
    theirs = torch.nn.GroupNorm(3, 6)
    with torch.no_grad():
        for p in theirs.parameters():
            p.normal_()
    ours = nn.GroupNorm(3, 6)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    ours.to(np.float64)
    x = np.random.default_rng(12).standard_normal((2, 6, 4))
    torch_oracle.compare(ours, theirs.double(), x, np.float64, sync=False)
    for options in ({}, {"affine": False}, {"bias": False}):
        assert repr(nn.GroupNorm(2, 4, **options)) == repr(torch.nn.GroupNorm(2, 4, **options))


def test_groupnorm_by_hand():
    """Each (sample, group): its channels and positions together get mean 0, variance 1."""
    x = np.random.default_rng(13).standard_normal((3, 6, 5)) * 4 + 2
    y = nn.GroupNorm(2, 6, eps=0.0)(ad.tensor(x)).numpy()
    groups = y.reshape(3, 2, 15)
    np.testing.assert_allclose(groups.mean(axis=2), 0, atol=1e-12)
    np.testing.assert_allclose(groups.var(axis=2), 1, rtol=1e-12)
    gn = nn.GroupNorm(6, 6, eps=0.0)                     # one channel per group: instance norm
    gn.weight.numpy()[...] = np.arange(6)
    per_channel = (x - x.mean(2, keepdims=True)) / x.std(2, keepdims=True)
    np.testing.assert_allclose(gn(ad.tensor(x)).numpy(), per_channel * np.arange(6)[:, None],
                               rtol=1e-10, atol=1e-12)
    assert list(nn.GroupNorm(2, 4, bias=False).state_dict()) == ["weight"]
    assert list(nn.GroupNorm(2, 4, affine=False).state_dict()) == []


def test_groupnorm_errors():
    with pytest.raises(ValueError, match=r"GroupNorm: num_channels \(4\) must be divisible by "
                                         r"num_groups \(3\)"):
        nn.GroupNorm(3, 4)
    with pytest.raises(ValueError, match="must be divisible by num_groups \\(0\\)"):
        nn.GroupNorm(0, 4)
    with pytest.raises(ad.ShapeError, match=r"group_norm: the input's channels \(dim 1\) must "
                                            r"split into num_groups=2 equal groups, got input "
                                            r"of shape \(2, 3\)"):
        nn.GroupNorm(2, 4)(ad.zeros(2, 3))
    with pytest.raises(ad.ShapeError, match="into num_groups=0 equal groups"):
        F.group_norm(ad.zeros(2, 4), 0)
    with pytest.raises(ad.ShapeError, match=r"group_norm: weight has shape \(4,\), but the "
                                            r"input of shape \(2, 6\) has 6 channels"):
        nn.GroupNorm(2, 4)(ad.zeros(2, 6))


# ---------------------------------------------------------------- Unflatten

@pytest.mark.parametrize("dim, sizes, shape", [(1, (2, 3), (4, 6)), (-1, [2, -1], (4, 6)),
                                               (0, (2, 2), (4, 6, 1))])
def test_unflatten_matches_torch(torch_oracle, dim, sizes, shape):
    torch = torch_oracle.torch
    x = np.random.default_rng(14).standard_normal(shape)
    ours, theirs = nn.Unflatten(dim, sizes), torch.nn.Unflatten(dim, tuple(sizes))
    torch_oracle.compare(ours, theirs, x, np.float64)
    assert repr(ours) == repr(theirs)


def test_unflatten_by_hand_and_errors():
    x = ad.arange(24.0).reshape(2, 12)
    y = nn.Unflatten(1, (3, -1))(x)
    assert y.shape == (2, 3, 4) and y[1, 2].tolist() == [20, 21, 22, 23]
    assert nn.Unflatten(1, [3, 4]).unflattened_size == (3, 4)
    assert nn.Flatten()(nn.Unflatten(1, (1, 3, 4))(x)).tolist() == x.tolist()
    with pytest.raises(ad.ShapeError, match=r"Unflatten: dim 1 of the input of shape \(2, 12\) "
                                            r"has size 12, which cannot be split into \(5, -1\)"):
        nn.Unflatten(1, (5, -1))(x)
    with pytest.raises(ad.DimError, match="Unflatten: dim 2 is out of range"):
        nn.Unflatten(2, (1,))(x)


# ---------------------------------------------------------------- ModuleDict

def add_heads(model, lib, ones):
    """Give `model` one of each container (built with torch.nn or with nn: same keys)."""
    model.heads = lib.ModuleDict({"cls": lib.Linear(4, 3), "box": lib.Linear(4, 2)})
    model.scales = lib.ParameterList([lib.Parameter(ones(3)), lib.Parameter(ones(2))])
    model.offsets = lib.ParameterDict({"cls": lib.Parameter(ones(3))})


def heads_forward(model, x):
    return (model.heads["cls"](x) * model.scales[0] + model.offsets["cls"],
            model.heads["box"](x) * model.scales[1])


class Heads(nn.Module):
    def __init__(self):
        super().__init__()
        add_heads(self, nn, ad.ones)

    forward = heads_forward


def test_containers_match_torch_keys_values_and_gradients(torch_oracle):
    torch = torch_oracle.torch

    class TorchHeads(torch.nn.Module):
        def __init__(self):
            super().__init__()
            add_heads(self, torch.nn, torch.ones)

        forward = heads_forward

    theirs = TorchHeads()
    with torch.no_grad():
        for p in theirs.parameters():
            p.normal_()
    ours = Heads()
    assert list(ours.state_dict()) == list(theirs.state_dict()) == [
        "heads.cls.weight", "heads.cls.bias", "heads.box.weight", "heads.box.bias",
        "scales.0", "scales.1", "offsets.cls"]
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    theirs.double()
    ours.to(np.float64)
    x = np.random.default_rng(15).standard_normal((5, 4))
    ya, yb = ours(ad.tensor(x))
    ta, tb = theirs(torch.tensor(x))
    (ya.sum() + (yb * yb).sum()).backward()
    (ta.sum() + (tb * tb).sum()).backward()
    torch_oracle.assert_close(ya.numpy(), ta.detach().numpy(), np.float64)
    torch_oracle.assert_close(yb.numpy(), tb.detach().numpy(), np.float64)
    grads = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        torch_oracle.assert_close(p.grad.numpy(), grads[name].grad.numpy(), np.float64,
                                  err_msg=name)
    assert repr(ours.heads) == repr(theirs.heads)


def test_moduledict_behaves_like_a_dict():
    d = nn.ModuleDict([("a", nn.ReLU()), ("b", nn.Tanh())])
    assert list(d) == ["a", "b"] and len(d) == 2 and "a" in d and "z" not in d
    d["c"] = nn.Linear(2, 2)
    assert list(d.keys()) == ["a", "b", "c"] and isinstance(d["c"], nn.Linear)
    assert [type(m).__name__ for m in d.values()] == ["ReLU", "Tanh", "Linear"]
    assert [k for k, _ in d.items()] == ["a", "b", "c"]
    assert len(list(d.parameters())) == 2
    del d["a"]
    assert isinstance(d.pop("b"), nn.Tanh) and list(d) == ["c"]
    d.update({"e": nn.Sigmoid(), "c": nn.Identity()})             # replaces c in place
    assert list(d) == ["c", "e"] and isinstance(d["c"], nn.Identity)
    assert list(d.parameters()) == []
    d.clear()
    assert len(d) == 0 and repr(d) == "ModuleDict()"
    with pytest.raises(KeyError, match="'keys' already exists"):
        d["keys"] = nn.ReLU()
    with pytest.raises(TypeError, match="must be a Module"):
        d["x"] = 3
    with pytest.raises(NotImplementedError, match="ModuleDict has no forward"):
        d(ad.zeros(1))


def test_moduledict_model_files_round_trip(tmp_path):
    ad.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4),
                          nn.ModuleDict({"norm": nn.LayerNorm(4), "act": nn.GELU("tanh")}))
    text = model.to_json()
    rebuilt = nn.from_json(text)
    assert repr(rebuilt) == repr(model)
    nn.save(model, tmp_path / "m.safetensors")
    loaded = nn.load(tmp_path / "m.safetensors")
    assert repr(loaded) == repr(model)
    for (name, a), b in zip(model.state_dict().items(), loaded.state_dict().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)


# ---------------------------------------------------------------- ParameterList, ParameterDict

def test_parameterlist_behaves_like_a_list():
    w = nn.Parameter(ad.ones(2))
    params = nn.ParameterList([w, ad.zeros(3)])
    assert params[0] is w and isinstance(params[1], nn.Parameter) and params[-1] is params[1]
    assert params[1].requires_grad and len(params) == 2
    params.append(ad.ones(1)).extend([ad.ones(4)])
    assert [p.shape for p in params] == [(2,), (3,), (1,), (4,)]
    assert list(params.state_dict()) == ["0", "1", "2", "3"]
    tail = params[2:]
    assert isinstance(tail, nn.ParameterList) and list(tail.state_dict()) == ["0", "1"]
    assert tail[0] is params[2]
    params[-1] = nn.Parameter(ad.zeros(5))
    assert params[3].shape == (5,) and list(params.state_dict()) == ["0", "1", "2", "3"]
    with pytest.raises(IndexError, match="ParameterList: index 4 is out of range for 4"):
        params[4]
    with pytest.raises(IndexError, match="use append to add one"):
        params[4] = ad.zeros(1)
    with pytest.raises(TypeError, match="ParameterList: holds tensors, got int"):
        params.append(3)
    with pytest.raises(NotImplementedError, match="ParameterList has no forward"):
        params(ad.zeros(1))
    assert repr(nn.ParameterList()) == "ParameterList()"


def test_parameterdict_behaves_like_a_dict():
    d = nn.ParameterDict([("a", ad.ones(2)), ("b", nn.Parameter(ad.zeros(1)))])
    assert list(d) == ["a", "b"] and len(d) == 2 and "a" in d and "c" not in d
    assert isinstance(d["a"], nn.Parameter) and d["a"].requires_grad
    d.update({"c": ad.ones(3)})
    assert list(d.keys()) == ["a", "b", "c"] and [k for k, _ in d.items()] == ["a", "b", "c"]
    assert [p.shape for p in d.values()] == [(2,), (1,), (3,)]
    assert list(d.state_dict()) == ["a", "b", "c"] and len(list(d.parameters())) == 3
    del d["a"]
    assert d.pop("b").shape == (1,) and list(d) == ["c"]
    with pytest.raises(TypeError, match="ParameterDict: holds tensors, got str"):
        d["x"] = "weights"
    with pytest.raises(NotImplementedError, match="ParameterDict has no forward"):
        d(ad.zeros(1))


def test_parameter_container_reprs_follow_torch(torch_oracle):
    """Line for line torch's, with our dtype names (float32 for torch.float32)."""
    torch = torch_oracle.torch
    ours = nn.ParameterList([ad.zeros(3, 4), ad.zeros(2, dtype=ad.float64)])
    theirs = torch.nn.ParameterList([torch.zeros(3, 4), torch.zeros(2, dtype=torch.float64)])
    assert repr(ours) == repr(theirs).replace("torch.", "")
    one = nn.ParameterList([ad.zeros(3)])
    assert repr(one) == repr(torch.nn.ParameterList([torch.zeros(3)])).replace("torch.", "")
    assert repr(nn.ParameterDict({"w": ad.zeros(3)})) == \
        "ParameterDict(  (w): Parameter containing: [float32 of size 3])"


# ---------------------------------------------------------------- model files and rebuilding

NEW_LAYERS = [nn.GELU("tanh"), nn.SiLU(), nn.ELU(0.5), nn.SELU(), nn.CELU(2.0),
              nn.Softplus(2.0, 3.0), nn.Mish(), nn.Hardtanh(-2.0, 0.5), nn.ReLU6(),
              nn.Hardswish(), nn.Hardsigmoid(), nn.LogSigmoid(), nn.Softsign(),
              nn.Softmin(dim=1), nn.Unflatten(1, (2, 3)), nn.Embedding(7, 3, padding_idx=-2),
              nn.LayerNorm((2, 3), eps=1e-3, bias=False), nn.LayerNorm(4),
              nn.LayerNorm(4, elementwise_affine=False), nn.GroupNorm(2, 4, affine=False),
              nn.GroupNorm(2, 6, bias=False), nn.GroupNorm(1, 6), nn.ModuleDict(),
              nn.Conv3d(4, 6, (3, 2, 1), stride=2, padding=1, groups=2, bias=False,
                        padding_mode="replicate"),
              nn.Conv3d(2, 3, 2, padding="valid"),
              nn.ConvTranspose1d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2,
                                 dilation=2),
              nn.ConvTranspose1d(2, 3, 4, bias=False), nn.AdaptiveMaxPool2d((None, 3)),
              nn.AdaptiveMaxPool2d(2, return_indices=True), nn.AdaptiveMaxPool1d((4,)),
              nn.Bilinear(3, 4, 5), nn.Bilinear(2, 2, 1, bias=False)]


@pytest.mark.parametrize("layer", NEW_LAYERS, ids=repr)
def test_new_layers_are_builtin_rebuild_and_declare_their_state_shapes(layer):
    assert nn.BUILTIN_LAYERS[type(layer).__name__] is type(layer)
    rebuilt = type(layer)(**layer.hyperparameters())
    assert repr(rebuilt) == repr(layer)
    assert rebuilt.hyperparameters() == layer.hyperparameters()
    built = {key: tuple(t.shape) for key, t in layer.state_dict().items()}
    assert type(layer).state_shapes(**layer.hyperparameters()) == built
    via_json = nn.from_json(nn.Sequential(layer).to_json())[0]
    assert repr(via_json) == repr(layer)


def test_a_model_of_new_layers_saves_and_loads(tmp_path):
    ad.manual_seed(1)
    model = nn.Sequential(nn.Linear(6, 8), nn.LayerNorm(8), nn.GELU("tanh"),
                          nn.Unflatten(1, (4, 2)), nn.GroupNorm(2, 4), nn.Mish(), nn.Flatten(),
                          nn.Linear(8, 3), nn.Softmin(dim=1))
    randomize(model, 2)
    path = tmp_path / "model.safetensors"
    nn.save(model, path)
    loaded = nn.load(path)
    x = ad.randn(5, 6)
    np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())
    text = nn.summary(model, (6,))
    assert "3 (Unflatten)                (None, 4, 2)" in text
    assert "1 (LayerNorm)                (None, 8)                 16" in text
    emb = nn.Sequential(nn.Embedding(10, 4, padding_idx=0), nn.LayerNorm(4))
    nn.save(emb, path)
    rebuilt = nn.load(path)
    assert rebuilt[0].padding_idx == 0
    np.testing.assert_array_equal(rebuilt[0].weight.numpy(), emb[0].weight.numpy())


def test_parameter_containers_save_their_weights(tmp_path):
    """A model holding a ParameterList or ParameterDict is the user's class: its file holds
    the weights under torch's keys, loaded into an instance."""
    ad.manual_seed(3)
    model = Heads()
    randomize(model, 4)
    path = tmp_path / "heads.safetensors"
    nn.save(model, path)
    fresh = nn.load(path, Heads())
    for (name, a), b in zip(model.state_dict().items(), fresh.state_dict().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)


# ---------------------------------------------------------------- one_hot

def test_one_hot_by_hand():
    y = F.one_hot(ad.tensor([0, 2, 1]))
    assert y.dtype == np.int64 and y.tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 0]]
    y = F.one_hot(ad.tensor([[1], [3]], dtype=ad.int32), num_classes=5)
    assert y.shape == (2, 1, 5) and y.tolist() == [[[0, 1, 0, 0, 0]], [[0, 0, 0, 1, 0]]]
    assert F.one_hot(ad.tensor(2), 3).tolist() == [0, 0, 1]
    assert F.one_hot(ad.zeros(0, dtype=ad.int64), 4).shape == (0, 4)


def test_one_hot_matches_torch(torch_oracle):
    torch = torch_oracle.torch
    indices = np.random.default_rng(16).integers(0, 5, size=(3, 4))
    for num_classes in (-1, 5, 8):
        expected = torch.nn.functional.one_hot(torch.tensor(indices), num_classes).numpy()
        np.testing.assert_array_equal(F.one_hot(ad.tensor(indices), num_classes).numpy(),
                                      expected)


def test_one_hot_errors():
    with pytest.raises(IndexError, match=r"one_hot: index 3 is out of range for 3 classes"):
        F.one_hot(ad.tensor([0, 3]), 3)
    with pytest.raises(IndexError, match="one_hot: index -1 is out of range"):
        F.one_hot(ad.tensor([-1, 2]), 3)
    with pytest.raises(ad.DtypeError, match="one_hot: the indices must be a tensor of integers"):
        F.one_hot(ad.tensor([1.0]))
    with pytest.raises(ad.DtypeError, match="got list"):
        F.one_hot([1, 2])
    with pytest.raises(ad.ShapeError, match="cannot infer num_classes from an empty tensor"):
        F.one_hot(ad.zeros(0, dtype=ad.int64))


# ---------------------------------------------------------------- pad

@pytest.mark.parametrize("pad, value", [((1, 2), None), ((0, 0, 2, 1), 3.5), ((-1, 2), None),
                                        ((2, -1, -1, 0), -1.0), ((1, 1, 1, 1, 0, 1), 0.0),
                                        ((-3, 0), None)])
def test_pad_matches_torch(torch_oracle, pad, value):
    torch = torch_oracle.torch
    x = np.random.default_rng(17).standard_normal((2, 3, 3))
    y = F.pad(ad.tensor(x, requires_grad=True), pad, value=value)
    xt = torch.tensor(x, requires_grad=True)
    yt = torch.nn.functional.pad(xt, pad, value=value)
    np.testing.assert_array_equal(y.numpy(), yt.detach().numpy())
    upstream = np.random.default_rng(18).standard_normal(y.shape)
    xa = ad.tensor(x, requires_grad=True)
    F.pad(xa, pad, value=value).backward(upstream)
    yt.backward(torch.tensor(upstream))
    np.testing.assert_array_equal(xa.grad.numpy(), xt.grad.numpy())


def test_pad_by_hand_and_errors():
    y = F.pad(ad.tensor([[1.0, 2.0]]), (1, 0, 0, 1), value=9.0)
    assert y.tolist() == [[9, 1, 2], [9, 9, 9]]
    assert F.pad(ad.arange(3), (1, 1), value=2.7).tolist() == [2, 0, 1, 2, 2]  # int keeps int
    assert F.pad(ad.arange(4.0), (-1, -2)).tolist() == [1.0]
    with pytest.raises(ValueError, match="pad: mode must be 'constant', 'reflect', 'replicate' "
                                         "or 'circular', got 'edge'"):
        F.pad(ad.zeros(2, 2), (1, 1), mode="edge")
    with pytest.raises(ValueError, match=r"at most 1 pairs for an input of shape \(3,\)"):
        F.pad(ad.zeros(3), (1, 1, 1, 1))
    with pytest.raises(ValueError, match="a \\(before, after\\) pair per padded dim"):
        F.pad(ad.zeros(3), (1,))
    with pytest.raises(ad.ShapeError, match=r"pad: cannot crop \(-4, 2\) from dim 0 of size 3"):
        F.pad(ad.zeros(3), (-4, 2))


# ---------------------------------------------------------------- normalize, cosine_similarity

@pytest.mark.parametrize("p, dim", [(2.0, 1), (1.0, 1), (2.0, 0), (3.0, -1)])
def test_normalize_matches_torch(torch_oracle, p, dim):
    torch = torch_oracle.torch
    x = np.random.default_rng(19).standard_normal((3, 4))
    x[1] = 0.0                                             # a zero vector stays zero
    upstream = np.random.default_rng(20).standard_normal(x.shape)
    xa, xt = ad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, yt = F.normalize(xa, p, dim), torch.nn.functional.normalize(xt, p, dim)
    y.backward(upstream)
    yt.backward(torch.tensor(upstream))
    torch_oracle.assert_close(y.numpy(), yt.detach().numpy(), np.float64)
    torch_oracle.assert_close(xa.grad.numpy(), xt.grad.numpy(), np.float64)


def test_normalize_by_hand():
    y = F.normalize(ad.tensor([[3.0, 4.0], [0.0, 0.0]]))
    np.testing.assert_allclose(y.numpy(), [[0.6, 0.8], [0.0, 0.0]], rtol=1e-6)
    y = F.normalize(ad.tensor([[1.0, -3.0]]), p=1)
    np.testing.assert_allclose(y.numpy(), [[0.25, -0.75]], rtol=1e-6)
    x = ad.tensor(np.random.default_rng(21).standard_normal((5, 3)))
    np.testing.assert_allclose(np.linalg.norm(F.normalize(x).numpy(), axis=1), 1, rtol=1e-12)
    assert ad.gradcheck(lambda t: F.normalize(t, dim=0), (ad.tensor(x.numpy(),
                                                                     requires_grad=True),))


@pytest.mark.parametrize("shape1, shape2, dim", [((4, 3), (4, 3), 1), ((4, 3), (1, 3), 1),
                                                 ((2, 5, 3), (5, 3), -1), ((3, 1), (3, 4), 0)])
def test_cosine_similarity_matches_torch(torch_oracle, shape1, shape2, dim):
    torch = torch_oracle.torch
    rng = np.random.default_rng(22)
    x1, x2 = rng.standard_normal(shape1), rng.standard_normal(shape2)
    a1, a2 = ad.tensor(x1, requires_grad=True), ad.tensor(x2, requires_grad=True)
    t1, t2 = torch.tensor(x1, requires_grad=True), torch.tensor(x2, requires_grad=True)
    y = F.cosine_similarity(a1, a2, dim)
    yt = torch.nn.functional.cosine_similarity(t1, t2, dim)
    upstream = rng.standard_normal(y.shape)
    y.backward(upstream)
    yt.backward(torch.tensor(upstream))
    torch_oracle.assert_close(y.numpy(), yt.detach().numpy(), np.float64)
    torch_oracle.assert_close(a1.grad.numpy(), t1.grad.numpy(), np.float64)
    torch_oracle.assert_close(a2.grad.numpy(), t2.grad.numpy(), np.float64)


def test_cosine_similarity_by_hand_and_errors():
    x1 = ad.tensor([[1.0, 0.0], [1.0, 1.0], [2.0, 2.0], [0.0, 0.0]])
    x2 = ad.tensor([[0.0, 3.0], [2.0, 2.0], [-1.0, -1.0], [1.0, 0.0]])
    np.testing.assert_allclose(F.cosine_similarity(x1, x2).numpy(), [0, 1, -1, 0], atol=1e-6)
    with pytest.raises(ad.ShapeError, match=r"cosine_similarity: shapes \(2, 3\) and \(2, 4\) "
                                            r"do not broadcast"):
        F.cosine_similarity(ad.zeros(2, 3), ad.zeros(2, 4))
