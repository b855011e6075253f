"""scaled_dot_product_attention, MultiheadAttention, RNN, LSTM and GRU: PyTorch on the same
weights (torch's state dicts loaded into ours; outputs and the gradients of inputs,
initial states, masks and parameters, in float64 and float32), and torch-free checks:
hand-made cases, the opposite boolean-mask conventions of the function and the layer,
dropout, gradcheck in float64, errors, reprs, rebuilding and model files."""
from __future__ import annotations

import math

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F
from nn.attention import MultiheadAttention, NonDynamicallyQuantizableLinear
from nn.functional import scaled_dot_product_attention as sdpa
from nn.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell

from .conftest import assert_close


def flat(outputs):
    """The tensors of a nested tuple of outputs, None left out."""
    if isinstance(outputs, (tuple, list)):
        return [t for part in outputs for t in flat(part)]
    return [] if outputs is None else [outputs]


def compare_with_torch(torch, ours, theirs, arrays, dtype, modules=None):
    """Call ours(*tensors) and theirs(*torch tensors) on the same arrays (floating ones
    cast to dtype and made leaves that require grad; None and bool passed as they are),
    compare every output, backpropagate the same random upstream gradients through all of
    them, and compare the gradients of the floating inputs and, for modules = (our
    module, torch's), of every parameter."""
    arrays = [a if a is None or a.dtype == bool else a.astype(dtype) for a in arrays]
    floating = [a is not None and a.dtype != bool for a in arrays]
    ours_in = [None if a is None else ad.tensor(a, requires_grad=f)
               for a, f in zip(arrays, floating)]
    theirs_in = [None if a is None else torch.tensor(a, requires_grad=f)
                 for a, f in zip(arrays, floating)]
    ya, yt = flat(ours(*ours_in)), flat(theirs(*theirs_in))
    assert len(ya) == len(yt)
    rng = np.random.default_rng(0)
    loss_a = loss_t = 0
    for i, (a, t) in enumerate(zip(ya, yt)):
        assert a.shape == tuple(t.shape) and a.dtype == dtype, (i, a.shape, t.shape)
        assert_close(a.numpy(), t.detach().numpy(), dtype, err_msg=f"output {i}")
        upstream = rng.standard_normal(a.shape).astype(dtype)
        loss_a = loss_a + (a * ad.tensor(upstream)).sum()
        loss_t = loss_t + (t * torch.from_numpy(upstream)).sum()
    loss_a.backward()
    loss_t.backward()
    for i, (a, t, f) in enumerate(zip(ours_in, theirs_in, floating)):
        if f:
            assert_close(a.grad.numpy(), t.grad.numpy(), dtype, err_msg=f"input {i}")
    if modules is not None:
        theirs_params = dict(modules[1].named_parameters())
        names = [name for name, _ in modules[0].named_parameters()]
        assert names == list(theirs_params)
        for name, p in modules[0].named_parameters():
            assert p.grad.dtype == dtype
            assert_close(p.grad.numpy(), theirs_params[name].grad.numpy(), dtype,
                         err_msg=name)


def load_torchs(torch, ours, theirs, dtype):
    """Give torch's module random weights (biases too), load its state dict into ours and
    convert both to dtype."""
    torch.manual_seed(0)
    with torch.no_grad():
        for p in theirs.parameters():
            p.uniform_(-0.7, 0.7)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    ours.to(dtype)
    return theirs.to(getattr(torch, np.dtype(dtype).name))


