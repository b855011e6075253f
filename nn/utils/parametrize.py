"""Parametrizations (torch.nn.utils.parametrize): a module's tensor computed from other
tensors on every read.

`register_parametrization(module, "weight", P())` moves the parameter `module.weight` to
`module.parametrizations.weight.original` and makes `module.weight` a computed value:

    module.weight  =  P(original)                 read: recorded, so dL/d(original) flows
    original       ←  P.right_inverse(value)      on `module.weight = value`, if P has one

Several parametrizations registered on one tensor chain, Pₙ(…P₂(P₁(original))), in a
`ParametrizationList`. A right_inverse that returns a tuple stores the originals as
`original0`, `original1`, … (weight_norm's magnitude and direction). The state dict keys
are torch's: "parametrizations.weight.original".

How a module becomes parametrized (as torch does it): its class is swapped for a
subclass made for that one module, `Parametrized<Class>`, that adds a property per
parametrized name (reading it runs the ParametrizationList, assigning it calls
right_inverse); removing the last parametrization swaps the class back. nn's Linear,
Bilinear and Conv layers read their weight straight from `self._parameters` (a shortcut
past attribute lookup), so while one of a module's parameters is computed, its
`_parameters` is a `ComputedParameters` dict that answers such a read with the computed
tensor. The architecture JSON describes nn's own classes only, so `to_json` refuses a
parametrized model, and `nn.save` stores its weights alone (load them into a model
parametrized the same way with `nn.load(path, model)`).

>>> import autodiff as ad, nn
>>> class Symmetric(nn.Module):
...     def forward(self, X):
...         return X.triu() + X.triu(1).T
>>> layer = register_parametrization(nn.Linear(2, 2), "weight", Symmetric())
>>> type(layer).__name__, list(layer.state_dict())
('ParametrizedLinear', ['bias', 'parametrizations.weight.original'])
>>> bool((layer.weight == layer.weight.T).all())
True
"""
from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator, Sequence
from typing import Any

import autodiff as ad
from autodiff.tensor import Tensor

from ..containers import ModuleDict
from ..module import Module, ModuleList, Parameter

_cache_depth = 0                            # how many cached() blocks are open
_cache: dict[tuple[int, str], Tensor] = {}  # (id(module), name) -> the computed tensor


@contextlib.contextmanager
def cached() -> Iterator[None]:
    """Inside the block each parametrized tensor is computed once, on its first read, and
    that same tensor is returned by later reads (a weight used at every step of an RNN,
    or shared between layers); the values are forgotten when the outermost block ends.

    >>> import nn
    >>> layer = nn.utils.parametrizations.weight_norm(nn.Linear(2, 2))
    >>> with cached():
    ...     layer.weight is layer.weight
    True
    >>> layer.weight is layer.weight
    False
    """
    global _cache_depth, _cache
    _cache_depth += 1
    try:
        yield
    finally:
        _cache_depth -= 1
        if not _cache_depth:
            _cache = {}


class ComputedParameters(dict):
    """The `_parameters` of a module some of whose parameters are computed (`computed`:
    their names): a layer that reads its weight straight from `self._parameters["weight"]`
    gets `getattr(owner, "weight")`, the computed tensor. Only reads of missing names
    change: `"weight" in module._parameters` stays False, and parameters() and
    state_dict() list the stored tensors alone."""

    def __init__(self, owner: Module, parameters: dict[str, Any]) -> None:
        super().__init__(parameters)
        self.owner = owner
        self.computed: set[str] = set()

    def __missing__(self, name: str) -> Tensor:
        if name not in self.computed:
            raise KeyError(name)
        return getattr(self.owner, name)


def compute_on_read(module: Module, name: str) -> None:
    """Make `module._parameters[name]` give `getattr(module, name)`, the computed tensor
    (see ComputedParameters)."""
    store = module._parameters
    if not isinstance(store, ComputedParameters):
        store = ComputedParameters(module, store)
        object.__setattr__(module, "_parameters", store)
    store.computed.add(name)


def stop_computing(module: Module, name: str) -> None:
    """Undo `compute_on_read(module, name)`; with no computed name left, `_parameters` is
    a plain dict again."""
    store = module._parameters
    if isinstance(store, ComputedParameters):
        store.computed.discard(name)
        if not store.computed:
            object.__setattr__(module, "_parameters", dict(store))


def _register_parameter_or_buffer(module: Module, name: str, tensor: Tensor) -> None:
    if isinstance(tensor, Parameter):
        module.register_parameter(name, tensor)
    else:
        module.register_buffer(name, tensor)


