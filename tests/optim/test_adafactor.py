"""optim.Adafactor against torch.optim.Adafactor beyond the recorded trajectories
(test_optimizers.py runs the "adafactor*" cases): parameters of every rank, its state
(row and column averages, of other shapes than the parameter's), the per-parameter path
it always takes, state dicts and state files, bad hyperparameters, and a compiled
training step equal to the eager one."""
import inspect

import numpy as np
import pytest

import autodiff as ad
import nn
import optim
from nn import functional as F

SHAPES = [(3, 4), (2, 3, 5), (4,), ()]      # factored: a matrix, a batch of them; not: a
#                                             vector and a scalar


def start(dtype):
    rng = np.random.default_rng(1)
    return [np.asarray(rng.standard_normal(shape)).astype(dtype) for shape in SHAPES]


def gradients(dtype, steps):
    rng = np.random.default_rng(2)
    return [[np.asarray(rng.standard_normal(shape)).astype(dtype) for shape in SHAPES]
            for _ in range(steps)]


def assert_resumes_alike(opt, params, fresh, resumed, dtype):
    """Five more steps on the same gradients leave `resumed` (stepped by `fresh`, the
    optimizer resumed from `opt`'s saved state) equal to `params`, in `dtype`."""
    for step in gradients(dtype, 5):
        for ps in (params, resumed):
            for p, g in zip(ps, step):
                p.grad = ad.tensor(g)
        opt.step()
        fresh.step()
    for p, q in zip(resumed, params):
        assert p.dtype == dtype
        np.testing.assert_array_equal(p.numpy(), q.numpy())


def run(lib, dtype, steps=12, **kwargs):
    """The parameters and optimizer after `steps` steps on the same random gradients."""
    params = [lib.tensor(value, requires_grad=True) for value in start(dtype)]
    cls = optim.Adafactor if lib is ad else lib.optim.Adafactor
    opt = cls(params, **kwargs)
    for step in gradients(dtype, steps):
        for p, g in zip(params, step):
            p.grad = lib.tensor(g)
        opt.step()
    return params, opt


OPTIONS = [dict(), dict(lr=0.05, weight_decay=0.1), dict(beta2_decay=-0.5, eps=(1e-12, 1e-2),
                                                          d=1.2, maximize=True)]


@pytest.mark.parametrize("kwargs", OPTIONS, ids=["defaults", "decay", "options"])
@pytest.mark.parametrize("dtype, tolerance", [
    (np.float64, {"rtol": 1e-13, "atol": 1e-14}),
    (np.float32, {"rtol": 2e-6, "atol": 2e-7}),
], ids=["float64", "float32"])
def test_parameters_and_state_match_torch_for_every_rank(kwargs, dtype, tolerance):
    torch = pytest.importorskip("torch")
    ours, ours_opt = run(ad, dtype, **kwargs)
    theirs, theirs_opt = run(torch, dtype, **kwargs)
    for p, q in zip(ours, theirs):
        assert p.dtype == dtype
        np.testing.assert_allclose(p.numpy(), q.detach().numpy(), **tolerance)
    ours_state, theirs_state = ours_opt.state_dict(), theirs_opt.state_dict()
    assert ours_state["param_groups"] == [{**g, "eps": tuple(g["eps"])}
                                          for g in theirs_state["param_groups"]]
    for index, entries in theirs_state["state"].items():
        assert set(ours_state["state"][index]) == set(entries)
        assert ours_state["state"][index]["step"] == entries["step"].item() == 12
        for key, value in entries.items():
            if key != "step":
                assert ours_state["state"][index][key].shape == tuple(value.shape)
                np.testing.assert_allclose(ours_state["state"][index][key], value.numpy(),
                                           **tolerance)


def test_a_matrix_keeps_row_and_column_averages_a_vector_its_own():
    (matrix, batch, vector, scalar), opt = run(ad, np.float64, steps=1)
    assert {k: v.shape for k, v in opt.state[matrix].items() if k != "step"} == \
        {"row_var": (3, 1), "col_var": (1, 4)}
    assert {k: v.shape for k, v in opt.state[batch].items() if k != "step"} == \
        {"row_var": (2, 3, 1), "col_var": (2, 1, 5)}
    assert opt.state[vector]["variance"].shape == (4,)
    assert opt.state[scalar]["variance"].shape == ()
    g = gradients(np.float64, 1)[0][0]          # step 1: β̂₂ = 0, so R = mean of g² per row
    np.testing.assert_allclose(opt.state[matrix]["row_var"], (g ** 2).mean(1, keepdims=True))
    np.testing.assert_allclose(opt.state[matrix]["col_var"], (g ** 2).mean(0, keepdims=True))


