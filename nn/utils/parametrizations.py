"""Ready-made parametrizations (torch.nn.utils.parametrizations), registered with
`nn.utils.parametrize.register_parametrization`:

- `weight_norm` (Salimans & Kingma, 2016): w = g · v / ‖v‖, the magnitude g and the
  direction v learned apart; originals "parametrizations.weight.original0" (g) and
  "original1" (v).
- `spectral_norm` (Miyato et al., 2018): W / σ(W), σ the largest singular value, estimated
  by power iteration on the buffers `_u` and `_v` (one step per read in training mode,
  none in eval mode); original "parametrizations.weight.original".
- `orthogonal`: Q with orthonormal columns (or rows), the image of the original under
  the matrix exponential or the Cayley map of a skew-symmetric matrix, or a product of
  Householder reflections; with the buffer "parametrizations.weight.0.base" B (dynamic
  trivialization, the default) Q = B · map(original).

All are composed of existing ops (norm, matmul, division, inverse, indexing), so they
need no derivative of their own: backward differentiates through the formula to the
originals. The matrix exponential and the Householder product are written here as such
compositions (`matrix_exp`, `householder_product`), since autodiff has neither op.
"""
from __future__ import annotations

import math

import numpy as np

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


# ---------------------------------------------------------------- orthogonal

MATRIX_EXP_DEGREE = 18
"""Taylor terms of exp(X) for ‖X‖₁ ≤ 1: the rest, Σ_{k>18} 1/k! < 1e-17, is below
float64's rounding."""


def matrix_exp(A: Tensor) -> Tensor:
    """exp(A) = Σₖ Aᵏ/k! of a square matrix or of each of a batch (*, n, n), by scaling
    and squaring: exp(A) = exp(A/2ˢ)^(2ˢ), s chosen so that ‖A/2ˢ‖₁ ≤ 1, and exp(A/2ˢ) a
    Taylor polynomial of degree 18 in Horner form, I + X(I + X/2(I + X/3(… ))). Built of
    matmul, addition and division, so gradients flow through it (s is a constant)."""
    n = A.shape[-1]
    norm = float(np.abs(A.numpy()).sum(axis=-2).max(initial=0.0))     # ‖A‖₁ (the largest)
    s = max(0, math.ceil(math.log2(norm))) if norm > 0 else 0
    X = A / 2 ** s
    identity = ad.eye(n, dtype=A.dtype)
    P = identity
    for k in range(MATRIX_EXP_DEGREE, 0, -1):
        P = identity + (X @ P) / k                       # Horner: I + X/k · (…)
    for _ in range(s):
        P = P @ P                                        # exp(X)^(2ˢ) = exp(A)
    return P


def householder_product(V: Tensor, tau: Tensor) -> Tensor:
    """Q = H₁H₂⋯H_k, its first k columns (n, k), with Hᵢ = I − τᵢ vᵢvᵢᵀ and vᵢ the i-th
    column of V (*, n, k) below the diagonal, a 1 on it and zeros above (torch's
    linalg.householder_product for such V; entries on and above V's diagonal are
    ignored). τ is (*, k). Applied from the right, H₁(H₂(⋯(H_k I))), by matmuls, so
    gradients flow to V and τ."""
    n, k = V.shape[-2:]
    vectors = V.tril(-1) + ad.eye(n, k, dtype=V.dtype)
    Q = ad.eye(n, k, dtype=V.dtype).expand(*V.shape[:-2], n, k)
    for i in reversed(range(k)):
        v = vectors[..., :, i:i + 1]                                  # (*, n, 1)
        Q = Q - tau[..., i, None, None] * (v @ (v.mT @ Q))            # Hᵢ Q
    return Q


def _is_orthogonal(Q: np.ndarray) -> bool:
    """QᵀQ = I for every (n, k) matrix of Q (n ≥ k), to torch's tolerance: atol 10·n·eps,
    rtol 1e-5."""
    n, k = Q.shape[-2:]
    eps = 10.0 * n * np.finfo(Q.dtype).eps
    return bool(np.allclose(Q.mT @ Q, np.eye(k, dtype=Q.dtype), rtol=1e-5, atol=eps))


def _make_orthogonal(A: np.ndarray) -> np.ndarray:
    """The Q of A = QR (A tall, (*, n, k)), its columns' signs chosen so that diag(R) ≥ 0
    (so the Q of a full-rank A is unique)."""
    Q, R = np.linalg.qr(A)
    return Q * np.sign(np.diagonal(R, axis1=-2, axis2=-1))[..., None, :]


ORTHOGONAL_MAPS = ("matrix_exp", "cayley", "householder")


