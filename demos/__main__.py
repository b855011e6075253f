"""The demo runner: `python -m demos [name ...] [--out DIR] [--seed N] [--quick]`.

With no names it runs every demo, in the reading order of `ORDER`; see the package
docstring (`demos/__init__.py`) for what a demo module provides.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import pathlib
import sys
import time
from collections.abc import Sequence
from typing import Any

import autodiff as ad
from demos.common import write_json

# Every demo in reading order. A name is enabled once its module exists in the package.
ORDER = ("gradient_descent", "backprop", "activations_init", "regression", "xor",
         "optimizers", "mnist", "mnist_cnn")


def available() -> list[str]:
    """The demos of `ORDER` whose module exists, in that order."""
    return [name for name in ORDER if importlib.util.find_spec(f"demos.{name}") is not None]


def run_demo(name: str, out: pathlib.Path, seed: int, quick: bool) -> dict[str, Any]:
    """Run one demo into `out/<name>/` from a fresh `ad.manual_seed(seed)` (so a demo
    run alone gives the same numbers as in a full run) and write its results.json."""
    module = importlib.import_module(f"demos.{name}")
    directory = out / name
    directory.mkdir(parents=True, exist_ok=True)
    title = (module.__doc__ or name).strip().splitlines()[0]
    print(f"\n=== {name}: {title}", flush=True)
    ad.manual_seed(seed)
    start = time.perf_counter()
    results = module.run(directory, seed, quick)
    seconds = time.perf_counter() - start
    write_json(directory / "results.json",
               {**results, "run": {"seed": seed, "quick": quick, "seconds": seconds}})
    print(f"--- {name}: {seconds:.1f} s, results and pictures in {directory}/", flush=True)
    return results


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    names = available()
    parser = argparse.ArgumentParser(
        prog="python -m demos",
        description="Run the experiments of the source documents (SEEDS.md), write their "
                    "pictures and results.json, and print each one's comparison table.",
        epilog="available demos: " + ", ".join(names))
    parser.add_argument("names", nargs="*", metavar="name",
                        help="demos to run, in the order given (default: all)")
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("demo-output"),
                        metavar="DIR", help="output directory (default: demo-output/)")
    parser.add_argument("--seed", type=int, default=0, metavar="N", help="random seed (default: 0)")
    parser.add_argument("--quick", action="store_true",
                        help="small settings for a fast run (used by the tests)")
    args = parser.parse_args(argv)
    for name in args.names:
        if name not in names:
            state = "is not written yet" if name in ORDER else "is not a demo"
            parser.error(f"{name!r} {state}; available demos: {', '.join(names)}")
    args.names = args.names or names
    return args


def main(argv: Sequence[str] | None = None) -> dict[str, dict[str, Any]]:
    """Run the demos named in `argv` (default: `sys.argv[1:]`); returns name -> results."""
    args = parse_args(argv)
    return {name: run_demo(name, args.out, args.seed, args.quick) for name in args.names}


if __name__ == "__main__":
    main(sys.argv[1:])
