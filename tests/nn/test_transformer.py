"""TransformerEncoderLayer, TransformerEncoder, TransformerDecoderLayer, TransformerDecoder
and Transformer against torch.nn's, in float64 with the same weights: outputs, input and
parameter gradients in eval mode and in training mode with dropout 0, post-norm and
pre-norm, batch_first or not, with every kind of mask; state-dict keys and loading torch's
weights; the printed form; the errors. Without torch, the layers are checked against
their formulas written out from their submodules."""
import math

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F
from autodiff.errors import DomainError, ShapeError
from nn.transformer import (
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)

D_MODEL, NHEAD, FEEDFORWARD = 8, 2, 16
S, N = 5, 3
T = 4                                           # the decoder's target length

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
    return compare_inputs(torch_oracle, ours, theirs, (x,), dtype, **masks)


def compare_inputs(torch_oracle, ours, theirs, inputs, dtype=np.float64, **masks):
    """compare, for a module of several inputs (the decoder's tgt and memory): every
    input's gradient agrees."""
    torch = torch_oracle.torch
    xas = [ad.tensor(x, requires_grad=True) for x in inputs]
    xts = [torch.tensor(x, requires_grad=True) for x in inputs]
    ya = ours(*xas, **{k: None if v is None else ad.tensor(v) if not isinstance(v, bool)
                       else v for k, v in masks.items()})
    yt = theirs(*xts, **{k: None if v is None else torch.tensor(v) if not isinstance(v, bool)
                         else v for k, v in masks.items()})
    assert ya.dtype == dtype and ya.shape == tuple(yt.shape)
    torch_oracle.assert_close(ya.numpy(), yt.detach().numpy(), dtype)
    upstream = np.random.default_rng(2).standard_normal(ya.shape).astype(dtype)
    ya.backward(ad.tensor(upstream))
    yt.backward(torch.from_numpy(upstream))
    for xa, xt in zip(xas, xts, strict=True):
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

def stack_pair(torch, kind, num_layers, norm, options):
    """Our Transformer{kind} of num_layers copies of a Transformer{kind}Layer (dropout 0
    unless given), with a final LayerNorm when `norm`, in float64, and torch's holding
    our weights."""
    ad.manual_seed(0)
    options = {"dropout": 0.0, **options}
    stack, layer = getattr(nn, f"Transformer{kind}"), getattr(nn, f"Transformer{kind}Layer")
    ours = stack(layer(D_MODEL, NHEAD, FEEDFORWARD, **options), num_layers,
                 norm=nn.LayerNorm(D_MODEL) if norm else None)
    theirs = getattr(torch.nn, f"Transformer{kind}")(
        getattr(torch.nn, f"Transformer{kind}Layer")(D_MODEL, NHEAD, FEEDFORWARD, **options),
        num_layers, norm=torch.nn.LayerNorm(D_MODEL) if norm else None)
    ours.to(ad.float64)
    return ours, load_ours_into(torch, ours, theirs, np.float64)


def encoder_pair(torch, num_layers=3, norm=True, **options):
    return stack_pair(torch, "Encoder", num_layers, norm, options)


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
    "decoder layer": lambda lib: lib.TransformerDecoderLayer(D_MODEL, NHEAD),
    "decoder layer, gelu, no bias, pre-norm": lambda lib: lib.TransformerDecoderLayer(
        D_MODEL, NHEAD, FEEDFORWARD, dropout=0.2, activation="gelu", bias=False,
        norm_first=True, layer_norm_eps=1e-6, batch_first=True),
    "decoder layer, a module activation": lambda lib: lib.TransformerDecoderLayer(
        D_MODEL, NHEAD, FEEDFORWARD, activation=lib.Tanh()),
    "decoder": lambda lib: lib.TransformerDecoder(
        lib.TransformerDecoderLayer(D_MODEL, NHEAD, FEEDFORWARD), 2),
    "decoder with a norm": lambda lib: lib.TransformerDecoder(
        lib.TransformerDecoderLayer(D_MODEL, NHEAD, FEEDFORWARD), 2, norm=lib.LayerNorm(D_MODEL)),
    "transformer": lambda lib: lib.Transformer(D_MODEL, NHEAD, 2, 1, FEEDFORWARD),
    "transformer, no bias": lambda lib: lib.Transformer(
        D_MODEL, NHEAD, 1, 2, FEEDFORWARD, dropout=0.0, activation="gelu", bias=False,
        layer_norm_eps=1e-6, batch_first=True, norm_first=True),
    "transformer, custom encoder": lambda lib: lib.Transformer(
        D_MODEL, NHEAD, num_decoder_layers=1, dim_feedforward=FEEDFORWARD,
        custom_encoder=lib.Linear(D_MODEL, D_MODEL)),
}


