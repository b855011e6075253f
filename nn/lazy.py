"""Lazy modules: layers whose input size is inferred from the first input they see
(torch's LazyModuleMixin). Until then their parameters and running statistics are
placeholders, `UninitializedParameter` and `UninitializedBuffer`, which hold no numbers;
the first call fills them in place (the same objects, so an optimizer built before it
trains them), initialises them as the ordinary layer would, and turns the module into that
layer (`cls_to_become`: a LazyLinear becomes a Linear).

Before the first call, as in torch: `parameters()` yields the placeholders, `state_dict()`
holds them (printed `<UninitializedParameter>`; their shape reads as (0,): no numbers), and
`model.double()` sets the dtype they will be made in. Loading a state dict into the lazy
module itself fills them with its shapes (torch's load hook); the first call then checks
its input against them.
"""
from __future__ import annotations

import inspect
from typing import Any, ClassVar

import numpy as np

import autodiff as ad
from autodiff.tensor import Tensor

from .module import Module, Parameter, RemovableHandle, StateDictError


class UninitializedParameter(Parameter):
    """A parameter of a lazy module whose shape is not known yet: no numbers until
    `materialize(shape)`, which fills it in place with zeros of that shape (and of its
    dtype, float32 unless `.to()` changed it) and makes it a plain Parameter.

    >>> import nn
    >>> p = nn.UninitializedParameter()
    >>> p
    <UninitializedParameter>
    >>> p.materialize((2, 3)); type(p).__name__, p.shape
    ('Parameter', (2, 3))
    """

    __slots__ = ()
    cls_to_become: ClassVar[type[Tensor]] = Parameter

    def __init__(self, requires_grad: bool = True) -> None:
        super().__init__(np.empty(0, dtype=ad.get_default_dtype()), requires_grad)

    def materialize(self, shape: tuple[int, ...]) -> None:
        """Fill this placeholder with zeros of `shape`, in place, and make it the ordinary
        class (`cls_to_become`)."""
        self.data = np.zeros(shape, dtype=self.dtype)
        self.__class__ = self.cls_to_become

    def detach(self) -> Tensor:
        """The placeholder itself, as torch's state_dict holds it (it has no numbers to
        share)."""
        return self

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


class UninitializedBuffer(Tensor):
    """A buffer of a lazy module (BatchNorm's running statistics) whose shape is not known
    yet; `materialize(shape)` fills it in place with zeros and makes it a plain Tensor."""

    __slots__ = ()
    cls_to_become: ClassVar[type[Tensor]] = Tensor
    materialize = UninitializedParameter.materialize
    detach = UninitializedParameter.detach
    __repr__ = UninitializedParameter.__repr__

    def __init__(self) -> None:
        super().__init__(np.empty(0, dtype=ad.get_default_dtype()))


def is_lazy(tensor: Any) -> bool:
    """Whether `tensor` is a placeholder not yet filled."""
    return isinstance(tensor, (UninitializedParameter, UninitializedBuffer))


class LazyModuleMixin:
    """What the lazy layers share: a forward pre-hook that, on the first call, infers the
    input size (`initialize_parameters`, which each lazy layer defines), checks nothing is
    left uninitialised, removes itself and turns the module into `cls_to_become`.

    A lazy layer is the mixin first, then the ordinary layer (class LazyLinear(
    LazyModuleMixin, Linear)); its constructor builds the ordinary layer with size 0 and
    replaces the tensors whose shapes depend on the input with placeholders. Its settings
    are the ordinary layer's (repr shows in_features=0, as torch's), and hyperparameters()
    gives the lazy constructor's arguments alone, so a saved architecture rebuilds it."""

    cls_to_become: ClassVar[type[Module] | None] = None
    inferred: ClassVar[str]
    """The size the first input gives (in_features, in_channels or num_features)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._initialize_hook: RemovableHandle = self.register_forward_pre_hook(
            type(self)._infer_parameters, with_kwargs=True)

    def has_uninitialized_params(self) -> bool:
        """Whether any parameter or buffer is still a placeholder."""
        return any(is_lazy(tensor) for tensor in (*self._parameters.values(),
                                                   *self._buffers.values()))

    def reset_parameters(self) -> None:
        """The ordinary layer's initialisation, once the size is known (nothing before)."""
        if not self.has_uninitialized_params() and getattr(self, self.inferred) != 0:
            super().reset_parameters()

    def input_size(self, input: Tensor) -> int:
        """The inferred size as the first input shows it (each lazy layer says where)."""
        raise NotImplementedError(f"{type(self).__name__}: define input_size")

    def inferred_shapes(self) -> dict[str, tuple[int, ...]]:
        """The shapes of the tensors that depend on the inferred size, by name, once it is
        known (each lazy layer gives its ordinary layer's)."""
        raise NotImplementedError(f"{type(self).__name__}: define inferred_shapes")

    def initialize_parameters(self, input: Tensor) -> None:
        """Read the size from the first input, fill the placeholders with the ordinary
        layer's shapes and initialise them as it would. When a state dict filled them
        already, check that the input fits them instead."""
        size = self.input_size(input)
        fresh = self.has_uninitialized_params()
        setattr(self, self.inferred, size)
        stores = {**self._parameters, **self._buffers}
        for name, shape in self.inferred_shapes().items():
            tensor = stores[name]
            if is_lazy(tensor):
                tensor.materialize(shape)
            elif tensor.shape != shape:
                raise StateDictError(f"{type(self).__name__}: the first input {input.shape} "
                                     f"has {self.inferred} = {size}, which needs {name} of "
                                     f"shape {shape}, but the loaded {name} has shape "
                                     f"{tensor.shape}")
        if fresh:
            self.reset_parameters()

    def _infer_parameters(self, args: tuple, kwargs: dict[str, Any]) -> None:
        """The forward pre-hook of the first call."""
        name = type(self).__name__
        if not args or not isinstance(args[0], Tensor):
            got = type(args[0]).__name__ if args else "no input"
            raise TypeError(f"{name}: the first call infers the input size from a Tensor, "
                            f"got {got}; wrap it: ad.tensor(x)")
        with ad.no_grad():
            self.initialize_parameters(args[0])
        if self.has_uninitialized_params():
            raise RuntimeError(f"module {name} has not been fully initialized")
        self._initialize_hook.remove()
        del self._initialize_hook
        if self.cls_to_become is not None:
            self.__class__ = self.cls_to_become
            object.__setattr__(self, "_scope_name", None)

    def hyperparameters(self) -> dict[str, Any]:
        """The lazy constructor's arguments (the inferred size is not one of them)."""
        accepted = inspect.signature(type(self).__init__).parameters
        return {name: value for name, value in super().hyperparameters().items()
                if name in accepted}

    def load_state_dict(self, state_dict: Any, strict: bool = True) -> Any:
        """Fill the placeholders with the shapes in `state_dict` first (torch's lazy load
        hook), then load; the first call still checks its input against them."""
        for name, tensor in (*self._parameters.items(), *self._buffers.items()):
            if is_lazy(tensor) and name in state_dict:
                shape = np.shape(state_dict[name])
                if shape == (0,) or is_lazy(state_dict[name]):
                    continue
                tensor.materialize(shape)
        return super().load_state_dict(state_dict, strict)