def test_the_first_step_of_a_vector_is_the_sign_times_the_relative_step():
    """t = 1: V̂ = g², U = sign(g), RMS(U) = 1, α = min(γ, 1)·max(ε₂, RMS(θ))."""
    x = ad.tensor([3.0, -4.0, 0.5], dtype=ad.float64, requires_grad=True)
    opt = optim.Adafactor([x], lr=0.1)
    x.grad = ad.tensor([2.0, -1.0, -3.0], dtype=ad.float64)
    opt.step()
    rms = np.sqrt((9 + 16 + 0.25) / 3)
    np.testing.assert_allclose(x.numpy(), [3 - 0.1 * rms, -4 + 0.1 * rms, 0.5 + 0.1 * rms],
                               rtol=1e-15)


def test_it_always_takes_the_per_parameter_path():
    params = [ad.tensor(value, requires_grad=True) for value in start(np.float64)]
    arrays = [p.numpy() for p in params]
    opt = optim.Adafactor(params, foreach=True)
    for p, g in zip(params, gradients(np.float64, 1)[0]):
        p.grad = ad.tensor(g)
    opt.step()
    assert opt._flat == {}                                  # no flat buffers were made
    assert all(p.numpy() is a for p, a in zip(params, arrays))  # the arrays did not move
    assert opt.prepared_step() is None


@pytest.mark.parametrize("foreach", [None, True, False])
def test_foreach_changes_nothing(foreach):
    reference, _ = run(ad, np.float64)
    params, opt = run(ad, np.float64, foreach=foreach)
    assert opt.param_groups[0]["foreach"] is foreach
    for p, q in zip(params, reference):
        np.testing.assert_array_equal(p.numpy(), q.numpy())


def test_defaults_are_torchs():
    expected = dict(lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, weight_decay=0.0,
                    foreach=None, maximize=False)
    opt = optim.Adafactor([ad.zeros(2, 2, requires_grad=True)])
    assert {k: opt.defaults[k] for k in expected} == expected
    assert list(inspect.signature(optim.Adafactor).parameters) == \
        ["params", *expected]
    torch = pytest.importorskip("torch")
    signature = inspect.signature(torch.optim.Adafactor)
    assert {k: signature.parameters[k].default for k in expected} == expected
    assert list(signature.parameters) == list(inspect.signature(optim.Adafactor).parameters)


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(lr=-0.1), ValueError, r"Adafactor: lr must be >= 0, got -0.1"),
    (dict(lr=float("nan")), ValueError, r"Adafactor: lr must be >= 0, got nan"),
    (dict(beta2_decay=0.5), ValueError, r"Adafactor: beta2_decay must be <= 0, got 0.5"),
    (dict(eps=(-1e-30, 1e-3)), ValueError,
     r"Adafactor: eps\[0\] must be None or finite and >= 0, got -1e-30"),
    (dict(eps=(None, -1e-3)), ValueError,
     r"Adafactor: eps\[1\] must be finite and >= 0, got -0.001"),
    (dict(eps=(None, float("inf"))), ValueError, r"eps\[1\] must be finite and >= 0, got inf"),
    (dict(eps=1e-8), TypeError, r"Adafactor: eps must be a pair \(eps1, eps2\), e.g. "
                                r"\(None, 1e-3\), got 1e-08"),
    (dict(d=0.5), ValueError, r"Adafactor: d \(the clipping threshold\) must be >= 1, got 0.5"),
    (dict(weight_decay=-1e-2), ValueError, r"Adafactor: weight_decay must be >= 0, got -0.01"),
])
def test_bad_hyperparameters_are_named(kwargs, error, message):
    with pytest.raises(error, match=message):
        optim.Adafactor([ad.zeros(2, requires_grad=True)], **kwargs)
    torch = pytest.importorskip("torch")
    if "inf" not in repr(kwargs):                   # torch lets an infinite eps through
        with pytest.raises((ValueError, TypeError)):
            torch.optim.Adafactor([torch.zeros(2, requires_grad=True)], **kwargs)


# ------------------------------------------------------------------ saving and resuming

