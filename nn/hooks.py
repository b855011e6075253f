"""Full backward hooks of modules (torch's BackwardHook): `Module.register_full_backward_hook`
and `register_full_backward_pre_hook` see, and may replace, the gradients with respect to a
module call's outputs and inputs. Each tensor passes through an identity op whose backward
hands its gradient to a group; the group's gather node runs the hooks once every gradient
of the group is in."""
from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from autodiff import from_numpy, grad_mode
from autodiff.errors import ShapeError
from autodiff.function import Function
from autodiff.tensor import Tensor

if TYPE_CHECKING:
    from .module import Module


class GradsTogether:
    """The gradients of several tensors that pass through `HookIdentity` ops, collected
    one by one as backward reaches them, then handed over at once by `HookGather`."""

    def __init__(self, count: int, on_complete: Callable[[list[Any]], tuple[Any, ...]]
                 ) -> None:
        self.grads: list[Any] = [None] * count
        self.on_complete = on_complete


class HookGather(Function):
    """joint = gather(x₁, …, xₙ): a 0-d placeholder that every `HookIdentity` of the
    group also takes as an input, so backward reaches this node only after all of them.
    Its backward hands the collected dL/dxᵢ to the hooks (`on_complete`) and sends what
    they return back to x₁, …, xₙ: the gradients of the whole group at once, as torch's
    BackwardHookFunction, one node with many outputs, gives them."""

    derivative = ("dL/dxᵢ = what the hooks return for the group's collected dL/dxᵢ (dL/dy, the "
                  "0-d joint's gradient, is 0 and unused)",)

    name = "backward_hook"

    @staticmethod
    def forward(ctx: Any, *arrays: np.ndarray, together: GradsTogether) -> np.ndarray:
        ctx.together = together
        return np.zeros((), arrays[0].dtype)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> tuple[Any, ...]:
        together = ctx.together
        grads, together.grads = together.grads, [None] * len(together.grads)
        return together.on_complete(grads)


class HookIdentity(Function):
    """y = x (a copy), with `joint` as a second input: dL/dx is not sent to x but kept
    in the group's `GradsTogether`; `joint` gets 0, which makes `HookGather` wait for
    every member of the group."""

    derivative = ("dL/dx: none from this node (dL/dy is kept for the group's hooks; HookGather "
                  "sends x what they return)",
                  "dL/djoint = 0 (so HookGather runs after every member)")

    name = "backward_hook"

    @staticmethod
    def forward(ctx: Any, x: np.ndarray, joint: np.ndarray, together: GradsTogether,
                index: int) -> np.ndarray:
        ctx.together, ctx.index = together, index
        return x.copy()

    @staticmethod
    def backward(ctx: Any, grad: Any) -> tuple[None, np.ndarray]:
        ctx.together.grads[ctx.index] = grad
        return None, np.zeros((), grad.dtype)


