"""The experiments of the five source documents (docs/sources.md), one readable module each.

Run them with `python -m demos` (all, in reading order) or `python -m demos <name> ...`;
options `--out DIR` (default `demo-output/`), `--seed N` (default 0) and `--quick` (small
settings, used by the tests). Each demo writes into `DIR/<name>/`: its pictures (PNG) and
`results.json`, and ends by printing a table of what the document reports beside what we
got.

Writing a demo
--------------
A demo is one module `demos/<name>.py`, written to be read top to bottom like a worked
example. It has:

- a docstring whose first line says what it shows, naming its source document by
  number (e.g. "document 003", see docs/sources.md), followed by the experiment in a few lines;
- `run(out: pathlib.Path, seed: int, quick: bool) -> dict`, which does the experiment,
  saves its pictures into `out` (the directory exists), prints its closing table with
  `common.print_comparison(rows)` and returns a JSON-able dict holding those rows under
  "comparison" plus the real numbers the tests check. Each `common.row(...)` passes
  `agrees=`: True where the run reproduces the document (or shows it wrong and says so),
  False where it does not, None where the row only informs or the run makes no
  comparison; where a condition picks the verdict text, the same boolean is the flag.
  The runner reads only the flag: a demo disagrees when one of its rows has False.

The runner (`demos/__main__.py`) lists the demos in reading order in `ORDER`; a name is
enabled as soon as its module exists. For each demo it makes `DIR/<name>/`, calls
`ad.manual_seed(seed)` (every random draw goes through autodiff's one generator, so a
demo run alone gives the same numbers as in a full run), calls `run`, and writes the
returned dict to `results.json`, adding `"run": {"seed", "quick", "seconds"}`.

`demos/common.py` holds the shared pieces: `row(...)` and `print_comparison(rows)` for
the table, `progress(iterable, quick=...)` for tqdm bars on long loops, `plt` (pyplot on
the Agg backend) and `save_figure(fig, path)` for PNGs, `fmt` for numbers, and
`write_json` / `jsonable` (numpy values and non-finite floats made valid JSON).

In `--quick` mode a demo cuts its sizes (epochs, samples) so that it runs in a few
seconds, except where a number is itself the point of the experiment (the document's
15,000 epochs in gradient_descent stay). Tests in `tests/demos/` run each demo quickly
and assert the numbers in its results.json.
"""
