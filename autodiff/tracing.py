"""Tracing: run a function once, eagerly, while writing down what it does, as a flat
program that replays on new inputs without building tensors, graph nodes or closures
(`ad.compile` is built on it).

While a `Tracer` is active (`grad_mode.state.tracer`), the engine reports to it:

    Function.apply        an op: its class, where each input came from, its options
    backward()            the reverse walk, node by node, and the leaves it fills
    creation, Tensor()    new tensors (random ones are drawn again on every replay)
    @replayed methods     calls replayed as they are: optimizer.step(), zero_grad(), ...
    in-place updates      `w -= lr * w.grad` under no_grad, `t[i] = v`, `p.grad = None`
    value reads           .item(), .numpy(), .data, bool(t), print(t): the function looks
                          at numbers, so what it does next may depend on them: not traceable

Every array the trace sees gets a *slot*, a place in one list that the replay fills
again: the function's inputs, the parameters (read afresh on every call), each op's
output, and each gradient. An op is recorded as its `forward` with the slots of its
inputs; the backward pass as each node's `backward` with the slots its gradients go to,
in the order the eager walk visited them. The replay calls exactly those functions on
exactly those arrays, in the same order, so it computes the same numbers as eager,
bit for bit.

What is written down can only be replayed if nothing outside it changes: `Program.stale`
names the first guard that no longer holds (a parameter's array replaced, a module's
train/eval mode, the grad mode), and a problem met while tracing (`Tracer.problem`) says
why a function cannot be traced at all.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from operator import itemgetter
from typing import Any

import numpy as np

from . import grad_mode, versions
from .errors import CompileError
from .tensor import Tensor, as_array


def module_hooks(module: Any) -> str:
    """Which kinds of hooks an nn.Module has ("" when none): Python code that runs around
    its forward or backward, which a replay would skip."""
    kinds = [kind for kind, store in (("forward hooks", "_forward_hooks"),
                                      ("forward pre-hooks", "_forward_pre_hooks"),
                                      ("backward hooks", "_backward_hooks"),
                                      ("backward pre-hooks", "_backward_pre_hooks"))
             if getattr(module, store, None)]
    return " and ".join(kinds)

class Problem(Exception):
    """Why what the function did cannot be replayed, and where in the user's code."""

    def __init__(self, reason: str, site: tuple[str, int] | None) -> None:
        super().__init__(reason)
        self.reason, self.site = reason, site

    def __str__(self) -> str:
        where = f" (at {self.site[0]}:{self.site[1]})" if self.site else ""
        return self.reason + where


class _SlotRef:
    """In a recorded option (an index tuple): 'the array in this slot at replay time'."""

    __slots__ = ("slot",)

    def __init__(self, slot: int) -> None:
        self.slot = slot


def _resolve(template: Any, slots: list[Any]) -> Any:
    if type(template) is _SlotRef:
        return slots[template.slot]
    if type(template) is tuple:
        return tuple(_resolve(part, slots) for part in template)
    return template


# ------------------------------------------------------------------ steps of a program

class OpStep:
    """One op: out = Op.forward(ctx, *inputs, **options), on the arrays in the slots."""

    __slots__ = ("forward", "ctx", "fetch", "single", "options", "dynamic", "out")

    def __init__(self, op: type, ctx: Any, inputs: list[int], options: dict[str, Any],
                 dynamic: bool, out: int) -> None:
        self.forward, self.ctx, self.out = op.forward, ctx, out
        self.fetch = itemgetter(*inputs)
        self.single = len(inputs) == 1
        self.options, self.dynamic = options, dynamic

    def run(self, slots: list[Any], tensors: list[Any]) -> None:
        ctx = self.ctx
        ctx.saved_tensors = ()
        options = {key: _resolve(value, slots) for key, value in self.options.items()} \
            if self.dynamic else self.options
        if self.single:
            out = self.forward(ctx, self.fetch(slots), **options)
        else:
            out = self.forward(ctx, *self.fetch(slots), **options)
        if type(out) is not np.ndarray:       # as Function.apply: numpy's 0-d scalars
            array = np.asarray(out)
            if ctx.saved_tensors:
                ctx.saved_tensors = tuple(array if v is out else v for v in ctx.saved_tensors)
            out = array
        slots[self.out] = out


