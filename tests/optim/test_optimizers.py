"""Each optimizer against torch.optim (live, and as recorded trajectories; the update alone
on the same gradients; a first step bit for bit) and against the lecture notes' formulas
written out by hand (document 002), 25 float64 steps each."""
import importlib.util
import inspect
import json
from pathlib import Path

import numpy as np
import pytest

import autodiff as ad
import optim

FIXTURES = Path(__file__).parent / "fixtures"
RECORDED = np.load(FIXTURES / "trajectories.npz")
CASES = {case["name"]: case for case in json.loads(str(RECORDED["cases"]))}
PARAMS = ("V", "W", "b")
STEPS = 25
# float64 trajectories: the parameters are of order one, and another CPU's BLAS, exp or
# tanh moves them by ~1e-15 in 25 steps; relative 1e-9 alone would demand more of one that
# passes near 0 (the smallest recorded |θ| is 4e-5)
FLOAT64 = {"rtol": 1e-9, "atol": 1e-12}
# live against torch, on the same machine: the two libraries' tanh and matmul round
# differently by ~1e-16, and the updates follow torch's order of operations, so the
# trajectories differ by at most 9e-16 (this tolerance allows ~1e-12)
TORCH_FLOAT64 = {"rtol": 1e-12, "atol": 1e-14}


def recorder():
    """tests/optim/fixtures/record.py, the script that wrote the fixture."""
    spec = importlib.util.spec_from_file_location("record", FIXTURES / "record.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_params(x=None, dtype=np.float64):
    """The model's tensors, at the recorded start or at the flat vector x."""
    if x is None:
        return {n: ad.tensor(RECORDED[n].astype(dtype), requires_grad=True) for n in PARAMS}
    sizes = np.cumsum([0] + [RECORDED[n].size for n in PARAMS])
    return {n: ad.tensor(x[a:b].reshape(RECORDED[n].shape), requires_grad=True)
            for n, a, b in zip(PARAMS, sizes, sizes[1:])}


def loss(params):
    """L = mean((tanh(X V) W + b − T)²), as in record.py."""
    dtype = params["V"].dtype
    X, T = ad.tensor(RECORDED["X"].astype(dtype)), ad.tensor(RECORDED["T"].astype(dtype))
    return ((ad.tanh(X @ params["V"]) @ params["W"] + params["b"] - T) ** 2).mean()


def flat(params):
    return np.concatenate([params[n].numpy().ravel() for n in PARAMS])


def gradient(x):
    """dL/dx at the flat parameter vector x, by autodiff."""
    params = make_params(x)
    loss(params).backward()
    return np.concatenate([params[n].grad.numpy().ravel() for n in PARAMS])


def trajectory(optimizer, kwargs, groups=None, dtype=np.float64, steps=STEPS):
    """θ₀ … θ_steps of `optim.<optimizer>(**kwargs)` on the model, one row each."""
    params = make_params(dtype=dtype)
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in kwargs.items()}
    if groups is None:
        param_groups = list(params.values())
    else:
        param_groups = [{**g, "params": [params[n] for n in g["params"]]} for g in groups]
    opt = getattr(optim, optimizer)(param_groups, **kwargs)
    rows = [flat(params)]
    for _ in range(steps):
        opt.zero_grad()
        loss(params).backward()
        opt.step()
        rows.append(flat(params))
    return np.stack(rows)


def run_case(name, **options):
    case = CASES[name]
    return trajectory(case["optimizer"], {**case["kwargs"], **options}, case["groups"])


# ------------------------------------------------------------------ against torch.optim

def test_fixture_is_recorded_from_the_current_cases():
    record = recorder()
    cases = [{"name": n, "optimizer": o, "kwargs": k, "groups": g}
             for n, o, k, g in record.CASES]
    assert cases == list(CASES.values()), "record.py changed: re-run it to re-record"
    for name in PARAMS + ("X", "T"):
        np.testing.assert_array_equal(RECORDED[name], record.model_data()[name])


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_recorded_torch_trajectory(name):
    ours = run_case(name)
    np.testing.assert_allclose(ours, RECORDED[name], **FLOAT64)
    assert np.abs(ours[-1] - ours[0]).max() > 1e-2          # the parameters did move


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch_optim(name):
    torch = pytest.importorskip("torch")
    case = CASES[name]
    theirs = recorder().torch_trajectory(torch, {n: RECORDED[n] for n in PARAMS + ("X", "T")},
                                         case["optimizer"], case["kwargs"], case["groups"])
    np.testing.assert_allclose(run_case(name), theirs, **TORCH_FLOAT64)


@pytest.mark.parametrize("name", ["sgd_nesterov", "adagrad_options", "rmsprop_centered",
                                  "adam_amsgrad_decay", "adamw"])
