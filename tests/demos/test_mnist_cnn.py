"""demos/mnist_cnn.py (document 004, see docs/sources.md): the quick run's results.json and
pictures, and the network it trains; the full 3-epoch run is in tests/test_full_runs.py
(make test-all)."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import autodiff as ad
import nn
from demos.mnist_cnn import Standardized, make_cnn
from nn.data import TensorDataset

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PICTURES = ("filters.png", "errors.png")
GRAPH = "training_step_graph.png"   # skipped: the quick runs have no `dot` (conftest)


@pytest.fixture(scope="module")
def quick(run_quick: Callable[[str], tuple[dict[str, Any], Path]]
          ) -> tuple[dict[str, Any], Path]:
    return run_quick("mnist_cnn")                  # skips without the MNIST files


def test_quick_run_sizes_and_recipe(quick: tuple[dict[str, Any], Path]) -> None:
    results, _ = quick
    assert (results["train_size"], results["test_size"]) == (2000, 1000)
    assert (results["batch_size"], results["lr"], results["lr_decay"],
            results["epochs"]) == (64, 0.002, 0.3, 3)
    assert results["steps_per_epoch"] == 32 == len(results["loss_every_50_steps"]) * 32 // 3
    assert results["parameters"] == {"cnn": 28938, "mlp": 59210}


def test_the_cnn_learns_and_beats_the_mlp_on_the_subset(
        quick: tuple[dict[str, Any], Path]) -> None:
    accuracy = quick[0]["accuracy"]
    assert len(accuracy["after_epoch"]) == 3 and len(accuracy["mlp_after_epoch"]) == 2
    # after epoch 3: 0.912–0.925 on seeds 0–4 (AMD EPYC, 2 vCPU, 2026-12-06); 2 % margin
    assert accuracy["after_epoch"][-1] > 0.894
    assert accuracy["after_epoch"][-1] > accuracy["mlp_after_epoch"][-1]
    errors = quick[0]["test_errors"]
    assert errors == round((1 - accuracy["after_epoch"][-1]) * 1000)
    rows = {r["quantity"]: r for r in quick[0]["comparison"]}
    assert rows["CNN: accuracy after epoch 3"]["ours"] == f"{accuracy['after_epoch'][-1]:.4f}"


def test_the_saved_model_predicts_the_same_and_pictures_are_pngs(
        quick: tuple[dict[str, Any], Path]) -> None:
    results, directory = quick
    assert results["same_after_reload"] is True
    assert (directory / "mnist_cnn.safetensors").is_file()
    assert results["run"]["pictures"] == list(PICTURES)
    assert results["run"]["graphs_skipped"] == [GRAPH] and not (directory / GRAPH).exists()
    for name in PICTURES:
        assert (directory / name).read_bytes()[:8] == PNG_SIGNATURE, name
    assert results["graph_step_loss"] > 0


def test_the_network_has_two_conv_blocks_and_a_linear_layer() -> None:
    model = make_cnn()
    shapes = {name: p.shape for name, p in model.named_parameters()}
    assert shapes == {"0.weight": (16, 1, 5, 5), "0.bias": (16,), "3.weight": (32, 16, 5, 5),
                      "3.bias": (32,), "7.weight": (10, 32 * 7 * 7), "7.bias": (10,)}
    log_p = model(ad.rand(3, 1, 28, 28)).numpy()
    assert log_p.shape == (3, 10)
    np.testing.assert_allclose(np.exp(log_p).sum(axis=1), 1, rtol=1e-5)
    assert isinstance(model[2], nn.MaxPool2d) and model[2].kernel_size == 2


def test_standardized_images_have_mnists_mean_and_std_removed() -> None:
    images = ad.tensor(np.array([[[[0.1307, 0.4388]]]], np.float32))
    data = Standardized(TensorDataset(images, ad.tensor([3])))
    x, y = data.get_batch(np.array([0]))
    np.testing.assert_allclose(x.numpy().ravel(), [0.0, 1.0], atol=1e-6)
    assert y.tolist() == [3]
    np.testing.assert_allclose(data[0][0].numpy().ravel(), [0.0, 1.0], atol=1e-6)
