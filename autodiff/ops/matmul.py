"""Matrix multiplication with numpy's rules: 1-D operands are promoted to a row (left) or
a column (right) and the added axis removed again; leading axes broadcast as a batch.
`linear` (x Wᵀ + b, a layer's affine map) is one node of its own, and so is `inverse`
(A⁻¹ of square matrices, batched), which no product composes."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..dtypes import scalar
from ..errors import DomainError, ShapeError
from ..function import Function
from ..tensor import Tensor, register_methods
from .elementwise import to_floating


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


class Linear(Function):
    """y = x Wᵀ + b;  dL/dx = dL/dy W,  dL/dW = Σ_batch (dL/dy)ᵀ x,  dL/db = Σ_batch dL/dy

    x has shape (*, in) (any number of batch dims, including none), W (out, in), b (out,);
    `linear` checks them. Saved for backward: x only when W needs its gradient, W only
    when x does. Two-dimensional products go through np.dot, which calls BLAS with less
    overhead than `@` (0.6 against 0.95 µs for one sample).
    """

    derivative = ("dL/dx = dL/dy · W",
                  "dL/dweight = Σ_batch (dL/dy)ᵀ · x",
                  "dL/dbias = Σ_batch dL/dy")

    @staticmethod
    def forward(ctx, x, weight, bias=None):
        need_x, need_weight, _ = ctx.needs_input_grad
        ctx.save_for_backward(x if need_weight else None, weight if need_x else None)
        y = np.dot(x, weight.T) if x.ndim == 2 else x @ weight.T
        if bias is not None:
            y += bias
        return y

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        need_x, need_weight, need_bias = ctx.needs_input_grad
        if type(grad) is np.ndarray and grad.ndim == 2:      # tensors (create_graph) take @
            grad_x = np.dot(grad, weight) if need_x else None
            grad_weight = np.dot(grad.T, x) if need_weight else None
            return grad_x, grad_weight, sum_rows(grad) if need_bias else None
        rows, x_rows = grad, x                        # every batch dim flattened into rows
        if grad.ndim != 2:
            rows = grad.reshape(-1, grad.shape[-1])
            x_rows = x.reshape(-1, x.shape[-1]) if need_weight else None
        grad_x = grad @ weight if need_x else None
        grad_weight = rows.mT @ x_rows if need_weight else None
        grad_bias = rows.sum(axis=0) if need_bias else None
        return grad_x, grad_weight, grad_bias


def sum_rows(grad: np.ndarray) -> np.ndarray:
    """Σ over the rows of a 2-d array (axis 0). One row gives the row plus 0, the same bits
    as the sum (which starts from 0, so −0 becomes +0) in half its time (0.49 against
    0.87 µs for five float32 numbers): a one-sample step's bias gradients."""
    return np.add(grad[0], scalar(0, grad.dtype)) if len(grad) == 1 else np.add.reduce(grad, 0)


def check_linear_shapes(x_shape: tuple[int, ...], w_shape: tuple[int, ...], bias: Any) -> None:
    if len(w_shape) != 2:
        raise ShapeError(f"linear: weight must have shape (out_features, in_features), "
                         f"got {w_shape}")
    if len(x_shape) == 0 or x_shape[-1] != w_shape[1]:
        raise ShapeError(f"linear: input of shape {x_shape} does not fit weight of shape "
                         f"{w_shape}: the input's last dim must be in_features = {w_shape[1]}")
    if bias is not None and bias.shape != (w_shape[0],):
        raise ShapeError(f"linear: bias must have shape ({w_shape[0]},) to match weight "
                         f"{w_shape}, got {bias.shape}")


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x Wᵀ + b as one node, its shapes checked first."""
    check_linear_shapes(x.shape, weight.shape, bias)
    return Linear.apply(x, weight, bias)


class Inverse(Function):
    """y = a⁻¹ (each matrix of a batch (*, n, n));  dL/da = -yᵀ (dL/dy) yᵀ"""

    derivative = ("dL/da = −yᵀ · dL/dy · yᵀ",)

    @staticmethod
    def forward(ctx, a):
        try:
            y = np.linalg.inv(a)
        except np.linalg.LinAlgError:
            raise DomainError("inverse: a matrix of the input is singular (its determinant "
                              "is 0), so it has no inverse; use a pseudo-inverse or add a "
                              "small multiple of the identity") from None
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return -(y.mT @ grad @ y.mT)


def inverse(a: Tensor) -> Tensor:
    """A⁻¹ of a square matrix, or of each matrix of a batch (*, n, n); float inputs only
    (integers become the default float dtype, as torch's)."""
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ShapeError(f"inverse: needs square matrices (*, n, n), got shape {a.shape}")
    return Inverse.apply(to_floating(a))


register_methods({"inverse": inverse})
