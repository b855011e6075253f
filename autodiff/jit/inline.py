"""Inlining: an op's `forward` or `backward` written into the generated step as the lines
of its own body, read from its source, instead of a call to it. A replay then runs numpy
calls over named arrays with no Python call per op, and `compiled.source` shows what each
op computes. The body is the formula eager execution runs, written once in the op's class.

On the way in, each change keeps what the code does:

- the parameters become the call's arguments (a parameter the body assigns to gets a
  variable of its own, set first), and `ctx` the op's context in the step;
- locals get fresh names in the step; modules (numpy) and builtins the body reads are
  bound in the step's namespace, under their own names when free, and any other global
  is read from the op's module when the line runs (`losses.per_loss(...)`), as the op's
  own code reads it;
- what the trace fixed is folded: `ctx.needs_input_grad` (the trace's, which the guards
  keep), names unpacked from it, comparisons of constants (`reduction == "none"`),
  `a is None` for an argument (never None: None is written as a literal), an argument
  array's `ndim`, `type(a) is C` and `isinstance(a, C)` (a replay's arrays have the
  traced kinds: the same shapes and dtypes give numpy's same types and dimensions), and
  the branches these decide; `ctx.save_for_backward(...)` becomes the assignment it
  makes;
- each `return` becomes an assignment to the line's target, the statements after an `if`
  that returns copied into both of its branches.

A body this cannot carry over (a return inside a loop, `with` or `try`; nested functions,
lambdas or comprehensions; *args; closures; `global`; source that no longer matches the
running code) stays a call. Which ops are inlined is the code generator's choice
(autodiff's own: `codegen.Writer.inlined`).
"""
from __future__ import annotations

import ast
import builtins
import copy
import functools
import inspect
import keyword
import linecache
import math
import operator
import re
import sys
import textwrap
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..function import Function

MAX_LINES = 60          # a body longer than this once inlined stays a call
MAX_TEMPLATES = 4096    # rewrites kept for reuse in a process

UNSUPPORTED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.Global,
               ast.Nonlocal, ast.Yield, ast.YieldFrom, ast.Await, ast.ListComp, ast.SetComp,
               ast.DictComp, ast.GeneratorExp, ast.NamedExpr, ast.Import, ast.ImportFrom,
               ast.Match)
BLOCKS = (ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try)
COMPARISONS = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Is: operator.is_,
               ast.IsNot: operator.is_not, ast.In: lambda a, b: a in b,
               ast.NotIn: lambda a, b: a not in b}
_MISSING = object()


class Unsupported(Exception):
    """The body has something inlining does not carry over: it stays a call."""


def method(op: type, name: str) -> Callable[..., Any] | None:
    """The plain function behind the static method `op.name` (forward or backward);
    None when it is not one."""
    found = inspect.getattr_static(op, name, None)
    if not isinstance(found, staticmethod) or hasattr(found.__func__, "__wrapped__"):
        return None
    return found.__func__


@functools.cache
def _checked_source(function: Callable[..., Any]) -> tuple[str, dict[str, int]] | None:
    """The source of `function`'s definition, and how often its body assigns each name,
    when inlining can carry the body over. The parse made here serves the first rewrite;
    `definition` parses the source again for later ones (faster than copying a tree)."""
    code = function.__code__
    if code.co_freevars or code.co_flags & (inspect.CO_GENERATOR | inspect.CO_COROUTINE):
        return None
    source = _source(code)
    if source is None or "__inl_" in source:       # (the templates' placeholders)
        return None
    try:
        tree = ast.parse(source).body[0]
    except (SyntaxError, IndexError):
        return None
    if not isinstance(tree, ast.FunctionDef) or tree.name != function.__name__ \
            or tree.end_lineno < max(line for _, _, line in code.co_lines() if line) \
            - code.co_firstlineno + 1 or not _same_code(source, code):
        return None
    arguments = tree.args
    if arguments.vararg or arguments.kwarg or arguments.posonlyargs or arguments.kwonlyargs:
        return None
    stores: dict[str, int] = {}
    for statement in tree.body:
        for node in ast.walk(statement):
            if isinstance(node, UNSUPPORTED):
                return None
            name = node.id if isinstance(node, ast.Name) and not isinstance(
                node.ctx, ast.Load) else node.name if isinstance(node, ast.ExceptHandler) \
                else None
            if name is not None:
                stores[name] = stores.get(name, 0) + 1
    _PARSED[function] = tree
    return source, stores


