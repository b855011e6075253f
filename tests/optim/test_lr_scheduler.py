"""Learning-rate schedules against their closed forms and, when installed, torch's."""
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


@pytest.mark.parametrize("name", ["StepLR", "ExponentialLR", "LambdaLR", "CosineAnnealingLR",
                                  "MultiStepLR", "LinearLR", "CosineAnnealingWarmRestarts"])
def test_schedule_matches_torch(name):
    torch = pytest.importorskip("torch")
    kwargs, _ = SCHEDULES[name]
    a, b = torch.zeros(2, requires_grad=True), torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([{"params": [a], "lr": LR0[0]}, {"params": [b], "lr": LR0[1]}], lr=1.0)
    schedule = getattr(torch.optim.lr_scheduler, name)(opt, **kwargs)
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
