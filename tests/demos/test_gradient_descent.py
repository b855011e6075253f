"""demos/gradient_descent.py (document 003, see docs/sources.md) in quick mode: the numbers in
its results.json."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from demos.gradient_descent import descend, overflow_epoch_in_python, quartic

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def run(run_quick) -> tuple[dict[str, Any], Path]:
    return run_quick("gradient_descent")


def test_x_squared_trajectory_is_exact(run: tuple[dict[str, Any], Path]) -> None:
    results, _ = run
    expected = 5 * 0.4 ** np.arange(16)                     # x ← x − 0.3·2x = 0.4x
    np.testing.assert_allclose(results["x_squared"]["from_5"], expected, rtol=0, atol=1e-6)
    np.testing.assert_allclose(results["x_squared"]["from_minus_5"], -expected, rtol=0,
                               atol=1e-6)
    assert results["x_squared"]["from_5"][:5] == pytest.approx([5, 2, 0.8, 0.32, 0.128])
    assert "5, 2, 0.8, 0.32, 0.13, 0.05, 0.02, 0.01, 0" in results["comparison"][0]["ours"]


def test_lr_0_3_diverges_at_epoch_6_like_python_floats(run: tuple[dict[str, Any], Path]
                                                       ) -> None:
    diverging = run[0]["quartic_lr_0.3"]
    assert diverging["diverged_at_epoch"] == 6
    assert diverging["gradient_at_divergence"] == "-inf"
    assert diverging["python_overflow_epoch"] == 6
    assert diverging["x_before_divergence"] == pytest.approx(-1.7686995468210368e214)
    assert diverging["xs"][:3] == pytest.approx([5.0, -286.6, 56498071.8704])
    assert diverging["xs"][-1] in ("inf", "-inf", "nan")


def test_python_replay_raises_where_numpy_overflows() -> None:
    epoch, message = overflow_epoch_in_python(5.0, 0.3, 15)
    assert epoch == 6 and message
    assert overflow_epoch_in_python(5.0, 0.001, 50) is None


def test_lr_0_001_stops_near_0_51_after_15000_epochs(run: tuple[dict[str, Any], Path]) -> None:
    slow = run[0]["quartic_lr_0.001"]
    assert slow["epochs"] == 15_000
    assert round(slow["final_x"], 2) == 0.51
    assert slow["final_x"] == pytest.approx(0.505438618895424, abs=1e-9)
    assert slow["final_f"] == pytest.approx(-19.625, abs=1e-6)
    assert 0 < slow["final_gradient"] < 1e-3


def test_the_truth_about_0_5(run: tuple[dict[str, Any], Path]) -> None:
    truth = run[0]["truth"]
    assert truth["stationary_points"] == pytest.approx([-1.0, 0.5, 0.5], abs=1e-6)
    assert truth["f_at_0.5"] == pytest.approx(-19.625, rel=1e-9)
    assert truth["f_at_minus_1"] == pytest.approx(-23, rel=1e-9)
    # through autodiff's power rule: 1e-9 of the derivatives' scale (the third is 24)
    assert truth["derivatives_at_0.5"] == pytest.approx([0.0, 0.0, 24.0], abs=24e-9)
    assert truth["derivatives_at_minus_1"] == pytest.approx([0.0, 18.0], abs=24e-9)
    assert quartic(-1.0) < quartic(0.5)


def test_which_starts_and_optimizers_reach_minus_1(run: tuple[dict[str, Any], Path]) -> None:
    results = run[0]
    starts = np.array(results["quartic_lr_0.001"]["basin_starts"])
    ends = np.array(results["quartic_lr_0.001"]["basin_final_x"])
    np.testing.assert_allclose(ends[starts < 0.5], -1.0, atol=1e-9)
    assert np.all((ends[starts > 0.5] > 0.5) & (ends[starts > 0.5] < 0.51))
    reached = {o["optimizer"]: o["reaches_minimum"] for o in results["optimizers"]}
    assert reached == {"plain SGD": False, "momentum 0.5": False, "momentum 0.9": True,
                       "Nesterov 0.9": True}
    assert results["optim_sgd_vs_hand_loop"] < 1e-9                 # x of size ≈ 1


def test_autodiff_gradient_equals_hand_derivative(run: tuple[dict[str, Any], Path]) -> None:
    assert run[0]["derivative_max_relative_error"] < 1e-9


def test_descend_from_several_starts_at_once() -> None:
    result = descend(lambda x: x ** 2, lambda x: 2 * x, [1.0, -2.0], lr=0.25, epochs=3,
                     quick=True)
    np.testing.assert_allclose(result["xs"], [[1, -2], [0.5, -1], [0.25, -0.5],
                                              [0.125, -0.25]])
    np.testing.assert_allclose(result["grads"][0], [2.0, -4.0])


def test_comparison_rows_and_pictures(run: tuple[dict[str, Any], Path]) -> None:
    results, directory = run
    verdicts = [r["verdict"] for r in results["comparison"]]
    assert any(v.startswith("document wrong") for v in verdicts)
    assert "comma lost" in verdicts[0]
    for name in ("x_squared.png", "quartic.png", "quartic_lr_0.3.png"):
        data = (directory / name).read_bytes()
        assert data.startswith(PNG_SIGNATURE) and len(data) > 20_000, name