@pytest.mark.parametrize("case", list(REPRS))
def test_repr_is_torchs(torch_oracle, case):
    class Ours:                                     # nn, with the classes of this module
        TransformerEncoderLayer = TransformerEncoderLayer
        TransformerEncoder = TransformerEncoder
        TransformerDecoderLayer = TransformerDecoderLayer
        TransformerDecoder = TransformerDecoder
        Transformer = Transformer

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


# ------------------------------------------------------------------ the decoder against torch

def decoder_layer_pair(torch, **options):
    """Our decoder layer (seeded) and torch's with our weights, in float64."""
    ad.manual_seed(0)
    options = {"dropout": 0.0, **options}
    ours = TransformerDecoderLayer(D_MODEL, NHEAD, FEEDFORWARD, **options).to(ad.float64)
    theirs = torch.nn.TransformerDecoderLayer(D_MODEL, NHEAD, FEEDFORWARD, **{
        k: (v if k != "activation" or isinstance(v, str) else torch_activation(torch, v))
        for k, v in options.items()})
    return ours, load_ours_into(torch, ours, theirs, np.float64)


def target(batch_first=False, batched=True):
    """The decoder's input, of T tokens."""
    shape = ((N, T) if batch_first else (T, N)) if batched else (T,)
    return np.random.default_rng(5).standard_normal((*shape, D_MODEL))


def target_causal_mask(kind):
    """(T, T): True (or -inf) above the diagonal."""
    upper = np.triu(np.ones((T, T), bool), k=1)
    return upper if kind == "bool" else np.where(upper, -np.inf, 0.0)


def target_padding_mask(batched=True):
    """True at padding: the last target token of sample 1."""
    mask = np.zeros((N, T), bool)
    mask[1, -1] = True
    return mask if batched else mask[1]


@pytest.mark.parametrize("mode", ["eval", "train"])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_layer_matches_torch(torch_oracle, norm_first, batch_first, mode):
    ours, theirs = decoder_layer_pair(torch_oracle.torch, norm_first=norm_first,
                                      batch_first=batch_first)
    ours.train(mode == "train")
    theirs.train(mode == "train")
    compare_inputs(torch_oracle, ours, theirs, (target(batch_first), source(batch_first)),
                   tgt_mask=target_causal_mask("bool"), tgt_key_padding_mask=target_padding_mask(),
                   memory_key_padding_mask=padding_mask())


DECODER_MASKS = {
    "none": {},
    "float causal, tgt_is_causal": dict(tgt_mask=target_causal_mask("float"),
                                        tgt_is_causal=True),
    "float memory mask": dict(memory_mask=np.random.default_rng(6).standard_normal((T, S))),
    "bool memory mask": dict(memory_mask=np.eye(T, S, k=1, dtype=bool)),
    "per-head masks": dict(tgt_mask=np.random.default_rng(7).random((N * NHEAD, T, T)) < 0.3,
                           memory_mask=np.random.default_rng(8).random((N * NHEAD, T, S))
                           < 0.3),
    "float paddings": dict(tgt_key_padding_mask=np.where(target_padding_mask(), -np.inf, 0.0),
                           memory_key_padding_mask=np.where(padding_mask(), -np.inf, 0.0)),
    "memory_is_causal": dict(memory_mask=np.triu(np.ones((T, S), bool), k=1),
                             memory_is_causal=True),
}


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("masks", list(DECODER_MASKS))
def test_decoder_masks_match_torch(torch_oracle, masks, norm_first):
    ours, theirs = decoder_layer_pair(torch_oracle.torch, norm_first=norm_first)
    compare_inputs(torch_oracle, ours, theirs, (target(), source()), **DECODER_MASKS[masks])


@pytest.mark.parametrize("options", [dict(activation="gelu"), dict(activation=nn.Tanh()),
                                     dict(bias=False, layer_norm_eps=1e-3, norm_first=True)],
                         ids=["'gelu'", "nn.Tanh()", "no bias"])
def test_decoder_layer_options_match_torch(torch_oracle, options):
    ours, theirs = decoder_layer_pair(torch_oracle.torch, **options)
    compare_inputs(torch_oracle, ours, theirs, (target(), source()))


