"""The demo runner (`python -m demos`) and the shared helpers of demos/common.py."""
from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import autodiff as ad
import demos.__main__ as runner
from demos import common
from demos.common import (
    GRAPHVIZ_MISSING,
    disagrees,
    jsonable,
    plt,
    print_comparison,
    progress,
    row,
    save_figure,
    save_graph,
    write_json,
)

ROOT = Path(__file__).resolve().parents[2]
SUMMARY_HEADER = "| demo "


def summary_rows(stdout: str) -> dict[str, list[str]]:
    """The summary table printed last: demo -> [verdict, seconds, pictures]."""
    table = stdout[stdout.rindex(SUMMARY_HEADER):].splitlines()
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in table[2:]
             if line.startswith("|")]
    return {c[0]: c[1:] for c in cells}


@pytest.fixture
def fake_demos(monkeypatch: pytest.MonkeyPatch) -> Callable[[str, Callable[..., Any]], None]:
    """`add(name, run)` makes `demos.<name>` a demo module whose `run` is `run`; only the
    added demos are available."""
    names: list[str] = []
    monkeypatch.setattr(runner, "available", lambda: list(names))

    def add(name: str, run: Callable[..., Any]) -> None:
        module = types.ModuleType(f"demos.{name}", f"Fake demo {name}.")
        module.run = run  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, f"demos.{name}", module)
        names.append(name)
    return add


def agreeing(out: Path, seed: int, quick: bool) -> dict[str, Any]:
    return {"comparison": [row("x", "1", "1", "agrees", agrees=True),
                           row("y", "2", "3", "document wrong: it is 3", agrees=True),
                           row("z", "—", "4", "for information")]}