class BackwardHookCall:
    """One call of a module that has full backward hooks or backward pre-hooks (torch's
    BackwardHook). The tensor arguments that require grad pass through `HookIdentity`
    ops of one group, the outputs through another. In backward the outputs' group
    completes first: grad_output is known, the pre-hooks run (and may replace it). The
    inputs' group completes next: grad_input is known, the hooks run (and may replace
    it), before anything flows on to the tensors the module was called with."""

    def __init__(self, module: Module) -> None:
        self.module = module
        self.hooks = tuple(module._backward_hooks.values())
        self.pre_hooks = tuple(module._backward_pre_hooks.values())
        self.input_specs: list[tuple[tuple[int, ...], np.dtype] | None] = []
        self.input_tracked: list[int] | None = None     # None: no input requires grad
        self.output_count = 0
        self.output_tracked: list[int] | None = None
        self.grad_outputs: tuple | None = None          # set between the two groups

    def wrap_inputs(self, args: tuple) -> tuple:
        self.input_specs = [(v.shape, v.dtype) if isinstance(v, Tensor) else None
                            for v in args]
        args, self.input_tracked = _wrap_group(args, self._inputs_done)
        return args

    def wrap_outputs(self, output: Any) -> Any:
        if not isinstance(output, (Tensor, tuple)):
            warnings.warn(f"{type(self.module).__name__}: backward hooks are called only when "
                          f"the module's output is a Tensor or a tuple of Tensors, this one "
                          f"returned a {type(output).__name__}", stacklevel=3)
        outputs = output if isinstance(output, tuple) else (output,)
        self.output_count = len(outputs)
        outputs, self.output_tracked = _wrap_group(outputs, self._outputs_done)
        return outputs if isinstance(output, tuple) else outputs[0]

    def _outputs_done(self, grads: list[Any]) -> tuple[Any, ...]:
        """dL/d(outputs) are complete: run the pre-hooks; return the gradients that go
        into the module."""
        grad_outputs: list[Any] = [None] * self.output_count
        for i, grad in zip(self.output_tracked, grads):
            if grad is not None:
                grad_outputs[i] = _as_tensor(grad)
        self.grad_outputs = tuple(grad_outputs)
        for hook in self.pre_hooks:
            result = hook(self.module, self.grad_outputs)
            if result is not None:
                self.grad_outputs = self._replacement(result, self.grad_outputs, "grad_output",
                                                      "register_full_backward_pre_hook")
        passed_on = self.grad_outputs
        if self.input_tracked is None:      # no input requires grad: the hooks run now
            self._no_input_grads()
        return _as_grads(passed_on, self.output_tracked, grads)

    def _no_input_grads(self) -> None:
        if self.hooks:
            warnings.warn(f"{type(self.module).__name__}: the full backward hook runs when the "
                          f"gradients with respect to the module's outputs are known, since "
                          f"none of its inputs requires grad (grad_input is all None)",
                          stacklevel=2)
        grad_input = (None,) * len(self.input_specs)
        for hook in self.hooks:
            result = hook(self.module, grad_input, self.grad_outputs)
            if result is not None and not (isinstance(result, tuple)
                                           and all(g is None for g in result)):
                raise RuntimeError(f"{type(self.module).__name__}: a full backward hook "
                                   f"returned gradients although no input of the module "
                                   f"requires grad; return None")
        self.grad_outputs = None

    def _inputs_done(self, grads: list[Any]) -> tuple[Any, ...]:
        """dL/d(inputs) are complete: run the hooks; return the gradients that flow on to
        the tensors the module was called with."""
        if self.grad_outputs is None:       # reached without passing through the outputs
            return tuple(grads)
        grad_input: list[Any] = [None] * len(self.input_specs)
        for i, spec in enumerate(self.input_specs):
            if spec is not None:            # zeros for a tensor that got none, as torch
                grad_input[i] = from_numpy(np.zeros(*spec))
        for i, grad in zip(self.input_tracked, grads):
            if grad is not None:
                grad_input[i] = _as_tensor(grad)
        result_input = tuple(grad_input)
        for hook in self.hooks:
            result = hook(self.module, result_input, self.grad_outputs)
            if result is not None:
                result_input = self._replacement(result, result_input, "grad_input",
                                                 "register_full_backward_hook")
        self.grad_outputs = None
        return _as_grads(result_input, self.input_tracked, grads)

    def _replacement(self, result: Any, current: tuple, what: str, registered_by: str
                     ) -> tuple:
        """A hook's return value, checked: a tuple or list as long as `current`, each
        entry None or a Tensor of the shape of the one it replaces."""
        module = type(self.module).__name__
        if not isinstance(result, (tuple, list)) or len(result) != len(current):
            got = (f"{len(result)} entries" if isinstance(result, (tuple, list))
                   else f"a {type(result).__name__}")
            raise RuntimeError(f"{module}: a hook added by {registered_by} returned {got}; "
                               f"it must return None or a tuple of {len(current)} "
                               f"(one per entry of {what}, None for no gradient)")
        for i, (new, old) in enumerate(zip(result, current)):
            if new is None:
                continue
            if not isinstance(new, Tensor):
                raise TypeError(f"{module}: a hook added by {registered_by} returned a "
                                f"{type(new).__name__} as {what}[{i}]; return Tensors or None")
            if old is not None and new.shape != old.shape:
                raise ShapeError(f"{module}: a hook added by {registered_by} returned "
                                 f"{what}[{i}] of shape {new.shape}; it replaces a gradient "
                                 f"of shape {old.shape}, so it must have that shape")
        return tuple(result)


def _wrap_group(values: tuple, on_complete: Callable[[list[Any]], tuple[Any, ...]]
                ) -> tuple[tuple, list[int] | None]:
    """`values` with each tensor that requires grad passed through a `HookIdentity` of one
    group, and the positions of those tensors; the values unchanged and None when no
    gradient can come back (no tensor requires grad, or grad mode is off)."""
    tracked = [i for i, v in enumerate(values) if isinstance(v, Tensor) and v.requires_grad]
    if not tracked or not grad_mode.is_grad_enabled():
        return values, None
    members = [values[i] for i in tracked]
    together = GradsTogether(len(members), on_complete)
    joint = HookGather.apply(*members, together=together)
    wrapped = list(values)
    for index, i in enumerate(tracked):
        wrapped[i] = HookIdentity.apply(values[i], joint, together=together, index=index)
    return tuple(wrapped), tracked


def _as_tensor(grad: Any) -> Tensor:
    """A gradient as backward holds it (an ndarray, or a Tensor under create_graph) as the
    Tensor a hook sees."""
    return grad if isinstance(grad, Tensor) else from_numpy(grad)


def _as_grads(values: tuple, positions: list[int], grads: list[Any]) -> tuple[Any, ...]:
    """The entries of `values` (Tensors or None) at `positions`, as backward holds
    gradients: ndarrays, or Tensors when it runs with create_graph (then the group's
    incoming gradients `grads` are Tensors too)."""
    as_tensors = any(isinstance(g, Tensor) for g in grads)
    return tuple(values[i] if values[i] is None or as_tensors else values[i].numpy()
                 for i in positions)
