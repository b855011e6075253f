"""Model files: safetensors holding the weights, with the architecture as JSON in the
metadata, so a model of nn's own layers is rebuilt without its code and without running
any code from the file.

The file format itself (header checks, atomic writes) is `autodiff.io`'s, shared with
optimizer state files.

The metadata of a model file, `nn.save(model, path)` (all values strings, as safetensors
requires):

    format          "autodiff.nn"
    format_version  "1"
    class           the model's class name
    training        "true" or "false": the model's mode when saved
    architecture    the JSON of `architecture_to_json` (absent for user-defined classes)

A state-dict file, `nn.save(model.state_dict(), path)` (PyTorch's `torch.save` habit),
holds the tensors alone, and `nn.load(path)` gives the state dict back. Its metadata:

    format          "autodiff.nn"
    format_version  "1"
    contents        "state_dict"
    keys            the JSON list of the keys in the state dict's order

The architecture JSON is `{"format": "autodiff.nn", "version": 1, "model": node}`, a node
being `{"class": "Linear", "hyperparameters": {"in_features": 2, ...}}` plus, for
containers, `"children": [{"name": "0", "class": ..., ...}, ...]` in order. It is written
by `Module.to_json` (nn.module, where layers describe themselves) and read here. A
hyperparameter missing from a file (one the layer gained after the file was saved)
takes its constructor default.
"""
from __future__ import annotations

import collections
import itertools
import json
import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from autodiff import Tensor, from_numpy, random
from autodiff.errors import AutodiffError, ModelFileError
from autodiff.io import load_tensors, no_duplicate_keys, save_tensors

from .module import (
    BUILTIN_LAYERS,
    FORMAT,
    FORMAT_VERSION,
    Module,
    architecture_to_json,
    constructor_defaults,
    foreign_layer,
)

MAX_DEPTH = 32          # deepest nesting of containers an architecture may have


# ------------------------------------------------------------------ architecture from JSON

def from_json(text: str) -> Module:
    """A new model (freshly initialised) of the architecture `text`, as written by
    `model.to_json()`. Only nn's own layer classes are accepted; nothing is executed.

    >>> import nn
    >>> text = architecture_to_json(nn.Sequential(nn.Linear(2, 1), nn.Sigmoid()))
    >>> nn.from_json(text)
    Sequential(
      (0): Linear(in_features=2, out_features=1, bias=True)
      (1): Sigmoid()
    )
    """
    return _build(parse_architecture(text, "architecture JSON"), "architecture JSON")


def parse_architecture(text: str, source: str) -> dict[str, Any]:
    """The checked model node of an architecture JSON text."""
    try:
        document = json.loads(text, object_pairs_hook=no_duplicate_keys)
    except (TypeError, ValueError, RecursionError) as err:
        raise ModelFileError(f"{source}: the architecture is not valid JSON ({err})") from err
    if not isinstance(document, dict) or document.get("format") != FORMAT \
            or set(document) != {"format", "version", "model"}:
        raise ModelFileError(f"{source}: not an autodiff architecture: expected a JSON object "
                             f"with format {FORMAT!r}, version and model")
    if document["version"] != FORMAT_VERSION:
        raise ModelFileError(f"{source}: architecture format version {document['version']!r}; "
                             f"this autodiff reads version {FORMAT_VERSION}, upgrade it")
    _check_node(document["model"], source, "the model", 0)
    return document["model"]


