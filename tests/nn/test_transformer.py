"""TransformerEncoderLayer and TransformerEncoder against torch.nn's, in float64 with the
same weights: outputs, input and parameter gradients in eval mode and in training mode
with dropout 0, post-norm and pre-norm, batch_first or not, with every kind of mask;
state-dict keys and loading torch's weights; the printed form; the errors. Without torch,
the layer is checked against its formula written out from its submodules."""
import math

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F
from autodiff.errors import DomainError, ShapeError
from nn.transformer import TransformerEncoder, TransformerEncoderLayer

D_MODEL, NHEAD, FEEDFORWARD = 8, 2, 16
S, N = 5, 3

pytestmark = pytest.mark.filterwarnings(
    "ignore:enable_nested_tensor is True:UserWarning",      # torch's, about its fast path
    "ignore:Support for mismatched:UserWarning",            # torch's, a bool and a float mask
    "ignore:The PyTorch API of nested tensors:UserWarning")


def layer_pair(torch, dtype=np.float64, **options):
    """Our layer (seeded) and torch's with our weights, in `dtype`."""
    ad.manual_seed(0)
    options = {"dropout": 0.0, **options}
    ours = TransformerEncoderLayer(D_MODEL, NHEAD, FEEDFORWARD, **options).to(dtype)
    theirs = torch.nn.TransformerEncoderLayer(D_MODEL, NHEAD, FEEDFORWARD, **{
        k: (v if k != "activation" or isinstance(v, str) else torch_activation(torch, v))
        for k, v in options.items()})
    return ours, load_ours_into(torch, ours, theirs, dtype)


def torch_activation(torch, activation):
    """torch's counterpart of one of our activation callables."""
    if isinstance(activation, nn.Module):
        return getattr(torch.nn, type(activation).__name__)()
    return getattr(torch.nn.functional, activation.__name__)


def load_ours_into(torch, ours, theirs, dtype):
    theirs.load_state_dict({k: torch.from_numpy(np.array(v.numpy()))
                            for k, v in ours.state_dict().items()})
    return theirs.to(getattr(torch, np.dtype(dtype).name))


def source(batch_first=False, batched=True, dtype=np.float64, seed=1):
    shape = ((N, S) if batch_first else (S, N)) if batched else (S,)
    return np.random.default_rng(seed).standard_normal((*shape, D_MODEL)).astype(dtype)


def padding_mask(batched=True):
    """True at padding: the last two tokens of sample 0, the last of sample 2."""
    mask = np.zeros((N, S), bool)
    mask[0, -2:] = True
    mask[2, -1] = True
    return mask if batched else mask[0]


def causal_mask(kind):
    """(S, S): True (or -inf) above the diagonal, where a token may not attend."""
    upper = np.triu(np.ones((S, S), bool), k=1)
    return upper if kind == "bool" else np.where(upper, -np.inf, 0.0)


def compare(torch_oracle, ours, theirs, x, dtype=np.float64, **masks):
    """Same input, masks and upstream gradient: output, input gradient and every parameter
    gradient agree."""
    torch = torch_oracle.torch
    xa, xt = ad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ya = ours(xa, **{k: None if v is None else ad.tensor(v) if not isinstance(v, bool) else v
                     for k, v in masks.items()})
    yt = theirs(xt, **{k: None if v is None else torch.tensor(v) if not isinstance(v, bool)
                       else v for k, v in masks.items()})
    assert ya.dtype == dtype and ya.shape == tuple(yt.shape)
    torch_oracle.assert_close(ya.numpy(), yt.detach().numpy(), dtype)
    upstream = np.random.default_rng(2).standard_normal(ya.shape).astype(dtype)
    ya.backward(ad.tensor(upstream))
    yt.backward(torch.from_numpy(upstream))
    torch_oracle.assert_close(xa.grad.numpy(), xt.grad.numpy(), dtype)
    theirs_params = dict(theirs.named_parameters())
    names = [name for name, _ in ours.named_parameters()]
    assert names == list(theirs_params)
    for name, p in ours.named_parameters():
        torch_oracle.assert_close(p.grad.numpy(), theirs_params[name].grad.numpy(), dtype,
                                  err_msg=name)
    return ya


# ------------------------------------------------------------------ the layer against torch

@pytest.mark.parametrize("mode", ["eval", "train"])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("norm_first", [False, True])
def test_layer_matches_torch(torch_oracle, norm_first, batch_first, mode):
    ours, theirs = layer_pair(torch_oracle.torch, norm_first=norm_first,
                              batch_first=batch_first)
    ours.train(mode == "train")
    theirs.train(mode == "train")
    compare(torch_oracle, ours, theirs, source(batch_first),
            src_key_padding_mask=padding_mask())


