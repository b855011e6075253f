"""Shared by the demo tests: run one demo in quick mode into a temporary folder."""
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from demos.__main__ import main


@pytest.fixture(scope="session")
def run_quick(tmp_path_factory: pytest.TempPathFactory
              ) -> Callable[[str], tuple[dict[str, Any], Path]]:
    """`run_quick(name)` runs `python -m demos name --quick` and returns (its results.json
    as a dict, the folder holding its pictures)."""
    def run(name: str) -> tuple[dict[str, Any], Path]:
        out = tmp_path_factory.mktemp("demos")
        main([name, "--quick", "--out", str(out)])
        return json.loads((out / name / "results.json").read_text()), out / name
    return run
