"""ad.trace_backward: the backward pass played one node at a time, for learning backprop.

`trace_backward(loss)` runs the engine's one backward walk (autodiff/backward.py) with an
observer, so the steps come in exactly the order `loss.backward()` runs the nodes. At each
step the observer sees the gradient arriving at the node's output, dL/dy, and what the
node sends to each input, before and after the engine sums away broadcast axes. The walk
runs as with retain_graph=True and in capture mode: no .grad and no retained grad
changes, no tensor hook runs, and a later `loss.backward()` still works.

>>> import autodiff as ad
>>> x = ad.tensor([1.0, 2.0], requires_grad=True)
>>> loss = (x * x).sum()
>>> trace = ad.trace_backward(loss)
>>> [step.op for step in trace]
['sum', 'mul']
>>> trace.grads[x]
tensor([2., 4.])
>>> x.grad is None
True
"""
from __future__ import annotations

import html
import linecache
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import events, viz
from ._optional import require
from .backward import run_backward, seed_gradient
from .errors import BackwardError
from .tensor import Tensor

SHOWN_ELEMENTS = 6          # tensors up to this size print whole; larger ones as statistics


@dataclass
class InputGradient:
    """What one step sends to one of its node's inputs: `raw`, as the op's backward
    returned it, and `summed`, after the engine summed broadcast axes to the input's
    shape (the same array when no axis was broadcast)."""
    position: int
    input: Tensor
    name: str
    raw: np.ndarray
    summed: np.ndarray


@dataclass
class BackwardStep:
    """One node of the backward pass: the op, its declared local derivative (`rule`, one
    line per input), the gradient arriving at its output, what it sends to each input,
    and the user's line that made the op."""
    index: int
    op: str
    rule: tuple[str, ...]
    output: Tensor
    output_name: str
    output_grad: np.ndarray
    input_grads: list[InputGradient] = field(default_factory=list)
    site: tuple[str, int] | None = None

    @property
    def source(self) -> str:
        """`file:line  code` of the line that made the op (`line N  code` in a notebook
        cell; '' when unknown)."""
        if self.site is None:
            return ""
        path, line = self.site
        code = linecache.getline(path, line).split("  #")[0].strip()     # no comment
        folder, file = os.path.split(path)
        place = f"line {line}" if os.path.basename(folder).startswith("ipykernel_") \
            else f"{file}:{line}"                   # a notebook cell's file name is random
        return f"{place}  {code}".rstrip()


