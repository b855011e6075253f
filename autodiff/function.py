"""Function: the one way an op is defined, for built-in ops and users' custom ops alike.

A subclass gives two static methods (and, for the library's ops, a class attribute):

    forward(ctx, *inputs, **options) -> ndarray     on plain ndarrays
    backward(ctx, grad) -> one gradient per input   dL/dinput_i from dL/doutput
    derivative = ("dL/dx = dL/dy · (1 − y²)",)      library ops: backward's rule as text, one
                                                    per tensor input (() when not differentiable)

`Op.apply(*inputs, **options)` unwraps tensors, runs `forward`, and, when an input
requires grad, returns a tensor whose `grad_fn` is the node `ctx`: an instance of the
subclass that keeps the inputs and whatever `forward` saved. The engine does the
plumbing once, so `backward` is pure math: it may return None for inputs that need no
gradient, and it never sums away broadcast dimensions (the engine does that).

    ctx(inputs) ──forward──▶ output
          ▲                    │
          └────backward◀── dL/doutput

Saving for backward: `ctx.save_for_backward(*values)` keeps values that depend on the
inputs (the inputs themselves or the output), and only those backward will use given
which inputs need a gradient (`ctx.needs_input_grad`, known in forward already): None
stands for one it will not use, and an input that is a Python number may be saved as
itself. Anything else is a constant and is stored as an ordinary attribute
(`ctx.mask = x > 0`). backward() frees the saved arrays (unless retain_graph=True), so a
second backward through such a node raises; a node that saved no array (`x * 2`,
`x + y`, `x.sum()`) can be backpropagated again. Because of that rule one backward
formula serves every order: for first derivatives it runs on ndarrays; with
`create_graph=True` the engine hands it tensors (`ctx.saved_tensors` become the input
and output tensors), so the formula itself is recorded and can be differentiated again.
Formulas use operators, `.sum(axis=, keepdims=)`, `.reshape`, indexing, `.mT`, and the
few functions in `autodiff.ops.array_or_tensor`, all of which work on both.

>>> import numpy as np, autodiff as ad
>>> class Cube(ad.Function):
...     '''y = x³;  dy/dx = 3x²'''
...     @staticmethod
...     def forward(ctx, x):
...         ctx.save_for_backward(x)
...         return x ** 3
...     @staticmethod
...     def backward(ctx, grad):
...         x, = ctx.saved_tensors
...         return grad * 3 * x ** 2
>>> x = ad.tensor([2.0], requires_grad=True)
>>> Cube.apply(x).backward(ad.tensor([1.0]))
>>> x.grad
tensor([12.])
"""
from __future__ import annotations

from typing import Any

import numpy as np

from . import events, grad_mode, versions
from .errors import AnomalyError, AutodiffError, DtypeError, ShapeError
from .sites import user_frame
from .tensor import Tensor, array_of

FREED = "freed"     # the saved values of a node whose graph was released by backward()

def enter_library_call(library_code: bool) -> None:
    """On entering a layer (nn.Module.__call__): when its forward is the library's own
    code, the ops it runs share one user line (found here, once, for the outermost
    such call), sparing each op its walk up the stack; a forward the user wrote gets
    each op's own line. (`grad_mode.scope`, entered around it, puts the site back.)"""
    state = grad_mode.state
    if not library_code:
        state.site = None
    elif state.site is None:
        frame = user_frame()
        state.site = (None, None) if frame is None else (frame.f_code, frame.f_lineno)