def test_an_unbatched_decoder_layer_matches_torch(torch_oracle):
    ours, theirs = decoder_layer_pair(torch_oracle.torch)
    compare_inputs(torch_oracle, ours, theirs, (target(batched=False), source(batched=False)),
                   tgt_mask=target_causal_mask("bool"),
                   tgt_key_padding_mask=target_padding_mask(batched=False),
                   memory_key_padding_mask=padding_mask(batched=False))


def decoder_pair(torch, num_layers=2, norm=True, **options):
    return stack_pair(torch, "Decoder", num_layers, norm, options)


@pytest.mark.parametrize("mode", ["eval", "train"])
@pytest.mark.parametrize(("norm_first", "batch_first", "norm"),
                         [(False, False, False), (True, True, True), (False, True, True)])
def test_decoder_matches_torch(torch_oracle, norm_first, batch_first, norm, mode):
    ours, theirs = decoder_pair(torch_oracle.torch, norm=norm, norm_first=norm_first,
                                batch_first=batch_first)
    ours.train(mode == "train")
    theirs.train(mode == "train")
    compare_inputs(torch_oracle, ours, theirs, (target(batch_first), source(batch_first)),
                   tgt_key_padding_mask=target_padding_mask(),
                   memory_key_padding_mask=padding_mask())


@pytest.mark.parametrize("tgt_is_causal", [True, False, None])
def test_decoder_causal_hints_match_torch(torch_oracle, tgt_is_causal):
    ours, theirs = decoder_pair(torch_oracle.torch)
    compare_inputs(torch_oracle, ours, theirs, (target(), source()),
                   tgt_mask=target_causal_mask("float"), tgt_is_causal=tgt_is_causal,
                   memory_mask=np.random.default_rng(9).standard_normal((T, S)))


def test_decoder_layers_are_deep_copies():
    layer = TransformerDecoderLayer(D_MODEL, NHEAD, FEEDFORWARD)
    decoder = TransformerDecoder(layer, 3)
    weights = [copy.multihead_attn.in_proj_weight for copy in [layer, *decoder.layers]]
    assert len({id(w) for w in weights}) == 4
    for w in weights[1:]:
        np.testing.assert_array_equal(w.numpy(), weights[0].numpy())
    assert decoder.num_layers == 3 and decoder.norm is None


# ------------------------------------------------------------------ the Transformer against torch

def transformer_pair(torch, **options):
    """Our Transformer (seeded: 2 encoder layers, 1 decoder layer) and torch's with our
    weights, in float64."""
    ad.manual_seed(0)
    options = {"dropout": 0.0, **options}
    ours = Transformer(D_MODEL, NHEAD, 2, 1, FEEDFORWARD, **options).to(ad.float64)
    theirs = torch.nn.Transformer(D_MODEL, NHEAD, 2, 1, FEEDFORWARD, **options)
    return ours, load_ours_into(torch, ours, theirs, np.float64)


@pytest.mark.parametrize("mode", ["eval", "train"])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_matches_torch(torch_oracle, norm_first, batch_first, mode):
    ours, theirs = transformer_pair(torch_oracle.torch, norm_first=norm_first,
                                    batch_first=batch_first)
    ours.train(mode == "train")
    theirs.train(mode == "train")
    compare_inputs(torch_oracle, ours, theirs, (source(batch_first), target(batch_first)),
                   src_mask=causal_mask("bool"), tgt_mask=target_causal_mask("float"),
                   src_key_padding_mask=padding_mask(), tgt_key_padding_mask=target_padding_mask(),
                   memory_key_padding_mask=padding_mask())


def test_transformer_with_every_mask_and_hint_matches_torch(torch_oracle):
    ours, theirs = transformer_pair(torch_oracle.torch, activation="gelu", bias=False)
    causal = Transformer.generate_square_subsequent_mask(T, dtype=ad.float64).numpy()
    compare_inputs(torch_oracle, ours, theirs, (source(), target()),
                   src_mask=causal_mask("float"), src_is_causal=True, tgt_mask=causal,
                   tgt_is_causal=True, memory_mask=np.eye(T, S, k=2, dtype=bool))


def test_an_unbatched_transformer_matches_torch(torch_oracle):
    ours, theirs = transformer_pair(torch_oracle.torch)
    compare_inputs(torch_oracle, ours, theirs, (source(batched=False), target(batched=False)),
                   tgt_mask=target_causal_mask("bool"))


