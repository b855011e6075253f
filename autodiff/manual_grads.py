"""Checking gradients derived by hand: the "backprop ninja" exercise.

`check_manual_grads(loss, {t: dL_dt, ...})` takes gradients a learner worked out by hand
for any tensors of the loss's graph (leaves or intermediates: logits, pre-activations,
weights), computes the true dL/dt of each with the engine (`ad.grad` with
retain_graph=True: no .grad changes, and `loss.backward()` still works afterwards) and
returns a `ManualGradReport`: one row per tensor, in the order backward reaches them (the
engine's topological order, loss first), with the verdict and, for a wrong gradient,
which mistake explains the learner's value.

Tolerance. A hand gradient is right when max |hand − true| <= atol = rtol · scale, with
rtol set by the tensor's dtype: 1e-10 for float64, 1e-5 for float32, 1e-2 for float16.
The scale is the larger of max |dL/dt| and the size of the terms the chain rule sums into
dL/dt: for each op that takes t, that op's backward applied to |dL/dy| (y its output),
largest element (1 if all are zero). So a gradient that cancels to rounding noise, like
that of a bias just before a batch norm (zero in exact arithmetic), is judged on the
scale of what was summed, while one made small by a small local derivative (a mean's
1/n, a saturated sigmoid) keeps its own. The relative error reported is
max |hand − true| / scale.

Diagnoses of a wrong gradient, decided in this order. A wrong gradient above t counts
only while its error reaches t: when the learner's values above give t's true gradient
(right gradients in between cut the error off), t is judged as if all above were right.

1. "follows from the wrong gradient of X above": some given tensor above t (one whose
   gradient flows into t's) is wrong, and the learner's value of t is what backward
   brings to t when each given tensor above it sends down the learner's value instead of
   its own, every other step of the chain rule done right (one backward pass, the
   learner's values swapped in by hooks). X names the wrong ones above t that do not
   themselves follow from another. This comes first so that one slip near the loss is
   not reported again as a new mistake at every tensor below it.
2. A mistake in this step explains the value exactly (within atol): it turns the true
   gradient into the learner's value or, below a wrong gradient, what the learner's own
   values above give (rule 1's pass), which the diagnosis then says. The checks:
   - transposed: 2-D, and yoursᵀ is right (a square gradient counts only when it is not
     symmetric; if it is, yoursᵀ = right means yours is right);
   - a broadcast axis not summed: yours has the shape the gradient had before the engine
     summed the broadcast axes ((N, C) for a bias of shape (C,)), and summing it over
     those axes gives the right value;
   - wrong sign: yours is −1 × right;
   - off by a constant factor c: yours is c × right, for c ≠ 0 that does not print as 1
     or −1 to 4 digits (those are right, or the wrong sign); named "the batch size N: mean
     vs sum" when c or 1/c is N, the first dimension of the data (a leaf that does not
     require grad) or of a tensor the loss op takes;
   - a missing local-derivative factor: t has exactly one consumer, an elementwise op of
     `local_factor` (tanh, sigmoid, relu, exp, log, sqrt, a power by a number), and yours
     times that op's local derivative (computed from the op's input and output) is
     right: the learner forgot to multiply by it.
   When two of these explain the value equally (an antisymmetric gradient transposed is
   also its negative), the value cannot tell them apart: no diagnosis, and the row's
   `ambiguous` names them.
3. "not explained by this step alone: the gradient of X above is wrong too; fix that
   first": some given tensor above t is wrong (X is the first such in backward order).
4. "first wrong in backward order: the error starts here": every given tensor above t is
   right, so the mistake lies between them and t.

A hand gradient of the wrong shape that no check of 2 explains is told the shape it must
have.

>>> import autodiff as ad
>>> w = ad.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
>>> x = ad.tensor([[1.0, -1.0]])
>>> loss = (x @ w).sum()
>>> report = ad.check_manual_grads(loss, {w: [[1.0, 1.0], [-1.0, -1.0]]}, names={w: "W"})
>>> report.ok
True
>>> ad.check_manual_grads(loss, {w: [[-1.0, -1.0], [1.0, 1.0]]}).rows[0].diagnosis
'wrong sign: yours is −1 × the true gradient'
"""
from __future__ import annotations

import html
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .backward import grad as autograd_grad
from .backward import topological_order, unbroadcast
from .errors import BackwardError, DtypeError
from .ops.elementwise import Exp, Log, Pow, ReLU, Sigmoid, Sqrt, Tanh
from .tensor import Tensor, array_of

