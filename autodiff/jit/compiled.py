"""`ad.compile(fn)`: trace a function once, then replay it without the engine's
bookkeeping.

The first call runs `fn` eagerly while a tracer (`autodiff.jit.tracing`) writes down
every op's forward, the backward pass node by node, and the library calls with side
effects (optimizer.step(), zero_grad()); the code generator (`autodiff.jit.codegen`)
writes that out as one Python function over numpy arrays, `compiled.source`. Later calls
with arguments of the same kinds, shapes, dtypes and requires_grad run that function:
the same numpy calls in the same order, so the same numbers, bit for bit, without
making tensors or graph nodes, sorting the graph, or walking to the user's source line.

    @ad.compile
    def train_step(x, y):
        opt.zero_grad()
        loss = F.nll_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss

A model compiles as torch users expect: `model = ad.compile(model)` compiles its forward
(the model's attributes and methods read through). A function that returns one tensor
requiring grad without calling backward, as a forward does, replays as one graph node
(`CompiledForward`) whose backward is the traced walk, so `loss.backward()` and the
optimizer work outside it as with the model itself. Each shape gets its own trace: a last,
smaller batch traces once more (`cache_info()` shows it).

Guards, checked on every call, send a call back to tracing when something the program
depends on changed: the arguments' shapes, dtypes, C order (`t.contiguous()` copies or
not) or requires_grad (each combination has its own program), which arguments are the
same tensor (`step(x, x)` and `step(x, y)` get programs of their own), which arguments
are tensors the function also reaches from outside (`step(model.weight)`), the sign of a
zero argument, a tensor argument's hooks, the grad mode,
the default dtype, a parameter's array (`p.data = ...`, `model.double()`) or
requires_grad, a module's train/eval mode, a new hook, a module whose parameter, buffer,
submodule or setting was replaced or set anew after tracing (`m[0].weight =
nn.Parameter(...)`, `m.add_module(...)`, `dropout.p = 0.5`), and what the function reads
from its globals and closures: numbers (numpy's too) by value, anything else (a tensor,
the model, the optimizer) by identity, and the tensors, modules and optimizers it reached
through an attribute of an argument or of such an object (`batch.x`, `self.opt`).
`cache_info()` says how many traces exist and why the last one was made; `report()`
lists the guards and the numbers the trace baked in. A library call may give a parameter
a new array mid-step (`opt.step()` rebuilding its flat buffers): the lines after it read
the parameter's array again.

Some functions cannot be replayed: they read a tensor's values in Python (`.item()`,
`.numpy()`, `.tolist()`, `.data`, `if loss > 1:`, printing a tensor), so what they do next
may depend on the numbers; or they use what replay cannot follow (hooks, create_graph,
a graph built before the call). Tracing detects this, warns once naming the line, and
runs the function eagerly from then on; with `fullgraph=True` it raises CompileError.
Random ops (dropout, `ad.randn`) draw new numbers on every replay, from the same shared
generator and in the same order as eager calls would.

Python numbers the function reads itself from globals or enclosing functions (a global
`SCALE`, a learning rate in a closure) are guarded: when one changes, the call retraces.
So are the objects read there: a global `model` or `opt` re-bound to a new one retraces,
as does a new tensor in an attribute of an argument (`batch.x = next_x; step(batch)`
retraces on every call that brings a new one: pass the tensor as an argument instead).
What tracing cannot see, and so keeps as it was on the first call: numpy arithmetic of
your own on arrays inside the function (`np.log(x.shape[0])` is fine, `ad.tensor(x_array
/ 255)` is baked in), and numbers read deeper (in functions it calls, or an attribute of
an object of your own, `self.scale`; `report()` lists every number baked in, with its
line): do arithmetic with autodiff's ops, pass changing numbers as arguments (each value
gets its own trace), or read them in library calls that replay (optimizer.step() reads
its learning rate afresh, so schedulers work; a built-in layer's settings are guarded).

Every library op replays; ops that `backward(create_graph=True)` makes (ScatterAdd) are
never reached, since a compiled function does not replay create_graph. Dropout and the
random creation functions draw afresh; comparisons and masks are ops and are recomputed;
loss targets are converted, and the indices of gather, scatter and index_add
range-checked, on every call. Library functions that decide in Python from a tensor's
values run eagerly, saying so: draws with tensor parameters (`ad.normal(means, std)`,
`multinomial`, `bernoulli`), in-place fills (`normal_`), the median and quantile of
floats (their NaNs), repeats, splits or sizes given as tensors, `isclose`, and setting
items at an index that mixes integers with index tensors.
"""
from __future__ import annotations

