"""Ready-made parametrizations (torch.nn.utils.parametrizations), registered with
`nn.utils.parametrize.register_parametrization`:

- `weight_norm` (Salimans & Kingma, 2016): w = g · v / ‖v‖, the magnitude g and the
  direction v learned apart; originals "parametrizations.weight.original0" (g) and
  "original1" (v).
- `spectral_norm` (Miyato et al., 2018): W / σ(W), σ the largest singular value, estimated
  by power iteration on the buffers `_u` and `_v` (one step per read in training mode,
  none in eval mode); original "parametrizations.weight.original".

Both are composed of existing ops (norm, matmul, division), so they need no derivative of
their own: backward differentiates through the formula to the originals.
"""
from __future__ import annotations

import autodiff as ad
from autodiff.tensor import Tensor

from .. import functional as F
from ..conv import _ConvTransposeNd
from ..module import Module
from . import parametrize


def norm_except_dim(v: Tensor, dim: int) -> Tensor:
    """‖v‖₂ over every dim but `dim`, kept as size-1 dims (shape (n, 1, 1) for a (n, k, m)
    v and dim 0); dim -1 means over every element (a 0-d tensor), as torch's
    norm_except_dim (so dim=-1 is not the last dim here); other negative dims count from
    the end."""
    if dim == -1:
        return v.norm()
    dim = dim % v.ndim
    others = tuple(d for d in range(v.ndim) if d != dim)
    return v.norm(2, others, keepdim=True)


class _WeightNorm(Module):
    """w = g · v / ‖v‖, the norm taken over every dim but `dim` (over all of v when dim
    is None): forward(g, v) gives w, right_inverse(w) gives (‖w‖, w)."""

    def __init__(self, dim: int | None = 0) -> None:
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        return weight_v * (weight_g / norm_except_dim(weight_v, self.dim))

    def right_inverse(self, weight: Tensor) -> tuple[Tensor, Tensor]:
        return norm_except_dim(weight, self.dim), weight


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Weight normalization (Salimans & Kingma, 2016, https://arxiv.org/abs/1602.07868):

        w = g · v / ‖v‖

    The parameter `name` is replaced by the magnitude g (original0, of shape (n, 1, ...)
    for dim 0: one per output) and the direction v (original1, w's shape), starting at
    g = ‖w‖, v = w, so w is unchanged. The norm is over every dim but `dim`, over all of
    v for dim=None. Give the optimizer the new parameters (module.parameters()).

    >>> import nn
    >>> layer = weight_norm(nn.Linear(20, 40))
    >>> layer.parametrizations.weight.original0.shape, layer.parametrizations.weight.original1.shape
    ((40, 1), (40, 20))
    """
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    return module


class _SpectralNorm(Module):
    """W / σ(W), σ the largest singular value of W (seen as a matrix: dim `dim` first,
    the rest flattened), estimated by power iteration on the unit vectors u and v (the
    buffers `_u`, `_v`), which converge to the first left and right singular vectors:

        u ← W v / ‖W v‖,   v ← Wᵀ u / ‖Wᵀ u‖     (n_power_iterations times per read, in
                                                  training mode only; no_grad, in place)
        σ = uᵀ W v

    σ is differentiated through W but not through u and v. A 1-D W is simply divided by
    its norm. Built with 15 iterations from random unit vectors."""

    def __init__(self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0,
                 eps: float = 1e-12) -> None:
        super().__init__()
        ndim = weight.ndim
        if not -ndim <= dim < ndim:
            raise IndexError(f"spectral_norm: dim {dim} is out of range for a weight of "
                             f"shape {weight.shape} (expected one in [-{ndim}, {ndim - 1}])")
        if n_power_iterations <= 0:
            raise ValueError(f"spectral_norm: n_power_iterations must be positive, got "
                             f"{n_power_iterations}")
        self.dim = dim % ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            with ad.no_grad():
                weight_mat = self._reshape_weight_to_matrix(weight.detach())
                h, w = weight_mat.shape
                u = F.normalize(ad.randn(h, dtype=weight.dtype), dim=0, eps=eps)
                v = F.normalize(ad.randn(w, dtype=weight.dtype), dim=0, eps=eps)
            self.register_buffer("_u", u)
            self.register_buffer("_v", v)
            self._power_method(weight_mat, 15)

    def _reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        """W as a matrix: dim `dim` moved first, the other dims flattened."""
        if self.dim != 0:
            weight = weight.permute(self.dim, *(d for d in range(weight.ndim) if d != self.dim))
        return weight.flatten(1)

    def _power_method(self, weight_mat: Tensor, n_power_iterations: int) -> None:
        """n steps of u ← normalize(W v), v ← normalize(Wᵀ u), written into the buffers."""
        with ad.no_grad():
            for _ in range(n_power_iterations):
                self._u.copy_(F.normalize(weight_mat @ self._v, dim=0, eps=self.eps))
                self._v.copy_(F.normalize(weight_mat.T @ self._u, dim=0, eps=self.eps))

    def forward(self, weight: Tensor) -> Tensor:
        if weight.ndim == 1:
            return F.normalize(weight, dim=0, eps=self.eps)
        weight_mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(weight_mat, self.n_power_iterations)
        u, v = self._u.clone(), self._v.clone()    # copies: the next read updates the buffers
        sigma = ad.dot(u, weight_mat @ v)
        return weight / sigma

    def right_inverse(self, value: Tensor) -> Tensor:
        return value


def conv_transpose_dim(module: Module, dim: int | None) -> int:
    """spectral_norm's default output dim: 1 for ConvTranspose (its weight is (in, out,
    ...)), 0 for any other layer; a given dim as it is."""
    if dim is not None:
        return dim
    return 1 if isinstance(module, _ConvTransposeNd) else 0


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None) -> Module:
    """Spectral normalization (Miyato et al., 2018, https://arxiv.org/abs/1802.05957):

        W_SN = W / σ(W),   σ(W) = max_{h ≠ 0} ‖W h‖₂ / ‖h‖₂

    σ is estimated by power iteration (see `_SpectralNorm`): the buffers
    `parametrizations.<name>.0._u` and `._v` take `n_power_iterations` steps on every
    read of `module.<name>` in training mode, none in eval mode. A weight of more than 2
    dims is seen as a matrix with dim `dim` first (default 0, 1 for ConvTranspose). It
    keeps discriminators of GANs 1-Lipschitz per layer.

    >>> import nn
    >>> layer = spectral_norm(nn.Linear(20, 40))
    >>> for key in layer.state_dict():
    ...     print(key)
    bias
    parametrizations.weight.original
    parametrizations.weight.0._u
    parametrizations.weight.0._v
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"spectral_norm: {type(module).__name__} has no parameter or buffer "
                         f"named {name!r}")
    parametrization = _SpectralNorm(weight, n_power_iterations, conv_transpose_dim(module, dim),
                                    eps)
    parametrize.register_parametrization(module, name, parametrization)
    return module