@pytest.mark.parametrize("activation", ["gelu", "relu", F.gelu, nn.GELU(), nn.Tanh()],
                         ids=["'gelu'", "'relu'", "F.gelu", "nn.GELU()", "nn.Tanh()"])
def test_activations_match_torch(torch_oracle, activation):
    ours, theirs = layer_pair(torch_oracle.torch, activation=activation, norm_first=True)
    compare(torch_oracle, ours, theirs, source())


def test_without_bias_and_with_another_eps_matches_torch(torch_oracle):
    ours, theirs = layer_pair(torch_oracle.torch, bias=False, layer_norm_eps=1e-3)
    assert ours.linear1.bias is None and ours.norm1.bias is None
    compare(torch_oracle, ours, theirs, source())


def test_float32_matches_torch(torch_oracle):
    ours, theirs = layer_pair(torch_oracle.torch, np.float32, batch_first=True)
    compare(torch_oracle, ours, theirs, source(True, dtype=np.float32), np.float32,
            src_key_padding_mask=padding_mask())


MASKS = {
    "float attn mask": dict(src_mask=np.random.default_rng(3).standard_normal((S, S))),
    "bool attn mask": dict(src_mask=np.eye(S, k=2, dtype=bool) | np.eye(S, k=-3, dtype=bool)),
    "per-head attn mask": dict(src_mask=np.random.default_rng(4).random((N * NHEAD, S, S))
                               < 0.3),
    "causal, is_causal": dict(src_mask=causal_mask("float"), is_causal=True),
    "bool causal and padding": dict(src_mask=causal_mask("bool"),
                                    src_key_padding_mask=padding_mask()),
    "float attn mask, bool padding": dict(src_mask=causal_mask("float"),
                                          src_key_padding_mask=padding_mask()),
    "float padding": dict(src_key_padding_mask=np.where(padding_mask(), -np.inf, 0.0)),
    "a token that sees no key": dict(src_mask=np.eye(S, dtype=bool)[[0] * S].T
                                     | np.eye(S, dtype=bool)[0]),
}


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("masks", list(MASKS))
def test_masks_match_torch(torch_oracle, masks, norm_first):
    ours, theirs = layer_pair(torch_oracle.torch, norm_first=norm_first)
    compare(torch_oracle, ours, theirs, source(), **MASKS[masks])


def test_a_masked_token_changes_nothing_it_cannot_see(torch_oracle):
    """The padded tokens' values do not reach the others: changing them leaves the
    other tokens' outputs as they were."""
    ours, _ = layer_pair(torch_oracle.torch)
    ours.eval()
    x, mask = source(), padding_mask()
    y = ours(ad.tensor(x), src_key_padding_mask=ad.tensor(mask)).numpy()
    x[-2:, 0] += 10.0                               # sample 0's padding
    changed = ours(ad.tensor(x), src_key_padding_mask=ad.tensor(mask)).numpy()
    np.testing.assert_allclose(changed[:-2, 0], y[:-2, 0], rtol=1e-12)
    np.testing.assert_array_equal(changed[:, 1:], y[:, 1:])


def test_an_unbatched_sequence_matches_torch(torch_oracle):
    ours, theirs = layer_pair(torch_oracle.torch)
    compare(torch_oracle, ours, theirs, source(batched=False),
            src_key_padding_mask=padding_mask(batched=False), src_mask=causal_mask("bool"))


def test_eval_without_gradients_matches_torchs_fast_path(torch_oracle):
    """torch's layer runs a fused kernel in eval mode under no_grad (batch_first): the same
    numbers."""
    torch = torch_oracle.torch
    actual, expected, _ = padded_in_eval(torch, *layer_pair(torch, batch_first=True,
                                                            dropout=0.1))
    torch_oracle.assert_close(actual, expected, np.float64)


def padded_in_eval(torch, ours, theirs):
    """Both modules' outputs in eval mode under no_grad for a padded batch_first source:
    (ours, torch's, the padding mask)."""
    ours.eval()
    theirs.eval()
    x, mask = source(True), padding_mask()
    with torch.no_grad():
        expected = theirs(torch.tensor(x), src_key_padding_mask=torch.tensor(mask)).numpy()
    with ad.no_grad():
        actual = ours(ad.tensor(x), src_key_padding_mask=ad.tensor(mask)).numpy()
    return actual, expected, mask


