"""Shared by the demo tests: run one demo in quick mode into a temporary folder; run an
MNIST demo with the data folder found. Both call `run_demo`, so an exception in the demo
fails the test with its own traceback (the runner's `main` would report it and go on)."""
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from demos.__main__ import parse_args, run_demo

MNIST_DEMOS = ("mnist", "mnist_cnn")


def mnist_folder() -> Path:
    """The folder holding mnist/: $AUTODIFF_DATA, else ../shared/data beside the repo.
    Skips the calling test when the MNIST files are not there."""
    default = Path(__file__).resolve().parents[3] / "shared" / "data"
    folder = Path(os.environ.get("AUTODIFF_DATA") or default)
    if not (folder / "mnist" / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"MNIST files not found in {folder}/mnist")
    return folder


@contextmanager
def mnist_data(folder: Path) -> Iterator[None]:
    """$AUTODIFF_DATA set to `folder` for the duration."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AUTODIFF_DATA", str(folder))
        yield


@pytest.fixture(scope="session")
def run_quick(tmp_path_factory: pytest.TempPathFactory
              ) -> Callable[[str], tuple[dict[str, Any], Path]]:
    """`run_quick(name)` runs `python -m demos name --quick` (seed 0) and returns (its
    results.json as a dict, the folder holding its pictures). Each demo runs once per
    session; later calls read the same results.json again (a fresh dict). The MNIST demos
    get the data folder of `mnist_folder` and skip without it."""
    done: dict[str, Path] = {}

    def run(name: str) -> tuple[dict[str, Any], Path]:
        if name not in done:
            out = tmp_path_factory.mktemp("demos")
            if name in MNIST_DEMOS:
                with mnist_data(mnist_folder()):
                    run_demo(name, out, seed=0, quick=True)
            else:
                run_demo(name, out, seed=0, quick=True)
            done[name] = out / name
        return json.loads((done[name] / "results.json").read_text()), done[name]
    return run


@pytest.fixture(scope="session")
def run_mnist_demo() -> Callable[..., tuple[dict[str, Any], Path]]:
    """`run_mnist_demo(name, out, *options)` runs `python -m demos name --out out ...` with
    $AUTODIFF_DATA pointing at the MNIST files (else ../shared/data beside the repo;
    skipped when they are missing) and returns (results.json as a dict, the picture
    folder)."""
    folder = mnist_folder()

    def run(name: str, out: Path, *options: str) -> tuple[dict[str, Any], Path]:
        with mnist_data(folder):
            args = parse_args([name, "--out", str(out), *options])
            run_demo(name, args.out, args.seed, args.quick)
        return json.loads((out / name / "results.json").read_text()), out / name
    return run
