"""The demo runner (`python -m demos`) and the shared helpers of demos/common.py."""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import demos.__main__ as runner
from demos.common import jsonable, print_comparison, progress, row, write_json

ROOT = Path(__file__).resolve().parents[2]


def test_available_keeps_the_reading_order_and_only_existing_modules() -> None:
    names = runner.available()
    assert names[:3] == ["gradient_descent", "backprop", "activations_init"]
    assert names == [n for n in runner.ORDER if n in names]
    assert all((ROOT / "demos" / f"{n}.py").exists() for n in names)
    missing = [n for n in runner.ORDER if not (ROOT / "demos" / f"{n}.py").exists()]
    assert not set(missing) & set(names)


def test_unknown_name_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        runner.main(["no_such_demo", "--quick"])
    assert exit_info.value.code == 2
    message = capsys.readouterr().err
    assert "'no_such_demo' is not a demo" in message
    assert "available demos: gradient_descent, backprop, activations_init" in message


def test_a_planned_demo_not_yet_written_says_so(monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(runner, "available", lambda: ["gradient_descent", "backprop"])
    with pytest.raises(SystemExit):
        runner.main(["mnist"])
    assert "'mnist' is not written yet; available demos: gradient_descent, backprop" in \
        capsys.readouterr().err


def test_command_line_run_writes_results_and_prints_the_table(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "demos", "backprop", "--quick", "--seed", "3",
                           "--out", str(tmp_path)], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "=== backprop: Backpropagation by hand" in done.stdout
    assert "| what " in done.stdout and "| document " in done.stdout
    results = json.loads((tmp_path / "backprop" / "results.json").read_text())
    assert results["run"]["seed"] == 3 and results["run"]["quick"] is True
    assert results["run"]["seconds"] > 0
    assert {"quantity", "document", "ours", "verdict"} == set(results["comparison"][0])


def test_same_seed_same_numbers_other_seed_other_numbers(tmp_path: Path) -> None:
    first = runner.main(["backprop", "--quick", "--out", str(tmp_path / "a")])
    again = runner.main(["backprop", "--quick", "--out", str(tmp_path / "b")])
    other = runner.main(["backprop", "--quick", "--seed", "1", "--out", str(tmp_path / "c")])
    assert first["backprop"]["sample"] == again["backprop"]["sample"]
    assert first["backprop"]["sample"]["prediction"] != other["backprop"]["sample"]["prediction"]
    on_disk = json.loads((tmp_path / "a" / "backprop" / "results.json").read_text())
    assert on_disk["sample"] == jsonable(first["backprop"]["sample"])


def test_jsonable_makes_strict_json() -> None:
    value = {"a": np.array([1.5, np.inf, -np.inf, np.nan]), "b": np.float32(0.25),
             "c": (np.int64(3), Path("x/y.png")), 4: [math.nan]}
    assert jsonable(value) == {"a": [1.5, "inf", "-inf", "nan"], "b": 0.25,
                               "c": [3, "x/y.png"], "4": ["nan"]}


def test_write_json_round_trips(tmp_path: Path) -> None:
    path = write_json(tmp_path / "r.json", {"x": np.arange(3), "y": float("inf")})
    assert json.loads(path.read_text()) == {"x": [0, 1, 2], "y": "inf"}


def test_print_comparison_aligns_columns_and_escapes_bars(
        capsys: pytest.CaptureFixture[str]) -> None:
    text = print_comparison([row("a", "1", "|x|", "agrees"),
                             row("longer quantity", "2", "3", "document wrong")], "title")
    assert capsys.readouterr().out.strip() == text.strip()
    lines = text.strip().splitlines()
    assert lines[0] == "title"
    table = lines[1:]
    assert len({len(line) for line in table}) == 1                  # every row equally wide
    assert table[0].startswith("| what ") and set(table[1]) == {"|", "-"}
    assert "\\|x\\|" in table[2]
    assert table[2].count(" | ") == 3


def test_progress_is_silent_in_quick_mode() -> None:
    assert list(progress(range(3), quick=True)) == [0, 1, 2]
    assert list(progress(iter("ab"), quick=False)) == ["a", "b"]     # stderr is not a TTY here
