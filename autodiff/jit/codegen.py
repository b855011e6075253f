"""Code generation: a trace's records (autodiff.jit.tracing) written out as one Python
function over numpy arrays, which is what a replay runs.

Each slot becomes a variable named after what it holds (the function's argument names,
the model's parameter names, the op that made it); each record becomes a line calling
the same code eager execution calls: an op's `forward` and `backward` (the one place its
formula is written), `to_input` and `add_gradients` (backward's plumbing, where the trace
saw it needed), `accumulate_grad` (a leaf's .grad), the library calls as they are. Every
line ends with a comment naming the op and the user's line that made it. The function is
compiled once, here (`build`). The exported step (autodiff.jit.export) is written by a
subclass of the same `Writer`, overriding its hooks.
"""
from __future__ import annotations

import ast
import keyword
import linecache
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import events, versions
from ..backward import ACCUMULATING, accumulate_grad, add_gradients, to_input
from ..errors import CompileError
from ..function import output_array
from ..tensor import Tensor, as_array
from .inline import inline
from .tracing import (
    Backward,
    Call,
    ClearGrad,
    Copy,
    GradRead,
    InPlace,
    LeafStep,
    NodeStep,
    Op,
    Record,
    SetItem,
    Site,
    SlotRef,
    Tracer,
)

# names the generated lines use for themselves (and builtins `literal` writes)
_BUILTINS = {"np", "make", "bump", "to_input", "add_gradients", "accumulate_grad",
             "accumulating", "output_array", "as_array", "grad_array", "args", "arrays",
             "ctxs", "grad", "g", "slice", "Ellipsis"}


class Names:
    """Valid, keyword-safe, distinct identifiers made from hints ("fc1.weight" -> fc1_weight)."""

    def __init__(self) -> None:
        self.taken = set(_BUILTINS)

    def take(self, hint: str) -> str:
        base = re.sub(r"\W+", "_", hint).strip("_") or "v"
        if base[0].isdigit():
            base = f"layer{base}"           # a Sequential's "0.weight" -> layer0_weight
        if not base.isidentifier():
            base = "v"
        if keyword.iskeyword(base) or keyword.issoftkeyword(base):
            base += "_"
        name, count = base, 1
        while name in self.taken:
            count += 1
            name = f"{base}_{count}"
        self.taken.add(name)
        return name