def test_the_square_subsequent_mask_is_torchs(torch_oracle):
    torch = torch_oracle.torch
    mask = Transformer.generate_square_subsequent_mask(5)
    expected = torch.nn.Transformer.generate_square_subsequent_mask(5)
    assert mask.dtype == ad.float32
    np.testing.assert_array_equal(mask.numpy(), expected.numpy())
    mask64 = Transformer.generate_square_subsequent_mask(3, dtype=ad.float64)
    assert mask64.dtype == ad.float64
    np.testing.assert_array_equal(mask64.numpy(), [[0, -np.inf, -np.inf], [0, 0, -np.inf],
                                                   [0, 0, 0]])


def test_the_transformer_redraws_its_matrices_by_xavier_uniform():
    """As torch's: the stacks are built as given, then every parameter of two or more
    dims is drawn again, in order, from xavier_uniform_ (the others keep theirs)."""
    ad.manual_seed(0)
    model = Transformer(D_MODEL, NHEAD, 1, 1, FEEDFORWARD)
    ad.manual_seed(0)
    encoder = TransformerEncoder(TransformerEncoderLayer(D_MODEL, NHEAD, FEEDFORWARD), 1,
                                 nn.LayerNorm(D_MODEL))
    decoder = TransformerDecoder(TransformerDecoderLayer(D_MODEL, NHEAD, FEEDFORWARD), 1,
                                 nn.LayerNorm(D_MODEL))
    expected = [*encoder.parameters(), *decoder.parameters()]
    for p in expected:
        if p.ndim > 1:
            nn.init.xavier_uniform_(p)
    for p, q in zip(model.parameters(), expected, strict=True):
        np.testing.assert_array_equal(p.numpy(), q.numpy())


def test_custom_stacks_are_used_and_redrawn():
    ad.manual_seed(0)
    custom = TransformerEncoder(TransformerEncoderLayer(D_MODEL, NHEAD, 4, dropout=0.0), 1)
    before = custom.layers[0].linear1.weight.numpy().copy()
    model = Transformer(D_MODEL, NHEAD, num_decoder_layers=1, dim_feedforward=FEEDFORWARD,
                        dropout=0.0, custom_encoder=custom).to(ad.float64)
    assert model.encoder is custom and isinstance(model.decoder, TransformerDecoder)
    assert not np.array_equal(custom.layers[0].linear1.weight.numpy(), before)
    src, tgt = ad.tensor(source()), ad.tensor(target())
    np.testing.assert_array_equal(model(src, tgt).numpy(),
                                  model.decoder(tgt, custom(src)).numpy())
    assert (model.d_model, model.nhead, model.batch_first) == (D_MODEL, NHEAD, False)


TRANSFORMER_KEYS = [f"encoder.layers.{i}.{key}" for i in range(2) for key in LAYER_KEYS] + [
    "encoder.norm.weight", "encoder.norm.bias"]


def test_a_torch_transformer_state_dict_loads(torch_oracle):
    torch = torch_oracle.torch
    torch.manual_seed(0)
    theirs = torch.nn.Transformer(D_MODEL, NHEAD, 2, 1, FEEDFORWARD, dropout=0.0).double()
    ours = Transformer(D_MODEL, NHEAD, 2, 1, FEEDFORWARD, dropout=0.0)
    assert list(ours.state_dict())[:len(TRANSFORMER_KEYS)] == TRANSFORMER_KEYS
    assert list(ours.state_dict()) == list(theirs.state_dict())
    result = ours.load_state_dict({k: ad.tensor(v.numpy())
                                   for k, v in theirs.state_dict().items()})
    assert list(result.missing_keys) == list(result.unexpected_keys) == []
    ours.to(ad.float64)
    compare_inputs(torch_oracle, ours, theirs, (source(), target()))


# ------------------------------------------------------------------ the decoder's errors

def test_bad_decoder_layer_arguments_are_named():
    with pytest.raises(ValueError, match=r"TransformerDecoderLayer: d_model \(10\) must be "
                                         r"positive and divisible by nhead \(3\)"):
        TransformerDecoderLayer(10, 3)
    with pytest.raises(DomainError, match="TransformerDecoderLayer: activation should be "
                                          "relu/gelu, not 'tanh'"):
        TransformerDecoderLayer(D_MODEL, NHEAD, activation="tanh")
    with pytest.raises(ValueError, match="TransformerDecoderLayer: p is the probability"):
        TransformerDecoderLayer(D_MODEL, NHEAD, dropout=-0.1)
    with pytest.raises(ValueError, match="TransformerDecoderLayer: dim_feedforward must be"):
        TransformerDecoderLayer(D_MODEL, NHEAD, dim_feedforward=2.5)