class CopyStep:
    """A tensor made inside the function from data: `ad.tensor(x)`, `ad.zeros(3)`: a new
    array on every call, copied from an input's slot or from the values it was made with."""

    __slots__ = ("source", "dtype", "out")

    def __init__(self, source: int, dtype: Any, out: int) -> None:
        self.source, self.dtype, self.out = source, dtype, out

    def run(self, slots: list[Any], tensors: list[Any]) -> None:
        slots[self.out] = as_array(slots[self.source], self.dtype)


class CallStep:
    """A call replayed as it is: a random tensor drawn again (`ad.randn(3)`), an
    optimizer's step, a zero_grad; its result's array, if it makes one, goes to a slot."""

    __slots__ = ("function", "args", "kwargs", "out")

    def __init__(self, function: Callable[..., Any], args: tuple[Any, ...],
                 kwargs: dict[str, Any], out: int | None = None) -> None:
        self.function, self.args, self.kwargs, self.out = function, args, kwargs, out

    def run(self, slots: list[Any], tensors: list[Any]) -> None:
        result = self.function(*self.args, **self.kwargs)
        if self.out is not None:
            slots[self.out] = result._data


class InPlaceStep:
    """`t -= v` (or +=, *=, /=) under no_grad: ufunc(t, v, out=t) on the slots' arrays;
    bumps the version of `t` when it is a tensor from outside the function (`tensor`:
    its position, or None)."""

    __slots__ = ("ufunc", "target", "operand", "tensor")

    def __init__(self, ufunc: np.ufunc, target: int, operand: int, tensor: int | None) -> None:
        self.ufunc, self.target, self.operand, self.tensor = ufunc, target, operand, tensor

    def run(self, slots: list[Any], tensors: list[Any]) -> None:
        target = slots[self.target]
        self.ufunc(target, slots[self.operand], out=target, casting="same_kind")
        if self.tensor is not None:
            versions.bump(tensors[self.tensor])


class SetItemStep:
    """`t[index] = v` under no_grad (bumping t's version as InPlaceStep does)."""

    __slots__ = ("target", "index", "value", "tensor")

    def __init__(self, target: int, index: Any, value: int, tensor: int | None) -> None:
        self.target, self.index, self.value, self.tensor = target, index, value, tensor

    def run(self, slots: list[Any], tensors: list[Any]) -> None:
        slots[self.target][_resolve(self.index, slots)] = slots[self.value]
        if self.tensor is not None:
            versions.bump(tensors[self.tensor])


class GradStep:
    """`p.grad` read before this call's backward (gradients accumulated by earlier calls):
    the slot takes the array p.grad holds now."""

    __slots__ = ("tensor", "out", "name")

    def __init__(self, tensor: int, out: int, name: str) -> None:
        self.tensor, self.out, self.name = tensor, out, name

    def run(self, slots: list[Any], tensors: list[Any]) -> None:
        grad = tensors[self.tensor]._grad
        if grad is None:
            raise CompileError(f"compile: the function reads {self.name}.grad, which held a "
                               f"gradient when it was traced but is None now; zero "
                               f"gradients inside the function, or call it eagerly")
        slots[self.out] = grad._data


class BackwardStep:
    """`loss.backward()`: seed dL/dloss, then each node's backward in the eager walk's
    order, with the engine's plumbing (unbroadcast, cast, sum of contributions) done as
    `autodiff.backward._propagate` does it; then each leaf's .grad is accumulated."""

    __slots__ = ("root", "seed", "shape", "dtype", "grad_count", "schedule", "leaves")

    def __init__(self, root: int, seed: int | None, shape: tuple[int, ...], dtype: np.dtype,
                 grad_count: int, schedule: list[tuple[Any, ...]],
                 leaves: list[tuple[int, int, int]]) -> None:
        self.root, self.seed, self.shape, self.dtype = root, seed, shape, dtype
        self.grad_count, self.schedule, self.leaves = grad_count, schedule, leaves

    def run(self, slots: list[Any], tensors: list[Any]) -> None:
        from .backward import _accumulate, unbroadcast
        grads: list[Any] = [None] * self.grad_count
        grads[self.root] = np.ones(self.shape, self.dtype) if self.seed is None \
            else np.array(slots[self.seed], dtype=self.dtype)
        for backward, ctx, slot, targets in self.schedule:
            grad = grads[slot]
            if grad is None:
                continue
            grads[slot] = None
            input_grads = backward(ctx, grad)
            if type(input_grads) is not tuple:
                input_grads = (input_grads,)
            for index, destination, shape, dtype in targets:
                g = input_grads[index]
                if g is None:
                    continue
                if type(g) is not np.ndarray:
                    g = np.asarray(g)
                if g.shape != shape:
                    g = unbroadcast(g, shape)
                if g.dtype is not dtype and g.dtype != dtype:
                    g = g.astype(dtype)
                previous = grads[destination]
                if previous is not None:
                    g = previous + g
                    if type(g) is not np.ndarray:
                        g = np.asarray(g)
                grads[destination] = g
        input_grads = g = previous = None    # leaves' gradients become .grad without a copy
        for tensor_index, slot, grad_slot in self.leaves:
            grad = grads[slot]
            if grad is None:
                continue
            grads[slot] = None
            tensor = tensors[tensor_index]
            _accumulate(tensor, grad, False)
            slots[grad_slot] = tensor._grad._data


