"""Function: the one way an op is defined, for built-in ops and users' custom ops alike.

A subclass gives two static methods:

    forward(ctx, *inputs, **options) -> ndarray     on plain ndarrays
    backward(ctx, grad) -> one gradient per input   dL/dinput_i from dL/doutput

`Op.apply(*inputs, **options)` unwraps tensors, runs `forward`, and, when an input
requires grad, returns a tensor whose `grad_fn` is the node `ctx`: an instance of the
subclass that keeps the inputs and whatever `forward` saved. The engine does the
plumbing once, so `backward` is pure math: it may return None for inputs that need no
gradient, and it never sums away broadcast dimensions (the engine does that).

    ctx(inputs) ──forward──▶ output
          ▲                    │
          └────backward◀── dL/doutput

Saving for backward: `ctx.save_for_backward(*arrays)` keeps values that depend on the
inputs (the inputs themselves or the output); anything else is a constant and is stored
as an ordinary attribute (`ctx.mask = x > 0`). Because of that rule one backward formula
serves every order: for first derivatives it runs on ndarrays; with
`create_graph=True` the engine hands it tensors (`ctx.saved_tensors` become the input
and output tensors), so the formula itself is recorded and can be differentiated again.
Formulas use operators, `.sum(axis=, keepdims=)`, `.reshape`, indexing, `.mT`, and the
few functions in `autodiff.ops.backmath`, all of which work on both.

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

import os
import sys
from typing import Any

import numpy as np

from . import grad_mode
from .errors import AnomalyError, ShapeError
from .tensor import Tensor

FREED = "freed"     # the saved values of a node whose graph was released by backward()

_LIBRARY_DIRS = tuple(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                   package) + os.sep for package in ("autodiff", "nn", "optim"))


def user_site() -> tuple[str, int] | None:
    """(file, line) of the innermost caller outside autodiff, nn and optim."""
    frame = sys._getframe(2)
    while frame is not None and frame.f_code.co_filename.startswith(_LIBRARY_DIRS):
        frame = frame.f_back
    return None if frame is None else (frame.f_code.co_filename, frame.f_lineno)


class Function:
    """Base class of every op; see the module docstring."""

    __slots__ = ("inputs", "needs_input_grad", "saved_tensors", "options", "scope", "site")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for method in ("forward", "backward"):
            if not hasattr(cls, method):
                raise TypeError(f"{cls.__name__} must define @staticmethod {method}(ctx, ...)")

    @classmethod
    def apply(cls, *inputs: Any, **options: Any) -> Tensor:
        """Run the op on tensors (or numbers and arrays) and record it in the graph."""
        ctx = cls.__new__(cls)
        ctx.saved_tensors = ()
        arrays = []
        needs_grad = []
        any_needs_grad = False
        for x in inputs:
            if isinstance(x, Tensor):
                arrays.append(x._data)
                needs_grad.append(x._requires_grad)
                any_needs_grad = any_needs_grad or x._requires_grad
            else:
                arrays.append(x)
                needs_grad.append(False)
        state = grad_mode.state
        record = any_needs_grad and state.grad_enabled
        ctx.needs_input_grad = needs_grad
        try:
            out = cls.forward(ctx, *arrays, **options)
        except (ValueError, IndexError) as error:
            if isinstance(error, ShapeError):
                raise
            shapes = ", ".join(str(np.shape(a)) for a in arrays)
            raise ShapeError(f"{cls.op_name()}: {error} (input shapes {shapes})") from None
        if type(out) is not np.ndarray:       # numpy returns scalars for 0-d results
            array = np.asarray(out)
            ctx.saved_tensors = tuple(array if v is out else v for v in ctx.saved_tensors)
            out = array
        if state.detect_anomaly:
            check_finite(out, cls, "forward", user_site())
        if not record:
            return Tensor._make(out)
        ctx.inputs = inputs
        ctx.options = options
        ctx.scope = state.scope
        ctx.site = user_site() if state.detect_anomaly else None
        return Tensor._make(out, ctx)

    def save_for_backward(self, *values: np.ndarray) -> None:
        """Keep inputs or the output for backward (see the module docstring)."""
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


def check_finite(array: Any, op: type, phase: str, site: tuple[str, int] | None) -> None:
    """detect_anomaly's test: raise if `array` holds NaN or inf."""
    data = array._data if isinstance(array, Tensor) else array
    if data is None or not np.issubdtype(np.asarray(data).dtype, np.inexact):
        return
    if not np.all(np.isfinite(data)):
        where = f" (created at {site[0]}:{site[1]})" if site else ""
        kind = "NaN" if np.any(np.isnan(data)) else "inf"
        raise AnomalyError(f"{op.op_name()}: {phase} produced {kind}{where}; "
                           f"check this op's inputs (log of <= 0, division by 0, overflow)")
