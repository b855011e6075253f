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


def summary(model: Module,
            input_shape: int | Sequence[int] | Sequence[Sequence[int]] | None = None, *,
            input_data: Tensor | Sequence[Tensor] | None = None,
            dtypes: Sequence[Any] | None = None) -> str:
    """Print and return Keras's table: one row per layer, "name (Type)", its output shape
    with the batch dim shown as None, and its parameter count; then the totals.

    The output shapes come from a dry forward pass, run in eval mode under no_grad (so no
    running statistic, no random number and no graph is touched; the modules' training
    flags are restored afterwards), on one of:

    - input_shape: the shape of one sample, without the batch dim; the model gets zeros
      of shape (2, *input_shape), of the model's floating dtype. A list of shapes
      ([(5,), (3,)]) gives one input per shape, passed as positional arguments.
      dtypes, one per shape, sets the inputs' dtypes (dtypes=[ad.long] gives an
      Embedding its token indices).
    - input_data: a tensor, or a tuple or list of tensors passed as positional
      arguments, used as they are; the shapes shown are then the actual ones, batch
      dim included (as torchinfo shows them).

    A first dim equal to the dry run's batch of 2 is shown as None (a batch dim
    elsewhere, as in LSTM's h of shape (layers, batch, hidden), shows as 2). A row is
    shown for each module that ran and either has no submodules or holds parameters of
    its own, in the order they first ran. A module that returns a tuple or list (LSTM's
    (output, (h, c))) shows the shapes of the tensors in it, flattened into one list, one
    shape per line. Like Keras, floating-point buffers (BatchNorm's running mean and
    variance) count as non-trainable params; so do parameters with requires_grad=False.
    Shared parameters are counted once in the totals.

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
    inputs, batch = _model_inputs(model, input_shape, input_data, dtypes)
    rows = [[f"{name} ({type(module).__name__})" if name else type(module).__name__,
             _format_shapes(output, batch), f"{_own_count(module):,}"]
            for name, module, output in _dry_run(model, inputs)]
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    frozen = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    frozen += sum(b.numel() for b in model.buffers() if np.issubdtype(b.dtype, np.floating))
    lines = ["_" * LINE_LENGTH, _row(["Layer (type)", "Output Shape", "Param #"]),
             "=" * LINE_LENGTH]
    for i, (name, shapes, count) in enumerate(rows):
        lines.append(_row([name, shapes[0], count]))
        lines.extend(_row(["", shape, ""]) for shape in shapes[1:])
        lines.append("=" * LINE_LENGTH if i == len(rows) - 1 else "_" * LINE_LENGTH)
    if not rows:
        lines.append("=" * LINE_LENGTH)
    lines += [f"Total params: {trainable + frozen:,}", f"Trainable params: {trainable:,}",
              f"Non-trainable params: {frozen:,}", "_" * LINE_LENGTH]
    text = "\n".join(lines)
    print(text)
    return text


def _model_inputs(model: Module, input_shape: Any, input_data: Any, dtypes: Any
                  ) -> tuple[list[Any], int | None]:
    """The positional arguments of the dry run, and the batch size to show as None (None:
    show the actual shapes)."""
    if input_data is not None:
        if input_shape is not None or dtypes is not None:
            raise ValueError("summary: give either input_shape (with dtypes) or input_data, "
                             "not both; input_data's tensors carry their own shapes and "
                             "dtypes")
        return (list(input_data) if isinstance(input_data, (tuple, list))
                else [input_data]), None
    if input_shape is None:
        raise ValueError("summary: say what to run the model on: input_shape=(784,) (the "
                         "shape of one sample, without the batch dim; a list of shapes for "
                         "several inputs) or input_data=x (the tensors themselves)")
    shapes = _input_shapes(input_shape)
    if dtypes is None:
        params = [p for p in model.parameters() if np.issubdtype(p.dtype, np.floating)]
        dtypes = [params[0].dtype if params else np.float32] * len(shapes)
    elif isinstance(dtypes, (str, np.dtype, type)) or len(dtypes) != len(shapes):
        raise ValueError(f"summary: dtypes must be a list with one dtype per input shape "
                         f"({len(shapes)} here), e.g. [ad.long], got {dtypes!r}")
    return [ad.zeros((DRY_RUN_BATCH, *shape), dtype=dtype)
            for shape, dtype in zip(shapes, dtypes)], DRY_RUN_BATCH


def _input_shapes(input_shape: Any) -> list[tuple[int, ...]]:
    """One shape per input: `input_shape` is one shape (an int or a sequence of ints) or a
    list of them."""
    if isinstance(input_shape, (tuple, list)) and input_shape \
            and all(isinstance(shape, (tuple, list)) for shape in input_shape):
        return [_input_shape(shape) for shape in input_shape]
    return [_input_shape(input_shape)]


def _input_shape(input_shape: int | Sequence[int]) -> tuple[int, ...]:
    shape = (input_shape,) if isinstance(input_shape, (int, np.integer)) else tuple(input_shape)
    if not all(isinstance(n, (int, np.integer)) and n >= 0 for n in shape):
        raise ValueError(f"summary: input_shape must be the shape of one sample (without "
                         f"the batch dim) as ints, e.g. (784,), or a list of such shapes, "
                         f"got {input_shape!r}")
    return tuple(int(n) for n in shape)


def _dry_run(model: Module, inputs: list[Any]) -> list[tuple[str, Module, Any]]:
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
        with ad.no_grad():
            model(*inputs)
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


def _format_shapes(output: Any, batch: int | None) -> list[str]:
    """The output shape as the lines of its table cell: "(None, 10)" for a tensor; for a
    tuple or list, its tensors' shapes flattened, one per line: "[(None, 5, 16),",
    " (1, 2, 16)]"."""
    if not isinstance(output, (tuple, list)):
        return [_format_shape(output, batch)]
    shapes = [_format_shape(item, batch) for item in _flatten(output)]
    if len(shapes) < 2:
        return ["[" + "".join(shapes) + "]"]
    return (["[" + shapes[0] + ","] + [" " + shape + "," for shape in shapes[1:-1]]
            + [" " + shapes[-1] + "]"])


def _flatten(output: tuple | list) -> list[Any]:
    """The items of nested tuples and lists, in order."""
    items: list[Any] = []
    for item in output:
        items.extend(_flatten(item) if isinstance(item, (tuple, list)) else [item])
    return items


def _format_shape(output: Any, batch: int | None) -> str:
    """A tensor's shape with a first dim equal to `batch` shown as None: "(None, 10)"."""
    if isinstance(output, Tensor):
        dims = ["None" if i == 0 and n == batch else str(n) for i, n in enumerate(output.shape)]
        return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"
    return "None" if output is None else type(output).__name__


def _row(fields: list[str]) -> str:
    """Fields left-aligned in Keras's columns (a field too long for its column is cut)."""
    line = ""
    for field, end in zip(fields, COLUMN_ENDS):
        if line:
            line = line[:-1] + " "
        line = (line + field)[:end].ljust(end)
    return line.rstrip()
