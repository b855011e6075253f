"""nn.summary: Keras's model summary table for a Module."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

import autodiff as ad
from autodiff.tensor import Tensor

from .module import Module

LINE_LENGTH = 65
COLUMN_ENDS = (29, 55, 65)      # Keras 2's layout for sequential models: 45%, 85%, 100%
DRY_RUN_BATCH = 2


def summary(model: Module, input_shape: int | Sequence[int]) -> str:
    """Print and return Keras's table: one row per layer, "name (Type)", its output shape
    with the batch dim shown as None, and its parameter count; then the totals.

    The output shapes come from a dry forward pass on zeros of shape (2, *input_shape),
    run in eval mode under no_grad (so no running statistic, no random number and no
    graph is touched; the modules' training flags are restored afterwards). A row is
    shown for each module that ran and either has no submodules or holds parameters of
    its own, in the order they first ran. Like Keras, floating-point buffers (BatchNorm's
    running mean and variance) count as non-trainable params; so do parameters with
    requires_grad=False. Shared parameters are counted once in the totals.

    >>> import nn
    >>> model = nn.Sequential(nn.Linear(2, 10), nn.Tanh(), nn.Linear(10, 1), nn.Sigmoid())
    >>> text = summary(model, input_shape=(2,))
    _________________________________________________________________
    Layer (type)                 Output Shape              Param #
    =================================================================
    0 (Linear)                   (None, 10)                30
    _________________________________________________________________
    1 (Tanh)                     (None, 10)                0
    _________________________________________________________________
    2 (Linear)                   (None, 1)                 11
    _________________________________________________________________
    3 (Sigmoid)                  (None, 1)                 0
    =================================================================
    Total params: 41
    Trainable params: 41
    Non-trainable params: 0
    _________________________________________________________________
    """
    shape = _input_shape(input_shape)
    rows = [[f"{name} ({type(module).__name__})" if name else type(module).__name__,
             _format_shape(output), f"{_own_count(module):,}"]
            for name, module, output in _dry_run(model, shape)]
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    frozen = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    frozen += sum(b.numel() for b in model.buffers() if np.issubdtype(b.dtype, np.floating))
    lines = ["_" * LINE_LENGTH, _row(["Layer (type)", "Output Shape", "Param #"]),
             "=" * LINE_LENGTH]
    for i, row in enumerate(rows):
        lines.append(_row(row))
        lines.append("=" * LINE_LENGTH if i == len(rows) - 1 else "_" * LINE_LENGTH)
    if not rows:
        lines.append("=" * LINE_LENGTH)
    lines += [f"Total params: {trainable + frozen:,}", f"Trainable params: {trainable:,}",
              f"Non-trainable params: {frozen:,}", "_" * LINE_LENGTH]
    text = "\n".join(lines)
    print(text)
    return text


def _input_shape(input_shape: int | Sequence[int]) -> tuple[int, ...]:
    shape = (input_shape,) if isinstance(input_shape, (int, np.integer)) else tuple(input_shape)
    if not all(isinstance(n, (int, np.integer)) and n >= 0 for n in shape):
        raise ValueError(f"summary: input_shape must be the shape of one sample (without "
                         f"the batch dim) as ints, e.g. (784,), got {input_shape!r}")
    return tuple(int(n) for n in shape)


def _dry_run(model: Module, shape: tuple[int, ...]) -> list[tuple[str, Module, Any]]:
    """(path, module, output) for each listed module, in the order they first ran."""
    listed = [(name, module) for name, module in model.named_modules()
              if not module._modules or module._parameters or module._buffers]
    outputs: dict[int, Any] = {}
    modes = [(module, module.training) for module in model.modules()]

    def record(module: Module, args: tuple, output: Any) -> None:
        outputs.setdefault(id(module), output)

    handles = [module.register_forward_hook(record) for _, module in listed]
    try:
        model.eval()
        params = [p for p in model.parameters() if np.issubdtype(p.dtype, np.floating)]
        dtype = params[0].dtype if params else np.float32
        with ad.no_grad():
            model(ad.zeros((DRY_RUN_BATCH, *shape), dtype=dtype))
    finally:
        for handle in handles:
            handle.remove()
        for module, training in modes:
            object.__setattr__(module, "training", training)
    by_id = {id(module): (name, module) for name, module in listed}
    return [(*by_id[key], output) for key, output in outputs.items()]


def _own_count(module: Module) -> int:
    """Parameters and floating-point buffers held by the module itself."""
    tensors = [*module._parameters.values(), *module._buffers.values()]
    return sum(t.numel() for t in tensors
               if t is not None and np.issubdtype(t.dtype, np.floating))


def _format_shape(output: Any) -> str:
    if isinstance(output, Tensor):
        dims = ["None" if i == 0 and n == DRY_RUN_BATCH else str(n)
                for i, n in enumerate(output.shape)]
        return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"
    if isinstance(output, (tuple, list)):
        return "[" + ", ".join(_format_shape(item) for item in output) + "]"
    return type(output).__name__


def _row(fields: list[str]) -> str:
    """Fields left-aligned in Keras's columns (a field too long for its column is cut)."""
    line = ""
    for field, end in zip(fields, COLUMN_ENDS):
        if line:
            line = line[:-1] + " "
        line = (line + field)[:end].ljust(end)
    return line.rstrip()