def comment_text(text: str) -> str:
    """`text` safe inside a # comment: no character that could end the line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _site_comment(what: str, site: Site) -> str:
    if site is None:
        return comment_text(what)
    filename, line = site
    code = linecache.getline(filename, line).strip()
    where = f"{os.path.basename(filename)}:{line}"
    return comment_text(f"{what:<14} {where}  {code}" if code else f"{what:<14} {where}")


def literal(value: Any) -> str | None:
    """Python source that evaluates to `value`, for plain values; None for others."""
    kind = type(value)
    if value is None or value is Ellipsis or kind in (bool, int, str):
        return repr(value)
    if kind is float:
        return repr(value) if np.isfinite(value) else None
    if kind is slice:
        parts = [literal(value.start), literal(value.stop), literal(value.step)]
        return None if None in parts else f"slice({', '.join(parts)})"
    if kind in (tuple, list):
        parts = [literal(v) for v in value]
        if None in parts:
            return None
        if kind is tuple:
            return f"({parts[0]},)" if len(parts) == 1 else f"({', '.join(parts)})"
        return f"[{', '.join(parts)}]"
    return None


def grad_array(tensor: Tensor, name: str) -> np.ndarray:
    """The array of `tensor.grad`, which held a gradient when the step was traced."""
    grad = tensor._grad
    if grad is None:
        raise CompileError(f"compile: the function reads {name}.grad, which held a "
                           f"gradient when it was traced but is None now; zero "
                           f"gradients inside the function, or call it eagerly")
    return grad._data


def slots_read(records: list[Record], output: Any) -> set[int]:
    """The slots some record or the output reads (so worth a variable)."""
    read: set[int] = set()

    def refs(value: Any) -> None:
        if type(value) is SlotRef:
            read.add(value.slot)
        elif type(value) in (tuple, list):
            for part in value:
                refs(part)
        elif type(value) is dict:
            for part in value.values():
                refs(part)

    refs(output)

    for record in records:
        kind = type(record)
        if kind is Op:
            read.update(record.inputs)
            for value in record.options.values():
                refs(value)
        elif kind is Copy:
            read.add(record.source)
        elif kind is InPlace:
            read.update((record.target, record.operand))
        elif kind is SetItem:
            read.update((record.target, record.value))
            refs(record.index)
        elif kind is Backward and record.seed is not None:
            read.add(record.seed)
    return read


@dataclass
class Generated:
    source: str
    function: Any
    prepared: list[tuple[Any, int]] = field(default_factory=list)


_UNBOUND = object()
# the modules whose ops are inlined: autodiff's (its warnings filter's pattern)
LIBRARY_MODULE = re.compile(r"autodiff(\.|$)")


class Writer:
    """Turns one trace into source lines: the replay's, and the namespace they run in.

    Every record is written here, once; what the exported step (autodiff.jit.export's
    StepWriter) does differently is in the hooks below: how an object the lines use is
    named (`bind`, `helper`, `constant`), how an op's ctx is made (`context`), how the
    values of tensors from outside and their gradients are reached (`read_outside`,
    `bumped`, `read_grad`, `clear_grad`, `accumulate`, `grad_of`, `returned_slot`,
    `release`), and the library calls (`call`); and whether ops are inlined (`inlines`:
    the exported step calls the op classes it copies)."""

    inlines = True

    def __init__(self, tracer: Tracer, output: Any) -> None:
        self.tracer, self.output = tracer, output
        self.names = Names()
        self.namespace: dict[str, Any] = {
            # a module of autodiff's: numpy's floating-point warnings from inlined ops are
            # as silent as from the ops' own modules (autodiff/__init__.py's filter)
            "__name__": "autodiff.jit.replay",
            "np": np, "make": Tensor._make, "bump": versions.bump, "to_input": to_input,
            "add_gradients": add_gradients, "accumulate_grad": accumulate_grad,
            "accumulating": ACCUMULATING,
            "output_array": output_array, "as_array": as_array, "grad_array": grad_array}
        self.bound: dict[int, str] = {}         # id(object) -> its name in the namespace
        self.variables: dict[int, str] = {}     # slot -> variable
        self.tensor_names: dict[int, str] = {}  # position -> expression for the Tensor
        self.used: set[int] = set()             # slots read by some line
        self.lines: list[str] = []
        self.indent = "    "                     # of the lines `emit` writes
        self.grad_shapes: list[tuple[tuple[int, ...], np.dtype]] = []
        self.read = slots_read(tracer.records, output)
        self.leaf_grads: dict[int, str] | None = None     # position -> its gradient variable
        # slot -> position, for the arrays of tensors (arguments, parameters, ...): a
        # library call (optimizer.step() rebuilding its flat buffers) may give one of them
        # a new array, so a line after a call reads the array again (`reread`)
        by_argument = {index: position for position, index in tracer.input_positions.items()}
        self.tensor_slots: dict[int, int] = {
            **{slot: by_argument[index] for slot, index, is_tensor in tracer.inputs
               if is_tensor and index in by_argument},       # (step(x, x): one of them)
            **dict(tracer.externals)}
        # the names of the arguments and of the tensors read from outside, taken first:
        # inlined ops' locals take others
        self.reserved = {slot: self.names.take(tracer.slot_names[slot])
                         for slot in [slot for slot, _, _ in tracer.inputs]
                         + [slot for slot, _ in tracer.externals]
                         if slot in self.read and slot not in tracer.constants}
        self.called = False                     # a library call was written
        # objects whose step is replayed prepared (an optimizer's `prepared_step`), with
        # their change counts then, which the program's guards keep
        self.prepared: list[tuple[Any, int]] = []
        self.prepared_names: dict[int, str] = {}
        self.stale: set[int] = set()            # slots read before the last library call
        self.read_inline: set[int] = set()      # slots first read after a library call

    # ---------------------------------------------------------------- hooks

    def bind(self, value: Any, hint: str) -> str:
        """The name the lines use for an object (an op class, a ctx, a constant): a name
        in the replay's namespace, bound to it."""
        name = self.bound.get(id(value))
        if name is None:
            name = self.bound[id(value)] = self.names.take(hint)
            self.namespace[name] = value
        return name

    def helper(self, function: Callable[..., Any]) -> str:
        """The name the lines call a library function by (as_array, output_array,
        to_input, add_gradients): the namespace holds each under its own name."""
        return function.__name__

    def constant(self, value: Any, hint: str) -> str:
        """Source for a value with no literal (an array the trace baked in, a dtype, a
        ufunc): bound in the namespace, a dtype under its name, anything else as
        `constant` (`hint`, the slot or option it is the value of, goes unused)."""
        return self.bind(value, str(value) if isinstance(value, np.dtype) else "constant")

    def context(self, ctx: Any, op: type, hint: str) -> str:
        """The name of an op's ctx (the trace made it; each replay refills it)."""
        return self.bind(ctx, hint)

    def read_outside(self, slot: int, name: str) -> None:
        """`slot`, read before any line assigns it, holds an argument or a tensor from
        outside; `build` reads it into `name` at the top of the function."""

    def reread(self, slot: int, name: str, again: bool = True) -> None:
        """`slot` holds the array of a tensor (an argument, a parameter), read after a
        library call that may have given the tensor a new array (`optimizer.step()`
        rebuilding its flat buffers when a step hook assigned `p.data`): read it into
        `name` here, as eager code reads the tensor's array when it uses it (`again`:
        `name` was read before the call)."""
        self.emit(f"{name} = {self.tensor(self.tensor_slots[slot])}._data",
                  "read again: a library call above may have replaced it" if again else "")

    def bumped(self, position: int) -> None:
        """A line wrote into the array of tracer.tensors[position] in place: count the
        change in the tensor's version, as eager execution does."""
        self.emit(f"bump({self.tensor(position)})", "")

    def read_grad(self, position: int, name: str) -> str:
        """The expression for the array of a tensor's .grad, which the function reads
        (as `name`.grad)."""
        return f"grad_array({self.tensor(position)}, {name!r})"

    def clear_grad(self, position: int) -> str:
        """The line setting a tensor's .grad to None."""
        return f"{self.tensor(position)}._grad = None"

    def accumulate(self, step: LeafStep, grad: str) -> str:
        """The line adding the gradient in the variable `grad` to a leaf's .grad."""
        if step.scalar:
            grad = f"np.asarray({grad})"
        return f"accumulate_grad({self.tensor(step.tensor)}, {grad})"

    def grad_of(self, position: int) -> str:
        """The expression for the array of a leaf's .grad just accumulated."""
        return f"{self.tensor(position)}._grad._data"

    def returned_slot(self, slot: int) -> str:
        """What the function returns for a tensor of the output: a Tensor made on the
        slot's array."""
        return f"make({self.variable(slot)})"

    def release(self) -> None:
        """Before a leaf's gradient is accumulated, when a node's backward left a tuple
        in `g`: let go of the tuple, so that a gradient it holds becomes .grad without
        a copy (accumulate_grad keeps, uncopied, an array nothing else holds)."""
        self.emit("g = None", "")

    # ---------------------------------------------------------------- names

    def variable(self, slot: int) -> str:
        """The expression for the value in `slot` (a variable, or a constant)."""
        tracer = self.tracer
        if slot in tracer.constants:
            return self.expression(tracer.constants[slot], tracer.slot_names[slot])
        self.used.add(slot)
        name = self.variables.get(slot)
        if name is None:
            name = self.define(slot)
            if self.called and slot in self.tensor_slots:
                self.read_inline.add(slot)
                self.reread(slot, name, again=False)
            else:
                self.read_outside(slot, name)
        elif slot in self.stale:
            self.stale.discard(slot)
            self.reread(slot, name)
        return name

    def define(self, slot: int) -> str:
        """The variable a line assigns to `slot`."""
        name = self.reserved.pop(slot, None) or self.names.take(self.tracer.slot_names[slot])
        self.variables[slot] = name
        return name

    def tensor(self, position: int) -> str:
        """The expression for the Tensor tracer.tensors[position]: an argument, or bound."""
        name = self.tensor_names.get(position)
        if name is None:
            index = self.tracer.input_positions.get(position)
            if index is not None:
                name = f"args[{index}]"
            else:
                t = self.tracer.tensors[position]
                hint = self.tracer.names.get(id(t)) or t.name or "tensor"
                name = self.bind(t, f"{hint}_tensor")
            self.tensor_names[position] = name
        return name

    def expression(self, value: Any, hint: str = "constant") -> str:
        """Source for a recorded value: slot references become variables, tuples and
        plain values are written out, anything else is a `constant`."""
        if type(value) is SlotRef:
            return self.variable(value.slot)
        if type(value) is tuple:
            parts = [self.expression(v, hint) for v in value]
            return f"({parts[0]},)" if len(parts) == 1 else f"({', '.join(parts)})"
        text = literal(value)
        if text is not None:
            return text
        return self.constant(value, hint)

    def emit(self, code: str, comment: str) -> None:
        self.lines.append(f"{self.indent}{code:<44}  # {comment}" if comment
                          else f"{self.indent}{code}")

    # ---------------------------------------------------------------- records

    def write(self, record: Record) -> None:
        kind = type(record)
        if kind is Op:
            self.op(record)
        elif kind is Backward:
            self.backward(record)
        elif kind is Copy:
            dtype = self.expression(record.dtype)
            self.emit(f"{self.define(record.out)} = {self.helper(as_array)}("
                      f"{self.variable(record.source)}, {dtype})",
                      _site_comment("tensor", record.site))
        elif kind is Call:
            self.call(record)
        elif kind is InPlace:
            target = self.variable(record.target)
            name = record.ufunc.__name__
            self.emit(f"np.{name}({target}, {self.variable(record.operand)}, out={target}, "
                      f"casting='same_kind')", _site_comment(f"{name}_", record.site))
            if record.tensor is not None:
                self.bumped(record.tensor)
        elif kind is SetItem:
            self.emit(f"{self.variable(record.target)}[{self.expression(record.index)}] = "
                      f"{self.variable(record.value)}", _site_comment("setitem", record.site))
            if record.tensor is not None:
                self.bumped(record.tensor)
        elif kind is GradRead:
            self.emit(f"{self.define(record.out)} = {self.read_grad(record.tensor, record.name)}",
                      comment_text(f"{record.name}.grad"))
        elif kind is ClearGrad:
            self.emit(self.clear_grad(record.tensor), "p.grad = None")

    def op(self, record: Op) -> None:
        ctx = self.context(record.ctx, record.op, f"ctx_{self.tracer.slot_names[record.out]}")
        arguments = [self.variable(slot) for slot in record.inputs]
        options = {key: self.expression(value, key) for key, value in record.options.items()}
        target = self.define(record.out)
        kinds = {name: kind for name, kind in zip(arguments, record.kinds) if kind is not None}
        self.run_op(record.op, "forward", record.ctx, ctx, arguments, options, kinds, target,
                    _site_comment(record.op.op_name(), record.site))
        if record.scalar:                        # numpy gives 0-d results as scalars
            self.emit(f"{target} = {self.helper(output_array)}({ctx}, {target})", "")

    def run_op(self, op: type, which: str, ctx_object: Any, ctx: str, arguments: list[str],
               options: dict[str, str], kinds: dict[str, Any], target: str,
               comment: str) -> None:
        """The lines of `target = op.which(ctx, *arguments, **options)` (which: forward or
        backward): the method's body written out (autodiff.jit.inline) when it can be,
        else the call. `kinds`: (type, ndim) of argument variables' arrays, as traced."""
        self.emit_lines(self.inlined(op, which, ctx_object, ctx, arguments, options, kinds,
                                     target) or self.called_op(op, which, ctx, arguments,
                                                               options, target), comment)

    def inlined(self, op: type, which: str, ctx_object: Any, ctx: str, arguments: list[str],
                options: dict[str, str], kinds: dict[str, Any], target: str,
                outputs: dict[int, str] | None = None) -> tuple[list[str], bool] | None:
        """`autodiff.jit.inline.inline` for this step: for autodiff's own ops (None for
        others, which are called). An inlined body's numpy warnings are as silent as in
        the op's module, since the step's namespace is a module of autodiff's too (see
        `namespace`); another module's op warns as its module does, from its call."""
        if not self.inlines or not LIBRARY_MODULE.match(op.__module__):
            return None
        return inline(op, which, arguments, options, ctx, ctx_object._needs_input_grad,
                      kinds, target, self.names.take, self.bind_global, outputs)

    def called_op(self, op: type, which: str, ctx: str, arguments: list[str],
                  options: dict[str, str], target: str) -> tuple[list[str], bool]:
        """The line `target = Op.which(ctx, ...)`, for an op not inlined."""
        call = ", ".join([ctx, *arguments, *(f"{k}={v}" for k, v in options.items())])
        return [f"{target} = {self.bind(op, op.__name__)}.{which}({call})"], False

    def emit_lines(self, written: tuple[list[str], bool], comment: str) -> None:
        lines, _ = written
        self.emit(lines[0], comment)
        for line in lines[1:]:
            self.emit(line, "")

    def bind_global(self, name: str, value: Any) -> str:
        """The name inlined lines reach a global of an op's module by: its own when the
        namespace holds it or it is free."""
        return name if self.namespace.get(name, _UNBOUND) is value else self.bind(value, name)

    def call(self, record: Call) -> None:
        """A library call the trace recorded, made as it was (on the same objects); an
        object's `step()` without arguments as its `prepared_step()` when it has one that
        applies (an optimizer without hooks, on its flat buffers)."""
        function = record.function
        qualname = getattr(function, "__qualname__", getattr(function, "__name__", "call"))
        args = record.args
        owner, _, method = qualname.rpartition(".")
        if args and owner and any(getattr(cls, "__qualname__", "") == owner
                                  for cls in type(args[0]).__mro__):
            name = f"{self.bind(args[0], type(args[0]).__name__.lower())}.{method}"
            if method == "step" and len(args) == 1 and not record.kwargs \
                    and record.out is None:
                prepared = self.prepare(args[0])
                if prepared is not None:
                    self.emit(f"{prepared}()", _site_comment(f"{qualname} (prepared)",
                                                            record.site))
                    self.called_library()
                    return
            args = args[1:]
        else:
            name = self.bind(function, qualname.replace(".", "_"))
        arguments = []
        for value in args:
            text = literal(value)
            arguments.append(text if text is not None
                             else self.bind(value, type(value).__name__.lower()))
        for key, value in record.kwargs.items():
            text = literal(value)
            arguments.append(f"{key}={text if text is not None else self.bind(value, key)}")
        call = f"{name}({', '.join(arguments)})"
        if record.out is not None:
            self.emit(f"{self.define(record.out)} = {call}._data",
                      _site_comment(qualname, record.site))
        else:
            self.emit(call, _site_comment(qualname, record.site))
            self.called_library()               # (a random draw replaces no array)

    def called_library(self) -> None:
        """A library call was written: the arrays of tensors read before it are read
        again where used after it (`reread`)."""
        self.called = True
        self.stale.update(slot for slot in self.variables if slot in self.tensor_slots)

    def prepare(self, obj: Any) -> str | None:
        """The name of `obj.prepared_step()` in the namespace, made once per object; None
        when `obj` has none or it does not apply now. The change count `obj` has now is
        kept with it: a replay is valid while it stays (`Guards.prepared`)."""
        prepare = getattr(obj, "prepared_step", None)
        if not callable(prepare):
            return None
        name = self.prepared_names.get(id(obj))
        if name is None:
            prepared = prepare()
            if prepared is None:
                return None
            self.prepared.append((obj, events.change_count(obj)))
            name = self.prepared_names[id(obj)] = self.bind(
                prepared, type(obj).__name__.lower() + "_step")
        return name

    def backward(self, record: Backward, seed: str | None = None) -> None:
        """The lines of a backward pass: the seed, then each node's backward in the eager
        walk's order, gradients summed (and unbroadcast) where the trace saw it, and each
        leaf's gradient accumulated. `seed`: the variable holding dL/doutput when it is
        given (a compiled forward's backward), else the loss's seed is made here."""
        grads = [self.names.take("d_" + (self.variables.get(name, self.tracer.slot_names[name])
                                         if type(name) is int else name))
                 for name in record.grad_names]
        self.grad_shapes = record.grad_shapes
        dtypes = [self.expression(dtype) for _, dtype in record.grad_shapes]
        root = grads[record.root]
        if seed is not None:
            grads[record.root] = seed
        elif record.seed is None:           # np.array: a fifth of np.ones's time for a 0-d seed
            ones = f"np.array(1, {self.expression(record.dtype)})" if not record.shape else \
                f"np.ones({literal(tuple(record.shape))}, {self.expression(record.dtype)})"
            self.emit(f"{root} = {ones}", "loss.backward(): dL/dloss = 1")
        else:
            self.emit(f"{root} = np.array({self.variable(record.seed)}, "
                      f"dtype={self.expression(record.dtype)})", "loss.backward(gradient)")
        assigned = {record.root}
        tuple_held = False
        leaves: list[LeafStep] = []
        for step in record.walk:
            if type(step) is NodeStep:
                self.leaves(leaves, grads)
                leaves = []
                tuple_held = self.node(step, grads, dtypes, assigned) or tuple_held
            else:
                if tuple_held:
                    self.release()
                    tuple_held = False
                leaves.append(step)
        self.leaves(leaves, grads)

    def node(self, step: NodeStep, grads: list[str], dtypes: list[str],
             assigned: set[int]) -> bool:
        """The lines of one node's backward; True when they leave a tuple in `g`."""
        ctx = self.context(step.ctx, step.op, "ctx")
        comment = _site_comment(f"d {step.op.op_name()}", step.site)
        grad = grads[step.output]
        kinds = {grad: step.grad_kind} if step.grad_kind is not None else {}
        if not step.tuple_returned and len(step.sends) == 1 and not any(step.sends[0][2:]) \
                and step.sends[0][1] not in assigned and not step.scalars:
            self.run_op(step.op, "backward", step.ctx, ctx, [grad], {}, kinds,
                        grads[step.sends[0][1]], comment)
            assigned.add(step.sends[0][1])
            return False
        # each gradient straight to its variable when every send takes it as it is, to a
        # variable of its own (x * x sends twice to x's: the second adds)
        outputs = {position: grads[variable] for position, variable, reshape, cast
                   in step.sends if not reshape and not cast and variable not in assigned
                   and position not in step.scalars}
        if step.tuple_returned and len(set(outputs.values())) == len(step.sends) and outputs:
            written = self.inlined(step.op, "backward", step.ctx, ctx, [grad], {}, kinds, "g",
                                   outputs)
            if written is not None and written[1]:
                self.emit_lines(written, comment)
                assigned.update(variable for _, variable, _, _ in step.sends)
                return False
        self.run_op(step.op, "backward", step.ctx, ctx, [grad], {}, kinds, "g", comment)
        for position, variable, reshape, cast in step.sends:
            value = f"g[{position}]" if step.tuple_returned else "g"
            if position in step.scalars:            # as backward makes it, an array
                value = f"np.asarray({value})"
            if reshape or cast:
                shape = literal(tuple(self.grad_shapes[variable][0]))
                value = f"{self.helper(to_input)}({value}, {shape}, {dtypes[variable]})"
            target = grads[variable]
            if variable in assigned:
                self.emit(f"{target} = {self.helper(add_gradients)}({target}, {value})", "")
            else:
                self.emit(f"{target} = {value}", "")
                assigned.add(variable)
        return True

    def leaves(self, steps: list[LeafStep], grads: list[str]) -> None:
        """The lines of leaves the walk reached one after another: their gradients
        accumulated under backward's lock (`accumulate_grad`'s callers hold it), taken
        once for them all."""
        if not steps:
            return
        locked = self.leaf_grads is None
        if locked:
            self.emit("with accumulating:", "")
            self.indent += "    "
        for step in steps:
            self.leaf(step, grads)
        if locked:
            self.indent = self.indent[:-4]

    def leaf(self, step: LeafStep, grads: list[str]) -> None:
        if self.leaf_grads is not None:          # a compiled forward's backward returns them
            self.leaf_grads[step.tensor] = grads[step.grad]
            return
        self.emit(self.accumulate(step, grads[step.grad]), "")
        if step.out is not None and step.out in self.read:
            self.emit(f"{self.define(step.out)} = {self.grad_of(step.tensor)}", "")

    # ---------------------------------------------------------------- the function

    def returned(self, template: Any) -> str:
        """The expression the function returns: the output template, its tensors'
        values written by `returned_slot`."""
        if type(template) is SlotRef:
            return self.returned_slot(template.slot)
        if type(template) in (tuple, list):
            parts = [self.returned(part) for part in template]
            if type(template) is list:
                return f"[{', '.join(parts)}]"
            return f"({parts[0]},)" if len(parts) == 1 else f"({', '.join(parts)})"
        if type(template) is dict:
            return "{" + ", ".join(f"{self.expression(key)}: {self.returned(value)}"
                                   for key, value in template.items()) + "}"
        return self.expression(template)


