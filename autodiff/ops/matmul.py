"""Matrix multiplication with numpy's rules: 1-D operands are promoted to a row (left) or
a column (right) and the added axis removed again; leading axes broadcast as a batch."""
from __future__ import annotations

import numpy as np

from ..errors import ShapeError
from ..function import Function


def check_matmul_shapes(a_shape: tuple[int, ...], b_shape: tuple[int, ...]) -> None:
    if len(a_shape) == 0 or len(b_shape) == 0:
        raise ShapeError(f"matmul: {a_shape} @ {b_shape}: both operands need at least one "
                         f"dimension; use * to multiply by a scalar")
    inner_a = a_shape[-1]
    inner_b = b_shape[0] if len(b_shape) == 1 else b_shape[-2]
    if inner_a != inner_b:
        hint = ""
        if len(b_shape) >= 2 and b_shape[-1] == inner_a:
            hint = "; did you mean x @ w.T?"
        raise ShapeError(f"matmul: cannot multiply {a_shape} @ {b_shape}: inner sizes "
                         f"{inner_a} and {inner_b} differ{hint}")
    batch_a, batch_b = a_shape[:-2], b_shape[:-2]
    try:
        np.broadcast_shapes(batch_a, batch_b)
    except ValueError:
        raise ShapeError(f"matmul: cannot multiply {a_shape} @ {b_shape}: batch dimensions "
                         f"{batch_a} and {batch_b} do not broadcast") from None


class MatMul(Function):
    """Y = A @ B;  dL/dA = dL/dY @ Bᵀ,  dL/dB = Aᵀ @ dL/dY
    (batch axes that were broadcast are summed back by the engine)"""

    derivative = ("dL/da = dL/dy · bᵀ", "dL/db = aᵀ · dL/dy")

    name = "matmul"

    @staticmethod
    def forward(ctx, a, b):
        check_matmul_shapes(np.shape(a), np.shape(b))
        ctx.a_ndim, ctx.b_ndim = np.ndim(a), np.ndim(b)
        need_a, need_b = ctx.needs_input_grad
        ctx.save_for_backward(a if need_b else None, b if need_a else None)  # dL/dB, dL/dA
        return np.matmul(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        if ctx.a_ndim == 1 and ctx.b_ndim == 1:   # dot product: grad is a scalar
            return (grad * b if need_a else None), (grad * a if need_b else None)
        if ctx.a_ndim == 1:                       # (k) @ (..., k, n) -> (..., n)
            grad_a = (grad[..., None, :] @ b.mT)[..., 0, :] if need_a else None
            grad_b = a[:, None] * grad[..., None, :] if need_b else None
            return grad_a, grad_b
        if ctx.b_ndim == 1:                       # (..., m, k) @ (k) -> (..., m)
            grad_a = grad[..., :, None] * b if need_a else None
            grad_b = (a.mT @ grad[..., :, None])[..., 0] if need_b else None
            return grad_a, grad_b
        grad_a = grad @ b.mT if need_a else None
        grad_b = a.mT @ grad if need_b else None
        return grad_a, grad_b
