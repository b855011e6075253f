"""Tracing: run a function once, eagerly, as the watcher of `autodiff.events`, and write
down what it does as a list of records over *slots*: every array the trace sees (an
argument, a parameter, an op's output, a gradient, a constant) gets one, and the code
generator (`autodiff.jit.codegen`) turns each slot into a variable and each record into
a line or two of Python.

    Op        an op's forward on the arrays in its input slots, with its options
    Copy      a tensor made from data inside the function: a fresh copy every call
    Call      a library call repeated as a whole (optimizer.step(), a random draw)
    InPlace   `t -= v` (or +=, *=, /=) outside the graph
    SetItem   `t[i] = v` outside the graph
    GradRead  `p.grad` as it was before this call's backward
    Backward  `loss.backward()`: each node's backward, in the order the eager walk ran
              them (seen through its Observer), the gradients summed as it summed them,
              and each leaf's .grad accumulated

A problem met while tracing (`Tracer.problem`: a value read, a hook, ...) says why the
function cannot be recorded at all; its first line in the user's code is kept.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..backward import run_backward, topological_order
from ..errors import CompileError
from ..sites import user_frame
from ..tensor import Tensor, array_of


class Problem(Exception):
    """Why what the function did cannot be replayed, and where in the user's code."""

    def __init__(self, reason: str, site: tuple[str, int] | None) -> None:
        super().__init__(reason)
        self.reason, self.site = reason, site

    def __str__(self) -> str:
        where = f" (at {self.site[0]}:{self.site[1]})" if self.site else ""
        return self.reason + where


class SlotRef:
    """In a recorded option (an index tuple): 'the array in this slot'."""

    __slots__ = ("slot",)

    def __init__(self, slot: int) -> None:
        self.slot = slot


Site = tuple[str, int] | None
Kind = tuple[type, int] | None     # (type, ndim) of an array value (`kind`)


@dataclass
class Op:
    """out = op.forward(ctx, *inputs, **options)."""
    op: type
    ctx: Any
    inputs: list[int]
    options: dict[str, Any]
    out: int
    scalar: bool          # a 0-d result, which numpy may give as a scalar
    site: Site
    kinds: tuple[Kind, ...] = ()    # each input's, as forward saw it (inlining folds them)


@dataclass
class Copy:
    """out = a fresh array of `dtype` with the values in slot `source`."""
    source: int
    dtype: np.dtype
    out: int
    site: Site


@dataclass
class Call:
    """function(*args, **kwargs), repeated as a whole; `out`: the slot of the array of
    the tensor it returns (a random draw), or None."""
    function: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    out: int | None
    site: Site


@dataclass
class InPlace:
    """ufunc(target, operand, out=target); `tensor`: the position of the tensor whose
    version to bump, or None for an array made inside the function."""
    ufunc: np.ufunc
    target: int
    operand: int
    tensor: int | None
    site: Site


@dataclass
class SetItem:
    """target[index] = value (`index` may hold SlotRefs)."""
    target: int
    index: Any
    value: int
    tensor: int | None
    site: Site


@dataclass
class GradRead:
    """out = the array of tensors[tensor].grad (a gradient from an earlier call)."""
    tensor: int
    out: int
    name: str


@dataclass
class ClearGrad:
    """tensors[tensor].grad = None."""
    tensor: int


@dataclass
class NodeStep:
    """One node of the backward walk: its backward on the gradient of `output`."""
    op: type
    ctx: Any
    output: int                        # the gradient variable it reads
    tuple_returned: bool = True
    sends: list[tuple[int, int, bool, bool]] = field(default_factory=list)
    #         (position, gradient variable, summed to the input's shape, cast)
    site: Site = None
    grad_kind: Kind = None             # the gradient's, as backward saw it
    # positions of the gradients returned as numpy scalars (0-d results), which
    # backward makes arrays before sending them on (and so does the replay)
    scalars: set[int] = field(default_factory=set)


@dataclass
class LeafStep:
    """A leaf's gradient is complete: accumulate it into tensors[tensor].grad; its
    array then goes to slot `out` (for a hand-written update that reads p.grad)."""
    tensor: int
    grad: int
    scalar: bool
    out: int | None = None


@dataclass
class Backward:
    """`loss.backward(gradient)`: the seed, then the walk."""
    seed: int | None               # the slot of the given gradient, or None for ones
    shape: tuple[int, ...]
    dtype: np.dtype
    root: int                      # the gradient variable of the loss
    grad_names: list[str | int]    # each gradient variable's tensor: its slot, or a name
    grad_shapes: list[tuple[tuple[int, ...], np.dtype]]
    walk: list[NodeStep | LeafStep] = field(default_factory=list)