import collections
import functools
import inspect
import os
import threading
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import dtypes, events, grad_mode
from ..dtypes import get_default_dtype
from ..errors import BackwardError, CompileError, CompileWarning
from ..function import Function
from ..tensor import Tensor
from .codegen import build, build_forward, replay_contexts, run_once
from .guards import Guards, Outside, aliases, signature, what_changed
from .tracing import Problem, Tracer

CacheInfo = collections.namedtuple(
    "CacheInfo", ["traces", "replays", "entries", "last_retrace", "eager_reason"])
CacheInfo.__doc__ = """What a compiled function has done: `traces` (calls that ran eagerly
under the tracer), `replays`, `entries` (programs kept, one per argument signature), why
the last trace after the first was needed (`last_retrace`), and, when the function runs
eagerly for good, why (`eager_reason`)."""

MAX_ENTRIES = 8      # programs kept per function; the least recently traced goes first
MAX_MATCHED = 6      # tensor arguments a program's `build_replay` test takes at most
MISS = object()      # what a program's quick `replay` returns when the call may not use it


def compile(fn: Callable[..., Any] | None = None, *, fullgraph: bool = False
            ) -> Any:
    """Trace `fn` on its first call and replay it on later calls (see the module
    docstring). Usable as `ad.compile(fn)`, `@ad.compile` or
    `@ad.compile(fullgraph=True)`.

    >>> import autodiff as ad, numpy as np
    >>> params = [ad.tensor([1.0, -2.0], requires_grad=True)]
    >>> @ad.compile
    ... def step(x):
    ...     w, = params
    ...     w.grad = None
    ...     loss = ((x * w).sum() - 1) ** 2
    ...     loss.backward()
    ...     with ad.no_grad():
    ...         w -= 0.1 * w.grad                # SGD by hand: x -= lr * dx
    ...     return loss
    >>> [round(step(ad.tensor([1.0, 1.0])).item(), 4) for _ in range(3)]
    [4.0, 1.44, 0.5184]
    >>> step.cache_info().traces, step.cache_info().replays
    (1, 2)
    """
    if fn is None:
        return functools.partial(compile, fullgraph=fullgraph)
    if hasattr(fn, "named_modules") and hasattr(fn, "forward"):
        return CompiledModule(fn, fullgraph)
    return Compiled(fn, fullgraph)


def build_check(guards: Guards, reads: Outside) -> Callable[[], bool]:
    """A program's guards (`autodiff.jit.guards`) as one function of one expression, true
    while every guard holds: each tensor's array, requires_grad and hooks, each module's
    mode, no module changed (`events.changes`), the numbers and objects the function reads
    from outside. A replay calls it first; when it is false, `Guards.stale` and
    `Outside.changed` say which guard failed, or that none did (a module the program
    does not use changed, a NaN is still NaN). As one expression it takes two thirds of
    the time of those loops (0.7 µs against 1.1 for the benchmarks' regression step)."""
    terms, namespace = guard_terms(guards, reads)
    source = "def holds():\n    return (" + "\n            and ".join(terms) + ")\n"
    return run_once(source, "holds", namespace)


def guard_terms(guards: Guards, reads: Outside) -> tuple[list[str], dict[str, Any]]:
    """The guards as terms of one boolean expression, and the namespace they read."""
    namespace: dict[str, Any] = {"changes": events.changes, "guards": guards}
    terms = []
    for i, (tensor, array, requires_grad) in enumerate(guards.tensors):
        namespace[f"t{i}"], namespace[f"a{i}"] = tensor, array
        terms.append(f"t{i}._data is a{i} and t{i}._requires_grad is {bool(requires_grad)} "
                     f"and not t{i}._hooks")
    for i, (module, training, _, _) in enumerate(guards.modules):
        namespace[f"m{i}"] = module
        terms.append(f"m{i}.training is {bool(training)}")
    terms.append("changes() == guards.changes_seen")
    for i, (_, read, value) in enumerate(reads.numbers):
        namespace.update({f"n{i}": read, f"N{i}": value, f"T{i}": type(value),
                          f"S{i}": str(value)})
        terms.append(f"type(v{i} := n{i}()) is T{i} and v{i} == N{i} "
                     f"and (v{i} != 0 or str(v{i}) == S{i})")
    for i, (_, read, reference) in enumerate(reads.objects):
        namespace[f"o{i}"], namespace[f"r{i}"] = read, reference
        terms.append(f"o{i}() is r{i}()")
    return terms, namespace