def test_float32_matches_torch_optim(name):
    torch = pytest.importorskip("torch")
    case = CASES[name]
    arrays = {n: RECORDED[n].astype(np.float32) for n in PARAMS + ("X", "T")}
    theirs = recorder().torch_trajectory(torch, arrays, case["optimizer"], case["kwargs"],
                                         case["groups"])
    ours = trajectory(case["optimizer"], case["kwargs"], case["groups"], dtype=np.float32)
    assert ours.dtype == np.float32
    # after 25 float32 steps the parameters (of order one) differ by at most 2.4e-7, two
    # float32 steps of 1.2e-7 (the forward and backward round differently; the updates
    # only where torch fuses a multiply and an add or rounds its square root otherwise)
    np.testing.assert_allclose(ours, theirs, rtol=2e-6, atol=1e-6)


def update_alone(lib, case, dtype, steps=STEPS):
    """The parameters after `steps` steps of the case's optimizer from the recorded start,
    each step given the same random gradients (no model: the update rule alone)."""
    rng = np.random.default_rng(0)
    start = {n: RECORDED[n].astype(dtype) for n in PARAMS}
    gradients = [{n: rng.standard_normal(start[n].shape).astype(dtype) for n in PARAMS}
                 for _ in range(steps)]
    params = {n: lib.tensor(value, requires_grad=True) for n, value in start.items()}
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in case["kwargs"].items()}
    if case["groups"] is None:
        param_groups = list(params.values())
    else:
        param_groups = [{**g, "params": [params[n] for n in g["params"]]}
                        for g in case["groups"]]
    opt = getattr(optim if lib is ad else lib.optim, case["optimizer"])(param_groups, **kwargs)
    for step in gradients:
        for n in PARAMS:
            params[n].grad = lib.tensor(step[n])
        opt.step()
    return np.concatenate([params[n].detach().numpy().ravel() for n in PARAMS])