Step = OpStep | CopyStep | CallStep | InPlaceStep | SetItemStep | GradStep | BackwardStep


# ------------------------------------------------------------------ the program

class Program:
    """A traced call: the steps, the slot template (constants in place), where the inputs
    and parameters go, what the call returns, and the guards it was traced under."""

    def __init__(self, tracer: Tracer, output: Any) -> None:
        """`output`: what the call returns, as `Tracer.output_template` wrote it down."""
        self.steps = tracer.steps
        self.template = tracer.template()
        self.inputs = tracer.input_slots                 # (slot, argument index, is tensor)
        self.tensors = tracer.tensor_template()          # the Tensor objects steps name
        self.input_tensors = tracer.input_tensor_positions   # (position, argument index)
        self.externals = tracer.external_slots           # (slot, position in self.tensors)
        self.guards = [(t, t._data, t._requires_grad) for t in tracer.externals]
        self.names = tracer.names
        self.modules = list(tracer.modules.values())
        self.output = output

    def stale(self) -> str | None:
        """The first guard that no longer holds, said for a person; None when all hold."""
        for tensor, array, requires_grad in self.guards:
            if tensor._data is not array or tensor._requires_grad != requires_grad \
                    or tensor._hooks:
                name = self.names.get(id(tensor), "a tensor the function uses")
                if tensor._data is not array:
                    return (f"{name}'s array was replaced (load_state_dict, .data = ..., "
                            f"model.to())")
                if tensor._requires_grad != requires_grad:
                    return f"{name}.requires_grad changed to {tensor._requires_grad}"
                return f"{name} has a hook now"
        for module, training, name, edits in self.modules:
            if module.training != training:
                return f"{name} was switched to {'train' if module.training else 'eval'} mode"
            if module_hooks(module):
                return f"{name} has {module_hooks(module)} now"
            if module._edits != edits:
                return (f"{name} changed: a parameter, buffer, submodule or setting (such "
                        f"as Dropout's p) was replaced or set anew")
        return None

    def run(self, arguments: list[Any]) -> Any:
        slots = self.template.copy()
        for slot, index, is_tensor in self.inputs:
            slots[slot] = arguments[index]._data if is_tensor else arguments[index]
        tensors = self.tensors
        if self.input_tensors:
            tensors = tensors.copy()
            for position, index in self.input_tensors:
                tensors[position] = arguments[index]
        for slot, position in self.externals:
            slots[slot] = tensors[position]._data
        for step in self.steps:
            step.run(slots, tensors)
        return _build_output(self.output, slots)


def _build_output(template: Any, slots: list[Any]) -> Any:
    if type(template) is _SlotRef:
        return Tensor._make(slots[template.slot])
    if type(template) in (tuple, list):
        return type(template)(_build_output(part, slots) for part in template)
    if type(template) is dict:
        return {key: _build_output(value, slots) for key, value in template.items()}
    return template


# ------------------------------------------------------------------ the tracer