class Function:
    """Base class of every op; see the module docstring."""

    __slots__ = ("inputs", "saved_tensors", "options", "scope", "site_code", "site_line",
                 "_needs_input_grad", "seq", "replaced", "saved_versions", "output_counter")

    differentiable = True    # False: the output never requires grad (masks, indices)
    view = False             # True: the output may share the first input's numbers
    kept_inputs: tuple[tuple[int, str], ...] = ()   # (position, role) of the inputs whose
    #                     numbers backward reads as constants (a condition, class targets):
    #                     changed in place, they refuse backward, as saved values do
    kept_tensors: tuple[Any, ...] = ()  # a node's (`keep`): other tensors it reads so
    #                                     (index tensors), with their versions

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for method in ("forward", "backward") if cls.differentiable else ("forward",):
            if not hasattr(cls, method):
                raise TypeError(f"{cls.__name__} must define @staticmethod {method}(ctx, ...)")

    @classmethod
    def apply(cls, *inputs: Any, **options: Any) -> Tensor:
        """Run the op on tensors (or numbers and arrays) and record it in the graph."""
        arrays = []
        seen = []           # the tensor inputs' versions, for backward's check
        needs = []          # which inputs require grad (ctx.needs_input_grad)
        record = numpy_scalars = False
        for x in inputs:
            if isinstance(x, Tensor):
                counter = x._version_counter
                if counter is None:
                    seen.append(0)
                else:
                    if x._view is not None and x._view.seen != counter[0]:
                        versions.refresh_view(x, op=cls)
                    seen.append(counter[0])
                arrays.append(x._data)
                if x._requires_grad:
                    record = True
                    needs.append(True)
                else:
                    needs.append(False)
            else:
                arrays.append(x)
                needs.append(False)
                if isinstance(x, np.generic):
                    numpy_scalars = True
        if numpy_scalars:
            # numpy scalars count as Python numbers, so they never upcast a float32 graph
            arrays = [x.item() if isinstance(x, np.generic) else x for x in arrays]
            inputs = tuple(x if isinstance(x, Tensor) else a for x, a in zip(inputs, arrays))
        ctx = cls.__new__(cls)
        ctx.saved_tensors = ()
        ctx.inputs = inputs
        ctx._needs_input_grad = tuple(needs)
        try:
            out = cls.forward(ctx, *arrays, **options)
        except (ValueError, IndexError) as error:
            raise shape_error(cls, error, arrays) from None
        except OverflowError as error:
            raise overflow_error(cls.op_name(), error, arrays) from None
        if type(out) is not np.ndarray:
            out = output_array(ctx, out)
        state = grad_mode.state
        enabled = state.grad_enabled
        record = record and enabled and cls.differentiable
        anomaly = state.detect_anomaly
        if record or anomaly:
            # the code object and line number, not the frame: nothing new to garbage-collect
            site = state.site
            if site is None:
                frame = user_frame()
                ctx.site_code = frame and frame.f_code
                ctx.site_line = frame and frame.f_lineno
            else:
                ctx.site_code, ctx.site_line = site
            if anomaly:
                check_finite(out, cls, "forward", ctx.site)
        if record:
            ctx.options = options
            ctx.scope = state.scope
            ctx.seq = next(versions.sequence)
            result = Tensor._make(out, ctx)
        else:
            result = Tensor._make(out)
        if cls.view and isinstance(inputs[0], Tensor) and np.may_share_memory(out, arrays[0]):
            versions.mark_view(result, inputs[0], cls, options, not enabled)
        if record and (ctx.saved_tensors or cls.kept_inputs):
            ctx.saved_versions = seen
            ctx.output_counter = None
            for value in ctx.saved_tensors:
                if value is out:
                    ctx.output_counter = versions.counter(result)
                    seen.append(ctx.output_counter[0])
                    break
        events.op_applied(cls, ctx, arrays, options, result)
        return result

    @classmethod
    def context(cls, inputs: tuple[Any, ...] = (), options: dict[str, Any] | None = None,
                needs_input_grad: tuple[bool, ...] = ()) -> Function:
        """A context outside any graph, for running this op's forward and backward by
        hand (a view's forward on an array, gradcheck_graph, the compiler's replays)."""
        ctx = cls.__new__(cls)
        ctx.inputs, ctx.options, ctx.saved_tensors = inputs, options or {}, ()
        ctx._needs_input_grad = needs_input_grad
        return ctx

    @property
    def site(self) -> tuple[str, int] | None:
        """(file, line) of the user's code that created this op."""
        if self.site_code is None:
            return None
        return self.site_code.co_filename, self.site_line

    @property
    def needs_input_grad(self) -> tuple[bool, ...]:
        """For each input: does it require grad? (backward may skip the others)"""
        return self._needs_input_grad

    def save_for_backward(self, *values: Any) -> None:
        """Keep inputs or the output (or None, or an input that is a number) for backward;
        see the module docstring."""
        self.saved_tensors = values

    @classmethod
    def op_name(cls) -> str:
        """The op's name as users know it: `MatMul` -> `matmul`, `LogSoftmax` -> `log_softmax`."""
        name = getattr(cls, "name", None)
        if name:
            return name
        out = []
        for i, c in enumerate(cls.__name__):
            if c.isupper() and i and not cls.__name__[i - 1].isupper():
                out.append("_")
            out.append(c.lower())
        return "".join(out)


