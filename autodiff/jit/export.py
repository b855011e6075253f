"""Export: a compiled step written out as a Python module that needs numpy alone, its
state beside it in an .npz file (`Compiled.export(path)`).

The module reads top to bottom as backprop by hand of the user's own network:

    docstring          what was exported, from where, and how to run it
    imports            numpy, and the standard-library modules the copied code imports
    helpers            the library functions the ops call (im2col, col2im, pooling, ...),
                       the constants they read, and stand-ins for the classes they name
    ops                one class per op the step uses, with its forward and backward
    optimizer update   each optimizer's `_update` and the methods it calls
    plumbing           load_state, and the step's bookkeeping of gradients and of the
                       optimizer's loop over parameters (the functions at the end of
                       this module, copied)
    step               the traced step, one line per op: forward, backward and update,
                       each commented with the op and the user's line

Nothing is written twice: every function is copied from its source with `inspect`, its
annotations and the library's decorators (its event hooks) left out, and the global names
it reads (its bytecode's, nested functions' included, and its defaults') are copied in
turn: functions by their source, numpy as `np`, standard-library modules and functions
by an import, plain values by their repr, exception classes as declared, and any other
class by a stand-in holding the members the code names (`Tensor._make`) and nothing else:
values here are arrays, so `isinstance(x, Tensor)` is False and the create_graph paths
behind it (which call `Op.apply`, the engine, never copied) are never taken.

The state file, `<path without .py>.npz` (np.savez; np.load(allow_pickle=False) reads it),
holds arrays under "/"-separated keys:

    parameters/<name>          the model's parameters: the tensors the step reads or its
                               optimizers hold that require grad, named as in the model
    buffers/<name>             the others (running statistics, ...)
    grads/<name>               the .grad of each, where there is one
    constants/<name>           arrays the trace baked in
    optimizers/<k>/param_groups/<i>/<setting> (lr, betas, ..., and params: the
    parameters' names), optimizers/<k>/state/<name>/<entry>
    generator/...              the shared random generator's bit_generator state
    python_values              (key, type) of the entries that stand for Python values
                               (a setting, a step count): ints as decimal strings (PCG64's
                               state is a 128-bit int), None as an empty array
"""
from __future__ import annotations

import ast
import builtins
import copy
import dis
import inspect
import io
import sys
import textwrap
import tokenize
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import random as ad_random
from ..errors import CompileError
from ..function import Function
from .codegen import Writer, _site_comment, comment_text, literal
from .tracing import Backward, Call, LeafStep, Op, Tracer

ROOT = Path(__file__).resolve().parent.parent.parent     # the folder of autodiff, nn, optim
KEPT_DECORATORS = {"staticmethod", "classmethod", "property"}
NUMPY_NAMESPACES = ((), ("lib", "stride_tricks"), ("linalg",), ("fft",), ("random",), ("lib",))
LITERAL_ARRAY_SIZE = 1024    # a global array of numbers up to this size is written out
STEP_NAMES = {"state", "parameters", "buffers", "grads", "constants", "step", "g"}  # step's own

# the library calls a trace records that the exported step carries out
OPTIMIZER_STEP = ("optim.optimizer", "Optimizer.step")
ZERO_GRADS = {("optim.optimizer", "Optimizer.zero_grad"), ("nn.module", "Module.zero_grad")}

# what an optimizer's rule may keep on itself, and how the exported rule starts it
RULE_ATTRIBUTES = {
    "_scratch_buffers": "{}     # the work buffers `_scratch` hands out, reused",
}

FUNCTION_DOC = '''\
    """autodiff.Function as each op's ctx: made afresh for every op of a step (at the top
    of `step`), knowing which of the op's inputs need a gradient, it keeps what forward
    saves for backward. The methods below are the library's; Function.apply, which runs
    an op and records it in the graph, has no place here: `step` calls forward and
    backward itself."""'''
FUNCTION_INIT = '''\
    def __init__(self, needs_input_grad):
        self._needs_input_grad = needs_input_grad
        self.saved_tensors = ()'''


# ---------------------------------------------------------------- reading source


@dataclass
class Definition:
    """A function's source, parsed: what the exported file copies of it."""
    function: types.FunctionType
    source: str                                  # dedented, decorators included
    node: ast.FunctionDef
    header_end: tuple[int, int]                  # just after the colon of its `def` line
    reads: dict[str, Any]                        # the global names it reads -> their values
    attributes: dict[str, set[str]]              # global name -> attributes read from it
    first_attributes: set[str]                   # attributes read from its first parameter


def _qualname(value: Any) -> str:
    module = getattr(value, "__module__", None)
    name = getattr(value, "__qualname__", None) or getattr(value, "__name__", repr(value))
    return f"{module}.{name}" if module else name


def _dedent(lines: list[str]) -> str:
    """The lines with the first one's indentation taken off each line that has it (lines
    inside a string that have less keep theirs)."""
    indent = lines[0][:len(lines[0]) - len(lines[0].lstrip())]
    return "".join(line[len(indent):] if line.startswith(indent) else line for line in lines)


def _header_end(source: str) -> tuple[int, int]:
    """(line, column) just after the colon that ends the `def` header in `source`."""
    depth, in_def = 0, False
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.NAME and token.string == "def" and depth == 0:
            in_def = True
        elif token.type == tokenize.OP and token.string in ("(", "[", "{"):
            depth += 1
        elif token.type == tokenize.OP and token.string in (")", "]", "}"):
            depth -= 1
        elif token.type == tokenize.OP and token.string == ":" and depth == 0 and in_def:
            return token.end
    raise CompileError("export: a function's source has no `def` header")


