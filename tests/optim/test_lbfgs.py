"""optim.LBFGS against torch.optim.LBFGS on the same problems (Rosenbrock, a quadratic, a
small tanh regression) in float64: the parameters after every step, the losses, and the
whole state (the memory of steps, the counters) with and without the strong-Wolfe line
search; state_dict round trips that resume identically (also from torch's state); its
errors, its in-place writes (versions), step hooks and ad.compile. Without torch the
algorithm's pieces are checked against their definitions."""
import inspect
import math
import warnings

import numpy as np
import pytest

import autodiff as ad
import optim
from autodiff.errors import CompileWarning, InPlaceError
from optim.lbfgs import cubic_interpolate, strong_wolfe

# live against torch on the same machine: the libraries' dot products and tanh round
# differently by ~1e-16, and LBFGS feeds its steps back into its memory, so trajectories
# part by up to ~3e-12 over six steps (seen: 2.5e-12 on Rosenbrock with a 3-step memory);
# a wrong line of the algorithm moves them by far more than this allows
FLOAT64 = {"rtol": 1e-10, "atol": 1e-10}
# the remembered steps s = t·d and gradient changes y = g − g_prev of the last iterations
# are differences of nearly equal numbers once the iterates settle (g ~ 1e-6), so there
# the same ~1e-16 rounding is a larger share of them: up to 3e-8 of an entry's largest
# magnitude was seen (ro on the tanh problem); a short run keeps it to ~1e-11
STATE_AFTER_CONVERGING = 1e-6
STATE = 1e-10

START = np.array([-1.5, 2.0, 0.5, -0.7])
RNG = np.random.default_rng(7)
A = RNG.standard_normal((12, 5))
B = RNG.standard_normal((12, 2))
W0 = RNG.standard_normal((5, 2)) / 2


def rosenbrock(lib, dtype=np.float64):
    """f(x) = Σ 100(x_{i+1} − x_i²)² + (1 − x_i)², from START."""
    x = lib.tensor(START.astype(dtype), requires_grad=True)
    return [x], lambda: (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


def quadratic(lib, dtype=np.float64):
    """f(W, c) = mean((A W + c − B)²): least squares."""
    W = lib.tensor(W0.astype(dtype), requires_grad=True)
    c = lib.tensor(np.zeros(2, dtype), requires_grad=True)
    a, b = lib.tensor(A.astype(dtype)), lib.tensor(B.astype(dtype))
    return [W, c], lambda: ((a @ W + c - b) ** 2).mean()


def tanh_regression(lib, dtype=np.float64):
    """f(W, c) = mean((tanh(A W) + c − B)²)."""
    W = lib.tensor(W0.astype(dtype), requires_grad=True)
    c = lib.tensor(np.zeros(2, dtype), requires_grad=True)
    a, b = lib.tensor(A.astype(dtype)), lib.tensor(B.astype(dtype))
    return [W, c], lambda: ((lib.tanh(a @ W) + c - b) ** 2).mean()


PROBLEMS = {"rosenbrock": rosenbrock, "quadratic": quadratic, "tanh": tanh_regression}
OPTIONS = {"defaults": {},
           "short steps, 3-step memory": dict(lr=0.5, max_iter=5, history_size=3),
           "one evaluation budget": dict(max_iter=4, max_eval=3, history_size=2)}
CASES = [(problem, line_search, options) for problem in PROBLEMS
         for line_search in (None, "strong_wolfe") for options in OPTIONS
         if not (problem == "tanh" and line_search is None and options == "defaults")]
# (tanh without a line search at lr=1 diverges: its numbers grow to 4e4 and the two
# libraries' rounding with them; a fixed step there is tested at lr=0.5)


def torch_lib():
    return pytest.importorskip("torch")


def optimizer_of(lib):
    return optim.LBFGS if lib is ad else lib.optim.LBFGS


def run(lib, problem, steps=6, dtype=np.float64, optimizer=None, **options):
    """The parameters (flat) after each of `steps` steps, the losses step() returned, the
    optimizer and its parameters."""
    params, f = PROBLEMS[problem](lib, dtype)
    opt = optimizer(params) if optimizer else optimizer_of(lib)(params, **options)

    def closure():
        opt.zero_grad()
        loss = f()
        loss.backward()
        return loss

    rows, losses = [], []
    for _ in range(steps):
        losses.append(float(opt.step(closure).detach()))
        rows.append(np.concatenate([p.detach().numpy().ravel() for p in params]))
    return np.array(rows), np.array(losses), opt, params


def state_of(opt):
    """The optimizer's state as numpy values (torch's tensors converted)."""
    entries = opt.state[opt.param_groups[0]["params"][0]]
    return {key: numbers(value) for key, value in entries.items()}


def numbers(value):
    if isinstance(value, list):
        return [numbers(item) for item in value]
    if hasattr(value, "detach"):                    # a torch tensor
        value = value.detach().numpy()
    return None if value is None else np.asarray(value, dtype=float)


def assert_states_close(ours, theirs, rtol):
    """The same entries; the counters equal, the numbers within rtol of the largest
    magnitude of their entry (an entry's vectors or scalars all at one scale)."""
    assert ours.keys() == theirs.keys()
    for key in ("func_evals", "n_iter"):
        assert ours[key] == theirs[key], key
    for key in ours.keys() - {"func_evals", "n_iter"}:
        a, b = ours[key], theirs[key]
        if isinstance(b, list):
            assert isinstance(a, list) and len(a) == len(b), key
            assert [x is None for x in a] == [x is None for x in b], key
            a = [x for x in a if x is not None]
            b = [y for y in b if y is not None]
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * np.abs(b).max(initial=0),
                                   err_msg=key)