def _same_code(source: str, code: types.CodeType) -> bool:
    """Whether `source` compiles to the running `code`'s names, variables and constants
    (not so when the file was edited since it was imported)."""
    compiled = next((c for c in compile(source, code.co_filename, "exec").co_consts
                     if isinstance(c, types.CodeType) and c.co_name == code.co_name), None)
    return compiled is not None and (compiled.co_names, compiled.co_varnames,
                                     compiled.co_consts) == (code.co_names, code.co_varnames,
                                                             code.co_consts)


def _source(code: Any) -> str | None:
    """The lines of the definition starting at the code's first line (its decorators',
    one line each), dedented: up to the first line of code after the `def` line indented
    no deeper than it (blank and comment lines do not end it; those after its last line
    are left out). A cut that would leave code out makes the caller's check against the
    code's line numbers fail.
    (inspect.getsource tokenizes the file, twenty times slower.)"""
    lines = linecache.getlines(code.co_filename)
    start = code.co_firstlineno - 1
    if not 0 <= start < len(lines):
        return None
    indent = len(lines[start]) - len(lines[start].lstrip())
    end = start + 1
    while end < len(lines) and lines[end - 1].lstrip().startswith("@"):
        end += 1                                    # the decorators, then the def line
    while end < len(lines):
        stripped = lines[end].strip()
        if stripped and not stripped.startswith("#") \
                and len(lines[end]) - len(lines[end].lstrip()) <= indent:
            break
        end += 1
    while not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#"):
        end -= 1                                    # (the comments after it are not its)
    return textwrap.dedent("".join(lines[start:end]))


def definition(function: Callable[..., Any]) -> tuple[ast.FunctionDef, dict[str, int]] | None:
    """A fresh parse of `function`'s definition (the caller may change it), with how
    often its body assigns each name; None when inlining cannot carry the body over."""
    checked = _checked_source(function)
    if checked is None:
        return None
    source, stores = checked
    tree = _PARSED.pop(function, None)          # the check's parse, used once
    return (tree if tree is not None else ast.parse(source).body[0]), stores


_PARSED: dict[Callable[..., Any], ast.FunctionDef] = {}


def inline(op: type, which: str, arguments: list[str], keywords: dict[str, str], ctx: str,
           needs: tuple[bool, ...], kinds: dict[str, tuple[type, int]], target: str,
           take: Callable[[str], str], bind: Callable[[str, Any], str],
           outputs: dict[int, str] | None = None) -> tuple[list[str], bool] | None:
    """The lines of `target = op.which(ctx, *arguments, **keywords)` (which: "forward" or
    "backward") with the body written out, or None when it must stay a call. `needs`:
    ctx.needs_input_grad as traced; `kinds`: (type, ndim) of the arrays some argument
    variables hold, as traced; `take(hint)`: a fresh variable name; `bind(name, value)`:
    the name the lines reach a global of the body by. `outputs` {position: variable}:
    where the caller wants elements of a returned tuple; when the body ends by returning
    a tuple, they go there directly (no tuple, so no second reference to a gradient that
    is to become a .grad uncopied), and the second value returned is True.

    The body is rewritten once per op, traced flags and argument kinds (a `Template`
    over placeholder names, kept for the process); each use fills in the names."""
    function = method(op, which)
    if function is None:
        return None
    texts = [*arguments, *keywords.values()]
    specs = tuple(_spec(text, kinds) for text in texts)
    if any("__inl_" in text for text in texts):         # (the placeholders' prefix)
        return None
    key = (op, function, needs, specs, tuple(keywords), tuple(sorted(outputs or ())))
    template = _TEMPLATES.get(key, _MISSING)
    if template is _MISSING:
        if len(_TEMPLATES) >= MAX_TEMPLATES:        # (constants are part of the key)
            _TEMPLATES.clear()
        template = _TEMPLATES[key] = _template(op, function, needs, specs, len(arguments),
                                               tuple(keywords), tuple(sorted(outputs or ())))
    if template is None:
        return None
    names = {f"a{i}": text for i, text in enumerate(texts)}
    names.update({"c0": ctx, "t0": target})
    names.update({f"o{position}": name for position, name in (outputs or {}).items()})
    names.update({f"l{k}": take(hint) for k, hint in template.locals.items()})
    names.update({f"g{k}": bind(name, value) for k, (name, value) in template.globals.items()})
    fill = functools.partial(_fill, names)
    return [PLACEHOLDER.sub(fill, line) for line in template.lines], template.spread


