"""Optional dependencies: packages that only some features need, imported when first used.

`import autodiff`, `import nn` and `import optim` need numpy only. Model and optimizer
files need safetensors, graph drawings need graphviz, the demos need matplotlib and tqdm;
pyproject.toml names them as the extras io, viz and demos. A feature imports its package
with `require`, which turns a missing package into an error that says what to install.
"""
from __future__ import annotations

import importlib
from types import ModuleType

from .errors import AutodiffError

EXTRAS = {"io": ("safetensors",), "viz": ("graphviz",), "demos": ("matplotlib", "tqdm")}
"""pyproject.toml's optional dependencies: extra -> the packages it installs."""


class MissingDependencyError(AutodiffError, ModuleNotFoundError):
    """A feature needs an optional package that is not installed."""


def require(module: str, extra: str, purpose: str) -> ModuleType:
    """Import `module` (e.g. "safetensors.numpy") and return it. When its package is not
    installed, raise MissingDependencyError saying that `purpose` (the operation, e.g.
    "viz.draw") needs it and how to install it: by name, or as the `extra` of a clone of
    this repository.

    >>> require("numpy.linalg", "io", "this example").__name__
    'numpy.linalg'
    """
    package = module.partition(".")[0]
    try:
        importlib.import_module(package)
    except ModuleNotFoundError as err:
        if err.name != package:         # the package is there but broken: show that error
            raise
        raise MissingDependencyError(
            f"{purpose}: needs the {package} package, which is not installed. Install it "
            f"with `pip install {' '.join(EXTRAS[extra])}`, or in a clone of this repository "
            f"with `pip install -e \".[{extra}]\"`. (The packages named autodiff, nn and optim "
            f"on PyPI are unrelated projects: installing them does not help.)",
            name=package) from None
    return importlib.import_module(module)