class Tracer:
    """Watches one eager call of a function and writes down its program (see the module
    docstring). `problem` is set, and recording stops, at the first thing that cannot be
    replayed; with `fullgraph=True` that raises CompileError there instead."""

    def __init__(self, arguments: list[Any], fullgraph: bool) -> None:
        self.fullgraph = fullgraph
        self.problem: Problem | None = None
        self.paused = 0
        self.steps: list[Step] = []
        self.slot_of: dict[int, int] = {}        # id(array) -> its slot
        self.constants: dict[int, Any] = {}      # slot -> a constant value
        self.alive: list[Any] = []               # keeps every array seen alive: ids stay unique
        self.slot_count = 0
        self.tensors: list[Tensor] = []          # Tensor objects steps refer to
        self.position_of: dict[int, int] = {}    # id(tensor) -> position in self.tensors
        self.externals: list[Tensor] = []        # leaves from outside: parameters, buffers
        self.external_slots: list[tuple[int, int]] = []
        self.input_slots: list[tuple[int, int, bool]] = []
        self.input_tensor_positions: list[tuple[int, int]] = []
        self.contexts: dict[int, Any] = {}       # id(eager node) -> the replay's node
        self.created_leaves: set[int] = set()    # ids of tensors made inside that require grad
        self.modules: dict[int, tuple[Any, bool, str, int]] = {}
        self.names: dict[int, str] = {}             # id(tensor) -> its name in a module
        self.backward_roots: set[int] = set()
        for index, value in enumerate(arguments):
            if isinstance(value, Tensor):
                if value.grad_fn is not None:
                    self.fail("an argument is a tensor computed by ops outside the function "
                              "(it has a grad_fn); pass leaves, or .detach() it")
                slot = self._new_slot(value._data)
                self.input_slots.append((slot, index, True))
                self.input_tensor_positions.append((self._position(value), index))
            elif isinstance(value, np.ndarray):
                self.input_slots.append((self._new_slot(value), index, False))

    # ---------------------------------------------------------------- bookkeeping

    def fail(self, reason: str) -> None:
        """Record why the function cannot be replayed (the first reason wins)."""
        if self.problem is not None:
            return
        from .function import user_frame
        frame = user_frame()
        site = (frame.f_code.co_filename, frame.f_lineno) if frame else None
        self.problem = Problem(reason, site)
        if self.fullgraph:
            raise CompileError(f"compile(fullgraph=True): {self.problem}")

    def _new_slot(self, array: Any) -> int:
        slot = self.slot_count
        self.slot_count += 1
        if array is not None:
            self.slot_of[id(array)] = slot
            self.alive.append(array)
        return slot

    def _constant(self, value: Any) -> int:
        slot = self._new_slot(None)
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
            slot = self._new_slot(array)
            self.externals.append(value)
            self.external_slots.append((slot, self._position(value)))
            return slot
        if isinstance(value, np.ndarray):
            return self._constant(value)
        return self._constant(value)

    def _option(self, value: Any) -> tuple[Any, bool]:
        """An op's option as recorded: arrays the trace computed become slot references."""
        if isinstance(value, np.ndarray):
            slot = self.slot_of.get(id(value))
            return (_SlotRef(slot), True) if slot is not None else (value, False)
        if type(value) is tuple:
            parts = [self._option(part) for part in value]
            return tuple(p for p, _ in parts), any(d for _, d in parts)
        return value, False

    def template(self) -> list[Any]:
        slots: list[Any] = [None] * self.slot_count
        for slot, value in self.constants.items():
            slots[slot] = value
        return slots

    def tensor_template(self) -> list[Any]:
        return list(self.tensors)

    def output_template(self, output: Any) -> Any:
        if isinstance(output, Tensor):
            if output.grad_fn is not None and not self.backward_roots:
                self.fail("the function returns a tensor that requires grad without calling "
                          "backward on it; compile the whole step (forward, backward, "
                          "optimizer.step()), or return output.detach()")
            return _SlotRef(self._source(output, output._data))
        if type(output) in (tuple, list):
            return type(output)(self.output_template(part) for part in output)
        if type(output) is dict:
            return {key: self.output_template(value) for key, value in output.items()}
        if output is None or isinstance(output, (bool, int, float, str)):
            return output
        self.fail(f"the function returns a {type(output).__name__}; return tensors, "
                  f"numbers, or tuples, lists and dicts of them")
        return output

    # ---------------------------------------------------------------- what the engine reports

    def op(self, op: type, ctx: Any, arrays: list[Any], options: dict[str, Any],
           result: Tensor) -> None:
        """Function.apply ran `op` (ctx holds the inputs as given, `arrays` as forward saw
        them) and made `result`."""
        inputs = [self._source(x, a) for x, a in zip(ctx.inputs, arrays)]
        recorded, dynamic = {}, False
        for key, value in options.items():
            recorded[key], changes = self._option(value)
            dynamic = dynamic or changes
        replay_ctx = op.__new__(op)
        replay_ctx.inputs = tuple(_stand_in(x) for x in ctx.inputs)
        replay_ctx._needs_input_grad = ctx._needs_input_grad
        replay_ctx.options = recorded
        replay_ctx.saved_tensors = ()
        out = self._new_slot(result._data)
        self.steps.append(OpStep(op, replay_ctx, inputs, recorded, dynamic, out))
        if result.grad_fn is not None:
            self.contexts[id(ctx)] = replay_ctx

    def created(self, tensor: Tensor, source: Any) -> None:
        """A tensor was made from data inside the function (`source`: what it was made
        from, or None for a fill such as zeros): replay makes it again from the same."""
        if tensor._requires_grad:
            self.created_leaves.add(id(tensor))
        data = source._data if isinstance(source, Tensor) else source
        slot = self.slot_of.get(id(data))
        if slot is None:
            slot = self._constant(tensor._data.copy())
        self.steps.append(CopyStep(slot, tensor._data.dtype, self._new_slot(tensor._data)))

    def drawn(self, tensor: Tensor, function: Callable[..., Any], args: tuple[Any, ...],
              kwargs: dict[str, Any]) -> None:
        """A random tensor was drawn inside the function: replay draws a new one."""
        if tensor._requires_grad:
            self.created_leaves.add(id(tensor))
        self.steps.append(CallStep(function, args, kwargs, self._new_slot(tensor._data)))

    def call(self, function: Callable[..., Any], args: tuple[Any, ...],
             kwargs: dict[str, Any]) -> Any:
        """A @replayed method was called: run it now and replay it as it is."""
        for value in (*args[1:], *kwargs.values()):
            if isinstance(value, (Tensor, np.ndarray)) or callable(value):
                self.fail(f"{_qualname(function)} is called with a "
                          f"{type(value).__name__} argument, which replay cannot follow")
        self.steps.append(CallStep(function, args, kwargs))
        self.paused += 1
        try:
            return function(*args, **kwargs)
        finally:
            self.paused -= 1

    def in_place(self, target: Tensor, ufunc: np.ufunc, operand: Any) -> None:
        data = operand._data if isinstance(operand, Tensor) else operand
        target_slot = self._source(target, target._data)
        self.steps.append(InPlaceStep(ufunc, target_slot, self._source(operand, data),
                                      self.position_of.get(id(target))))

    def set_item(self, target: Tensor, index: Any, value: Any) -> None:
        recorded, _ = self._option(index if type(index) is tuple else (index,))
        if type(index) is not tuple:
            recorded = recorded[0]
        data = value._data if isinstance(value, Tensor) else value
        target_slot = self._source(target, target._data)
        self.steps.append(SetItemStep(target_slot, recorded, self._source(value, data),
                                      self.position_of.get(id(target))))

    def grad_read(self, tensor: Tensor, grad: Tensor) -> None:
        """`tensor.grad` was read; a gradient from before this call gets a slot."""
        if id(grad._data) in self.slot_of:
            return
        self._source(tensor, tensor._data)               # guarded like any parameter
        out = self._new_slot(grad._data)
        self.steps.append(GradStep(self._position(tensor), out,
                                   self.names.get(id(tensor), "a parameter")))

    def grad_cleared(self, tensor: Tensor) -> None:
        """`tensor.grad = None`."""
        if id(tensor) not in self.position_of and tensor.grad_fn is None:
            self._source(tensor, tensor._data)
        self.steps.append(CallStep(_clear_grad, (tensor,), {}))

    def module(self, module: Any) -> None:
        """A module was called: replay holds while its train/eval mode is the same."""
        if id(module) not in self.modules:
            name = f"module {module._name_in_parent!r} ({type(module).__name__})" \
                if module._name_in_parent else f"the {type(module).__name__} module"
            self.modules[id(module)] = (module, module.training, name, module._edits)
            for key, tensor in module.named_parameters():
                self.names.setdefault(id(tensor), f"parameter {key!r}")
            for key, tensor in module.named_buffers():
                self.names.setdefault(id(tensor), f"buffer {key!r}")
        if module_hooks(module):
            self.fail(f"{type(module).__name__} has {module_hooks(module)}, which are Python "
                      f"code replay would skip")

    def backward(self, output: Tensor, gradient: Any, create_graph: bool) -> None:
        """`output.backward(gradient)` is about to run: write down its walk."""
        from .backward import topological_order
        if create_graph:
            self.fail("backward(create_graph=True) inside a compiled function is not "
                      "replayed; differentiate twice eagerly")
            return
        grad_slot_of: dict[int, int] = {}

        def grad_slot(tensor: Tensor) -> int:
            slot = grad_slot_of.get(id(tensor))
            if slot is None:
                slot = grad_slot_of[id(tensor)] = len(grad_slot_of)
            return slot

        root = grad_slot(output)
        self.backward_roots.add(id(output))
        schedule, leaves, leaf_order = [], [], []
        for tensor in reversed(topological_order([output])):
            node = tensor.grad_fn
            replay_ctx = self.contexts.get(id(node))
            if replay_ctx is None:
                self.fail("backward reaches ops computed before the function was called; "
                          "compute everything the loss depends on inside the function")
                return
            if tensor._hooks or tensor._retains_grad:
                self.fail("a tensor in the graph has a hook or retain_grad(), which replay "
                          "would skip")
                return
            targets = []
            for index, x in enumerate(node.inputs):
                if not isinstance(x, Tensor) or not x._requires_grad:
                    continue
                if x.grad_fn is None and id(x) not in grad_slot_of:
                    leaf_order.append(x)
                targets.append((index, grad_slot(x), x._data.shape, x._data.dtype))
            schedule.append((type(node).backward, replay_ctx, grad_slot(tensor), tuple(targets)))
        for leaf in leaf_order:
            if id(leaf) in self.created_leaves:
                self.fail("backward fills the .grad of a tensor created inside the function "
                          "with requires_grad=True; create it outside and pass it in")
                return
            if leaf._hooks:
                self.fail("a leaf has a hook, which replay would skip")
                return
            if id(leaf._data) not in self.slot_of:
                self._source(leaf, leaf._data)
            leaves.append((self._position(leaf), grad_slot(leaf), leaf))
        seed = None
        if gradient is not None:
            data = gradient._data if isinstance(gradient, Tensor) else np.asarray(gradient)
            seed = self._source(gradient, data)
        self.pending = BackwardStep(root, seed, output.shape, output.dtype, len(grad_slot_of),
                                    schedule, [])
        self.pending_leaves = leaves
        self.steps.append(self.pending)

    def backward_done(self) -> None:
        """The eager backward has run: each leaf's .grad array gets a slot, so ops that
        read `p.grad` afterwards (a hand-written update) read this call's gradient."""
        step = self.pending
        for position, slot, leaf in self.pending_leaves:
            array = None if leaf._grad is None else leaf._grad._data
            step.leaves.append((position, slot, self._new_slot(array)))

    def value_read(self, what: str) -> None:
        if not self.paused:
            self.fail(f"the function reads a tensor's values with {what}, so what it does "
                      f"next may depend on them, which a replay cannot follow; move the "
                      f"read out of the compiled function (return the tensor instead)")

    def unsupported(self, what: str) -> None:
        if not self.paused:
            self.fail(f"the function {what}, which replay cannot follow")


