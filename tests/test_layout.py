"""The direction of imports (DESIGN.md): demos → nn/optim → autodiff → numpy. nn and optim
stand side by side and neither reaches into the other; autodiff imports neither."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {"autodiff": {"nn", "optim", "demos", "benchmarks"},
             "nn": {"optim", "demos", "benchmarks"},
             "optim": {"nn", "demos", "benchmarks"}}


def imported_packages(path: Path) -> set[str]:
    """The top-level names of the absolute imports in a file (inside functions too)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_the_walker_sees_imports_inside_functions(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text("import numpy as np\ndef f():\n    from nn.serialization import x\n"
                      "from . import sibling\n")
    assert imported_packages(source) == {"numpy", "nn"}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_package_imports_sideways_or_upwards(package: str) -> None:
    offenders = {str(path.relative_to(ROOT)): sorted(imported_packages(path) & FORBIDDEN[package])
                 for path in sorted((ROOT / package).rglob("*.py"))}
    assert {path: names for path, names in offenders.items() if names} == {}


def test_every_module_has_its_line_in_the_architecture_page() -> None:
    """docs/architecture.md names every module of the library (by path, or by file name in
    its package's row), and every package folder; a new module needs its line there."""
    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    missing = []
    for package in sorted(FORBIDDEN):
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            folder = path.parent.relative_to(ROOT).as_posix()
            names = {f"`{relative}`", f"`{folder}/`"} if path.name == "__init__.py" else {
                f"`{relative}`", f"`{path.name}`", f"`{path.stem}`"}
            if not any(name in page for name in names):
                missing.append(relative)
    assert missing == []