def keep(result: Tensor, values: Any, role: str) -> None:
    """`result`'s op keeps for its backward, by reference, the numbers of the tensors in
    `values` (a tensor, or a tuple holding some: an index, a mask), which are not its
    inputs: note each one's version, so that backward refuses to run once one was
    changed in place (`versions.check_kept`), as torch, which saves them, does, instead
    of using the new numbers. `role` names it in the error ("its index"). (An op's
    inputs of that kind are declared once, in its class: `kept_inputs`.)"""
    node = result.grad_fn
    if node is None:
        return
    if type(values) is not tuple:
        values = (values,)
    node.kept_tensors += tuple((t, versions.version(t), role)
                               for t in values if isinstance(t, Tensor))


def output_array(ctx: Any, out: Any) -> np.ndarray:
    """A forward's result as an ndarray: numpy gives 0-d results as scalars (the copy
    `ctx` saved for backward, if it saved the output, becomes that array too)."""
    if type(out) is np.ndarray:
        return out
    array = np.asarray(out)
    saved = ctx.saved_tensors
    for value in saved:                 # a loop: half the time of any() on a list
        if value is out:
            ctx.saved_tensors = tuple([array if value is out else value for value in saved])
            break
    return array


def shape_error(op: type, error: Exception, arrays: list[Any]) -> Exception:
    """A numpy ValueError/IndexError from inside a forward, restated for the user."""
    if isinstance(error, AutodiffError):
        return error
    shapes = ", ".join(str(np.shape(a)) for a in arrays)
    return ShapeError(f"{op.op_name()}: {error} (input shapes {shapes})")


def overflow_error(op: str, error: Exception, values: list[Any]) -> DtypeError:
    """numpy's OverflowError for a Python integer that does not fit an integer tensor's
    dtype (uint8 + 300), restated: torch wraps it around, we refuse it."""
    dtypes = ", ".join(str(v.dtype) if isinstance(v, np.ndarray) else type(v).__name__
                       for v in values)
    return DtypeError(f"{op}: {error} (operands: {dtypes}); torch wraps such a number "
                      f"around (modulo 2^bits) in arithmetic and t[i] = v, autodiff "
                      f"refuses it: convert the tensor to a wider dtype first (t.long()), "
                      f"or wrap the number yourself")


def check_finite(array: Any, op: type, phase: str, site: tuple[str, int] | None) -> None:
    """detect_anomaly's test: raise if `array` holds NaN or inf."""
    data = array_of(array)
    if data is None or not np.issubdtype(np.asarray(data).dtype, np.inexact):
        return
    if not np.all(np.isfinite(data)):
        where = f" (created at {site[0]}:{site[1]})" if site else ""
        kind = "NaN" if np.any(np.isnan(data)) else "inf"
        raise AnomalyError(f"{op.op_name()}: {phase} produced {kind}{where}; "
                           f"check this op's inputs (log of <= 0, division by 0, overflow)")