# ------------------------------------------------------------------ against torch

@pytest.mark.parametrize(("problem", "line_search", "options"), CASES)
def test_trajectory_losses_and_state_match_torch(problem, line_search, options):
    torch = torch_lib()
    kwargs = {**OPTIONS[options], "line_search_fn": line_search}
    rows, losses, opt, _ = run(ad, problem, **kwargs)
    torch_rows, torch_losses, torch_opt, _ = run(torch, problem, **kwargs)
    np.testing.assert_allclose(rows, torch_rows, **FLOAT64)
    np.testing.assert_allclose(losses, torch_losses, **FLOAT64)
    assert_states_close(state_of(opt), state_of(torch_opt), STATE_AFTER_CONVERGING)
    assert state_of(opt)["n_iter"] > 6         # each step ran several iterations


def test_every_state_entry_is_torchs_after_a_line_search():
    torch = torch_lib()
    options = dict(line_search_fn="strong_wolfe", max_iter=4, history_size=4)
    _, _, opt, params = run(ad, "tanh", steps=3, **options)
    _, _, torch_opt, _ = run(torch, "tanh", steps=3, **options)
    ours = opt.state[params[0]]
    assert set(ours) == {"func_evals", "n_iter", "d", "t", "old_dirs", "old_stps", "ro",
                         "H_diag", "prev_flat_grad", "prev_loss", "al"}
    assert len(ours["old_dirs"]) == 4 and len(ours["al"]) == 4
    assert ours["d"].shape == (12,) and ours["d"].dtype == np.float64
    assert list(opt.state) == [params[0]]       # under the first parameter alone, as torch
    assert_states_close(state_of(opt), state_of(torch_opt), STATE)


def test_float32_stays_float32_and_follows_torch():
    """float32 rounds each op by ~1e-7 (the libraries' tanh and dot products differently),
    and each step's line search and memory feed on the last: after 12 iterations the two
    trajectories part by ~1e-4 of the parameters' size (float64 above checks the numbers)."""
    torch = torch_lib()
    options = dict(steps=3, dtype=np.float32, line_search_fn="strong_wolfe", max_iter=4)
    rows, _, opt, params = run(ad, "tanh", **options)
    torch_rows, _, _, _ = run(torch, "tanh", **options)
    state = opt.state[params[0]]
    assert rows.dtype == np.float32
    assert {state[key].dtype for key in ("d", "prev_flat_grad")} == {np.dtype(np.float32)}
    assert {v.dtype for key in ("old_dirs", "old_stps") for v in state[key]} == {
        np.dtype(np.float32)}
    np.testing.assert_allclose(rows, torch_rows, rtol=1e-3, atol=1e-4)