def _global_names(code: types.CodeType) -> list[str]:
    """The global names `code` reads, with those of the code objects nested in it."""
    names = [instruction.argval for instruction in dis.get_instructions(code)
             if instruction.opname in ("LOAD_GLOBAL", "LOAD_NAME")]
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names += _global_names(constant)
    return names


def _unwrapped(function: Any) -> types.FunctionType:
    """The plain function under `function`'s decorators (staticmethod, classmethod and
    property objects, functools.wraps wrappers)."""
    if isinstance(function, (staticmethod, classmethod)):
        function = function.__func__
    elif isinstance(function, property):
        function = function.fget
    function = inspect.unwrap(function)
    if not isinstance(function, types.FunctionType):
        raise CompileError(f"export: cannot copy {_qualname(function)}: it is not a "
                           f"Python function")
    return function


def _evaluated(node: ast.AST) -> Iterator[ast.AST]:
    """The nodes under `node` that run (annotations left out: the file has none)."""
    yield node
    for name, value in ast.iter_fields(node):
        if name in ("annotation", "returns"):
            continue
        for child in value if isinstance(value, list) else [value]:
            if isinstance(child, ast.AST):
                yield from _evaluated(child)


def read_definition(function: Any) -> Definition:
    """`function`'s source and what it reads (see `Definition`)."""
    function = _unwrapped(function)
    if function.__closure__:
        raise CompileError(f"export: cannot copy {_qualname(function)}: it is a closure "
                           f"(it reads variables of the function that made it)")
    try:
        lines, _ = inspect.getsourcelines(function)
    except (OSError, TypeError) as error:
        raise CompileError(f"export: cannot read the source of {_qualname(function)} "
                           f"({error})") from None
    source = _dedent(lines)
    node = ast.parse(source).body[0]
    if not isinstance(node, ast.FunctionDef):
        raise CompileError(f"export: cannot copy {_qualname(function)}: its source is not "
                           f"a `def` (a lambda?)")
    names = _global_names(function.__code__)
    defaults = [*node.args.defaults, *(d for d in node.args.kw_defaults if d is not None)]
    names += [n.id for d in defaults for n in ast.walk(d) if isinstance(n, ast.Name)]
    reads: dict[str, Any] = {}
    for name in dict.fromkeys(names):
        if name.startswith("__") and name.endswith("__"):
            continue                             # the module's own: __file__, __name__
        if name in function.__globals__:
            reads[name] = function.__globals__[name]
        elif not hasattr(builtins, name):
            raise CompileError(f"export: {_qualname(function)} reads {name!r}, which is "
                               f"not defined in its module")
    attributes: dict[str, set[str]] = {}
    arguments = [*node.args.posonlyargs, *node.args.args]
    first = arguments[0].arg if arguments else None
    first_attributes: set[str] = set()
    for sub in _evaluated(node):
        if isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name):
            if sub.value.id in reads:
                attributes.setdefault(sub.value.id, set()).add(sub.attr)
            elif sub.value.id == first:
                first_attributes.add(sub.attr)
    return Definition(function, source, node, _header_end(source), reads, attributes,
                      first_attributes)


def render(definition: Definition, name: str, renames: dict[str, str]) -> str:
    """The definition as the exported file shows it: named `name`, without annotations or
    the library's decorators, each global in `renames` called by its new name; the body
    (comments and docstring included) as written."""
    node = definition.node
    decorators = [f"@{d.id}\n" for d in node.decorator_list
                  if isinstance(d, ast.Name) and d.id in KEPT_DECORATORS]
    arguments = copy.deepcopy(node.args)
    for argument in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs,
                     arguments.vararg, arguments.kwarg):
        if argument is not None:
            argument.annotation = None
    for sub in ast.walk(arguments):
        if isinstance(sub, ast.Name) and sub.id in renames:
            sub.id = renames[sub.id]
    header = f"def {name}({ast.unparse(arguments)}):"
    lines = definition.source.splitlines(keepends=True)
    row, column = definition.header_end
    rest = lines[row - 1][column:]
    if rest.strip() and not rest.strip().startswith("#"):
        raise CompileError(f"export: cannot copy {_qualname(definition.function)}: its body "
                           f"is on the line of its `def`")
    body = _renamed(lines, node, renames)[row:]
    return "".join(decorators) + header + rest.rstrip() + "\n" + "".join(body).rstrip() + "\n"


def _renamed(lines: list[str], node: ast.FunctionDef, renames: dict[str, str]) -> list[str]:
    """`lines` with each global name of the body that is in `renames` replaced."""
    if not renames:
        return lines
    encoded = [line.encode() for line in lines]
    spots = sorted(((sub.lineno, sub.col_offset, sub.end_col_offset, sub.id)
                    for statement in node.body for sub in ast.walk(statement)
                    if isinstance(sub, ast.Name) and sub.id in renames), reverse=True)
    for row, start, end, old in spots:
        line = encoded[row - 1]
        if line[start:end] != old.encode():
            raise CompileError(f"export: cannot rename {old!r} in the source of "
                               f"{node.name} (its position is not known exactly)")
        encoded[row - 1] = line[:start] + renames[old].encode() + line[end:]
    return [line.decode() for line in encoded]


def _indented(text: str) -> str:
    return "".join("    " + line if line.strip() else line
                   for line in text.splitlines(keepends=True))


def _origin(value: Any) -> str:
    """Where `value` is defined: a path from the project's folder, or a file name."""
    try:
        path = Path(inspect.getsourcefile(value) or "")
    except TypeError:
        return "?"
    path = path.resolve()
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.name