def build(tracer: Tracer, output: Any, name: str) -> Generated:
    """The replay function of a traced step, `name(args)`, and its source."""
    writer = Writer(tracer, output)
    for record in tracer.records:
        writer.write(record)
    returned = writer.returned(output)
    reads = []
    for slot, index, is_tensor in tracer.inputs:
        if slot in writer.used and slot not in writer.read_inline:
            reads.append(f"    {writer.variables[slot]} = args[{index}]"
                         f"{'._data' if is_tensor else ''}")
    for slot, position in tracer.externals:
        if slot in writer.used and slot not in writer.read_inline:
            reads.append(f"    {writer.variables[slot]} = {writer.tensor(position)}._data")
    function_name = writer.names.take(name)     # (no name the lines use)
    source = saved_read_directly("\n".join([f"def {function_name}(args):", *reads,
                                             *writer.lines, f"    return {returned}", ""]))
    return Generated(source, run_once(source, function_name, writer.namespace),
                     writer.prepared)


def saved_read_directly(source: str) -> str:
    """`source` (one generated function) with each op context that only carries saved
    values from an inlined forward to its inlined backward taken out: the backward reads
    the forward's variables instead (`x_5, w_2 = x, w` for `x_5, w_2 =
    ctx_linear.saved_tensors`), and the forward's `ctx_linear.saved_tensors = (x, w)`
    goes, its comment kept. So when the context's name appears only in one top-level
    `ctx.saved_tensors = (names and constants)` and in reads of `ctx.saved_tensors`
    after it, and each of those names is assigned exactly once in the function (so it
    holds, wherever it is read, what the forward saved).

    Only the lines that mention those names are parsed, each on its own (every line of a
    generated function is one simple statement or a block's header); a line that does
    not parse so keeps what it mentions as it is."""
    if ".saved_tensors = (" not in source:
        return source
    lines = source.split("\n")
    codes = [line.split("  # ", 1)[0] for line in lines]
    mentions: dict[str, list[int]] = {}
    for index, code in enumerate(codes):
        # (a string in the code may hold "  # ": then the whole line is searched, and the
        # cut code does not parse, so what the line mentions is kept as it is)
        text = lines[index] if "'" in code or '"' in code else code
        for word in set(_IDENTIFIER.findall(text)):
            mentions.setdefault(word, []).append(index)
    parsed: dict[int, ast.stmt | None] = {}

    def parse(index: int) -> ast.stmt | None:
        if index not in parsed:
            parsed[index] = _statement(codes[index])
        return parsed[index]

    dropped: list[int] = []
    for index, code in enumerate(codes):
        match = _SAVE.match(code)
        save = parse(index) if match else None
        if not (type(save) is ast.Assign and type(save.value) is ast.Tuple
                and all(type(e) is ast.Constant or type(e) is ast.Name
                        for e in save.value.elts)):
            continue
        ctx, saved = match.group(1), save.value.elts
        reads = _saved_reads(ctx, index, mentions[ctx], parse)
        if reads is None or not all(type(e) is ast.Constant
                                    or _stored_once(e.id, mentions.get(e.id, []), parse)
                                    for e in saved):
            continue
        values = ", ".join(ast.unparse(e) for e in saved)
        as_tuple = f"({values},)" if len(saved) == 1 else values
        for line, statement, read in reads:
            target = statement.targets[0] if type(statement) is ast.Assign \
                and statement.value is read else None
            if target is None:
                code = _replaced(codes[line], read, as_tuple)
            elif type(target) is ast.Tuple and len(target.elts) == 1 and len(saved) == 1:
                code = _replaced(codes[line], statement,                # `y, = ` as `y = `
                                 f"{ast.unparse(target.elts[0])} = {values}")
            else:
                code = _replaced(codes[line], read, as_tuple)
            lines[line] = _commented(code, lines[line][len(codes[line]):])
        dropped.append(index)
    for index in reversed(dropped):     # the op's comment goes to its next line
        comment = lines[index][len(codes[index]):].strip()
        if comment and "#" not in lines[index + 1]:
            lines[index + 1] = _commented(lines[index + 1], "  " + comment)
        elif comment:
            lines.insert(index + 1, codes[index][:len(codes[index]) - len(
                codes[index].lstrip())] + comment)
        del lines[index]
    return "\n".join(lines)