def _check_node(node: Any, source: str, where: str, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise ModelFileError(f"{source}: {where} is nested more than {MAX_DEPTH} deep")
    if not isinstance(node, dict) or not {"class", "hyperparameters"} <= set(node) \
            or not set(node) <= {"name", "class", "hyperparameters", "children"}:
        raise ModelFileError(f"{source}: {where}: expected an object with class, "
                             f"hyperparameters and optionally children, got {node!r:.200}")
    if not isinstance(node["class"], str) or node["class"] not in BUILTIN_LAYERS:
        raise ModelFileError(f"{source}: {where} is of class {node['class']!r}, which is not "
                             f"one of nn's own layers; loading never runs code, so only "
                             f"{sorted(BUILTIN_LAYERS)} can be rebuilt")
    if not isinstance(node["hyperparameters"], dict):
        raise ModelFileError(f"{source}: {where}: hyperparameters must be an object, got "
                             f"{node['hyperparameters']!r:.200}")
    children = node.get("children", [])
    if not isinstance(children, list):
        raise ModelFileError(f"{source}: {where}: children must be a list")
    if children and not BUILTIN_LAYERS[node["class"]].HOLDS_LAYERS:
        raise ModelFileError(f"{source}: {where} is a {node['class']}, which holds no "
                             f"layers, but the architecture gives it "
                             f"{[c.get('name') if isinstance(c, dict) else c for c in children]}")
    names = []
    for child in children:
        name = child.get("name") if isinstance(child, dict) else None
        if not isinstance(name, str) or not name or "." in name or name in names:
            raise ModelFileError(f"{source}: {where}: each child needs a unique name without "
                                 f"dots, got {name!r}")
        names.append(name)
        _check_node(child, source, f"layer {name!r} of {where}", depth + 1)


def _build(node: dict[str, Any], source: str, where: str = "the model") -> Module:
    """Construct the module of a checked node: its class from nn's registry, called with
    its hyperparameters, then (for containers) its children added in order."""
    cls = BUILTIN_LAYERS[node["class"]]
    try:
        module = cls(**node["hyperparameters"])
    except (TypeError, ValueError, MemoryError, AutodiffError) as err:
        raise _cannot_build(node, source, where, err) from err
    for child in node.get("children", []):
        layer = _build(child, source, f"layer {child['name']!r} of {where}")
        try:
            module.add_module(child["name"], layer)
        except KeyError as err:
            raise ModelFileError(f"{source}: {where}: cannot add its layer {child['name']!r}: "
                                 f"{err.args[0]}") from err
    return module


def _cannot_build(node: dict[str, Any], source: str, where: str,
                  err: Exception) -> ModelFileError:
    return ModelFileError(f"{source}: cannot build {where} as {node['class']} with "
                          f"hyperparameters {node['hyperparameters']}: {err}")


def _declared_shapes(node: dict[str, Any], source: str, where: str = "the model",
                     prefix: str = "") -> dict[str, tuple[int, ...]]:
    """The `state_dict` shapes of the checked architecture `node`, by key, worked out from
    its hyperparameters without building any layer."""
    try:
        shapes = BUILTIN_LAYERS[node["class"]].state_shapes(**node["hyperparameters"])
        declared = {prefix + key: tuple(int(n) for n in shape) for key, shape in shapes.items()}
    except (TypeError, ValueError, AutodiffError) as err:
        raise _cannot_build(node, source, where, err) from err
    for child in node.get("children", []):
        declared |= _declared_shapes(child, source, f"layer {child['name']!r} of {where}",
                                     f"{prefix}{child['name']}.")
    return declared


def _check_tensors_fit(node: dict[str, Any], arrays: dict[str, np.ndarray], source: str,
                       strict: bool) -> None:
    """Refuse a file whose architecture declares other tensors (names or shapes) than the
    file holds, before the model is built: a small file cannot make `load` allocate and
    initialise a large model. With `strict=False` the file may hold extra tensors."""
    declared = _declared_shapes(node, source)
    held = {key: array.shape for key, array in arrays.items()}
    problems = [f"{key}: {shape} declared, not in the file" for key, shape in declared.items()
                if key not in held]
    problems += [f"{key}: {declared[key]} declared, {held[key]} in the file"
                 for key in declared if key in held and held[key] != declared[key]]
    if strict:
        problems += [f"{key}: in the file, not declared" for key in held if key not in declared]
    if problems:
        raise ModelFileError(f"{source}: the architecture does not fit the tensors the file "
                             f"holds (checked before building it): " + "; ".join(problems[:5])
                             + (f"; and {len(problems) - 5} more" if len(problems) > 5 else ""))


# ------------------------------------------------------------------ whole models

def save(obj: Any, path: str | os.PathLike) -> None:
    """Save a model, or a state dict of tensors, to a safetensors file. Written to a
    temporary file and renamed, so a crash never leaves half a file.

    `nn.save(model, path)` writes the model's `state_dict` under the same keys, and in the
    metadata its architecture (when it is built from nn's own layers) and mode. The file
    loads back with `nn.load(path)`, or into PyTorch with
    `model.load_state_dict(safetensors.torch.load_file(path))`.

    `nn.save(model.state_dict(), path)`, as with torch.save, writes the tensors alone;
    `nn.load(path)` returns them as the state dict, for `model.load_state_dict`.

    A checkpoint dict ({"model": ..., "optimizer": ..., "epoch": ...}) is refused: save
    the model with `nn.save(model, path)` and the optimizer with `optim.save_state`.
    """
    if isinstance(obj, Module):
        _save_model(obj, path)
    elif isinstance(obj, Mapping):
        _save_state_dict(obj, path)
    else:
        hint = ("; save an optimizer with optim.save_state(optimizer, path)"
                if hasattr(obj, "param_groups") else "")     # duck-typed: nn never imports optim
        raise TypeError(f"nn.save: expected a model (an nn.Module) or a state dict "
                        f"(model.state_dict()), got {type(obj).__name__}{hint}")


def _save_model(model: Module, path: str | os.PathLike) -> None:
    metadata = {"format": FORMAT, "format_version": str(FORMAT_VERSION),
                "class": type(model).__name__, "training": json.dumps(bool(model.training))}
    if foreign_layer(model) is None:       # else weights only: load them into an instance
        metadata["architecture"] = architecture_to_json(model)
    save_tensors(path, {key: value.numpy() for key, value in model.state_dict().items()},
                 metadata)


def _save_state_dict(state_dict: Mapping[Any, Any], path: str | os.PathLike) -> None:
    others = [f"{key!r} ({type(value).__name__})" for key, value in state_dict.items()
              if not isinstance(value, (Tensor, np.ndarray))]
    if others:
        raise TypeError(f"nn.save: the dict holds {', '.join(others[:4])}"
                        f"{', ...' if len(others) > 4 else ''}: values that are not tensors. "
                        f"It looks like a torch.save checkpoint, but a safetensors file holds "
                        f"tensors only (so loading never runs code). Save the model with "
                        f"nn.save(model, path) and the optimizer with "
                        f"optim.save_state(optimizer, path); keep numbers such as the epoch "
                        f"in the file name or a JSON file")
    save_tensors(path, dict(state_dict),
                 {"format": FORMAT, "format_version": str(FORMAT_VERSION),
                  "contents": "state_dict", "keys": json.dumps(list(state_dict))})


def load(path: str | os.PathLike, model: Any = None, strict: bool = True) -> Any:
    """Load a model file written by `nn.save` (or any safetensors state dict).

    `nn.load(path)` rebuilds the model from the architecture in the file, without its
    code, in the mode (train or eval) it was saved in. `nn.load(path, model)` loads the
    weights into `model` (its mode is left alone) and returns it; with `strict=True`
    its architecture must equal the file's (classes and hyperparameters) when both are
    known, and its `state_dict` keys and shapes must match the file's.

    For a file of `nn.save(model.state_dict(), path)`, `nn.load(path)` returns that
    state dict (an OrderedDict of tensors, in the saved order), as torch.load does.

    Raises ModelFileError naming the file when it is truncated, tampered with, pickled,
    names a class that is not nn's own, or holds another architecture.
    """
    source = os.fspath(path)
    rebuild = model is None
    arrays, metadata = load_tensors(path)
    if metadata.get("format") == FORMAT and metadata.get("format_version") != str(FORMAT_VERSION):
        raise ModelFileError(f"{source}: model file format version "
                             f"{metadata.get('format_version')!r}; this autodiff reads version "
                             f"{FORMAT_VERSION}, upgrade it")
    if rebuild and metadata.get("contents") == "state_dict":
        return _state_dict(arrays, metadata, source)
    text = metadata.get("architecture")
    if rebuild:
        if text is None:
            saved = metadata.get("class", "a model saved outside autodiff")
            raise ModelFileError(f"{source}: the file holds weights but no architecture (the "
                                 f"model was {saved}); create the model and load into it: "
                                 f"nn.load(path, model)")
        training = metadata.get("training", "true")
        if training not in ("true", "false"):
            raise ModelFileError(f"{source}: tampered model file: training must be \"true\" "
                                 f"or \"false\", got {training!r:.50}")
        architecture = parse_architecture(text, source)
        _check_tensors_fit(architecture, arrays, source, strict)
        state = random.generator().bit_generator.state   # rebuilding must not shift the stream
        try:
            model = _build(architecture, source)
        finally:
            random.generator().bit_generator.state = state
        model.train(training == "true")
    elif strict and text is not None:
        _check_same_architecture(model, parse_architecture(text, source), source)
    try:
        if rebuild:
            _take_dtypes(model, arrays)
        model.load_state_dict(arrays, strict=strict)
    except (KeyError, ValueError, RuntimeError, AutodiffError) as err:
        raise ModelFileError(f"{source}: the weights do not fit the {type(model).__name__} "
                             f"model: {err}") from err
    return model


def _state_dict(arrays: dict[str, np.ndarray], metadata: dict[str, str], source: str
                ) -> collections.OrderedDict[str, Tensor]:
    """The state dict of a state-dict file, in the order its "keys" metadata gives."""
    try:
        keys = json.loads(metadata.get("keys", ""))
    except ValueError as err:
        raise ModelFileError(f"{source}: tampered state dict file: its keys metadata is "
                             f"missing or not JSON ({err})") from err
    if not isinstance(keys, list) or not all(isinstance(key, str) for key in keys) \
            or len(keys) != len(arrays) or set(keys) != set(arrays):
        raise ModelFileError(f"{source}: tampered state dict file: its keys metadata "
                             f"{keys!r:.200} does not list the file's tensors "
                             f"{sorted(arrays)!r:.200}")
    return collections.OrderedDict((key, from_numpy(arrays[key])) for key in keys)


def _take_dtypes(model: Any, arrays: dict[str, np.ndarray]) -> None:
    """Give a freshly built model's parameters and buffers the dtypes of the file's, so a
    float64 model comes back float64 (load_state_dict keeps the model's dtypes, as torch's
    does)."""
    for key, tensor in itertools.chain(model.named_parameters(), model.named_buffers()):
        if key in arrays and tensor.dtype != arrays[key].dtype:
            tensor.data = tensor.numpy().astype(arrays[key].dtype)


def _check_same_architecture(model: Module, saved: dict[str, Any], source: str) -> None:
    if foreign_layer(model) is not None:
        return                             # a user-defined model: the state_dict keys decide
    current = json.loads(architecture_to_json(model))["model"]
    difference = _first_difference(saved, current, "the model")
    if difference:
        raise ModelFileError(f"{source}: the file holds another architecture: {difference}; "
                             f"load it with nn.load(path) to get the saved model, or pass "
                             f"strict=False to load matching weights anyway")


def _first_difference(saved: dict[str, Any], current: dict[str, Any], where: str) -> str | None:
    if saved["class"] != current["class"]:
        return f"{where} is {saved['class']} in the file, {current['class']} here"
    if _completed(saved) != _completed(current):
        return (f"{where} ({saved['class']}) has hyperparameters {saved['hyperparameters']} "
                f"in the file, {current['hyperparameters']} here")
    saved_children, current_children = saved.get("children", []), current.get("children", [])
    names = [c["name"] for c in saved_children], [c["name"] for c in current_children]
    if names[0] != names[1]:
        return f"{where} has layers {names[0]} in the file, {names[1]} here"
    for a, b in zip(saved_children, current_children, strict=True):
        difference = _first_difference(a, b, f"layer {a['name']!r} of {where}")
        if difference:
            return difference
    return None


def _completed(node: dict[str, Any]) -> dict[str, Any]:
    """A node's hyperparameters with the constructor's defaults filled in for those it
    does not give (in JSON's form: tuples as lists), so a file saved before its layer
    gained a setting matches the layer built today."""
    defaults = constructor_defaults(BUILTIN_LAYERS[node["class"]])
    return json.loads(json.dumps(defaults | node["hyperparameters"]))
