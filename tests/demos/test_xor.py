"""The XOR demo (document 001, see docs/sources.md): summary, Keras-like log, 100 % accuracy,
JSON + weights reload, the seed study, pictures, and PyTorch parity of the training loop."""
from __future__ import annotations

import contextlib
import io
import json
import math
import re

import numpy as np
import pytest

import autodiff as ad
import nn
from demos import xor
from demos.__main__ import run_demo

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
EPOCH_LINE = re.compile(r"^Epoch (\d+)/100 - loss: (\d\.\d{4}) - accuracy: (\d\.\d{4})$")


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demos")
    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        run_demo("xor", out, seed=0, quick=True)
    directory = out / "xor"
    return json.loads((directory / "results.json").read_text()), text.getvalue(), directory


def test_summary_counts_like_keras(quick_run):
    results, text, _ = quick_run
    rows = re.findall(r"^(\d) \((\w+)\)\s+\(None, (\d+)\)\s+(\d+)$", text, re.MULTILINE)
    assert rows == [("0", "Linear", "10", "30"), ("1", "Tanh", "10", "0"),
                    ("2", "Linear", "1", "11"), ("3", "Sigmoid", "1", "0")]
    for line in ("Total params: 41", "Trainable params: 41", "Non-trainable params: 0"):
        assert line in text
    assert results["params_per_layer"] == [30, 0, 11, 0] and results["total_params"] == 41


def test_predictions_before_training_are_near_one_half(quick_run):
    results, _, _ = quick_run
    before = np.array(results["predictions_before"])
    assert before.shape == (4,) and np.all(np.abs(before - 0.5) < 0.1)
    assert before[0] == pytest.approx(0.5, abs=1e-7)   # zero biases: p(0, 0) = σ(0), float32


def test_one_keras_line_per_epoch_for_the_first_100(quick_run):
    results, text, _ = quick_run
    matches = [EPOCH_LINE.match(line) for line in text.splitlines()]
    epochs = [m for m in matches if m]
    assert [int(m[1]) for m in epochs] == list(range(1, 101))
    np.testing.assert_allclose([float(m[2]) for m in epochs], results["losses_first_100"],
                               atol=5e-5)
    np.testing.assert_allclose([float(m[3]) for m in epochs],
                               results["accuracies_first_100"], atol=5e-5)
    # |epoch 1 loss − ln 2|: 0.0006–0.0214 on seeds 0–4 (AMD EPYC, 2 vCPU, 2026-12-06); 2 % margin
    assert abs(results["losses_first_100"][0] - math.log(2)) < 0.022
    assert set(results["accuracies_first_100"]) <= {0.0, 0.25, 0.5, 0.75, 1.0}


def test_reaches_100_percent_and_confident_predictions(quick_run):
    results, text, _ = quick_run
    reached, confident = results["reached_100_percent_epoch"], results["confident_epoch"]
    assert isinstance(reached, int) and 0 < reached < confident
    assert results["epochs_trained"] == confident < xor.MAX_EPOCHS
    assert results["final_accuracy"] == 1.0
    assert results["predicted_classes"] == [0, 1, 1, 0]
    after = np.array(results["predictions_after"])
    assert np.max(np.abs(after - [0, 1, 1, 0])) < xor.CONFIDENT
    assert f"100 % accuracy first at epoch {reached};" in text


def test_json_and_weights_reload_without_retraining(quick_run):
    results, _, directory = quick_run
    assert results["reloaded_identical"] is True
    assert results["reloaded_predictions"] == results["predictions_after"]
    text = (directory / "xor_model.json").read_text()
    layers = [child["class"] for child in json.loads(text)["model"]["children"]]
    assert layers == ["Linear", "Tanh", "Linear", "Sigmoid"]
    model = nn.load(directory / "xor_weights.safetensors", nn.from_json(text))
    np.testing.assert_array_equal(xor.predict(model).ravel().astype(np.float64),
                                  results["predictions_after"])


def test_seed_study_both_inits(quick_run):
    results, text, _ = quick_run
    study = results["seed_study"]
    assert set(study) == {"pytorch", "keras"}
    for result in study.values():
        epochs = result["epochs"]
        assert len(epochs) == xor.SEEDS and result["seeds"] == list(range(xor.SEEDS))
        solved = [e for e in epochs if e is not None]
        # every seed reaches 100 %, with either init, in the studies of seeds 0–4, by
        # epoch 444 at most, far from the 5,000 cap (AMD EPYC, 2 vCPU, 2026-12-06)
        assert result["reached"] == len(solved) == xor.SEEDS
        assert result["median_epoch"] == float(np.median(solved))
        assert all(0 < e <= xor.SEED_STUDY_CAP for e in solved)
    # seed 0 with Keras's init is the main run: the same epoch
    assert study["keras"]["epochs"][0] == results["reached_100_percent_epoch"]
    assert study["pytorch"]["epochs"] != study["keras"]["epochs"]
    assert "glorot_uniform weights, zero biases (what the document's Keras used)" in text


def test_pictures(quick_run):
    _, _, directory = quick_run
    for name in ("decision_surface.png", "training.png", "graph.png"):
        data = (directory / name).read_bytes()
        assert data.startswith(PNG_SIGNATURE) and len(data) > 10_000


def test_keras_init_is_glorot_uniform_with_zero_biases():
    ad.manual_seed(1)
    model = xor.build_model("keras")
    for layer, (fan_in, fan_out) in ((model[0], (2, 10)), (model[2], (10, 1))):
        bound = math.sqrt(6 / (fan_in + fan_out))
        weights = layer.weight.numpy()
        assert np.all(np.abs(weights) <= bound) and np.abs(weights).max() > bound / 2
        assert np.all(layer.bias.numpy() == 0)
    ad.manual_seed(1)
    assert np.any(xor.build_model("pytorch")[0].bias.numpy() != 0)


def test_training_loop_matches_pytorch():
    """The same initial weights, full-batch SGD lr 0.1 on BCE in autodiff and PyTorch."""
    torch = pytest.importorskip("torch")
    ad.manual_seed(5)
    model = xor.build_model("pytorch")
    reference = torch.nn.Sequential(torch.nn.Linear(2, 10), torch.nn.Tanh(),
                                    torch.nn.Linear(10, 1), torch.nn.Sigmoid())
    reference.load_state_dict({k: torch.tensor(v.numpy())
                               for k, v in model.state_dict().items()})
    optimizer = torch.optim.SGD(reference.parameters(), lr=xor.LR)
    x, y = torch.tensor(xor.X), torch.tensor(xor.Y)
    losses, reached = [], None
    for epoch in range(1, 1001):
        p = reference(x)
        loss = torch.nn.functional.binary_cross_entropy(p, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if reached is None and bool(((p > 0.5) == (y > 0.5)).all()):
            reached = epoch
            break

    history = xor.fit(model, 1000, until_confident=False)
    assert history["reached_epoch"] == reached
    np.testing.assert_allclose(history["losses"], losses, rtol=1e-4)
