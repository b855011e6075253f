"""BatchNorm1d, BatchNorm2d and BatchNorm3d: normalise each channel over the batch (and
over its positions), with a learned scale and shift. All are `_BatchNorm`; they differ
only in the input shapes they accept. LazyBatchNorm1d/2d/3d read num_features from the
first input (`_LazyNormMixin`, which the lazy InstanceNorms share)."""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

import autodiff as ad
from autodiff import events
from autodiff.errors import ShapeError
from autodiff.tensor import Tensor

from . import functional as F
from . import init
from .lazy import LazyModuleMixin, UninitializedBuffer, UninitializedParameter
from .module import Module, Parameter, bare, builtin_layer, check_size


class _BatchNorm(Module):
    """y = (x - E[x]) / √(Var[x] + eps) · γ + β per channel (dim 1), the statistics taken
    over every other dim: the batch and, for sequences or images, the positions.

    In training, E[x] and Var[x] are the batch's (the variance biased, dividing by n) and
    the running estimates are updated: running = (1 - momentum) · running + momentum ·
    batch statistic, with the unbiased variance (dividing by n - 1); momentum=None
    gives a cumulative average (momentum = 1 / num_batches_tracked). In eval mode the
    running estimates are used and left unchanged. With track_running_stats=False there
    are none, and batch statistics are used in both modes. With affine=True and
    bias=False (keyword only, as in torch) there is a learned γ but no β. The math is
    `nn.functional.batch_norm`; a subclass says which input shapes it takes.
    """

    SETTINGS = (bare("num_features"), "eps", "momentum", "affine", "bias", "track_running_stats")
    LABEL = "{num_features}"
    input_dims: ClassVar[tuple[int, ...]]        # the accepted input.ndim
    input_shapes: ClassVar[str]                  # the same, for error messages ("C" = channels)

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, *,
                 bias: bool = True) -> None:
        super().__init__()
        check_size(type(self).__name__, "num_features", num_features)
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        self.register_parameter("weight", Parameter(ad.empty(num_features)) if affine else None)
        self.register_parameter("bias", Parameter(ad.empty(num_features)) if affine and bias
                                else None)
        if track_running_stats:
            self.register_buffer("running_mean", ad.empty(num_features))
            self.register_buffer("running_var", ad.empty(num_features))
            self.register_buffer("num_batches_tracked", ad.tensor(0, dtype=np.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        """running_mean ← 0, running_var ← 1, num_batches_tracked ← 0 (in place)."""
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            init.zeros_(self.num_batches_tracked)

    def reset_parameters(self) -> None:
        """The running statistics reset, γ ← 1 and β ← 0 (in place)."""
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim not in self.input_dims or input.shape[1] != self.num_features:
            expected = self.input_shapes.replace("C", str(self.num_features))
            raise ShapeError(f"{self._scope_label()}: expected input of shape {expected}, "
                             f"got {input.shape}")
        update = self.training and self.track_running_stats
        if update:
            with ad.no_grad():
                self.num_batches_tracked += 1
        momentum = self.momentum
        if momentum is None:        # cumulative average; only read when updating
            if update:
                events.unsupported(f"calls {self._scope_label()} with momentum=None, whose "
                                   f"factor 1 / num_batches_tracked is a Python number "
                                   f"read from the buffer (give a fixed momentum)")
            momentum = 1.0 / int(self.num_batches_tracked.item()) if update else 0.0
        return F.batch_norm(input, self.running_mean, self.running_var, self.weight,
                            self.bias, training=self.training or self.running_mean is None,
                            momentum=momentum, eps=self.eps)

    @staticmethod
    def state_shapes(num_features: int, affine: bool = True, track_running_stats: bool = True,
                     bias: bool = True, **_: Any) -> dict[str, tuple[int, ...]]:
        channel = (num_features,)
        shapes = {"weight": channel} if affine else {}
        if affine and bias:
            shapes["bias"] = channel
        if track_running_stats:
            shapes |= {"running_mean": channel, "running_var": channel,
                       "num_batches_tracked": ()}
        return shapes


@builtin_layer
class BatchNorm1d(_BatchNorm):
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
        bias: with affine, whether to learn β (keyword only, default True).

    Shape:
        input (N, C) or (N, C, L); statistics are taken over N (and L). Output: same.

    Example:
    >>> import autodiff as ad, nn
    >>> bn = nn.BatchNorm1d(2)
    >>> y = bn(ad.tensor([[1.0, 10.0], [3.0, 30.0]]))
    >>> y.numpy().round(4)
    array([[-1., -1.],
           [ 1.,  1.]], dtype=float32)
    >>> bn.running_mean, bn.running_var
    (tensor([0.2, 2. ]), tensor([ 1.1, 20.9]))
    """

    input_dims = (2, 3)
    input_shapes = "(N, C) or (N, C, L)"


@builtin_layer
class BatchNorm2d(_BatchNorm):
    """y = (x - E[x]) / √(Var[x] + eps) · γ + β, per channel of a batch of images: each
    channel's mean and variance are taken over the batch and every pixel, N·H·W values
    (spatial batch normalisation, Ioffe & Szegedy, 2015). Training and eval behave as in
    BatchNorm1d: batch statistics (biased variance) in training, with the running
    estimates updated by momentum (unbiased variance); the running estimates in eval.

    Args:
        num_features: C, the number of channels.
        eps: added to the variance for stability (default 1e-5).
        momentum: weight of the newest batch in the running estimates (default 0.1;
            None for a cumulative average).
        affine: learn γ (weight, initialised to 1) and β (bias, initialised to 0).
        track_running_stats: keep running_mean (0), running_var (1) and
            num_batches_tracked (int64 0) as buffers.
        bias: with affine, whether to learn β (keyword only, default True).

    Shape:
        input (N, C, H, W); output the same.

    Example:
    >>> import autodiff as ad, nn
    >>> bn = nn.BatchNorm2d(1)
    >>> y = bn(ad.tensor([[[[1.0, 3.0]]], [[[5.0, 7.0]]]]))     # 4 values: mean 4, var 5
    >>> (y.numpy().ravel() * 5 ** 0.5).round(4)
    array([-3., -1.,  1.,  3.], dtype=float32)
    >>> bn
    BatchNorm2d(1, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
    """

    input_dims = (4,)
    input_shapes = "(N, C, H, W)"


@builtin_layer
class BatchNorm3d(_BatchNorm):
    """y = (x - E[x]) / √(Var[x] + eps) · γ + β, per channel of a batch of volumes (or
    clips of frames): each channel's mean and variance are taken over the batch and every
    voxel, N·D·H·W values. Training and eval behave as in BatchNorm1d: batch statistics
    (biased variance) in training, with the running estimates updated by momentum
    (unbiased variance); the running estimates in eval.

    Args:
        num_features: C, the number of channels.
        eps: added to the variance for stability (default 1e-5).
        momentum: weight of the newest batch in the running estimates (default 0.1;
            None for a cumulative average).
        affine: learn γ (weight, initialised to 1) and β (bias, initialised to 0).
        track_running_stats: keep running_mean (0), running_var (1) and
            num_batches_tracked (int64 0) as buffers.
        bias: with affine, whether to learn β (keyword only, default True).

    Shape:
        input (N, C, D, H, W); output the same.

    Example:
    >>> import autodiff as ad, nn
    >>> bn = nn.BatchNorm3d(1)
    >>> y = bn(ad.tensor([[[[[1.0, 3.0]]]], [[[[5.0, 7.0]]]]]))    # 4 values: mean 4, var 5
    >>> (y.numpy().ravel() * 5 ** 0.5).round(4)
    array([-3., -1.,  1.,  3.], dtype=float32)
    >>> bn.running_mean
    tensor([0.4])
    """

    input_dims = (5,)
    input_shapes = "(N, C, D, H, W)"


class _LazyNormMixin(LazyModuleMixin):
    """What the lazy normalisations share: num_features is read from the first input's
    channel dim; γ and β (with affine) and the running estimates (with
    track_running_stats) are placeholders until then, made (num_features,) and reset as
    the ordinary layer's (γ = 1, β = 0, mean 0, variance 1). The constructor is torch's
    _LazyNormBase's, whose defaults are affine=True and track_running_stats=True for the
    lazy InstanceNorms too."""

    inferred = "num_features"

    def __init__(self, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, *, bias: bool = True) -> None:
        super().__init__(0, eps, momentum, False, False, bias=False)
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = UninitializedParameter()
            if bias:
                self.bias = UninitializedParameter()
        if track_running_stats:
            self.running_mean = UninitializedBuffer()
            self.running_var = UninitializedBuffer()
            self.num_batches_tracked = ad.tensor(0, dtype=np.int64)

    def input_size(self, input: Tensor) -> int:
        if input.ndim < 2:
            raise ShapeError(f"{type(self).__name__}: expected an input "
                             f"{self.input_shapes.replace('C', 'C, the channels,', 1)}, got "
                             f"{input.shape}")
        return input.shape[1]

    def inferred_shapes(self) -> dict[str, tuple[int, ...]]:
        shapes = _BatchNorm.state_shapes(self.num_features, self.affine,
                                         self.track_running_stats, self.bias is not None)
        shapes.pop("num_batches_tracked", None)
        return shapes

    @staticmethod
    def state_shapes(affine: bool = True, track_running_stats: bool = True,
                     bias: bool = True, **_: Any) -> dict[str, tuple[int, ...]]:
        shapes = _BatchNorm.state_shapes(0, affine, track_running_stats, bias)
        return {key: () if key == "num_batches_tracked" else (0,) for key in shapes}


@builtin_layer
class LazyBatchNorm1d(_LazyNormMixin, BatchNorm1d):
    """A BatchNorm1d whose num_features is read from the first input's dim 1; it then
    becomes a BatchNorm1d. Args: BatchNorm1d's, without num_features.

    Example:
    >>> import autodiff as ad, nn
    >>> bn = nn.LazyBatchNorm1d()
    >>> bn(ad.randn(8, 3)).shape, type(bn).__name__, bn.num_features
    ((8, 3), 'BatchNorm1d', 3)
    """

    cls_to_become = BatchNorm1d


@builtin_layer
class LazyBatchNorm2d(_LazyNormMixin, BatchNorm2d):
    """A BatchNorm2d whose num_features is read from the first input's dim 1; it then
    becomes a BatchNorm2d. Args: BatchNorm2d's, without num_features.

    Example:
    >>> import autodiff as ad, nn
    >>> bn = nn.LazyBatchNorm2d(affine=False)
    >>> bn(ad.randn(2, 3, 4, 4)).shape, bn.running_mean.shape
    ((2, 3, 4, 4), (3,))
    """

    cls_to_become = BatchNorm2d


@builtin_layer
class LazyBatchNorm3d(_LazyNormMixin, BatchNorm3d):
    """A BatchNorm3d whose num_features is read from the first input's dim 1; it then
    becomes a BatchNorm3d. Args: BatchNorm3d's, without num_features.

    Example:
    >>> import autodiff as ad, nn
    >>> bn = nn.LazyBatchNorm3d()
    >>> bn(ad.randn(2, 3, 2, 2, 2)).shape, type(bn).__name__
    ((2, 3, 2, 2, 2), 'BatchNorm3d')
    """

    cls_to_become = BatchNorm3d