@pytest.mark.parametrize("dtype, tolerance", [
    (np.float64, {"rtol": 1e-14, "atol": 1e-15}),     # seen: 1e-15 relative to |θ| + 1
    (np.float32, {"rtol": 4e-6, "atol": 4e-7}),      # seen: 5e-7 for θ ≈ 3.7
], ids=["float64", "float32"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_the_update_alone_matches_torch_optim(name, dtype, tolerance):
    """The same gradients in, 25 steps: the rules agree with torch.optim's to a few
    roundings (torch fuses a·b + c into one rounding in add(alpha=), lerp_ and addcmul_,
    and its vectorised square root is not always correctly rounded)."""
    torch = pytest.importorskip("torch")
    ours, theirs = update_alone(ad, CASES[name], dtype), update_alone(torch, CASES[name], dtype)
    assert ours.dtype == dtype
    np.testing.assert_allclose(ours, theirs, **tolerance)


EXACT_FIRST_STEPS = [
    ("SGD", dict(lr=0.125, momentum=0.9)),
    ("SGD", dict(lr=0.125, momentum=0.5, nesterov=True, weight_decay=0.5)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.5)),
    ("RMSprop", dict(lr=0.01, alpha=0.75)),
    ("RMSprop", dict(lr=0.125, alpha=0.75, momentum=0.5, maximize=True)),
    ("Adam", dict(lr=0.05, betas=(0.9, 0.75))),
    ("Adam", dict(lr=0.05, betas=(0.9, 0.75), amsgrad=True, maximize=True, weight_decay=0.5)),
    ("AdamW", dict(lr=0.05, betas=(0.9, 0.75), weight_decay=0.5)),
    ("Adamax", dict(lr=0.05, weight_decay=0.5)),
    ("NAdam", dict(lr=0.05, betas=(0.9, 0.75))),
    ("NAdam", dict(lr=0.05, betas=(0.9, 0.75), weight_decay=0.5,
                   decoupled_weight_decay=True)),
    ("RAdam", dict(lr=0.05, weight_decay=0.5)),
    ("Rprop", dict(lr=0.125)),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("foreach", [None, False], ids=["flat", "per parameter"])
@pytest.mark.parametrize("name, kwargs", EXACT_FIRST_STEPS,
                         ids=[f"{name}-{i}" for i, (name, _) in enumerate(EXACT_FIRST_STEPS)])
def test_a_first_step_equals_torch_optims_bit_for_bit(name, kwargs, foreach, dtype):
    """Where torch's kernels round as numpy does, the same order of operations gives the
    same bits. They differ in two places: torch rounds a·b + c once (fused multiply-add
    in add(alpha=), lerp_ and addcmul_), numpy twice; and torch's vectorised square root
    is not always correctly rounded. Both are exact on a first step (the state starts at
    zero) with θ and g multiples of 1/8, weight decay 1/2, 1 − β₂ = α = 1/4 (so
    (1 − β₂)g² is a square) and power-of-two learning rates where a product meets a sum.
    The order of the rest (γ/(1 − β₁ᵗ) · m / (√v/√(1 − β₂ᵗ) + ε), (−γ̃·g)/(√s + ε), ...)
    decides the last bit of about one parameter in twenty."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    theta = [rng.integers(-40, 41, shape) / 8 for shape in [(30, 20), (20,)]]
    grads = [rng.integers(-40, 41, t.shape) / 8 for t in theta]
    results = []
    for lib, options in ((ad, {"foreach": foreach}), (torch, {})):
        params = [lib.tensor(t.astype(dtype), requires_grad=True) for t in theta]
        opt = getattr(optim if lib is ad else torch.optim, name)(params, **kwargs, **options)
        for p, g in zip(params, grads):
            p.grad = lib.tensor(g.astype(dtype))
        opt.step()
        results.append([p.detach().numpy() for p in params])
    for ours, theirs in zip(*results):
        assert ours.dtype == dtype
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("cls", ["SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "Adadelta",
                                 "Adamax", "NAdam", "RAdam", "Rprop", "ASGD"])
def test_defaults_are_torchs(cls):
    expected = {
        "SGD": dict(lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False,
                    maximize=False),
        "Adagrad": dict(lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                        eps=1e-10, maximize=False),
        "RMSprop": dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                        centered=False, maximize=False),
        "Adam": dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False,
                     maximize=False),
        "AdamW": dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                      amsgrad=False, maximize=False),
        "Adadelta": dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, maximize=False),
        "Adamax": dict(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, maximize=False),
        "NAdam": dict(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                      momentum_decay=4e-3, decoupled_weight_decay=False, maximize=False),
        "RAdam": dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                      decoupled_weight_decay=False, maximize=False),
        "Rprop": dict(lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), maximize=False),
        "ASGD": dict(lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
                     maximize=False),
    }[cls]
    opt = getattr(optim, cls)([ad.zeros(2, requires_grad=True)])
    assert {k: opt.defaults[k] for k in expected} == expected
    torch = pytest.importorskip("torch")
    signature = inspect.signature(getattr(torch.optim, cls))
    assert {k: signature.parameters[k].default for k in expected} == expected


# ------------------------------------------------------------------ the lecture notes

def notes_trajectory(rule):
    """θ₀ … θ₂₅ of `rule(x, dx)`, which updates x in place (its state in a closure)."""
    x = flat(make_params())
    rows = [x.copy()]
    for _ in range(STEPS):
        rule(x, gradient(x))
        rows.append(x.copy())
    return np.stack(rows)


def test_vanilla_sgd_is_the_notes_rule():
    lr = 0.1

    def vanilla(x, dx):
        x -= lr * dx

    np.testing.assert_allclose(run_case("sgd"), notes_trajectory(vanilla), **FLOAT64)


def test_momentum_is_the_notes_velocity_rule():
    lr, mu, v = 0.05, 0.9, 0.0

    def momentum(x, dx):
        nonlocal v
        v = mu * v - lr * dx
        x += v

    np.testing.assert_allclose(run_case("sgd_momentum"), notes_trajectory(momentum), **FLOAT64)


def test_nesterov_is_the_notes_rule():
    lr, mu, v = 0.05, 0.9, 0.0

    def nesterov(x, dx):
        nonlocal v
        v_prev = v
        v = mu * v - lr * dx
        x += -mu * v_prev + (1 + mu) * v

    ours = trajectory("SGD", dict(lr=lr, momentum=mu, nesterov=True))
    np.testing.assert_allclose(ours, notes_trajectory(nesterov), **FLOAT64)


def test_adagrad_is_the_notes_rule():
    lr, eps, cache = 0.1, 1e-10, 0.0

    def adagrad(x, dx):
        nonlocal cache
        cache += dx ** 2
        x -= lr * dx / (np.sqrt(cache) + eps)

    np.testing.assert_allclose(run_case("adagrad"), notes_trajectory(adagrad), **FLOAT64)


def test_rmsprop_is_the_notes_rule():
    lr, decay, eps, cache = 0.01, 0.99, 1e-8, 0.0

    def rmsprop(x, dx):
        nonlocal cache
        cache = decay * cache + (1 - decay) * dx ** 2
        x -= lr * dx / (np.sqrt(cache) + eps)

    np.testing.assert_allclose(run_case("rmsprop"), notes_trajectory(rmsprop), **FLOAT64)


def test_adam_is_the_notes_rule_plus_bias_correction():
    lr, b1, b2, eps, m, v, t = 0.05, 0.9, 0.999, 1e-8, 0.0, 0.0, 0

    def adam(x, dx):
        nonlocal m, v, t
        t += 1
        m = b1 * m + (1 - b1) * dx
        v = b2 * v + (1 - b2) * dx ** 2
        m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)   # the correction the notes omit
        x -= lr * m_hat / (np.sqrt(v_hat) + eps)

    np.testing.assert_allclose(run_case("adam"), notes_trajectory(adam), **FLOAT64)


def test_sgd_on_x_squared_gives_document_003s_sequence():
    x = ad.tensor(5.0, dtype=ad.float64, requires_grad=True)
    opt = optim.SGD([x], lr=0.3)
    values = [x.item()]
    for _ in range(5):
        opt.zero_grad()
        (x ** 2).backward()                 # dx = 2x, so x ← x − 0.3·2x = 0.4x
        opt.step()
        values.append(x.item())
    np.testing.assert_allclose(values, [5, 2, 0.8, 0.32, 0.128, 0.0512], rtol=1e-14)


# ------------------------------------------------------------------ bad hyperparameters

@pytest.mark.parametrize("cls, kwargs, message", [
    (optim.SGD, dict(lr=-0.1), r"SGD: lr must be >= 0, got -0.1"),
    (optim.SGD, dict(lr=float("nan")), r"SGD: lr must be >= 0, got nan"),
    (optim.SGD, dict(momentum=-0.5), r"SGD: momentum must be >= 0, got -0.5"),
    (optim.SGD, dict(weight_decay=-1e-4), r"SGD: weight_decay must be >= 0, got -0.0001"),
    (optim.SGD, dict(nesterov=True),
     r"nesterov=True needs momentum > 0 and dampening = 0, got momentum=0, dampening=0"),
    (optim.SGD, dict(nesterov=True, momentum=0.9, dampening=0.1),
     r"got momentum=0.9, dampening=0.1"),
    (optim.Adagrad, dict(lr=-1.0), r"Adagrad: lr must be >= 0, got -1.0"),
    (optim.Adagrad, dict(lr_decay=-0.1), r"Adagrad: lr_decay must be >= 0, got -0.1"),
    (optim.Adagrad, dict(initial_accumulator_value=-1),
     r"Adagrad: initial_accumulator_value must be >= 0, got -1"),
    (optim.Adagrad, dict(eps=-1e-10), r"Adagrad: eps must be finite and >= 0, got -1e-10"),
    (optim.RMSprop, dict(alpha=1.5), r"RMSprop: alpha must be in \[0, 1\], got 1.5"),
    (optim.RMSprop, dict(momentum=-0.9), r"RMSprop: momentum must be >= 0, got -0.9"),
    (optim.RMSprop, dict(eps=-1.0), r"RMSprop: eps must be finite and >= 0, got -1.0"),
    (optim.Adam, dict(betas=(1.0, 0.999)), r"Adam: betas\[0\] must be in \[0, 1\), got 1.0"),
    (optim.Adam, dict(betas=(0.9, -0.1)), r"Adam: betas\[1\] must be in \[0, 1\), got -0.1"),
    (optim.Adam, dict(eps=-1e-8), r"Adam: eps must be finite and >= 0, got -1e-08"),
    (optim.Adam, dict(weight_decay=-0.1), r"Adam: weight_decay must be >= 0, got -0.1"),
    (optim.AdamW, dict(lr=-1e-3), r"AdamW: lr must be >= 0, got -0.001"),
    (optim.Rprop, dict(etas=(1.2, 0.5)),
     r"Rprop: etas must be \(η₋, η₊\) with 0 < η₋ < 1 < η₊, got \(1.2, 0.5\)"),
    (optim.Rprop, dict(step_sizes=(1.0, 0.1)),
     r"Rprop: step_sizes must be \(Δ_min, Δ_max\) with 0 <= Δ_min <= Δ_max"),
    (optim.ASGD, dict(lambd=-1e-4), r"ASGD: lambd must be >= 0, got -0.0001"),
])
def test_bad_hyperparameters_are_named(cls, kwargs, message):
    with pytest.raises(ValueError, match=message):
        cls([ad.zeros(2, requires_grad=True)], **kwargs)


def test_bad_hyperparameters_in_a_param_group_are_named():
    x, y = ad.zeros(2, requires_grad=True), ad.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match=r"Adam: betas\[1\] must be in \[0, 1\), got 1.2"):
        optim.Adam([{"params": [x]}, {"params": [y], "betas": (0.9, 1.2)}])
    opt = optim.SGD([x], lr=0.1)
    with pytest.raises(ValueError, match="SGD: lr must be >= 0, got -1"):
        opt.add_param_group({"params": [y], "lr": -1})
    assert len(opt.param_groups) == 1
