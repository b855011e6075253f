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

from . import events, grad_mode, random, versions
from .errors import DtypeError, InPlaceError, ShapeError
from .function import Function, keep, overflow_error
from .ops.elementwise import where
from .ops.shape import GetItem, index_stages, normalize_index
from .tensor import Tensor, array_of, register_methods

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
        op.forward(op.context(), before, **options)[...] = value


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


def check_writable(target: Tensor, op: str, graph: bool, index: Any = None) -> None:
    """Refuse what torch refuses: in the graph, changing a leaf that requires grad, a
    view of one, or a view taken under no_grad; anywhere, writing into an expanded
    tensor (or overlapping windows: only the part `index` selects is written)."""
    if graph:
        versions.refuse_no_grad_view(target, op)
        view = target._view
        base = target if view is None else view.base
        for leaf in (target, base):      # a view may itself be a leaf: b[0:2].requires_grad_()
            if not (leaf._requires_grad and leaf.grad_fn is None):
                continue
            what = "a leaf tensor" if leaf is target else "a view of a leaf tensor"
            raise InPlaceError(
                f"{op}: {what} that requires grad (shape {leaf.shape}) is being used in an "
                f"in-place operation, which would bypass autograd; write x = x + y instead, "
                f"or change it inside `with ad.no_grad():` (as an optimizer step does), or "
                f"through x.data")
    data = target._data
    if index is not None and not (data.flags.c_contiguous or data.flags.f_contiguous):
        stages = index_stages(normalize_index(index))
        if not any(isinstance(part, np.ndarray) for stage in stages
                   for part in (stage if type(stage) is tuple else (stage,))):
            for stage in stages:            # basic indexing: the region is a view
                data = data[stage]
            target = Tensor._make(data)     # one window of unfold(0, 3, 1) can be written
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
        versions.refresh_view(target, op=op)
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


def set_item(target: Tensor, index: Any, value: Any, op: str = "setitem",
             mask: Tensor | None = None) -> None:
    """target[index] = value, with the rules of the module docstring (`op`: the name the
    user wrote, for errors: setitem, fill_, copy_, ...). In the graph, the index tensors
    (or `mask`, the tensor a masked_fill_'s index was made from) are kept for backward,
    which refuses to run once they change in place."""
    if versions.stale(target):
        versions.refresh_view(target, op=op)
    graph = in_graph(target, (value,))
    check_writable(target, op, graph, index)
    if not graph:
        stages = index_stages(normalize_index(index))
        if len(stages) > 1 or any(isinstance(part, Tensor) and part.dtype == np.uint8
                                  for part in (index if type(index) is tuple else (index,))):
            # torch's rules in stages (integers before index arrays; uint8 as a mask),
            # which the replay's one `target[index] = value` would not follow
            events.unsupported("sets items at an index mixing integers and index arrays, "
                               "or at a uint8 mask")
        else:
            events.item_set(target, index, value)
        *views, last = stages
        region = target._data
        for stage in views:
            region = region[stage]
        try:
            region[last] = array_of(value)
        except OverflowError as error:
            raise overflow_error(op, error, [target._data, value]) from None
        except ValueError as error:
            raise ShapeError(f"{op}: {error} (the tensor written into has shape "
                             f"{target.shape})") from None
        versions.bump(target)
        return
    events.unsupported("writes a value that requires grad into a tensor (t[i] = x)")
    written = _copy_slices(target, value, tuple(
        (GetItem, {"index": stage}) for stage in index_stages(normalize_index(index))))
    keep(written, index if mask is None else mask, "its index")


def _copy_slices(target: Tensor, value: Any, steps: Steps,
                 target_before: Tensor | None = None) -> Tensor:
    """Write `value` into the region `steps` select of `target`, rebasing the history of
    target's base (target itself when it is not a view); `target_before`: the tensor
    that already stands for a view target's old history, if one does. Returns the
    base's new value (whose grad_fn is the CopySlices node, when recorded)."""
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
    return written


# ---------------------------------------------------------------- attached to Tensor
# `self op= other` and the methods ending in `_`: each its out-of-place op written back.

UFUNC_OPS: dict[np.ufunc, Callable[[Any, Any], Any]] = {
    np.add: lambda a, b: a + b, np.subtract: lambda a, b: a - b,
    np.multiply: lambda a, b: a * b, np.divide: lambda a, b: a / b}


def operator(op: str, ufunc: np.ufunc) -> Callable[[Tensor, Any], Tensor]:
    """`self op other` (`+=`, …): written straight into the numbers outside the graph,
    or recorded with autograd's in-place rules (`update`)."""
    def method(self: Tensor, other: Any) -> Tensor:
        if in_graph(self, (other,)):
            return update(self, op, lambda old: UFUNC_OPS[ufunc](old, other), (other,))
        versions.refuse_unwritable(self, op)
        events.in_place_write(self, ufunc, other)
        try:
            ufunc(self._data, array_of(other), out=self._data, casting="same_kind")
        except OverflowError as error:
            raise overflow_error(op, error, [self._data, other]) from None
        except TypeError:
            raise DtypeError(f"{op}: the result can't be cast to the dtype {self.dtype} of "
                             f"the tensor changed in place; convert one of them first "
                             f"(e.g. t = t.float())") from None
        except ValueError:
            raise ShapeError(f"{op}: the result of shapes {self.shape} and "
                             f"{np.shape(array_of(other))} does not fit the tensor of shape "
                             f"{self.shape} changed in place; write x = x {op[0]} y "
                             f"instead") from None
        versions.bump(self)
        return self

    method.__doc__ = f"self {op} other, in place"
    return method