def test_a_parameter_the_loss_does_not_use_stays_put_as_in_torch():
    torch = torch_lib()
    results = []
    for lib in (ad, torch):
        x = lib.tensor(START.copy(), requires_grad=True)
        unused = lib.tensor(np.ones(3), requires_grad=True)
        opt = optimizer_of(lib)([unused, x], line_search_fn="strong_wolfe", max_iter=8)

        def closure(opt=opt, x=x):
            opt.zero_grad()
            loss = (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()
            loss.backward()
            return loss

        for _ in range(3):
            opt.step(closure)
        assert unused.grad is None
        results.append((x.detach().numpy().copy(), unused.detach().numpy().copy()))
    np.testing.assert_allclose(results[0][0], results[1][0], **FLOAT64)
    np.testing.assert_array_equal(results[0][1], np.ones(3))
    np.testing.assert_array_equal(results[1][1], np.ones(3))


def test_returns_at_once_when_the_gradient_is_already_small():
    torch = torch_lib()
    for lib in (ad, torch):
        x = lib.tensor(np.ones(2), requires_grad=True)      # the minimum of Rosenbrock
        opt = optimizer_of(lib)([x])

        def closure(opt=opt, x=x):
            opt.zero_grad()
            loss = (100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2)
            loss.backward()
            return loss

        assert float(opt.step(closure).detach()) == 0.0
        assert {k: v for k, v in opt.state[x].items()} == {"func_evals": 1, "n_iter": 0}


def test_param_groups_and_repr_are_torchs():
    torch = torch_lib()
    ours = optim.LBFGS([ad.zeros(2, requires_grad=True)], max_iter=8)
    theirs = torch.optim.LBFGS([torch.zeros(2, requires_grad=True)], max_iter=8)
    assert ours.state_dict()["param_groups"] == theirs.state_dict()["param_groups"]
    assert repr(ours) == repr(theirs)


def test_defaults_are_torchs():
    torch = torch_lib()
    ours = inspect.signature(optim.LBFGS).parameters
    theirs = inspect.signature(torch.optim.LBFGS).parameters
    assert list(ours) == list(theirs)
    assert {k: p.default for k, p in ours.items()} == {k: p.default for k, p in theirs.items()}


# ------------------------------------------------------------------ saving and resuming

def fresh_copy(params):
    """A new tanh regression whose parameters start at `params`' values, its LBFGS (given
    no state yet) and its objective."""
    fresh_params, f = tanh_regression(ad)
    for p, q in zip(fresh_params, params):
        p.data = q.detach().numpy().copy()
    return fresh_params, optim.LBFGS(fresh_params), f


def resumed_rows(fresh_params, fresh, f, steps=3):
    """The parameters after each of `steps` further steps of `fresh` on f."""
    def closure():
        fresh.zero_grad()
        loss = f()
        loss.backward()
        return loss

    rows = []
    for _ in range(steps):
        fresh.step(closure)
        rows.append(np.concatenate([p.detach().numpy().ravel() for p in fresh_params]))
    return rows


@pytest.mark.parametrize("line_search", [None, "strong_wolfe"])
def test_state_dict_round_trip_resumes_identically(line_search):
    options = dict(line_search_fn=line_search, max_iter=4, history_size=3)
    whole, _, _, _ = run(ad, "tanh", steps=6, **options)
    first, _, opt, params = run(ad, "tanh", steps=3, **options)
    saved = opt.state_dict()
    for p in params:                            # the saved copy does not follow the live one
        p.grad = ad.ones(p.shape, dtype=ad.float64)
    opt.state[params[0]]["d"] += 1
    opt.state[params[0]]["old_dirs"][0] += 1

    fresh_params, fresh, f = fresh_copy(params)
    fresh.load_state_dict(saved)
    assert fresh.param_groups[0]["max_iter"] == 4
    saved["state"][0]["d"] += 1                 # the loaded state does not follow the dict
    saved["state"][0]["old_dirs"][0] += 1
    rest = resumed_rows(fresh_params, fresh, f)
    np.testing.assert_array_equal(np.concatenate([first, rest]), whole)


@pytest.mark.parametrize("line_search", [None, "strong_wolfe"])
def test_a_state_file_resumes_identically(line_search, tmp_path):
    """optim.save_state stores the remembered directions (lists of vectors) as tensors and
    the numpy scalars as numbers; optim.load_state resumes bit for bit."""
    options = dict(line_search_fn=line_search, max_iter=4, history_size=3)
    whole, _, _, _ = run(ad, "tanh", steps=6, **options)
    first, _, opt, params = run(ad, "tanh", steps=3, **options)
    assert len(opt.state[params[0]]["old_dirs"]) > 0
    optim.save_state(opt, tmp_path / "lbfgs.safetensors")
    fresh_params, fresh, f = fresh_copy(params)
    optim.load_state(fresh, tmp_path / "lbfgs.safetensors")
    rest = resumed_rows(fresh_params, fresh, f)
    np.testing.assert_array_equal(np.concatenate([first, rest]), whole)


def test_a_state_saved_by_torch_resumes_as_torch_does():
    torch = torch_lib()
    options = dict(line_search_fn="strong_wolfe", max_iter=3, history_size=3)
    torch_rows, _, torch_opt, _ = run(torch, "tanh", steps=4, **options)
    _, _, torch_early, early_params = run(torch, "tanh", steps=2, **options)
    saved = torch_early.state_dict()
    converted = {"param_groups": saved["param_groups"],
                 "state": {0: {key: numbers(value) if key not in ("func_evals", "n_iter")
                               else value for key, value in saved["state"][0].items()}}}
    params, f = tanh_regression(ad)
    for p, q in zip(params, early_params):
        p.data = q.detach().numpy().copy()
    opt = optim.LBFGS(params)
    opt.load_state_dict(converted)

    def closure():
        opt.zero_grad()
        loss = f()
        loss.backward()
        return loss

    for _ in range(2):
        opt.step(closure)
    ours = np.concatenate([p.detach().numpy().ravel() for p in params])
    np.testing.assert_allclose(ours, torch_rows[-1], **FLOAT64)
    assert_states_close(state_of(opt), state_of(torch_opt), STATE)


def test_a_loaded_state_takes_the_parameters_dtype():
    _, _, opt, _ = run(ad, "tanh", steps=1, dtype=np.float32, max_iter=3)
    saved = opt.state_dict()
    assert saved["state"][0]["old_dirs"][0].dtype == np.float32
    params64, _ = tanh_regression(ad)
    fresh = optim.LBFGS(params64)
    fresh.load_state_dict(saved)
    state = fresh.state[params64[0]]
    assert state["d"].dtype == state["prev_flat_grad"].dtype == np.float64
    assert {v.dtype for v in state["old_dirs"] + state["old_stps"]} == {np.dtype(np.float64)}


def test_load_state_dict_refuses_a_state_of_another_model():
    _, _, opt, _ = run(ad, "rosenbrock", steps=1, max_iter=3)
    saved = opt.state_dict()
    other = optim.LBFGS([ad.zeros(3, dtype=ad.float64, requires_grad=True)])
    with pytest.raises(ValueError, match=r"state 'd' holds a vector of shape \(4,\); the "
                                         r"parameters have 3 elements"):
        other.load_state_dict(saved)
    assert not other.state                      # nothing was loaded
    entries = saved["state"][0]
    broken = {**saved, "state": {0: {**entries, "ro": [*entries["ro"], 1.0]}}}
    with pytest.raises(ValueError, match="old_dirs, old_stps and ro must hold one entry"):
        opt.load_state_dict(broken)
    with pytest.raises(ValueError, match="unknown state entries"):
        opt.load_state_dict({**saved, "state": {0: {"momentum_buffer": 1}}})
    with pytest.raises(ValueError, match=r"under parameter 0 alone.*\[1\]"):
        opt.load_state_dict({**saved, "state": {1: {"n_iter": 1}}})


# ------------------------------------------------------------------ errors

def test_two_parameter_groups_are_refused_as_torch_refuses_them():
    message = r"LBFGS doesn't support per-parameter options \(parameter groups\)"
    groups = [{"params": [ad.zeros(2, requires_grad=True)]},
              {"params": [ad.zeros(3, requires_grad=True)], "lr": 0.1}]
    with pytest.raises(ValueError, match=message):
        optim.LBFGS(groups)
    opt = optim.LBFGS([ad.zeros(2, requires_grad=True)])
    with pytest.raises(ValueError, match=message):
        opt.add_param_group({"params": [ad.zeros(3, requires_grad=True)]})
    assert len(opt.param_groups) == 1
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError, match=message):
        torch.optim.LBFGS([{"params": [torch.zeros(2, requires_grad=True)]},
                           {"params": [torch.zeros(3, requires_grad=True)]}])