_IDENTIFIER = re.compile(r"[^\W\d]\w*")
_SAVE = re.compile(r"    (\w+)\.saved_tensors = \(")          # (top level: four spaces)


def _statement(code: str) -> ast.stmt | None:
    """The statement one line of a generated function holds (a block's header with `pass`
    as its body); None when the line alone does not parse (`else:`, `except E as e:`)."""
    text = code.strip()
    try:
        return ast.parse(text + " pass" if text.endswith(":") else text).body[0]
    except SyntaxError:
        return None


def _saved_reads(ctx: str, save: int, lines: list[int],
                 statement_at: Callable[[int], ast.stmt | None]
                 ) -> list[tuple[int, ast.stmt, ast.Attribute]] | None:
    """Each read of `ctx.saved_tensors` (its line, statement and the attribute) when every
    line mentioning `ctx` but the save, at line `save`, comes after it and uses `ctx` only
    so; else None."""
    reads = []
    for line in lines:
        if line == save:
            continue
        statement = statement_at(line) if line > save else None
        if statement is None:
            return None
        names = attributes = 0
        for node in ast.walk(statement):
            if type(node) is ast.Name and node.id == ctx:
                if type(node.ctx) is not ast.Load:
                    return None
                names += 1
            elif type(node) is ast.Attribute and type(node.value) is ast.Name \
                    and node.value.id == ctx:
                if node.attr != "saved_tensors" or type(node.ctx) is not ast.Load:
                    return None
                attributes += 1
                reads.append((line, statement, node))
        if names != attributes:
            return None
    return reads


