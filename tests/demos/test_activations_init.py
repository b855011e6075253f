"""demos/activations_init.py (SEEDS 002, 004) in quick mode: the numbers in its results.json."""
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
    assert max(acts["derivative_max_abs_error"].values()) < 1e-12
    assert acts["tanh_identity_max_abs_error"] < 1e-12


def test_derivative_values_at_known_points() -> None:
    result = activation_derivatives()
    grid = result["grid"]
    zero, two = np.flatnonzero(grid == 0)[0], np.flatnonzero(np.isclose(grid, -2))[0]
    derivative = {name: dy for name, (_, dy) in result["curves"].items()}
    assert derivative["sigmoid"][zero] == 0.25 and derivative["tanh"][zero] == 1.0
    assert derivative["ReLU"][zero] == 0.0                          # relu'(0) = 0
    assert derivative["Leaky ReLU"][two] == 0.01 and derivative["ReLU"][two] == 0.0


def test_sigmoid_gradients_vanish_tanh_and_relu_do_not(run: tuple[dict[str, Any], Path]
                                                       ) -> None:
    vanishing = run[0]["vanishing_gradients"]
    assert vanishing["depth"] == 10
    assert all(len(v) == 10 for v in vanishing["grad_norms"].values())
    assert vanishing["fifth_last_over_last"]["sigmoid"] < 0.05
    assert vanishing["first_over_last"]["sigmoid"] < 1e-4
    assert 0.2 < vanishing["first_over_last"]["tanh"] < 5
    assert 0.2 < vanishing["first_over_last"]["ReLU"] < 5


def test_zero_init_keeps_hidden_units_identical(run: tuple[dict[str, Any], Path]) -> None:
    zero = run[0]["zero_init"]
    weights = np.array(zero["final_hidden_weights_zero"])
    assert abs(weights[0]) > 0.1                                     # they did move ...
    np.testing.assert_allclose(weights, weights[0], rtol=0, atol=1e-12)   # ... together
    assert zero["spread_zero"] < 1e-12 and zero["output_spread_zero"] < 1e-12
    assert zero["spread_random"] > 0.1


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
    assert final["without"] > 0.65                                   # stuck near log 2
    assert final["with"] < 0.5
    assert len(run[0]["batchnorm"]["losses"]["with BatchNorm1d"]) == 200


def test_comparison_and_pictures(run: tuple[dict[str, Any], Path]) -> None:
    results, directory = run
    assert len(results["comparison"]) == 8
    for name in ("activations.png", "vanishing_gradients.png", "zero_init.png",
                 "weight_scale.png", "dropout_batchnorm.png"):
        data = (directory / name).read_bytes()
        assert data.startswith(PNG_SIGNATURE) and len(data) > 20_000, name