def test_step_without_a_closure_says_how_to_write_one():
    x = ad.zeros(2, requires_grad=True)
    opt = optim.LBFGS([x])
    (x * x).sum().backward()
    with pytest.raises(TypeError, match=r"LBFGS.step needs a closure.*opt.step\(closure\)"):
        opt.step()
    with pytest.raises(NotImplementedError, match="no per-parameter update"):
        opt._update(x.numpy(), x.grad.numpy(), {}, opt.param_groups[0])


@pytest.mark.parametrize(("kwargs", "message"), [
    (dict(lr=-1.0), "lr must be >= 0, got -1.0"),
    (dict(lr=math.nan), "lr must be >= 0, got nan"),
    (dict(max_iter=0), "max_iter must be a whole number >= 1, got 0"),
    (dict(max_iter=2.5), "max_iter must be a whole number >= 1, got 2.5"),
    (dict(max_eval=0), "max_eval must be a whole number >= 1, got 0"),
    (dict(max_iter=True, max_eval=2), "max_iter must be a whole number >= 1, got True"),
    (dict(history_size=0), "history_size must be a whole number >= 1, got 0"),
    (dict(tolerance_grad=-1e-7), "tolerance_grad must be >= 0"),
    (dict(tolerance_change=math.nan), "tolerance_change must be >= 0, got nan"),
    (dict(line_search_fn="wolfe"), "line_search_fn must be None or 'strong_wolfe', got 'wolfe'"),
])
def test_bad_hyperparameters_are_named(kwargs, message):
    with pytest.raises(ValueError, match="LBFGS: " + message.replace("(", r"\(")):
        optim.LBFGS([ad.zeros(2, requires_grad=True)], **kwargs)