def value_source(value: Any) -> str | None:
    """Python source for a plain value (numbers, strings, dtypes, numpy scalars, small
    arrays of numbers, and tuples, lists, sets and dicts of them); None for others."""
    text = literal(value)
    if text is not None:
        return text
    kind = type(value)
    if kind is float:
        return f"float({str(value)!r})"           # inf, -inf, nan
    if isinstance(value, np.dtype) and value.names is None:
        return f"np.dtype({value.name if np.dtype(value.name) == value else value.str!r})"
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        return f"np.{kind.__name__}({value.item()!r})"
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf" \
            and value.size <= LITERAL_ARRAY_SIZE:
        return f"np.array({value.tolist()!r}, {value_source(value.dtype)})"
    if kind in (list, tuple, set, frozenset):
        parts = [value_source(part) for part in value]
        if None in parts:
            return None
        if kind is tuple:
            return f"({parts[0]},)" if len(parts) == 1 else f"({', '.join(parts)})"
        inside = ", ".join(parts)
        return {list: f"[{inside}]", set: f"{{{inside}}}" if parts else "set()",
                frozenset: f"frozenset({{{inside}}})" if parts else "frozenset()"}[kind]
    if kind is dict:
        items = [(value_source(k), value_source(v)) for k, v in value.items()]
        if any(k is None or v is None for k, v in items):
            return None
        return "{" + ", ".join(f"{k}: {v}" for k, v in items) + "}"
    return None


def _numpy_path(value: Any, name: str) -> str | None:
    """`np.<path>` naming `value` (a numpy function, ufunc or class), or None."""
    for space in NUMPY_NAMESPACES:
        module: Any = np
        for part in space:
            module = getattr(module, part, None)
        for attribute in dict.fromkeys((name, getattr(value, "__name__", name))):
            if module is not None and getattr(module, attribute, None) is value:
                return ".".join(("np", *space, attribute))
    return None


def _is_standard_library(module_name: str) -> bool:
    return module_name.split(".")[0] in sys.stdlib_module_names


# ---------------------------------------------------------------- the module's definitions


@dataclass
class ClassPlan:
    """A class of the exported file: a header, a docstring, and the members copied."""
    cls: type
    name: str
    header: str
    doc: str
    kind: str                                   # "op", "stand-in", "rule" or "function"
    preamble: list[str] = field(default_factory=list)
    members: dict[str, str] = field(default_factory=dict)
    data: set[str] = field(default_factory=set)     # attributes read that are not members

    def text(self) -> str:
        parts = [self.header, self.doc] if self.doc else [self.header]
        if self.preamble:
            parts.append("\n" + "\n".join(self.preamble))
        parts += ["\n" + _indented(member).rstrip() for member in self.members.values()]
        return "\n".join(parts) + "\n"