def build_replay(key: tuple[Any, ...], program: Program, replays: list[int]
                 ) -> Callable[[tuple[Any, ...]], Any] | None:
    """The quick way to replay the program: a generated `replay(args)` that replays it
    (under the program's lock, counting the replay in `replays[0]`) when the call may,
    else returns MISS. A call may when its positional arguments have the signature `key`
    (see `Compiled.__call__`), each tensor among them is the tensor reached from outside
    it was when traced or none (`Program.fits`), and the guards hold, tested as one
    generated expression. A call tries the last program's first, instead of building
    the key, looking it up and checking the guards (1.1 against 3.0 µs for the
    benchmarks' regression step). It may miss where the slow way replays (a dtype equal
    to the traced one but another object, a change to an object the program does not
    use, a tensor argument with hooks); then the call takes the slow way. None when the
    key has keyword or nested arguments, or more than MAX_MATCHED tensors. (Names here
    begin with x, apart from `guard_terms`'.)"""
    grad_enabled, default, (_, *positional), keywords, same = key
    if len(keywords) > 1 or len(same) > MAX_MATCHED:
        return None
    checks, namespace = guard_terms(program.guards, program.reads)
    namespace.update({"xndarray": np.ndarray, "xTensor": Tensor, "xgrad_mode": grad_mode,
                      "xdefault": dtypes._default, "xdefault_dtype": default,
                      "xreachable": frozenset(program.reachable), "xmiss": MISS,
                      "xreplays": replays, "xlock": program.lock, "xrun": program.run})
    terms = [f"(xstate := xgrad_mode.state).grad_enabled is {bool(grad_enabled)}",
             "xstate.watcher is None and not xstate.detect_anomaly",
             "xdefault[0] is xdefault_dtype"]
    tensors: list[str] = []
    for i, part in enumerate(positional):
        name, kind = f"x{i}", part[0]
        if kind == "array":
            _, shape, dtype, contiguous = part
            terms.append(f"type({name}) is xndarray and {name}.shape == {shape!r} and "
                         f"{name}.dtype is xd{i} and {name}.flags.c_contiguous is "
                         f"{contiguous}")
        elif kind == "tensor" and not part[6]:                # (with hooks: the slow way)
            _, shape, dtype, requires_grad, has_graph, contiguous, _ = part
            terms.append(f"isinstance({name}, xTensor) and (xt{i} := {name}._data).shape == "
                         f"{shape!r} and xt{i}.dtype is xd{i} and {name}._requires_grad is "
                         f"{bool(requires_grad)} and ({name}.grad_fn is not None) is "
                         f"{bool(has_graph)} and xt{i}.flags.c_contiguous is {contiguous} "
                         f"and not {name}._hooks")
        elif kind == "value":
            namespace[f"xk{i}"], namespace[f"xv{i}"] = part[1], part[2]
            terms.append(f"type({name}) is xk{i} and {name} == xv{i}")
            if len(part) == 4:                                  # a zero, and its sign
                namespace[f"xs{i}"] = part[3]
                terms.append(f"str({name}) == xs{i}")
        elif kind == "object":
            namespace[f"xo{i}"] = part[1].value
            terms.append(f"{name} is xo{i}")
        else:
            return None
        if kind in ("array", "tensor"):
            namespace[f"xd{i}"] = dtype
            tensors.append(name)
    for k, first in enumerate(same):
        terms += [f"{tensors[k]} is {tensors[first]}"] if first != k else \
            [f"{tensors[k]} is not {tensors[j]}" for j in range(k)]
    for k, alias in enumerate(program.aliased):
        if alias is None:
            terms.append(f"id({tensors[k]}) not in xreachable")
        else:
            namespace[f"xa{k}"] = program.reachable[alias]
            terms.append(f"{tensors[k]} is xa{k}")
    names = [f"x{i}" for i in range(len(positional))]
    unpack = f"    {', '.join(names)}, = args\n" if names else ""
    # (a closure cell emptied makes a guard raise ValueError: the slow way says which)
    source = "\n".join([
        "def replay(args):", f"    if len(args) != {len(names)}:", "        return xmiss",
        f"{unpack}    try:", "        if not (" + "\n                and ".join(terms + checks)
        + "):", "            return xmiss", "    except ValueError:", "        return xmiss",
        "    xreplays[0] += 1", "    with xlock:", f"        return xrun([{', '.join(tensors)}])",
        ""])
    return run_once(source, "replay", namespace)


