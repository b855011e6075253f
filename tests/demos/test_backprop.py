"""demos/backprop.py (documents 000, 002; docs/sources.md) in quick mode: the lecture's
formulas equal autodiff."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import autodiff as ad
from demos.backprop import TARGET, X, hand_pass, regression_net

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def size(values: Any) -> float:
    """The scale a rounding tolerance is taken of: the largest |value|, at least 1."""
    return max(1.0, float(np.max(np.abs(values))))


@pytest.fixture(scope="module")
def run(run_quick) -> tuple[dict[str, Any], Path]:
    return run_quick("backprop")


def test_hand_formulas_equal_autodiff_layer_by_layer(run: tuple[dict[str, Any], Path]) -> None:
    results = run[0]
    differences = results["max_abs_difference"]
    assert set(differences) == {f"layer{l}.{q}" for l in (1, 2, 3)
                                for q in ("da", "dz", "dW", "db", "da_prev")}
    for l, layer in enumerate(results["layers"], start=1):        # float64: rounding only,
        for q in ("da", "dz", "dW", "db", "da_prev"):               # 1e-9 of each one's size
            assert differences[f"layer{l}.{q}"] <= 1e-9 * size(layer[q]), (l, q)
    assert results["max_abs_difference_overall"] == max(differences.values())
    assert results["sample"]["loss"] == pytest.approx(results["sample"]["autodiff_loss"],
                                                      rel=1e-9)
    assert results["sample"]["x"] == 1.5 and results["sample"]["target"] == pytest.approx(8.15)


def test_the_stepped_backward_meets_the_hand_dz(run: tuple[dict[str, Any], Path]) -> None:
    stepped = run[0]["stepped"]
    assert stepped["ops"] == ["sum", "pow", "sub", "linear", "sigmoid", "linear", "sigmoid",
                              "linear"]
    assert stepped["leaf_gradients_equal_backward"] is True
    assert max(stepped["dz_max_abs_difference"].values()) <= 1e-12


def test_gradients_are_not_trivial(run: tuple[dict[str, Any], Path]) -> None:
    layers = run[0]["layers"]
    assert [len(layer["dW"]) for layer in layers] == [2, 10, 5]        # W: (2,1) (5,2) (1,5)
    assert all(np.abs(layer["dW"]).max() > 1e-3 for layer in layers)
    # the output layer has no activation: dz = da = 2(ŷ − y)
    sample = run[0]["sample"]
    assert layers[2]["dz"] == pytest.approx([2 * (sample["prediction"] - sample["target"])])


def test_one_update_step_lowers_the_error(run: tuple[dict[str, Any], Path]) -> None:
    sample = run[0]["sample"]
    assert sample["loss_after_one_step"] < sample["loss"] - 1e-3


def test_the_note_typo_gives_wrong_numbers(run: tuple[dict[str, Any], Path]) -> None:
    typo = run[0]["typo_formula_max_abs_difference"]
    assert set(typo) == {"layer1", "layer2", "layer3"}
    assert min(typo.values()) > 1e-3
    assert run[0]["comparison"][2]["verdict"].startswith("document typo")


def test_one_output_example(run: tuple[dict[str, Any], Path]) -> None:
    single = run[0]["one_output"]
    assert set(single["hand"]) == {"dL/dŷ", "dL/dz", "dL/dW", "dL/db"}
    for name, difference in single["max_abs_difference"].items():
        assert difference <= 1e-9 * size(single["hand"][name]), name
    assert len(np.ravel(single["hand"]["dL/dW"])) == 3


def test_hand_pass_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    ad.manual_seed(7)
    model = regression_net()
    weights = [block[0].weight.numpy() for block in model]
    biases = [block[0].bias.numpy().reshape(-1, 1) for block in model]
    hand = hand_pass(weights, biases)

    params = [(torch.tensor(w, requires_grad=True), torch.tensor(b[:, 0], requires_grad=True))
              for w, b in zip(weights, biases)]
    a = torch.tensor([[X]], dtype=torch.float64)
    for k, (w, b) in enumerate(params):
        a = a @ w.T + b
        if k < 2:
            a = torch.sigmoid(a)
    torch.nn.functional.mse_loss(a, torch.tensor([[TARGET]], dtype=torch.float64)).backward()
    for layer, (w, b) in zip(hand["layers"], params):
        np.testing.assert_allclose(layer["dW"], w.grad.numpy(), rtol=0,
                                   atol=1e-9 * size(layer["dW"]))
        np.testing.assert_allclose(layer["db"][:, 0], b.grad.numpy(), rtol=0,
                                   atol=1e-9 * size(layer["db"]))


def test_graph_pictures(run: tuple[dict[str, Any], Path]) -> None:
    results, directory = run
    assert results["run"]["pictures"] == ["graph.png", "graph_one_output.png"]
    for name in results["run"]["pictures"]:
        data = (directory / name).read_bytes()
        assert data.startswith(PNG_SIGNATURE) and len(data) > 20_000, name
