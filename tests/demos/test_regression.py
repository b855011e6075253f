"""The regression demo (document 000, see docs/sources.md): quick run's results.json, the saved
model, the pictures and PyTorch parity of the training loop; the full run is in
tests/test_full_runs.py (make test-all)."""
from __future__ import annotations

import contextlib
import io
import json
import math

import numpy as np
import pytest

import autodiff as ad
import nn
from demos import regression
from demos.__main__ import run_demo

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# MSE to the true line after a quick run: 0.147–0.173 on seeds 0–6 (the quick runs of
# seeds 0–4, each with its two extra seeds; AMD EPYC, 2 vCPU, 2026-12-06); 2 % margin
QUICK_MSE = 0.176


def run_quietly(out, quick):
    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        run_demo("regression", out, seed=0, quick=quick)
    directory = out / "regression"
    return json.loads((directory / "results.json").read_text()), text.getvalue(), directory


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    return run_quietly(tmp_path_factory.mktemp("demos"), quick=True)


def test_quick_run_learns_the_line(quick_run):
    results, _, _ = quick_run
    assert results["steps"] == regression.QUICK_PASSES * regression.SAMPLES == 2000
    mse = results["mse_to_true_line"]
    # quick mode (2,000 steps) cannot reach 0.02; predicting the mean would give ≈ 3.97
    assert 0 < mse <= QUICK_MSE
    losses = results["loss_every_100_steps"]
    assert len(losses) == 20 and all(math.isfinite(v) for v in losses)
    # last / first loss reading: 0.0109–0.0157 on seeds 0–4 (AMD EPYC, 2 vCPU,
    # 2026-12-06); 2 % margin
    assert losses[-1] < 0.016 * losses[0]
    assert results["mse_after_pass"][-1] == pytest.approx(mse)


def test_quick_run_reports_several_seeds(quick_run):
    results, text, _ = quick_run
    by_seed = results["mse_by_seed"]
    assert list(by_seed) == ["0", "1", "2"]
    assert by_seed["0"] == results["mse_to_true_line"]
    assert all(0 < v <= QUICK_MSE for v in by_seed.values())
    assert len(set(by_seed.values())) == 3                 # the seeds differ
    assert "seed 2: MSE to the true line" in text


def test_quick_run_prints_the_loss_every_100_steps(quick_run):
    _, text, _ = quick_run
    lines = [line for line in text.splitlines() if line.strip().startswith("steps")]
    assert [line.split(":")[0].split()[-1] for line in lines] == ["1,000", "2,000"]
    assert all(len(line.split(":")[1].split()) == 10 for line in lines)


def test_loaded_model_predicts_like_the_trained_one(quick_run):
    results, _, directory = quick_run
    assert results["loaded_predictions_identical"] is True
    assert results["loaded_max_abs_difference"] == 0.0
    loaded = nn.load(directory / "regression.safetensors")
    with ad.no_grad():
        again = loaded(ad.linspace(0, 3, 100).reshape(100, 1)).numpy().ravel()
    np.testing.assert_array_equal(again.astype(np.float64), results["predictions"])


def test_quick_run_writes_pictures_and_table(quick_run):
    results, text, directory = quick_run
    for name in ("fit.png", "loss.png"):
        data = (directory / name).read_bytes()
        assert data.startswith(PNG_SIGNATURE) and len(data) > 10_000
    assert "| MSE to the true line, seed 0" in text
    assert {r["quantity"] for r in results["comparison"]} >= {"network", "training"}
    assert results["parameters"] == 25                       # (2 + 2) + (10 + 5) + (5 + 1)


def test_data_follow_the_document():
    ad.manual_seed(3)
    data = regression.make_data()
    x = data["x"].numpy().ravel()
    np.testing.assert_allclose(x, np.linspace(0, 3, 100), rtol=1e-6)
    np.testing.assert_allclose(data["y_"].numpy().ravel(), 2.3 * x + 4.7, rtol=1e-6)
    noise = (data["y"] - data["y_"]).numpy()
    assert 0.7 < noise.std() < 1.3 and abs(noise.mean()) < 0.3


def test_training_loop_matches_pytorch():
    """The same initial weights, 300 one-sample Adam steps in autodiff and in PyTorch."""
    torch = pytest.importorskip("torch")
    ad.manual_seed(0)
    data = regression.make_data()
    model = regression.activation_net()
    reference = torch.nn.Sequential(
        torch.nn.Sequential(torch.nn.Linear(1, 2), torch.nn.Sigmoid()),
        torch.nn.Sequential(torch.nn.Linear(2, 5), torch.nn.Sigmoid()),
        torch.nn.Sequential(torch.nn.Linear(5, 1)))
    keys = {f"layer{i + 1}.{rest}": f"{i}.{rest}" for i in range(3)
            for rest in ("0.weight", "0.bias")}
    reference.load_state_dict({keys[k]: torch.tensor(v.numpy())
                               for k, v in model.state_dict().items()})
    optimizer = torch.optim.Adam(reference.parameters(), lr=regression.LR)
    x, y_ = (torch.tensor(data[k].numpy()) for k in ("x", "y_"))
    expected = []
    for step in range(300):
        loss = torch.nn.functional.mse_loss(reference(x[step % 100]), y_[step % 100])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        expected.append(loss.item())

    history = regression.train(model, data, passes=3, quick=True, verbose=False)
    np.testing.assert_allclose(history["losses"], expected, rtol=1e-3, atol=1e-5)
    with ad.no_grad():
        ours = model(data["x"]).numpy()
    np.testing.assert_allclose(ours, reference(x).detach().numpy(), rtol=1e-4, atol=1e-4)
