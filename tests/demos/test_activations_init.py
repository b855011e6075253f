"""demos/activations_init.py (documents 002, 004; docs/sources.md) in quick mode: the numbers
in its results.json."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from demos.activations_init import ACTIVATIONS, activation_derivatives

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def run(run_quick) -> tuple[dict[str, Any], Path]:
    return run_quick("activations_init")


def test_autodiff_derivatives_match_closed_forms(run: tuple[dict[str, Any], Path]) -> None:
    acts = run[0]["activations"]
    assert set(acts["derivative_max_abs_error"]) == set(ACTIVATIONS)
    # float64, derivatives of size ≤ 1: equal up to rounding, allowed 1e-9 of that size
    assert max(acts["derivative_max_abs_error"].values()) < 1e-9
    assert acts["tanh_identity_max_abs_error"] < 1e-9


def test_derivative_values_at_known_points() -> None:
    result = activation_derivatives()
    grid = result["grid"]
    zero, two = np.flatnonzero(grid == 0)[0], np.flatnonzero(np.isclose(grid, -2))[0]
    derivative = {name: dy for name, (_, dy) in result["curves"].items()}
    assert derivative["sigmoid"][zero] == pytest.approx(0.25, rel=1e-9)
    assert derivative["tanh"][zero] == pytest.approx(1.0, rel=1e-9)
    assert derivative["ReLU"][zero] == 0.0              # relu'(0) = 0: a convention, exactly
    assert derivative["Leaky ReLU"][two] == pytest.approx(0.01, rel=1e-9)
    assert derivative["ReLU"][two] == 0.0


def test_sigmoid_gradients_vanish_tanh_and_relu_do_not(run: tuple[dict[str, Any], Path]
                                                       ) -> None:
    vanishing = run[0]["vanishing_gradients"]
    assert vanishing["depth"] == 10
    assert all(len(v) == 10 for v in vanishing["grad_norms"].values())
    assert vanishing["fifth_last_over_last"]["sigmoid"] < 0.05
    assert vanishing["first_over_last"]["sigmoid"] < 1e-4
    assert 0.2 < vanishing["first_over_last"]["tanh"] < 5
    assert 0.2 < vanishing["first_over_last"]["ReLU"] < 5
    stuck = vanishing["saturated_or_dead"]                # from nn.utils.Monitor
    assert all(len(v) == 10 and all(0 <= f <= 1 for f in v) for v in stuck.values())
    assert max(stuck["sigmoid"]) < 0.05                   # σ′ ≤ 1/4, not saturation, here


def test_zero_init_keeps_hidden_units_identical(run: tuple[dict[str, Any], Path]) -> None:
    zero = run[0]["zero_init"]
    weights = np.array(zero["final_hidden_weights_zero"])
    assert abs(weights[0]) > 0.1                                     # they did move ...
    rounding = 1e-9 * abs(weights[0])                                # ... together
    np.testing.assert_allclose(weights, weights[0], rtol=0, atol=rounding)
    assert zero["spread_zero"] < rounding and zero["output_spread_zero"] < rounding
    assert zero["activation_spread_zero"] < 1e-9                     # σ in (0, 1)
    assert zero["distinct_units_zero"] == 1 and zero["distinct_units_random"] == 5
    # random init: the smallest spread over the 100 steps, of the units' incoming weights
    # (0.434–1.40) and of their activations (0.293–0.809), on seeds 0–4
    # (AMD EPYC, 2 vCPU, 2026-12-06); 2 % margin
    assert zero["smallest_spread_random"] > 0.425
    assert zero["smallest_activation_spread_random"] > 0.287
    rows = {r["quantity"]: r for r in run[0]["comparison"]}
    assert rows["all-zero init"]["verdict"] == "agrees"
    assert "1 distinct hidden unit of 5" in rows["all-zero init"]["ours"]


def test_randn_over_sqrt_n_keeps_the_variance(run: tuple[dict[str, Any], Path]) -> None:
    linear = run[0]["weight_scale"]["linear"]
    assert np.all(np.abs(np.array(linear["randn/√n"]) - 1) < 0.2)
    assert linear["randn"][-1] > 1e10 and linear["randn·0.01"][-1] < 1e-6
    tanh = run[0]["weight_scale"]["tanh"]
    assert min(tanh["randn"]) > 0.9                                  # saturated at ±1
    assert tanh["randn·0.01"][-1] < 1e-6
    assert tanh["randn/√n"][-1] > 0.1


def test_dropout_and_batchnorm(run: tuple[dict[str, Any], Path]) -> None:
    dropout = run[0]["dropout"]
    mean = dropout["mean"]
    assert dropout["trials"] == 1 and dropout["steps"] == 300
    assert mean["no dropout"]["train"] < mean["Dropout(0.5)"]["train"]   # it fits the noise
    assert all(np.isfinite(v) for m in mean.values() for v in m.values())
    final = run[0]["batchnorm"]["final_loss"]
    # after 200 steps, seeds 0–4 (AMD EPYC, 2 vCPU, 2026-12-06), 2 % margin: without BatchNorm
    # 0.6907–0.6931 (stuck near ln 2 = 0.6931), with it 0.157–0.174
    assert final["without"] > 0.677
    assert final["with"] < 0.177
    assert len(run[0]["batchnorm"]["losses"]["with BatchNorm1d"]) == 200


def test_comparison_and_pictures(run: tuple[dict[str, Any], Path]) -> None:
    results, directory = run
    assert len(results["comparison"]) == 8
    for name in ("activations.png", "vanishing_gradients.png", "zero_init.png",
                 "weight_scale.png", "dropout_batchnorm.png"):
        data = (directory / name).read_bytes()
        assert data.startswith(PNG_SIGNATURE) and len(data) > 20_000, name
