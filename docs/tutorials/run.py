"""Execute the tutorial notebooks and save them with their outputs.

    python docs/tutorials/run.py                  # all of them (what `make tutorials` does)
    python docs/tutorials/run.py 03_xor.ipynb     # one

Each notebook runs top to bottom in a fresh kernel of this very Python (so it imports the
autodiff installed here), with the notebook's folder as working directory. The saved file
keeps only what the run decides, cell by cell: outputs and execution counts, and no
timestamps or Python version, so running again changes nothing but what the code prints
or draws. The tests (tests/docs/test_tutorials.py) execute the notebooks with the same
`execute` and compare their outputs with the saved ones.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
NOTEBOOKS = sorted(HERE.glob("[0-9][0-9]_*.ipynb"))
TIMEOUT = 300                   # seconds a cell may take before the run is abandoned
METADATA = {                    # the notebook-level metadata every saved tutorial carries
    "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python",
                   "name": "python3"},
    "language_info": {"name": "python", "codemirror_mode": {"name": "ipython", "version": 3},
                      "file_extension": ".py", "mimetype": "text/x-python",
                      "nbconvert_exporter": "python", "pygments_lexer": "ipython3"},
}


def execute(path: Path) -> nbformat.NotebookNode:
    """Run the notebook at `path` from the first cell to the last and return it with the
    new outputs (the file is not changed). A cell that raises stops the run with
    nbclient's CellExecutionError, which shows the cell and the traceback."""
    notebook = nbformat.read(path, as_version=4)
    # No kernel directories: jupyter_client then falls back on ipykernel's own kernel,
    # which is this interpreter, whatever kernels the user has installed elsewhere.
    kernel = AsyncKernelManager(kernel_name="python3",
                                kernel_spec_manager=KernelSpecManager(kernel_dirs=[]))
    client = NotebookClient(notebook, km=kernel, timeout=TIMEOUT, record_timing=False,
                            coalesce_streams=True,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute(cleanup_kc=True)
    return clean(notebook)


def clean(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop what changes from run to run without the code changing: the kernel's
    language_info (it names the Python version), per-cell execution metadata, and the
    plain-text form of a picture (the object's repr, e.g. `<graphviz.graphs.Digraph at
    0x7f3b1413bf90>`, names a new memory address every run)."""
    notebook.metadata = nbformat.from_dict(METADATA)
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if any(kind.startswith("image/") for kind in data):
                data.pop("text/plain", None)
    return notebook


def main(names: list[str]) -> None:
    """Execute the named notebooks (file names in this folder; all when none is named)
    and write each back with its outputs, printing how long each took."""
    paths = [HERE / name for name in names] if names else NOTEBOOKS
    for path in paths:
        start = time.perf_counter()
        notebook = execute(path)
        nbformat.write(notebook, path)
        print(f"{path.name}: executed in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
