"""The older weight normalization (torch.nn.utils.weight_norm): a forward pre-hook that
recomputes `module.weight` from the parameters `weight_g` (magnitude) and `weight_v`
(direction) before every call,

    weight = weight_g · weight_v / ‖weight_v‖

deprecated in torch, as here, in favour of `nn.utils.parametrizations.weight_norm`, which
computes the weight on every read instead. Between calls `module.weight` is the plain
tensor the hook last computed (an attribute, not a parameter), so a model using it runs
eagerly inside `ad.compile` (hooks are Python code a replay would skip).
"""
from __future__ import annotations

import warnings
from typing import Any

from autodiff.tensor import Tensor

from ..module import Module, Parameter
from .parametrizations import norm_except_dim
from .parametrize import compute_on_read, stop_computing


class WeightNorm:
    """The hook: `name` is the parameter it computes, `dim` the dim the norm leaves
    out (-1: the norm of the whole tensor)."""

    name: str
    dim: int

    def __init__(self, name: str, dim: int | None) -> None:
        self.name = name
        self.dim = -1 if dim is None else dim

    def compute_weight(self, module: Module) -> Tensor:
        """g · v / ‖v‖ from the module's `<name>_g` and `<name>_v`, recorded in the graph."""
        g = getattr(module, self.name + "_g")
        v = getattr(module, self.name + "_v")
        return v * (g / norm_except_dim(v, self.dim))

    @staticmethod
    def apply(module: Module, name: str, dim: int | None) -> WeightNorm:
        """Replace parameter `name` by `<name>_g` = ‖w‖ and `<name>_v` = w, set
        `module.<name>` to the weight they give, and register the hook."""
        warnings.warn("nn.utils.weight_norm is deprecated in favor of "
                      "nn.utils.parametrizations.weight_norm", FutureWarning, stacklevel=3)
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, WeightNorm) and hook.name == name:
                raise RuntimeError(f"weight_norm: {type(module).__name__}.{name} already has "
                                   f"a weight_norm hook; it cannot get two")
        weight = module._parameters.get(name)
        if weight is None:
            raise ValueError(f"weight_norm: {type(module).__name__} has no parameter named "
                             f"{name!r}; its parameters are {list(module._parameters)}")
        fn = WeightNorm(name, dim)
        delattr(module, name)
        module.register_parameter(name + "_g",
                                  Parameter(norm_except_dim(weight.detach(), fn.dim)))
        module.register_parameter(name + "_v", Parameter(weight.detach()))
        setattr(module, name, fn.compute_weight(module))
        compute_on_read(module, name)
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module: Module) -> None:
        """Make `name` a parameter again, holding the current g · v / ‖v‖."""
        weight = self.compute_weight(module)
        delattr(module, self.name)
        delattr(module, self.name + "_g")
        delattr(module, self.name + "_v")
        stop_computing(module, self.name)
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module: Module, inputs: Any) -> None:
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Weight normalization by a forward pre-hook (deprecated: FutureWarning; use
    nn.utils.parametrizations.weight_norm):

        weight = weight_g · weight_v / ‖weight_v‖

    the norm over every dim but `dim` (over the whole tensor for dim=None), so weight_g
    has shape (n, 1, ...) for dim 0. Starts at weight_g = ‖w‖, weight_v = w.

    >>> import nn, warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", FutureWarning)
    ...     layer = weight_norm(nn.Linear(20, 40))
    >>> layer.weight_g.shape, layer.weight_v.shape
    ((40, 1), (40, 20))
    """
    WeightNorm.apply(module, name, dim)
    return module


def remove_weight_norm(module: Module, name: str = "weight") -> Module:
    """Remove the weight_norm hook of `name`: it becomes a parameter again, holding the
    weight g · v / ‖v‖ computes now."""
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, WeightNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"remove_weight_norm: {type(module).__name__} has no weight_norm of "
                     f"{name!r}")