def test_dropout_is_on_in_training_and_off_in_eval():
    ad.manual_seed(0)
    layer = TransformerEncoderLayer(D_MODEL, NHEAD, FEEDFORWARD, dropout=0.5).to(ad.float64)
    x = ad.tensor(source())
    first, second = layer(x).numpy(), layer(x).numpy()
    assert not np.allclose(first, second)
    layer.eval()
    np.testing.assert_array_equal(layer(x).numpy(), layer(x).numpy())
    assert layer.self_attn.dropout == layer.dropout.p == layer.dropout2.p == 0.5


# ------------------------------------------------------------------ the encoder against torch

def encoder_pair(torch, num_layers=3, norm=True, **options):
    ad.manual_seed(0)
    options = {"dropout": 0.0, **options}
    ours = TransformerEncoder(TransformerEncoderLayer(D_MODEL, NHEAD, FEEDFORWARD, **options),
                              num_layers, norm=nn.LayerNorm(D_MODEL) if norm else None)
    theirs = torch.nn.TransformerEncoder(
        torch.nn.TransformerEncoderLayer(D_MODEL, NHEAD, FEEDFORWARD, **options), num_layers,
        norm=torch.nn.LayerNorm(D_MODEL) if norm else None)
    ours.to(ad.float64)
    return ours, load_ours_into(torch, ours, theirs, np.float64)


@pytest.mark.parametrize("mode", ["eval", "train"])
@pytest.mark.parametrize(("norm_first", "batch_first", "norm"),
                         [(False, False, False), (True, True, True), (False, True, True)])
def test_encoder_matches_torch(torch_oracle, norm_first, batch_first, norm, mode):
    ours, theirs = encoder_pair(torch_oracle.torch, norm=norm, norm_first=norm_first,
                                batch_first=batch_first)
    ours.train(mode == "train")
    theirs.train(mode == "train")
    compare(torch_oracle, ours, theirs, source(batch_first),
            src_key_padding_mask=padding_mask())


@pytest.mark.parametrize("is_causal", [True, False, None])
def test_encoder_masks_match_torch(torch_oracle, is_causal):
    ours, theirs = encoder_pair(torch_oracle.torch, num_layers=2)
    compare(torch_oracle, ours, theirs, source(), mask=causal_mask("float"),
            src_key_padding_mask=padding_mask(), is_causal=is_causal)


def test_encoder_in_eval_without_gradients_differs_from_torch_only_at_padding(torch_oracle):
    """torch's nested-tensor path (enable_nested_tensor, eval, no_grad, batch_first) gives
    zeros at padded positions; the other positions agree."""
    torch = torch_oracle.torch
    actual, expected, mask = padded_in_eval(torch, *encoder_pair(torch, batch_first=True))
    np.testing.assert_array_equal(expected[mask], 0.0)
    torch_oracle.assert_close(actual[~mask], expected[~mask], np.float64)


def test_encoder_layers_are_deep_copies():
    layer = TransformerEncoderLayer(D_MODEL, NHEAD, FEEDFORWARD)
    encoder = TransformerEncoder(layer, 3)
    weights = [copy.self_attn.in_proj_weight for copy in [layer, *encoder.layers]]
    assert len({id(w) for w in weights}) == 4       # four tensors: trained apart
    for w in weights[1:]:
        np.testing.assert_array_equal(w.numpy(), weights[0].numpy())
    with ad.no_grad():
        encoder.layers[0].linear1.weight.fill_(0.0)
    assert not np.all(encoder.layers[1].linear1.weight.numpy() == 0)
    assert len(list(encoder.parameters())) == 3 * len(list(layer.parameters()))
    assert encoder.num_layers == 3 and encoder.mask_check and encoder.enable_nested_tensor


# ------------------------------------------------------------------ weights and printing

LAYER_KEYS = ["self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight",
              "self_attn.out_proj.bias", "linear1.weight", "linear1.bias", "linear2.weight",
              "linear2.bias", "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias"]


def test_state_dict_keys_are_torchs():
    layer = TransformerEncoderLayer(D_MODEL, NHEAD, FEEDFORWARD)
    assert list(layer.state_dict()) == LAYER_KEYS
    encoder = TransformerEncoder(layer, 2, norm=nn.LayerNorm(D_MODEL))
    assert list(encoder.state_dict()) == [f"layers.{i}.{key}" for i in range(2)
                                          for key in LAYER_KEYS] + ["norm.weight", "norm.bias"]
    shapes = {key: value.shape for key, value in layer.state_dict().items()}
    assert shapes["self_attn.in_proj_weight"] == (3 * D_MODEL, D_MODEL)
    assert shapes["linear1.weight"] == (FEEDFORWARD, D_MODEL)
    assert shapes["linear2.weight"] == (D_MODEL, FEEDFORWARD)