class Module:
    """The definitions of the exported file, collected from the objects the step names
    (`reference`): each object once, under one name, what it reads defined first."""

    def __init__(self, ops: list[type]) -> None:
        self.taken = set(dir(builtins)) | {"np"} | STEP_NAMES
        self.named: dict[int, str] = {}
        self.held: list[Any] = []               # the objects named: their ids stay unique
        self.imports: dict[str, None] = {}      # import statements, in order, once each
        self.constants: list[str] = []
        self.exceptions: list[str] = []
        self.classes: dict[int, ClassPlan] = {}
        self.functions: dict[str, list[str]] = {}    # origin -> the functions copied from it
        self.namespaces: dict[str, tuple[str, dict[str, str]]] = {}
        # a namespace class: name -> (the module's name, {attribute: expression})
        self.rules: dict[int, ClassPlan] = {}   # id(optimizer class) -> its rule
        self.instances: list[str] = []
        self.plumbing: list[str] = []
        name = self.claim(Function, "Function")
        self.function_plan = ClassPlan(Function, name, f"class {name}:", FUNCTION_DOC,
                                       "function", [FUNCTION_INIT])
        for op in ops:
            name = self.claim(op, op.__name__)
            self.classes[id(op)] = ClassPlan(op, name, f"class {name}({self.function_plan.name}):",
                                             _class_docstring(op), "op")

    # ---------------------------------------------------------------- names

    def claim(self, value: Any, wanted: str) -> str:
        """A free module-level name for `value`: `wanted`, or wanted_2, ..."""
        name, count = wanted, 1
        while name in self.taken:
            count += 1
            name = f"{wanted}_{count}"
        self.taken.add(name)
        self.named[id(value)] = name
        self.held.append(value)
        return name

    def reference(self, value: Any, wanted: str, reader: str,
                  attributes: frozenset[str] | set[str] = frozenset()) -> str:
        """The name the exported file gives `value`, which `reader` reads as `wanted`
        (reading `attributes` of it), defined on first use."""
        if value is np:
            return "np"
        if isinstance(value, types.ModuleType):
            return self._module(value, wanted, reader, attributes)
        module = getattr(value, "__module__", None) or ""
        if (isinstance(value, (types.FunctionType, staticmethod, classmethod))
                or hasattr(value, "__wrapped__")) and module.split(".")[0] != "numpy" \
                and not _is_standard_library(module):
            value = _unwrapped(value)            # the library's, under its event hooks
        name = self.named.get(id(value))
        if name is None:
            name = self._define(value, wanted, reader)
        plan = self.classes.get(id(value))
        if plan is not None:
            for attribute in sorted(attributes):
                self.need(plan, attribute, on_instance=False)
        return name

    def _define(self, value: Any, wanted: str, reader: str) -> str:
        if callable(value):
            module = getattr(value, "__module__", None) or ""
            path = _numpy_path(value, wanted) if module.split(".")[0] == "numpy" else None
            if path is not None:
                name = self.claim(value, wanted)
                self.constants.append(f"{name} = {path}")
                return name
            if _is_standard_library(module) \
                    and getattr(sys.modules.get(module), value.__name__, None) is value:
                name = self.claim(value, wanted)
                alias = f" as {name}" if name != value.__name__ else ""
                self.imports[f"from {module} import {value.__name__}{alias}"] = None
                return name
        if isinstance(value, types.FunctionType):
            return self.copy_function(value, wanted)
        if value is ad_random.default_generator:
            cls = self.reference(ad_random.Generator, "Generator", reader)
            name = self.claim(value, wanted)
            self.instances.append(f"{name} = {cls}()")
            return name
        if isinstance(value, type):
            return self._class(value, wanted, reader)
        text = value_source(value)
        if text is None:
            raise CompileError(f"export: cannot export {reader}: it reads {wanted!r}, a "
                               f"{type(value).__name__}, which has no source to copy")
        name = self.claim(value, wanted)
        self.constants.append(f"{name} = {text}")
        return name

    def _module(self, module: types.ModuleType, wanted: str, reader: str,
                attributes: frozenset[str] | set[str]) -> str:
        """A module the code reads: an import for the standard library's, otherwise a
        namespace class holding the attributes read from it."""
        name = self.named.get(id(module))
        if _is_standard_library(module.__name__):
            if name is None:
                name = self.claim(module, wanted)
                alias = f" as {name}" if name != module.__name__ else ""
                self.imports[f"import {module.__name__}{alias}"] = None
            return name
        if name is None:
            name = self.claim(module, wanted)
            self.namespaces[name] = (module.__name__, {})
        members = self.namespaces[name][1]
        for attribute in sorted(set(attributes) - members.keys()):
            if not hasattr(module, attribute):
                raise CompileError(f"export: {reader} reads {wanted}.{attribute}, which "
                                   f"{module.__name__} does not have")
            value = getattr(module, attribute)
            target = self.reference(value, attribute, reader)
            function = isinstance(value, types.FunctionType) or hasattr(value, "__wrapped__")
            members[attribute] = f"staticmethod({target})" if function else target
        return name

    # ---------------------------------------------------------------- functions

    def copy_function(self, function: types.FunctionType, wanted: str) -> str:
        """Copy `function` (and what it reads) into the file; its name there."""
        name = self.claim(function, wanted)
        text = self.render(read_definition(function), name)
        if function.__module__ == __name__:
            self.plumbing.append(text)
        else:
            self.functions.setdefault(_origin(function), []).append(text)
        return name

    def render(self, definition: Definition, name: str) -> str:
        """The definition's text, each global it reads defined and called by its name."""
        reader = _qualname(definition.function)
        renames = {}
        for global_name, value in definition.reads.items():
            target = self.reference(value, global_name, reader,
                                    definition.attributes.get(global_name, set()))
            if target != global_name:
                renames[global_name] = target
        return render(definition, name, renames)

    # ---------------------------------------------------------------- classes

    def fill_op(self, op: type) -> None:
        """Copy the op's forward and backward into its class."""
        plan = self.classes[id(op)]
        for member in ("forward", "backward"):
            if hasattr(op, member):
                self.need(plan, member, on_instance=True)

    def _class(self, cls: type, wanted: str, reader: str) -> str:
        if issubclass(cls, BaseException):
            return self._exception(cls, wanted, reader)
        name = self.claim(cls, wanted)
        if cls is ad_random.Generator:
            doc = ('    """Stands for autodiff.random.Generator: `rng` is the numpy generator '
                   'the random\n    draws take their numbers from; `step` sets '
                   'default_generator.rng to the state\'s."""')
            plan = ClassPlan(cls, name, f"class {name}:", doc, "stand-in", ["    rng = None"])
        else:
            plan = ClassPlan(cls, name, f"class {name}:", "", "stand-in")
        self.classes[id(cls)] = plan
        return name

    def _exception(self, cls: type, wanted: str, reader: str) -> str:
        """An exception class, declared as the library declares it (bases and docstring)."""
        try:
            node = ast.parse(_dedent(inspect.getsourcelines(cls)[0])).body[0]
        except (OSError, TypeError):
            node = None
        if not isinstance(node, ast.ClassDef) or not all(
                isinstance(s, ast.Pass)
                or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
                for s in node.body):
            raise CompileError(f"export: cannot export {reader}: it raises "
                               f"{_qualname(cls)}, which is more than a declaration")
        name = self.claim(cls, wanted)
        bases = [base.__name__ if base.__module__ == "builtins"
                 else self.reference(base, base.__name__, reader) for base in cls.__bases__]
        body = _class_docstring(cls) or "    pass"
        self.exceptions.append(f"class {name}({', '.join(bases)}):\n{body}\n")
        return name

    def need(self, plan: ClassPlan, attribute: str, on_instance: bool) -> None:
        """Copy the member `attribute` of the plan's class into it, with what it reads
        and the members it reads from its first parameter (ctx, self, cls); unless it is
        there already or is data. Function's members go to the Function class when an op
        reads them from ctx (save_for_backward), and nowhere when code reads them from a
        class (`Op.apply`: the engine, reached only on create_graph paths)."""
        if attribute in plan.members or attribute in plan.data:
            return
        owner = next((k for k in plan.cls.__mro__ if attribute in vars(k)), object)
        raw = vars(owner).get(attribute)
        if owner is object or isinstance(raw, types.MemberDescriptorType):
            plan.data.add(attribute)
            if plan.kind == "rule" and attribute not in RULE_ATTRIBUTES:
                raise CompileError(f"export: cannot export {_qualname(plan.cls)}: its update "
                                   f"keeps self.{attribute}, which the exported rule has not")
            return
        if owner is Function and plan.kind != "function":
            if on_instance and plan.kind == "op":
                self.need(self.function_plan, attribute, on_instance=True)
            return
        if not isinstance(raw, (types.FunctionType, staticmethod, classmethod, property)):
            text = value_source(raw)
            if text is None:
                raise CompileError(f"export: cannot copy {_qualname(plan.cls)}.{attribute}, "
                                   f"a {type(raw).__name__}")
            plan.members[attribute] = f"{attribute} = {text}\n"
            return
        plan.members[attribute] = ""             # taken, should it read itself
        definition = read_definition(raw)
        plan.members[attribute] = self.render(definition, attribute)
        for read in sorted(definition.first_attributes):
            self.need(plan, read, on_instance=True)

    def rule(self, optimizer: Any) -> str:
        """The name of the exported rule of `optimizer` (an instance of its class, whose
        `_update` and the methods it calls are copied)."""
        cls = type(optimizer)
        plan = self.rules.get(id(cls))
        if plan is None:
            name = self.claim(cls, cls.__name__)
            doc = (f'    """{_qualname(cls)}\'s update rule: `_update`, one step for one '
                   f'parameter, in place,\n    and the methods it calls, the library\'s own. '
                   f'`optimizer_step` runs it on\n    each parameter that has a gradient, as '
                   f'Optimizer.step does with foreach=False\n    (its flat buffers give the '
                   f'same numbers: the rule is elementwise)."""')
            plan = self.rules[id(cls)] = ClassPlan(cls, name, f"class {name}:", doc, "rule")
            self.need(plan, "_update", on_instance=True)
            if plan.data:
                plan.preamble = ["    def __init__(self):\n" + "\n".join(
                    f"        self.{attribute} = {RULE_ATTRIBUTES[attribute]}"
                    for attribute in sorted(plan.data))]
        instance = self.claim(optimizer, plan.name.lower())
        self.instances.append(f"{instance} = {plan.name}()")
        return instance

    # ---------------------------------------------------------------- the file

    def text(self, header: str, step: str) -> str:
        """The exported file: header, imports, helpers, ops, update, plumbing, step."""
        imports = [*sorted(self.imports), ""] if self.imports else []
        sections = [header + "\n".join([*imports, "import numpy as np"]) + "\n"]
        helpers = ["\n".join(self.constants) + "\n"] if self.constants else []
        helpers += self.exceptions
        for plan in self.classes.values():
            if plan.kind == "stand-in":
                plan.doc = plan.doc or _stand_in_doc(plan)
                helpers.append(plan.text())
        for origin, functions in self.functions.items():
            helpers += [f"# from {origin}\n" + functions[0], *functions[1:]]
        for name, (module, members) in self.namespaces.items():
            lines = [f"class {name}:", f'    """{module}, as the code above reads it."""']
            lines += [f"    {attribute} = {target}" for attribute, target in members.items()]
            helpers.append("\n".join(lines) + "\n")
        sections += _section("helpers the ops call", helpers)
        ops = [self.function_plan.text()]
        ops += [plan.text() for plan in self.classes.values() if plan.kind == "op"]
        sections += _section("ops: forward and backward", ops)
        sections += _section("optimizer update",
                             [plan.text() for plan in self.rules.values()])
        if self.instances:
            sections.append("\n".join(self.instances) + "\n")
        sections += _section("plumbing: the state, gradients and updates", self.plumbing)
        sections += _section("the step", [step])
        return "\n\n".join(sections)