class BackwardTrace:
    """The steps of one backward pass (iterate, index or `len`), and `grads`: each leaf
    that requires grad mapped to the gradient the steps accumulate into it, equal to
    what `loss.backward()` adds to its .grad.

    `print(trace)` shows a table; in Jupyter the trace shows the table and, with Graphviz,
    the graph with the current node outlined in red, one frame per step chosen with radio
    buttons (CSS only, no JavaScript). `save_frames(directory)` writes those pictures."""

    def __init__(self, loss: Tensor, steps: list[BackwardStep], grads: dict[Tensor, Tensor],
                 names: dict[Tensor, str], params: Any) -> None:
        self.loss = loss
        self.steps = steps
        self.grads = grads
        self._names = names
        self._params = params

    def __iter__(self) -> Iterator[BackwardStep]:
        return iter(self.steps)

    def __len__(self) -> int:
        return len(self.steps)

    def __getitem__(self, index: int) -> BackwardStep:
        return self.steps[index]

    def __str__(self) -> str:
        lines = [f"backward of {self._names.get(self.loss, 'the loss')} "
                 f"{_shape(self.loss.shape)}: {len(self.steps)} steps, in the order "
                 f"backward() runs them"]
        for step in self.steps:
            lines.extend(_step_lines(step))
        lines.append("leaf gradients (what backward() adds to .grad):")
        for leaf, grad in self.grads.items():
            lines.append(f"  {self._names[leaf]:<14} {_summary(grad._data)}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<BackwardTrace of {len(self.steps)} steps>"

    def _repr_html_(self) -> str:
        frames = self._svg_frames()
        key = "adtrace" + secrets.token_hex(4)
        css = [f"#{key} .step{{display:none}}",
               f"#{key} label{{margin-right:6px;font-family:monospace;cursor:pointer}}",
               f"#{key} pre{{font-size:12px}}"]
        radios, panels = [], []
        for step in self.steps:
            n = step.index
            radio = f"{key}-{n}"
            css.append(f"#{radio}:checked ~ .steps .s{n}{{display:block}}")
            radios.append(f'<input type="radio" name="{key}" id="{radio}"'
                          f'{" checked" if n == 1 else ""}><label for="{radio}">{n}</label>')
            picture = frames[n - 1] if frames else ""
            panels.append(f'<div class="step s{n}"><pre>'
                          f'{html.escape(chr(10).join(_step_lines(step)))}</pre>'
                          f'{picture}</div>')
        return (f'<div id="{key}"><style>{"".join(css)}</style>'
                f'<div>{html.escape(str(self).splitlines()[0])}; step:</div>'
                f'{"".join(radios)}<div class="steps">{"".join(panels)}</div></div>')

    def _svg_frames(self) -> list[str] | None:
        """One SVG of the graph per step, the step's node outlined; None without Graphviz
        (the package or its `dot` program)."""
        try:
            graphviz = require("graphviz", "viz", "trace_backward")
        except ModuleNotFoundError:
            return None
        try:
            return [self._draw(step).pipe(format="svg").decode("utf-8") for step in self.steps]
        except graphviz.ExecutableNotFound:
            return None

    def _draw(self, step: BackwardStep) -> Any:
        return viz.draw(self.loss, params=self._drawn_names(), show_grads=False,
                        highlight=step.output)

    def _drawn_names(self) -> dict[str, Tensor]:
        """The names the table uses, for the drawing: parameters, and the tensors the walk
        reached (leaves that are not parameters keep the drawing's own names)."""
        parameters = set(viz.parameter_names(self._params))
        return {name: t for t, name in self._names.items()
                if t in parameters or t.grad_fn is not None}

    def save_frames(self, directory: str | os.PathLike, format: str = "png") -> list[str]:
        """Write one picture per step, `step_01.png`, `step_02.png`, ..., into `directory`
        (made if missing): the graph with that step's node outlined, for slides. Needs
        Graphviz. Returns the paths."""
        os.makedirs(directory, exist_ok=True)
        width = len(str(len(self.steps)))
        paths = []
        for step in self.steps:
            path = os.path.join(os.fspath(directory),
                                f"step_{step.index:0{width}d}.{format}")
            viz.save(self.loss, path=path, params=self._drawn_names(), show_grads=False,
                     highlight=step.output)
            paths.append(path)
        return paths


class _Recorder:
    """The observer of the backward walk: turns its events into BackwardSteps."""

    def __init__(self, names: dict[Tensor, str]) -> None:
        self.names = names
        self.unnamed = 0
        self.steps: list[BackwardStep] = []
        self.grads: dict[Tensor, Tensor] = {}

    def name(self, t: Tensor) -> str:
        """The tensor's name: its parameter name, its own `name`, or t1, t2, ... in the
        order the walk first meets it."""
        if t not in self.names:
            self.unnamed += 1
            self.names[t] = t.name or f"t{self.unnamed}"
        return self.names[t]

    def reached(self, tensor: Tensor, grad: Any) -> None:
        node = tensor.grad_fn
        if node is None:
            self.grads[tensor] = Tensor(np.array(grad, copy=True))
            return
        self.steps.append(BackwardStep(len(self.steps) + 1, node.op_name(), _rule(node),
                                       tensor, self.name(tensor), np.array(grad, copy=True),
                                       site=node.site))

    def returned(self, node: Any, input_grads: Any) -> None:
        """Nothing to record: `sent` gets each gradient, a tuple or not."""

    def sent(self, node: Any, position: int, raw: Any, summed: Any) -> None:
        x = node.inputs[position]
        self.steps[-1].input_grads.append(InputGradient(
            position, x, self.name(x), np.array(raw, copy=True),
            np.array(summed, copy=True)))


def trace_backward(loss: Tensor, gradient: Any = None, params: Any = None) -> BackwardTrace:
    """The backward pass of `loss` replayed one node at a time (see the module docstring).

    Args:
        loss: the tensor to differentiate (one element, or give `gradient`).
        gradient: dL/dloss for a loss of several elements, as in backward().
        params: names for parameters, as in `viz.draw`: a dict or an nn.Module.

    Each step has `op`, `rule` (the op's declared derivative), `output_grad`,
    `input_grads` (raw and summed to each input's shape) and `source` (the line that
    made the op). `trace.grads[leaf]` equals what `loss.backward()` gives.
    """
    if not isinstance(loss, Tensor):
        raise TypeError(f"trace_backward: loss must be a Tensor, got {type(loss).__name__}")
    if not loss.requires_grad:
        raise BackwardError("trace_backward: the loss does not require grad, so there is no "
                            "backward pass to trace; make an input with requires_grad=True")
    events.unsupported("calls ad.trace_backward (trace an eager step instead)")
    names = dict(viz.parameter_names(params))
    names.setdefault(loss, loss.name or "loss")
    recorder = _Recorder(names)
    seed = seed_gradient(loss, gradient, create_graph=False)
    run_backward([loss], [seed], retain_graph=True, create_graph=False, capture={},
                 observer=recorder)
    return BackwardTrace(loss, recorder.steps, recorder.grads, recorder.names, params)


def _rule(node: Any) -> tuple[str, ...]:
    """The op's declared local derivative, one line per input that requires grad; for a
    user's Function without a declaration, its docstring's first line."""
    declared = getattr(type(node), "derivative", None)
    if declared is not None:
        if len(declared) == len(node.inputs):       # one rule per input: those that learn
            return tuple(rule for rule, x in zip(declared, node.inputs)
                         if isinstance(x, Tensor) and x.requires_grad)
        return tuple(declared)
    doc = (type(node).__doc__ or "").strip()
    return (doc.splitlines()[0],) if doc else ("(no derivative declared)",)


def _shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def _summary(array: np.ndarray) -> str:
    """Small arrays whole (4 significant digits), large ones as shape, mean, std, min, max."""
    array = np.asarray(array)
    if array.size <= SHOWN_ELEMENTS:
        text = np.array2string(array, separator=", ",
                               formatter={"float_kind": lambda v: f"{v:.4g}"})
        return " ".join(text.split())
    return (f"shape {_shape(array.shape)}: mean {array.mean():.4g}, std {array.std():.4g}, "
            f"min {array.min():.4g}, max {array.max():.4g}")


def _wrt(name: str) -> str:
    """dL/dname, with the name in parentheses when it is more than one word (ŷ − y)."""
    plain = name.replace(".", "").replace("_", "").isalnum()
    return f"dL/d{name}" if plain else f"dL/d({name})"


def _step_lines(step: BackwardStep) -> list[str]:
    where = f"   [{step.source}]" if step.source else ""
    lines = [f"step {step.index}: {step.op} → {step.output_name}{where}",
             f"  arriving   {_wrt(step.output_name)} = {_summary(step.output_grad)}"]
    lines.extend(f"  rule       {rule}" for rule in step.rule)
    for sent in step.input_grads:
        target = _wrt(sent.name)
        lines.append(f"  sends      {target} = {_summary(sent.summed)}")
        if sent.raw.shape != sent.summed.shape:
            lines.append(f"             (summed from shape {_shape(sent.raw.shape)} over the "
                         f"broadcast axes)")
    return lines