Record = Op | Copy | Call | InPlace | SetItem | GradRead | ClearGrad | Backward


class Tracer:
    """Watches one eager call of a function and writes down its records (see the module
    docstring). `problem` is set, and recording stops, at the first thing that cannot be
    replayed; with `fullgraph=True` that raises CompileError there instead."""

    def __init__(self, arguments: list[Any], argument_names: list[str],
                 fullgraph: bool) -> None:
        self.fullgraph = fullgraph
        self.problem: Problem | None = None
        self.paused = 0
        self.records: list[Record] = []
        self.slot_of: dict[int, int] = {}        # id(array) -> its slot
        self.slot_names: list[str] = []          # a name hint for each slot
        self.constants: dict[int, Any] = {}      # slot -> a constant value
        self.alive: list[Any] = []               # keeps every array seen alive: ids stay unique
        self.tensors: list[Tensor] = []          # Tensor objects records refer to
        self.position_of: dict[int, int] = {}    # id(tensor) -> position in self.tensors
        self.externals: list[tuple[int, int]] = []     # (slot, position): parameters, ...
        self.inputs: list[tuple[int, int, bool]] = []  # (slot, argument index, is tensor)
        self.input_positions: dict[int, int] = {}      # position -> argument index
        self.contexts: dict[int, Any] = {}       # id(eager node) -> its replay ctx
        self.created_leaves: set[int] = set()
        self.backward_roots: set[int] = set()
        self.names: dict[int, str] = {}          # id(tensor or module) -> its name in the model
        self.modules: dict[int, tuple[Any, bool, int, str]] = {}
        self.frozen: list[tuple[str, Any, Site]] = []   # numbers baked in: (op, value, site)
        self.pending: Backward | None = None
        self.pending_leaves: list[tuple[LeafStep, Tensor]] = []
        self.grad_of: dict[int, int] = {}        # id(tensor) -> gradient variable (pending)
        for index, (value, name) in enumerate(zip(arguments, argument_names)):
            if isinstance(value, Tensor):
                if value.grad_fn is not None:
                    self.fail("an argument is a tensor computed by ops (it has a graph "
                              "outside the function); pass it after .detach()")
                slot = self._new_slot(value._data, name)
                self.inputs.append((slot, index, True))
                position = self._position(value)
                self.input_positions[position] = index
            elif isinstance(value, np.ndarray):
                self.inputs.append((self._new_slot(value, name), index, False))

    # ---------------------------------------------------------------- bookkeeping

    def fail(self, reason: str) -> None:
        """Record why the function cannot be replayed (the first reason wins)."""
        if self.problem is not None:
            return
        frame = user_frame()
        site = (frame.f_code.co_filename, frame.f_lineno) if frame else None
        self.problem = Problem(reason, site)
        if self.fullgraph:
            raise CompileError(f"compile(fullgraph=True): {self.problem}")

    def _new_slot(self, array: Any, name: str) -> int:
        slot = len(self.slot_names)
        self.slot_names.append(name)
        if array is not None:
            self.slot_of[id(array)] = slot
            self.alive.append(array)
        return slot

    def _constant(self, value: Any, name: str = "constant") -> int:
        slot = self._new_slot(None, name)
        self.constants[slot] = value
        return slot

    def _position(self, tensor: Tensor) -> int:
        position = self.position_of.get(id(tensor))
        if position is None:
            position = self.position_of[id(tensor)] = len(self.tensors)
            self.tensors.append(tensor)
        return position

    def _source(self, value: Any, array: Any) -> int:
        """The slot an op's input comes from (registering parameters and constants)."""
        slot = self.slot_of.get(id(array))
        if slot is not None:
            return slot
        if isinstance(value, Tensor):
            if value.grad_fn is not None:
                self.fail("the function uses a tensor computed by ops before it was called "
                          "(its graph is outside the function); compute it inside, or "
                          "pass it as an argument after .detach()")
                return self._constant(array)
            slot = self._new_slot(array, self.names.get(id(value)) or value.name or "tensor")
            self.externals.append((slot, self._position(value)))
            return slot
        return self._constant(value)

    def _index_arrays(self, index: Any) -> Any:
        """An index with each tensor in it replaced by its array, given a slot (so a
        replay indexes by the call's tensor, not the traced one's numbers)."""
        if isinstance(index, Tensor):
            self._source(index, index._data)
            return index._data
        if type(index) is tuple:
            return tuple(self._index_arrays(part) for part in index)
        return index

    def _option(self, value: Any) -> Any:
        """An op's option as recorded: arrays the trace computed become slot references."""
        if isinstance(value, np.ndarray):
            slot = self.slot_of.get(id(value))
            return value if slot is None else SlotRef(slot)
        if type(value) is tuple:
            return tuple(self._option(part) for part in value)
        return value

    def output_template(self, output: Any) -> Any:
        """What the call returns, with each tensor replaced by the SlotRef of its array."""
        if isinstance(output, Tensor):
            if output.grad_fn is not None and not self.backward_roots:
                self.fail("the function returns tensors that require grad (in a tuple, list "
                          "or dict) without calling backward; return one tensor (a model's "
                          "output), or compile the whole step (forward, backward, "
                          "optimizer.step())")
            return SlotRef(self._source(output, output._data))
        if type(output) in (tuple, list):
            return type(output)(self.output_template(part) for part in output)
        if type(output) is dict:
            return {key: self.output_template(value) for key, value in output.items()}
        if output is None or isinstance(output, (bool, int, float, str)):
            return output
        self.fail(f"the function returns a {type(output).__name__}; return tensors, "
                  f"numbers, or tuples, lists and dicts of them")
        return output

    def used(self) -> set[int]:
        """The ids of the objects the records use: tensors, the modules called, and the
        objects library calls were made with (an optimizer, a generator)."""
        ids = set(self.position_of) | set(self.modules)
        for record in self.records:
            if type(record) is Call:
                ids.update(id(value) for value in (*record.args, *record.kwargs.values())
                           if not isinstance(value, (int, float, str, tuple, np.dtype))
                           and value is not None)
        return ids

    # ---------------------------------------------------------------- the events

    def op_applied(self, op: type, ctx: Any, arrays: list[Any], options: dict[str, Any],
                   result: Tensor) -> None:
        """Function.apply ran `op` (ctx holds the inputs as given, `arrays` as forward saw
        them) and made `result`."""
        site = ctx.site if result.grad_fn is not None else _user_site()
        name = op.op_name()
        inputs = []
        for x, array in zip(ctx.inputs, arrays):
            if not isinstance(x, (Tensor, np.ndarray)) and id(array) not in self.slot_of:
                self.frozen.append((name, x, site))
            inputs.append(self._source(x, array))
        recorded = {key: self._option(value) for key, value in options.items()}
        for key, value in options.items():
            if type(value) in (int, float) and key not in ("dim", "axis"):
                self.frozen.append((f"{name}({key}=)", value, site))
        replay_ctx = op.context(tuple(_stand_in(x) for x in ctx.inputs), recorded,
                                ctx._needs_input_grad)
        out = self._new_slot(result._data, name)
        self.records.append(Op(op, replay_ctx, inputs, recorded, out,
                               result._data.ndim == 0, site, tuple(map(kind, arrays))))
        if result.grad_fn is not None:
            self.contexts[id(ctx)] = replay_ctx

    def tensor_created(self, tensor: Tensor, source: Any) -> None:
        """A tensor was made from data inside the function (`source`: what it was made
        from, or None for a fill such as zeros): replay makes it again from the same."""
        if tensor._requires_grad:
            self.created_leaves.add(id(tensor))
        data = array_of(source)
        slot = self.slot_of.get(id(data))
        if slot is None:
            slot = self._constant(tensor._data.copy(), "data")
        self.records.append(Copy(slot, tensor._data.dtype, self._new_slot(tensor._data, "new"),
                                 _user_site()))

    def random_draw(self, tensor: Tensor, draw: Callable[..., Any], args: tuple[Any, ...],
                    kwargs: dict[str, Any]) -> None:
        """A random tensor was drawn inside the function: replay draws a new one (from
        the same numbers: one drawn from a tensor's values, ad.normal(mean_tensor, ...),
        runs eagerly, since a replay would draw from the traced tensor's)."""
        if any(isinstance(value, Tensor) for value in (*args, *kwargs.values())):
            self.fail(f"{_qualname(draw)} draws from a tensor's values, which replay cannot "
                      f"follow")
            return
        if tensor._requires_grad:
            self.created_leaves.add(id(tensor))
        out = self._new_slot(tensor._data, draw.__name__.strip("_"))
        site = _user_site()
        self._freeze_numbers(draw, (*args, *kwargs.values()), site)
        self.records.append(Call(draw, args, kwargs, out, site))

    def library_call(self, function: Callable[..., Any], args: tuple[Any, ...],
                     kwargs: dict[str, Any]) -> Any:
        """A library method with side effects was called: run it now, repeat it as is."""
        for value in (*args[1:], *kwargs.values()):
            if isinstance(value, (Tensor, np.ndarray)) or callable(value):
                self.fail(f"{_qualname(function)} is called with a "
                          f"{type(value).__name__} argument, which replay cannot follow")
        site = _user_site()
        self._freeze_numbers(function, (*args[1:], *kwargs.values()), site)
        self.records.append(Call(function, args, kwargs, None, site))
        self.paused += 1
        try:
            return function(*args, **kwargs)
        finally:
            self.paused -= 1

    def _freeze_numbers(self, function: Callable[..., Any], values: tuple[Any, ...],
                        site: Site) -> None:
        """The Python numbers a repeated call is made with, as the trace saw them."""
        for value in values:
            if type(value) in (int, float):
                self.frozen.append((_qualname(function), value, site))

    def in_place_write(self, target: Tensor, ufunc: np.ufunc, operand: Any) -> None:
        data = array_of(operand)
        target_slot = self._source(target, target._data)
        self.records.append(InPlace(ufunc, target_slot, self._source(operand, data),
                                    self.position_of.get(id(target)), _user_site()))

    def item_set(self, target: Tensor, index: Any, value: Any) -> None:
        recorded = self._option(self._index_arrays(index))
        data = array_of(value)
        target_slot = self._source(target, target._data)
        self.records.append(SetItem(target_slot, recorded, self._source(value, data),
                                    self.position_of.get(id(target)), _user_site()))

    def grad_read(self, tensor: Tensor, grad: Tensor) -> None:
        """`tensor.grad` was read; a gradient from before this call gets a slot."""
        if id(grad._data) in self.slot_of:
            return
        self._source(tensor, tensor._data)               # guarded like any parameter
        name = self.names.get(id(tensor), "a parameter")
        out = self._new_slot(grad._data, f"{name}.grad")
        self.records.append(GradRead(self._position(tensor), out, name))

    def grad_cleared(self, tensor: Tensor) -> None:
        """`tensor.grad = None`."""
        if id(tensor) not in self.position_of and tensor.grad_fn is None:
            self._source(tensor, tensor._data)
        self.records.append(ClearGrad(self._position(tensor)))

    def module_called(self, module: Any) -> None:
        """A module was called: replay holds while its mode and members, and those of its
        submodules (whose settings its forward may read without calling them:
        `F.dropout(x, self.drop.p)`), are the same."""
        from .. import events
        if id(module) in self.modules:
            return
        for path, sub in module.named_modules():
            self.names.setdefault(id(sub), path)
        for _, sub in module.named_modules():
            if id(sub) not in self.modules:
                path = self.names[id(sub)]
                label = f"module {path!r} ({type(sub).__name__})" if path \
                    else f"the {type(sub).__name__} module"
                self.modules[id(sub)] = (sub, sub.training, events.change_count(sub), label)
        name = self.names[id(module)]
        prefix = f"{name}." if name else ""
        for key, tensor in module.named_parameters():
            self.names.setdefault(id(tensor), prefix + key)
        for key, tensor in module.named_buffers():
            self.names.setdefault(id(tensor), prefix + key)

    def backward_run(self, output: Tensor, gradient: Any, create_graph: bool) -> Any:
        """`output.backward(gradient)` is about to run: check that every node was made
        inside the function, and observe the walk."""
        if create_graph:
            self.fail("backward(create_graph=True) inside a compiled function is not "
                      "replayed; differentiate twice eagerly")
            return None
        for tensor in topological_order([output], leaves=True):
            if tensor.grad_fn is None:
                if not tensor._requires_grad:
                    continue
                if id(tensor) in self.created_leaves:
                    self.fail("backward fills the .grad of a tensor created inside the "
                              "function with requires_grad=True; create it outside and "
                              "pass it in")
                    return None
                if tensor._hooks:
                    self.fail("a leaf has a hook, which replay would skip")
                    return None
                continue
            if id(tensor.grad_fn) not in self.contexts:
                self.fail("backward reaches ops computed before the function was called; "
                          "compute everything the loss depends on inside the function")
                return None
            if tensor._hooks or tensor._retains_grad:
                self.fail("a tensor in the graph has a hook or retain_grad(), which replay "
                          "would skip")
                return None
        self.backward_roots.add(id(output))
        seed = None
        if gradient is not None:
            data = np.asarray(array_of(gradient))
            seed = self._source(gradient, data)
        self.grad_of = {}
        self.pending = Backward(seed, output.shape, output.dtype, 0, [], [])
        self.pending.root = self._grad_variable(output)
        self.pending_leaves = []
        return self

    def backward_done(self) -> None:
        """The eager backward has run: each leaf's .grad array gets a slot, so ops that
        read `p.grad` afterwards (a hand-written update) read this call's gradient."""
        step = self.pending
        if step is None or self.problem is not None:
            return
        self.pending = None
        for leaf_step, leaf in self.pending_leaves:
            if leaf._grad is not None:
                leaf_step.out = self._new_slot(leaf._grad._data,
                                               f"{self.names.get(id(leaf), 'tensor')}.grad")
        self.records.append(step)

    def observe_gradient_of(self, output: Tensor) -> None:
        """The function returned `output`, which requires grad, without calling backward:
        walk its backward now (seeded with ones, no .grad touched) to record the walk a
        later `output.backward()` takes; the graph is kept for that eager backward."""
        if self.backward_run(output, None, False) is None:
            return
        capture = {t: None for t in self.tensors if t._requires_grad}
        run_backward([output], [np.ones_like(output._data)], retain_graph=True,
                     create_graph=False, capture=capture, observer=self)
        self.backward_done()

    # ---------------------------------------------------------------- observing backward

    def _grad_variable(self, tensor: Tensor) -> int:
        step = self.pending
        variable = self.grad_of.get(id(tensor))
        if variable is None:
            variable = self.grad_of[id(tensor)] = len(step.grad_names)
            slot = self.slot_of.get(id(tensor._data))
            step.grad_names.append(slot if slot is not None
                                   else self.names.get(id(tensor), "tensor"))
            step.grad_shapes.append((tensor._data.shape, tensor._data.dtype))
        return variable

    def reached(self, tensor: Tensor, grad: Any) -> None:
        step = self.pending
        node = tensor.grad_fn
        if node is not None:
            step.walk.append(NodeStep(type(node), self.contexts[id(node)],
                                      self._grad_variable(tensor), site=node.site,
                                      grad_kind=kind(grad)))
            return
        if id(tensor._data) not in self.slot_of:
            self._source(tensor, tensor._data)
        leaf_step = LeafStep(self._position(tensor), self._grad_variable(tensor),
                             tensor._data.ndim == 0)
        step.walk.append(leaf_step)
        self.pending_leaves.append((leaf_step, tensor))

    def returned(self, node: Any, input_grads: Any) -> None:
        step = self.pending.walk[-1]
        step.tuple_returned = isinstance(input_grads, tuple)
        grads = input_grads if step.tuple_returned else (input_grads,)
        step.scalars = {i for i, g in enumerate(grads)
                        if g is not None and type(g) is not np.ndarray}

    def sent(self, node: Any, position: int, raw: Any, summed: Any) -> None:
        x = node.inputs[position]
        self.pending.walk[-1].sends.append(
            (position, self._grad_variable(x), raw.shape != x._data.shape,
             raw.dtype != x._data.dtype))

    # ---------------------------------------------------------------- problems

    def value_read(self, what: str) -> None:
        self.fail(f"the function reads a tensor's values with {what}, so what it does "
                  f"next may depend on them, which a replay cannot follow; move the "
                  f"read out of the compiled function (return the tensor instead)")

    def unsupported(self, what: str) -> None:
        self.fail(f"the function {what}, which replay cannot follow")


def kind(value: Any) -> Kind:
    """(type, ndim) of an array or numpy scalar, which a replay's value in its place has
    too (numpy gives the same kinds for the same shapes and dtypes); None for others."""
    return (type(value), value.ndim) if isinstance(value, (np.ndarray, np.generic)) else None


def _user_site() -> Site:
    frame = user_frame()
    return (frame.f_code.co_filename, frame.f_lineno) if frame else None


def _stand_in(x: Any) -> Any:
    """What a replay node keeps of an input: for a tensor, only whether it requires grad
    (for `ctx.needs_input_grad`); never its data, which changes on every call."""
    if not isinstance(x, Tensor):
        return x
    stand_in = Tensor._make(None)
    stand_in._requires_grad = x._requires_grad
    return stand_in


def _qualname(function: Callable[..., Any]) -> str:
    return getattr(function, "__qualname__", repr(function))