# placeholders in a template's lines: arguments, ctx, target, outputs, locals, globals
PLACEHOLDER = re.compile(r"__inl_([actolg])(\d+)__")
_TEMPLATES: dict[tuple[Any, ...], Template | None] = {}


def _fill(names: dict[str, str], match: re.Match[str]) -> str:
    return names[match.group(1) + match.group(2)]


@dataclass
class Template:
    """An op's inlined lines over placeholder names, the hints of the locals they use
    and the globals they read (by placeholder index), and whether a returned tuple went
    to the outputs."""
    lines: list[str]
    locals: dict[int, str]
    globals: dict[int, tuple[str, Any]]
    spread: bool


def _spec(text: str, kinds: dict[str, tuple[type, int]]) -> tuple[Any, ...]:
    """What an argument's source tells the rewrite: a variable (and its traced kind), a
    constant (type and value), or other code."""
    if text.isidentifier() and not keyword.iskeyword(text):     # (None, True: constants)
        return ("name", kinds.get(text))
    node = _constant(ast.parse(text, mode="eval").body)
    if isinstance(node, ast.Constant):      # repr tells 0.0 from -0.0, which compare equal
        return ("constant", type(node.value), repr(node.value), node.value)
    return ("code",)


def _template(op: type, function: Callable[..., Any], needs: tuple[bool, ...],
              specs: tuple[tuple[Any, ...], ...], positional: int, keywords: tuple[str, ...],
              outputs: tuple[int, ...]) -> Template | None:
    """The rewrite of `function`'s body for these traced facts, over placeholders."""
    parsed = definition(function)
    if parsed is None:
        return None
    tree, stores = parsed
    params = [a.arg for a in tree.args.args]
    if not params or positional > len(params) - 1 \
            or any(key not in params[1:] for key in keywords) or stores.get(params[0]):
        return None
    defaults = dict(zip(params[len(params) - len(function.__defaults__ or ()):],
                        function.__defaults__ or ()))
    locals_: dict[int, str] = {}
    globals_: dict[int, tuple[str, Any]] = {}
    bound: dict[tuple[str, int], str] = {}

    def take(hint: str) -> str:
        locals_[len(locals_)] = hint
        return f"__inl_l{len(locals_) - 1}__"

    def bind(name: str, value: Any) -> str:
        placeholder = bound.get((name, id(value)))
        if placeholder is None:
            placeholder = bound[name, id(value)] = f"__inl_g{len(globals_)}__"
            globals_[len(globals_)] = (name, value)
        return placeholder

    def lookup(name: str) -> Any:
        match = PLACEHOLDER.fullmatch(name)
        return globals_[int(match.group(2))][1] if match and match.group(1) == "g" else None

    slots = dict(zip(params[1:], range(positional))) \
        | {key: positional + i for i, key in enumerate(keywords)}
    prelude: list[ast.stmt] = []
    fresh_locals: set[str] = set()
    renames: dict[str, ast.expr] = {params[0]: ast.Name("__inl_c0__", ast.Load())}
    known: dict[str, tuple[type, int] | None] = {}
    for param in params[1:]:
        if param in slots:
            spec = specs[slots[param]]
            placeholder = f"__inl_a{slots[param]}__"
            value = ast.Constant(spec[3]) if spec[0] == "constant" else \
                ast.Name(placeholder, ast.Load())
        elif param in defaults:
            spec, value = ("default",), _value(defaults[param], bind)
        else:
            return None
        if not stores.get(param) and (spec[0] != "code" and isinstance(
                value, (ast.Name, ast.Constant))):
            renames[param] = value
            if spec[0] == "name":
                known[value.id] = spec[1]
        else:
            fresh = take(param)
            fresh_locals.add(fresh)
            prelude.append(_assign(ast.Name(fresh, ast.Store()), value))
            renames[param] = ast.Name(fresh, ast.Load())
    for name in function.__code__.co_varnames:
        if name not in renames:
            fresh = take(name)
            fresh_locals.add(fresh)
            renames[name] = ast.Name(fresh, ast.Load())
    target = "__inl_t0__"
    try:
        plain_save = op.save_for_backward is Function.save_for_backward
        rewrite = _Rewrite(function, params[0], needs, renames, bind, plain_save)
        code = tree.body[1:] if ast.get_docstring(tree) is not None else tree.body
        body = prelude + rewrite.statements(code)
        for statement in prelude:       # a parameter's variable is assigned there first
            name = statement.targets[0].id
            rewrite.stores[name] = rewrite.stores.get(name, 0) + 1
        kinds = {name: kind for name, kind in known.items() if kind is not None}
        body = _fold(body, rewrite.stores, set(known), kinds, lookup)
        statements = _lower(body, target)
    except Unsupported:
        return None
    statements = _direct(statements, target, fresh_locals)
    spread = _spread(statements, target, {p: f"__inl_o{p}__" for p in outputs},
                     fresh_locals) if outputs else None
    if spread is not None:
        statements = spread
    module = ast.Module(statements, [])
    if any(spec[0] == "constant" and spec[2].startswith("-") for spec in specs) \
            or any(isinstance(value, (int, float)) and math.copysign(1, value) < 0
                   for value in defaults.values()):
        module = _Signed().visit(module)            # (only negative numbers come in)
    lines = ast.unparse(module).splitlines()
    if len(lines) > MAX_LINES:
        return None
    used = {(m.group(1), int(m.group(2))) for line in lines for m in PLACEHOLDER.finditer(line)}
    return Template(lines, {k: h for k, h in locals_.items() if ("l", k) in used},
                    {k: g for k, g in globals_.items() if ("g", k) in used}, spread is not None)