def _set_in_place(destination: Tensor, source: Tensor) -> None:
    """destination ← source, keeping the destination object (an optimizer holds it); a
    new shape (an unsafe parametrization's right_inverse) replaces its array."""
    with ad.no_grad():
        if destination.shape == source.shape:
            destination.copy_(source)
        else:
            destination.data = source.detach().numpy().copy()


def _right_inverse_or_identity(parametrization: Module, value: Any) -> Any:
    """parametrization.right_inverse(value), or value when it has none (or raises
    NotImplementedError), as registration treats it."""
    right_inverse = getattr(parametrization, "right_inverse", None)
    if right_inverse is None:
        return value
    try:
        return right_inverse(value)
    except NotImplementedError:
        return value


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, in registration order, and the original
    tensor(s) they are applied to: `module.parametrizations.<name>`. Calling it gives

        Pₙ(… P₂(P₁(original)))          or P₁(original0, original1, …) first

    The originals are found from the tensor X being parametrized as
    P₁.right_inverse(…Pₙ.right_inverse(X)) (a missing right_inverse is the identity):
    one tensor is stored as `original`, written into X's own Parameter in place (so an
    optimizer holding it keeps working); a sequence as `original0`, `original1`, … (new
    Parameters: give them to the optimizer). Made by `register_parametrization`, not by
    hand.

    Args:
        modules: the parametrizations (at least one).
        original: the tensor being parametrized (a Parameter or a buffer).
        unsafe: skip the check that the parametrization keeps X's shape and dtype.
    """

    original: Tensor
    unsafe: bool

    def __init__(self, modules: Sequence[Module], original: Tensor, unsafe: bool = False
                 ) -> None:
        if len(modules) == 0:
            raise ValueError("ParametrizationList: needs at least one parametrization "
                             "module; use register_parametrization(module, name, P)")
        super().__init__(modules)
        self.unsafe = unsafe
        with ad.no_grad():
            new = original
            for parametrization in reversed(list(self)):
                new = _right_inverse_or_identity(parametrization, new)
        if not isinstance(new, (Tensor, Sequence)):
            raise ValueError(f"register_parametrization: right_inverse must return a Tensor "
                             f"or a sequence of Tensors (list, tuple), got "
                             f"{type(new).__name__}")
        self.is_tensor = isinstance(new, Tensor)
        self.ntensors = 1 if self.is_tensor else len(new)
        if self.is_tensor:
            if new.dtype != original.dtype:
                raise ValueError(f"register_parametrization: a right_inverse that returns "
                                 f"one tensor may not change its dtype: the original is "
                                 f"{original.dtype}, right_inverse(original) is {new.dtype}")
            _set_in_place(original, new)
            _register_parameter_or_buffer(self, "original", original)
        else:
            for i, tensor in enumerate(new):
                if not isinstance(tensor, Tensor):
                    raise ValueError(f"register_parametrization: right_inverse must return "
                                     f"a sequence of Tensors, element {i} is a "
                                     f"{type(tensor).__name__}")
                if isinstance(original, Parameter):
                    tensor = Parameter(tensor, original.requires_grad)
                else:
                    tensor = tensor.detach().requires_grad_(original.requires_grad)
                _register_parameter_or_buffer(self, f"original{i}", tensor)
        if not self.unsafe:
            _check_same_kind("register_parametrization", self(), original,
                             "the unparametrized tensor", "the parametrized tensor")

    def originals(self) -> list[Tensor]:
        """The stored tensor(s) the first parametrization is applied to."""
        if self.is_tensor:
            return [self.original]
        return [getattr(self, f"original{i}") for i in range(self.ntensors)]

    def right_inverse(self, value: Tensor) -> None:
        """Store the originals that give `value`: Pᵢ.right_inverse applied from the last
        parametrization to the first, under no_grad; the result is written into the
        original tensor(s) in place. Every parametrization needs a right_inverse."""
        with ad.no_grad():
            for parametrization in reversed(list(self)):
                right_inverse = getattr(parametrization, "right_inverse", None)
                if right_inverse is None:
                    raise RuntimeError(f"parametrization {type(parametrization).__name__} "
                                       f"does not implement right_inverse, so the "
                                       f"parametrized tensor cannot be assigned; give it a "
                                       f"right_inverse(value) method, or write into the "
                                       f"original(s) in module.parametrizations instead")
                value = right_inverse(value)
            if self.is_tensor:
                if not isinstance(value, Tensor):
                    raise ValueError(f"right_inverse should return a Tensor, got "
                                     f"{type(value).__name__}")
                targets, values = [self.original], [value]
            else:
                if not isinstance(value, Sequence) or len(value) != self.ntensors:
                    got = (f"{len(value)} values" if isinstance(value, Sequence)
                           else type(value).__name__)
                    raise ValueError(f"right_inverse must return a sequence of "
                                     f"{self.ntensors} tensors (one per original), got "
                                     f"{got}")
                targets, values = self.originals(), list(value)
            for i, (target, tensor) in enumerate(zip(targets, values)):
                if not isinstance(tensor, Tensor) or tensor.dtype != target.dtype:
                    found = tensor.dtype if isinstance(tensor, Tensor) else type(tensor).__name__
                    raise ValueError(f"right_inverse returned {found} for original "
                                     f"{'' if self.is_tensor else i}, which is a "
                                     f"{target.dtype} tensor; return that dtype")
                _set_in_place(target, tensor)

    def forward(self) -> Tensor:
        """Pₙ(…P₂(P₁(*originals))): the parametrized tensor, recorded in the graph."""
        first, *rest = self._modules.values()
        x = first(*self.originals())
        for parametrization in rest:
            x = parametrization(x)
        return x


def _check_same_kind(caller: str, new: Any, old: Tensor, old_name: str, new_name: str
                     ) -> None:
    """Raise ValueError unless `new` is a tensor of `old`'s dtype and shape (what a safe
    parametrization keeps)."""
    if not isinstance(new, Tensor):
        raise ValueError(f"{caller}: a parametrization must return a Tensor, got "
                         f"{type(new).__name__}")
    for what, before, after in (("dtype", old.dtype, new.dtype), ("shape", old.shape, new.shape)):
        if before != after:
            raise ValueError(f"{caller}: {new_name} must keep the {what} of {old_name} "
                             f"(pass unsafe=True to allow a change): {old_name} has {what} "
                             f"{before}, {new_name} has {after}")


def _make_parametrized_class(module: Module) -> None:
    """Swap module's class for a subclass of its own, Parametrized<Class>, made for this
    one module, that will hold the properties of its parametrized tensors."""
    cls = type(module)
    doc = (f"{cls.__name__} with parametrized tensors (nn.utils.parametrize): a class made "
           f"for one module; remove_parametrizations restores {cls.__name__}.")
    module.__class__ = type(f"Parametrized{cls.__name__}", (cls,),
                            {"__doc__": doc, "__module__": cls.__module__,
                             "__deepcopy__": _deepcopy})


def _deepcopy(module: Module, memo: dict[int, Any]) -> Module:
    """copy.deepcopy of a parametrized module: its state copied, and a class of its own,
    holding the same properties (so removing a parametrization from the copy leaves the
    original's class alone)."""
    cls = type(module)
    replica = object.__new__(cls)
    memo[id(module)] = replica
    for name, value in module.__dict__.items():
        object.__setattr__(replica, name, copy.deepcopy(value, memo))
    replica.__class__ = type(cls.__name__, cls.__bases__, dict(vars(cls)))
    return replica


def _add_property(module: Module, name: str) -> None:
    """module.<name>: reading it runs module.parametrizations[name] (once per cached()
    block); assigning calls its right_inverse."""

    def get(self: Module) -> Tensor:
        parametrizations = self.parametrizations[name]
        if not _cache_depth:
            return parametrizations()
        key = (id(self), name)
        if key not in _cache:
            _cache[key] = parametrizations()
        return _cache[key]

    def set_(self: Module, value: Tensor) -> None:
        self.parametrizations[name].right_inverse(value)

    setattr(type(module), name, property(get, set_, doc=f"the parametrized {name}"))


def register_parametrization(module: Module, tensor_name: str, parametrization: Module,
                             *, unsafe: bool = False) -> Module:
    """Make `module.<tensor_name>` the value of `parametrization` applied to the stored
    original: X = P(original), computed on every read (see `cached`), so gradients reach
    the original. The first parametrization of a tensor stores original =
    P.right_inverse(X) (X itself when P has no right_inverse) under
    `module.parametrizations.<tensor_name>.original`; a second one is applied after the
    first, X = P₂(P₁(original)). Assigning `module.<tensor_name> = value` then stores
    the originals that give value (every P needs a right_inverse). `parametrization`
    takes the module's train/eval mode.

    Args:
        module: the module holding the parameter or buffer.
        tensor_name: its name, e.g. "weight".
        parametrization: a Module whose forward maps the original(s) to the tensor, with
            an optional right_inverse(X) mapping back.
        unsafe: allow P to change the tensor's shape or dtype (not checked then).

    Returns:
        module, whose class is now Parametrized<Class> (see the module docstring).

    >>> import autodiff as ad, nn
    >>> class Double(nn.Module):
    ...     def forward(self, X):
    ...         return 2 * X
    ...     def right_inverse(self, X):
    ...         return X / 2
    >>> layer = register_parametrization(nn.Linear(2, 1, bias=False), "weight", Double())
    >>> layer.weight = ad.tensor([[4.0, 6.0]])
    >>> layer.parametrizations.weight.original
    Parameter containing:
    tensor([[2., 3.]], requires_grad=True)
    """
    parametrization.train(module.training)
    if is_parametrized(module, tensor_name):
        if not unsafe:
            Y = getattr(module, tensor_name)
            X = parametrization(Y)
            _check_same_kind("register_parametrization", X, Y, f"module.{tensor_name}",
                             f"parametrization(module.{tensor_name})")
            Z = _right_inverse_or_identity(parametrization, X)
            if Z is not X:
                if not isinstance(Z, Tensor):
                    raise ValueError(f"register_parametrization: parametrization."
                                     f"right_inverse must return a Tensor, got "
                                     f"{type(Z).__name__}")
                _check_same_kind("register_parametrization", Z, Y, f"module.{tensor_name}",
                                 "parametrization.right_inverse(...)")
        parametrizations = module.parametrizations[tensor_name]
        parametrizations.append(parametrization)
        parametrizations.unsafe |= unsafe
    elif tensor_name in module._parameters or tensor_name in module._buffers:
        original = getattr(module, tensor_name)
        if original is None:
            raise ValueError(f"register_parametrization: {type(module).__name__}."
                             f"{tensor_name} is None; there is no tensor to parametrize")
        was_parameter = tensor_name in module._parameters
        parametrizations = ParametrizationList([parametrization], original, unsafe=unsafe)
        delattr(module, tensor_name)
        if not is_parametrized(module):
            _make_parametrized_class(module)
            module.parametrizations = ModuleDict()
        _add_property(module, tensor_name)
        module.parametrizations[tensor_name] = parametrizations
        if was_parameter:
            compute_on_read(module, tensor_name)
    else:
        raise ValueError(f"register_parametrization: {type(module).__name__} has no "
                         f"parameter, buffer or parametrized tensor named {tensor_name!r}; "
                         f"its parameters are {list(module._parameters)} and its buffers "
                         f"{list(module._buffers)}")
    return module


def is_parametrized(module: Module, tensor_name: str | None = None) -> bool:
    """Whether `module.<tensor_name>` is parametrized, or (tensor_name None) whether any
    of module's tensors is."""
    parametrizations = module._modules.get("parametrizations")
    if not isinstance(parametrizations, ModuleDict):
        return False
    if tensor_name is None:
        return len(parametrizations) > 0
    return tensor_name in parametrizations


def remove_parametrizations(module: Module, tensor_name: str, leave_parametrized: bool = True
                            ) -> Module:
    """Undo every parametrization of `module.<tensor_name>`: it becomes a parameter (or
    buffer) again, holding its current parametrized value P(original) when
    leave_parametrized (the original's object keeps it, so an optimizer holding it keeps
    working), or else the original itself (one original only). When the last
    parametrized tensor is removed the module gets its own class back.

    >>> import nn
    >>> layer = nn.utils.parametrizations.weight_norm(nn.Linear(2, 2))
    >>> type(remove_parametrizations(layer, "weight")).__name__, list(layer.state_dict())
    ('Linear', ['bias', 'weight'])
    """
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"remove_parametrizations: {type(module).__name__}.{tensor_name} "
                         f"is not parametrized; its parametrized tensors are "
                         f"{list(module._modules.get('parametrizations') or [])}")
    parametrizations = module.parametrizations[tensor_name]
    if parametrizations.is_tensor:
        original = parametrizations.original
        if leave_parametrized:
            with ad.no_grad():
                value = getattr(module, tensor_name)
            _set_in_place(original, value)
    elif leave_parametrized:
        value = getattr(module, tensor_name)
        original = Parameter(value.detach()) if value.requires_grad else value.detach()
    else:
        raise ValueError(f"remove_parametrizations: {type(module).__name__}.{tensor_name} "
                         f"is parametrized by {parametrizations.ntensors} tensors "
                         f"(original0, ...), so there is no single original to leave; "
                         f"use leave_parametrized=True")
    delattr(type(module), tensor_name)
    del module.parametrizations[tensor_name]
    stop_computing(module, tensor_name)
    _register_parameter_or_buffer(module, tensor_name, original)
    if not is_parametrized(module):
        delattr(module, "parametrizations")
        module.__class__ = type(module).__bases__[0]
    return module


def type_before_parametrizations(module: Module) -> type:
    """The class the module had before it was parametrized (its class, when it is not)."""
    if is_parametrized(module):
        return type(module).__bases__[0]
    return type(module)
