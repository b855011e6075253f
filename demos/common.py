"""What every demo shares: the closing comparison table, progress bars, figures, JSON.

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

import matplotlib
import numpy as np
from tqdm import tqdm

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # after matplotlib.use: pyplot picks the backend on import
from matplotlib.figure import Figure

T = TypeVar("T")

DPI = 120               # 120 dpi at 6.4 x 4.8 in gives 768 x 576 px: sharp, and small files
COLUMNS = ("quantity", "document", "ours", "verdict")

__all__ = ["DPI", "fmt", "jsonable", "plt", "print_comparison", "progress", "row",
           "save_figure", "write_json"]


def row(quantity: str, document: Any, ours: Any, verdict: str) -> dict[str, str]:
    """One line of a demo's closing table: what the document reports, what we got, and a
    one-line verdict ("agrees", "document typo: ...", "document wrong: ...")."""
    return {"quantity": str(quantity), "document": str(document), "ours": str(ours),
            "verdict": str(verdict)}


def print_comparison(rows: Sequence[dict[str, str]], title: str = "") -> str:
    """Print `rows` (made by `row`) as a Markdown table with aligned columns, so the same
    text reads well in a terminal and pastes into the README ("|" in a cell is escaped).
    Returns the text."""
    header = dict(zip(COLUMNS, ("what", "document", "ours", "verdict")))
    rows = [{c: r[c].replace("|", "\\|") for c in COLUMNS} for r in rows]   # a bare "|" ends a cell
    widths = {c: max(len(r[c]) for r in [header, *rows]) for c in COLUMNS}

    def line(r: dict[str, str]) -> str:
        return "| " + " | ".join(r[c].ljust(widths[c]) for c in COLUMNS) + " |"

    lines = [line(header), "|" + "|".join("-" * (widths[c] + 2) for c in COLUMNS) + "|"]
    lines += [line(r) for r in rows]
    text = (f"\n{title}\n" if title else "\n") + "\n".join(lines)
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
    try:
        from tqdm import tqdm
    except ImportError:
        print(text, flush=True)
    else:
        tqdm.write(text)