def no_dot(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """PATH set to an empty folder, so Graphviz's `dot` cannot be found; returns it."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert shutil.which("dot") is None
    return empty


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
    assert summary_rows(done.stdout)["backprop"][0] == "agrees"
    results = json.loads((tmp_path / "backprop" / "results.json").read_text())
    assert results["run"]["seed"] == 3 and results["run"]["quick"] is True
    assert results["run"]["seconds"] > 0
    assert {"quantity", "document", "ours", "verdict", "agrees"} == set(results["comparison"][0])


def test_command_line_run_without_dot_skips_the_graphs_with_one_line(tmp_path: Path) -> None:
    empty = tmp_path / "empty-bin"             # PATH without Graphviz's `dot` (nor python:
    empty.mkdir()                              # it is started by its absolute path)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PATH": str(empty)}
    done = subprocess.run([sys.executable, "-m", "demos", "backprop", "--quick",
                           "--out", str(tmp_path / "out")], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=120, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    assert done.stdout.count(GRAPHVIZ_MISSING) == 1            # one line for both graphs
    assert "Traceback" not in done.stderr
    verdict, _, pictures = summary_rows(done.stdout)["backprop"]
    assert verdict == "agrees"
    assert pictures == "0 PNG written, 2 graphs skipped (no `dot`)"
    assert not list((tmp_path / "out" / "backprop").glob("*.png"))


def test_a_demo_that_raises_is_reported_and_the_others_run(
        fake_demos: Callable[..., None], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    def broken(out: Path, seed: int, quick: bool) -> dict[str, Any]:
        return {"comparison": [row("x", "1", str(1 / 0), "agrees")]}

    fake_demos("broken", broken)
    fake_demos("fine", agreeing)
    status = runner.main(["broken", "fine", "--out", str(tmp_path)])
    captured = capsys.readouterr()
    assert status == 1
    assert "Traceback" in captured.err and "1 / 0" in captured.err
    assert "demo broken failed: ZeroDivisionError: division by zero" in captured.out
    assert (tmp_path / "fine" / "results.json").is_file()
    assert not (tmp_path / "broken" / "results.json").exists()
    summary = summary_rows(captured.out)
    assert list(summary) == ["broken", "fine"]
    assert summary["broken"][0] == "failed" and summary["fine"][0] == "agrees"
    assert float(summary["fine"][1]) >= 0
    assert captured.out.rstrip().endswith(
        "broken failed: ZeroDivisionError: division by zero")


def test_a_row_that_disagrees_makes_the_demo_disagree_and_the_status_1(
        fake_demos: Callable[..., None], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    fake_demos("fine", agreeing)
    fake_demos("off", lambda out, seed, quick: {"comparison": [
        row("x", "1", "1", "agrees", agrees=True),
        row("y", "2", "3", "differs: 3, not 2", agrees=False),
        row("z", "4", "5", "close enough", agrees=False),
        row("w", "—", "6", "differs, but only informs")]})
    assert runner.main(["fine", "--out", str(tmp_path)]) == 0
    assert runner.main(["fine", "off", "--out", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert summary_rows(out)["off"][0] == "disagrees"
    assert "off disagrees: 2 of 4 rows: y; z" in out


def test_disagrees_reads_the_flag_not_the_verdict() -> None:
    assert disagrees(row("q", 1, 2, "agrees, roughly", agrees=False))
    assert disagrees({**row("q", 1, 2, "agrees"), "agrees": False})
    for verdict in ("agrees", "document wrong: it is 2", "differs", "not reproduced",
                    "below the target ≥ 0.99", "DIFFERENT predictions after reloading"):
        assert not disagrees(row("q", 1, 2, verdict, agrees=True)), verdict
        assert not disagrees(row("q", "—", 2, verdict)), verdict          # None: informs
    assert not disagrees({"quantity": "q", "document": "1", "ours": "2",
                          "verdict": "differs"})                         # no flag at all
    assert not hasattr(common, "DISAGREEING")


def test_row_stores_a_python_bool_and_refuses_other_flags() -> None:
    flag = row("q", 1, 2, "differs", agrees=np.float64(2) < 1)["agrees"]   # numpy's False
    assert flag is False and disagrees(row("q", 1, 2, "differs", agrees=np.False_))
    assert row("q", 1, 1, "agrees", agrees=np.True_)["agrees"] is True
    for wrong in (0, 1, "yes", [True]):
        with pytest.raises(TypeError, match="agrees must be a bool or None"):
            row("q", 1, 2, "agrees", agrees=wrong)


def test_without_dot_graphs_are_skipped_with_one_line_per_run(
        fake_demos: Callable[..., None], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    returned: list[Path | None] = []

    def drawing(out: Path, seed: int, quick: bool) -> dict[str, Any]:
        x = ad.tensor([1.0, 2.0], requires_grad=True)
        loss = (x * x).sum()
        returned.append(save_graph(loss, path=out / "one.png"))
        returned.append(save_graph(loss, path=out / "two.png", rankdir="TB"))
        save_figure(plt.figure(), out / "figure.png")
        return agreeing(out, seed, quick)

    fake_demos("drawing", drawing)
    fake_demos("drawing_too", drawing)
    no_dot(monkeypatch, tmp_path)
    for _ in range(2):
        assert runner.main(["drawing", "drawing_too", "--out", str(tmp_path / "out")]) == 0
        out = capsys.readouterr().out
        assert out.count(GRAPHVIZ_MISSING) == 1                    # once per run
        assert out.count("graph pictures skipped") == 1
        pictures = {name: cells[2] for name, cells in summary_rows(out).items()}
        assert pictures == {name: "1 PNG written, 2 graphs skipped (no `dot`)"
                            for name in ("drawing", "drawing_too")}
    assert returned == [None] * 8
    assert [p.name for p in (tmp_path / "out" / "drawing").glob("*.png")] == ["figure.png"]


@pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz's dot")
def test_with_dot_save_graph_writes_the_picture(fake_demos: Callable[..., None],
                                                tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    def drawing(out: Path, seed: int, quick: bool) -> dict[str, Any]:
        x = ad.tensor([1.0, 2.0], requires_grad=True)
        assert save_graph((x * x).sum(), path=out / "graph.png") == out / "graph.png"
        return agreeing(out, seed, quick)

    fake_demos("drawing", drawing)
    assert runner.main(["drawing", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert GRAPHVIZ_MISSING not in out
    assert summary_rows(out)["drawing"][2] == "1 PNG written"
    assert (tmp_path / "drawing" / "graph.png").read_bytes().startswith(b"\x89PNG")
    assert common.skipped_graphs == []


def test_same_seed_same_numbers_other_seed_other_numbers(tmp_path: Path) -> None:
    first = runner.run_demo("backprop", tmp_path / "a", seed=0, quick=True)
    again = runner.run_demo("backprop", tmp_path / "b", seed=0, quick=True)
    other = runner.run_demo("backprop", tmp_path / "c", seed=1, quick=True)
    assert first["sample"] == again["sample"]
    assert first["sample"]["prediction"] != other["sample"]["prediction"]
    on_disk = json.loads((tmp_path / "a" / "backprop" / "results.json").read_text())
    assert on_disk["sample"] == jsonable(first["sample"])


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