# rtol by floating-point precision: the machine epsilon at most this -> rtol
RTOL_BY_EPSILON = ((float(np.finfo(np.float64).eps), 1e-10),
                   (float(np.finfo(np.float32).eps), 1e-5),
                   (float(np.finfo(np.float16).eps), 1e-2))


@dataclass(frozen=True)
class ManualGradRow:
    """One tensor's check. `verdict` is "ok", "wrong" or "wrong shape"; the errors are
    None when the shapes differ; `tolerance` is the atol used (rtol · scale, rtol set by
    `dtype`; see the module docstring); `worst` is (index, yours, true) at the largest
    difference of a wrong gradient; `diagnosis` is None for a right one and for an
    ambiguous one, whose candidate mistakes `ambiguous` names."""
    name: str
    shape: tuple[int, ...]
    dtype: str
    hand_shape: tuple[int, ...]
    verdict: str
    max_abs_error: float | None
    max_rel_error: float | None
    tolerance: float
    rtol: float
    diagnosis: str | None
    ambiguous: tuple[str, ...] = ()
    worst: tuple[tuple[int, ...], float, float] | None = None

    @property
    def ok(self) -> bool:
        return self.verdict == "ok"

    def errors(self) -> str:
        """The errors against the tolerance, or the hand gradient's other shape."""
        if self.max_abs_error is None:
            return f"yours has shape {_shape(self.hand_shape)}"
        return (f"max abs error {self.max_abs_error:.1e}, rel {self.max_rel_error:.1e} "
                f"(tolerance {self.tolerance:.1e})")

    def finding(self) -> str:
        """For a wrong gradient: the worst element and the diagnosis ("" when right)."""
        parts = []
        if self.worst is not None:
            index, yours, true = self.worst
            parts.append(f"worst at {list(index)}: yours {yours:.4g}, true {true:.4g}")
        if self.diagnosis is not None:
            parts.append(self.diagnosis)
        elif self.ambiguous:
            parts.append(f"no diagnosis: {' and '.join(self.ambiguous)} each explain it "
                         f"exactly")
        return "; ".join(parts)


class ManualGradReport:
    """The rows of `check_manual_grads`, in backward order. `ok` is True when every hand
    gradient is right; `report["W1"]` is the row of that name; `print(report)` shows a
    header line and one line per tensor; Jupyter shows an HTML table."""

    def __init__(self, rows: list[ManualGradRow]) -> None:
        self.rows = tuple(rows)

    @property
    def ok(self) -> bool:
        return all(row.ok for row in self.rows)

    @property
    def wrong(self) -> list[ManualGradRow]:
        return [row for row in self.rows if not row.ok]

    def __getitem__(self, name: str) -> ManualGradRow:
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(f"check_manual_grads: no tensor named {name!r} in the report; the "
                       f"names are {[row.name for row in self.rows]}")

    def __iter__(self) -> Iterator[ManualGradRow]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def header(self) -> str:
        count, wrong = len(self.rows), len(self.wrong)
        if wrong:
            verdict = (f"{wrong} of {count} gradient{'s' if count > 1 else ''} "
                       f"{'is' if wrong == 1 else 'are'} wrong")
        else:
            verdict = f"all {count} gradients match" if count > 1 else "the gradient matches"
        rtols = {row.dtype: row.rtol for row in self.rows}
        return (f"{verdict} (tolerance: rtol · the gradient's scale, rtol "
                f"{', '.join(f'{r:g} for {d}' for d, r in sorted(rtols.items()))})")

    def __str__(self) -> str:
        names = max(len(row.name) for row in self.rows)
        shapes = max(len(_shape(row.shape)) for row in self.rows)
        lines = [self.header()]
        for row in self.rows:
            finding = "" if row.ok else f"; {row.finding()}"
            lines.append(f"  {row.name:<{names}}  {_shape(row.shape):<{shapes}}  "
                         f"{row.verdict:<11}  {row.errors()}{finding}")
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        cells = ["<tr><th>tensor</th><th>shape</th><th>verdict</th><th>max abs error</th>"
                 "<th>max rel error</th><th>tolerance</th><th>diagnosis</th></tr>"]
        for row in self.rows:
            errors = ["—", "—"] if row.max_abs_error is None else [
                f"{row.max_abs_error:.1e}", f"{row.max_rel_error:.1e}"]
            values = [row.name, _shape(row.shape), row.verdict, *errors,
                      f"{row.tolerance:.1e}", row.finding()]
            cells.append("<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in values)
                         + "</tr>")
        return (f"<div><p>{html.escape(self.header())}</p><table>{''.join(cells)}</table>"
                f"</div>")