def test_bad_decoder_arguments_are_named():
    layer = TransformerDecoderLayer(D_MODEL, NHEAD, FEEDFORWARD)
    with pytest.raises(TypeError, match="TransformerDecoder: decoder_layer must be a Module"):
        TransformerDecoder("layer", 2)
    with pytest.raises(ValueError, match="TransformerDecoder: num_layers must be at least 1"):
        TransformerDecoder(layer, 0)
    with pytest.raises(ValueError, match="num_layers must be a whole number"):
        TransformerDecoder(layer, 1.5)


@pytest.mark.parametrize("which", ["tgt", "memory"])
def test_a_causal_hint_without_its_mask_is_refused(which):
    layer = TransformerDecoderLayer(D_MODEL, NHEAD, FEEDFORWARD)
    with pytest.raises(DomainError, match=f"TransformerDecoderLayer: {which}_is_causal=True "
                                          f".* {which}_mask must be given"):
        layer(ad.tensor(target()), ad.tensor(source()), **{f"{which}_is_causal": True})


def test_transformer_inputs_that_do_not_fit_are_named():
    model = Transformer(D_MODEL, NHEAD, 1, 1, FEEDFORWARD)
    with pytest.raises(ShapeError, match=r"Transformer: the batch number of src and tgt must "
                                         r"be equal, got src \(5, 3, 8\) and tgt \(4, 2, 8\)"):
        model(ad.randn(S, N, D_MODEL), ad.randn(T, N - 1, D_MODEL))
    with pytest.raises(RuntimeError, match=r"feature number of src and tgt must be equal to "
                                           r"d_model \(8\)"):
        model(ad.randn(S, N, D_MODEL), ad.randn(T, N, D_MODEL + 1))


# ------------------------------------------------------------------ the decoder's formula

@pytest.mark.parametrize("norm_first", [False, True])
def test_the_decoder_layer_is_its_formula(norm_first):
    ad.manual_seed(0)
    layer = TransformerDecoderLayer(D_MODEL, NHEAD, FEEDFORWARD, dropout=0.0,
                                    activation="gelu", norm_first=norm_first).to(ad.float64)
    x, memory = ad.tensor(target()), ad.tensor(source())
    mask = ad.tensor(target_causal_mask("bool"))

    def attention(h):
        return layer.self_attn(h, h, h, attn_mask=mask, need_weights=False)[0]

    def cross_attention(h):
        return layer.multihead_attn(h, memory, memory, need_weights=False)[0]

    def feed_forward(h):
        return layer.linear2(F.gelu(layer.linear1(h)))

    if norm_first:
        h = x + attention(layer.norm1(x))
        h = h + cross_attention(layer.norm2(h))
        expected = h + feed_forward(layer.norm3(h))
    else:
        h = layer.norm1(x + attention(x))
        h = layer.norm2(h + cross_attention(h))
        expected = layer.norm3(h + feed_forward(h))
    np.testing.assert_allclose(layer(x, memory, tgt_mask=mask).numpy(), expected.numpy(),
                               rtol=1e-12)


@pytest.mark.parametrize("which", ["dropout1", "dropout2", "dropout3"])
def test_each_decoder_dropout_removes_its_branch(which):
    """With one branch's dropout at p = 1 in training mode, that branch adds nothing."""
    ad.manual_seed(0)
    layer = TransformerDecoderLayer(D_MODEL, NHEAD, FEEDFORWARD, dropout=0.0).to(ad.float64)
    getattr(layer, which).p = 1.0
    x, memory = ad.tensor(target()), ad.tensor(source())

    def branch(name, output):
        return ad.zeros(output.shape, dtype=output.dtype) if which == name else output

    h = layer.norm1(x + branch("dropout1", layer.self_attn(x, x, x, need_weights=False)[0]))
    h = layer.norm2(h + branch("dropout2", layer.multihead_attn(h, memory, memory,
                                                                need_weights=False)[0]))
    expected = layer.norm3(h + branch("dropout3", layer.linear2(layer.linear1(h).relu())))
    np.testing.assert_allclose(layer(x, memory).numpy(), expected.numpy(), rtol=1e-12,
                               atol=1e-14)
