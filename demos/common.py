"""What every demo shares: the closing comparison table, progress bars, figures, graph
pictures, JSON.

matplotlib is switched to its Agg backend here, before pyplot is first imported, so the
demos draw PNG files on machines without a display. Demos import pyplot from here:

    from demos.common import plt
"""
from __future__ import annotations

import json
import math
import pathlib
import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

import numpy as np

import autodiff as ad
from autodiff._optional import require

matplotlib = require("matplotlib", "demos", "python -m demos")
tqdm = require("tqdm", "demos", "python -m demos").tqdm
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 (after matplotlib.use: pyplot picks the backend)
from matplotlib.figure import Figure  # noqa: E402

T = TypeVar("T")

DPI = 120               # 120 dpi at 6.4 x 4.8 in gives 768 x 576 px: sharp, and small files
COLUMNS = ("quantity", "document", "ours", "verdict")
GRAPHVIZ_MISSING = ("graph pictures skipped: Graphviz's `dot` program is not on PATH; install "
                    "it with `apt install graphviz`, `brew install graphviz` or `conda install "
                    "graphviz`")

# The pictures of the current run, for the runner's summary: `save_figure` and
# `save_graph` add to them, the runner empties them when a run starts.
written_pictures: list[pathlib.Path] = []
skipped_graphs: list[pathlib.Path] = []

__all__ = ["DPI", "disagrees", "fmt", "jsonable", "markdown_table", "plt", "print_comparison",
           "progress", "row", "save_figure", "save_graph", "say", "write_json"]


def row(quantity: str, document: Any, ours: Any, verdict: str, *,
        agrees: bool | np.bool_ | None = None) -> dict[str, Any]:
    """One line of a demo's closing table: what the document reports, what we got, and a
    one-line verdict ("agrees", "document typo: ...", "document wrong: ...").

    `agrees` says whether this run reproduces what the document reports: True also where
    we show the document wrong and say so, False where we do not reproduce it. It is None
    for rows that only inform (no document claim, "—" in the document column) and for rows
    whose comparison this run does not make (a quick run's "not comparable"). Where a
    condition picks the verdict text, the same boolean is passed here, so the two agree.
    A numpy bool (what comparing numpy numbers gives) is stored as a Python bool; anything
    else but None raises TypeError (a number or a list is no verdict)."""
    if agrees is not None and not isinstance(agrees, (bool, np.bool_)):
        raise TypeError(f"row {quantity!r}: agrees must be a bool or None, not "
                        f"{type(agrees).__name__}")
    return {"quantity": str(quantity), "document": str(document), "ours": str(ours),
            "verdict": str(verdict), "agrees": None if agrees is None else bool(agrees)}


def disagrees(r: dict[str, Any]) -> bool:
    """Whether row `r` says we do not reproduce the document: its `agrees` flag is False
    (None, for a row that only informs, never disagrees; the verdict text is not read)."""
    return r.get("agrees") is False


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """`rows` under `header` as a Markdown table with aligned columns, so the same text
    reads well in a terminal and pastes into the README ("|" in a cell is escaped)."""
    # a bare "|" would end a cell
    cells = [[str(c).replace("|", "\\|") for c in r] for r in [header, *rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]

    def line(r: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(cells[0]), rule, *map(line, cells[1:])])


def print_comparison(rows: Sequence[dict[str, Any]], title: str = "") -> str:
    """Print `rows` (made by `row`) as a Markdown table (see `markdown_table`) under
    `title`. Returns the text."""
    table = markdown_table(("what", "document", "ours", "verdict"),
                           [[r[c] for c in COLUMNS] for r in rows])
    text = (f"\n{title}\n" if title else "\n") + table
    print(text)
    return text


def progress(iterable: Iterable[T], *, quick: bool, total: int | None = None,
             desc: str = "") -> Iterator[T]:
    """`iterable` with a tqdm progress bar on stderr; silent in quick mode and when stderr
    is not a terminal (logs, tests)."""
    if quick or not sys.stderr.isatty():
        return iter(iterable)
    return iter(tqdm(iterable, total=total, desc=desc, leave=False, dynamic_ncols=True))


def save_figure(fig: Figure, path: pathlib.Path) -> pathlib.Path:
    """Write `fig` as a PNG at `DPI` (tight bounding box) and close it to free memory."""
    fig.savefig(path, dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    written_pictures.append(path)
    return path


def save_graph(*outputs: ad.Tensor, path: pathlib.Path, **draw_kwargs: Any
               ) -> pathlib.Path | None:
    """Draw the computation graph of `outputs` into `path` with `ad.viz.save` (which takes
    `draw_kwargs`). Without Graphviz's `dot` program the picture is skipped: the first skip
    of a run prints how to install Graphviz, and None is returned instead of the path."""
    try:
        ad.viz.save(*outputs, path=path, **draw_kwargs)
    except ad.viz.GraphvizNotFoundError:
        if not skipped_graphs:
            say(GRAPHVIZ_MISSING)
        skipped_graphs.append(path)
        return None
    written_pictures.append(path)
    return path


def fmt(value: float, digits: int = 4) -> str:
    """A number for a table: `digits` significant digits, no exponent unless needed."""
    return f"{value:.{digits}g}"


def jsonable(value: Any) -> Any:
    """`value` made of plain JSON types: numpy arrays and scalars become lists and
    Python numbers, tuples lists, paths strings, and non-finite floats the strings
    "nan", "inf" and "-inf" (JSON has no such numbers)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, pathlib.PurePath):
        return str(value)
    return value


def write_json(path: pathlib.Path, data: Any) -> pathlib.Path:
    """Write `data` (through `jsonable`) as indented, strictly valid JSON."""
    path.write_text(json.dumps(jsonable(data), indent=2, allow_nan=False) + "\n",
                    encoding="utf-8")
    return path


def say(text: str) -> None:
    """Print a line without breaking a running tqdm bar (tqdm.write clears it first)."""
    tqdm.write(text)