def _section(title: str, parts: list[str]) -> list[str]:
    if not parts:
        return []
    return [f"# {'-' * 64} {title}\n\n" + parts[0], *parts[1:]]


def _stand_in_doc(plan: ClassPlan) -> str:
    """The docstring of a stand-in class: what it stands for, and why it is enough."""
    text = (f"Stands for {_qualname(plan.cls)}, which this file's code names where a value "
            f"could be one (create_graph's paths, never taken: values here are arrays)")
    text += ", and to call the members below, copied." if plan.members else "."
    return textwrap.indent(textwrap.fill(f'"""{text}"""', 84), "    ")


def _class_docstring(cls: type) -> str:
    """The class's docstring as its source writes it (indented as a member), or ""."""
    try:
        lines = inspect.getsourcelines(cls)[0]
    except (OSError, TypeError):
        return ""
    source = _dedent(lines)
    node = ast.parse(source).body[0]
    if not (isinstance(node, ast.ClassDef) and node.body and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
            and isinstance(node.body[0].value.value, str)):
        return ""
    first, last = node.body[0].lineno, node.body[0].end_lineno
    return "".join(source.splitlines(keepends=True)[first - 1:last]).rstrip()


# ---------------------------------------------------------------- the state file


class State:
    """What the .npz holds (see the module docstring), and the key of each tensor."""

    def __init__(self, tracer: Tracer) -> None:
        self.tracer = tracer
        self.entries: dict[str, np.ndarray] = {}
        self.kinds: list[tuple[str, str]] = []
        self.keys: dict[int, tuple[str, str]] = {}     # id(tensor) -> (section, name)
        self.tensor_names: set[str] = set()       # parameters' and buffers' (grads' too)
        self.constant_names: set[str] = set()
        self.held: list[Any] = []
        self.optimizers: dict[int, int] = {}

    @staticmethod
    def _free(used: set[str], hint: str) -> str:
        """A name not in `used` (hint, hint_2, ...), taken; refused if it has a '/'."""
        if "/" in hint:
            raise CompileError(f"export: the name {hint!r} has a '/', which the .npz keys "
                               f"use to nest; rename the module or parameter")
        name, count = hint, 1
        while name in used:
            count += 1
            name = f"{hint}_{count}"
        used.add(name)
        return name

    def tensor(self, tensor: Any) -> tuple[str, str]:
        """The section ("parameters" or "buffers") and name of a tensor the step reads or
        updates, its array (and .grad) saved under them."""
        key = self.keys.get(id(tensor))
        if key is None:
            section = "parameters" if tensor._requires_grad else "buffers"
            hint = self.tracer.names.get(id(tensor)) or tensor.name or "tensor"
            key = self.keys[id(tensor)] = (section, self._free(self.tensor_names, hint))
            self.held.append(tensor)
            self.entries[f"{section}/{key[1]}"] = np.array(tensor._data)
            if tensor._grad is not None:
                self.entries[f"grads/{key[1]}"] = np.array(tensor._grad._data)
        return key

    def constant(self, array: np.ndarray, hint: str) -> str:
        """The name of an array the trace baked in, saved under constants/."""
        name = self._free(self.constant_names, hint or "constant")
        self.entries[f"constants/{name}"] = np.array(array)
        return name

    def python(self, key: str, value: Any) -> None:
        """Save a Python value (see `python_value`, which reads it back)."""
        kind = type(value)
        if value is None:
            array, name = np.zeros(0), "None"
        elif kind in (bool, float, str):
            array, name = np.array(value), kind.__name__
        elif kind is int:
            array, name = np.array(str(value)), "int"
        elif isinstance(value, np.generic):
            array, name = np.array(value), "numpy"
        elif kind is tuple and len({type(v) for v in value}) <= 1 \
                and all(type(v) in (bool, int, float, str) for v in value):
            array, name = np.array(value), "tuple"
        else:
            raise CompileError(f"export: cannot save {key} = {value!r:.80} in the .npz")
        self.entries[key] = array
        self.kinds.append((key, name))

    def nested(self, key: str, value: Any) -> None:
        """Save a dict of Python values and arrays under key/<its keys>."""
        if isinstance(value, dict):
            for part, inner in value.items():
                self.nested(f"{key}/{part}", inner)
        elif isinstance(value, np.ndarray):
            self.entries[key] = np.array(value)
        else:
            self.python(key, value)

    def optimizer(self, optimizer: Any) -> int:
        """The optimizer's index under optimizers/, its groups and state saved."""
        index = self.optimizers.get(id(optimizer))
        if index is not None:
            return index
        if optimizer._step_pre_hooks or optimizer._step_post_hooks:
            raise CompileError(f"export: {type(optimizer).__name__} has step hooks, which "
                               f"the exported step would not run; remove them first")
        index = self.optimizers[id(optimizer)] = len(self.optimizers)
        self.held.append(optimizer)
        prefix = f"optimizers/{index}"
        for number, group in enumerate(optimizer.param_groups):
            names = tuple(self.tensor(p)[1] for p in group["params"])
            for setting, value in group.items():
                self.python(f"{prefix}/param_groups/{number}/{setting}",
                            names if setting == "params" else value)
            for p, name in zip(group["params"], names):
                self.nested(f"{prefix}/state/{name}", dict(optimizer.state.get(p, {})))
        return index

    def save(self, path: Path) -> None:
        """Write the .npz, with the default generator's state."""
        self.nested("generator", ad_random.default_generator.rng.bit_generator.state)
        kinds = np.array(self.kinds, dtype=str).reshape(-1, 2)
        np.savez(path, python_values=kinds, **self.entries)


