"""Learning-rate schedules against their closed forms and, when installed, torch's."""
import copy
import math

import numpy as np
import pytest

import autodiff as ad
import optim
from optim import lr_scheduler

LR0 = (0.1, 0.03)          # two parameter groups with their own starting lr
STEPS = 30

SCHEDULES = {
    "StepLR": (dict(step_size=7, gamma=0.5), lambda lr0, t: lr0 * 0.5 ** (t // 7)),
    "ExponentialLR": (dict(gamma=0.9), lambda lr0, t: lr0 * 0.9 ** t),
    "ConstantLR": (dict(factor=0.5, total_iters=4), lambda lr0, t: lr0 * (0.5 if t < 4 else 1)),
    "LambdaLR": (dict(lr_lambda=lambda t: 1 / (1 + t) ** 0.5),
                 lambda lr0, t: lr0 / (1 + t) ** 0.5),
    "CosineAnnealingLR": (dict(T_max=10, eta_min=0.001), lambda lr0, t:
                          0.001 + (lr0 - 0.001) * (1 + math.cos(math.pi * t / 10)) / 2),
    "ExponentialDecayLR": (dict(k=0.1), lambda lr0, t: lr0 * math.exp(-0.1 * t)),
    "InverseTimeDecayLR": (dict(k=0.5), lambda lr0, t: lr0 / (1 + 0.5 * t)),
    "MultiStepLR": (dict(milestones=[12, 5, 20], gamma=0.5),
                    lambda lr0, t: lr0 * 0.5 ** ((t >= 5) + (t >= 12) + (t >= 20))),
    "LinearLR": (dict(start_factor=0.25, end_factor=1.0, total_iters=8),
                 lambda lr0, t: lr0 * (0.25 + 0.75 * min(t, 8) / 8)),
    "MultiplicativeLR": (dict(lr_lambda=lambda t: 0.95), lambda lr0, t: lr0 * 0.95 ** t),
    "PolynomialLR": (dict(total_iters=20, power=2.0),
                     lambda lr0, t: lr0 * (1 - min(t, 20) / 20) ** 2),
    "CosineAnnealingWarmRestarts": (dict(T_0=3, T_mult=2, eta_min=0.001), lambda lr0, t:
                                    0.001 + (lr0 - 0.001) * (1 + math.cos(math.pi * (
                                        t - [0, 3, 9, 21][sum(t >= s for s in (3, 9, 21))])
                                        / [3, 6, 12, 24][sum(t >= s for s in (3, 9, 21))])) / 2),
}


def make_optimizer():
    a, b = ad.zeros(2, requires_grad=True), ad.zeros(1, requires_grad=True)
    return optim.SGD([{"params": [a], "lr": LR0[0]}, {"params": [b], "lr": LR0[1]}], lr=1.0)


def schedule_of(name, opt):
    kwargs, _ = SCHEDULES[name]
    return getattr(lr_scheduler, name)(opt, **kwargs)


def lrs(name, steps=STEPS):
    """lr of each group at t = 0 … steps, and checks the optimizer's groups agree."""
    opt = make_optimizer()
    schedule = schedule_of(name, opt)
    rows = [schedule.get_last_lr()]
    for _ in range(steps):
        opt.step()
        schedule.step()
        rows.append(schedule.get_last_lr())
        assert [g["lr"] for g in opt.param_groups] == rows[-1]
    return np.array(rows)


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_schedule_follows_its_closed_form(name):
    _, closed_form = SCHEDULES[name]
    expected = [[closed_form(lr0, t) for lr0 in LR0] for t in range(STEPS + 1)]
    np.testing.assert_allclose(lrs(name), expected, rtol=1e-13)
    assert lrs(name)[0].tolist() == [closed_form(lr0, 0) for lr0 in LR0]     # t = 0, exactly


# the notes' schedules, which torch lacks, are torch's LambdaLR with their formula
TORCH_EQUIVALENTS = {
    "ExponentialDecayLR": ("LambdaLR", dict(lr_lambda=lambda t: math.exp(-0.1 * t))),
    "InverseTimeDecayLR": ("LambdaLR", dict(lr_lambda=lambda t: 1 / (1 + 0.5 * t))),
}


def torch_schedule_of(name, opt):
    torch = pytest.importorskip("torch")
    torch_name, kwargs = TORCH_EQUIVALENTS.get(name, (name, SCHEDULES[name][0]))
    return getattr(torch.optim.lr_scheduler, torch_name)(opt, **kwargs)


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_schedule_matches_torch(name):
    torch = pytest.importorskip("torch")
    a, b = torch.zeros(2, requires_grad=True), torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([{"params": [a], "lr": LR0[0]}, {"params": [b], "lr": LR0[1]}], lr=1.0)
    schedule = torch_schedule_of(name, opt)
    rows = [schedule.get_last_lr()]
    for _ in range(STEPS):
        opt.step()
        schedule.step()
        rows.append(schedule.get_last_lr())
    np.testing.assert_allclose(lrs(name), rows, rtol=1e-12)


def test_notes_exponential_annealing_is_exponential_lr_with_gamma_e_to_minus_k():
    schedule = lr_scheduler.ExponentialLR(make_optimizer(), gamma=math.exp(-0.1))
    for _ in range(STEPS):
        schedule.step()
    np.testing.assert_allclose(schedule.get_last_lr(), lrs("ExponentialDecayLR")[-1],
                               rtol=1e-13)


@pytest.mark.parametrize("name", sorted(set(SCHEDULES) - {"LambdaLR"}))
def test_state_dict_resumes_the_schedule(name):
    opt = make_optimizer()
    schedule = schedule_of(name, opt)
    for _ in range(12):
        schedule.step()
    saved_opt, saved = opt.state_dict(), schedule.state_dict()
    assert "optimizer" not in saved and saved["last_epoch"] == 12
    expected = [schedule.get_last_lr()]
    for _ in range(5):
        schedule.step()
        expected.append(schedule.get_last_lr())

    other = make_optimizer()
    resumed = schedule_of(name, other)
    resumed.load_state_dict(saved)                      # sets the groups' lr at t = 12
    assert [g["lr"] for g in other.param_groups] == expected[0]
    other.load_state_dict(saved_opt)
    got = [resumed.get_last_lr()]
    for _ in range(5):
        resumed.step()
        got.append(resumed.get_last_lr())
    assert got == expected


def test_lambda_lr_leaves_its_functions_out_of_the_state_dict():
    opt = make_optimizer()
    schedule = lr_scheduler.LambdaLR(opt, [lambda t: 0.5 ** t, lambda t: 1.0])
    schedule.step()
    saved = schedule.state_dict()
    assert "lr_lambdas" not in saved
    resumed = lr_scheduler.LambdaLR(make_optimizer(), [lambda t: 0.5 ** t, lambda t: 1.0])
    resumed.load_state_dict(saved)
    resumed.step()
    assert resumed.get_last_lr() == [LR0[0] * 0.25, LR0[1]]


def test_last_epoch_resumes_from_the_groups_initial_lr():
    opt = make_optimizer()
    schedule = lr_scheduler.StepLR(opt, step_size=2, gamma=0.1)
    for _ in range(3):
        schedule.step()
    resumed = lr_scheduler.StepLR(opt, step_size=2, gamma=0.1, last_epoch=3)
    assert resumed.last_epoch == 4
    np.testing.assert_allclose(resumed.get_last_lr(), [lr0 * 0.01 for lr0 in LR0])
    with pytest.raises(KeyError, match=r"param_groups \[0, 1\] have no 'initial_lr'"):
        lr_scheduler.StepLR(make_optimizer(), step_size=2, last_epoch=3)


@pytest.mark.parametrize("build, error, message", [
    (lambda opt: lr_scheduler.StepLR(opt, step_size=0), ValueError,
     "step_size must be a positive integer, got 0"),
    (lambda opt: lr_scheduler.CosineAnnealingLR(opt, T_max=0), ValueError,
     "T_max must be positive, got 0"),
    (lambda opt: lr_scheduler.ExponentialDecayLR(opt, k=-1.0), ValueError,
     "k must be >= 0, got -1.0"),
    (lambda opt: lr_scheduler.InverseTimeDecayLR(opt, k=float("nan")), ValueError,
     "k must be >= 0, got nan"),
    (lambda opt: lr_scheduler.LambdaLR(opt, [lambda t: 1.0]), ValueError,
     "got 1 lr_lambdas for 2 parameter groups"),
    (lambda opt: lr_scheduler.ExponentialLR("not an optimizer", gamma=0.9), TypeError,
     "expected an optimizer, got str"),
    (lambda opt: lr_scheduler.MultiplicativeLR(opt, 0.9), TypeError,
     "MultiplicativeLR: lr_lambda must be a function of the step count, got float"),
    (lambda opt: lr_scheduler.PolynomialLR(opt, total_iters=0), ValueError,
     "PolynomialLR: total_iters must be a positive integer, got 0"),
    (lambda opt: lr_scheduler.CyclicLR(opt, 0.01, 0.1, step_size_up=0), ValueError,
     "CyclicLR: step_size_up must be positive and step_size_down >= 0, got 0 and 0"),
    (lambda opt: lr_scheduler.CyclicLR(opt, 0.01, 0.1, mode="sawtooth"), ValueError,
     "CyclicLR: mode must be one of .* got 'sawtooth'"),
    (lambda opt: lr_scheduler.CyclicLR(opt, [0.01], 0.1), ValueError,
     "CyclicLR: base_lr: got 1 values for 2 parameter groups"),
    (lambda opt: lr_scheduler.CyclicLR(optim.Adagrad(opt.param_groups[0]["params"]), 0.01,
                                       0.1), ValueError,
     "CyclicLR: cycle_momentum needs an optimizer with momentum or betas"),
])
def test_bad_arguments_are_named(build, error, message):
    with pytest.raises(error, match=message):
        build(make_optimizer())


def test_the_schedule_drives_training():
    x = ad.tensor([1.0], dtype=ad.float64, requires_grad=True)
    opt = optim.SGD([x], lr=0.25)
    schedule = lr_scheduler.InverseTimeDecayLR(opt, k=1.0)   # lr = 0.25, 0.125, 0.0833…
    expected = 1.0
    for t in range(4):
        opt.zero_grad()
        (x * x).sum().backward()
        opt.step()
        expected -= 0.25 / (1 + t) * 2 * expected
        schedule.step()
    np.testing.assert_allclose(x.item(), expected, rtol=1e-14)


def optim_of(lib):
    return optim if lib is ad else lib.optim


def one_cycle(lib, optimizer_name, **options):
    """lr and momentum (or β₁) of OneCycleLR over a 20-step cycle."""
    p = lib.zeros(2, requires_grad=True)
    opt = getattr(optim_of(lib), optimizer_name)([p], lr=0.5, **options)
    schedule = optim_of(lib).lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=20)
    group = opt.param_groups[0]
    rows = []
    for t in range(20):
        if t:
            opt.step()
            schedule.step()
        rows.append((group["lr"], group["betas"][0] if "betas" in group else group["momentum"]))
    return np.array(rows)


def test_one_cycle_rises_to_max_lr_and_falls_to_the_final_lr():
    rows = one_cycle(ad, "SGD", momentum=0.9)
    assert rows[0, 0] == pytest.approx(1.0 / 25) and rows[5, 0] == pytest.approx(1.0)
    assert rows[-1, 0] == pytest.approx(1.0 / 25 / 1e4)
    assert rows[0, 1] == pytest.approx(0.95) and rows[5, 1] == pytest.approx(0.85)


@pytest.mark.parametrize("optimizer_name, options", [("SGD", {"momentum": 0.9}), ("Adam", {})])
def test_one_cycle_matches_torch(optimizer_name, options):
    torch = pytest.importorskip("torch")
    np.testing.assert_allclose(one_cycle(ad, optimizer_name, **options),
                               one_cycle(torch, optimizer_name, **options), rtol=1e-12)


def plateau(lib, **options):
    opt = optim_of(lib).SGD([lib.zeros(1, requires_grad=True)], lr=1.0)
    schedule = optim_of(lib).lr_scheduler.ReduceLROnPlateau(opt, **options)
    metrics = [5, 4, 4, 4, 4, 3.9999, 4, 4, 4, 4, 4, 2, 2, 2, 2, 2, 2]
    history = []
    for value in metrics:
        schedule.step(value)
        history.append(opt.param_groups[0]["lr"])
    return history


def test_reduce_on_plateau_waits_patience_steps_then_reduces():
    assert plateau(ad, patience=2, factor=0.5) == [1, 1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25,
                                                   0.25, 0.125, 0.125, 0.125, 0.125, 0.0625,
                                                   0.0625, 0.0625]


@pytest.mark.parametrize("options", [dict(patience=2, factor=0.5), dict(
    patience=1, cooldown=2, threshold=0.1, threshold_mode="abs", min_lr=0.2),
    dict(mode="max", patience=0)])
def test_reduce_on_plateau_matches_torch(options):
    torch = pytest.importorskip("torch")
    np.testing.assert_allclose(plateau(ad, **options), plateau(torch, **options), rtol=1e-12)


# ------------------------------------------------------------------ step by step against torch,
# through a state_dict round trip mid-run

def run(lib, build, steps=STEPS, resume_at=None, optimizer="SGD", metrics=None):
    """Each group's lr (then its momentum or β₁) at t = 0 … steps, for the scheduler
    `build(lr_scheduler_module, opt)` on two parameter groups with lrs LR0. With
    `resume_at`, after that step the optimizer's and the scheduler's state_dicts go into a
    freshly built optimizer and scheduler (built, then the optimizer's state loaded, then the
    scheduler's, as torch's docs order it), which take the remaining steps. `metrics` are
    fed to step() (ReduceLROnPlateau)."""
    def fresh():
        params = [lib.zeros(2, requires_grad=True), lib.zeros(1, requires_grad=True)]
        opt = getattr(optim_of(lib), optimizer)([{"params": [params[0]], "lr": LR0[0]},
                                                 {"params": [params[1]], "lr": LR0[1]}],
                                                lr=1.0, **({"momentum": 0.9}
                                                           if optimizer == "SGD" else {}))
        return opt, build(optim_of(lib).lr_scheduler, opt)

    def row():
        groups = opt.param_groups
        assert list(schedule.get_last_lr()) == [g["lr"] for g in groups]
        return [g["lr"] for g in groups] + [g["betas"][0] if "betas" in g else g["momentum"]
                                            for g in groups]

    opt, schedule = fresh()
    rows = [row()]
    for t in range(1, steps + 1):
        opt.step()
        schedule.step() if metrics is None else schedule.step(metrics[t - 1])
        rows.append(row())
        if t == resume_at:
            saved_opt = copy.deepcopy(opt.state_dict())
            saved = copy.deepcopy(schedule.state_dict())
            opt, schedule = fresh()
            opt.load_state_dict(saved_opt)
            schedule.load_state_dict(saved)
            assert row() == rows[-1]
    return np.array(rows)


def check_against_torch(build, resume_at=13, **options):
    """Our lrs equal torch's at every step, uninterrupted and resumed at `resume_at`."""
    torch = pytest.importorskip("torch")
    expected = run(torch, build, **options)
    np.testing.assert_allclose(run(ad, build, **options), expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(run(ad, build, resume_at=resume_at, **options), expected,
                               rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(run(torch, build, resume_at=resume_at, **options), expected,
                               rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_every_schedule_resumes_from_its_state_dict_as_torch_runs_on(name):
    check_against_torch(lambda S, opt: (torch_schedule_of(name, opt) if S is not lr_scheduler
                                        else schedule_of(name, opt)))


CYCLIC = {
    "triangular": dict(base_lr=0.01, max_lr=[0.1, 0.05], step_size_up=4, step_size_down=6),
    "triangular2": dict(base_lr=[0.01, 0.02], max_lr=0.1, step_size_up=5, mode="triangular2"),
    "exp_range": dict(base_lr=0.01, max_lr=0.1, step_size_up=3, step_size_down=2,
                      mode="exp_range", gamma=0.95, base_momentum=[0.7, 0.75],
                      max_momentum=0.95),
    "scale_fn of the cycle": dict(base_lr=0.01, max_lr=0.1, step_size_up=3,
                                  scale_fn=lambda c: 1 / c),
    "scale_fn of the step": dict(base_lr=0.01, max_lr=0.1, step_size_up=3,
                                 scale_fn=lambda t: 0.99 ** t, scale_mode="iterations"),
    "lr only": dict(base_lr=0.01, max_lr=0.1, step_size_up=2, cycle_momentum=False),
}


@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
@pytest.mark.parametrize("case", sorted(CYCLIC))
def test_cyclic_lr_and_its_momentum_match_torch(case, optimizer):
    check_against_torch(lambda S, opt: S.CyclicLR(opt, **CYCLIC[case]), optimizer=optimizer)


def test_cyclic_lr_triangles_by_hand():
    """Up 0.01 → 0.1 over 2 steps, down over 2, then again; momentum 0.9 → 0.8 → 0.9."""
    rows = run(ad, lambda S, opt: S.CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=2),
               steps=8)
    np.testing.assert_allclose(rows[:, 0], [0.01, 0.055, 0.1, 0.055, 0.01, 0.055, 0.1, 0.055,
                                            0.01], rtol=1e-12)
    np.testing.assert_allclose(rows[:, 2], [0.9, 0.85, 0.8, 0.85, 0.9, 0.85, 0.8, 0.85, 0.9],
                               rtol=1e-12)
    halved = run(ad, lambda S, opt: S.CyclicLR(opt, base_lr=0.0, max_lr=1.0, step_size_up=1,
                                               mode="triangular2"), steps=6)
    np.testing.assert_allclose(halved[:, 0], [0, 1, 0, 0.5, 0, 0.25, 0], atol=1e-15)


def test_cyclic_lr_state_dict_leaves_its_scale_fn_out():
    opt = make_optimizer()
    schedule = lr_scheduler.CyclicLR(opt, 0.01, 0.1, scale_fn=lambda c: 1.0)
    assert "scale_fn" not in schedule.state_dict()
    assert schedule.scale_fn is not None


ONE_CYCLE = {
    "cos": dict(max_lr=[1.0, 0.3], total_steps=STEPS + 5),
    "linear, three phases": dict(max_lr=[1.0, 0.3], total_steps=STEPS + 5, pct_start=0.25,
                                 anneal_strategy="linear", three_phase=True),
    "momentum lists": dict(max_lr=0.5, epochs=7, steps_per_epoch=5, div_factor=10.0,
                           final_div_factor=100.0, base_momentum=[0.8, 0.7],
                           max_momentum=[0.9, 0.99]),
}


@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
@pytest.mark.parametrize("case", sorted(ONE_CYCLE))
def test_one_cycle_with_two_groups_matches_torch(case, optimizer):
    check_against_torch(lambda S, opt: S.OneCycleLR(opt, **ONE_CYCLE[case]), optimizer=optimizer)


def test_one_cycle_three_phases_by_hand():
    schedule = lr_scheduler.OneCycleLR(make_optimizer(), max_lr=1.0, total_steps=10,
                                       pct_start=0.3, anneal_strategy="linear",
                                       three_phase=True, cycle_momentum=False)
    lrs = [schedule.get_last_lr()[0]]
    for _ in range(9):
        schedule.step()
        lrs.append(schedule.get_last_lr()[0])
    # up 0.04 → 1 by step 2, down to 0.04 by step 4, then to 0.04/1e4 by step 9
    np.testing.assert_allclose(lrs, [0.04, 0.52, 1.0, 0.52, 0.04] + [
        0.04 + (4e-6 - 0.04) * k / 5 for k in range(1, 6)], rtol=1e-12)


PLATEAU_METRICS = [5, 4, 4, 4, 4, 3.9999, 4, 4, 4, 4, 4, 2, 2, 2, 2, 2, 2, 1.5, 1.6, 1.7,
                   1.4, 1.4, 1.4, 1.4, 1.4, 1.3, 1.35, 1.35, 1.35, 1.35, 1.35, 1.35]


@pytest.mark.parametrize("options", [
    dict(patience=2, factor=0.5),
    dict(patience=1, cooldown=2, threshold=0.1, threshold_mode="abs", min_lr=[0.02, 0.01]),
    dict(mode="max", patience=0, factor=0.7, min_lr=0.005),
    dict(patience=3, factor=0.5, eps=0.01),
])
def test_reduce_on_plateau_with_two_groups_matches_torch(options):
    check_against_torch(lambda S, opt: S.ReduceLROnPlateau(opt, **options),
                        steps=len(PLATEAU_METRICS), metrics=PLATEAU_METRICS)


def test_reduce_on_plateau_two_groups_by_hand():
    rows = run(ad, lambda S, opt: S.ReduceLROnPlateau(opt, patience=2, factor=0.5,
                                                      min_lr=[0.0, 0.01]),
               steps=len(PLATEAU_METRICS), metrics=PLATEAU_METRICS)
    # metric 4 stops improving at step 2: reductions after 3 bad steps, at 5, 8, 11, ...
    assert rows[4, :2].tolist() == list(LR0) and rows[5, :2].tolist() == [0.05, 0.015]
    assert rows[11, :2].tolist() == [0.0125, 0.01]                 # group 2 at its floor
    with pytest.raises(ValueError, match="min_lr: got 3 values for 2 parameter groups"):
        lr_scheduler.ReduceLROnPlateau(make_optimizer(), min_lr=[0.1, 0.1, 0.1])


# ------------------------------------------------------------------ chainable steps

CHAINABLE = ["StepLR", "ExponentialLR", "ConstantLR", "CosineAnnealingLR", "MultiStepLR",
             "LinearLR"]


@pytest.mark.parametrize("name", CHAINABLE)
def test_the_chainable_step_follows_the_closed_form(name):
    _, closed_form = SCHEDULES[name]
    schedule = schedule_of(name, make_optimizer())
    for t in range(STEPS + 1):
        expected = [closed_form(lr0, t) for lr0 in LR0]
        np.testing.assert_allclose(schedule.get_last_lr(), expected, rtol=1e-13)
        np.testing.assert_allclose(schedule._get_closed_form_lr(), expected, rtol=1e-13)
        schedule.step()


def test_a_chainable_schedule_carries_on_from_an_lr_set_by_hand():
    opt = make_optimizer()
    schedule = lr_scheduler.ExponentialLR(opt, gamma=0.5)
    schedule.step()
    opt.param_groups[0]["lr"] = 1.0
    schedule.step()
    assert schedule.get_last_lr() == [0.5, LR0[1] * 0.25]


def test_a_chainable_schedule_resumed_at_last_epoch_keeps_the_groups_lr():
    torch = pytest.importorskip("torch")
    for lib in (ad, torch):
        opt = optim_of(lib).SGD([lib.zeros(1, requires_grad=True)], lr=0.1)
        opt.param_groups[0]["initial_lr"] = 0.5
        S = optim_of(lib).lr_scheduler
        resumed = [S.ExponentialLR(opt, gamma=0.9, last_epoch=3),
                   S.LinearLR(opt, start_factor=0.5, total_iters=8, last_epoch=3),
                   S.CosineAnnealingLR(opt, T_max=10, last_epoch=3),
                   S.StepLR(opt, step_size=2, last_epoch=3)]
        assert [(s.last_epoch, list(s.get_last_lr())) for s in resumed] == [
            (4, [0.1]), (4, [0.1]), (4, [0.1]), (4, [pytest.approx(0.01)])]


# ------------------------------------------------------------------ SequentialLR, ChainedScheduler

COMBINATIONS = {
    "LinearLR warm-up, then CosineAnnealingLR": lambda S, opt: S.SequentialLR(opt, [
        S.LinearLR(opt, start_factor=0.25, total_iters=5),
        S.CosineAnnealingLR(opt, T_max=12, eta_min=0.001)], milestones=[5]),
    "ConstantLR, then ExponentialLR": lambda S, opt: S.SequentialLR(opt, [
        S.ConstantLR(opt, factor=0.1, total_iters=20), S.ExponentialLR(opt, gamma=0.9)],
        milestones=[8]),
    "ConstantLR, StepLR, then MultiStepLR": lambda S, opt: S.SequentialLR(opt, [
        S.ConstantLR(opt, factor=0.5), S.StepLR(opt, step_size=3, gamma=0.5),
        S.MultiStepLR(opt, milestones=[2, 6], gamma=0.3)], milestones=[4, 14]),
    "LambdaLR, then CosineAnnealingWarmRestarts, from a milestone at 0": lambda S, opt:
        S.SequentialLR(opt, [S.LambdaLR(opt, lambda t: 0.5), S.ExponentialLR(opt, gamma=0.8),
                             S.CosineAnnealingWarmRestarts(opt, T_0=4, T_mult=2)],
                       milestones=[0, 7]),
    "ChainedScheduler, then LinearLR": lambda S, opt: S.SequentialLR(opt, [
        S.ChainedScheduler([S.ConstantLR(opt, factor=0.5, total_iters=3),
                            S.ExponentialLR(opt, gamma=0.9)]),
        S.LinearLR(opt, start_factor=0.5, end_factor=0.1, total_iters=10)], milestones=[6]),
    "chained ConstantLR and ExponentialLR": lambda S, opt: S.ChainedScheduler([
        S.ConstantLR(opt, factor=0.1, total_iters=20), S.ExponentialLR(opt, gamma=0.9)]),
    "chained StepLR, LinearLR, MultiStepLR and CosineAnnealingLR": lambda S, opt:
        S.ChainedScheduler([S.StepLR(opt, step_size=4, gamma=0.7),
                            S.LinearLR(opt, start_factor=0.2, total_iters=6),
                            S.MultiStepLR(opt, milestones=[9, 9, 20], gamma=0.8),
                            S.CosineAnnealingLR(opt, T_max=7)], optimizer=opt),
    "chained ExponentialLR, then a LambdaLR that overrides it": lambda S, opt:
        S.ChainedScheduler([S.ExponentialLR(opt, gamma=0.5),
                            S.LambdaLR(opt, lambda t: 1 / (t + 1))]),
}


@pytest.mark.filterwarnings("ignore:Detected call of `lr_scheduler.step:UserWarning")
@pytest.mark.parametrize("name", sorted(COMBINATIONS))
def test_combined_schedules_match_torch_and_resume_from_their_state_dict(name):
    check_against_torch(COMBINATIONS[name], steps=36)


def test_sequential_warmup_then_cosine_by_hand():
    rows = run(ad, COMBINATIONS["LinearLR warm-up, then CosineAnnealingLR"], steps=STEPS)
    lr0 = LR0[0]
    warmup = [lr0 * (0.25 + 0.75 * t / 5) for t in range(5)]
    cosine = [0.001 + (lr0 - 0.001) * (1 + math.cos(math.pi * t / 12)) / 2
              for t in range(STEPS + 1 - 5)]
    np.testing.assert_allclose(rows[:, 0], warmup + cosine, rtol=1e-13)


def test_chained_constant_and_exponential_by_hand():
    rows = run(ad, COMBINATIONS["chained ConstantLR and ExponentialLR"], steps=STEPS)
    expected = [[lr0 * (0.1 if t < 20 else 1.0) * 0.9 ** t for lr0 in LR0]
                for t in range(STEPS + 1)]
    np.testing.assert_allclose(rows[:, :2], expected, rtol=1e-13)


def test_sequential_constructor_resets_the_lr_and_undoes_the_initial_steps():
    opt = make_optimizer()
    warmup = lr_scheduler.ConstantLR(opt, factor=0.5, total_iters=3)
    decay = lr_scheduler.ExponentialLR(opt, gamma=0.9)
    decay.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(LR0[0] * 0.5 * 0.9)
    schedule = lr_scheduler.SequentialLR(opt, [warmup, decay], milestones=[3])
    assert (warmup.last_epoch, decay.last_epoch, schedule.last_epoch) == (0, 0, 0)
    assert schedule.get_last_lr() == [LR0[0] * 0.5, LR0[1] * 0.5]


def test_combined_state_dicts_hold_each_schedulers_state():
    opt = make_optimizer()
    schedule = COMBINATIONS["ConstantLR, StepLR, then MultiStepLR"](lr_scheduler, opt)
    for _ in range(6):
        schedule.step()
    saved = schedule.state_dict()
    assert "optimizer" not in saved and saved["last_epoch"] == 6
    assert [s["last_epoch"] for s in saved["_schedulers"]] == [3, 2, -1]
    assert saved["_milestones"] == [4, 14]
    copy_of_saved = copy.deepcopy(saved)
    other = make_optimizer()
    COMBINATIONS["ConstantLR, StepLR, then MultiStepLR"](lr_scheduler, other).load_state_dict(
        saved)
    assert saved == copy_of_saved                                  # left as it was
    assert [g["lr"] for g in other.param_groups] == schedule.get_last_lr()
    chained = COMBINATIONS["chained ConstantLR and ExponentialLR"](lr_scheduler, opt)
    assert set(chained.state_dict()) == {"_last_lr", "_schedulers"}
    with pytest.raises(ValueError, match="holds 3 schedulers' states, this one has 2"):
        chained.load_state_dict(saved)


def test_combined_schedulers_refuse_bad_arguments_naming_them():
    opt, other = make_optimizer(), make_optimizer()
    step = lr_scheduler.StepLR(opt, step_size=2)
    plateau = lr_scheduler.ReduceLROnPlateau(opt)
    cases = [
        (lambda: lr_scheduler.SequentialLR(opt, [], []), ValueError,
         "SequentialLR: expects at least one scheduler, got none"),
        (lambda: lr_scheduler.ChainedScheduler([]), ValueError,
         "ChainedScheduler: expects at least one scheduler"),
        (lambda: lr_scheduler.ChainedScheduler([step, "x"]), TypeError,
         r"schedulers\[1\] is a str, not a learning-rate scheduler"),
        (lambda: lr_scheduler.SequentialLR(opt, [step, plateau], [3]), ValueError,
         r"schedulers\[1\] is a ReduceLROnPlateau, whose step\(\) needs the metric"),
        (lambda: lr_scheduler.ChainedScheduler([step], optimizer=other), ValueError,
         r"schedulers\[0\] \(StepLR\) schedules another optimizer"),
        (lambda: lr_scheduler.SequentialLR(opt, [step, step], []), ValueError,
         "got 2 schedulers and 0 milestones; give one milestone fewer"),
        (lambda: lr_scheduler.SequentialLR(opt, [step, step, step], [5, 2]), ValueError,
         r"milestones must be in increasing order, got \[5, 2\]"),
    ]
    for build, error, message in cases:
        with pytest.raises(error, match=message):
            build()


def test_sequential_and_chained_are_schedulers_and_need_get_lr():
    opt = make_optimizer()
    chained = lr_scheduler.ChainedScheduler([lr_scheduler.StepLR(opt, step_size=2)])
    assert isinstance(chained, lr_scheduler.LRScheduler)
    assert isinstance(lr_scheduler.ReduceLROnPlateau(opt), lr_scheduler.LRScheduler)

    class NoFormula(lr_scheduler.LRScheduler):
        pass

    with pytest.raises(NotImplementedError, match="NoFormula must define get_lr"):
        NoFormula(opt)


def test_the_module_exports_torchs_scheduler_names():
    torch = pytest.importorskip("torch")
    ours = set(lr_scheduler.__all__)
    assert {name for name in ours if not hasattr(lr_scheduler, name)} == set()
    assert set(torch.optim.lr_scheduler.__all__) - ours == set()
