"""BatchNorm1d: normalise each feature over the batch, with learned scale and shift."""
from __future__ import annotations

from typing import Any

import numpy as np

import autodiff as ad
from autodiff.errors import ShapeError
from autodiff.tensor import Tensor

from . import functional as F
from . import init
from .module import Module, Parameter, builtin_layer, check_size


@builtin_layer
class BatchNorm1d(Module):
    """y = (x - E[x]) / √(Var[x] + eps) · γ + β, per feature (Ioffe & Szegedy, 2015).

    In training, E[x] and Var[x] are the batch's (the variance biased, dividing by n) and
    the running estimates are updated: running = (1 - momentum) · running + momentum ·
    batch statistic, with the unbiased variance (dividing by n - 1); momentum=None
    gives a cumulative average (momentum = 1 / num_batches_tracked). In eval mode the
    running estimates are used and left unchanged. With track_running_stats=False there
    are none, and batch statistics are used in both modes.

    Args:
        num_features: C, the number of features (channels).
        eps: added to the variance for stability (default 1e-5).
        momentum: weight of the newest batch in the running estimates (default 0.1).
        affine: learn γ (weight, initialised to 1) and β (bias, initialised to 0).
        track_running_stats: keep running_mean (0), running_var (1) and
            num_batches_tracked (int64 0) as buffers.

    Shape:
        input (N, C) or (N, C, L); statistics are taken over N (and L). Output: same.

    Example:
    >>> import autodiff as ad, nn
    >>> bn = nn.BatchNorm1d(2)
    >>> y = bn(ad.tensor([[1.0, 10.0], [3.0, 30.0]]))
    >>> y.data.round(4)
    array([[-1., -1.],
           [ 1.,  1.]], dtype=float32)
    >>> bn.running_mean, bn.running_var
    (tensor([0.2, 2. ]), tensor([ 1.1, 20.9]))
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True) -> None:
        super().__init__()
        check_size("BatchNorm1d", "num_features", num_features)
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        self.register_parameter("weight", Parameter(ad.ones(num_features)) if affine else None)
        self.register_parameter("bias", Parameter(ad.zeros(num_features)) if affine else None)
        if track_running_stats:
            self.register_buffer("running_mean", ad.zeros(num_features))
            self.register_buffer("running_var", ad.ones(num_features))
            self.register_buffer("num_batches_tracked", ad.tensor(0, dtype=np.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            init.zeros_(self.num_batches_tracked)

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim not in (2, 3) or input.shape[1] != self.num_features:
            raise ShapeError(f"BatchNorm1d({self.num_features}): expected input of shape "
                             f"(N, {self.num_features}) or (N, {self.num_features}, L), "
                             f"got {input.shape}")
        update = self.training and self.track_running_stats
        if update:
            self.num_batches_tracked.data[...] += 1
        momentum = self.momentum
        if momentum is None:        # cumulative average; only read when updating
            momentum = 1.0 / int(self.num_batches_tracked.item()) if update else 0.0
        return F.batch_norm(input, self.running_mean, self.running_var, self.weight,
                            self.bias, training=self.training or self.running_mean is None,
                            momentum=momentum, eps=self.eps)

    def hyperparameters(self) -> dict[str, Any]:
        return {"num_features": self.num_features, "eps": self.eps,
                "momentum": self.momentum, "affine": self.affine,
                "track_running_stats": self.track_running_stats}

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")

    def _scope_label(self) -> str:
        return f"BatchNorm1d({self.num_features})"