def check_manual_grads(loss: Tensor, grads: Mapping[Tensor, Any],
                       names: Mapping[Tensor, str] | None = None) -> ManualGradReport:
    """Compare hand-derived gradients dL/dt with the engine's; see the module docstring
    for the tolerance and the diagnoses.

    Args:
        loss: the scalar L (one element) the gradients are of.
        grads: {tensor: hand gradient}, each a Tensor, an ndarray or a nested list, for
            tensors of the loss's graph that require grad (leaves or intermediates).
        names: {tensor: name} for the report; otherwise a tensor's own `name` (the label
            `viz.draw` shows), else "tensor i" for the i-th key of `grads`.

    No .grad (and no retained grad) changes; the graph is kept, so `loss.backward()`
    works afterwards. Tensor hooks run, as in `ad.grad`.
    """
    _check_loss(loss)
    if not isinstance(grads, Mapping):
        raise TypeError(f"check_manual_grads: grads must be a dict {{tensor: hand "
                        f"gradient}}, got {type(grads).__name__}")
    if not grads:
        raise ValueError("check_manual_grads: grads is empty; give at least one "
                         "{tensor: hand gradient}")
    labels = _labels(grads, names)
    hands = {t: _hand_array(value, labels[t]) for t, value in grads.items()}
    order = [t for t in reversed(topological_order([loss], leaves=True)) if t in hands]
    _check_in_graph(hands, order, labels)
    graph = _Graph(loss, order)
    outputs = list({c: None for t in order for c in graph.consumers[t] if c not in hands})
    true = dict(zip(order + outputs, _gradients(loss, order + outputs)))
    arrived = _arrived(loss, order, hands)
    checks = {t: _Check(labels[t], t, hands[t], true[t], graph.summed_size(t, true))
              for t in order}
    rows = [checks[t].row(graph, checks, arrived[t]) for t in order]   # those above t first
    return ManualGradReport(rows)


# ---------------------------------------------------------------- arguments

def _check_loss(loss: Any) -> None:
    if not isinstance(loss, Tensor):
        raise TypeError(f"check_manual_grads: loss must be a Tensor, got "
                        f"{type(loss).__name__}")
    if loss.numel() != 1:
        raise BackwardError(f"check_manual_grads: the loss has shape {loss.shape}; it must "
                            f"be one number L, whose gradients dL/dt you derived (reduce it "
                            f"first, e.g. loss.mean() or loss.sum())")
    if not loss.requires_grad:
        raise BackwardError("check_manual_grads: the loss does not require grad, so it has "
                            "no gradients; make its parameters with requires_grad=True and "
                            "do not compute it under no_grad")


def _labels(grads: Mapping[Tensor, Any], names: Mapping[Tensor, str] | None
            ) -> dict[Tensor, str]:
    """Each key's name in the report: names[t], else t.name, else "tensor i"."""
    names = {} if names is None else names
    for t, name in names.items():
        if not isinstance(t, Tensor) or t not in grads:
            raise ValueError(f"check_manual_grads: names gives the name {name!r} to a "
                             f"{type(t).__name__} that is not a key of grads; name only the "
                             f"tensors you check")
    labels = {}
    for i, t in enumerate(grads):
        if not isinstance(t, Tensor):
            raise TypeError(f"check_manual_grads: key {i} of grads is a {type(t).__name__}; "
                            f"the keys are the tensors of the forward pass, {{tensor: hand "
                            f"gradient}}")
        labels[t] = str(names.get(t) or t.name or f"tensor {i}")
    return labels


def _hand_array(value: Any, name: str) -> np.ndarray:
    """The learner's gradient as a float64 array; a Tensor, an ndarray or a nested list."""
    array = np.asarray(array_of(value))
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise DtypeError(f"check_manual_grads: the hand gradient of {name} has dtype "
                         f"{array.dtype}; give real numbers (a Tensor or an ndarray)")
    return array.astype(np.float64)


