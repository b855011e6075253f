"""Version counters: how autograd notices that a value it saved was changed in place.

Every in-place change to a tensor (`+=`, `t[i] = v`, `add_`, an optimizer step) adds one
to its version, a counter it shares with its views (`a[0]`, `a.T`, `a.view(-1)`,
`a.detach()`), since they are windows on the same numbers. An op that saves a tensor for
its backward notes the version it saw; backward compares, one integer per saved value,
and refuses a value that moved: its formula would use the new numbers instead of the
ones the forward used.

    x ──sigmoid──▶ y (saved, version 0)         y += 1  (now version 1)
    y.sum().backward()   →  InPlaceError: ... is at version 1; it was saved at version 0

The same check covers a saved view of an input (a custom forward's `x.T`: it shares the
input's memory) and the tensors an op reads as constants rather than saving them: an
index (`x[idx]`, gather, scatter), a mask or condition (`where`, masked_fill), class
targets (`cross_entropy`), declared by the op (`Function.kept_inputs`, `function.keep`).

A tensor's counter is a list [version, site of the last change] made on first need (most
tensors are never changed in place and never get one; their version is 0). Views also
remember how they were taken from their base (`ViewOf`), so that after the base changes
in place their history can be taken again from the base's new history. A view taken
under no_grad has no history to take again: changing it in the graph, or using it with
grad mode on after its base changed, is refused, as in torch.

Rebasing: an in-place op recorded in the graph gives the changed tensor a new `grad_fn`.
Ops made before the change used the tensor's previous history, so each node carries a
sequence number and the node that replaced a history keeps the tensor as it was
(`node.replaced`): `graph_input` follows those back to the history a node actually used.

Changes the library makes outside any op go through two helpers here, so that they count
as in-place changes like any other: `InPlaceUpdate`, an optimizer's step (the one way
`optim` writes into parameters), and `zero_grads`, `zero_grad` of a model or optimizer.
"""
from __future__ import annotations

import itertools
import weakref
from collections.abc import Iterable, Sequence
from types import TracebackType
from typing import Any

import numpy as np

from . import grad_mode
from .errors import InPlaceError
from .sites import user_frame

sequence = itertools.count(1)   # numbers recorded nodes and in-place changes in order
last_change = 0                 # the number of the latest in-place change: backward skips
#                                 its check of a node made after it (nothing changed since)


def counter(tensor: Any) -> list[Any]:
    """The version counter `tensor` shares with its views, made on first need."""
    shared = tensor._version_counter
    if shared is None:
        shared = tensor._version_counter = [0, None]
    return shared


def version(tensor: Any) -> int:
    """How many in-place changes the tensor's numbers have seen."""
    shared = tensor._version_counter
    return 0 if shared is None else shared[0]


def bump(tensor: Any) -> None:
    """Note an in-place change of `tensor` (and so of every view sharing its numbers);
    under detect_anomaly, also the user's line that made it."""
    global last_change
    shared = counter(tensor)
    shared[0] += 1
    last_change = next(sequence)
    if grad_mode.state.detect_anomaly:
        shared[1] = _user_site()


def bump_all(tensors: Any) -> None:
    """`bump` each of `tensors` (an optimizer's step over its parameters)."""
    global last_change
    site = _user_site() if grad_mode.state.detect_anomaly else None
    last_change = next(sequence)
    for tensor in tensors:
        shared = tensor._version_counter
        if shared is None:
            shared = tensor._version_counter = [0, None]
        shared[0] += 1
        if site is not None:
            shared[1] = site


def moved(tensor: Any, old: np.ndarray) -> None:
    """The library moved `tensor`'s numbers out of the array `old` into a new one, the
    same values (an optimizer's step rebuilding its flat buffer): a value saved as `old`
    still stands for the tensor, so `check_saved` refuses it once the tensor is changed
    in place, as without the move. The counter keeps weak references to the arrays moved
    from, after the version and the site."""
    shared = counter(tensor)
    shared[2:] = [ref for ref in shared[2:] if ref() is not None]
    shared.append(weakref.ref(old))


