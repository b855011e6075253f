"""torch.nn names added here: F.ctc_loss / CTCLoss (the forward recursion in log space, a
composite), AdaptiveLogSoftmaxWithLoss, and the lazy layers (LazyLinear, LazyConv1d/2d/3d,
LazyConvTranspose1d/2d/3d, LazyBatchNorm1d/2d/3d, LazyInstanceNorm1d/2d/3d).

CTC: loss values against torch's in float64 and float32 over random cases (padded and
concatenated targets, repeated labels, target length 0, input length 0, impossible
alignments, zero_infinity, every reduction, lengths as tensors and tuples, unbatched);
gradients with respect to the logits before log_softmax against torch's, and with respect
to log_probs against torch's minus the e^log_probs term torch adds (see F.ctc_loss);
gradcheck in float64. AdaptiveLogSoftmaxWithLoss: torch's weights loaded, output, loss,
log_prob, predict and every gradient compared. Lazy layers: after the first call, the
ordinary layer with the inferred size, torch's initialisation bounds, torch's outputs on
the same weights, optimizers built before and after the first call agree, state dicts
before the call hold placeholders as torch's, and model files.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F
import optim
from autodiff.errors import DomainError, DtypeError, ShapeError

from .test_functional_names import DTYPES, REDUCTIONS

# ---------------------------------------------------------------- ctc_loss

# (T, N, C, input_lengths, target_lengths, targets (padded, or 1-D concatenated), blank)
CTC_CASES = [
    (6, 2, 4, [6, 4], [3, 2], [[1, 2, 2], [3, 1, 0]], 0),             # a repeated label
    (6, 2, 4, [6, 4], [0, 2], [[1, 2, 2], [3, 1, 0]], 0),             # an empty target
    (6, 2, 4, [4, 6], [3, 3], [[1, 1, 1], [1, 1, 1]], 0),             # 4 steps: impossible
    (7, 3, 5, [7, 5, 2], [3, 2, 1], [1, 4, 4, 3, 2, 2], 0),            # concatenated
    (8, 3, 5, [8, 0, 5], [4, 0, 2], [[0, 2, 2, 4], [3, 3, 3, 3], [4, 4, 1, 1]], 1),
    (9, 2, 3, [9, 3], [4, 2], [[2, 2, 2, 2], [1, 2, 0, 0]], 0),        # T < 2S+1 but possible
    (5, 1, 4, [0], [1], [[2]], 3),                                    # no steps: inf
]


def ctc_inputs(case: tuple, seed: int, dtype: type) -> tuple[np.ndarray, ...]:
    steps, batch, classes, input_lengths, target_lengths, targets, _ = case
    logits = np.random.default_rng(seed).standard_normal((steps, batch, classes))
    return (logits.astype(dtype), np.array(targets), np.array(input_lengths),
            np.array(target_lengths))


def both_ctc(torch, case: tuple, dtype: type, reduction: str, zero_infinity: bool,
             lengths_as_tuples: bool = False):
    """(ours, theirs): the loss, and the logits and log_probs leaves, in each library."""
    logits, targets, input_lengths, target_lengths = ctc_inputs(case, len(case[3]), dtype)
    blank = case[-1]
    results = []
    for lib, tensor in ((F, ad.tensor), (torch.nn.functional, torch.tensor)):
        x = tensor(logits, requires_grad=True)
        log_probs = x.log_softmax(2)
        log_probs.retain_grad()
        lengths = ((tuple(input_lengths.tolist()), tuple(target_lengths.tolist()))
                   if lengths_as_tuples else (tensor(input_lengths), tensor(target_lengths)))
        loss = lib.ctc_loss(log_probs, tensor(targets), *lengths, blank=blank,
                            reduction=reduction, zero_infinity=zero_infinity)
        results.append((loss, x, log_probs))
    return results


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("zero_infinity", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", CTC_CASES, ids=[f"case{i}" for i in range(len(CTC_CASES))])
def test_ctc_loss_and_gradients_match_torch(torch_oracle, case, reduction, zero_infinity,
                                            dtype):
    torch = torch_oracle.torch
    (loss, x, log_probs), (expected, xt, log_probs_t) = both_ctc(
        torch, case, dtype, reduction, zero_infinity, lengths_as_tuples=len(case[3]) == 3)
    assert loss.dtype == dtype and loss.shape == tuple(expected.shape)
    values, expected_values = loss.numpy(), expected.detach().numpy()
    np.testing.assert_array_equal(np.isinf(values), np.isinf(expected_values))
    torch_oracle.assert_close(np.where(np.isinf(values), 0, values),
                              np.where(np.isinf(expected_values), 0, expected_values), dtype)
    finite = np.isfinite(expected_values).all()
    if not finite:          # torch's gradient of an inf loss is not a number to compare
        assert not zero_infinity
        return
    upstream = np.random.default_rng(5).standard_normal(loss.shape).astype(dtype)
    loss.backward(ad.tensor(upstream))
    expected.backward(torch.tensor(upstream))
    torch_oracle.assert_close(x.grad.numpy(), xt.grad.numpy(), dtype)
    # torch's gradient w.r.t. log_probs adds e^log_probs · dL/dℓₙ at every step t < Tₙ
    steps, batch = case[0], case[1]
    losses = F.ctc_loss(log_probs.detach(), ad.tensor(np.array(case[5])),
                        ad.tensor(np.array(case[3])), ad.tensor(np.array(case[4])),
                        blank=case[-1], reduction="none").numpy()
    per_sequence = {"sum": np.ones(batch), "none": np.broadcast_to(upstream, (batch,)),
                    "mean": np.ones(batch) / batch / np.maximum(case[4], 1)}[reduction]
    per_sequence = per_sequence * upstream.sum() if reduction != "none" else per_sequence
    if zero_infinity:
        per_sequence = np.where(np.isinf(losses), 0, per_sequence)
    running = np.arange(steps)[:, None] < np.array(case[3])[None, :]
    extra = np.exp(log_probs.numpy()) * (running * per_sequence)[:, :, None]
    torch_oracle.assert_close(log_probs.grad.numpy() + extra, log_probs_t.grad.numpy(), dtype)


def test_impossible_alignments_give_inf_or_zero_with_zero_gradient(torch_oracle):
    torch = torch_oracle.torch
    case = CTC_CASES[2]
    for zero_infinity, first in ((False, np.inf), (True, 0.0)):
        (loss, x, _), (expected, _, _) = both_ctc(torch, case, np.float64, "none",
                                                  zero_infinity)
        assert loss.numpy()[0] == first == expected.detach().numpy()[0]
        loss.sum().backward() if zero_infinity else loss[1].backward()
        assert (x.grad.numpy()[:, 0] == 0).all() and (x.grad.numpy()[:, 1] != 0).any()


def test_ctc_gradcheck_in_float64():
    logits = np.random.default_rng(3).standard_normal((5, 2, 4))
    targets, input_lengths, target_lengths = (ad.tensor([[1, 1, 2], [3, 0, 0]]),
                                              ad.tensor([5, 4]), ad.tensor([3, 1]))

    def loss(x: ad.Tensor) -> ad.Tensor:
        return F.ctc_loss(x, targets, input_lengths, target_lengths, reduction="sum")

    assert ad.gradcheck(loss, (ad.tensor(logits, requires_grad=True),))


def test_ctc_unbatched_and_module_match_torch(torch_oracle):
    torch = torch_oracle.torch
    logits = np.random.default_rng(4).standard_normal((6, 5))
    ours = nn.CTCLoss(blank=4, reduction="none")(
        ad.tensor(logits).log_softmax(1), ad.tensor([1, 1, 3]), ad.tensor(6), (3,))
    theirs = torch.nn.CTCLoss(blank=4, reduction="none")(
        torch.tensor(logits).log_softmax(1), torch.tensor([1, 1, 3]), torch.tensor(6),
        torch.tensor(3))
    assert ours.shape == tuple(theirs.shape) == ()
    torch_oracle.assert_close(ours.numpy(), theirs.numpy(), np.float64)


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"blank": 4}, DomainError, r"blank must be a class index in \[0, 4\)"),
    ({"targets": ad.tensor([[1, 0, 2], [1, 2, 3]])}, DomainError, "holds 0, but labels"),
    ({"targets": ad.tensor([[1, 9, 2], [1, 2, 3]])}, DomainError, "holds 9"),
    ({"targets": ad.tensor([[1.0, 2.0, 2.0], [1.0, 2.0, 3.0]])}, DtypeError, "integers"),
    ({"input_lengths": ad.tensor([7, 3])}, DomainError, r"input_lengths must lie in \[0, T"),
    ({"input_lengths": ad.tensor([6])}, ShapeError, r"one length per sequence, \(2,\)"),
    ({"target_lengths": (4, 1)}, ShapeError, "exceed the padded targets' length S = 3"),
    ({"target_lengths": 3}, TypeError, "a tensor of ints or a tuple of ints"),
    ({"targets": ad.tensor([1, 2])}, ShapeError, "shorter than the sum of target_lengths"),
    ({"log_probs": ad.zeros(6, 2, 4, 1)}, ShapeError, r"\(T, N, C\) or, unbatched"),
    ({"reduction": "avg"}, ValueError, "reduction must be"),
])
def test_ctc_errors_name_the_op_and_the_fix(kwargs, error, match):
    arguments = {"log_probs": ad.zeros(6, 2, 4), "targets": ad.tensor([[1, 1, 2], [1, 2, 3]]),
                 "input_lengths": (6, 5), "target_lengths": (3, 2)} | kwargs
    with pytest.raises(error, match=f"ctc_loss: .*{match}"):
        F.ctc_loss(**arguments)


# ---------------------------------------------------------------- AdaptiveLogSoftmaxWithLoss

# torch warns for the last tail of the second case, 16 // 4³ = 0 features wide
@pytest.mark.filterwarnings("ignore:Initializing zero-element tensors")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("args", "kwargs"), [((8, 10, [3, 6]), {"div_value": 2.0,
                                                                  "head_bias": True}),
                                               ((16, 30, (4, 12, 20)), {})])
def test_adaptive_log_softmax_matches_torch_with_its_weights(torch_oracle, args, kwargs, dtype):
    torch = torch_oracle.torch
    torch.manual_seed(0)
    theirs = torch.nn.AdaptiveLogSoftmaxWithLoss(*args, **kwargs).to(
        getattr(torch, np.dtype(dtype).name))
    ours = nn.AdaptiveLogSoftmaxWithLoss(*args, **kwargs).to(dtype)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(1)
    x = rng.standard_normal((9, args[0])).astype(dtype)
    target = rng.integers(0, args[1], 9)
    target[:3] = [0, args[2][0], args[1] - 1]           # the shortlist and both ends
    xa, xt = ad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, expected = ours(xa, ad.tensor(target)), theirs(xt, torch.tensor(target))
    assert type(out).__name__ == "_ASMoutput" and out._fields == ("output", "loss")
    assert out.output.dtype == out.loss.dtype == dtype
    torch_oracle.assert_close(out.output.numpy(), expected.output.detach().numpy(), dtype)
    torch_oracle.assert_close(out.loss.numpy(), expected.loss.detach().numpy(), dtype)
    (out.loss + 0.3 * out.output.sum()).backward()
    (expected.loss + 0.3 * expected.output.sum()).backward()
    torch_oracle.assert_close(xa.grad.numpy(), xt.grad.numpy(), dtype)
    their_parameters = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        torch_oracle.assert_close(p.grad.numpy(), their_parameters[name].grad.numpy(), dtype,
                                  err_msg=name)
    torch_oracle.assert_close(ours.log_prob(xa).numpy(), theirs.log_prob(xt).detach().numpy(),
                              dtype)
    with torch.no_grad():                   # make the head prefer clusters for some rows
        theirs.head.weight[args[2][0]:] += 2.0
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    predicted = ours.predict(xa).numpy()
    assert predicted.tolist() == theirs.predict(xt).tolist()
    assert (predicted >= args[2][0]).any()
    one = ours(xa[0], ad.tensor(target[0]))
    assert one.output.shape == () and one.loss.shape == ()
    torch_oracle.assert_close(one.output.numpy(), theirs(xt[0], torch.tensor(target[0]))
                              .output.detach().numpy(), dtype)


def test_adaptive_log_softmax_errors():
    with pytest.raises(ValueError, match="cutoffs must be unique whole numbers in increasing"):
        nn.AdaptiveLogSoftmaxWithLoss(8, 10, [6, 3])
    with pytest.raises(ValueError, match="cutoffs must hold at least one"):
        nn.AdaptiveLogSoftmaxWithLoss(8, 10, [])
    asm = nn.AdaptiveLogSoftmaxWithLoss(8, 10, [4])
    with pytest.raises(DomainError, match=r"target values must lie in \[0, 9\], got values "
                                          r"in \[0, 10\]"):
        asm(ad.zeros(2, 8), ad.tensor([0, 10]))
    with pytest.raises(ShapeError, match="needs an input .N, in_features. with the same N"):
        asm(ad.zeros(3, 8), ad.tensor([0, 1]))
    with pytest.raises(ShapeError, match="multi-target is not supported"):
        asm(ad.zeros(2, 8), ad.tensor([[0], [1]]))


# ---------------------------------------------------------------- lazy layers

# (lazy class, its arguments, an input shape, the ordinary class and the inferred size)
LAZY = [
    ("LazyLinear", (4,), {}, (3, 5), "Linear", 5),
    ("LazyLinear", (4,), {"bias": False}, (2, 3, 6), "Linear", 6),
    ("LazyConv1d", (4, 3), {"padding": 1, "padding_mode": "circular"}, (2, 6, 7), "Conv1d", 6),
    ("LazyConv2d", (4, 3), {"groups": 2, "stride": 2}, (2, 6, 7, 8), "Conv2d", 6),
    ("LazyConv3d", (4, 2), {"bias": False}, (2, 3, 4, 5, 3), "Conv3d", 3),
    ("LazyConvTranspose1d", (4, 3), {"stride": 2}, (2, 6, 5), "ConvTranspose1d", 6),
    ("LazyConvTranspose2d", (4, 3), {"groups": 2, "padding": 1}, (2, 6, 4, 5),
     "ConvTranspose2d", 6),
    ("LazyConvTranspose3d", (4, 2), {"stride": 2}, (2, 3, 2, 3, 2), "ConvTranspose3d", 3),
    ("LazyBatchNorm1d", (), {}, (8, 5), "BatchNorm1d", 5),
    ("LazyBatchNorm2d", (), {"affine": False}, (4, 3, 2, 2), "BatchNorm2d", 3),
    ("LazyBatchNorm3d", (), {"momentum": None}, (2, 3, 2, 2, 2), "BatchNorm3d", 3),
    ("LazyInstanceNorm1d", (), {}, (2, 3, 6), "InstanceNorm1d", 3),
    ("LazyInstanceNorm2d", (), {"bias": False}, (2, 4, 3, 3), "InstanceNorm2d", 4),
    ("LazyInstanceNorm3d", (), {"track_running_stats": False}, (2, 3, 2, 3, 2),
     "InstanceNorm3d", 3),
]
LAZY_IDS = [f"{case[0]}-{i}" for i, case in enumerate(LAZY)]


@pytest.mark.parametrize("case", LAZY, ids=LAZY_IDS)
def test_the_first_call_makes_the_ordinary_layer_as_torch_does(torch_oracle, case):
    torch = torch_oracle.torch
    name, args, kwargs, shape, ordinary, size = case
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [repr(p) for p in ours.parameters()] == [repr(p) for p in theirs.parameters()]
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    ours(ad.tensor(x))
    theirs(torch.tensor(x))
    assert type(ours) is getattr(nn, ordinary) and getattr(ours, getattr(nn, name).inferred) == size
    assert repr(ours) == repr(theirs) and not ours._forward_pre_hooks
    assert {k: v.shape for k, v in ours.state_dict().items()} == {
        k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    # torch's initialisation: the same bounds (Linear, convolutions) or values (norms)
    for key, value in ours.state_dict().items():
        if "Norm" in ordinary:
            assert np.array_equal(value.numpy(), theirs.state_dict()[key].numpy()) or \
                key in ("running_mean", "running_var")
        else:
            fan_in = np.prod(ours.weight.shape[1:])
            assert np.abs(value.numpy()).max() <= 1 / np.sqrt(fan_in)
            if key == "weight":         # enough draws that their spread is U's
                assert value.numpy().std() > 0.3 / np.sqrt(fan_in)
    theirs.eval(), ours.eval()
    torch_oracle.compare(ours, theirs, x, np.float64)


def test_optimizers_built_before_and_after_the_first_call_train_alike():
    x = ad.tensor(np.random.default_rng(0).standard_normal((6, 5)).astype(np.float32))
    early = nn.Sequential(nn.LazyLinear(4), nn.Tanh(), nn.LazyLinear(1))
    early_optimizer = optim.Adam(early.parameters(), lr=0.1)      # the placeholders
    assert all(isinstance(p, nn.UninitializedParameter) for p in early.parameters())
    early(x)
    start = early[0].weight.numpy().copy()
    late = nn.Sequential(nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 1))
    late.load_state_dict(early.state_dict())
    late_optimizer = optim.Adam(late.parameters(), lr=0.1)
    for _ in range(3):
        for model, optimizer in ((early, early_optimizer), (late, late_optimizer)):
            optimizer.zero_grad()
            model(x).pow(2).mean().backward()
            optimizer.step()
    for (name, a), b in zip(early.state_dict().items(), late.state_dict().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)
    assert not np.array_equal(early[0].weight.numpy(), start)        # it trained


def test_before_the_first_call_state_dict_holds_placeholders_as_torchs(tmp_path: Path):
    model = nn.Sequential(nn.LazyConv2d(4, 3), nn.LazyBatchNorm2d())
    state = model.state_dict()
    assert [repr(v) for v in state.values()] == [
        "<UninitializedParameter>", "<UninitializedParameter>", "<UninitializedParameter>",
        "<UninitializedParameter>", "<UninitializedBuffer>", "<UninitializedBuffer>",
        "tensor(0)"]
    nn.save(model, tmp_path / "lazy.safetensors")      # an uninitialised model round-trips
    again = nn.load(tmp_path / "lazy.safetensors")
    assert repr(again) == repr(model) and type(again[0]) is nn.LazyConv2d
    model.double()                                     # the dtype the placeholders get
    model(ad.randn(2, 3, 5, 5, dtype=ad.float64))
    assert model[0].weight.dtype == model[1].running_mean.dtype == np.float64
    nn.save(model, tmp_path / "built.safetensors")
    rebuilt = nn.load(tmp_path / "built.safetensors")
    assert repr(rebuilt) == repr(model) and type(rebuilt[0]) is nn.Conv2d


def test_loading_into_a_lazy_layer_fills_it_and_the_first_call_checks_the_input():
    source = nn.Linear(4, 3)
    lazy = nn.LazyLinear(3)
    lazy.load_state_dict(source.state_dict())
    assert type(lazy) is nn.LazyLinear and lazy.weight.shape == (3, 4)
    x = ad.randn(2, 4)
    np.testing.assert_array_equal(lazy(x).numpy(), source(x).numpy())
    assert type(lazy) is nn.Linear
    other = nn.LazyLinear(3)
    other.load_state_dict(source.state_dict())
    with pytest.raises(nn.StateDictError, match=r"LazyLinear: the first input \(2, 5\) has "
                                                r"in_features = 5, which needs weight"):
        other(ad.randn(2, 5))


def test_lazy_errors_name_the_layer():
    with pytest.raises(ValueError, match="LazyConv2d: the input's 3 channels .in_channels. "
                                         "must be divisible by groups .2."):
        nn.LazyConv2d(4, 3, groups=2)(ad.zeros(1, 3, 5, 5))
    with pytest.raises(ValueError, match="LazyConv1d: expected a 2-D .unbatched. or 3-D"):
        nn.LazyConv1d(4, 3)(ad.zeros(5))
    with pytest.raises(TypeError, match="LazyLinear: the first call infers the input size from a "
                                        "Tensor, got list; wrap it: ad.tensor"):
        nn.LazyLinear(3)([1.0, 2.0])