def reachable_tensors(outside: list[Tensor], guards: Guards, reads: Outside
                      ) -> dict[int, Tensor]:
    """The tensors a traced function reaches other than through its arguments, by id:
    those it read from outside (parameters, buffers), the parameters and buffers of the
    modules it called, and the tensors among the objects it reads from its globals and
    closures or one attribute deep, and inside a list, tuple or dict read there."""
    found: dict[int, Tensor] = {id(t): t for t in outside}
    for module, _, _, _ in guards.modules:
        found.update((id(t), t) for t in (*module.parameters(recurse=False),
                                          *module.buffers(recurse=False)))
    for _, _, reference in reads.objects:
        value = reference()
        values = value.values() if isinstance(value, dict) else \
            value if isinstance(value, (list, tuple)) else (value,)
        found.update((id(t), t) for t in values if isinstance(t, Tensor))
    return found


class Program:
    """One trace: its generated function and source, its guards (`holds`, the fast
    check of them all, made when first needed), what it reads from the function's
    globals and closures, and the numbers it baked in. Its op contexts hold saved arrays
    between a replay's forward and backward, so replays of one program take turns
    (`lock`): threads calling one compiled function run one at a time."""

    def __init__(self, tracer: Tracer, output: Any, name: str, fn: Callable[..., Any],
                 owners: list[tuple[str, Any]], arguments: list[Any]) -> None:
        self.tracer, self.output = tracer, output      # the records, for export
        self.outside = [tracer.tensors[p] for _, p in tracer.externals]
        self.guards = Guards(self.outside, tracer.names, list(tracer.modules.values()))
        self.reads = Outside(fn, tracer.used(), owners)
        self.holds: Callable[[], bool] | None = None
        self.reachable = reachable_tensors(self.outside, self.guards, self.reads)
        # for each tensor or array argument, the id of the reachable tensor it was
        self.aliased = tuple(id(a) if id(a) in self.reachable else None for a in arguments)
        self.frozen = tracer.frozen
        self.lock = threading.Lock()
        self.replay: Callable[[tuple[Any, ...]], Any] | None = None     # build_replay
        self.generate(name)

    def generate(self, name: str) -> None:
        """Write the trace out: `run(arguments)`, the replay, and its `source`."""
        generated = build(self.tracer, self.output, name)
        self.run = generated.function
        self.source = generated.source
        self.guards.prepared = generated.prepared

    def fits(self, arguments: list[Any]) -> bool:
        """Whether each tensor argument is the tensor reached from outside (a parameter,
        a global) that it was when traced, or, as then, none: the trace cannot tell an
        argument from the same tensor read another way, so `step(model.weight)` and
        `step(x)` get programs of their own."""
        reachable = self.reachable
        return all((id(a) if id(a) in reachable else None) == alias
                   for a, alias in zip(arguments, self.aliased))

    def stale(self) -> str | None:
        """Why the program may not be replayed now (the first guard that fails, said for
        a person); None when it may."""
        if self.holds is None:          # (most calls replay through `replay`)
            self.holds = build_check(self.guards, self.reads)
        try:
            if self.holds():
                return None
        except ValueError:              # a closure cell emptied: `changed` says which
            pass
        return self.guards.stale() or (self.reads.changed() if self.reads else None)


class ForwardProgram(Program):
    """A trace of a function that returns one tensor requiring grad without calling
    backward (a model's forward): a replay returns it as the output of one graph node,
    `CompiledForward`, whose inputs are the arguments and the tensors read from outside
    (parameters, buffers) and whose backward is the traced walk, generated."""

    def generate(self, name: str) -> None:
        forward, backward = build_forward(self.tracer, self.output, name)
        self.forward, self.backward = forward.function, backward.function
        self.source = forward.source + "\n\n" + backward.source
        self.templates = replay_contexts(self.tracer)

    def run(self, arguments: list[Any]) -> Tensor:
        return CompiledForward.apply(*arguments, *self.outside, program=self)

    def fresh_contexts(self) -> list[Any]:
        """New op contexts for one call (its forward saves into them, its backward reads)."""
        return [type(template).context(template.inputs, template.options,
                                       template._needs_input_grad)
                for template in self.templates]