# ---------------------------------------------------------------- the step


class StepWriter(Writer):
    """Turns a trace's records into the function `step`: the lines codegen writes for a
    replay (codegen.Writer), over the state's arrays instead of tensors, each object the
    lines name defined in the file (`module`) instead of bound in a namespace. Its ops
    are calls to the op classes the file holds, not inlined."""

    inlines = False

    def __init__(self, tracer: Tracer, output: Any, module: Module, state: State) -> None:
        super().__init__(tracer, output)
        self.module, self.state = module, state
        self.names.taken = module.taken          # one set: no local hides a module name
        self.reserved = {}                       # (taken from the set replaced)
        self.externals = dict(tracer.externals)          # slot -> position
        self.reads: dict[int, str] = {}          # slot -> the line that reads it from state
        self.contexts: dict[int, str] = {}       # id(replay ctx) -> its variable
        self.context_lines: list[str] = []
        self.draws = False
        self.inputs = [self.define(slot) for slot, _, _ in tracer.inputs]

    # ---------------------------------------------------------------- hooks

    def bind(self, value: Any, hint: str) -> str:
        """The name of a module-level definition of `value` in the file."""
        return self.module.reference(value, hint, "the step")

    def helper(self, function: Callable[..., Any]) -> str:
        """The name of a function the step calls, copied into the file."""
        return self.bind(function, function.__name__)

    def constant(self, value: Any, hint: str) -> str:
        """Arrays the trace baked in are the state's constants (named after `hint`);
        dtypes, numpy scalars and the like module constants."""
        if isinstance(value, np.ndarray):
            return f"constants[{self.state.constant(value, hint)!r}]"
        return self.bind(value, str(value) if isinstance(value, np.dtype) else hint)

    def context(self, ctx: Any, op: type, hint: str) -> str:
        """The variable of an op's ctx, made afresh at the top of `step`."""
        name = self.contexts.get(id(ctx))
        if name is None:
            name = self.contexts[id(ctx)] = self.names.take(hint)
            self.context_lines.append(f"    {name} = {self.bind(op, op.__name__)}("
                                      f"{literal(tuple(ctx._needs_input_grad))})")
        return name

    def read_outside(self, slot: int, name: str) -> None:
        """A tensor from outside (the arguments are `step`'s): read from the state."""
        section, key = self.state.tensor(self.tracer.tensors[self.externals[slot]])
        self.reads[slot] = f"    {name} = {section}[{key!r}]"

    def bumped(self, position: int) -> None:
        """Arrays have no version to count."""

    def read_grad(self, position: int, name: str) -> str:
        """A tensor's .grad is the state's grads[its name]."""
        return self.grad_of(position)

    def clear_grad(self, position: int) -> str:
        return f"grads.pop({self.key(position)}, None)"

    def leaves(self, steps: list[LeafStep], grads: list[str]) -> None:
        """The leaves' lines, without a lock: the file's step works on its own state."""
        for step in steps:
            self.leaf(step, grads)

    def accumulate(self, step: LeafStep, grad: str) -> str:
        """The file's accumulate_grad, into grads[the leaf's name]."""
        return f"{self.helper(accumulate_grad)}(grads, {self.key(step.tensor)}, {grad})"

    def grad_of(self, position: int) -> str:
        return f"grads[{self.key(position)}]"

    def returned_slot(self, slot: int) -> str:
        """`step` returns arrays for tensors."""
        return self.variable(slot)

    def release(self) -> None:
        """The exported accumulate_grad copies a first gradient anyway."""

    # ---------------------------------------------------------------- names

    def key(self, position: int) -> str:
        """repr of the name of tracer.tensors[position] in the state (and in grads)."""
        index = self.tracer.input_positions.get(position)
        if index is not None:
            return repr(self.inputs[index])
        return repr(self.state.tensor(self.tracer.tensors[position])[1])

    # ---------------------------------------------------------------- records

    def call(self, record: Call) -> None:
        """A library call: a random draw, optimizer.step() or a zero_grad()."""
        function = inspect.unwrap(record.function)
        where = (function.__module__, function.__qualname__)
        comment = _site_comment(function.__qualname__, record.site)
        if record.out is not None:
            self.draw(record, comment)
        elif where == OPTIMIZER_STEP:
            arguments = inspect.signature(function).bind(*record.args, **record.kwargs)
            if arguments.arguments.get("closure") is not None:
                raise CompileError("export: cannot export optimizer.step(closure): the "
                                   "closure is Python the trace did not record")
            optimizer = record.args[0]
            index = self.state.optimizer(optimizer)
            rule = self.module.named.get(id(optimizer)) or self.module.rule(optimizer)
            self.emit(f"{self.helper(optimizer_step)}({rule}, state['optimizers'][{index}], "
                      f"parameters, grads)", comment)
        elif where in ZERO_GRADS:
            arguments = inspect.signature(function).bind(*record.args, **record.kwargs)
            arguments.apply_defaults()
            owner = record.args[0]
            params = owner.parameters() if where[0] == "nn.module" \
                else [p for group in owner.param_groups for p in group["params"]]
            names = tuple(self.state.tensor(p)[1] for p in params)
            keep = "" if arguments.arguments["set_to_none"] else ", set_to_none=False"
            self.emit(f"{self.helper(zero_grad)}(grads, {literal(names)}{keep})", comment)
        else:
            raise CompileError(f"export: cannot export a call of {_qualname(function)}; "
                               f"an exported step carries out optimizer.step(), zero_grad() "
                               f"and random draws (dropout, ad.randn, ...), nothing else")

    def draw(self, record: Call, comment: str) -> None:
        """A random draw: the library's function, on the state's generator."""
        values = (*record.args, *record.kwargs.values())
        if any(isinstance(value, ad_random.Generator) for value in values):
            raise CompileError(f"export: cannot export {_qualname(record.function)} with a "
                               f"generator of its own; draw from the default generator")
        arguments = [self.expression(value) for value in record.args]
        arguments += [f"{key}={self.expression(value, key)}"
                      for key, value in record.kwargs.items()]
        self.draws = True
        function = self.helper(record.function)
        self.emit(f"{self.define(record.out)} = {function}({', '.join(arguments)})._data",
                  comment)

    def backward(self, record: Backward, seed: str | None = None) -> None:
        """loss.backward() (see Writer.backward), set off by blank lines."""
        self.lines.append("")
        super().backward(record, seed)
        self.lines.append("")

    def text(self, name: str) -> str:
        """The function `step`, its docstring naming the traced function and the inputs."""
        for record in self.tracer.records:
            self.write(record)
        returned = self.returned(self.output)
        arrays = {self.tracer.slot_of.get(id(array)): array for array in self.tracer.alive}
        shapes = ", ".join(f"{variable} {arrays[slot].dtype} {tuple(arrays[slot].shape)}"
                           for variable, (slot, _, _) in zip(self.inputs, self.tracer.inputs))
        doc = (f'"""{name} once: forward, backward and update, one line per op, on numpy '
               f'arrays shaped as when it was traced ({comment_text(shapes)}). `state` '
               f'(load_state\'s) changes in place; returns what {name} returned, arrays '
               f'for tensors."""')
        doc = textwrap.indent(textwrap.fill(doc, 84), "    ")
        head = [f"def step({', '.join(['state', *self.inputs])}):", doc,
                '    parameters, buffers, grads = state["parameters"], state["buffers"], '
                'state["grads"]']
        if any(key.startswith("constants/") for key in self.state.entries):
            head.append('    constants = state["constants"]')
        head += [self.reads[slot] for slot, _ in self.tracer.externals if slot in self.reads]
        generator = self.module.named.get(id(ad_random.default_generator))
        if self.draws and generator is not None:
            head.append(f'    {generator}.rng = state["generator"]    # the random draws '
                        f'below take from it')
        if self.context_lines:
            head.append("    # each op's ctx: which inputs need a gradient, and what forward "
                        "saves for backward")
            head += self.context_lines
        return "\n".join([*head, "", *self.lines, f"    return {returned}", ""])


