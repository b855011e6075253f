"""demos/optimizers.py (document 002, see docs/sources.md): the quick run's results.json and
pictures, and the pieces it is built from checked against the notes' formulas written by
hand."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from demos.optimizers import MINIMUM, START, contenders, descend_ravine, hessian, rosenbrock

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
NAMES = ["sgd", "momentum", "nesterov", "sgd_high_lr", "exponential", "inverse_time",
         "adagrad", "rmsprop", "adam"]


@pytest.fixture(scope="module")
def quick(run_quick) -> tuple[dict[str, Any], Path]:
    return run_quick("optimizers")


def gradient(p: np.ndarray) -> np.ndarray:
    """Rosenbrock's gradient by hand: (−2(1 − x) − 400x(y − x²), 200(y − x²))."""
    x, y = p
    return np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])


def test_every_optimizer_lowers_both_losses_and_stays_finite(
        quick: tuple[dict[str, Any], Path]) -> None:
    results, _ = quick
    ravine, regression = results["ravine"]["optimizers"], results["regression"]["optimizers"]
    assert list(ravine) == NAMES and list(regression) == NAMES
    for name in NAMES:
        assert ravine[name]["final_f"] < ravine[name]["start_f"] == pytest.approx(24.2), name
        assert ravine[name]["finite"] and regression[name]["finite"], name
        path = np.array(ravine[name]["path_every_10_steps"], dtype=float)
        assert path.shape == (101, 2) and np.isfinite(path).all(), name
        assert path[0].tolist() == list(START)
        curve = regression[name]["mse_after_each_pass"]
        assert len(curve) == 4 and all(math.isfinite(v) for v in curve), name
        # after / before 3 passes: at most 0.233 for any optimizer on seeds 0–4
        # (AMD EPYC, 2 vCPU, 2026-12-06); 2 % margin
        assert curve[-1] < 0.237 * curve[0], name
    # every optimizer started from the same weights: the same MSE before training
    before = [r["mse_after_each_pass"][0] for r in regression.values()]
    assert before == pytest.approx([before[0]] * len(before), rel=1e-9)


def test_momentum_beats_plain_sgd_on_the_ravine_at_equal_lr(
        quick: tuple[dict[str, Any], Path]) -> None:
    ravine = quick[0]["ravine"]["optimizers"]
    assert ravine["sgd"]["label"] == "SGD, lr 0.001"
    assert ravine["momentum"]["label"] == "momentum 0.9, lr 0.001"
    assert ravine["nesterov"]["label"] == "Nesterov 0.9, lr 0.001"
    # distance to the minimum after 1,000 steps, against SGD's: 0.00998 (momentum) and
    # 0.0117 (Nesterov); the ravine draws no random numbers, the same on seeds 0–4
    # (AMD EPYC, 2 vCPU, 2026-12-06); 2 % margin
    assert ravine["momentum"]["final_distance"] < 0.0102 * ravine["sgd"]["final_distance"]
    assert ravine["nesterov"]["final_distance"] < 0.0119 * ravine["sgd"]["final_distance"]


def test_the_notes_claims_hold_in_the_quick_run(quick: tuple[dict[str, Any], Path]) -> None:
    ravine = quick[0]["ravine"]["optimizers"]
    assert ravine["sgd"]["f_increases"] == 0             # lr below 2/λ_max: f always falls
    assert ravine["sgd_high_lr"]["f_increases"] > 0      # 4× that lr bounces off the walls
    assert ravine["adagrad"]["lr_only_shrinks"] is True
    assert ravine["rmsprop"]["lr_only_shrinks"] is False
    first = np.array(ravine["adagrad"]["lr_first"])
    np.testing.assert_allclose(first, 0.5 / np.abs(gradient(np.array(START))), rtol=1e-9)
    rows = quick[0]["comparison"]
    assert len(rows) == 7
    assert rows[1]["verdict"] == "agrees: it speeds through the ravine"
    assert all(r["ours"] and r["verdict"] for r in rows)


def test_pictures_are_pngs(quick: tuple[dict[str, Any], Path]) -> None:
    results, directory = quick
    assert results["run"]["pictures"] == ["ravine.png", "regression_losses.png"]
    for name in results["run"]["pictures"]:
        assert (directory / name).read_bytes()[:8] == PNG_SIGNATURE, name


def test_hessian_by_double_backward_matches_the_closed_form(
        quick: tuple[dict[str, Any], Path]) -> None:
    x, y = 0.3, -0.7
    expected = np.array([[2 - 400 * (y - 3 * x * x), -400 * x], [-400 * x, 200]])
    np.testing.assert_allclose(hessian((x, y)), expected, rtol=1e-9)
    eigen = quick[0]["ravine"]["hessian_eigenvalues"]
    np.testing.assert_allclose(eigen["minimum"],
                               np.linalg.eigvalsh([[802.0, -400.0], [-400.0, 200.0]]))
    assert eigen["minimum"][1] / eigen["minimum"][0] == pytest.approx(2508, rel=1e-3)
    assert rosenbrock(*MINIMUM) == 0


def test_momentum_and_nesterov_follow_the_notes_formulas() -> None:
    steps, lr, mu = 60, 1e-3, 0.9
    racers = contenders("ravine", steps)
    for name, nesterov in (("momentum", False), ("nesterov", True)):
        x, v = np.array(START), np.zeros(2)
        expected = [x.copy()]
        for _ in range(steps):
            v_prev = v
            v = mu * v - lr * gradient(x)                 # v = mu * v - lr * dx
            x = x + (-mu * v_prev + (1 + mu) * v if nesterov else v)
            expected.append(x.copy())
        path = descend_ravine(racers[name], steps)["path"]
        np.testing.assert_allclose(path, np.array(expected), rtol=1e-9, atol=1e-9)   # |x| ≈ 1


def test_annealed_runs_decay_from_four_times_sgd_lr_to_it() -> None:
    steps = 40
    racers = contenders("ravine", steps)
    for name, formula in (("exponential", lambda t: 4e-3 * math.exp(-math.log(4) * t / steps)),
                          ("inverse_time", lambda t: 4e-3 / (1 + 3 * t / steps))):
        lrs = descend_ravine(racers[name], steps)["lr"][:, 0]
        np.testing.assert_allclose(lrs, [formula(t) for t in range(steps)], rtol=1e-9)
        assert formula(steps) == pytest.approx(1e-3)