class InPlaceUpdate:
    """An optimizer's step, the one way `optim` changes parameters in place::

        with InPlaceUpdate(params) as (updated, values, grads):
            ...          # θ ← θ' written into values[i] (or a flat buffer values[i] views)

    updated: the parameters that have a gradient, in order (a step changes those only,
    as torch's optimizers do); values[i] and grads[i]: the arrays of updated[i] and of
    its gradient, themselves, not copies, read without the events `p.numpy()` and
    `p.grad` send (a step, one library call, does not need them). Gradients are only
    read. On leaving the block, normally or by an exception, each updated parameter
    counts one in-place change (its version + 1, as after `p.add_(...)` under no_grad),
    so a graph that saved θ refuses backward afterwards; the others keep their version."""

    __slots__ = ("params", "updated")

    def __init__(self, params: Sequence[Any]) -> None:
        self.params = params

    def __enter__(self) -> tuple[list[Any], list[np.ndarray], list[np.ndarray]]:
        updated: list[Any] = []
        values: list[np.ndarray] = []
        grads: list[np.ndarray] = []
        for p in self.params:               # one loop: 0.4 µs against 0.65 for three lists
            grad = p._grad
            if grad is not None:
                updated.append(p)
                values.append(p._data)
                grads.append(grad._data)
        self.updated = updated
        return updated, values, grads

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        bump_all(self.updated)


def gather_grads(params: Sequence[Any], expected: Sequence[tuple[Any, np.ndarray, np.ndarray]]
                 ) -> bool:
    """A prepared optimizer step's check and first move: when `params` are, in order, the
    tensors of `expected` (tensor, its array, a buffer for its gradient), each with that
    array still and with a gradient, copy each gradient into its buffer and return True;
    else return False (some buffers may have been written: they are scratch). Reads the
    arrays as `InPlaceUpdate` does, without the events `p.numpy()` and `p.grad` send."""
    if len(params) != len(expected):
        return False
    for p, (mine, value, buffer) in zip(params, expected):
        grad = p._grad
        if p is not mine or p._data is not value or grad is None:
            return False
        buffer[...] = grad._data
    return True


def zero_grads(params: Iterable[Any], set_to_none: bool = True) -> None:
    """`zero_grad` of a model or an optimizer, as torch's, for each parameter p that has a
    gradient (one without keeps None):

        set_to_none:   p.grad ← None
        otherwise:     p.grad ← 0 in place: the same tensor, so `g = p.grad` taken before
                       sees the zeros

    Zeroing counts as an in-place change of each gradient (its version + 1), and a
    gradient recorded with create_graph leaves its graph first (torch's
    `p.grad.detach_()`). A gradient that cannot be written (broadcast, read-only) is
    refused, as torch refuses it, before any is changed."""
    if set_to_none:
        for param in params:
            param._grad = None
        return
    grads = [param._grad for param in params if param._grad is not None]
    for grad in grads:
        refuse_unwritable(grad, "zero_grad")
    for grad in grads:
        grad.grad_fn = None
        grad._requires_grad = False
        grad._data.fill(0)
    if grads:
        bump_all(grads)


def _user_site() -> tuple[str, int] | None:
    frame = user_frame()
    return None if frame is None else (frame.f_code.co_filename, frame.f_lineno)


class ViewOf:
    """How a view was taken: `steps`, a tuple of (view op, options), applied to `base`
    (always a tensor that is not itself a view); `seen` is the version its history was
    last taken at; `no_grad`: taken under no_grad (or from a view that was), so it has
    no history of its own to take again or to change (`refuse_no_grad_view`)."""

    __slots__ = ("base", "steps", "seen", "no_grad")

    def __init__(self, base: Any, steps: tuple[tuple[Any, dict[str, Any]], ...],
                 seen: int, no_grad: bool) -> None:
        self.base, self.steps, self.seen, self.no_grad = base, steps, seen, no_grad


def mark_view(result: Any, source: Any, op: Any, options: dict[str, Any],
              no_grad: bool) -> None:
    """`result` = op(source, **options) shares `source`'s numbers: share its counter and
    remember how to take the view again from the base (and whether it was taken under
    no_grad, as `Function.apply` knows)."""
    shared = counter(source)
    result._version_counter = shared
    view = source._view
    if view is None:
        result._view = ViewOf(source, ((op, options),), shared[0], no_grad)
    else:
        result._view = ViewOf(view.base, view.steps + ((op, options),), shared[0],
                              no_grad or view.no_grad)