# ---------------------------------------------------------------- the export


def export(program: Any, path: str | Path, name: str) -> None:
    """Write the traced step of `program` (a compiled Program: its tracer and output
    template) as a module at `path` named after `name`, the function traced, and its
    state in the .npz beside it (see the module docstring)."""
    path = Path(path)
    tracer: Tracer = program.tracer
    ops = list(dict.fromkeys(record.op for record in tracer.records if type(record) is Op))
    module = Module(ops)
    for op in ops:
        module.fill_op(op)
    module.reference(load_state, "load_state", "the export")
    state = State(tracer)
    writer = StepWriter(tracer, program.output, module, state)
    step = writer.text(name)
    state_file = path.with_suffix(".npz")
    header = _header(name, tracer, writer.inputs, path.name, state_file.name)
    path.write_text(module.text(header, step), encoding="utf-8")
    state.save(state_file)


def _header(name: str, tracer: Tracer, inputs: list[str], module_file: str,
            state_file: str) -> str:
    """The exported file's docstring."""
    sites = [record.site for record in tracer.records if getattr(record, "site", None)]
    where = f" in {Path(sites[0][0]).name}" if sites else ""
    usage = [("state = load_state()", f"from {state_file}, beside this file"),
             (f"out = step({', '.join(['state', *inputs])})",
              "one training step: state changes in place")]
    width = max(len(code) for code, _ in usage)
    return (f'"""{name}{where}, exported by autodiff (ad.compile(...).export): backprop by '
            f'hand\nof this network, with numpy alone.\n\n'
            + "".join(f"    {code:<{width}}    # {comment}\n" for code, comment in usage)
            + f'\n'
            f'`step`, at the end, does what {name} did when it was traced, one line per op:\n'
            f'the forward pass, the backward pass (each op\'s backward on the gradient of its\n'
            f'output, gradients summed where a value was used twice) and the optimizer\'s\n'
            f'update. The ops\' forward and backward, the helpers they call and the update\n'
            f'rule are the library\'s own source, copied here: nothing is written twice.\n'
            f'{module_file} was generated; export again rather than edit it.\n"""\n')