def _assign(target: ast.expr, value: ast.expr) -> ast.Assign:
    """`target = value` (with the line number ast.unparse reads)."""
    return ast.Assign([target], value, lineno=0)


def _constant(node: ast.expr) -> ast.expr:
    """A negated number (`-0.5`) as the constant it is."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)) \
            and isinstance(node.operand, ast.Constant) \
            and type(node.operand.value) in (int, float):
        value = node.operand.value
        return ast.Constant(-value if isinstance(node.op, ast.USub) else value)
    return node


def _value(value: Any, bind: Callable[[str, Any], str]) -> ast.expr:
    """A default argument's value as an expression: a literal, or a bound name."""
    if value is None or type(value) in (bool, int, float, str):
        return ast.Constant(value)
    return ast.Name(bind("default", value), ast.Load())


class _Rewrite(ast.NodeTransformer):
    """Names renamed (parameters to arguments, locals to fresh names, globals to bound
    names), ctx.needs_input_grad folded, save_for_backward made an assignment."""

    def __init__(self, function: Callable[..., Any], ctx: str, needs: tuple[bool, ...],
                 renames: dict[str, ast.expr], bind: Callable[[str, Any], str],
                 plain_save: bool) -> None:
        self.function, self.ctx, self.needs = function, ctx, needs
        self.renames, self.bind, self.plain_save = renames, bind, plain_save
        self.stores: dict[str, int] = {}          # how often the result assigns each name

    def statements(self, body: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for statement in body:
            result = self.visit(statement)
            out.extend(result if isinstance(result, list) else [result])
        return out

    def visit_Name(self, node: ast.Name) -> ast.expr:
        renamed = self.renames.get(node.id)
        if renamed is not None:
            if isinstance(renamed, ast.Name):
                if not isinstance(node.ctx, ast.Load):
                    self.stores[renamed.id] = self.stores.get(renamed.id, 0) + 1
                return ast.Name(renamed.id, node.ctx)
            if not isinstance(node.ctx, ast.Load):
                raise Unsupported(node.id)
            return copy.copy(renamed)
        if not isinstance(node.ctx, ast.Load):
            raise Unsupported(node.id)
        value = self.function.__globals__.get(node.id, _MISSING)
        if value is _MISSING:                           # a builtin
            value = builtins.__dict__.get(node.id, _MISSING)
            if value is _MISSING:
                raise Unsupported(node.id)
            return ast.Name(self.bind(node.id, value), ast.Load())
        if isinstance(value, types.ModuleType):         # np
            return ast.Name(self.bind(node.id, value), ast.Load())
        # any other global is read from its module when the line runs, as the op's own
        # code reads it: a value rebound since (a setting, a patched helper) is seen
        module = sys.modules.get(self.function.__module__)
        if module is None or module.__dict__ is not self.function.__globals__:
            raise Unsupported(node.id)
        owner = ast.Name(self.bind(module.__name__.rpartition(".")[2], module), ast.Load())
        return ast.Attribute(owner, node.id, ast.Load())

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> ast.ExceptHandler:
        if node.name is not None:
            renamed = self.renames.get(node.name)
            if not isinstance(renamed, ast.Name):
                raise Unsupported(node.name)
            node.name = renamed.id
            self.stores[node.name] = self.stores.get(node.name, 0) + 1
        return self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> ast.expr:
        if isinstance(node.value, ast.Name) and node.value.id == self.ctx \
                and node.attr == "needs_input_grad" and isinstance(node.ctx, ast.Load):
            return ast.Constant(self.needs)
        return self.generic_visit(node)

    def visit_Expr(self, node: ast.Expr) -> ast.stmt:
        call = node.value
        if self.plain_save and isinstance(call, ast.Call) \
                and isinstance(call.func, ast.Attribute) \
                and call.func.attr == "save_for_backward" \
                and isinstance(call.func.value, ast.Name) and call.func.value.id == self.ctx \
                and not call.keywords:
            saved = ast.Tuple([self.visit(a) for a in call.args], ast.Load())
            return _assign(ast.Attribute(self.visit(call.func.value), "saved_tensors",
                                         ast.Store()), saved)
        return self.generic_visit(node)


def _fold(body: list[ast.stmt], stores: dict[str, int], arrays: set[str],
          kinds: dict[str, tuple[type, int]], lookup: Callable[[str], Any]
          ) -> list[ast.stmt]:
    """Constants propagated from the top-level assignments that take them once (names
    unpacked from ctx.needs_input_grad), then the tests they and the arguments' kinds
    decide folded away. `stores`: how often `body` assigns each name."""
    for _ in range(3):              # a fold can make another assignment a constant one
        constants: dict[str, Any] = {}
        kept = []
        for statement in body:
            unpacked = _constant_unpacking(statement, stores)
            if unpacked is None:
                kept.append(statement)
            else:
                constants.update(unpacked)
        fold = _Fold(constants, arrays, kinds, lookup)
        body, stores = fold.statements(kept), fold.stores
        if not any(_constant_unpacking(statement, stores) for statement in body):
            break                   # no assignment the fold made constant: done
    return body


def _constant_unpacking(statement: ast.stmt, stores: dict[str, int]) -> dict[str, Any] | None:
    """{name: value} for `a, b = (constant, constant)` or `a = constant`, each name
    assigned there only; else None."""
    if not isinstance(statement, ast.Assign) or len(statement.targets) != 1 \
            or not isinstance(statement.value, ast.Constant):
        return None
    target, value = statement.targets[0], statement.value.value
    if isinstance(target, ast.Name):
        names, values = [target], [value]
    elif isinstance(target, ast.Tuple) and isinstance(value, tuple) \
            and len(target.elts) == len(value) \
            and all(isinstance(e, ast.Name) for e in target.elts):
        names, values = target.elts, list(value)
    else:
        return None
    if any(stores.get(n.id) != 1 for n in names):
        return None
    return {n.id: v for n, v in zip(names, values)}


class _Fold(ast.NodeTransformer):
    """Names with constant values replaced, an argument's `.ndim`, `type(a) is C` and
    `isinstance(a, C)` by its traced kind, and the expressions and branches these decide
    folded (only where the folded part has no effect of its own)."""

    def __init__(self, constants: dict[str, Any], arrays: set[str],
                 kinds: dict[str, tuple[type, int]], lookup: Callable[[str], Any]) -> None:
        self.constants, self.arrays, self.kinds, self.lookup = constants, arrays, kinds, lookup
        self.stores: dict[str, int] = {}          # how often the result assigns each name

    def value_of(self, node: ast.expr) -> Any:
        """What a name (or a name's attribute, `np.ndarray`) is in the step's namespace;
        _MISSING when not that."""
        if isinstance(node, ast.Name):
            value = self.lookup(node.id)
            return _MISSING if value is None else value
        if isinstance(node, ast.Attribute):
            owner = self.value_of(node.value)
            return _MISSING if owner is _MISSING else getattr(owner, node.attr, _MISSING)
        if isinstance(node, ast.Tuple):
            values = tuple(self.value_of(e) for e in node.elts)
            return _MISSING if _MISSING in values else values
        return _MISSING

    def kind_of(self, node: ast.expr) -> tuple[type, int] | None:
        return self.kinds.get(node.id) if isinstance(node, ast.Name) else None

    def visit_Attribute(self, node: ast.Attribute) -> ast.expr:
        node = self.generic_visit(node)
        kind = self.kind_of(node.value)
        if kind is not None and node.attr == "ndim" and isinstance(node.ctx, ast.Load):
            return ast.Constant(kind[1])
        return node

    def visit_Call(self, node: ast.Call) -> ast.expr:
        node = self.generic_visit(node)
        if len(node.args) == 2 and not node.keywords \
                and self.value_of(node.func) is builtins.isinstance:
            kind, classes = self.kind_of(node.args[0]), self.value_of(node.args[1])
            if kind is not None and classes is not _MISSING:
                return ast.Constant(issubclass(kind[0], classes))
        return node

    def statements(self, body: list[ast.stmt]) -> list[ast.stmt]:
        """The block folded, without what follows a return in it (a branch spliced in
        may bring one)."""
        out: list[ast.stmt] = []
        for statement in body:
            result = self.visit(statement)
            out.extend(result if isinstance(result, list) else [result])
            returned = next((k for k, s in enumerate(out) if isinstance(s, ast.Return)), None)
            if returned is not None:
                return out[:returned + 1]
        return out

    def visit_Name(self, node: ast.Name) -> ast.expr:
        if not isinstance(node.ctx, ast.Load):
            self.stores[node.id] = self.stores.get(node.id, 0) + 1
        elif node.id in self.constants:
            return ast.Constant(self.constants[node.id])
        return node

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> ast.ExceptHandler:
        if node.name is not None:
            self.stores[node.name] = self.stores.get(node.name, 0) + 1
        return self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> ast.expr:
        node = self.generic_visit(node)
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, tuple) \
                and isinstance(node.slice, ast.Constant) and type(node.slice.value) is int \
                and -len(node.value.value) <= node.slice.value < len(node.value.value):
            return ast.Constant(node.value.value[node.slice.value])
        return node             # (out of range: left to raise where the code reaches it)

    def visit_Compare(self, node: ast.Compare) -> ast.expr:
        node = self.generic_visit(node)
        if len(node.ops) != 1 or type(node.ops[0]) not in COMPARISONS:
            return node
        left, right = node.left, node.comparators[0]
        if isinstance(right, ast.Constant) and right.value is None \
                and isinstance(left, ast.Name) and left.id in self.arrays \
                and isinstance(node.ops[0], (ast.Is, ast.IsNot)):
            return ast.Constant(isinstance(node.ops[0], ast.IsNot))
        if isinstance(left, ast.Constant) and isinstance(right, ast.Constant):
            try:
                return ast.Constant(COMPARISONS[type(node.ops[0])](left.value, right.value))
            except Exception:   # (`0 in None`: left to raise where the code reaches it)
                return node
        if isinstance(node.ops[0], (ast.Is, ast.IsNot)) and isinstance(left, ast.Call) \
                and len(left.args) == 1 and not left.keywords \
                and self.value_of(left.func) is builtins.type:
            kind, cls = self.kind_of(left.args[0]), self.value_of(right)
            if kind is not None and isinstance(cls, type):
                return ast.Constant((kind[0] is cls) is isinstance(node.ops[0], ast.Is))
        return node

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.expr:
        node = self.generic_visit(node)
        if isinstance(node.op, ast.Not) and isinstance(node.operand, ast.Constant):
            return ast.Constant(not node.operand.value)
        return node

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.expr:
        node = self.generic_visit(node)
        values = list(node.values)
        stops = not isinstance(node.op, ast.And)          # `or` stops at a true value
        while len(values) > 1 and isinstance(values[0], ast.Constant):
            if bool(values[0].value) is stops:
                return values[0]
            values.pop(0)
        return values[0] if len(values) == 1 else ast.BoolOp(node.op, values)

    def visit_IfExp(self, node: ast.IfExp) -> ast.expr:
        node = self.generic_visit(node)
        if isinstance(node.test, ast.Constant):
            return node.body if node.test.value else node.orelse
        return node

    def visit_If(self, node: ast.If) -> ast.stmt | list[ast.stmt]:
        test = self.visit(node.test)
        if isinstance(test, ast.Constant):
            return self.statements(node.body if test.value else node.orelse)
        node.test = test
        node.body = self.statements(node.body) or [ast.Pass()]
        node.orelse = self.statements(node.orelse)
        return node


