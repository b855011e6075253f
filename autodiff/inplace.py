"""In-place changes (`+=`, `t[i] = v`, `add_`, `copy_`, ...) with PyTorch's autograd rules.

Outside the graph (under no_grad, or when nothing involved requires grad) a change just
writes the numbers and bumps the tensor's version (`autodiff.versions`). In the graph:

- a leaf that requires grad (or a view of one) is refused: its .grad is dL/d(its value),
  which an in-place change would make meaningless;
- a tensor made by ops (or a plain tensor written with a value that requires grad) is
  *rebased*: its new value is computed out of place from a private copy of the old one,
  written into its numbers (so every alias sees it), and the node that computed it becomes
  its `grad_fn`. `c = a + b; c += c + 1` differentiates as c₁ = c₀ + (c₀ + 1);
- a change through a view (`a[0:2].mul_(3)`, `a.T.add_(1)`, `buf[1][0:2] = x`) rebases
  the view's base with `CopySlices`: the base's new history sends the gradient of the
  written region to the new values and the rest to the base's old history, as torch's
  CopySlices does; other views of the base take their history again on next use.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import events, grad_mode, versions
from .errors import DtypeError, InPlaceError, ShapeError
from .function import Function
from .ops.array_or_tensor import where
from .ops.shape import GetItem, index_stages, normalize_index
from .tensor import Tensor

Steps = tuple[tuple[Any, dict[str, Any]], ...]


def _region(array: np.ndarray, steps: Steps) -> tuple[np.ndarray, Any]:
    """The view `steps` take of `array`, as (the array before the last step, a writer of
    the last step's region)."""
    before = versions.take_view(array, steps[:-1])
    return before, steps[-1]


def _write_region(array: np.ndarray, steps: Steps, value: Any) -> None:
    """array[region] = value, where the region is what `steps` select (the last step may
    be an advanced index, which selects without making a view)."""
    before, (op, options) = _region(array, steps)
    if "index" in options:
        before[options["index"]] = value
    else:
        op.forward(op.__new__(op), before, **options)[...] = value


class CopySlices(Function):
    """base' = base with base[region] = value;  dL/dbase = dL/dbase' outside the region
    (0 inside), dL/dvalue = dL/dbase'[region] (summed over the copies where value was
    broadcast)"""

    derivative = ("dL/dbase = dL/dy outside the written region, 0 inside",
                  "dL/dvalue = dL/dy[region] (summed over the copies where value was broadcast)")

    name = "copy_slices"

    @staticmethod
    def forward(ctx, base, value, steps):
        ctx.steps, ctx.shape = steps, base.shape
        _write_region(base, steps, value)
        return base

    @staticmethod
    def backward(ctx, grad):
        written = np.zeros(ctx.shape, dtype=bool)
        _write_region(written, ctx.steps, True)
        grad_base = where(written, 0, grad) if ctx.needs_input_grad[0] else None
        grad_value = versions.take_view(grad, ctx.steps) if ctx.needs_input_grad[1] else None
        return grad_base, grad_value


def check_writable(target: Tensor, op: str, graph: bool) -> None:
    """Refuse what torch refuses: in the graph, changing a leaf that requires grad or a
    view of one; anywhere, writing into an expanded tensor."""
    if graph:
        view = target._view
        leaf = target if view is None else view.base
        if leaf._requires_grad and leaf.grad_fn is None:
            what = "a leaf tensor" if view is None else "a view of a leaf tensor"
            raise InPlaceError(
                f"{op}: {what} that requires grad (shape {leaf.shape}) is being used in an "
                f"in-place operation, which would bypass autograd; write x = x + y instead, "
                f"or change it inside `with ad.no_grad():` (as an optimizer step does), or "
                f"through x.data")
    versions.refuse_unwritable(target, op)


def in_graph(target: Tensor, operands: tuple[Any, ...]) -> bool:
    """Does changing `target` with `operands` take autograd's in-place rules (grad mode
    on, and target, its base or an operand requires grad)?"""
    if not grad_mode.state.grad_enabled:
        return False
    if target._requires_grad or (target._view is not None and target._view.base._requires_grad):
        return True
    return any(isinstance(x, Tensor) and x._requires_grad for x in operands)


def _castable(op: str, new: Tensor, target: Tensor) -> Tensor:
    if new.dtype == target.dtype:
        return new
    if not np.can_cast(new.dtype, target.dtype, "same_kind"):
        raise DtypeError(f"{op}: result type {new.dtype} can't be cast to the desired output "
                         f"type {target.dtype} of the tensor changed in place; convert one "
                         f"of them first (e.g. t = t.float())")
    return new.to(target.dtype)


def _check_fits(op: str, new: Tensor, target: Tensor) -> None:
    if new.shape != target.shape:
        raise ShapeError(f"{op}: the result has shape {new.shape}, which does not fit the "
                         f"tensor of shape {target.shape} changed in place; an in-place op "
                         f"cannot grow a tensor (write x = x op y instead)")


def update(target: Tensor, op: str, compute: Callable[[Tensor], Tensor],
           operands: tuple[Any, ...] = ()) -> Tensor:
    """target ← compute(target), in place, with the rules of the module docstring.
    `operands` are the other tensors `compute` reads (to know whether the result will
    require grad)."""
    if versions.stale(target):
        versions.refresh_view(target)
    graph = in_graph(target, operands)
    check_writable(target, op, graph)
    events.unsupported(f"changes a tensor in place with {op}")
    if not graph:
        with grad_mode.no_grad():
            new = _castable(op, compute(target), target)
        _check_fits(op, new, target)
        np.copyto(target._data, new._data)
        versions.bump(target)
        return target
    old = Tensor._make(target._data.copy(), target.grad_fn)   # the value before, kept apart
    old._requires_grad = target._requires_grad
    new = _castable(op, compute(old), target)
    _check_fits(op, new, target)
    if target._view is not None:
        _copy_slices(target, new, (), old)
    else:
        np.copyto(target._data, new._data)
        versions.bump(target)
        if new.grad_fn is not None:
            versions.rebase(target, new.grad_fn, old)
            new.grad_fn.written_into = new._data    # the output it saved, for create_graph
    return target


def set_item(target: Tensor, index: Any, value: Any, op: str = "setitem") -> None:
    """target[index] = value, with the rules of the module docstring (`op`: the name the
    user wrote, for errors: setitem, fill_, copy_, ...)."""
    if versions.stale(target):
        versions.refresh_view(target)
    graph = in_graph(target, (value,))
    check_writable(target, op, graph)
    if not graph:
        events.item_set(target, index, value)
        *views, last = index_stages(normalize_index(index))
        region = target._data
        for stage in views:
            region = region[stage]
        try:
            region[last] = value._data if isinstance(value, Tensor) else value
        except ValueError as error:
            raise ShapeError(f"{op}: {error} (the tensor written into has shape "
                             f"{target.shape})") from None
        versions.bump(target)
        return
    events.unsupported("writes a value that requires grad into a tensor (t[i] = x)")
    _copy_slices(target, value, tuple((GetItem, {"index": stage})
                                      for stage in index_stages(normalize_index(index))))


def _copy_slices(target: Tensor, value: Any, steps: Steps,
                 target_before: Tensor | None = None) -> None:
    """Write `value` into the region `steps` select of `target`, rebasing the history of
    target's base (target itself when it is not a view); `target_before`: the tensor
    that already stands for a view target's old history, if one does."""
    view = target._view
    base = target if view is None else view.base
    steps = steps if view is None else view.steps + steps
    previous = Tensor._make(base._data, base.grad_fn)
    previous._requires_grad = base._requires_grad
    written = CopySlices.apply(previous, value, steps=steps)
    versions.bump(base)
    if written.grad_fn is not None:
        versions.rebase(base, written.grad_fn, previous)
    if view is not None:
        versions.refresh_view(target, target_before)

