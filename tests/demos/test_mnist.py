"""demos/mnist.py (document 004, see docs/sources.md): the quick run's results.json and
pictures, and the pieces it is built from; the full 2-epoch run is in tests/test_full_runs.py
(make test-all)."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import autodiff as ad
from demos.mnist import Net, Subset, confusion_matrix, evaluate
from nn.data import DataLoader, TensorDataset

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PICTURES = ("predictions.png", "confusion_matrix.png")
GRAPH = "training_step_graph.png"   # skipped: the quick runs have no `dot` (conftest)


@pytest.fixture(scope="module")
def quick(run_quick: Callable[[str], tuple[dict[str, Any], Path]]
          ) -> tuple[dict[str, Any], Path]:
    return run_quick("mnist")                  # skips without the MNIST files


def test_quick_run_sizes(quick: tuple[dict[str, Any], Path]) -> None:
    results, _ = quick
    assert (results["train_size"], results["test_size"]) == (6000, 2000)
    assert (results["batch_size"], results["lr"], results["epochs"]) == (15, 0.001, 2)
    assert results["steps_per_epoch"] == 400
    assert results["run"]["quick"] is True


def test_accuracy_is_chance_before_training_and_high_after(
        quick: tuple[dict[str, Any], Path]) -> None:
    accuracy = quick[0]["accuracy"]
    assert accuracy["before"] == pytest.approx(0.1, abs=0.05)
    first, second = accuracy["after_epoch"]
    # seeds 0–4 (AMD EPYC, 2 vCPU, 2026-12-06): 0.8395–0.8565 after epoch 1, 0.8745–0.885 after
    # epoch 2; 2 % margin
    assert first > 0.823 and second > 0.857
    # the closing table prints the same numbers
    rows = {r["quantity"]: r for r in quick[0]["comparison"]}
    assert rows["accuracy before training"]["document"] == "0.0982"
    assert rows["accuracy after epoch 2"]["ours"] == f"{second:.4f}"


def test_loss_falls_and_epochs_are_timed(quick: tuple[dict[str, Any], Path]) -> None:
    results, _ = quick
    losses = results["loss_every_100_steps"]
    assert len(losses) == 8                                     # 800 steps, one per 100
    # mean of the last two readings / the first: 0.140–0.351 on seeds 0–4
    # (AMD EPYC, 2 vCPU, 2026-12-06); 2 % margin
    assert np.mean(losses[-2:]) < 0.358 * losses[0]
    assert len(results["seconds_per_epoch"]) == 2
    assert all(s > 0 for s in results["seconds_per_epoch"])      # how long: `make bench`


def test_first_four_test_images_are_titled_with_their_predictions(
        quick: tuple[dict[str, Any], Path]) -> None:
    first = quick[0]["first_test_images"]
    assert first["labels"] == [7, 2, 1, 0]                      # MNIST's test set starts so
    assert first["titles"] == [f"prediction: {p}" for p in first["predictions"]]
    assert all(0 <= p <= 9 for p in first["predictions"])


def test_confusion_matrix_counts_every_evaluated_image(
        quick: tuple[dict[str, Any], Path]) -> None:
    results, _ = quick
    counts = np.array(results["confusion_matrix"])
    assert counts.shape == (10, 10)
    assert counts.sum() == results["test_size"]
    assert np.trace(counts) / counts.sum() == pytest.approx(results["accuracy"]["after_epoch"][-1])
    # the first 2,000 test labels, per digit
    assert counts.sum(axis=1).tolist() == [175, 234, 219, 207, 217, 179, 178, 205, 192, 194]


def test_pictures_are_pngs(quick: tuple[dict[str, Any], Path]) -> None:
    results, directory = quick
    assert results["run"]["pictures"] == list(PICTURES)
    assert results["run"]["graphs_skipped"] == [GRAPH] and not (directory / GRAPH).exists()
    for name in PICTURES:
        assert (directory / name).read_bytes()[:8] == PNG_SIGNATURE, name
    assert results["graph_step_loss"] > 0


def test_net_is_the_documents() -> None:
    model = Net()
    shapes = {name: p.shape for name, p in model.named_parameters()}
    assert shapes == {"fc1.weight": (64, 784), "fc1.bias": (64,), "fc2.weight": (64, 64),
                      "fc2.bias": (64,), "fc3.weight": (64, 64), "fc3.bias": (64,),
                      "fc4.weight": (10, 64), "fc4.bias": (10,)}
    log_p = model(ad.rand(5, 784)).numpy()
    np.testing.assert_allclose(np.exp(log_p).sum(axis=1), 1, rtol=1e-5)


def test_evaluate_counts_argmax_hits_without_a_graph() -> None:
    model = Net()
    x = ad.rand(7, 784)
    predicted = model(x).numpy().argmax(axis=1)
    labels = predicted.copy()
    labels[:3] = (labels[:3] + 1) % 10                          # 3 of 7 wrong
    accuracy, seen, predictions = evaluate(model, DataLoader(TensorDataset(x, labels), 3))
    assert accuracy == pytest.approx(4 / 7)
    assert seen.tolist() == labels.tolist() and predictions.tolist() == predicted.tolist()
    assert all(p.grad is None for p in model.parameters())


def test_confusion_matrix_rows_are_true_digits() -> None:
    counts = confusion_matrix(np.array([3, 3, 5]), np.array([3, 8, 5]))
    assert counts[3, 3] == 1 and counts[3, 8] == 1 and counts[5, 5] == 1
    assert counts.sum() == 3


def test_subset_keeps_the_fast_batch_path() -> None:
    data = TensorDataset(ad.arange(10, dtype=ad.float32) * 10, ad.arange(10))
    part = Subset(data, np.array([7, 2, 5]))
    assert len(part) == 3
    assert part[0][1].item() == 7
    x, y = part.get_batch(np.array([2, 0]))
    assert x.tolist() == [50.0, 70.0] and y.tolist() == [5, 7]