# ---------------------------------------------------------------- copied into the file
# The exported file's plumbing: these functions run there, not here.


def load_state(path: str | None = None) -> dict[str, Any]:
    """The training state `step` takes, read from the .npz beside this file (or `path`):
    {"parameters": {name: array}, "buffers": {...}, "grads": {...}, "constants": {...},
    "optimizers": [{"param_groups": [{setting: value, ..., "params": names}],
    "state": {name: {entry: value}}}], "generator": a numpy Generator}."""
    if path is None:
        path = __file__.rpartition(".")[0] + ".npz"
    state = {"parameters": {}, "buffers": {}, "grads": {}, "constants": {}, "optimizers": {}}
    with np.load(path, allow_pickle=False) as saved:
        kinds = dict(saved["python_values"].tolist())
        for key in saved.files:
            if key == "python_values":
                continue
            value = python_value(saved[key], kinds[key]) if key in kinds else saved[key]
            *parents, last = key.split("/")
            place = state
            for part in parents:
                place = place.setdefault(part, {})
            place[last] = value
    optimizers = state["optimizers"]
    state["optimizers"] = [optimizers[str(k)] for k in range(len(optimizers))]
    for optimizer in state["optimizers"]:
        groups = optimizer["param_groups"]
        optimizer["param_groups"] = [groups[str(i)] for i in range(len(groups))]
        optimizer.setdefault("state", {})
    saved_generator = state["generator"]
    generator = np.random.Generator(getattr(np.random, saved_generator["bit_generator"])())
    generator.bit_generator.state = saved_generator
    state["generator"] = generator
    return state


def python_value(array: np.ndarray, kind: str) -> Any:
    """A Python value the .npz holds as an array (its type's name listed in
    python_values), as it was."""
    if kind == "None":
        return None
    if kind == "tuple":
        return tuple(array.tolist())
    if kind == "numpy":
        return array[()]
    return {"bool": bool, "int": int, "float": float, "str": str}[kind](array.item())


def accumulate_grad(grads: dict[str, np.ndarray], name: str, grad: np.ndarray) -> None:
    """A leaf's gradient is complete: add it to its .grad, grads[name] (a copy of it when
    there is none yet), as autodiff.backward.accumulate_grad does."""
    total = grads.get(name)
    if total is None:
        grads[name] = np.array(grad)
    else:
        np.add(total, grad, out=total)


def zero_grad(grads: dict[str, np.ndarray], names: tuple[str, ...],
              set_to_none: bool = True) -> None:
    """optimizer.zero_grad() or model.zero_grad(): forget the named parameters' gradients,
    or (set_to_none=False) write zeros into them."""
    for name in names:
        if name in grads:
            if set_to_none:
                del grads[name]
            else:
                grads[name].fill(0)


def optimizer_step(rule: Any, optimizer: dict[str, Any], parameters: dict[str, np.ndarray],
                   grads: dict[str, np.ndarray]) -> None:
    """optimizer.step(), as Optimizer.step runs it with foreach=False: the rule applied to
    each parameter that has a gradient, group by group, in place."""
    for group in optimizer["param_groups"]:
        for name in group["params"]:
            if name in grads:
                rule._update(parameters[name], grads[name],
                             optimizer["state"].setdefault(name, {}), group)
