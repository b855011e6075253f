"""The `agrees` flags of every demo's closing table (see `demos.common.row`): each row that
states what a document reports says whether the run reproduces it, and the runner counts
only the flag. The quick runs (seed 0) are checked row by row against the lists below,
so a flag that changes, or a row added without one, shows up here."""
from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import demos.__main__ as runner

ROOT = Path(__file__).resolve().parents[2]
NO_CLAIM = ("—", "–")          # a document column starting so states no claim of a document

# Rows that state a document's claim but that a quick run does not compare (its verdict
# says so): their flag is None in quick mode, a bool in a full run. (mnist_cnn's "CNN:
# accuracy after epoch 3", whose ≥ 0.99 target is the demo's own, "–" in the document
# column, is None in quick mode too.)
QUICK_NOT_COMPARED = {
    "regression": {"training", "MSE to the true line, seed 0"},
    "mnist": {"accuracy before training", "accuracy after epoch 1", "accuracy after epoch 2"},
    "mnist_cnn": {"MLP (004's net and recipe): accuracy after epoch 2"},
    # 1,000 ravine steps instead of 5,000: neither momentum nor Nesterov reaches the
    # tolerance, and Adam clears the ravine only at step ~3,000
    "optimizers": {"Nesterov μ = 0.9", "Adam, RMSprop + momentum"},
    # 500 MLP and 300 transformer steps: the MLP's and the transformer's gaps are claimed at
    # full length only (the quick run checks bigram < unigram and transformer < bigram)
    "char_lm": {"MLP < bigram", "transformer < MLP"},
}

def states_a_claim(r: dict[str, Any]) -> bool:
    """Whether row `r`'s document column states what a document reports."""
    document = r["document"].strip()
    return bool(document) and not document.startswith(NO_CLAIM)


@pytest.mark.parametrize("name", runner.ORDER)
def test_quick_run_flags_every_claim(
        name: str, run_quick: Callable[[str], tuple[dict[str, Any], Path]]) -> None:
    results, _ = run_quick(name)                  # the MNIST demos skip without their files
    rows = results["comparison"]
    assert rows
    assert all(r["agrees"] in (True, False, None) and set(r) >= {"quantity", "agrees"}
               for r in rows)
    by_quantity = {r["quantity"]: r for r in rows}
    assert len(by_quantity) == len(rows), "two rows of the same name"

    unflagged = {q for q, r in by_quantity.items() if states_a_claim(r) and r["agrees"] is None}
    assert unflagged == QUICK_NOT_COMPARED.get(name, set())
    for quantity in unflagged:                    # and each says why
        assert "quick" in by_quantity[quantity]["verdict"], quantity

    disagreeing = {q for q, r in by_quantity.items() if r["agrees"] is False}
    assert disagreeing == set()
    assert runner.verdict(results)[0] == "agrees"


def row_calls(path: Path) -> list[ast.Call]:
    """The calls `row(...)` in the module at `path`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name) and node.func.id == "row"]


def test_every_row_call_in_the_demos_passes_agrees() -> None:
    """Branches a quick run does not take are covered too: each `row(...)` in demos/
    decides its flag explicitly (None for rows that only inform)."""
    calls = {path.name: row_calls(path) for path in sorted((ROOT / "demos").glob("*.py"))}
    assert all(calls[f"{name}.py"] for name in runner.ORDER)       # each demo has rows
    missing = [f"{name}:{call.lineno}" for name, found in calls.items() for call in found
               if "agrees" not in {k.arg for k in call.keywords}]
    assert not missing, f"row(...) without agrees=: {', '.join(missing)}"