def take_view(value: Any, steps: tuple[tuple[Any, dict[str, Any]], ...]) -> Any:
    """Apply view steps to a tensor (recorded, differentiable) or to an ndarray."""
    for op, options in steps:
        if isinstance(value, np.ndarray):
            value = op.forward(op.context(), value, **options)
        else:
            value = op.apply(value, **options)
    return value


def refresh_view(view_tensor: Any, previous: Any = None, op: Any = "") -> None:
    """After its base changed in place, take a view's history again from the base's, as
    torch regenerates a view's grad_fn; the history it had stays with the ops that used
    it before (`rebase`). A view taken under no_grad has no history to take again: used
    with grad mode on (by `op`: a name, or the Function class) after its base, which
    requires grad, changed, it is refused, as in torch (it stays stale, so that every
    such use is)."""
    view = view_tensor._view
    base = view.base
    if view.no_grad:
        if base._requires_grad and grad_mode.state.grad_enabled:
            name = op if isinstance(op, str) else op.op_name()
            raise InPlaceError(
                f"{name or 'an op'}: A view was created in no_grad mode and its base or "
                f"another view of its base has been modified inplace with grad mode "
                f"enabled: this view (shape {view_tensor.shape}, of a tensor of shape "
                f"{base.shape}) was taken under no_grad, so whether its values now depend "
                f"on the base's history is ambiguous, and it is forbidden, as in torch. "
                f"Take the view again after the change (with grad mode on), or use a "
                f"clone taken under no_grad (v = v.clone()).")
        return
    view.seen = view_tensor._version_counter[0]
    if not base._requires_grad or not grad_mode.state.grad_enabled:
        return
    fresh = take_view(base, view.steps)
    rebase(view_tensor, fresh.grad_fn, previous)


def refuse_no_grad_view(tensor: Any, op: str) -> None:
    """Refuse to change in place, recorded in the graph, a view taken under no_grad: it
    has no history to rebase, so the change would cut the base's gradient (torch
    refuses it too)."""
    view = tensor._view
    if view is not None and view.no_grad:
        raise InPlaceError(
            f"{op}: A view was created in no_grad mode and is being modified inplace with "
            f"grad mode enabled: this tensor (shape {tensor.shape}) is a view of a tensor "
            f"of shape {view.base.shape} taken under no_grad, and changing it in the graph "
            f"is ambiguous, so it is forbidden, as in torch. Take the view and change it "
            f"both inside the no_grad block (the change is then not recorded), or both "
            f"outside it (it is), or change a clone (v = v.clone()).")


def stale(tensor: Any) -> bool:
    """True for a view whose base changed in place since its history was taken."""
    view = tensor._view
    return view is not None and view.seen != tensor._version_counter[0]


def rebase(tensor: Any, node: Any, previous: Any = None) -> None:
    """Give `tensor` the history `node` (its value now). `previous` stands for the
    tensor as it was (made here when not given; there must be one per old history): the
    ops made before the change reach it through `node.replaced`, and the hooks registered
    before the change move to it, so they see the gradient of the old value, as torch's."""
    if previous is None:
        previous = type(tensor)._make(tensor._data, tensor.grad_fn)
        previous._requires_grad = tensor._requires_grad
    if tensor._hooks:                   # torch: hooks stay with the history they were
        previous._hooks, tensor._hooks = tensor._hooks, None    # registered on (old value)
    node.replaced = previous
    tensor.grad_fn = node
    tensor._requires_grad = True


def graph_input(node: Any, x: Any) -> Any:
    """The tensor (history) `node` used as input `x`: x itself, or, when x was changed in
    place after `node` was made, x as it was then."""
    previous = x.grad_fn
    while previous is not None and previous.seq > node.seq:
        x = previous.replaced
        previous = x.grad_fn
    return x


