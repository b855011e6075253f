"""The losses of neural networks, each one graph node.

`cross_entropy` is log-softmax and negative log-likelihood;
`nll_loss` picks -log p[target]; `mse_loss` is the squared error;
`binary_cross_entropy(_with_logits)` are the two-class losses. Each is numerically
stable (the maximum is subtracted before any exp, logs are
clamped as torch clamps them) and twice differentiable: their backward formulas use only
operators, reshapes and sums, so with create_graph=True they are recorded and can be
differentiated again.

Losses end in a reduction: "mean" (over every element of the target), "sum" or "none"
(one loss per element). Backward first turns dL/d(reduced loss) into dL/d(each loss):
`per_loss(ctx, grad)`.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..dtypes import scalar
from ..errors import DomainError, DtypeError, ShapeError
from ..function import Function
from ..tensor import Tensor, array_of
from .array_or_tensor import log
from .elementwise import sigmoid_array
from .shape import TensorIndexError
from .softmax import log_softmax_array

REDUCTIONS = ("mean", "sum", "none")


# ---------------------------------------------------------------- class-index losses

class CrossEntropy(Function):
    """Lₙ = -log softmax(xₙ)[tₙ] = log Σⱼ exp(xₙⱼ) - xₙ[tₙ];
    dLₙ/dxₙ = softmax(xₙ) - onehot(tₙ)

    Classes run along dim 1 (dim 0 for a single sample of shape (C,)). Forward computes
    log-probabilities as (x - m) - log Σ exp(x - m), m = max x, so logits of ±1000 or
    ×1e4 stay finite.

    Why backward does not use the output alone: the output is the reduced loss, a single
    number under "mean" or "sum", and softmax(x) cannot be recovered from it. So the
    node saves its input x. First-order backward reuses the probabilities forward
    computed (a constant of this call, `ctx.probs`); with create_graph=True it recomputes
    them as the recorded op `x.softmax(dim)`, so the second derivative
    d softmax/dx = diag(p) - p pᵀ is part of the graph and exact.
    """

    derivative = ("dL/dx = dL/dy · (softmax(x) − onehot(target)) along the class axis (÷ N for "
                  "reduction='mean')",
                  "dL/dtarget: none (class indices)")

    name = "cross_entropy"
    kept_inputs = ((1, "its target"),)     # backward reads the targets: refused once changed

    @staticmethod
    def forward(ctx, x, target, reduction="mean"):
        axis = class_axis(x.ndim)
        target = class_indices("cross_entropy", target, x.shape[axis])
        log_probs = log_softmax_array(x, axis)
        ctx.probs = np.exp(log_probs)
        ctx.axis, ctx.target = axis, target
        ctx.save_for_backward(x)
        return reduce_losses(ctx, -pick(log_probs, target, axis), reduction, target.shape, axis)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        probs = ctx.probs if isinstance(x, np.ndarray) else x.softmax(dim=ctx.axis)
        target = onehot(ctx.target, ctx.probs.shape, ctx.axis, ctx.probs.dtype)
        return per_loss(ctx, grad) * (probs - target), None


class NLLLoss(Function):
    """Lₙ = -xₙ[tₙ] (x holds log-probabilities);  dLₙ/dxₙ = -onehot(tₙ)

    The loss is linear in x, so its backward multiplies dL/dy by a constant and is
    twice differentiable as it stands (the second derivative is 0)."""

    derivative = ("dL/dx = −dL/dy · onehot(target) along the class axis (÷ N for "
                  "reduction='mean')",
                  "dL/dtarget: none (class indices)")

    name = "nll_loss"
    kept_inputs = ((1, "its target"),)     # backward reads the targets: refused once changed

    @staticmethod
    def forward(ctx, x, target, reduction="mean"):
        axis = class_axis(x.ndim)
        target = class_indices("nll_loss", target, x.shape[axis])
        ctx.axis, ctx.target, ctx.shape, ctx.dtype = axis, target, x.shape, x.dtype
        return reduce_losses(ctx, -pick(x, target, axis), reduction, target.shape, axis)

    @staticmethod
    def backward(ctx, grad):
        minus_onehot = onehot(ctx.target, ctx.shape, ctx.axis, ctx.dtype, value=-1)
        return per_loss(ctx, grad) * minus_onehot, None


def cross_entropy(x: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Mean (or sum, or each) of -log softmax(x)[target] as one node; see CrossEntropy."""
    target = class_targets("cross_entropy", x, target, reduction)
    return CrossEntropy.apply(x, target, reduction=reduction)


