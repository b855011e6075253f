"""nn's boundaries: nn/serialization.py builds on nn/module.py and not the other way round
(no import back, not even inside a function), and nn reaches the engine through its
public API alone: no `Tensor._make`, no writes to the recording state, no tensor's private
`_data`, `_grad` or `_version`."""
import ast
import re
from pathlib import Path

import nn

NN = Path(nn.__file__).parent
ENGINE_PRIVATES = re.compile(r"\._make\b|state\.(scope|site|detect_anomaly)\b|\._data\b"
                             r"|\._grad\b|\._version")


def imports(path: Path) -> list[tuple[str, bool]]:
    """The modules a file imports (relative ones with their dots) and whether each import
    is at the file's top level."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            found.append(("." * node.level + (node.module or ""), id(node) in top))
        elif isinstance(node, ast.Import):
            found.extend((alias.name, id(node) in top) for alias in node.names)
    return found


def test_serialization_imports_module_at_its_top_and_module_never_imports_serialization():
    assert (".module", True) in imports(NN / "serialization.py")
    assert [name for name, _ in imports(NN / "module.py") if "serialization" in name] == []
    assert [name for name, top in imports(NN / "serialization.py") if not top] == []


def test_nn_uses_no_engine_privates():
    offenders = {}
    for path in sorted(NN.rglob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        found = [f"{number}: {line.strip()}" for number, line in enumerate(lines, 1)
                 if ENGINE_PRIVATES.search(line)]
        if found:
            offenders[str(path.relative_to(NN))] = found
    assert offenders == {}