def _stand_in(x: Any) -> Any:
    """What a replay node keeps of an input: for a tensor, only whether it requires grad
    (for `ctx.needs_input_grad`); never its data, which changes on every call."""
    if not isinstance(x, Tensor):
        return x
    stand_in = Tensor._make(None)
    stand_in._requires_grad = x._requires_grad
    return stand_in


def _clear_grad(tensor: Tensor) -> None:
    tensor._grad = None


def _qualname(function: Callable[..., Any]) -> str:
    return getattr(function, "__qualname__", repr(function))


def active() -> Tracer | None:
    """The tracer watching this thread, unless paused inside a replayed call."""
    tracer = grad_mode.state.tracer
    return tracer if tracer is not None and not tracer.paused else None


def replayed(method: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator for library methods with side effects (optimizer.step, zero_grad, a
    scheduler's step): called inside a traced function, the call is replayed as it is."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        tracer = grad_mode.state.tracer
        if tracer is None or tracer.paused:
            return method(*args, **kwargs)
        return tracer.call(method, args, kwargs)

    return wrapper


def drawn(draw: Callable[..., Tensor]) -> Callable[..., Tensor]:
    """Decorator for functions that draw a random tensor from the shared generator
    (`ad.randn`, dropout's mask): inside a traced function, replay draws again, calling
    `draw` with the same arguments in the same order as the eager call did."""

    @functools.wraps(draw)
    def wrapper(*args: Any, **kwargs: Any) -> Tensor:
        t = draw(*args, **kwargs)
        tracer = grad_mode.state.tracer
        if tracer is not None and not tracer.paused:
            tracer.drawn(t, draw, args, kwargs)
        return t

    return wrapper