@pytest.mark.parametrize("line_search", [None, "strong_wolfe"])
def test_a_parameter_that_loses_its_gradient_mid_step_is_refused(line_search):
    """Moving it (θ + t·d; with the line search, restoring θ after a trial) needs a write
    InPlaceUpdate gives to parameters with a gradient only."""
    x = ad.tensor([1.0, 2.0], dtype=ad.float64, requires_grad=True)
    y = ad.tensor([3.0], dtype=ad.float64, requires_grad=True)
    opt = optim.LBFGS([x, y], line_search_fn=line_search)
    calls = []

    def closure():                                  # y is in the loss on the first call only
        opt.zero_grad()
        loss = (x * x).sum() + ((y * y).sum() if not calls else 0)
        calls.append(1)
        loss.backward()
        return loss

    with pytest.raises(RuntimeError, match=r"LBFGS: parameter 1 \(shape \(1,\)\) has no "
                                           r"gradient .* but must be moved"):
        opt.step(closure)


# ------------------------------------------------------------------ in place, hooks, compile

def versions_after_steps(lib, line_search):
    """The version of the parameter after two steps, and the error backward through a
    graph that saved it before them raises (None if it raises none)."""
    params, f = rosenbrock(lib)
    x = params[0]
    opt = optimizer_of(lib)(params, max_iter=3, line_search_fn=line_search)
    stale = (x * x).sum()                           # saves x at version 0

    def closure():
        opt.zero_grad()
        loss = f()
        loss.backward()
        return loss

    opt.step(closure)
    opt.step(closure)
    try:
        stale.backward()
    except RuntimeError as error:
        return x._version, error
    return x._version, None