def randn(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# ---------------------------------------------------------------- sdpa against torch

def bool_mask(*shape, seed=1):
    """A random boolean mask in which every row keeps at least one True."""
    mask = np.random.default_rng(seed).random(shape) < 0.6
    mask[..., 0] = True
    return mask


SDPA_CASES = {
    "4-D, L != S, Ev != E": ([randn(2, 3, 4, 5), randn(2, 3, 6, 5, seed=1),
                              randn(2, 3, 6, 7, seed=2), None], {}),
    "3-D, bool mask (L, S)": ([randn(2, 4, 3), randn(2, 5, 3, seed=1), randn(2, 5, 3, seed=2),
                               bool_mask(4, 5)], {}),
    "4-D, bool mask per sample and a fully masked row": (
        [randn(2, 2, 3, 4), randn(2, 2, 5, 4, seed=1), randn(2, 2, 5, 2, seed=2),
         np.concatenate([bool_mask(1, 1, 3, 5), np.zeros((1, 1, 3, 5), bool)])], {}),
    "4-D, float mask (N, 1, L, S)": ([randn(2, 3, 4, 5), randn(2, 3, 6, 5, seed=1),
                                      randn(2, 3, 6, 5, seed=2), randn(2, 1, 4, 6, seed=3)],
                                     {}),
    "3-D, is_causal, L < S": ([randn(2, 3, 4), randn(2, 5, 4, seed=1), randn(2, 5, 4, seed=2),
                               None], {"is_causal": True}),
    "4-D, is_causal, L > S": ([randn(1, 2, 5, 4), randn(1, 2, 3, 4, seed=1),
                               randn(1, 2, 3, 4, seed=2), None], {"is_causal": True}),
    "3-D, custom scale": ([randn(2, 4, 3), randn(2, 5, 3, seed=1), randn(2, 5, 3, seed=2),
                           bool_mask(2, 4, 5)], {"scale": 0.3}),
    "2-D, float mask and scale": ([randn(4, 3), randn(5, 3, seed=1), randn(5, 2, seed=2),
                                   randn(4, 5, seed=3)], {"scale": 2.0}),
}


@pytest.mark.parametrize("case", SDPA_CASES)
def test_sdpa_matches_torch_in_float64(case):
    torch = pytest.importorskip("torch")
    arrays, kwargs = SDPA_CASES[case]
    compare_with_torch(torch, lambda q, k, v, m: sdpa(q, k, v, attn_mask=m, **kwargs),
                       lambda q, k, v, m: torch.nn.functional.scaled_dot_product_attention(
                           q, k, v, attn_mask=m, **kwargs), arrays, np.float64)


def test_sdpa_matches_torch_in_float32():
    torch = pytest.importorskip("torch")
    arrays = [randn(2, 3, 4, 8), randn(2, 3, 6, 8, seed=1), randn(2, 3, 6, 8, seed=2),
              bool_mask(4, 6)]
    compare_with_torch(torch, lambda q, k, v, m: sdpa(q, k, v, attn_mask=m),
                       lambda q, k, v, m: torch.nn.functional.scaled_dot_product_attention(
                           q, k, v, attn_mask=m), arrays, np.float32)


# ---------------------------------------------------------------- sdpa without torch

def reference_attention(q, k, v, mask=None, scale=None):
    """softmax(q kᵀ · scale + mask) v in numpy, mask additive."""
    scores = q @ np.swapaxes(k, -1, -2) * (scale or 1 / math.sqrt(q.shape[-1]))
    if mask is not None:
        scores = scores + mask
    weights = np.exp(scores - scores.max(-1, keepdims=True))
    return weights / weights.sum(-1, keepdims=True) @ v


def test_sdpa_by_formula():
    q, k, v = randn(2, 4, 3), randn(2, 5, 3, seed=1), randn(2, 5, 2, seed=2)
    mask = randn(4, 5, seed=3)
    out = sdpa(ad.tensor(q), ad.tensor(k), ad.tensor(v), attn_mask=ad.tensor(mask), scale=0.7)
    np.testing.assert_allclose(out.numpy(), reference_attention(q, k, v, mask, 0.7),
                               rtol=1e-12)


def test_causal_attention_at_position_0_is_the_first_value():
    """Query 0 sees key 0 alone: its weight is 1 and its output value[0], exactly."""
    q, k, v = (ad.tensor(randn(2, 6, 4, seed=s)) for s in range(3))
    out = sdpa(q, k, v, is_causal=True).numpy()
    np.testing.assert_array_equal(out[:, 0], v.numpy()[:, 0])
    assert not np.allclose(out[:, 1], v.numpy()[:, 1])
    last = reference_attention(q.numpy(), k.numpy(), v.numpy())[:, -1]   # sees every key
    np.testing.assert_allclose(out[:, -1], last, rtol=1e-12)


def test_sdpa_bool_mask_means_attend_and_equals_its_float_form():
    q, k, v = (ad.tensor(randn(3, 4, seed=s)) for s in range(3))
    mask = np.array([[True, False, True], [False, True, True], [True, True, True]])
    out = sdpa(q, k, v, attn_mask=ad.tensor(mask))
    as_float = np.where(mask, 0.0, -np.inf)
    np.testing.assert_allclose(out.numpy(), reference_attention(q.numpy(), k.numpy(),
                                                                v.numpy(), as_float),
                               rtol=1e-12)
    np.testing.assert_array_equal(sdpa(q, k, v, attn_mask=ad.tensor(as_float)).numpy(),
                                  out.numpy())
    # row 0 keeps keys 0 and 2: the value of key 1 does not reach it
    v2 = v.numpy().copy()
    v2[1] += 100
    np.testing.assert_allclose(sdpa(q, k, ad.tensor(v2), attn_mask=ad.tensor(mask))[0].numpy(),
                               out[0].numpy(), rtol=1e-12)


def test_a_query_with_every_key_masked_gets_zeros_and_no_nan():
    q, k, v = (ad.tensor(randn(2, 3, seed=s), requires_grad=True) for s in range(3))
    mask = ad.tensor([[True, False], [False, False]])
    out = sdpa(q, k, v, attn_mask=mask)
    out.sum().backward()
    np.testing.assert_array_equal(out[1].numpy(), [0, 0, 0])
    assert np.isfinite(q.grad.numpy()).all() and np.isfinite(k.grad.numpy()).all()
    np.testing.assert_array_equal(q.grad.numpy()[1], [0, 0, 0])
    np.testing.assert_allclose(out[0].numpy(), v.numpy()[0], rtol=1e-12)


def test_sdpa_dropout_uses_the_shared_generator():
    q, k, v = (ad.tensor(randn(2, 4, 3, seed=s)) for s in range(3))
    np.testing.assert_array_equal(sdpa(q, k, v, dropout_p=1.0).numpy(), 0)
    ad.manual_seed(5)
    out = sdpa(q, k, v, dropout_p=0.5).numpy()
    ad.manual_seed(5)
    keep = F.dropout(ad.ones(2, 4, 4, dtype=ad.float64), 0.5).numpy()   # the same draw
    scores = q.numpy() @ k.numpy().transpose(0, 2, 1) / math.sqrt(3)
    weights = np.exp(scores) / np.exp(scores).sum(-1, keepdims=True)
    np.testing.assert_allclose(out, (weights * keep) @ v.numpy(), rtol=1e-12)
    assert 0 < (keep == 0).mean() < 1
    np.testing.assert_array_equal(sdpa(q, k, v, dropout_p=0.0).numpy(), sdpa(q, k, v).numpy())


def test_sdpa_passes_gradcheck_to_second_order():
    q, k, v = (ad.tensor(randn(2, 3, 2, seed=s), requires_grad=True) for s in range(3))
    mask = ad.tensor(randn(3, 3, seed=4), requires_grad=True)

    def attention(q, k, v, mask):
        return sdpa(q, k, v, attn_mask=mask)

    assert ad.gradcheck(attention, (q, k, v, mask))
    assert ad.gradgradcheck(attention, (q, k, v, mask))
    assert ad.gradcheck(lambda q, k, v: sdpa(q, k, v, is_causal=True, scale=0.5), (q, k, v))


def test_sdpa_errors():
    q = ad.zeros(2, 3, 4)
    with pytest.raises(ValueError, match="give attn_mask or is_causal=True, not both"):
        sdpa(q, q, q, attn_mask=ad.ones(3, 3, dtype=ad.bool), is_causal=True)
    with pytest.raises(ad.ShapeError, match=r"query \(2, 3, 4\) and key \(2, 3, 5\) must "
                                            r"have the same number of features"):
        sdpa(q, ad.zeros(2, 3, 5), q)
    with pytest.raises(ad.ShapeError, match="key .* and value .* must hold the same number"):
        sdpa(q, q, ad.zeros(2, 4, 4))
    with pytest.raises(ad.ShapeError, match="at least 2 dims"):
        sdpa(ad.zeros(4), ad.zeros(4), ad.zeros(4))
    with pytest.raises(ad.DtypeError, match="a mask must be bool or floating point, got int64"):
        sdpa(q, q, q, attn_mask=ad.ones(3, 3, dtype=ad.int64))
    with pytest.raises(TypeError, match=r"a mask must be a Tensor.*ad.tensor\(mask\)"):
        sdpa(q, q, q, attn_mask=[[True] * 3] * 3)
    with pytest.raises(ValueError, match="p is the probability"):
        sdpa(q, q, q, dropout_p=1.5)


def test_sdpa_keeps_float32():
    q = ad.randn(2, 3, 4)
    assert sdpa(q, q, q, attn_mask=ad.tensor(randn(3, 3))).dtype == ad.float32


# ---------------------------------------------------------------- MultiheadAttention vs torch

L, S, N, E, H = 4, 5, 3, 6, 2


def mha_arrays(batch_first, source=S, kdim=E, vdim=E, batched=True):
    def layout(length, features, seed):
        if not batched:
            return randn(length, features, seed=seed)
        return randn(N, length, features, seed=seed) if batch_first else \
            randn(length, N, features, seed=seed)
    return [layout(L, E, 0), layout(source, kdim, 1), layout(source, vdim, 2)]


def padding(batch=N, source=S):
    mask = np.zeros((batch, source), bool)
    mask[0, -2:] = True
    mask[-1, 1] = True
    return mask


MHA_CASES = {
    "self-attention, (L, N, E)": (
        {}, "self", {}, lambda: [None, None]),
    "batch_first, cross, key_padding_mask, per-head weights": (
        {"batch_first": True}, "cross", {"average_attn_weights": False},
        lambda: [padding(), None]),
    "bool attn_mask and key_padding_mask, no weights": (
        {}, "cross", {"need_weights": False},
        lambda: [padding(), ~bool_mask(L, S)]),
    "batch_first, float masks (N·H, L, S) and (N, S)": (
        {"batch_first": True}, "cross", {},
        lambda: [randn(N, S, seed=7), randn(N * H, L, S, seed=8)]),
    "kdim and vdim, no bias": (
        {"kdim": 3, "vdim": 5, "bias": False}, "cross", {}, lambda: [padding(), None]),
    "dropout set, evaluated in eval mode": (
        {"dropout": 0.3}, "self", {}, lambda: [None, ~bool_mask(L, L)]),
    "is_causal with the causal mask, no weights": (
        {"batch_first": True}, "self", {"is_causal": True, "need_weights": False},
        lambda: [None, ~np.tri(L, L, dtype=bool)]),
    "is_causal with the causal mask and padding": (
        {}, "self", {"is_causal": True}, lambda: [padding(N, L), ~np.tri(L, L, dtype=bool)]),
}


@pytest.mark.parametrize("case", MHA_CASES)
def test_multihead_attention_matches_torch_in_float64(case):
    torch = pytest.importorskip("torch")
    options, attention, call, masks = MHA_CASES[case]
    ours, theirs = MultiheadAttention(E, H, **options), torch.nn.MultiheadAttention(E, H,
                                                                                      **options)
    theirs = load_torchs(torch, ours, theirs, np.float64)
    if options.get("dropout"):
        ours.eval()
        theirs.eval()
    kpm, attn_mask = masks()
    if attention == "self":
        x = mha_arrays(options.get("batch_first", False))[0]

        def run(module):
            return lambda x, kpm, m: module(x, x, x, key_padding_mask=kpm, attn_mask=m, **call)
        arrays = [x, kpm, attn_mask]
    else:
        arrays = mha_arrays(options.get("batch_first", False), kdim=options.get("kdim", E),
                            vdim=options.get("vdim", E)) + [kpm, attn_mask]

        def run(module):
            return lambda q, k, v, kpm, m: module(q, k, v, key_padding_mask=kpm, attn_mask=m,
                                                  **call)
    compare_with_torch(torch, run(ours), run(theirs), arrays, np.float64, (ours, theirs))


@pytest.mark.parametrize("average", [True, False])
def test_multihead_attention_unbatched_matches_torch(average):
    torch = pytest.importorskip("torch")
    ours, theirs = MultiheadAttention(E, H), torch.nn.MultiheadAttention(E, H)
    theirs = load_torchs(torch, ours, theirs, np.float64)
    arrays = mha_arrays(False, batched=False) + [padding(1)[0], ~bool_mask(H, L, S)]

    def run(module):
        return lambda q, k, v, kpm, m: module(q, k, v, key_padding_mask=kpm, attn_mask=m,
                                              average_attn_weights=average)
    compare_with_torch(torch, run(ours), run(theirs), arrays, np.float64, (ours, theirs))


def test_multihead_attention_matches_torch_in_float32():
    torch = pytest.importorskip("torch")
    ours, theirs = MultiheadAttention(E, H, batch_first=True), \
        torch.nn.MultiheadAttention(E, H, batch_first=True)
    theirs = load_torchs(torch, ours, theirs, np.float32)
    arrays = mha_arrays(True) + [padding()]

    def run(module):
        return lambda q, k, v, kpm: module(q, k, v, key_padding_mask=kpm)
    compare_with_torch(torch, run(ours), run(theirs), arrays, np.float32, (ours, theirs))


def test_multihead_attention_keys_repr_and_init_are_torchs():
    torch = pytest.importorskip("torch")
    for options in ({}, {"bias": False}, {"kdim": 3, "vdim": 5}, {"kdim": 3, "bias": False},
                    {"batch_first": True, "dropout": 0.1}):
        ours, theirs = MultiheadAttention(8, 4, **options), \
            torch.nn.MultiheadAttention(8, 4, **options)
        assert repr(ours) == repr(theirs)
        assert {k: v.shape for k, v in ours.state_dict().items()} == \
            {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
        assert list(ours.state_dict()) == list(theirs.state_dict())
        assert [n for n, _ in ours.named_parameters()] == \
            [n for n, _ in theirs.named_parameters()]


# ---------------------------------------------------------------- MultiheadAttention by hand

def identity_attention(embed_dim):
    """One head whose projections are the identity and biases zero: the layer is then
    scaled_dot_product_attention itself."""
    mha = MultiheadAttention(embed_dim, 1).double()
    eye = np.eye(embed_dim)
    mha.in_proj_weight.numpy()[...] = np.concatenate([eye, eye, eye])
    mha.out_proj.weight.numpy()[...] = eye
    return mha


def test_bool_masks_mean_opposite_things_in_sdpa_and_multihead_attention():
    """sdpa: True = attend. MultiheadAttention: True = masked out (torch's conventions)."""
    mha = identity_attention(3)
    q, k, v = (ad.tensor(randn(4, 3, seed=s)) for s in range(3))
    mask = ad.tensor(bool_mask(4, 4, seed=9) & ~np.eye(4, dtype=bool) | np.eye(4, dtype=bool))
    assert 0 < mask.numpy().mean() < 1
    layer, _ = mha(q, k, v, attn_mask=mask)
    np.testing.assert_allclose(layer.numpy(), sdpa(q, k, v, attn_mask=~mask).numpy(),
                               rtol=1e-12)
    assert not np.allclose(layer.numpy(), sdpa(q, k, v, attn_mask=mask).numpy())
    # key_padding_mask: True = a padding key, masked out for every query
    padded, weights = mha(q, k, v, key_padding_mask=ad.tensor([False, True, False, True]))
    np.testing.assert_array_equal(weights.numpy()[:, [1, 3]], 0)
    keep = ad.tensor([True, False, True, False]).reshape(1, 4)
    np.testing.assert_allclose(padded.numpy(), sdpa(q, k, v, attn_mask=keep).numpy(),
                               rtol=1e-12)


def test_multihead_attention_weights_average_the_heads_and_sum_to_one():
    ad.manual_seed(0)
    mha = MultiheadAttention(E, 3, batch_first=True)
    x = ad.randn(N, L, E)
    _, per_head = mha(x, x, x, average_attn_weights=False)
    output, averaged = mha(x, x, x)
    assert per_head.shape == (N, 3, L, L) and averaged.shape == (N, L, L)
    np.testing.assert_allclose(per_head.numpy().mean(1), averaged.numpy(), rtol=1e-6)
    np.testing.assert_allclose(averaged.numpy().sum(-1), 1, rtol=1e-6)
    out2, none = mha(x, x, x, need_weights=False)
    assert none is None
    np.testing.assert_allclose(out2.numpy(), output.numpy(), rtol=1e-6)


def test_multihead_attention_fully_masked_query_gets_the_output_bias():
    mha = identity_attention(3)
    mha.out_proj.bias.numpy()[...] = [1.0, 2.0, 3.0]
    q = ad.tensor(randn(2, 3))
    out, weights = mha(q, q, q, attn_mask=ad.tensor([[False, False], [True, True]]))
    np.testing.assert_array_equal(out.numpy()[1], [1, 2, 3])
    np.testing.assert_array_equal(weights.numpy()[1], [0, 0])


def test_multihead_attention_dropout_only_in_training():
    ad.manual_seed(1)
    mha = MultiheadAttention(E, H, dropout=0.5, batch_first=True)
    x = ad.randn(N, L, E)
    _, weights = mha(x, x, x, average_attn_weights=False)
    assert (weights.numpy() == 0).any()                 # dropped weights are returned too
    mha.eval()
    first, _ = mha(x, x, x)
    second, weights = mha(x, x, x, average_attn_weights=False)
    np.testing.assert_array_equal(first.numpy(), second.numpy())
    np.testing.assert_allclose(weights.numpy().sum(-1), 1, rtol=1e-6)


def test_multihead_attention_init():
    ad.manual_seed(0)
    mha = MultiheadAttention(64, 8)
    bound = math.sqrt(6 / (64 + 3 * 64))                 # xavier_uniform_ on (3E, E)
    w = mha.in_proj_weight.numpy()
    assert w.shape == (192, 64) and np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert np.abs(mha.out_proj.weight.numpy()).max() <= 1 / 8          # U(-1/√E, 1/√E)
    np.testing.assert_array_equal(mha.in_proj_bias.numpy(), 0)
    np.testing.assert_array_equal(mha.out_proj.bias.numpy(), 0)
    assert isinstance(mha.out_proj, NonDynamicallyQuantizableLinear)
    separate = MultiheadAttention(6, 2, kdim=4, vdim=5)
    assert separate.in_proj_weight is None and separate.k_proj_weight.shape == (6, 4)
    assert np.abs(separate.k_proj_weight.numpy()).max() <= math.sqrt(6 / 10)
    assert mha.head_dim == 8 and mha.dropout == 0.0 and not mha.batch_first


def test_multihead_attention_passes_gradcheck():
    mha = MultiheadAttention(4, 2, kdim=3).double()
    q = ad.tensor(randn(2, 1, 4), requires_grad=True)
    k = ad.tensor(randn(3, 1, 3, seed=1), requires_grad=True)
    v = ad.tensor(randn(3, 1, 4, seed=2), requires_grad=True)
    kpm = ad.tensor([[False, True, False]])

    def f(q, k, v, *weights):
        return mha(q, k, v, key_padding_mask=kpm)

    assert ad.gradcheck(f, (q, k, v, *mha.parameters()))


def test_multihead_attention_errors():
    with pytest.raises(ValueError, match=r"embed_dim \(6\) must be positive and divisible by "
                                         r"num_heads \(4\)"):
        MultiheadAttention(6, 4)
    with pytest.raises(NotImplementedError, match="add_bias_kv and add_zero_attn are not"):
        MultiheadAttention(6, 2, add_bias_kv=True)
    with pytest.raises(NotImplementedError, match="add_bias_kv and add_zero_attn"):
        MultiheadAttention(6, 2, add_zero_attn=True)
    with pytest.raises(ValueError, match="MultiheadAttention: p is the probability"):
        MultiheadAttention(6, 2, dropout=-0.1)
    mha = MultiheadAttention(E, H)
    q, k = ad.zeros(L, N, E), ad.zeros(S, N, E)
    with pytest.raises(ad.ShapeError, match=r"attn_mask must be \(L, S\) = \(4, 5\) or "
                                            r"\(N·num_heads, L, S\) = \(6, 4, 5\), got "
                                            r"\(5, 4\)"):
        mha(q, k, k, attn_mask=ad.zeros(5, 4, dtype=ad.bool))
    with pytest.raises(ad.ShapeError, match=r"key_padding_mask must be \(N, S\) = \(3, 5\)"):
        mha(q, k, k, key_padding_mask=ad.zeros(5, 3, dtype=ad.bool))
    with pytest.raises(ValueError, match="is_causal=True is a hint .* attn_mask must be given"):
        mha(q, q, q, is_causal=True)
    with pytest.raises(ad.ShapeError, match=r"key must have 6 features .* got shape \(5, 3, 4\)"):
        mha(q, ad.zeros(S, N, 4), k)
    with pytest.raises(ad.ShapeError, match="must all be 3-D .* or all 2-D"):
        mha(q, ad.zeros(S, E), ad.zeros(S, E))
    with pytest.raises(ad.ShapeError, match="must agree in all but their last dim"):
        mha(q, k, ad.zeros(S + 1, N, E))
    with pytest.raises(ad.ShapeError, match="same batch size"):
        mha(q, ad.zeros(S, N + 1, E), ad.zeros(S, N + 1, E))


# ---------------------------------------------------------------- RNN, LSTM, GRU vs torch

RNN_CASES = {
    "RNN tanh, 2 layers, h_0": (RNN, {"num_layers": 2}, (5, 3, 4), True),
    "RNN relu, bidirectional, batch_first": (
        RNN, {"nonlinearity": "relu", "bidirectional": True, "batch_first": True},
        (3, 5, 4), False),
    "RNN, unbatched, no bias, h_0": (RNN, {"bias": False}, (5, 4), True),
    "LSTM, 2 layers, bidirectional, (h_0, c_0)": (
        LSTM, {"num_layers": 2, "bidirectional": True}, (5, 3, 4), True),
    "LSTM, batch_first, 2 layers": (LSTM, {"num_layers": 2, "batch_first": True},
                                    (3, 5, 4), False),
    "LSTM, unbatched, bidirectional, (h_0, c_0)": (
        LSTM, {"bidirectional": True}, (6, 4), True),
    "GRU, 2 layers, bidirectional, h_0": (
        GRU, {"num_layers": 2, "bidirectional": True}, (5, 3, 4), True),
    "GRU, unbatched, 2 layers, no bias": (GRU, {"num_layers": 2, "bias": False}, (5, 4),
                                          False),
    "GRU, batch_first, dropout in eval mode, h_0": (
        GRU, {"num_layers": 2, "batch_first": True, "dropout": 0.5}, (3, 5, 4), True),
}
HIDDEN = 3


def rnn_arrays(cls, options, shape, with_state):
    directions = 2 if options.get("bidirectional") else 1
    layers = options.get("num_layers", 1)
    if len(shape) == 2:
        state_shape = (directions * layers, HIDDEN)
    else:
        state_shape = (directions * layers, shape[0 if options.get("batch_first") else 1],
                       HIDDEN)
    states = [randn(*state_shape, seed=s) for s in (1, 2)] if with_state else [None, None]
    return [randn(*shape)] + (states if cls is LSTM else states[:1])


def compare_rnn(torch, cls, options, shape, with_state, dtype):
    ours = cls(4, HIDDEN, **options)
    theirs = load_torchs(torch, ours, getattr(torch.nn, cls.__name__)(4, HIDDEN, **options),
                         dtype)
    if options.get("dropout"):
        ours.eval()
        theirs.eval()
    if cls is LSTM:
        def run(module):
            return lambda x, h, c: module(x, None if h is None else (h, c))
    else:
        def run(module):
            return lambda x, h: module(x, h)
    compare_with_torch(torch, run(ours), run(theirs),
                       rnn_arrays(cls, options, shape, with_state), dtype, (ours, theirs))


@pytest.mark.parametrize("case", RNN_CASES)
def test_recurrent_layers_match_torch_in_float64(case):
    compare_rnn(pytest.importorskip("torch"), *RNN_CASES[case], np.float64)


def test_lstm_matches_torch_in_float32():
    torch = pytest.importorskip("torch")
    compare_rnn(torch, LSTM, {"num_layers": 2, "bidirectional": True}, (6, 2, 4), True,
                np.float32)


@pytest.mark.parametrize("cls", [RNN, LSTM, GRU])
def test_recurrent_keys_and_reprs_are_torchs(cls):
    torch = pytest.importorskip("torch")
    for options in ({}, {"num_layers": 3, "bias": False}, {"bidirectional": True},
                    {"batch_first": True, "num_layers": 2, "dropout": 0.25}):
        ours, theirs = cls(5, 7, **options), getattr(torch.nn, cls.__name__)(5, 7, **options)
        assert repr(ours) == repr(theirs)
        assert {k: v.shape for k, v in ours.state_dict().items()} == \
            {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
        assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(RNN(2, 3, nonlinearity="relu")) == repr(torch.nn.RNN(2, 3, nonlinearity="relu"))


CELL_CASES = {
    "RNNCell tanh, h": (RNNCell, {}, (3, 4), True),
    "RNNCell relu, no bias, zeros": (RNNCell, {"nonlinearity": "relu", "bias": False},
                                     (3, 4), False),
    "RNNCell unbatched, h": (RNNCell, {}, (4,), True),
    "LSTMCell, (h, c)": (LSTMCell, {}, (3, 4), True),
    "LSTMCell unbatched, no bias, zeros": (LSTMCell, {"bias": False}, (4,), False),
    "GRUCell, h": (GRUCell, {}, (3, 4), True),
    "GRUCell unbatched, h": (GRUCell, {"bias": False}, (4,), True),
}


def compare_cell(torch, cls, options, shape, with_state, dtype):
    ours = cls(4, HIDDEN, **options)
    theirs = load_torchs(torch, ours, getattr(torch.nn, cls.__name__)(4, HIDDEN, **options),
                         dtype)
    state_shape = shape[:-1] + (HIDDEN,)
    states = [randn(*state_shape, seed=s) for s in (1, 2)] if with_state else [None, None]
    if cls is LSTMCell:
        def run(module):
            return lambda x, h, c: module(x, None if h is None else (h, c))
    else:
        states = states[:1]

        def run(module):
            return lambda x, h: module(x, h)
    compare_with_torch(torch, run(ours), run(theirs), [randn(*shape)] + states, dtype,
                       (ours, theirs))


@pytest.mark.parametrize("case", CELL_CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_recurrent_cells_match_torch(case, dtype):
    compare_cell(pytest.importorskip("torch"), *CELL_CASES[case], dtype)


@pytest.mark.parametrize("cls", [RNNCell, LSTMCell, GRUCell])
def test_cell_keys_and_reprs_are_torchs(cls):
    torch = pytest.importorskip("torch")
    for options in ({}, {"bias": False}):
        ours, theirs = cls(5, 7, **options), getattr(torch.nn, cls.__name__)(5, 7, **options)
        assert repr(ours) == repr(theirs)
        assert {k: v.shape for k, v in ours.state_dict().items()} == \
            {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
        assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(RNNCell(2, 3, nonlinearity="relu")) == \
        repr(torch.nn.RNNCell(2, 3, nonlinearity="relu"))


@pytest.mark.parametrize("cell_class, layer_class", [(RNNCell, RNN), (LSTMCell, LSTM),
                                                     (GRUCell, GRU)])
def test_a_cell_looped_over_time_is_the_one_layer_recurrent_layer(cell_class, layer_class):
    """The same weights (weight_ih ↔ weight_ih_l0, ...): a loop of the cell over 5 steps
    gives the layer's output at every step, and the same gradients."""
    layer = layer_class(3, 4).double()
    cell = cell_class(3, 4).double()
    cell.load_state_dict({k.removesuffix("_l0"): v for k, v in layer.state_dict().items()})
    x = ad.tensor(randn(5, 2, 3))
    output, _ = layer(x)
    state = None
    for t in range(5):
        state = cell(x[t], state)
        h = state[0] if cell_class is LSTMCell else state
        np.testing.assert_allclose(h.numpy(), output[t].numpy(), rtol=1e-12, atol=1e-14)
    output[-1].sum().backward()
    h.sum().backward()
    for name, p in cell.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), getattr(layer, name + "_l0").grad.numpy(),
                                   rtol=1e-10)


@pytest.mark.parametrize("cls", [RNNCell, LSTMCell, GRUCell])
def test_cells_pass_gradcheck(cls):
    cell = cls(2, 3).double()
    x = ad.tensor(randn(2, 2), requires_grad=True)
    h = ad.tensor(randn(2, 3, seed=1), requires_grad=True)
    if cls is LSTMCell:
        c = ad.tensor(randn(2, 3, seed=2), requires_grad=True)
        assert ad.gradcheck(lambda x, h, c, *w: cell(x, (h, c)), (x, h, c, *cell.parameters()))
    else:
        assert ad.gradcheck(lambda x, h, *w: cell(x, h), (x, h, *cell.parameters()))


def test_cell_by_hand_and_errors():
    cell = RNNCell(2, 1, bias=False)
    nn.init.constant_(cell.weight_ih, 0.5)
    nn.init.constant_(cell.weight_hh, 2.0)
    h = cell(ad.tensor([1.0, 1.0]), ad.tensor([0.25]))
    assert h.shape == (1,) and h.item() == pytest.approx(math.tanh(0.5 + 0.5 + 0.5))
    with pytest.raises(ValueError, match="RNNCell: nonlinearity must be 'tanh' or 'relu'"):
        RNNCell(2, 3, nonlinearity="gelu")
    with pytest.raises(ad.ShapeError, match=r"GRUCell: the input must be \(N, input_size\) or "
                                            r"unbatched \(input_size,\), with input_size=2, "
                                            r"got \(3, 5, 2\)"):
        GRUCell(2, 3)(ad.zeros(3, 5, 2))
    with pytest.raises(ad.ShapeError, match=r"LSTMCell: a state must be \(N, hidden_size\) = "
                                            r"\(4, 3\) for this batched input of shape "
                                            r"\(4, 2\), got \(3,\)"):
        LSTMCell(2, 3)(ad.zeros(4, 2), (ad.zeros(3), ad.zeros(3)))
    with pytest.raises(TypeError, match=r"LSTMCell: hx must be a pair \(h, c\)"):
        LSTMCell(2, 3)(ad.zeros(4, 2), ad.zeros(4, 3))
    with pytest.raises(ValueError, match="GRUCell: hidden_size must be a whole number"):
        GRUCell(2, -3)


# ---------------------------------------------------------------- recurrent layers by hand

def test_lstm_with_zero_weights_and_zero_state_outputs_zeros():
    """Every gate pre-activation is 0: i = f = o = ½, g = 0, so c stays 0 and h = ½·tanh(0)."""
    lstm = LSTM(3, 4, num_layers=2, bidirectional=True)
    for p in lstm.parameters():
        nn.init.zeros_(p)
    output, (h_n, c_n) = lstm(ad.randn(5, 2, 3) * 10)
    for t in (output, h_n, c_n):
        np.testing.assert_array_equal(t.numpy(), 0)
    assert output.shape == (5, 2, 8) and h_n.shape == c_n.shape == (4, 2, 4)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def test_one_step_of_each_cell_by_formula():
    x, h, c = randn(2, 3), randn(2, 4, seed=1), randn(2, 4, seed=2)

    def step(cls, gates, **options):
        layer = cls(3, 4, **options).double()
        w_ih, w_hh = randn(gates * 4, 3, seed=3), randn(gates * 4, 4, seed=4)
        b_ih, b_hh = randn(gates * 4, seed=5), randn(gates * 4, seed=6)
        for name, value in (("weight_ih_l0", w_ih), ("weight_hh_l0", w_hh),
                            ("bias_ih_l0", b_ih), ("bias_hh_l0", b_hh)):
            getattr(layer, name).numpy()[...] = value
        state = (ad.tensor(h[None]), ad.tensor(c[None])) if cls is LSTM else ad.tensor(h[None])
        output, _ = layer(ad.tensor(x[None]), state)
        return output.numpy()[0], x @ w_ih.T + b_ih, h @ w_hh.T + b_hh

    out, xi, hh = step(RNN, 1, nonlinearity="relu")
    np.testing.assert_allclose(out, np.maximum(xi + hh, 0), rtol=1e-12)
    out, xi, hh = step(LSTM, 4)
    i, f, g, o = np.split(xi + hh, 4, axis=1)                    # torch's order: i, f, g, o
    c_new = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
    np.testing.assert_allclose(out, sigmoid(o) * np.tanh(c_new), rtol=1e-12)
    out, xi, hh = step(GRU, 3)
    (x_r, x_z, x_n), (h_r, h_z, h_n) = np.split(xi, 3, axis=1), np.split(hh, 3, axis=1)
    r, z = sigmoid(x_r + h_r), sigmoid(x_z + h_z)
    n = np.tanh(x_n + r * h_n)                                   # r multiplies W_hn h + b_hn
    np.testing.assert_allclose(out, (1 - z) * n + z * h, rtol=1e-12)


def test_bidirectional_final_states_are_the_ends_of_the_output():
    """The forward direction ends at the last step, the backward one at step 0."""
    gru = GRU(3, 4, num_layers=2, bidirectional=True, batch_first=True)
    output, h_n = gru(ad.randn(2, 5, 3))
    np.testing.assert_array_equal(h_n.numpy()[2], output.numpy()[:, -1, :4])
    np.testing.assert_array_equal(h_n.numpy()[3], output.numpy()[:, 0, 4:])


def test_unbatched_input_is_a_batch_of_one():
    lstm = LSTM(3, 4, num_layers=2)
    x, h, c = ad.randn(5, 3), ad.randn(2, 4), ad.randn(2, 4)
    output, (h_n, c_n) = lstm(x, (h, c))
    batched, (h_b, c_b) = lstm(x.unsqueeze(1), (h.unsqueeze(1), c.unsqueeze(1)))
    np.testing.assert_array_equal(output.numpy(), batched.numpy()[:, 0])
    np.testing.assert_array_equal(h_n.numpy(), h_b.numpy()[:, 0])
    np.testing.assert_array_equal(c_n.numpy(), c_b.numpy()[:, 0])


def test_dropout_between_layers_only_in_training():
    """With dropout=1 the first layer's output is all zeroed in training: the second layer
    then never sees the input, whose gradient is 0. In eval mode it flows."""
    rnn = RNN(3, 4, num_layers=2, dropout=1.0)
    x = ad.randn(5, 2, 3, requires_grad=True)
    rnn(x)[0].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 0)
    x.grad = None
    rnn.eval()
    rnn(x)[0].sum().backward()
    assert np.abs(x.grad.numpy()).max() > 0
    rnn.train()
    ad.manual_seed(3)
    half = RNN(3, 4, num_layers=2, dropout=0.5)
    assert not np.array_equal(half(x)[0].numpy(), half.eval()(x)[0].numpy())


def test_recurrent_init_is_uniform_within_one_over_sqrt_hidden():
    ad.manual_seed(0)
    gru = GRU(10, 25, num_layers=2, bidirectional=True)
    values = np.concatenate([p.numpy().ravel() for p in gru.parameters()])
    assert np.abs(values).max() <= 0.2 and np.abs(values).max() > 0.199
    assert abs(values.mean()) < 0.01 and values.std() == pytest.approx(0.2 / math.sqrt(3),
                                                                       rel=0.02)
    assert all(p.dtype == ad.float32 and p.requires_grad for p in gru.parameters())
    assert gru.weight_ih_l1_reverse.shape == (75, 50)


def test_tiny_lstm_passes_gradcheck():
    lstm = LSTM(2, 3, num_layers=2, bidirectional=True).double()
    x = ad.tensor(randn(3, 1, 2), requires_grad=True)
    h0 = ad.tensor(randn(4, 1, 3, seed=1), requires_grad=True)
    c0 = ad.tensor(randn(4, 1, 3, seed=2), requires_grad=True)

    def f(x, h0, c0, *weights):
        output, (h_n, c_n) = lstm(x, (h0, c0))
        return output, h_n, c_n

    assert ad.gradcheck(f, (x, h0, c0, *lstm.parameters()))


def test_gru_passes_gradcheck():
    gru = GRU(2, 2, bidirectional=True).double()
    x = ad.tensor(randn(3, 2), requires_grad=True)
    assert ad.gradcheck(lambda x, *weights: gru(x), (x, *gru.parameters()))


def test_recurrent_errors():
    with pytest.raises(ValueError, match="RNN: nonlinearity must be 'tanh' or 'relu', got "
                                         "'sigmoid'"):
        RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="LSTM: hidden_size and num_layers must be at least 1"):
        LSTM(3, 0)
    with pytest.raises(ValueError, match="GRU: num_layers must be a whole number"):
        GRU(3, 4, num_layers=-1)
    with pytest.raises(ValueError, match="GRU: p is the probability"):
        GRU(3, 4, num_layers=2, dropout=2.0)
    with pytest.warns(UserWarning, match="dropout=0.5 does nothing with num_layers=1"):
        LSTM(3, 4, dropout=0.5)
    lstm = LSTM(3, 4, num_layers=2, batch_first=True)
    with pytest.raises(ad.ShapeError, match=r"LSTM: the input must be \(N, L, input_size\) "
                                            r"or unbatched \(L, input_size\), with "
                                            r"input_size=3, got shape \(2, 5, 4\)"):
        lstm(ad.zeros(2, 5, 4))
    with pytest.raises(ad.ShapeError, match="got shape"):
        lstm(ad.zeros(1, 2, 5, 3))
    with pytest.raises(ad.ShapeError, match="the input sequence is empty"):
        lstm(ad.zeros(2, 0, 3))
    with pytest.raises(TypeError, match=r"LSTM: hx must be a pair \(h_0, c_0\)"):
        lstm(ad.zeros(2, 5, 3), ad.zeros(2, 2, 4))
    with pytest.raises(ad.ShapeError, match=r"must be \(D·num_layers, N, H\) = \(2, 2, 4\) "
                                            r"for this batched input, got \(1, 2, 4\)"):
        lstm(ad.zeros(2, 5, 3), (ad.zeros(1, 2, 4), ad.zeros(2, 2, 4)))
    with pytest.raises(ad.ShapeError, match=r"= \(2, 4\) for this unbatched input, got "
                                            r"\(2, 1, 4\)"):
        lstm(ad.zeros(5, 3), (ad.zeros(2, 1, 4), ad.zeros(2, 1, 4)))
    with pytest.raises(TypeError, match=r"ad.tensor"):
        RNN(1, 2)([[0.0]])


# ---------------------------------------------------------------- rebuilding and model files

NEW_LAYERS = [MultiheadAttention(6, 2), MultiheadAttention(6, 3, dropout=0.1, bias=False,
                                                           kdim=4, vdim=5, batch_first=True),
              NonDynamicallyQuantizableLinear(3, 4, bias=False),
              RNN(3, 4), RNN(3, 4, 2, "relu", False, True, 0.5, True),
              LSTM(3, 4, num_layers=2, bidirectional=True), LSTM(3, 4, bias=False),
              GRU(3, 4, num_layers=3, batch_first=True, dropout=0.2)]


@pytest.mark.parametrize("layer", NEW_LAYERS, ids=repr)
def test_new_layers_are_builtin_rebuild_and_declare_their_state_shapes(layer):
    assert nn.BUILTIN_LAYERS[type(layer).__name__] is type(layer)
    rebuilt = type(layer)(**layer.hyperparameters())
    assert repr(rebuilt) == repr(layer)
    assert rebuilt.hyperparameters() == layer.hyperparameters()
    built = {key: tuple(t.shape) for key, t in layer.state_dict().items()}
    assert type(layer).state_shapes(**layer.hyperparameters()) == built


@pytest.mark.parametrize("layer", NEW_LAYERS, ids=repr)
def test_new_layers_round_trip_through_json(layer):
    via_json = nn.from_json(nn.Sequential(layer).to_json())[0]
    assert repr(via_json) == repr(layer)
    assert via_json.hyperparameters() == layer.hyperparameters()


def test_a_recurrent_model_saves_and_loads(tmp_path):
    pytest.importorskip("safetensors")
    ad.manual_seed(2)
    model = nn.ModuleDict({"encoder": LSTM(3, 4, num_layers=2, bidirectional=True),
                           "decoder": GRU(8, 4, batch_first=True)})
    nn.save(model, tmp_path / "model.safetensors")
    loaded = nn.load(tmp_path / "model.safetensors")
    assert repr(loaded) == repr(model)
    x = ad.randn(5, 2, 3)
    np.testing.assert_array_equal(loaded["encoder"](x)[0].numpy(),
                                  model["encoder"](x)[0].numpy())