def _add_(self: Tensor, other: Any, *, alpha: float = 1) -> Tensor:
    """self ← self + alpha · other"""
    return update(self, "add_", lambda old: old + (other if alpha == 1 else other * alpha),
                  (other,))


def _sub_(self: Tensor, other: Any, *, alpha: float = 1) -> Tensor:
    """self ← self − alpha · other"""
    return update(self, "sub_", lambda old: old - (other if alpha == 1 else other * alpha),
                  (other,))


def _mul_(self: Tensor, other: Any) -> Tensor:
    """self ← self · other"""
    return update(self, "mul_", lambda old: old * other, (other,))


def _div_(self: Tensor, other: Any) -> Tensor:
    """self ← self / other"""
    return update(self, "div_", lambda old: old / other, (other,))


def _pow_(self: Tensor, exponent: Any) -> Tensor:
    """self ← self ** exponent"""
    return update(self, "pow_", lambda old: old ** exponent, (exponent,))


def _clamp_(self: Tensor, min: float | None = None, max: float | None = None) -> Tensor:
    """self ← self clamped to [min, max]"""
    return update(self, "clamp_", lambda old: old.clamp(min, max))


def _index_add_(self: Tensor, dim: int, index: Any, source: Any, *, alpha: float = 1
                ) -> Tensor:
    """self ← self.index_add(dim, index, source, alpha=alpha): alpha · source[..., k, ...]
    added to self[..., index[k], ...] (repeated indices add up)"""
    return update(self, "index_add_",
                  lambda old: old.index_add(dim, index, source, alpha=alpha), (source,))


def _zero_(self: Tensor) -> Tensor:
    """self ← 0"""
    set_item(self, Ellipsis, 0, "zero_")
    return self


def _fill_(self: Tensor, value: Any) -> Tensor:
    """self ← value (a number or a one-element tensor) everywhere"""
    set_item(self, Ellipsis, value, "fill_")
    return self


def _copy_(self: Tensor, src: Any, non_blocking: bool = False) -> Tensor:
    """self ← src, broadcast to self's shape and converted to self's dtype;
    dL/dsrc = dL/dself summed over the broadcast copies"""
    set_item(self, Ellipsis, src, "copy_")
    return self


def _masked_fill_(self: Tensor, mask: Any, value: Any) -> Tensor:
    """self ← value where mask (broadcast to self's shape) is True"""
    dtype = np.asarray(array_of(mask)).dtype
    if dtype != np.bool_:
        raise DtypeError(f"masked_fill_: the mask must be a bool tensor, got {dtype}")
    if isinstance(mask, Tensor):    # the mask's own array, or its recorded expand: what a
        index = (mask if mask.shape == self.shape else mask.expand(*self.shape))._data
    else:                           # compiled function replays with each call's mask
        index = np.broadcast_to(np.asarray(mask), self.shape)
    set_item(self, index, value, "masked_fill_", mask if isinstance(mask, Tensor) else None)
    return self


def _setitem(self: Tensor, index: Any, value: Any) -> None:
    """self[index] = value: outside the graph a plain write; in it (self or value
    requires grad) recorded, so the region's gradient flows to value and the rest to
    self's history."""
    set_item(self, index, value)


def draw_into(target: Tensor, op: str,
              draw: Callable[[np.random.Generator], np.ndarray], generator: Any) -> Tensor:
    """target ← draw(generator) (the default generator when None), in target's dtype."""
    events.unsupported(f"draws random numbers in place ({op}), which a replay would repeat "
                       f"as the same numbers")
    set_item(target, Ellipsis, draw(random.generator(generator)).astype(target.dtype), op)
    return target


def _normal_(self: Tensor, mean: float = 0.0, std: float = 1.0, *,
             generator: Any = None) -> Tensor:
    """self ← draws from N(mean, std²)"""
    return draw_into(self, "normal_", lambda rng: rng.normal(mean, std, self.shape), generator)


def _uniform_(self: Tensor, a: float = 0.0, b: float = 1.0, *, generator: Any = None
              ) -> Tensor:
    """self ← draws from U[a, b)"""
    return draw_into(self, "uniform_", lambda rng: rng.uniform(a, b, self.shape), generator)


def _bernoulli_(self: Tensor, p: Any = 0.5, *, generator: Any = None) -> Tensor:
    """self ← 1 with probability p (each in [0, 1], as torch checks), else 0"""
    probability = random.probabilities("bernoulli_", array_of(p))
    return draw_into(self, "bernoulli_", lambda rng: rng.random(self.shape) < probability,
                     generator)


def _exponential_(self: Tensor, lambd: float = 1.0, *, generator: Any = None) -> Tensor:
    """self ← draws from the exponential distribution of rate lambd"""
    return draw_into(self, "exponential_",
                     lambda rng: rng.exponential(1.0 / lambd, self.shape), generator)


register_methods({
    "__iadd__": operator("+=", np.add), "__isub__": operator("-=", np.subtract),
    "__imul__": operator("*=", np.multiply), "__itruediv__": operator("/=", np.divide),
    "add_": _add_, "sub_": _sub_, "mul_": _mul_, "div_": _div_, "pow_": _pow_,
    "clamp_": _clamp_, "clip_": _clamp_, "zero_": _zero_, "fill_": _fill_, "copy_": _copy_,
    "index_add_": _index_add_,
    "masked_fill_": _masked_fill_, "__setitem__": _setitem,
    "normal_": _normal_, "uniform_": _uniform_, "bernoulli_": _bernoulli_,
    "exponential_": _exponential_,
})