def _check_in_graph(hands: dict[Tensor, np.ndarray], order: list[Tensor],
                    labels: dict[Tensor, str]) -> None:
    in_graph = set(order)
    for t in hands:
        if t not in in_graph:
            raise BackwardError(
                f"check_manual_grads: {labels[t]} (shape {_shape(t.shape)}) is not in the "
                f"loss's graph: the loss was not computed from it, so it has no gradient. "
                f"Pass the very tensor the forward pass used (not a copy made with "
                f".detach(), .numpy() or ad.tensor(...)), or leave it out")
        if not t.requires_grad:
            raise BackwardError(
                f"check_manual_grads: {labels[t]} (shape {_shape(t.shape)}) does not require "
                f"grad, so the engine computes no gradient for it; make it with "
                f"requires_grad=True before the forward pass, or leave it out")


def _gradients(loss: Tensor, tensors: list[Tensor]) -> list[np.ndarray]:
    """dL/dt for each t by the engine (`ad.grad`: the graph kept, no .grad touched), as
    float64 arrays; zeros where no gradient flows (an op whose backward gives None)."""
    found = autograd_grad(loss, tensors, retain_graph=True, allow_unused=True)
    return [np.zeros(t.shape) if g is None else g._data.astype(np.float64)
            for t, g in zip(tensors, found)]


def _arrived(loss: Tensor, order: list[Tensor], hands: dict[Tensor, np.ndarray]
             ) -> dict[Tensor, np.ndarray]:
    """For each tensor, the gradient backward brings it when every given tensor sends
    down the learner's value instead of its own (where that has the tensor's shape): one
    backward pass, with a hook on each tensor that notes what arrives and hands on the
    learner's value. The hooks are removed afterwards."""
    arrived = {t: np.zeros(t.shape) for t in order}
    removers = [t.register_hook(_SwapIn(t, hands[t], arrived)) for t in order]
    try:
        _gradients(loss, order)
    finally:
        for remove in removers:
            remove()
    return arrived


class _SwapIn:
    """A tensor hook: notes in `arrived` the gradient that reaches `tensor`, and hands on
    the learner's value instead (unless its shape is wrong)."""

    def __init__(self, tensor: Tensor, hand: np.ndarray, arrived: dict[Tensor, np.ndarray]
                 ) -> None:
        self.tensor = tensor
        self.hand = hand
        self.arrived = arrived

    def __call__(self, grad: Tensor) -> np.ndarray | None:
        self.arrived[self.tensor] = grad._data.astype(np.float64)
        if self.hand.shape != self.tensor.shape:
            return None
        return self.hand.astype(self.tensor.dtype)


def _rtol(dtype: np.dtype) -> float:
    """1e-10 for float64, 1e-5 for float32, 1e-2 for float16."""
    eps = float(np.finfo(dtype).eps)
    return next(rtol for bound, rtol in RTOL_BY_EPSILON if eps <= bound)


def _shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


# ---------------------------------------------------------------- the graph around the tensors

class _Graph:
    """What the diagnoses need to know of the graph: each given tensor's consumers (the
    tensors made by ops that take it as an input), the given tensors above it, and the
    batch sizes N a mean may divide by."""

    def __init__(self, loss: Tensor, given: list[Tensor]) -> None:
        self.loss = loss
        self.given = given
        wanted = set(given)
        self.consumers: dict[Tensor, list[Tensor]] = {t: [] for t in given}
        for output in topological_order([loss]):
            for x in output.grad_fn.inputs:
                if isinstance(x, Tensor) and x in wanted:
                    self.consumers[x].append(output)
        self.below = {u: set(topological_order([u], leaves=True)) - {u} for u in given}
        self.batch_sizes = self._batch_sizes()

    def summed_size(self, t: Tensor, grads: dict[Tensor, np.ndarray]) -> float:
        """The size of the terms the chain rule sums into dL/dt: for each op that takes t,
        its backward applied to |dL/dy| (y the op's output; `grads` holds dL/dy), t's
        share in absolute value summed over broadcast axes; the largest element."""
        size = 0.0
        for output in self.consumers[t]:
            node = output.grad_fn
            shares = type(node).backward(node, np.abs(grads[output]).astype(output.dtype))
            shares = shares if isinstance(shares, tuple) else (shares,)
            for x, share in zip(node.inputs, shares):
                if x is t and share is not None:
                    terms = unbroadcast(np.abs(np.asarray(share, dtype=np.float64)), t.shape)
                    size = max(size, float(np.max(terms, initial=0.0)))
        return size

    def above(self, t: Tensor) -> list[Tensor]:
        """The given tensors whose gradient flows into t's, in backward order."""
        return [u for u in self.given if t in self.below[u]]

    def _batch_sizes(self) -> list[int]:
        """N: the first dimension of the data (the leaves that do not require grad) and of
        the tensors the op that made the loss takes, where it is more than 1."""
        tensors = [t for t in topological_order([self.loss], leaves=True)
                   if t.grad_fn is None and not t.requires_grad]
        if self.loss.grad_fn is not None:
            tensors += [x for x in self.loss.grad_fn.inputs if isinstance(x, Tensor)]
        return sorted({t.shape[0] for t in tensors if t.ndim and t.shape[0] > 1})


