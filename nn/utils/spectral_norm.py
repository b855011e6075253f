"""The older spectral normalization (torch.nn.utils.spectral_norm): a forward pre-hook
that recomputes `module.weight` from the parameter `weight_orig` before every call,

    weight = weight_orig / σ,   σ = uᵀ W v

W being weight_orig as a matrix and u, v the buffers `weight_u`, `weight_v`, which take
power-iteration steps in training mode (see `SpectralNorm.compute_weight`). torch keeps
it beside the newer `nn.utils.parametrizations.spectral_norm`; note the two orders of
the power iteration differ (v first here, u first there), as in torch. Between calls
`module.weight` is the plain tensor the hook last computed, and a model using it runs
eagerly inside `ad.compile` (hooks are Python code a replay would skip).
"""
from __future__ import annotations

from typing import Any

import autodiff as ad
from autodiff.tensor import Tensor

from .. import functional as F
from ..module import Module, Parameter
from .parametrizations import conv_transpose_dim
from .parametrize import compute_on_read, stop_computing


class SpectralNorm:
    """The hook: the parameter `name`, the power-iteration settings, and `dim`, the dim
    that becomes the rows of W."""

    name: str
    dim: int
    n_power_iterations: int
    eps: float

    def __init__(self, name: str = "weight", n_power_iterations: int = 1, dim: int = 0,
                 eps: float = 1e-12) -> None:
        if n_power_iterations <= 0:
            raise ValueError(f"spectral_norm: n_power_iterations must be positive, got "
                             f"{n_power_iterations}")
        self.name = name
        self.dim = dim
        self.n_power_iterations = n_power_iterations
        self.eps = eps

    def reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        """W: dim `dim` moved first, the other dims flattened."""
        if self.dim != 0:
            weight = weight.permute(self.dim, *(d for d in range(weight.ndim) if d != self.dim))
        return weight.reshape(weight.shape[0], -1)

    def compute_weight(self, module: Module, do_power_iteration: bool) -> Tensor:
        """weight_orig / (uᵀ W v), after, when do_power_iteration, n steps of

            v ← Wᵀ u / ‖Wᵀ u‖,   u ← W v / ‖W v‖       (no_grad, into the buffers)

        σ is differentiated through W, not through u and v (copies of the buffers after
        the steps, so the next call's steps leave this graph's saved values alone)."""
        weight = getattr(module, self.name + "_orig")
        u = getattr(module, self.name + "_u")
        v = getattr(module, self.name + "_v")
        weight_mat = self.reshape_weight_to_matrix(weight)
        if do_power_iteration:
            with ad.no_grad():
                for _ in range(self.n_power_iterations):
                    v.copy_(F.normalize(weight_mat.T @ u, dim=0, eps=self.eps))
                    u.copy_(F.normalize(weight_mat @ v, dim=0, eps=self.eps))
                u, v = u.clone(), v.clone()
        sigma = ad.dot(u, weight_mat @ v)
        return weight / sigma

    @staticmethod
    def apply(module: Module, name: str, n_power_iterations: int, dim: int, eps: float
              ) -> SpectralNorm:
        """Move parameter `name` to `<name>_orig`, add the buffers `<name>_u`, `<name>_v`
        (random unit vectors), set `module.<name>` to a detached copy of the weight, and
        register the hook."""
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, SpectralNorm) and hook.name == name:
                raise RuntimeError(f"spectral_norm: {type(module).__name__}.{name} already "
                                   f"has a spectral_norm hook; it cannot get two")
        fn = SpectralNorm(name, n_power_iterations, dim, eps)
        weight = module._parameters.get(name)
        if weight is None:
            raise ValueError(f"spectral_norm: {type(module).__name__} has no parameter named "
                             f"{name!r}; its parameters are {list(module._parameters)}")
        with ad.no_grad():
            h, w = fn.reshape_weight_to_matrix(weight).shape
            u = F.normalize(ad.randn(h, dtype=weight.dtype), dim=0, eps=fn.eps)
            v = F.normalize(ad.randn(w, dtype=weight.dtype), dim=0, eps=fn.eps)
        delattr(module, name)
        module.register_parameter(name + "_orig", weight)
        setattr(module, name, weight.detach())
        compute_on_read(module, name)
        module.register_buffer(name + "_u", u)
        module.register_buffer(name + "_v", v)
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module: Module) -> None:
        """Make `name` a parameter again, holding weight_orig / σ with the current u, v."""
        with ad.no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        for suffix in ("", "_u", "_v", "_orig"):
            delattr(module, self.name + suffix)
        stop_computing(module, self.name)
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module: Module, inputs: Any) -> None:
        setattr(module, self.name,
                self.compute_weight(module, do_power_iteration=module.training))


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None) -> Module:
    """Spectral normalization by a forward pre-hook (Miyato et al., 2018):

        weight = weight_orig / σ(weight_orig),   σ(W) = max_{h ≠ 0} ‖W h‖₂ / ‖h‖₂

    σ estimated by `n_power_iterations` power-iteration steps per call in training mode
    (none in eval mode) on the buffers weight_u, weight_v; dim (default 0, 1 for
    ConvTranspose) is the dim that becomes W's rows.

    >>> import nn
    >>> layer = spectral_norm(nn.Linear(20, 40))
    >>> list(layer.state_dict())
    ['bias', 'weight_orig', 'weight_u', 'weight_v']
    """
    SpectralNorm.apply(module, name, n_power_iterations, conv_transpose_dim(module, dim), eps)
    return module


def remove_spectral_norm(module: Module, name: str = "weight") -> Module:
    """Remove the spectral_norm hook of `name`: it becomes a parameter again, holding
    weight_orig / σ with the current u and v (no further power iteration)."""
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, SpectralNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"remove_spectral_norm: {type(module).__name__} has no spectral_norm of "
                     f"{name!r}")
