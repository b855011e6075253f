"""ModuleDict, ParameterList and ParameterDict: containers whose contents belong to the
module holding them (a plain dict or list would hide them from parameters() and
state_dict()). Their keys are the names in the state dict, as in torch: "blocks.encoder.
weight" for a ModuleDict entry, "scales.0" for a ParameterList entry. Sequential and
ModuleList are in nn/module.py."""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from autodiff.tensor import Tensor

from .module import Module, Parameter, builtin_layer


@builtin_layer
class ModuleDict(Module):
    """Modules by name, in insertion order; each is a submodule of the owner. It has no
    forward: pick modules by name in your module's forward.

    Args:
        modules: a mapping, or an iterable of (name, module) pairs.

    >>> import nn
    >>> heads = nn.ModuleDict({"class": nn.Linear(8, 10), "box": nn.Linear(8, 4)})
    >>> list(heads), heads["box"]
    (['class', 'box'], Linear(in_features=8, out_features=4, bias=True))
    >>> list(heads.state_dict())
    ['class.weight', 'class.bias', 'box.weight', 'box.bias']
    """

    SETTINGS = ()
    HOLDS_LAYERS = True

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]
                 | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def keys(self) -> Iterable[str]:
        return self._modules.keys()

    def items(self) -> Iterable[tuple[str, Module]]:
        return self._modules.items()

    def values(self) -> Iterable[Module]:
        return self._modules.values()

    def pop(self, key: str) -> Module:
        """Remove the module named `key` and return it."""
        return self._modules.pop(key)

    def clear(self) -> None:
        self._modules.clear()

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        """Add (or replace) modules from a mapping or (name, module) pairs, in order."""
        pairs = modules.items() if isinstance(modules, Mapping) else modules
        for key, module in pairs:
            self[key] = module

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("ModuleDict has no forward: call its modules by name in "
                                  "your module's forward (x = self.heads['class'](x))")


def _as_parameter(container: str, value: Any) -> Parameter:
    """A Parameter as is; another tensor becomes a Parameter (a copy), as torch wraps it."""
    if isinstance(value, Parameter):
        return value
    if isinstance(value, Tensor):
        return Parameter(value)
    raise TypeError(f"{container}: holds tensors, got {type(value).__name__}; "
                    f"wrap the values as nn.Parameter(ad.tensor(...))")


def _describe(key: Any, param: Parameter) -> str:
    """One line of the repr, as torch prints it: "(key): Parameter containing: [dtype of
    size 3x4]"."""
    size = "x".join(str(n) for n in param.shape)
    return f"  ({key}): Parameter containing: [{param.dtype} of size {size}]"


class ParameterList(Module):
    """A list of parameters that belong to the owner, named "0", "1", … in the state dict.
    Tensors that are not Parameters are made Parameters (copied).

    Args:
        values: the parameters, in order.

    >>> import autodiff as ad, nn
    >>> scales = nn.ParameterList([nn.Parameter(ad.ones(3)) for _ in range(2)])
    >>> len(scales), list(scales.state_dict())
    (2, ['0', '1'])
    >>> scales
    ParameterList(
        (0): Parameter containing: [float32 of size 3]
        (1): Parameter containing: [float32 of size 3]
    )
    """

    def __init__(self, values: Iterable[Tensor] | None = None) -> None:
        super().__init__()
        if values is not None:
            self.extend(values)

    def __getitem__(self, index: int | slice) -> Parameter | ParameterList:
        values = list(self._parameters.values())
        if isinstance(index, slice):
            return ParameterList(values[index])
        if not -len(values) <= index < len(values):
            raise IndexError(f"ParameterList: index {index} is out of range for "
                             f"{len(values)} parameters")
        return values[index]

    def __setitem__(self, index: int, value: Tensor) -> None:
        if not -len(self) <= index < len(self):
            raise IndexError(f"ParameterList: index {index} is out of range for {len(self)} "
                             f"parameters; use append to add one")
        self.register_parameter(str(index % len(self)), _as_parameter("ParameterList", value))

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[Parameter]:
        return iter(self._parameters.values())

    def append(self, value: Tensor) -> ParameterList:
        self.register_parameter(str(len(self)), _as_parameter("ParameterList", value))
        return self

    def extend(self, values: Iterable[Tensor]) -> ParameterList:
        for value in values:
            self.append(value)
        return self

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("ParameterList has no forward: use its parameters in your "
                                  "module's forward (for w in self.weights: ...)")

    def extra_repr(self) -> str:
        return "\n".join(_describe(i, p) for i, p in enumerate(self))


class ParameterDict(Module):
    """Parameters by name, in insertion order, that belong to the owner; the names are the
    state dict's keys. Tensors that are not Parameters are made Parameters (copied).

    Args:
        parameters: a mapping, or an iterable of (name, tensor) pairs.

    >>> import autodiff as ad, nn
    >>> offsets = nn.ParameterDict({"x": nn.Parameter(ad.zeros(2)), "y": ad.zeros(1)})
    >>> list(offsets), type(offsets["y"]).__name__
    (['x', 'y'], 'Parameter')
    """

    def __init__(self, parameters: Mapping[str, Tensor] | Iterable[tuple[str, Tensor]]
                 | None = None) -> None:
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key: str) -> Parameter:
        return self._parameters[key]

    def __setitem__(self, key: str, value: Tensor) -> None:
        self.register_parameter(key, _as_parameter("ParameterDict", value))

    def __delitem__(self, key: str) -> None:
        del self._parameters[key]

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[str]:
        return iter(self._parameters)

    def __contains__(self, key: object) -> bool:
        return key in self._parameters

    def keys(self) -> Iterable[str]:
        return self._parameters.keys()

    def items(self) -> Iterable[tuple[str, Parameter]]:
        return self._parameters.items()

    def values(self) -> Iterable[Parameter]:
        return self._parameters.values()

    def pop(self, key: str) -> Parameter:
        """Remove the parameter named `key` and return it."""
        return self._parameters.pop(key)

    def update(self, parameters: Mapping[str, Tensor] | Iterable[tuple[str, Tensor]]) -> None:
        """Add (or replace) parameters from a mapping or (name, tensor) pairs, in order."""
        pairs = parameters.items() if isinstance(parameters, Mapping) else parameters
        for key, value in pairs:
            self[key] = value

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("ParameterDict has no forward: use its parameters by name "
                                  "in your module's forward (self.offsets['x'])")

    def extra_repr(self) -> str:
        return "\n".join(_describe(key, p) for key, p in self.items())
