"""The README's code runs exactly as written and prints and writes what it says."""
import contextlib
import io
import pathlib
import re
import shutil

import pytest

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"


def code_blocks() -> list[str]:
    """The README's runnable Python blocks (those that start with their imports)."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    return [b for b in blocks if b.startswith("import")]


def run(code: str, folder: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.chdir(folder)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {"__name__": "__readme__"})
    return out.getvalue().splitlines()


def block_containing(text: str) -> str:
    return next(b for b in code_blocks() if text in b)


def test_quick_start_is_at_most_15_lines_of_code():
    section = README.read_text(encoding="utf-8").split("## Quick start", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert len([line for line in code.splitlines() if line.strip()]) <= 15


def test_quick_start_runs_as_written(tmp_path, monkeypatch):
    printed = run(block_containing("ad.gradcheck(lambda w, v"), tmp_path, monkeypatch)
    assert printed[0] == "(2, 2) float32" and printed[2] == "True" and len(printed) == 3
    dy, d2y = map(float, printed[1].split())            # 3t² and 6t at t = 2, in float32
    assert dy == pytest.approx(12.0, rel=1e-6) and d2y == pytest.approx(12.0, rel=1e-6)


def test_xor_example_learns_xor_and_saves_the_model(tmp_path, monkeypatch):
    printed = run(block_containing("optim.SGD"), tmp_path, monkeypatch)
    predictions = [float(p) for p in printed[0].strip("[]").split()]   # rounded to 0.01
    assert predictions == pytest.approx([0, 1, 1, 0], abs=0.01)
    assert "Total params: 41" in printed
    assert (tmp_path / "xor.safetensors").stat().st_size > 0


@pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz's dot")
@pytest.mark.parametrize("marker, image", [("neuron.png", "neuron.png"), ("mlp.png", "mlp.png")])
def test_graph_drawing_examples_write_their_pictures(marker, image, tmp_path, monkeypatch):
    run(block_containing(marker), tmp_path, monkeypatch)
    assert (tmp_path / image).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_every_runnable_block_is_tested():
    tested = ("ad.gradcheck(lambda w, v", "optim.SGD", "neuron.png", "mlp.png")
    assert all(any(marker in block for marker in tested) for block in code_blocks())