def _stored_once(name: str, lines: list[int],
                 statement_at: Callable[[int], ast.stmt | None]) -> bool:
    """Whether `lines` (those of a generated function that mention `name`) assign `name`
    exactly once."""
    stores = 0
    for line in lines:
        statement = statement_at(line)
        if statement is None:
            return False
        stores += sum(1 for node in ast.walk(statement) if type(node) is ast.Name
                      and node.id == name and type(node.ctx) is not ast.Load)
    return stores == 1


def _replaced(code: str, node: ast.AST, text: str) -> str:
    """A line's code with the source of `node` (parsed from the code without its
    indentation) replaced by `text`."""
    indent = len(code) - len(code.lstrip())
    encoded = code.encode()             # (ast's offsets count UTF-8 bytes)
    return (encoded[:indent + node.col_offset].decode() + text
            + encoded[indent + node.end_col_offset:].decode())


def _commented(code: str, comment: str) -> str:
    """A line's code and its comment (`comment`: what followed the code, "  # ..."),
    aligned as `Writer.emit` aligns them."""
    comment = comment.strip()
    return f"{code.rstrip():<48}  {comment}" if comment else code.rstrip()


def build_forward(tracer: Tracer, output: SlotRef, name: str) -> tuple[Generated, Generated]:
    """A traced forward whose output requires grad, as two functions over arrays:
    `name(ctxs, arrays) -> output` and `name_backward(ctxs, grad) -> one gradient per
    array`, `arrays` being the arguments' then the outside tensors' (the inputs of the
    replay's one graph node, `autodiff.jit.compiled.CompiledForward`); `ctxs`: fresh op
    contexts for each call, in the order of `contexts(tracer)`."""
    *forward_records, backward_record = tracer.records
    writer = Writer(tracer, output)
    writer.tensor_slots = {}         # the arrays are the node's inputs, read once
    for record in forward_records:
        writer.write(record)
    returned = writer.variable(output.slot)
    reads = []
    order = input_order(tracer)
    for slot, index, _ in tracer.inputs:
        if slot in writer.used:
            reads.append(f"    {writer.variables[slot]} = arrays[{index}]")
    for slot, position in tracer.externals:
        if slot in writer.used:
            reads.append(f"    {writer.variables[slot]} = arrays[{order.index(position)}]")
    contexts = [writer.bound[id(ctx)] for ctx in replay_contexts(tracer)]
    unpack = [f"    {', '.join(contexts)}, = ctxs"] if contexts else []
    forward_name = writer.names.take(name)
    forward = "\n".join([f"def {forward_name}(ctxs, arrays):", *unpack, *reads,
                         *writer.lines, f"    return {returned}", ""])
    writer.lines = []
    writer.leaf_grads = {}
    writer.backward(backward_record, seed="grad")
    grads = [writer.leaf_grads.get(position, "None") for position in order]
    backward_name = writer.names.take(f"{forward_name}_backward")
    backward = "\n".join([f"def {backward_name}(ctxs, grad):", *unpack, *writer.lines,
                          f"    return ({', '.join(grads)},)", ""])
    return (Generated(forward, run_once(forward, forward_name, writer.namespace)),
            Generated(backward, run_once(backward, backward_name, writer.namespace)))


def input_order(tracer: Tracer) -> list[int]:
    """The tensor positions in the order of a compiled forward's arrays: the arguments
    (tensor arguments by position; array arguments hold -1), then the outside tensors."""
    by_argument = {index: position for position, index in tracer.input_positions.items()}
    arguments = [by_argument.get(index, -1) for _, index, _ in tracer.inputs]
    return arguments + [position for _, position in tracer.externals]


def replay_contexts(tracer: Tracer) -> list[Any]:
    """The op contexts of a trace's forward, in order."""
    return [record.ctx for record in tracer.records if type(record) is Op]


def run_once(source: str, name: str, namespace: dict[str, Any]) -> Any:
    """Compile and define the generated function `name` (registered with linecache, so
    tracebacks show its lines): the replays', and a program's guards
    (`autodiff.jit.compiled.build_check`)."""
    filename = f"<ad.compile {name} {id(source):x}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), namespace)   # noqa: S102 - the one place generated code runs
    return namespace[name]