class _Signed(ast.NodeTransformer):
    """A negative number (or -0.0) as `-number`: ast.unparse writes a constant as is, so
    `(-2.0) ** x` with the constant -2.0 would read `-2.0 ** x`, which is -(2.0 ** x)."""

    def visit_Constant(self, node: ast.Constant) -> ast.expr:
        value = node.value
        if type(value) in (int, float) and math.copysign(1, value) < 0:
            return ast.UnaryOp(ast.USub(), ast.Constant(-value))
        return node


def _lower(body: list[ast.stmt], target: str) -> list[ast.stmt]:
    """`body` with each return made `target = value`: the statements after an `if` that
    returns are copied into both its branches."""
    out: list[ast.stmt] = []
    for i, statement in enumerate(body):
        if isinstance(statement, ast.Return):
            value = statement.value if statement.value is not None else ast.Constant(None)
            out.append(_assign(ast.Name(target, ast.Store()), value))
            return out
        if isinstance(statement, ast.If) and _returns(statement):
            rest = body[i + 1:]             # (each branch changes its own copy)
            statement.body = _lower(statement.body + copy.deepcopy(rest), target)
            statement.orelse = _lower(statement.orelse + rest, target)
            out.append(statement)
            return out
        if isinstance(statement, BLOCKS) and _returns(statement):
            raise Unsupported("a return inside a block")
        out.append(statement)
    out.append(_assign(ast.Name(target, ast.Store()), ast.Constant(None)))
    return out


