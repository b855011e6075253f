"""The direction of imports (DESIGN.md): demos → nn/optim → autodiff → numpy. nn and optim
stand side by side and neither reaches into the other; autodiff imports neither."""
from __future__ import annotations

import ast
import re
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


# ---------------------------------------------------------------- the "may import" column

def table_rows(page: str) -> list[tuple[list[str], str]]:
    """(module paths, may-import cell) of every table row naming library modules. A row
    may name several: `nn/linear.py`, `activation.py` (the bare ones in the first's folder)."""
    rows = []
    for line in page.splitlines():
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        names = re.findall(r"`([^`]+)`", cells[0])
        if not names or names[0].split("/")[0] not in FORBIDDEN:
            continue
        folder = names[0].rsplit("/", 1)[0]
        rows.append(([name if "/" in name else f"{folder}/{name}" for name in names], cells[2]))
    return rows


def allowed_names(cell: str) -> set[str]:
    """The module and package names a may-import cell lists ("errors, ops, tensor"), plus
    the markers "*" (every module) and "siblings" ("each other")."""
    if "every module of" in cell:
        return {"*"}
    words = set()
    for part in re.split(r",|;| and ", re.sub(r"\([^)]*\)", "", cell.replace("`", ""))):
        part = part.strip()
        words.add("siblings" if part == "each other" else part.split(" ")[0])
    return words


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_imports(path: Path, modules: set[str]) -> set[str]:
    """The project modules a file imports (relative imports resolved; inside functions too)."""
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            base = base[:len(base) - node.level + 1] if node.level else []
            stem = ".".join(base + ([node.module] if node.module else []))
            candidates = [f"{stem}.{alias.name}" if f"{stem}.{alias.name}" in modules else stem
                          for alias in node.names]
        else:
            continue
        found.update(name for name in candidates if name in modules and name != here)
    return found


def test_every_module_imports_only_what_its_line_allows() -> None:
    """Each module's project imports are within its row's "may import" column: a module
    of its package named there (or a package holding it, like `ops`), its folder's other
    modules for "each other", another package by name (`autodiff`), or anything for
    "every module of"."""
    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    allowed = {}
    for paths, cell in table_rows(page):
        for path in paths:
            allowed[path.rstrip("/") + ("/__init__.py" if path.endswith("/") else "")] = \
                allowed_names(cell)
    files = [path for package in sorted(FORBIDDEN)
             for path in sorted((ROOT / package).rglob("*.py"))]
    modules = {module_name(path) for path in files} | set(FORBIDDEN)
    outside = {}
    for path in files:
        names = allowed.get(path.relative_to(ROOT).as_posix())
        if names is None or "*" in names:
            continue
        here = module_name(path).split(".")
        bad = []
        for target in sorted(project_imports(path, modules)):
            parts = target.split(".")
            if parts[0] != here[0]:
                ok = parts[0] in names
            else:
                ok = bool(set(parts[1:]) & names) or (
                    "siblings" in names and parts[:-1] == here[:-1])
            if not ok:
                bad.append(target)
        if bad:
            outside[path.relative_to(ROOT).as_posix()] = bad
    assert not outside, "imports outside the module's 'may import' column in " \
        "docs/architecture.md:\n" + "\n".join(f"{path}: {', '.join(names)}"
                                              for path, names in outside.items())