@pytest.mark.parametrize("line_search", [None, "strong_wolfe"])
def test_steps_count_in_the_versions_so_a_saved_parameter_refuses_backward(line_search):
    version, error = versions_after_steps(ad, line_search)
    assert isinstance(error, InPlaceError)
    assert version >= 2
    torch = pytest.importorskip("torch")
    torch_version, torch_error = versions_after_steps(torch, line_search)
    assert version == torch_version                 # one per θ + t·d, one per restore
    assert torch_error is not None


def test_the_closure_runs_with_gradients_enabled_under_no_grad():
    params, f = quadratic(ad)
    opt = optim.LBFGS(params, max_iter=2)

    def closure():
        opt.zero_grad()
        loss = f()
        loss.backward()
        return loss

    with ad.no_grad():
        loss = opt.step(closure)
    assert loss.requires_grad and params[0].grad is not None


def test_step_hooks_run_around_the_whole_step():
    params, f = quadratic(ad)
    opt = optim.LBFGS(params, max_iter=3)
    log = []

    def closure():
        log.append("closure")
        opt.zero_grad()
        loss = f()
        loss.backward()
        return loss

    opt.register_step_pre_hook(lambda o, args, kwargs: log.append(("pre", len(args))))
    opt.register_step_post_hook(lambda o, args, kwargs: log.append(("post", len(args))))
    opt.step(closure)
    assert log == [("pre", 2), "closure", "closure", "closure", ("post", 2)]