def test_state_dict_round_trip_resumes_identically():
    params, opt = run(ad, np.float64, steps=6)
    saved = opt.state_dict()
    resumed = [ad.tensor(p.numpy().copy(), requires_grad=True) for p in params]
    fresh = optim.Adafactor(resumed, lr=0.5)
    fresh.load_state_dict(saved)
    assert fresh.param_groups[0]["lr"] == 1e-2
    assert_resumes_alike(opt, params, fresh, resumed, np.float64)


def test_torchs_state_dict_loads_and_resumes_as_torch():
    torch = pytest.importorskip("torch")
    theirs, theirs_opt = run(torch, np.float64, steps=6, lr=0.05)
    ours = [ad.tensor(p.detach().numpy().copy(), requires_grad=True) for p in theirs]
    ours_opt = optim.Adafactor(ours)
    saved = theirs_opt.state_dict()
    ours_opt.load_state_dict({
        "state": {i: {k: int(v.item()) if k == "step" else v.numpy().copy()
                      for k, v in entries.items()} for i, entries in saved["state"].items()},
        "param_groups": [{**g, "eps": tuple(g["eps"])} for g in saved["param_groups"]]})
    for step in gradients(np.float64, 5):
        for p, q, g in zip(ours, theirs, step):
            p.grad, q.grad = ad.tensor(g), torch.tensor(g)
        ours_opt.step()
        theirs_opt.step()
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.numpy(), q.detach().numpy(), rtol=1e-13, atol=1e-14)


def test_state_file_round_trip_resumes_identically(tmp_path):
    params, opt = run(ad, np.float32, steps=6, eps=(1e-20, 1e-3))
    path = tmp_path / "adafactor.safetensors"
    optim.save_state(opt, path)
    resumed = [ad.tensor(p.numpy().copy(), requires_grad=True) for p in params]
    fresh = optim.Adafactor(resumed)
    optim.load_state(fresh, path)
    assert fresh.state_dict()["param_groups"] == opt.state_dict()["param_groups"]
    assert fresh.param_groups[0]["eps"] == (1e-20, 1e-3)
    assert_resumes_alike(opt, params, fresh, resumed, np.float32)


@pytest.mark.parametrize("key, value, message", [
    ("row_var", np.zeros((3, 4)), r"'row_var' of parameter 0 has shape \(3, 4\), the "
                                  r"parameter \(3, 4\); expected \(3, 1\)"),
    ("col_var", np.zeros((4, 1)), r"'col_var' of parameter 0 has shape \(4, 1\), the "
                                  r"parameter \(3, 4\); expected \(1, 4\)"),
    ("row_var", -np.ones((3, 1)), r"'row_var' of parameter 0 holds negative or NaN values"),
])
def test_load_state_dict_rejects_a_state_that_does_not_fit(key, value, message):
    params, opt = run(ad, np.float64, steps=2)
    saved = opt.state_dict()
    saved["state"][0][key] = value
    with pytest.raises(ValueError, match=message):
        optim.Adafactor(params).load_state_dict(saved)


def test_the_state_follows_the_parameters_dtype():
    model = nn.Linear(3, 2).double()
    opt = optim.Adafactor(model.parameters())
    x = ad.tensor(np.ones((4, 3)))
    for dtype in (np.float64, np.float32):
        model.to(dtype)
        opt.zero_grad()
        model(x.to(dtype)).sum().backward()
        opt.step()
        assert opt.state[model.weight]["row_var"].dtype == dtype
        assert opt.state[model.bias]["variance"].dtype == dtype


# ------------------------------------------------------------------ ad.compile

def test_a_compiled_training_step_equals_the_eager_one_bit_for_bit():
    X = np.linspace(-1, 1, 24).reshape(6, 4)
    Y = np.linspace(0, 1, 12).reshape(6, 2)

    def training(compiled):
        ad.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2)).double()
        opt = optim.Adafactor(model.parameters(), lr=0.05, weight_decay=0.01)

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(model(x), y)
            loss.backward()
            opt.step()
            return loss

        f = ad.compile(step) if compiled else step
        losses = [f(ad.tensor(X), ad.tensor(Y)).item() for _ in range(7)]
        state = {i: {k: np.asarray(v).tolist() for k, v in entries.items()}
                 for i, entries in opt.state_dict()["state"].items()}
        return losses, [p.numpy().tolist() for p in model.parameters()], state, f

    *eager, _ = training(False)
    *compiled, f = training(True)
    assert compiled == eager
    assert f.cache_info().replays >= 5
    assert "adafactor.step()" in f.source          # replayed as the call: no flat buffers
