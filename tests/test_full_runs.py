"""`make test-all`: every demo at full length, seed 0, run once; each agrees with its
document, and the README's demo table states what this run wrote.

The README gives a number that depends on the seed or the CPU as `label value (seeds 0–4:
lo–hi)`: seed 0's value, and the range over seeds 0–4 on the machine of its run. A run on
another machine takes a different path through the same training (floats differ in their
last bits across CPUs and BLAS builds), so it must agree with `value` within the spread the
README states, |ours − value| ≤ hi − lo. A number that depends on neither (the arithmetic of
gradient descent, Rosenbrock's ravine) must agree to the digits the README prints.
"""
from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from demos.__main__ import ORDER, main

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
NUMBER = r"[-+]?[\d,]*\.?\d+(?:e[-+]?\d+)?"

Results = dict[str, dict[str, Any]]

# (demo, the label before the number in the demo's README row, how to read it from results.json)
CLAIMS: list[tuple[str, str, Callable[[dict[str, Any]], float]]] = [
    ("gradient_descent", "from 5 at lr 0.001 it stops at x =",
     lambda r: r["quartic_lr_0.001"]["final_x"]),
    ("gradient_descent", "non-finite at epoch",
     lambda r: r["quartic_lr_0.3"]["diverged_at_epoch"]),
    ("activations_init", "‖dL/dW‖ of layer 1 / layer 10: sigmoid",
     lambda r: r["vanishing_gradients"]["first_over_last"]["sigmoid"]),
    ("activations_init", "tanh", lambda r: r["vanishing_gradients"]["first_over_last"]["tanh"]),
    ("activations_init", "ReLU", lambda r: r["vanishing_gradients"]["first_over_last"]["ReLU"]),
    ("activations_init", "the output's std after 10 layers with randn/√n",
     lambda r: r["weight_scale"]["linear"]["randn/√n"][-1]),
    ("regression", "MSE to the true line", lambda r: r["mse_to_true_line"]),
    ("xor", "100 % accuracy at epoch", lambda r: r["reached_100_percent_epoch"]),
    ("optimizers", "momentum reaches 1e-3 of the minimum at step",
     lambda r: r["ravine"]["optimizers"]["momentum"]["steps_to_tolerance"]),
    ("optimizers", "SGD is",
     lambda r: r["ravine"]["optimizers"]["sgd"]["final_distance"]),
    ("mnist", "accuracy before training", lambda r: r["accuracy"]["before"]),
    ("mnist", "after epoch 1", lambda r: r["accuracy"]["after_epoch"][0]),
    ("mnist", "after epoch 2", lambda r: r["accuracy"]["after_epoch"][1]),
    ("mnist_cnn", "test accuracy after epoch 3", lambda r: r["accuracy"]["after_epoch"][2]),
    ("mnist_cnn", "test errors", lambda r: r["test_errors"]),
    ("mnist_cnn", "the MLP's", lambda r: r["accuracy"]["mlp_after_epoch"][1]),
    ("char_lm", "unigram", lambda r: r["losses"]["unigram"]),
    ("char_lm", "bigram", lambda r: r["losses"]["bigram"]),
    ("char_lm", "MLP", lambda r: r["losses"]["MLP"]),
    ("char_lm", "transformer", lambda r: r["losses"]["transformer"]),
]


def mnist_folder() -> Path:
    return Path(os.environ.get("AUTODIFF_DATA") or ROOT.parent / "shared" / "data")


@pytest.fixture(scope="module")
def full_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, Results, Path]:
    """(the runner's exit status, each demo's results.json, the output folder) of
    `python -m demos` at full length, seed 0."""
    if not (mnist_folder() / "mnist" / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"MNIST files not found in {mnist_folder()}/mnist (set AUTODIFF_DATA)")
    out = tmp_path_factory.mktemp("full")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AUTODIFF_DATA", str(mnist_folder()))
        status = main(["--out", str(out), "--seed", "0"])
    results = {name: json.loads((out / name / "results.json").read_text())
               for name in ORDER if (out / name / "results.json").is_file()}
    return status, results, out


def readme_claim(demo: str, label: str) -> tuple[float, float | None, int]:
    """(value, spread or None, decimals printed) of `label value [(seeds 0–4: lo–hi)]` in
    the "what we got" column of the README row of `demo`."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    line = next(line for line in readme.splitlines() if line.startswith(f"| `{demo}` |"))
    ours = re.split(r"(?<!\\)\|", line)[4]          # | demo | document | reports | ours | verdict |
    match = re.search(re.escape(label) + rf"\s+(?P<value>{NUMBER})"
                      rf"(?:\s+\(seeds 0–4: (?P<lo>{NUMBER})–(?P<hi>{NUMBER})\))?", ours)
    assert match, f"README row of {demo} has no '{label} <number>'"
    text = match["value"].replace(",", "")
    mantissa = text.split("e")[0]
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    exponent = int(text.split("e")[1]) if "e" in text else 0
    spread = None if match["lo"] is None else (
        float(match["hi"].replace(",", "")) - float(match["lo"].replace(",", "")))
    return float(text), spread, decimals - exponent


def test_every_demo_ran_and_agrees_with_its_document(full_run: tuple[int, Results, Path]
                                                     ) -> None:
    status, results, _ = full_run
    assert sorted(results) == sorted(ORDER)
    disagreeing = {name: [r["quantity"] for r in result["comparison"] if r.get("agrees") is False]
                   for name, result in results.items()}
    assert {name: rows for name, rows in disagreeing.items() if rows} == {}
    assert status == 0


@pytest.mark.parametrize(("demo", "label", "read"), CLAIMS,
                         ids=[f"{demo}: {label}" for demo, label, _ in CLAIMS])
def test_the_readme_states_what_the_run_gives(full_run: tuple[int, Results, Path], demo: str,
                                              label: str, read: Callable[[dict[str, Any]], float]
                                              ) -> None:
    value, spread, decimals = readme_claim(demo, label)
    ours = float(read(full_run[1][demo]))
    printed = 0.5 * 10.0 ** -decimals                 # the README rounds to its digits
    tolerance = printed if spread is None else max(spread, printed)
    assert abs(ours - value) <= tolerance * (1 + 1e-9), (
        f"{demo}: README says {label} {value} (±{tolerance:g}); this run gives {ours}")


def test_full_lengths_and_pictures(full_run: tuple[int, Results, Path]) -> None:
    _, results, out = full_run
    mnist, cnn, regression = results["mnist"], results["mnist_cnn"], results["regression"]
    assert (mnist["train_size"], mnist["test_size"], mnist["steps_per_epoch"]) == (60000, 10000,
                                                                                   4000)
    assert sum(map(sum, mnist["confusion_matrix"])) == 10000
    assert (cnn["train_size"], cnn["test_size"], cnn["epochs"]) == (60000, 10000, 3)
    assert cnn["same_after_reload"] is True
    assert regression["steps"] == 20_000 and regression["loaded_predictions_identical"] is True
    pictures = sorted(out.glob("*/*.png"))
    assert len(pictures) >= 20
    assert all(path.read_bytes()[:8] == PNG_SIGNATURE for path in pictures)