def test_compiled_steps_fall_back_to_eager_and_give_the_same_numbers():
    eager, _, _, _ = run(ad, "tanh", steps=3, max_iter=4, line_search_fn="strong_wolfe")
    params, f = tanh_regression(ad)
    opt = optim.LBFGS(params, max_iter=4, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = f()
        loss.backward()
        return loss

    compiled = ad.compile(lambda: opt.step(closure))
    rows = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            compiled()
            rows.append(np.concatenate([p.detach().numpy().ravel() for p in params]))
    assert any(isinstance(w.message, CompileWarning) and "LBFGS.step" in str(w.message)
               for w in caught)
    np.testing.assert_array_equal(np.array(rows), eager)


# ------------------------------------------------------------------ the pieces, without torch

def test_a_quadratic_is_minimised_in_one_step():
    rows, losses, _, _ = run(ad, "quadratic", steps=2, line_search_fn="strong_wolfe",
                               max_iter=50, tolerance_grad=1e-12, tolerance_change=1e-15)
    solution, *_ = np.linalg.lstsq(np.c_[A, np.ones(12)], B, rcond=None)
    np.testing.assert_allclose(rows[0], np.r_[solution[:5].ravel(), solution[5]], atol=1e-9)
    assert losses[1] < losses[0]


def test_cubic_interpolate_finds_the_minimum_of_a_cubic():
    def f(x):                                       # minimum at x = 1
        return x**3 - 3 * x

    def df(x):
        return 3 * x**2 - 3

    assert cubic_interpolate(0.0, f(0.0), df(0.0), 2.0, f(2.0), df(2.0)) == pytest.approx(1.0)
    assert cubic_interpolate(2.0, f(2.0), df(2.0), 0.0, f(0.0), df(0.0)) == pytest.approx(1.0)
    assert cubic_interpolate(0.0, f(0.0), df(0.0), 2.0, f(2.0), df(2.0),
                             bounds=(1.5, 3.0)) == 1.5                      # clamped
    # x³ + x has no minimum (d1² < g1·g2): the middle of the bounds
    assert cubic_interpolate(0.0, 0.0, 1.0, 1.0, 2.0, 4.0, bounds=(0.0, 4.0)) == 2.0
    assert cubic_interpolate(0.0, 0.0, 1.0, 1.0, 2.0, 4.0) == 0.5


LINE_FUNCTIONS = {
    "quartic": (lambda lib, x: (x**4).sum(), [2.0, -1.0]),
    "wiggly": (lambda lib, x: (lib.sin(3 * x) + 0.1 * x**2).sum(), [0.3, -1.2, 2.0]),
    "rosenbrock": (lambda lib, x: 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2, [-1.2, 1.0]),
    "cosine": (lambda lib, x: (lib.cos(2 * x) * x**2).sum(), [0.7, -0.4]),
}
"""Functions whose searches, from these steps, take every branch of strong_wolfe: the
bracket widened, found, or not found in max_ls evaluations; the zoom's trial moved off
an end of the bracket, its old high end made the new low end; a cubic without minimum."""


def line_search_of(lib, function, t0, max_ls):
    """strong_wolfe (ours, or torch's private `_strong_wolfe`) from `function`'s start
    along −∇f, started at step t0: (f, g, t, evaluations) as numbers."""
    f_of, start = LINE_FUNCTIONS[function]
    x = np.array(start)

    def value_and_grad(point):
        p = lib.tensor(point, requires_grad=True)
        loss = f_of(lib, p)
        loss.backward()
        return float(loss.detach()), p.grad.detach().numpy().copy()

    f, g = value_and_grad(x)
    d = -g
    if lib is ad:
        result = strong_wolfe(lambda t: value_and_grad(x + t * d), t0, d, f, g, g.dot(d),
                              max_ls=max_ls)
    else:
        from torch.optim.lbfgs import _strong_wolfe

        def obj_func(x_, t, d_):
            loss, grad = value_and_grad((x_ + t * d_).numpy())
            return loss, lib.from_numpy(grad)

        gt, dt = lib.from_numpy(g), lib.from_numpy(d)
        result = _strong_wolfe(obj_func, lib.from_numpy(x), t0, dt, f, gt, gt.dot(dt),
                               max_ls=max_ls)
    f_t, g_t, t, evaluations = result
    return f_t, np.asarray(g_t), float(t), evaluations


@pytest.mark.parametrize("max_ls", [25, 3, 1])
@pytest.mark.parametrize("t0", [1e-3, 0.05, 0.7, 40.0])
@pytest.mark.parametrize("function", sorted(LINE_FUNCTIONS))
def test_strong_wolfe_takes_torchs_steps(function, t0, max_ls):
    torch = torch_lib()
    ours = line_search_of(ad, function, t0, max_ls)
    theirs = line_search_of(torch, function, t0, max_ls)
    assert ours[3] == theirs[3]                     # as many evaluations
    np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-12)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12, atol=1e-12)


def test_strong_wolfe_returns_a_step_satisfying_both_conditions():
    def evaluate(t):                                # φ(t) = f(x + t·d), f(x) = Σ x⁴
        point = x + t * d
        return float((point**4).sum()), 4 * point**3

    x, d = np.array([2.0, -1.0]), np.array([-1.0, 0.25])
    f, g = evaluate(0.0)
    gtd = g.dot(d)
    for t0 in (1e-3, 1.0, 30.0):                    # too short, about right, far too long
        f_t, g_t, t, evaluations = strong_wolfe(evaluate, t0, d, f, g, gtd)
        assert (f_t, g_t.tolist()) == (evaluate(t)[0], evaluate(t)[1].tolist())
        assert f_t <= f + 1e-4 * t * gtd            # sufficient decrease
        assert abs(g_t.dot(d)) <= -0.9 * gtd        # curvature
        assert 1 <= evaluations <= 25