def nll_loss(x: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Mean (or sum, or each) of -x[target] as one node; see NLLLoss."""
    target = class_targets("nll_loss", x, target, reduction)
    return NLLLoss.apply(x, target, reduction=reduction)


def class_axis(ndim: int) -> int:
    """The axis classes run along: 0 for one sample (C,), else 1 ((N, C) or (N, C, d...))."""
    return 0 if ndim == 1 else 1


def onehot(target: np.ndarray, shape: tuple[int, ...], axis: int, dtype: np.dtype,
           value: float = 1) -> np.ndarray:
    """`value` (1 unless given) at each target's class along `axis`, 0 elsewhere."""
    out = np.zeros(shape, dtype=dtype)
    if len(shape) == 2:                                   # (N, C): the common case, fast
        out[np.arange(shape[0]), target] = value
    else:
        np.put_along_axis(out, np.expand_dims(target, axis), value, axis)
    return out


def pick(x: np.ndarray, target: np.ndarray, axis: int) -> np.ndarray:
    """x at each target's class along `axis` (that axis removed)."""
    if x.ndim == 2:
        return x[np.arange(x.shape[0]), target]
    return np.take_along_axis(x, np.expand_dims(target, axis), axis).squeeze(axis)


def class_targets(op: str, x: Any, target: Any, reduction: str) -> Any:
    """The target, checked to be integers of the shape x needs (one class index per
    sample); its values are checked by `class_indices`, in the op's forward, so that a
    compiled function checks them on every call."""
    check_reduction(op, reduction)
    x_shape = np.shape(array_of(x))
    t = array_of(target) if isinstance(target, (Tensor, np.ndarray)) else np.asarray(target)
    if t.dtype.kind not in "iu":
        raise DtypeError(f"{op}: target must hold class indices as integers (int64), got "
                         f"{t.dtype}; for one-hot or probability targets pass "
                         f"target.argmax(dim=1)")
    if len(x_shape) == 0:
        raise ShapeError(f"{op}: input must have a class dim, got a 0-d tensor")
    axis = class_axis(len(x_shape))
    expected = x_shape[:axis] + x_shape[axis + 1:]
    if t.shape != expected:
        raise ShapeError(f"{op}: input of shape {x_shape} needs a target of shape "
                         f"{expected} (one class index per sample), got {t.shape}")
    return target if isinstance(target, (Tensor, np.ndarray)) else t


def class_indices(op: str, target: np.ndarray, classes: int) -> np.ndarray:
    """The target as int64 class indices, each checked to lie in [0, classes)."""
    t = target.astype(np.int64, copy=False)
    # one pass: as unsigned numbers, negative classes are huge, so both errors exceed classes
    if t.size and t.view(np.uint64).max() >= classes:
        bad = t.min() if t.min() < 0 else t.max()
        raise TensorIndexError(f"{op}: target holds class {bad}, but the input has "
                               f"{classes} classes (valid indices 0 to {classes - 1})")
    return t


# ---------------------------------------------------------------- regression loss

class MSELoss(Function):
    """L = (x - t)² (t = target);  dL/dx = 2(x - t),  dL/dt = -2(x - t)"""

    derivative = ("dL/dx = dL/dy · 2(x − t) (÷ N for reduction='mean')",
                  "dL/dtarget = −dL/dy · 2(x − t) (÷ N for reduction='mean')")

    name = "mse_loss"

    @staticmethod
    def forward(ctx, x, target, reduction="mean"):
        ctx.save_for_backward(x, target)
        diff = x - target
        return reduce_losses(ctx, diff * diff, reduction, diff.shape)

    @staticmethod
    def backward(ctx, grad):
        x, target = ctx.saved_tensors
        need_x, need_target = ctx.needs_input_grad
        grad_x = per_loss(ctx, grad, 2) * (x - target)
        return (grad_x if need_x else None), (-grad_x if need_target else None)


def mse_loss(x: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Mean (or sum, or each) of (x - target)² as one node; shapes must match."""
    check_reduction("mse_loss", reduction)
    check_same_shape("mse_loss", x, target)
    return MSELoss.apply(x, _like(target, x), reduction=reduction)


# ---------------------------------------------------------------- two-class losses

class BinaryCrossEntropy(Function):
    """L = -(t log p + (1 - t) log(1 - p)) (t = target), each log clamped to >= -100 (as torch);
    dL/dp = (p - t) / max(p (1 - p), 1e-12),  dL/dt = log(1 - p) - log p"""

    derivative = ("dL/dp = dL/dy · (p − t) / max(p(1 − p), 1e-12) (÷ N for reduction='mean')",
                  "dL/dtarget = dL/dy · (log(1 − p) − log p) (÷ N for reduction='mean')")

    name = "binary_cross_entropy"

    @staticmethod
    def forward(ctx, p, target, reduction="mean"):
        ctx.save_for_backward(p, target if ctx.needs_input_grad[0] else None)
        # log 0 = -inf (clamped) is expected; a p outside [0, 1] makes a NaN log, which
        # the domain check below catches (it runs only when the result has a NaN)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_p, log_1mp = clamped_logs(p)
        losses = target * log_p                     # negated after the sum
        losses += (1 - target) * log_1mp
        result = -reduce_losses(ctx, losses, reduction, losses.shape)
        if reduction == "none" or result != result:
            check_probabilities(p)
        check_probabilities(target, "target")     # (a finite loss does not show it)
        return result

    @staticmethod
    def backward(ctx, grad):
        p, target = ctx.saved_tensors
        need_p, need_target = ctx.needs_input_grad
        grad = per_loss(ctx, grad)
        grad_p = grad * (p - target) / clamp_below(p * (1 - p), 1e-12) if need_p else None
        grad_target = None
        if need_target:
            with np.errstate(divide="ignore"):
                grad_target = grad * (log(1 - p) - log(p))
        return grad_p, grad_target


def check_probabilities(values: np.ndarray, what: str = "input") -> None:
    """binary_cross_entropy's domain: every input p and every target in [0, 1], as torch
    requires (a NaN passes, and makes the loss NaN)."""
    # fmin/fmax skip NaN: a NaN passes, but not a value outside [0, 1] beside it
    lowest, highest = (np.fmin.reduce(values, axis=None), np.fmax.reduce(values, axis=None)) \
        if values.size else (0.5, 0.5)
    if lowest < 0 or highest > 1:
        advice = "pass logits to binary_cross_entropy_with_logits instead" if what == "input" \
            else "a target is a probability too (binary_cross_entropy_with_logits takes any)"
        raise DomainError(f"binary_cross_entropy: every {what} must be a probability in "
                          f"[0, 1], got values from {lowest} to {highest}; {advice}")


def clamp_below(x: Any, low: float) -> Any:
    """max(x, low) of an ndarray (np.maximum, a third faster than clip) or a Tensor."""
    return np.maximum(x, low) if type(x) is np.ndarray else x.clip(low)


def clamped_logs(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """log p and log(1 − p), each clamped to ≥ −100 (as torch's binary cross-entropy)."""
    return np.maximum(np.log(p), -100), np.maximum(np.log1p(-p), -100)


class BinaryCrossEntropyWithLogits(Function):
    """L = -(t log σ(x) + (1 - t) log(1 - σ(x))) (t = target), computed as
    max(x, 0) - x t + log(1 + e^-|x|) (no overflow at any x);  dL/dx = σ(x) - t,  dL/dt = -x"""

    derivative = ("dL/dx = dL/dy · (σ(x) − t) (÷ N for reduction='mean')",
                  "dL/dtarget = −dL/dy · x (÷ N for reduction='mean')")

    name = "binary_cross_entropy_with_logits"

    @staticmethod
    def forward(ctx, x, target, reduction="mean"):
        ctx.save_for_backward(x, target if ctx.needs_input_grad[0] else None)
        losses = np.maximum(x, 0) - x * target + np.log1p(np.exp(-np.abs(x)))
        return reduce_losses(ctx, losses, reduction, losses.shape)

    @staticmethod
    def backward(ctx, grad):
        x, target = ctx.saved_tensors
        need_x, need_target = ctx.needs_input_grad
        grad = per_loss(ctx, grad)
        grad_x = grad * (sigmoid(x) - target) if need_x else None
        grad_target = -grad * x if need_target else None
        return grad_x, grad_target


def binary_cross_entropy(p: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Mean (or sum, or each) of -(t log p + (1 - t) log(1 - p)); p must lie in [0, 1]."""
    check_reduction("binary_cross_entropy", reduction)
    check_same_shape("binary_cross_entropy", p, target)
    return BinaryCrossEntropy.apply(p, _like(target, p), reduction=reduction)


def binary_cross_entropy_with_logits(x: Tensor, target: Any,
                                     reduction: str = "mean") -> Tensor:
    """binary_cross_entropy(sigmoid(x), target), computed without overflow from logits x."""
    check_reduction("binary_cross_entropy_with_logits", reduction)
    check_same_shape("binary_cross_entropy_with_logits", x, target)
    return BinaryCrossEntropyWithLogits.apply(x, _like(target, x), reduction=reduction)


def sigmoid(x: Any) -> Any:
    """σ(x) of an ndarray (first-order backward) or a Tensor (recorded, create_graph)."""
    return x.sigmoid() if isinstance(x, Tensor) else sigmoid_array(x)


def check_same_shape(op: str, x: Any, target: Any) -> None:
    x_shape, t_shape = np.shape(array_of(x)), np.shape(array_of(target))
    if x_shape != t_shape:
        raise ShapeError(f"{op}: input of shape {x_shape} and target of shape {t_shape} "
                         f"must have the same shape (no broadcasting); reshape one, e.g. "
                         f"target.reshape{x_shape}")


# ---------------------------------------------------------------- reductions

def check_reduction(op: str, reduction: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', "
                         f"got {reduction!r}")


def reduce_losses(ctx: Any, losses: np.ndarray, reduction: str, shape: tuple[int, ...],
                  axis: int | None = None) -> np.ndarray:
    """Apply the reduction, and remember for backward how dL/dy spreads over the losses:
    `ctx.grad_shape` (dL/dy's shape, with the class axis put back as size 1 when each
    loss is returned) and `ctx.scale` (1/count for the mean, else 1)."""
    ctx.scale = 1.0 / max(losses.size, 1) if reduction == "mean" else 1.0
    if reduction != "none":
        ctx.grad_shape = ()
        total = losses.sum()
        return total / losses.size if reduction == "mean" else total
    ctx.grad_shape = shape if axis is None else shape[:axis] + (1,) + shape[axis:]
    return losses


def per_loss(ctx: Any, grad: Any, factor: float = 1.0) -> Any:
    """dL/d(each element's loss) (times `factor`, a power of two, which scales exactly:
    one multiplication for both), shaped to broadcast against the loss's input."""
    if grad.shape != ctx.grad_shape:
        grad = grad.reshape(ctx.grad_shape)
    scale = ctx.scale * factor
    return grad * scalar(scale, grad.dtype) if scale != 1 else grad


def _like(target: Any, x: Any) -> Any:
    """A target given as numbers or an ndarray, in x's dtype (so float32 stays float32)."""
    return target if isinstance(target, Tensor) else np.asarray(target, dtype=array_of(x).dtype)