class _Check:
    """One tensor's hand gradient against the true one."""

    def __init__(self, name: str, tensor: Tensor, hand: np.ndarray, true: np.ndarray,
                 summed_size: float) -> None:
        """`summed_size`: the size of the terms summed into the true gradient."""
        self.name = name
        self.tensor = tensor
        self.hand = hand
        self.true = true
        self.rtol = _rtol(tensor.dtype)
        scale = max(float(np.max(np.abs(true), initial=0.0)), summed_size)
        self.scale = scale if scale > 0 else 1.0
        self.atol = self.rtol * self.scale
        self.same_shape = hand.shape == true.shape
        self.ok = self.same_shape and self.explains(hand)
        self.follows = False        # rule 1: the mistake is carried down from above

    def explains(self, candidate: np.ndarray, reference: np.ndarray | None = None) -> bool:
        """max |candidate − reference| <= atol, the reference being the true gradient
        unless given (False for another shape, or NaN)."""
        reference = self.true if reference is None else reference
        if candidate.shape != reference.shape:
            return False
        return bool(np.max(np.abs(candidate - reference), initial=0.0) <= self.atol)

    def row(self, graph: _Graph, checks: dict[Tensor, _Check], arrived: np.ndarray
            ) -> ManualGradRow:
        """The verdict and diagnosis; `checks` of the tensors above this one are done, and
        `arrived` is this tensor's gradient given the learner's values above it."""
        abs_error = rel_error = worst = None
        diagnosis, ambiguous = None, ()
        if self.same_shape:
            difference = np.abs(self.hand - self.true)
            abs_error = float(np.max(difference, initial=0.0))
            rel_error = abs_error / self.scale
        if not self.ok:
            if self.same_shape:
                at = np.unravel_index(int(np.argmax(np.nan_to_num(difference, nan=np.inf))),
                                      self.true.shape)
                worst = (tuple(int(i) for i in at), float(self.hand[at]) + 0.0,
                         float(self.true[at]) + 0.0)           # + 0.0: no "-0" printed
            diagnosis, ambiguous = self.diagnose(graph, checks, arrived)
        verdict = "ok" if self.ok else "wrong" if self.same_shape else "wrong shape"
        return ManualGradRow(self.name, self.tensor.shape, str(self.tensor.dtype),
                             self.hand.shape, verdict, abs_error, rel_error, self.atol,
                             self.rtol, diagnosis, ambiguous, worst)

    def diagnose(self, graph: _Graph, checks: dict[Tensor, _Check], arrived: np.ndarray
                 ) -> tuple[str | None, tuple[str, ...]]:
        """(diagnosis, the mistakes that explain it when several do): rules 1 to 4 of the
        module docstring, in order. Below a wrong gradient, rule 2 compares with what the
        learner's values above give (`arrived`) instead of the true gradient."""
        wrong_above = [u for u in graph.above(self.tensor) if not checks[u].ok]
        if wrong_above and self.explains(arrived):
            wrong_above = []        # right gradients in between cut their errors off
        origins = " and ".join(checks[u].name for u in wrong_above if not checks[u].follows)
        if wrong_above and self.explains(self.hand, arrived):
            self.follows = True
            return f"follows from the wrong gradient of {origins} above", ()
        if wrong_above:
            reference, target = arrived, f"what your gradient of {origins} above gives"
        else:
            reference, target = self.true, "the true gradient"
        found = [(kind, text) for kind, text in self.mistakes(graph, reference, target)
                 if text is not None]
        if len(found) == 1:
            return found[0][1], ()
        if found:
            return None, tuple(kind for kind, _ in found)
        if not self.same_shape:
            return (f"a gradient has its tensor's shape {_shape(self.true.shape)}, yours has "
                    f"{_shape(self.hand.shape)}"), ()
        if wrong_above:
            return (f"not explained by this step alone: the gradient of "
                    f"{checks[wrong_above[0]].name} above is wrong too; fix that first"), ()
        return "first wrong in backward order: the error starts here", ()

    def mistakes(self, graph: _Graph, reference: np.ndarray, target: str
                 ) -> list[tuple[str, str | None]]:
        """Each mistake of rule 2 with its diagnosis where it turns `reference` (described
        as `target`) into the learner's value, else None."""
        return [("transposed", self.transposed(reference, target)),
                ("a broadcast axis not summed", self.unsummed(reference, target)),
                ("wrong sign", self.wrong_sign(reference, target)),
                ("a constant factor", self.constant_factor(reference, target,
                                                           graph.batch_sizes)),
                ("a missing local factor", self.missing_factor(
                    reference, target, graph.consumers[self.tensor]))]

    def transposed(self, reference: np.ndarray, target: str) -> str | None:
        if self.hand.ndim == 2 and self.explains(self.hand.T, reference):
            return f"transposed: yoursᵀ is {target}"
        return None

    def unsummed(self, reference: np.ndarray, target: str) -> str | None:
        hand, shape = self.hand, reference.shape
        extra = hand.ndim - len(shape)
        if self.same_shape or extra < 0 or any(n not in (m, 1) for n, m in
                                               zip(shape, hand.shape[extra:])):
            return None
        axes = tuple(range(extra)) + tuple(i + extra for i, n in enumerate(shape)
                                           if n == 1 and hand.shape[i + extra] != 1)
        if all(hand.shape[axis] == 1 for axis in axes):
            return None         # only axes of size 1 to drop: a reshape, not a sum
        if not self.explains(unbroadcast(hand, shape), reference):
            return None
        where = f"axis {axes[0]}" if len(axes) == 1 else f"axes {axes}"
        return (f"a broadcast axis not summed: yours, summed over {where} to shape "
                f"{_shape(shape)}, is {target} ({self.name} was broadcast to "
                f"{_shape(hand.shape)} in the forward pass)")

    def wrong_sign(self, reference: np.ndarray, target: str) -> str | None:
        if self.explains(-self.hand, reference):
            return f"wrong sign: yours is −1 × {target}"
        return None

    def constant_factor(self, reference: np.ndarray, target: str, batch_sizes: list[int]
                        ) -> str | None:
        if not self.same_shape:
            return None
        norm = float(np.sum(reference * reference))
        c = float(np.sum(self.hand * reference)) / norm if norm > 0 else 0.0
        if c == 0 or not np.isfinite(c) or f"{abs(c):.4g}" == "1":
            return None         # c = 1 is right, c = −1 is the wrong sign
        if not self.explains(self.hand / c, reference):
            return None
        for n in batch_sizes:
            if self.explains(self.hand / n, reference):
                return (f"off by a constant factor: yours is {n} × {target}; {n} is the "
                        f"batch size N: mean vs sum")
            if self.explains(self.hand * n, reference):
                return (f"off by a constant factor: yours is {target} / {n}; {n} is the "
                        f"batch size N: mean vs sum")
        return f"off by a constant factor: yours is {c:.4g} × {target}"

    def missing_factor(self, reference: np.ndarray, target: str, consumers: list[Tensor]
                       ) -> str | None:
        if len(consumers) != 1 or not self.same_shape:
            return None
        output = consumers[0]
        node = output.grad_fn
        found = local_factor(node, self.tensor._data.astype(np.float64),
                             output._data.astype(np.float64))
        if found is None or not self.explains(self.hand * found[1], reference):
            return None
        text = found[0]
        formula = (getattr(type(node), "derivative", None) or (f"dL/dx = dL/dy · {text}",))[0]
        return (f"forgot the factor {text} of {node.op_name()}: yours · {text} is {target} "
                f"({formula})")


def local_factor(node: Any, x: np.ndarray, y: np.ndarray) -> tuple[str, np.ndarray] | None:
    """The local derivative dy/dx of the elementwise ops the "missing factor" diagnosis
    knows, from the op's input x and output y: (the factor as a learner writes it, its
    values). None for any other op."""
    op = type(node)
    if op is Tanh:
        return "(1 − y²)", 1 - y * y
    if op is Sigmoid:
        return "y(1 − y)", y * (1 - y)
    if op is ReLU:
        return "(x > 0)", (x > 0).astype(np.float64)
    if op is Exp:
        return "eˣ = y", y
    if op is Log:
        return "1/x", 1 / x
    if op is Sqrt:
        return "1/(2√x)", 0.5 / y
    if op is Pow and isinstance(node.inputs[1], (int, float)):
        b = node.inputs[1]
        return f"{b:g}·x^{b - 1:g}", b * x ** (b - 1)
    return None