@pytest.mark.parametrize("bias", [True, False])
def test_a_torch_state_dict_loads(torch_oracle, bias):
    torch = torch_oracle.torch
    torch.manual_seed(0)
    theirs = torch.nn.TransformerEncoder(
        torch.nn.TransformerEncoderLayer(D_MODEL, NHEAD, FEEDFORWARD, dropout=0.0, bias=bias),
        2, norm=torch.nn.LayerNorm(D_MODEL), enable_nested_tensor=False).double()
    ours = TransformerEncoder(TransformerEncoderLayer(D_MODEL, NHEAD, FEEDFORWARD, dropout=0.0,
                                                      bias=bias), 2, norm=nn.LayerNorm(D_MODEL))
    result = ours.load_state_dict({k: ad.tensor(v.numpy())
                                   for k, v in theirs.state_dict().items()})
    assert list(result.missing_keys) == list(result.unexpected_keys) == []
    ours.to(ad.float64)
    compare(torch_oracle, ours, theirs, source())


REPRS = {
    "default": lambda lib: lib.TransformerEncoderLayer(D_MODEL, NHEAD),
    "gelu, no bias, pre-norm": lambda lib: lib.TransformerEncoderLayer(
        D_MODEL, NHEAD, FEEDFORWARD, dropout=0.2, activation="gelu", bias=False,
        norm_first=True, layer_norm_eps=1e-6, batch_first=True),
    "a module activation": lambda lib: lib.TransformerEncoderLayer(
        D_MODEL, NHEAD, FEEDFORWARD, activation=lib.GELU(approximate="tanh")),
    "encoder": lambda lib: lib.TransformerEncoder(
        lib.TransformerEncoderLayer(D_MODEL, NHEAD, FEEDFORWARD), 3),
    "encoder with a norm": lambda lib: lib.TransformerEncoder(
        lib.TransformerEncoderLayer(D_MODEL, NHEAD, FEEDFORWARD, norm_first=True), 2,
        norm=lib.LayerNorm(D_MODEL), enable_nested_tensor=False),
}


@pytest.mark.parametrize("case", list(REPRS))
def test_repr_is_torchs(torch_oracle, case):
    class Ours:                                     # nn, with the two classes of this module
        TransformerEncoderLayer = TransformerEncoderLayer
        TransformerEncoder = TransformerEncoder

        def __getattr__(self, name):
            return getattr(nn, name)

    assert repr(REPRS[case](Ours())) == repr(REPRS[case](torch_oracle.torch.nn))


# ------------------------------------------------------------------ errors

@pytest.mark.parametrize(("kwargs", "error", "message"), [
    (dict(d_model=10, nhead=3), ValueError,
     r"TransformerEncoderLayer: d_model \(10\) must be positive and divisible by nhead "
     r"\(3\).*e.g. nhead=2"),
    (dict(d_model=0, nhead=1), ValueError, r"d_model \(0\) must be positive"),
    (dict(d_model=8, nhead=-2), ValueError, "nhead must be a whole number >= 0, got -2"),
    (dict(d_model=8, nhead=2, dim_feedforward=2.5), ValueError, "dim_feedforward must be"),
    (dict(d_model=8, nhead=2, dropout=1.5), ValueError, "TransformerEncoderLayer"),
    (dict(d_model=8, nhead=2, activation="tanh"), DomainError,
     "activation should be relu/gelu, not 'tanh'; pass another as a callable"),
    (dict(d_model=8, nhead=2, activation=3), TypeError, "activation must be 'relu', 'gelu'"),
])
def test_bad_layer_arguments_are_named(kwargs, error, message):
    with pytest.raises(error, match=message):
        TransformerEncoderLayer(**kwargs)


def test_an_unknown_activation_is_a_runtime_error_as_in_torch():
    with pytest.raises(RuntimeError, match="activation should be relu/gelu"):
        TransformerEncoderLayer(D_MODEL, NHEAD, activation="swish")


