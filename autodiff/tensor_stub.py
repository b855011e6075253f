"""Writes `autodiff/tensor.pyi`: the Tensor class as editors and type checkers see it.

Tensor's methods are registered at import time by the modules that define the ops
(`register_methods`), so a static reader of tensor.py sees only the core. The stub lists
every method and property from the imported class, grouped by the module that registers
it, with the signatures and first docstring lines of the functions themselves.
`python -m autodiff.tensor_stub` rewrites it; a test fails when it is out of date.
"""
from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import autodiff  # noqa: F401 (registers every method on Tensor)

core = importlib.import_module("autodiff.tensor")    # (ad.tensor is the function)

STUB_PATH = Path(core.__file__).with_suffix(".pyi")
HEADER = '''# Tensor as editors see it: every method, including those registered by the op modules.
# Written by `python -m autodiff.tensor_stub` from the imported class; do not edit.
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

Axis = int | Sequence[int] | None
'''
# names an annotation may use in the stub; any other makes that annotation Any
KNOWN_NAMES = {"Tensor", "Any", "Axis", "Callable", "Iterator", "Sequence", "int", "float",
               "bool", "str", "None", "tuple", "list", "dict", "type", "object", "slice"}
SLOT_TYPES = {"_data": "np.ndarray", "_grad": "Tensor | None", "_requires_grad": "bool",
              "name": "str | None"}


def _annotation(text: Any) -> str:
    """An annotation as stub text; Any when it names something the stub does not import."""
    if text is inspect.Parameter.empty:
        return ""
    text = text if isinstance(text, str) else getattr(text, "__name__", repr(text))
    names = re.findall(r"[A-Za-z_][A-Za-z_0-9.]*", text)
    known = all(name in KNOWN_NAMES or name.startswith("np.") for name in names)
    return text if known else "Any"


def _signature(function: Callable[..., Any]) -> str:
    """`(self, dim: Axis = ..., *, keepdim: bool = ...) -> Tensor`: defaults as `...`."""
    signature = inspect.signature(function)
    parts, star_done = [], False
    for parameter in signature.parameters.values():
        if parameter.kind is parameter.KEYWORD_ONLY and not star_done:
            parts.append("*")
        star_done = star_done or parameter.kind in (parameter.KEYWORD_ONLY,
                                                    parameter.VAR_POSITIONAL)
        prefix = {parameter.VAR_POSITIONAL: "*", parameter.VAR_KEYWORD: "**"}.get(
            parameter.kind, "")
        annotation = _annotation(parameter.annotation)
        text = prefix + parameter.name + (f": {annotation}" if annotation else "")
        if parameter.default is not parameter.empty:
            text += " = ..." if annotation else "=..."
        parts.append(text)
        if parameter.kind is parameter.POSITIONAL_ONLY:
            parts.append("/")
    returned = _annotation(signature.return_annotation) or "Any"
    return f"({', '.join(parts)}) -> {returned}"


def _doc_line(thing: Any) -> str:
    """The first paragraph of thing's own docstring, on one line, or "" without one."""
    doc = inspect.cleandoc(thing.__doc__ or "")
    summary = " ".join(doc.split("\n\n")[0].split())
    return f"        {summary!r}\n" if summary else ""


def _members() -> dict[str, list[tuple[str, Any]]]:
    """Tensor's public and private members, grouped by the module that defines them."""
    groups: dict[str, list[tuple[str, Any]]] = {}
    for name, member in vars(core.Tensor).items():
        function = member.fget if isinstance(member, property) else member
        function = function.__func__ if isinstance(function, (classmethod, staticmethod)) \
            else function
        if callable(function):      # object's slot wrappers (__hash__) count as the core
            module = getattr(function, "__module__", None) or core.__name__
            groups.setdefault(module, []).append((name, member))
    return groups


def _member_text(name: str, member: Any) -> str:
    if isinstance(member, property):
        text = f"    @property\n    def {name}{_signature(member.fget)}:\n"
        text += _doc_line(member.fget) or "        ...\n"
        if member.fset is not None:
            text += f"    @{name}.setter\n    def {name}{_signature(member.fset)}: ...\n"
        return text
    if isinstance(member, classmethod):
        return f"    @classmethod\n    def {name}{_signature(member.__func__)}:\n" + \
            (_doc_line(member.__func__) or "        ...\n")
    return f"    def {name}{_signature(member)}:\n" + (_doc_line(member) or "        ...\n")


def render() -> str:
    """The stub's text, from the Tensor class of this process (with autodiff imported)."""
    lines = [HEADER]
    for name, function in vars(core).items():
        if inspect.isfunction(function) and function.__module__ == core.__name__:
            lines.append(f"\ndef {name}{_signature(function)}: ...\n")
    lines.append(f"\n\nclass Tensor:\n    \"\"\"{inspect.getdoc(core.Tensor).splitlines()[0]}"
                 f"\"\"\"\n\n")
    for slot in core.Tensor.__slots__:
        if slot != "__weakref__":
            lines.append(f"    {slot}: {SLOT_TYPES.get(slot, 'Any')}\n")
    groups = _members()
    for module in [core.__name__] + sorted(set(groups) - {core.__name__}):
        lines.append(f"\n    # ---- {'the core' if module == core.__name__ else module}\n")
        for name, member in sorted(groups.get(module, []), key=lambda item: item[0]):
            lines.append(_member_text(name, member))
    return "".join(lines)


def main() -> None:
    """Rewrite the stub beside tensor.py."""
    text = render()
    STUB_PATH.write_text(text)
    print(f"wrote {STUB_PATH} ({len(text.splitlines())} lines)")


if __name__ == "__main__":
    main()