def _returns(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Return) for n in ast.walk(node))


def _direct(body: list[ast.stmt], target: str, fresh: set[str]) -> list[ast.stmt]:
    """`x = ...; ...; target = x` (x a local of the body) written as `target = ...; ...`."""
    if not body:
        return body
    last = body[-1]
    if not (isinstance(last, ast.Assign) and isinstance(last.value, ast.Name)
            and last.value.id in fresh and isinstance(last.targets[0], ast.Name)
            and last.targets[0].id == target):
        return body
    local = last.value.id
    for node in ast.walk(ast.Module(body[:-1], [])):
        if isinstance(node, ast.Name) and node.id == local:
            node.id = target
    return body[:-1]


def _spread(body: list[ast.stmt], target: str, outputs: dict[int, str], fresh: set[str]
            ) -> list[ast.stmt] | None:
    """`...; target = (a, b, c)` written as `...; out1 = b; out2 = c` for outputs {1: out1,
    2: out2}, a local renamed to its output where it is one (`a, b` then are the outputs
    themselves); elements no output wants are left out (values the caller drops). None
    when the body does not end by assigning a tuple to `target`."""
    last = body[-1] if body else None
    if not (isinstance(last, ast.Assign) and isinstance(last.targets[0], ast.Name)
            and last.targets[0].id == target and isinstance(last.value, ast.Tuple)
            and max(outputs) < len(last.value.elts)
            and not any(isinstance(e, ast.Starred) for e in last.value.elts)):
        return None
    elements = last.value.elts
    names = [e.id for e in elements if isinstance(e, ast.Name)]
    renames: dict[str, str] = {}
    assignments: list[ast.stmt] = []
    for position in sorted(outputs):
        element = elements[position]
        if isinstance(element, ast.Name) and element.id in fresh \
                and names.count(element.id) == 1:
            renames[element.id] = outputs[position]
        else:
            assignments.append(_assign(ast.Name(outputs[position], ast.Store()), element))
    rest = body[:-1]
    for node in ast.walk(ast.Module(rest + assignments, [])):
        if isinstance(node, ast.Name) and node.id in renames:
            node.id = renames[node.id]
    return rest + assignments
