"""Shared by the demo tests: run one demo in quick mode into a temporary folder, with the
MNIST folder found for the MNIST demos. It calls `run_demo`, so an exception in the demo
fails the test with its own traceback (the runner's `main` would report it and go on)."""
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from demos.__main__ import run_demo

MNIST_DEMOS = ("mnist", "mnist_cnn")


def mnist_folder() -> Path:
    """The folder holding mnist/: $AUTODIFF_DATA, else ../shared/data beside the repo.
    Skips the calling test when the MNIST files are not there."""
    default = Path(__file__).resolve().parents[3] / "shared" / "data"
    folder = Path(os.environ.get("AUTODIFF_DATA") or default)
    if not (folder / "mnist" / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"MNIST files not found in {folder}/mnist")
    return folder


def path_without_dot() -> str:
    """$PATH without the folders that hold Graphviz's `dot` program."""
    return os.pathsep.join(folder for folder in os.environ.get("PATH", "").split(os.pathsep)
                           if not (Path(folder) / "dot").exists())


@pytest.fixture(scope="session")
def run_quick(tmp_path_factory: pytest.TempPathFactory
              ) -> Callable[[str], tuple[dict[str, Any], Path]]:
    """`run_quick(name)` runs `python -m demos name --quick` (seed 0) and returns (its
    results.json as a dict, the folder holding its pictures). Each demo runs once per
    session; later calls read the same results.json again (a fresh dict). The MNIST demos
    get the data folder of `mnist_folder` and skip without it. Every demo but `backprop`
    (whose test looks at its graphs) runs with Graphviz's `dot` removed from $PATH, as on
    a machine without Graphviz: their graph pictures are skipped, the rest runs."""
    done: dict[str, Path] = {}

    def run(name: str) -> tuple[dict[str, Any], Path]:
        if name not in done:
            out = tmp_path_factory.mktemp("demos")
            with pytest.MonkeyPatch.context() as patch:
                if name != "backprop":
                    patch.setenv("PATH", path_without_dot())
                if name in MNIST_DEMOS:
                    patch.setenv("AUTODIFF_DATA", str(mnist_folder()))
                run_demo(name, out, seed=0, quick=True)
            done[name] = out / name
        return json.loads((done[name] / "results.json").read_text()), done[name]
    return run