class CompiledForward(Function):
    """A compiled forward as one node: y = the traced ops on (arguments, parameters, ...);
    dL/d(each input) = the traced backward walk, as generated (`compiled.source`). It
    saves every input, so a backward after one of them changed in place is refused."""

    derivative = ("dL/darrays = the traced ops' backward formulas, in the order the eager "
                  "walk ran them (see compiled.source)",)

    @staticmethod
    def forward(ctx, *arrays, program):
        ctx.save_for_backward(*arrays)
        ctx.contexts = program.fresh_contexts()
        return program.forward(ctx.contexts, arrays)

    @staticmethod
    def backward(ctx, grad):
        if isinstance(grad, Tensor):
            raise BackwardError(
                "compiled forward: backward(create_graph=True) through a compiled model "
                "is not supported (its backward runs on arrays, so a second derivative "
                "would be wrong); call the model itself (`compiled._orig_mod`) for "
                "higher-order gradients")
        return ctx.options["program"].backward(ctx.contexts, grad)


class Compiled:
    """A function wrapped by `ad.compile`: call it as the function itself."""

    def __init__(self, fn: Callable[..., Any], fullgraph: bool) -> None:
        if not isinstance(self, CompiledModule):        # a module's attributes read through
            functools.update_wrapper(self, fn)
        self._fn = fn
        self._fullgraph = fullgraph
        self._programs: dict[tuple[Any, ...], Program] = {}
        self._traces = 0
        self._replays = [0]             # a list: each program's `replay` counts in it too
        self._last_retrace: str | None = None
        self._last_key: tuple[Any, ...] | None = None
        self._last_program: Program | None = None
        self._eager_reason: str | None = None
        try:
            self._parameter_names = list(inspect.signature(getattr(fn, "forward", fn)).parameters)
        except (TypeError, ValueError):
            self._parameter_names = []

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        """As a method: bound to the instance, sharing this cache."""
        return self if instance is None else functools.partial(self, instance)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        program = self._last_program            # (None once the function runs eagerly)
        if program is not None and program.replay is not None and not kwargs:
            output = program.replay(args)       # (it misses under a tracer or anomaly mode)
            if output is not MISS:
                return output
        state = grad_mode.state
        if self._eager_reason is not None or state.watcher is not None \
                or state.detect_anomaly:
            return self._fn(*args, **kwargs)     # inside another trace, it is traced there
        arguments: list[Any] = []
        positional = [signature(value, arguments) for value in args]
        keywords = [(key, signature(value, arguments)) for key, value in kwargs.items()] \
            if kwargs else []
        key = (state.grad_enabled, get_default_dtype(), ("args", *positional),
               ("kwargs", *keywords), aliases(arguments))
        program = self._programs.get(key)
        if program is not None:
            reason = program.stale()
            if reason is None and not program.fits(arguments):
                reason = ("an argument is (or was, when traced) a tensor the function also "
                          "reaches from outside, such as a parameter")
            if reason is None:
                self._replays[0] += 1
                self._last_program = program
                with program.lock:
                    return program.run(arguments)
        else:
            reason = what_changed(self._last_key, key) if self._programs else None
        return self._trace(args, kwargs, arguments, key, reason)

    def _trace(self, args: tuple[Any, ...], kwargs: dict[str, Any], arguments: list[Any],
               key: tuple[Any, ...], reason: str | None) -> Any:
        names: list[str] = []           # the arguments' names, for the generated source
        parameters = self._parameter_names
        for i, value in enumerate(args):
            signature(value, [], names, parameters[i] if i < len(parameters) else f"arg{i}")
        for name, value in kwargs.items():
            signature(value, [], names, name)
        tracer = Tracer(arguments, names, self._fullgraph)
        with events.watching(tracer):
            output = self._fn(*args, **kwargs)
        forward_only = isinstance(output, Tensor) and output.grad_fn is not None \
            and not tracer.backward_roots and tracer.problem is None
        if forward_only:
            tracer.observe_gradient_of(output)
        returned = tracer.output_template(output)
        self._traces += 1
        if reason is not None:
            self._last_retrace = reason
        if tracer.problem is not None:
            self._go_eager(tracer.problem)
            return output
        name = getattr(self._fn, "__name__", None) or type(self._fn).__name__.lower()
        name = name if name.isidentifier() else "step"
        parameters = self._parameter_names
        owners = [(f"argument {parameters[i]!r}" if i < len(parameters) else f"argument {i}",
                   value) for i, value in enumerate(args)]
        owners += [(f"argument {key!r}", value) for key, value in kwargs.items()]
        program = (ForwardProgram if forward_only else Program)(tracer, returned, name,
                                                                self._fn, owners, arguments)
        program.replay = build_replay(key, program, self._replays)
        self._programs.pop(key, None)
        self._programs[key] = program
        if len(self._programs) > MAX_ENTRIES:
            del self._programs[next(iter(self._programs))]
        self._last_key = key
        self._last_program = program
        return output

    def _go_eager(self, problem: Problem) -> None:
        self._eager_reason = str(problem)
        self._programs.clear()
        self._last_program = None
        name = getattr(self._fn, "__qualname__", "the function")
        warnings.warn_explicit(
            f"ad.compile: {name} runs eagerly from now on: {problem.reason}",
            CompileWarning, *(problem.site or ("<unknown>", 0)))

    def cache_info(self) -> CacheInfo:
        """How many traces and replays there were, and why the last retrace happened."""
        return CacheInfo(self._traces, self._replays[0], len(self._programs),
                         self._last_retrace, self._eager_reason)

    def _program(self) -> Program:
        if self._eager_reason is not None:
            raise CompileError(f"compile: {getattr(self._fn, '__qualname__', 'the function')} "
                               f"runs eagerly, so there is no source: {self._eager_reason}")
        if self._last_program is None:
            raise CompileError("compile: nothing traced yet; call the function once first")
        return self._last_program

    @property
    def source(self) -> str:
        """The Python function the last call ran (or traced, for the next calls to run):
        forward, backward and the optimizer's step, one line per op."""
        return self._program().source

    def report(self) -> str:
        """What the last trace depends on: the numbers it guards (the function's own
        globals and closure cells), and every other Python number it baked in, with the
        op and the line that read it; a number there that should change between calls
        belongs in an argument or a tensor."""
        program = self._program()
        lines = ["Guarded (a change retraces):"]
        lines += [f"  {line}" for line in program.reads.described()] or ["  none"]
        lines.append("Baked in (a change is not seen):")
        frozen = []
        for op, value, site in program.frozen:
            where = f"{os.path.basename(site[0])}:{site[1]}" if site else "?"
            entry = f"  {value!r:<12} {op:<20} {where}"
            if entry not in frozen:
                frozen.append(entry)
        return "\n".join(lines + (frozen or ["  none"]))

    def export(self, path: str | os.PathLike[str]) -> None:
        """Write the last traced step as a Python module at `path` that needs numpy alone
        (each op's forward and backward, the helpers they call and the optimizer's update
        copied from the library's source), its state (parameters, buffers, optimizer
        state, learning rates, the random generator's state) in the .npz beside it; see
        `autodiff.jit.export`. A whole training step only: a function that returns its
        output for a backward outside it (a model's forward) is refused."""
        from .export import export
        program = self._program()
        if isinstance(program, ForwardProgram):
            raise CompileError("export: writes out a whole training step (forward, "
                               "backward, optimizer.step()); this function returns a tensor "
                               "for a backward outside it")
        export(program, path, program.run.__name__)


class CompiledModule(Compiled):
    """`ad.compile(model)`: the model's forward compiled, the model otherwise as it is
    (its attributes, parameters and methods read through), as torch.compile(model). In
    grad mode a replay's output is one graph node (`CompiledForward`), so
    `loss.backward()` and the optimizer work as with the model itself."""

    def __init__(self, module: Any, fullgraph: bool) -> None:
        self.__dict__["_orig_mod"] = module          # torch's name for the model inside
        super().__init__(module, fullgraph)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__dict__["_orig_mod"], name)

    def __repr__(self) -> str:
        return f"Compiled({self._orig_mod!r})"
