"""Shared by the demo tests: run one demo in quick mode into a temporary folder; run an
MNIST demo with the data folder found."""
import json
import os
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


@pytest.fixture(scope="session")
def run_mnist_demo() -> Callable[..., tuple[dict[str, Any], Path]]:
    """`run_mnist_demo(name, out, *options)` runs `python -m demos name --out out ...` with
    $AUTODIFF_DATA pointing at the MNIST files (else ../shared/data beside the repo;
    skipped when they are missing) and returns (results.json as a dict, the picture
    folder)."""
    default = Path(__file__).resolve().parents[3] / "shared" / "data"
    folder = Path(os.environ.get("AUTODIFF_DATA") or default)
    if not (folder / "mnist" / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"MNIST files not found in {folder}/mnist")

    def run(name: str, out: Path, *options: str) -> tuple[dict[str, Any], Path]:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("AUTODIFF_DATA", str(folder))
            main([name, "--out", str(out), *options])
        return json.loads((out / name / "results.json").read_text()), out / name
    return run