def check_saved(node: Any, saved: tuple[Any, ...]) -> None:
    """Refuse to run `node`'s backward when a value it saved was changed in place since:
    `node.saved_versions` holds the version of each tensor input (and, when the output
    was saved, of the output, whose counter is `node.output_counter`) at the op. A saved
    value counts as an input's when it shares the input's memory: the input's array, or
    a view of it that a custom forward saved (`x.T`, `x[1:]`). An input the op reads as
    a constant (its class's `kept_inputs`: a condition, class targets) counts too."""
    seen = node.saved_versions
    i = 0
    for which, x in enumerate(node.inputs):
        if not hasattr(x, "_version_counter"):
            continue
        shared = x._version_counter
        if shared is not None and shared[0] != seen[i]:
            data = x._data
            for position, role in node.kept_inputs:
                if position == which:
                    raise _modified_error(node, shared, seen[i], role, data)
            for value in saved:
                if value is data or any(ref() is value for ref in shared[2:]) or (
                        type(value) is np.ndarray and np.may_share_memory(value, data)):
                    raise _modified_error(node, shared, seen[i], f"its input {which}",
                                          value)
        i += 1
    shared = node.output_counter
    if shared is not None and shared[0] != seen[-1]:
        value = next(v for v in saved if type(v) is np.ndarray and not any(
            v is getattr(x, "_data", None) for x in node.inputs))
        raise _modified_error(node, shared, seen[-1], "its output", value)


def check_kept(node: Any) -> None:
    """Refuse to run `node`'s backward when a tensor it keeps by reference (an index, a
    mask: `function.keep`) was changed in place since the op."""
    for tensor, seen, role in node.kept_tensors:
        if version(tensor) != seen:
            raise _modified_error(node, tensor._version_counter, seen, role, tensor._data)


def _modified_error(node: Any, shared: list[Any], saved_at: int, role: str,
                    value: np.ndarray) -> InPlaceError:
    made = f" The op was made at {node.site[0]}:{node.site[1]}." if node.site else ""
    if shared[1] is not None:
        changed = f" It was changed at {shared[1][0]}:{shared[1][1]}."
    else:
        changed = " Run under ad.detect_anomaly() to also see the line that changed it."
    return InPlaceError(
        f"{node.op_name()}: one of the values needed for its gradient ({role}, "
        f"{value.dtype} of shape {tuple(value.shape)}) has been modified by an inplace "
        f"operation: it is at version {shared[0]}; it was saved at version {saved_at}."
        f"{made}{changed} Hint: change a clone instead (y = y.clone() before y += ...), "
        f"or make the change after backward().")


def refuse_unwritable(tensor: Any, op: str) -> None:
    """Refuse an in-place write into numbers that several elements share (an expanded
    tensor, overlapping windows of `unfold`) or that cannot be written. torch refuses
    the expanded ones; it writes overlapping windows one element after another, so the
    result depends on its loop order: we refuse those too. A size-1 axis is not an
    expansion, whatever numpy gives as its stride (`x[None]`, `x.expand(2)` of size 2)."""
    data = tensor._data
    if data.flags.writeable and (data.flags.c_contiguous or data.flags.f_contiguous
                                 or not _overlaps(data)):
        return
    if any(stride == 0 and size > 1 for stride, size in zip(data.strides, data.shape)):
        what = "an expanded or broadcast tensor"
    elif data.flags.writeable:
        what = "overlapping windows of unfold"
    else:
        what = "its memory is read-only"
    raise InPlaceError(
        f"{op}: unsupported operation: more than one element of the written-to tensor "
        f"(shape {tuple(data.shape)}) refers to a single memory location, or it cannot "
        f"be written: {what} (strides {data.strides}). Please clone() the tensor before "
        f"performing the operation.")


def _overlaps(data: np.ndarray) -> bool:
    """May two elements of `data` share memory? Axes of size 1 never move; the others,
    sorted by stride, must each step past everything the smaller ones span (a sufficient
    test, torch's idea of "non-overlapping")."""
    spanned = data.itemsize
    for stride, size in sorted((abs(st), n) for st, n in zip(data.strides, data.shape)
                               if n > 1):
        if stride < spanned:
            return True
        spanned = stride * (size - 1) + spanned
    return False