def test_bad_encoder_arguments_are_named():
    layer = TransformerEncoderLayer(D_MODEL, NHEAD, FEEDFORWARD)
    with pytest.raises(TypeError, match="TransformerEncoder: encoder_layer must be a Module"):
        TransformerEncoder("layer", 2)
    with pytest.raises(ValueError, match="TransformerEncoder: num_layers must be at least 1"):
        TransformerEncoder(layer, 0)
    with pytest.raises(ValueError, match="num_layers must be a whole number"):
        TransformerEncoder(layer, 1.5)
    with pytest.raises(TypeError, match="'norm' must be a Module"):
        TransformerEncoder(layer, 2, norm="layer_norm")


def test_is_causal_without_a_mask_is_refused():
    layer = TransformerEncoderLayer(D_MODEL, NHEAD, FEEDFORWARD)
    x = ad.tensor(source())
    with pytest.raises(DomainError, match="TransformerEncoderLayer: is_causal=True .* "
                                          "src_mask must be given"):
        layer(x, is_causal=True)
    with pytest.raises(RuntimeError, match="src_mask must be given"):
        TransformerEncoder(layer, 2)(x, is_causal=True)


def test_inputs_of_the_wrong_shape_are_named():
    layer = TransformerEncoderLayer(D_MODEL, NHEAD, FEEDFORWARD)
    with pytest.raises(ShapeError, match="query must have 8 features"):
        layer(ad.randn(S, N, D_MODEL + 1))
    with pytest.raises(ShapeError, match=r"key_padding_mask must be \(N, S\) = \(3, 5\)"):
        layer(ad.randn(S, N, D_MODEL), src_key_padding_mask=ad.zeros(S, N, dtype=ad.bool))


# ------------------------------------------------------------------ the formula, without torch

@pytest.mark.parametrize("norm_first", [False, True])
def test_the_layer_is_its_formula(norm_first):
    ad.manual_seed(0)
    layer = TransformerEncoderLayer(D_MODEL, NHEAD, FEEDFORWARD, dropout=0.0,
                                    activation="gelu", norm_first=norm_first).to(ad.float64)
    x = ad.tensor(source())
    mask = ad.tensor(causal_mask("bool"))

    def attention(h):
        return layer.self_attn(h, h, h, attn_mask=mask, need_weights=False)[0]

    def feed_forward(h):
        return layer.linear2(F.gelu(layer.linear1(h)))

    if norm_first:
        h = x + attention(layer.norm1(x))
        expected = h + feed_forward(layer.norm2(h))
    else:
        h = layer.norm1(x + attention(x))
        expected = layer.norm2(h + feed_forward(h))
    np.testing.assert_allclose(layer(x, src_mask=mask).numpy(), expected.numpy(), rtol=1e-12)


@pytest.mark.parametrize("which", ["dropout1", "dropout", "dropout2"])
def test_each_dropout_sits_where_torchs_does(which):
    """With one dropout at p = 1 (zeroing all it sees) in training mode: dropout1 removes
    the attention branch, dropout the activations (leaving linear2's bias), dropout2 the
    whole feed-forward branch."""
    ad.manual_seed(0)
    layer = TransformerEncoderLayer(D_MODEL, NHEAD, FEEDFORWARD, dropout=0.0).to(ad.float64)
    getattr(layer, which).p = 1.0
    x = ad.tensor(source())

    def attention(h):
        return ad.zeros(h.shape, dtype=h.dtype) if which == "dropout1" else \
            layer.self_attn(h, h, h, need_weights=False)[0]

    def feed_forward(h):
        if which == "dropout2":
            return ad.zeros(h.shape, dtype=h.dtype)
        inner = layer.linear1(h).relu()
        return layer.linear2(ad.zeros(inner.shape, dtype=h.dtype) if which == "dropout"
                             else inner)

    h = layer.norm1(x + attention(x))
    expected = layer.norm2(h + feed_forward(h))
    np.testing.assert_allclose(layer(x).numpy(), expected.numpy(), rtol=1e-12, atol=1e-14)


def test_the_encoder_applies_its_layers_in_turn_then_the_norm():
    ad.manual_seed(0)
    encoder = TransformerEncoder(TransformerEncoderLayer(D_MODEL, NHEAD, FEEDFORWARD,
                                                         dropout=0.0), 3,
                                 norm=nn.LayerNorm(D_MODEL)).to(ad.float64)
    with ad.no_grad():                              # make the copies differ
        for i, layer in enumerate(encoder.layers):
            layer.linear2.bias.fill_(0.1 * i)
    x = ad.tensor(source())
    expected = x
    for layer in encoder.layers:
        expected = layer(expected)
    expected = encoder.norm(expected)
    np.testing.assert_array_equal(encoder(x).numpy(), expected.numpy())
    assert math.isfinite(float(encoder(x).sum()))