class _Orthogonal(Module):
    """Q(X) with orthonormal columns for an (*, n, k) X, n ≥ k (X is transposed first,
    and Q after, when n < k):

        matrix_exp:  Q = exp(A)[:, :k]                 A = L − Lᵀ, L the lower triangle of
        cayley:      Q = ((I − A/2)⁻¹(I + A/2))[:, :k]  X padded with zeros to (n, n)
        householder: Q = H₁⋯H_k · diag(trunc(Xᵢᵢ))     vᵢ from X below the diagonal,
                                                       τᵢ = 2/‖vᵢ‖² (Hᵢ a reflection)

    With use_trivialization, Q ← B Q for the buffer `base` B (n, n), set by right_inverse
    to the orthogonal matrix asked for, while the original becomes −I (whose Q is I);
    the original then moves in the tangent space at B."""

    def __init__(self, weight: Tensor, orthogonal_map: str, *,
                 use_trivialization: bool = True) -> None:
        super().__init__()
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        self.use_trivialization = use_trivialization
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X: Tensor) -> Tensor:
        n, k = X.shape[-2:]
        transposed = n < k
        if transposed:
            X = X.mT
            n, k = k, n
        if self.orthogonal_map in ("matrix_exp", "cayley"):
            L = X.tril()
            if n != k:                                   # pad to a square (*, n, n)
                L = ad.cat([L, ad.zeros(*L.shape[:-2], n, n - k, dtype=L.dtype)], dim=-1)
            A = L - L.mT                                 # skew-symmetric: Aᵀ = −A
            if self.orthogonal_map == "matrix_exp":
                Q = matrix_exp(A)                        # Q = exp(A)
            else:
                identity = ad.eye(n, dtype=A.dtype)
                Q = ad.inverse(identity - A / 2) @ (identity + A / 2)   # Cayley map
            Q = Q[..., :k]
        else:
            V = X.tril(-1)
            tau = 2.0 / (1.0 + (V * V).sum(dim=-2))      # τᵢ = 2/‖vᵢ‖², vᵢ = eᵢ + V[:, i]
            signs = ad.trunc(X.detach().diagonal(dim1=-2, dim2=-1))      # ±1, not learned
            Q = householder_product(V, tau) * signs.unsqueeze(-2)
        if self.use_trivialization:
            Q = self.base @ Q                            # Q ← B Q
        return Q.mT if transposed else Q

    def right_inverse(self, Q: Tensor) -> Tensor:
        """An original whose forward gives Q: with use_trivialization, B ← Q (made
        orthogonal by QR when it is not; a non-square Q completed to (n, n) with random
        columns) and the original −I; without it (householder only), the reflectors of
        Q = QR, their diagonal the signs that make diag(R) ≥ 0."""
        if Q.shape != self.shape:
            raise ValueError(f"orthogonal: expected a matrix or batch of matrices of shape "
                             f"{self.shape}, got shape {Q.shape}")
        array = Q.numpy()
        n, k = array.shape[-2:]
        transposed = n < k
        if transposed:
            array = array.mT
            n, k = k, n
        if not self.use_trivialization:
            if self.orthogonal_map != "householder":
                raise NotImplementedError(
                    f"orthogonal: cannot assign to a weight parametrized by the "
                    f"{self.orthogonal_map} map with use_trivialization=False (its inverse "
                    f"map is not known); register it with use_trivialization=True or "
                    f"orthogonal_map='householder'")
            reflectors, tau = np.linalg.qr(array, mode="raw")    # LAPACK geqrf, transposed
            reflectors = reflectors.mT.copy()
            diagonal = np.sign(np.diagonal(reflectors, axis1=-2, axis2=-1))
            diagonal = np.where(tau == 0.0, -diagonal, diagonal)  # no reflection was taken
            reflectors[..., range(k), range(k)] = diagonal
            return ad.tensor(reflectors.mT if transposed else reflectors, dtype=Q.dtype)
        if n == k:
            base = array.copy() if _is_orthogonal(array) else _make_orthogonal(array)
        else:
            rest = ad.randn(*array.shape[:-2], n, n - k, dtype=Q.dtype).numpy()
            base = _make_orthogonal(np.concatenate([array, rest], axis=-1))
        self.base = ad.tensor(base, dtype=Q.dtype)
        minus_identity = np.zeros(self.shape, dtype=array.dtype)
        minus_identity[..., range(min(n, k)), range(min(n, k))] = -1.0
        return ad.tensor(minus_identity)


def orthogonal(module: Module, name: str = "weight", orthogonal_map: str | None = None, *,
               use_trivialization: bool = True) -> Module:
    """Make `module.<name>` an orthogonal matrix (or batch of them, (*, m, n)):

        QᵀQ = Iₙ if m ≥ n,   QQᵀ = Iₘ if m < n

    (orthonormal columns, or rows), Q computed from the original by `orthogonal_map`:
    "matrix_exp" (Q = exp(A)) or "cayley" (Q = (I − A/2)⁻¹(I + A/2)) of a skew-symmetric
    A made from the original's lower triangle, or "householder" (a product of
    reflections). Default: "matrix_exp" for a square matrix, "householder" otherwise.

    With use_trivialization (the default; Lezcano-Casado, 2019, "Trivializations for
    gradient-based optimization on manifolds") Q = B · map(original), B the buffer
    `parametrizations.<name>.0.base`. The starting Q is the tensor itself when it is
    orthogonal, and the Q of its QR decomposition (diag(R) ≥ 0) otherwise; a non-square
    one is completed with random columns first, so `base` holds random numbers beyond
    Q's (drawn from autodiff's generator), Q itself not. Without trivialization only
    "householder" can start from (or be assigned) a given matrix.

    >>> import autodiff as ad, nn
    >>> layer = orthogonal(nn.Linear(3, 5))
    >>> Q = layer.weight                    # (5, 3): orthonormal columns
    >>> bool(ad.allclose(Q.T @ Q, ad.eye(3), atol=1e-6))
    True
    >>> list(layer.state_dict())
    ['bias', 'parametrizations.weight.original', 'parametrizations.weight.0.base']
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"orthogonal: {type(module).__name__} has no parameter or buffer "
                         f"named {name!r}")
    if weight.ndim < 2:
        raise ValueError(f"orthogonal: expected a matrix or a batch of matrices, got "
                         f"{name!r} of shape {weight.shape} ({weight.ndim} dimensions)")
    if orthogonal_map is None:
        orthogonal_map = "matrix_exp" if weight.shape[-2] == weight.shape[-1] \
            else "householder"
    if orthogonal_map not in ORTHOGONAL_MAPS:
        raise ValueError(f"orthogonal: orthogonal_map must be one of \"matrix_exp\", "
                         f"\"cayley\", \"householder\", got {orthogonal_map!r}")
    parametrization = _Orthogonal(weight, orthogonal_map,
                                  use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, parametrization, unsafe=True)
    return module
