"""Optimizer state files: the same safe safetensors format as model files (no pickle).

An optimizer's `state_dict()` is split in two: its arrays (momentum buffers, running
averages) become the file's tensors, named "state.<parameter index>.<key>", and the rest
goes into the metadata as JSON text:

    format          "autodiff.optim"
    format_version  "1"
    class           the optimizer's class name, e.g. "Adam"
    param_groups    the groups' hyperparameters, with "params" as index lists
    scalars         {"<parameter index>": {"step": 12, ...}}, the non-array state

A list of arrays (LBFGS's remembered directions) becomes the tensors
"state.<parameter index>.<key>.<position>"; numpy scalars are stored as JSON numbers.

Loading never executes anything from the file: it reads arrays and JSON, checks them
(`autodiff.io.load_tensors` checks the file itself) and calls `load_state_dict`.
"""
from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from autodiff.errors import ModelFileError
from autodiff.io import load_tensors, save_tensors

from .optimizer import Optimizer

FORMAT = "autodiff.optim"
FORMAT_VERSION = 1


def save_state(optimizer: Optimizer, path: str | os.PathLike) -> None:
    """Save `optimizer.state_dict()` to a safetensors file (written atomically), so that
    `load_state` into an optimizer over the same parameters resumes training exactly.

    >>> import tempfile, pathlib, autodiff as ad, optim
    >>> x = ad.tensor([1.0, 2.0], requires_grad=True)
    >>> opt = optim.Adam([x], lr=0.1)
    >>> (x * x).sum().backward(); opt.step()
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "adam.safetensors"
    >>> optim.save_state(opt, path)
    >>> fresh = optim.Adam([x])
    >>> optim.load_state(fresh, path)
    >>> fresh.state[x]["step"], fresh.param_groups[0]["lr"]
    (1, 0.1)
    """
    state_dict = optimizer.state_dict()
    arrays: dict[str, np.ndarray] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for index, entries in state_dict["state"].items():
        for key, value in entries.items():
            if isinstance(value, np.ndarray):
                arrays[f"state.{index}.{key}"] = value
            elif isinstance(value, list) and value and all(
                    isinstance(item, np.ndarray) for item in value):
                arrays.update({f"state.{index}.{key}.{position}": item
                               for position, item in enumerate(value)})
            else:
                scalars.setdefault(str(index), {})[key] = value
    try:
        groups = json.dumps(state_dict["param_groups"])
    except TypeError as err:
        raise TypeError(f"save_state: a parameter group holds a value JSON cannot store "
                        f"({err}); keep group options to numbers, strings, bools, None, "
                        f"lists and tuples") from err
    save_tensors(path, arrays, {"format": FORMAT, "format_version": str(FORMAT_VERSION),
                                "class": type(optimizer).__name__, "param_groups": groups,
                                "scalars": json.dumps(scalars, default=_number)})


def _number(value: Any) -> Any:
    """JSON for a numpy scalar (or 0-d array) in the state: its Python number."""
    if isinstance(value, (np.generic, np.ndarray)) and np.ndim(value) == 0:
        return value.item()
    raise TypeError(f"save_state: the optimizer's state holds a {type(value).__name__}, "
                    f"which an optimizer state file cannot store")


def load_state(optimizer: Optimizer, path: str | os.PathLike) -> None:
    """Load a file written by `save_state` into `optimizer` (of the same class, over the
    same parameters in the same groups). Raises ModelFileError naming the file when it
    is not such a file, is damaged, or holds another optimizer's state."""
    source = os.fspath(path)
    arrays, metadata = load_tensors(path)
    if metadata.get("format") != FORMAT:
        raise ModelFileError(f"{source}: not an optimizer state file (its format is "
                             f"{metadata.get('format')!r}, expected {FORMAT!r}); write one "
                             f"with optim.save_state(optimizer, path)")
    if metadata.get("format_version") != str(FORMAT_VERSION):
        raise ModelFileError(f"{source}: optimizer state format version "
                             f"{metadata.get('format_version')!r}; this autodiff reads "
                             f"version {FORMAT_VERSION}, upgrade it")
    if metadata.get("class") != type(optimizer).__name__:
        raise ModelFileError(f"{source}: holds the state of an optimizer of class "
                             f"{metadata.get('class')}, not {type(optimizer).__name__}")
    try:
        groups = json.loads(metadata["param_groups"])
        scalars = json.loads(metadata["scalars"])
    except (KeyError, ValueError) as err:
        raise ModelFileError(f"{source}: tampered optimizer state file: its param_groups "
                             f"or scalars metadata is missing or not JSON ({err})") from err
    if not isinstance(groups, list) or not isinstance(scalars, dict) or not all(
            index.isdigit() and isinstance(entries, dict) for index, entries in scalars.items()):
        raise ModelFileError(f"{source}: tampered optimizer state file: param_groups must "
                             f"be a list and scalars map parameter indices to objects")
    state: dict[int, dict[str, Any]] = {}
    listed: dict[tuple[int, str], dict[int, np.ndarray]] = {}
    for name, array in arrays.items():
        parts = name.split(".")
        if len(parts) not in (3, 4) or parts[0] != "state" or not parts[1].isdigit() \
                or (len(parts) == 4 and not parts[3].isdigit()):
            raise ModelFileError(f"{source}: tampered optimizer state file: unexpected "
                                 f"tensor {name!r}, expected 'state.<index>.<key>' or "
                                 f"'state.<index>.<key>.<position>'")
        if len(parts) == 3:
            state.setdefault(int(parts[1]), {})[parts[2]] = array
        else:
            listed.setdefault((int(parts[1]), parts[2]), {})[int(parts[3])] = array
    for (index, key), items in listed.items():
        if sorted(items) != list(range(len(items))):
            raise ModelFileError(f"{source}: tampered optimizer state file: the list "
                                 f"'state.{index}.{key}' has positions {sorted(items)}, "
                                 f"expected 0 to {len(items) - 1}")
        state.setdefault(index, {})[key] = [items[position] for position in range(len(items))]
    for index, entries in scalars.items():
        state.setdefault(int(index), {}).update(entries)
    if not all(isinstance(group, dict) for group in groups):
        raise ModelFileError(f"{source}: tampered optimizer state file: each parameter group "
                             f"must be an object, got {groups!r:.200}")
    for group in groups:
        group.update({key: tuple(value) for key, value in group.items()
                      if isinstance(value, list) and key != "params"})
    try:
        optimizer.load_state_dict({"state": state, "param_groups": groups})
    except (KeyError, ValueError, TypeError) as err:
        raise ModelFileError(f"{source}: the saved state does not fit this "
                             f"{type(optimizer).__name__}: {err}") from err
