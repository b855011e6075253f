"""The demo runner: `python -m demos [name ...] [--out DIR] [--seed N] [--quick]`.

With no names it runs every demo, in the reading order of `ORDER`; see the package
docstring (`demos/__init__.py`) for what a demo module provides. A demo that raises is
reported and the others still run. The run ends with one summary table; the exit status
is 0 only if every demo ran and none disagrees with its document.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import pathlib
import sys
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import autodiff as ad
from demos import common
from demos.common import markdown_table, write_json

# Every demo in reading order. A name is enabled once its module exists in the package.
ORDER = ("gradient_descent", "backprop", "activations_init", "regression", "xor",
         "optimizers", "mnist", "mnist_cnn", "char_lm")


@dataclass
class Outcome:
    """How one demo of a run went, for the summary."""
    name: str
    verdict: str          # "agrees", "disagrees" or "failed"
    why: str              # for "disagrees" the rows that do, for "failed" the error
    seconds: float
    written: int          # pictures written
    skipped: int          # graph pictures skipped for want of Graphviz's `dot`


def available() -> list[str]:
    """The demos of `ORDER` whose module exists, in that order."""
    return [name for name in ORDER if importlib.util.find_spec(f"demos.{name}") is not None]


def run_demo(name: str, out: pathlib.Path, seed: int, quick: bool) -> dict[str, Any]:
    """Run one demo into `out/<name>/` from a fresh `ad.manual_seed(seed)` (so a demo
    run alone gives the same numbers as in a full run) and write its results.json, with
    "run": the seed, the mode, the seconds, the pictures written and the graph pictures
    skipped. Exceptions from the demo propagate."""
    module = importlib.import_module(f"demos.{name}")
    directory = out / name
    directory.mkdir(parents=True, exist_ok=True)
    title = (module.__doc__ or name).strip().splitlines()[0]
    print(f"\n=== {name}: {title}", flush=True)
    ad.manual_seed(seed)
    written, skipped = len(common.written_pictures), len(common.skipped_graphs)
    start = time.perf_counter()
    results = module.run(directory, seed, quick)
    seconds = time.perf_counter() - start
    run = {"seed": seed, "quick": quick, "seconds": seconds,
           "pictures": [path.name for path in common.written_pictures[written:]],
           "graphs_skipped": [path.name for path in common.skipped_graphs[skipped:]]}
    write_json(directory / "results.json", {**results, "run": run})
    print(f"--- {name}: {seconds:.1f} s, results and pictures in {directory}/", flush=True)
    return results


def verdict(results: dict[str, Any]) -> tuple[str, str]:
    """A demo disagrees with its document when any row of its comparison does (see
    `common.disagrees`). Returns the verdict and which rows disagree."""
    rows = results.get("comparison", [])
    against = [r["quantity"] for r in rows if common.disagrees(r)]
    if against:
        return "disagrees", f"{len(against)} of {len(rows)} rows: " + "; ".join(against)
    return "agrees", ""


def run_all(names: Sequence[str], out: pathlib.Path, seed: int, quick: bool) -> list[Outcome]:
    """Run the demos `names` in order with `run_demo`. A demo that raises gets its
    traceback and a line "demo X failed: ..." printed, and the next one runs."""
    common.written_pictures.clear()
    common.skipped_graphs.clear()
    outcomes = []
    for name in names:
        written, skipped = len(common.written_pictures), len(common.skipped_graphs)
        start = time.perf_counter()
        try:
            results = run_demo(name, out, seed, quick)
        except Exception as error:
            sys.stdout.flush()                      # the demo's output before its traceback
            traceback.print_exc()
            message = f"{type(error).__name__}: {error}".splitlines()[0]
            print(f"demo {name} failed: {message}", flush=True)
            judged = "failed", message
        else:
            judged = verdict(results)
        outcomes.append(Outcome(name, *judged, time.perf_counter() - start,
                                len(common.written_pictures) - written,
                                len(common.skipped_graphs) - skipped))
    return outcomes


def summary(outcomes: Sequence[Outcome]) -> str:
    """The closing table, one line per demo with its verdict, seconds and pictures, then
    one line per demo that disagrees or failed saying why."""
    def pictures(o: Outcome) -> str:
        graphs = "graph" if o.skipped == 1 else "graphs"
        skipped = f", {o.skipped} {graphs} skipped (no `dot`)" if o.skipped else ""
        return f"{o.written} PNG written{skipped}"

    table = markdown_table(("demo", "verdict", "seconds", "pictures"),
                           [[o.name, o.verdict, f"{o.seconds:.1f}", pictures(o)]
                            for o in outcomes])
    return "\n".join([table, *(f"{o.name} {o.verdict}: {o.why}" for o in outcomes if o.why)])


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line: demo names (all when none; an unknown name is an error), `--out`,
    `--seed` and `--quick`."""
    names = available()
    parser = argparse.ArgumentParser(
        prog="python -m demos",
        description="Run the experiments of the source documents (docs/sources.md), write "
                    "their pictures and results.json, and print each one's comparison table, "
                    "then a summary. Exit status 0 only if every demo ran and none disagrees "
                    "with its document.",
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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demos named in `argv` (default: `sys.argv[1:]`), print the summary and
    return the exit status: 0 if every demo ran and agrees with its document, else 1."""
    args = parse_args(argv)
    outcomes = run_all(args.names, args.out, args.seed, args.quick)
    print("\nsummary\n" + summary(outcomes), flush=True)
    return 0 if all(o.verdict == "agrees" for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
