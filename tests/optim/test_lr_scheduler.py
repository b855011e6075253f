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
    assert lrs(name)[0].tolist() == list(LR0)          # t = 0: the starting lr


@pytest.mark.parametrize("name", ["StepLR", "ExponentialLR", "LambdaLR", "CosineAnnealingLR"])
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
