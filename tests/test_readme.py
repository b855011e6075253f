"""The README's quick start runs exactly as written and prints what it says it prints."""
import contextlib
import io
import pathlib
import re

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"


def quick_start_code() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_quick_start_is_at_most_15_lines_of_code():
    lines = [line for line in quick_start_code().splitlines() if line.strip()]
    assert len(lines) <= 15


def test_quick_start_runs_as_written():
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(quick_start_code(), "README.md", "exec"), {"__name__": "__readme__"})
    printed = out.getvalue().splitlines()
    assert printed == ["(2, 2) float32", "12.0 12.0", "True"]
