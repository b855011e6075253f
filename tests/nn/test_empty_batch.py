"""An empty batch (N = 0) through every layer of nn and every F. function that takes a
batch: torch gives an empty output, an empty gradient of the input's shape and zero
gradients of each weight's shape, and so must we.

Each case runs on inputs whose batch dim is 0. Without torch the output shapes are
checked against shapes worked out by hand (and the gradients against the inputs' and
parameters' shapes, all zero). With torch (the `torch_oracle` fixture) the two libraries
run the same case, our weights copied into torch's layer, and must agree on the outputs
(shape, dtype, values: the mean of no losses is NaN, their sum 0), the gradients of the
sum of the outputs with respect to every float input and parameter (None where torch's
is None), and the buffers afterwards (a batch norm keeps its running estimates and counts
the batch; an instance norm's running estimates become NaN, the mean of no instances).

Where torch refuses an empty batch (CTC loss; an instance norm with a weight or bias;
affine_grid) ours refuses it too, with an error that names the function. Where torch
2.13 goes wrong on an empty batch we give what the formulas give:
- multi_margin_loss and multilabel_margin_loss with reduction "mean" or "sum" return
  uninitialized memory in torch; here NaN and 0, as every other loss.
- pixel_unshuffle returns an output of the input's shape in torch, (0, 1, 4, 4) for
  (0, 1, 4, 4) and factor 2; here (0, 4, 2, 2). pixel_shuffle's output is right, but its
  backward then fails in torch; here it gives the empty gradient.
- pdist's backward crashes the torch process (a segmentation fault), so torch runs pdist
  forward only; here the gradient is empty, of the input's shape.
The rule for max, min, argmax and argmin of empty tensors (an empty result along dims
that have elements, an error for a dim of size 0) and softmax and logsumexp over an
empty dim are torch's, checked at the end.

Not here, as they are not supported at any batch size: interpolate's bicubic and
trilinear modes and 5-D input, grid_sample's bicubic mode and 5-D input.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F

# the mean of an empty batch is NaN, and numpy says so (the library leaves its warning on:
# tests/autodiff/test_quiet_numerics.py); the deprecated upsample names warn, as torch's, and
# torch warns of zero-width tails in its AdaptiveLogSoftmaxWithLoss, of its Transformer's
# nested tensors and of kl_div's 'mean'
pytestmark = [pytest.mark.filterwarnings("ignore:Mean of empty slice:RuntimeWarning"),
              pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning"),
              pytest.mark.filterwarnings("ignore:.*upsample.* is deprecated"),
              pytest.mark.filterwarnings("ignore:Initializing zero-element tensors"),
              pytest.mark.filterwarnings("ignore:enable_nested_tensor is True"),
              pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss")]

# ---------------------------------------------------------------- the cases


@dataclass(frozen=True)
class Index:
    """An int64 input (N-dependent shape), values in [0, high)."""
    shape: tuple[int, ...]
    high: int = 3


@dataclass(frozen=True)
class Fixed:
    """A float input that needs no gradient (a target, running estimates)."""
    value: Any


@dataclass(frozen=True)
class Case:
    """A layer (`make` builds it from nn or torch.nn, `call` calls it, default layer(*xs))
    or a function (`fn` takes F or torch.nn.functional and the inputs). `inputs`: a shape
    (a float input needing its gradient), an Index or a Fixed. `out`: the output shapes
    worked out by hand, one per tensor returned (nested tuples flattened)."""
    id: str
    inputs: tuple[Any, ...]
    out: tuple[tuple[int, ...], ...]
    make: Callable[[Any], Any] | None = None
    call: Callable[..., Any] | None = None
    fn: Callable[..., Any] | None = None
    train: bool = True


CASES: list[Case] = []


def layer(id: str, make: Callable[[Any], Any], inputs: tuple[Any, ...],
          out: tuple[tuple[int, ...], ...], call: Callable[..., Any] | None = None,
          train: bool = True) -> None:
    CASES.append(Case(id, inputs, out, make=make, call=call, train=train))


def function(id: str, fn: Callable[..., Any], inputs: tuple[Any, ...],
             out: tuple[tuple[int, ...], ...]) -> None:
    CASES.append(Case("F." + id, inputs, out, fn=fn))


# activations, elementwise or along a dim: (0, 4) -> (0, 4)
for name, kwargs in [("CELU", {}), ("ELU", {}), ("GELU", {}), ("GELU", {"approximate": "tanh"}),
                     ("SELU", {}), ("Hardshrink", {}), ("Hardsigmoid", {}), ("Hardswish", {}),
                     ("Hardtanh", {}), ("LeakyReLU", {}), ("LogSigmoid", {}), ("Mish", {}),
                     ("PReLU", {}), ("ReLU", {}), ("ReLU6", {}), ("RReLU", {}), ("Sigmoid", {}),
                     ("SiLU", {}), ("Softplus", {}), ("Softshrink", {}), ("Softsign", {}),
                     ("Tanh", {}), ("Tanhshrink", {}), ("Identity", {}), ("Flatten", {}),
                     ("Softmax", {"dim": 1}), ("Softmax", {"dim": 0}),
                     ("LogSoftmax", {"dim": 1}), ("LogSoftmax", {"dim": 0}),
                     ("Softmin", {"dim": 1}), ("Softmin", {"dim": 0})]:
    layer(f"{name}{kwargs or ''}", lambda NN, name=name, kwargs=kwargs: getattr(NN, name)(**kwargs),
          ((0, 4),), ((0, 4),))
layer("RReLU-eval", lambda NN: NN.RReLU(), ((0, 4),), ((0, 4),), train=False)
layer("Threshold", lambda NN: NN.Threshold(0.1, 20.0), ((0, 4),), ((0, 4),))
layer("GLU", lambda NN: NN.GLU(), ((0, 4),), ((0, 2),))
layer("PReLU(3)", lambda NN: NN.PReLU(3), ((0, 3, 4),), ((0, 3, 4),))
layer("Softmax2d", lambda NN: NN.Softmax2d(), ((0, 3, 4, 4),), ((0, 3, 4, 4),))
layer("Unflatten", lambda NN: NN.Unflatten(1, (2, 2)), ((0, 4),), ((0, 2, 2),))
layer("Flatten-4d", lambda NN: NN.Flatten(), ((0, 3, 2, 2),), ((0, 12),))

# attention and adaptive softmax
layer("AdaptiveLogSoftmaxWithLoss", lambda NN: NN.AdaptiveLogSoftmaxWithLoss(8, 10, [4, 8]),
      ((0, 8), Index((0,), 10)), ((0,), ()))
layer("AdaptiveLogSoftmaxWithLoss.log_prob",
      lambda NN: NN.AdaptiveLogSoftmaxWithLoss(8, 10, [4, 8]), ((0, 8),), ((0, 10),),
      call=lambda m, x: m.log_prob(x))
layer("AdaptiveLogSoftmaxWithLoss.predict",
      lambda NN: NN.AdaptiveLogSoftmaxWithLoss(8, 10, [4, 8]), ((0, 8),), ((0,),),
      call=lambda m, x: m.predict(x))
layer("MultiheadAttention-batch_first", lambda NN: NN.MultiheadAttention(8, 2, batch_first=True),
      ((0, 5, 8), (0, 6, 8), (0, 6, 8)), ((0, 5, 8), (0, 5, 6)))
layer("MultiheadAttention", lambda NN: NN.MultiheadAttention(8, 2),
      ((5, 0, 8), (6, 0, 8), (6, 0, 8)), ((5, 0, 8), (0, 5, 6)))
layer("MultiheadAttention-kdim-vdim",
      lambda NN: NN.MultiheadAttention(8, 2, kdim=4, vdim=3, batch_first=True),
      ((0, 5, 8), (0, 6, 4), (0, 6, 3)), ((0, 5, 8), (0, 5, 6)))

# normalization
for name, shape in [("BatchNorm1d", (0, 3)), ("BatchNorm1d", (0, 3, 5)),
                    ("BatchNorm2d", (0, 3, 4, 4)), ("BatchNorm3d", (0, 3, 2, 2, 2))]:
    for train in (True, False):
        layer(f"{name}{shape}{'' if train else '-eval'}",
              lambda NN, name=name: getattr(NN, name)(3), (shape,), (shape,), train=train)
layer("BatchNorm2d-momentum-None", lambda NN: NN.BatchNorm2d(3, momentum=None),
      ((0, 3, 4, 4),), ((0, 3, 4, 4),))
layer("BatchNorm2d-no-running-stats", lambda NN: NN.BatchNorm2d(3, track_running_stats=False),
      ((0, 3, 4, 4),), ((0, 3, 4, 4),))
layer("BatchNorm2d-no-affine", lambda NN: NN.BatchNorm2d(3, affine=False),
      ((0, 3, 4, 4),), ((0, 3, 4, 4),))
for name, shape in [("LazyBatchNorm1d", (0, 3)), ("LazyBatchNorm2d", (0, 3, 4, 4)),
                    ("LazyBatchNorm3d", (0, 3, 2, 2, 2))]:
    layer(name, lambda NN, name=name: getattr(NN, name)(), (shape,), (shape,))
for name, shape in [("InstanceNorm1d", (0, 3, 5)), ("InstanceNorm2d", (0, 3, 4, 4)),
                    ("InstanceNorm3d", (0, 3, 2, 2, 2))]:
    layer(name, lambda NN, name=name: getattr(NN, name)(3), (shape,), (shape,))
    for train in (True, False):
        layer(f"{name}-running-stats{'' if train else '-eval'}",
              lambda NN, name=name: getattr(NN, name)(3, track_running_stats=True),
              (shape,), (shape,), train=train)
layer("GroupNorm", lambda NN: NN.GroupNorm(2, 4), ((0, 4, 3),), ((0, 4, 3),))
layer("LayerNorm", lambda NN: NN.LayerNorm(4), ((0, 4),), ((0, 4),))
layer("LayerNorm-2d", lambda NN: NN.LayerNorm([3, 4]), ((0, 3, 4),), ((0, 3, 4),))
layer("LocalResponseNorm", lambda NN: NN.LocalResponseNorm(2), ((0, 3, 4, 4),), ((0, 3, 4, 4),))
layer("LocalResponseNorm-3d", lambda NN: NN.LocalResponseNorm(2), ((0, 3, 4),), ((0, 3, 4),))
layer("RMSNorm", lambda NN: NN.RMSNorm(4), ((0, 4),), ((0, 4),))

# convolutions: 6 per spatial dim, kernel 3
for d in (1, 2, 3):
    six = (6,) * d
    layer(f"Conv{d}d", lambda NN, d=d: getattr(NN, f"Conv{d}d")(3, 4, 3),
          ((0, 3, *six),), ((0, 4, *(4,) * d),))
    layer(f"Conv{d}d-groups-stride-padding",
          lambda NN, d=d: getattr(NN, f"Conv{d}d")(4, 6, 3, padding=1, groups=2, stride=2),
          ((0, 4, *six),), ((0, 6, *(3,) * d),))
    layer(f"Conv{d}d-reflect",
          lambda NN, d=d: getattr(NN, f"Conv{d}d")(3, 4, 3, padding=1, padding_mode="reflect"),
          ((0, 3, *six),), ((0, 4, *six),))
    layer(f"Conv{d}d-same-dilation",
          lambda NN, d=d: getattr(NN, f"Conv{d}d")(3, 4, 3, padding="same", dilation=2),
          ((0, 3, *six),), ((0, 4, *six),))
    layer(f"ConvTranspose{d}d", lambda NN, d=d: getattr(NN, f"ConvTranspose{d}d")(3, 4, 3),
          ((0, 3, *six),), ((0, 4, *(8,) * d),))
    # (6 - 1)·2 - 2·1 + (3 - 1) + 1 + 1 = 12
    layer(f"ConvTranspose{d}d-groups-stride-output_padding",
          lambda NN, d=d: getattr(NN, f"ConvTranspose{d}d")(4, 6, 3, stride=2, padding=1,
                                                            output_padding=1, groups=2),
          ((0, 4, *six),), ((0, 6, *(12,) * d),))
    layer(f"ConvTranspose{d}d-output_size",
          lambda NN, d=d: getattr(NN, f"ConvTranspose{d}d")(3, 4, 3, stride=2),
          ((0, 3, *six),), ((0, 4, *(14,) * d),),
          call=lambda m, x, d=d: m(x, output_size=[14] * d))
    layer(f"LazyConv{d}d", lambda NN, d=d: getattr(NN, f"LazyConv{d}d")(4, 3),
          ((0, 3, *six),), ((0, 4, *(4,) * d),))
    layer(f"LazyConvTranspose{d}d", lambda NN, d=d: getattr(NN, f"LazyConvTranspose{d}d")(4, 3),
          ((0, 3, *six),), ((0, 4, *(8,) * d),))

# linear, distances, dropout, rearranging
layer("Linear", lambda NN: NN.Linear(3, 5), ((0, 3),), ((0, 5),))
layer("LazyLinear", lambda NN: NN.LazyLinear(5), ((0, 3),), ((0, 5),))
layer("Bilinear", lambda NN: NN.Bilinear(3, 4, 5), ((0, 3), (0, 4)), ((0, 5),))
layer("CosineSimilarity", lambda NN: NN.CosineSimilarity(), ((0, 4), (0, 4)), ((0,),))
layer("PairwiseDistance", lambda NN: NN.PairwiseDistance(), ((0, 4), (0, 4)), ((0,),))
layer("PairwiseDistance-keepdim", lambda NN: NN.PairwiseDistance(keepdim=True),
      ((0, 4), (0, 4)), ((0, 1),))
for name, shape in [("Dropout", (0, 4)), ("AlphaDropout", (0, 4)), ("Dropout1d", (0, 3, 4)),
                    ("Dropout2d", (0, 3, 4, 4)), ("Dropout3d", (0, 3, 2, 2, 2)),
                    ("FeatureAlphaDropout", (0, 3, 4, 4))]:
    layer(name, lambda NN, name=name: getattr(NN, name)(), (shape,), (shape,))
layer("ChannelShuffle", lambda NN: NN.ChannelShuffle(2), ((0, 4, 2, 2),), ((0, 4, 2, 2),))
layer("Fold", lambda NN: NN.Fold((4, 4), 2), ((0, 12, 9),), ((0, 3, 4, 4),))
layer("Unfold", lambda NN: NN.Unfold(2), ((0, 3, 4, 4),), ((0, 12, 9),))
layer("PixelShuffle", lambda NN: NN.PixelShuffle(2), ((0, 4, 2, 2),), ((0, 1, 4, 4),))
layer("PixelUnshuffle", lambda NN: NN.PixelUnshuffle(2), ((0, 1, 4, 4),), ((0, 4, 2, 2),))

# padding: 1 on each side
for d in (1, 2, 3):
    for kind in ("Circular", "Reflection", "Replication", "Zero"):
        layer(f"{kind}Pad{d}d", lambda NN, d=d, kind=kind: getattr(NN, f"{kind}Pad{d}d")(1),
              ((0, 3, *(4,) * d),), ((0, 3, *(6,) * d),))
    layer(f"ConstantPad{d}d", lambda NN, d=d: getattr(NN, f"ConstantPad{d}d")(1, 0.5),
          ((0, 3, *(4,) * d),), ((0, 3, *(6,) * d),))

# pooling: 4 per spatial dim
for d in (1, 2, 3):
    four, two = (4,) * d, (2,) * d
    for kind, out in (("Avg", two), ("Max", two)):
        layer(f"Adaptive{kind}Pool{d}d",
              lambda NN, d=d, kind=kind: getattr(NN, f"Adaptive{kind}Pool{d}d")(2),
              ((0, 3, *four),), ((0, 3, *out),))
        layer(f"Adaptive{kind}Pool{d}d-3",
              lambda NN, d=d, kind=kind: getattr(NN, f"Adaptive{kind}Pool{d}d")(3),
              ((0, 3, *four),), ((0, 3, *(3,) * d),))
        layer(f"{kind}Pool{d}d", lambda NN, d=d, kind=kind: getattr(NN, f"{kind}Pool{d}d")(2),
              ((0, 3, *four),), ((0, 3, *out),))
    layer(f"AdaptiveMaxPool{d}d-indices",
          lambda NN, d=d: getattr(NN, f"AdaptiveMaxPool{d}d")(2, return_indices=True),
          ((0, 3, *four),), ((0, 3, *two), (0, 3, *two)))
    # ⌈(4 + 2 - 3) / 2⌉ + 1 = 3
    layer(f"AvgPool{d}d-padding-ceil",
          lambda NN, d=d: getattr(NN, f"AvgPool{d}d")(3, 2, padding=1, ceil_mode=True),
          ((0, 3, *four),), ((0, 3, *(3,) * d),))
    layer(f"MaxPool{d}d-padding-ceil",
          lambda NN, d=d: getattr(NN, f"MaxPool{d}d")(3, 2, padding=1, ceil_mode=True),
          ((0, 3, *four),), ((0, 3, *(3,) * d),))
    layer(f"MaxPool{d}d-indices",
          lambda NN, d=d: getattr(NN, f"MaxPool{d}d")(2, return_indices=True),
          ((0, 3, *four),), ((0, 3, *two), (0, 3, *two)))
    layer(f"MaxUnpool{d}d", lambda NN, d=d: getattr(NN, f"MaxUnpool{d}d")(2),
          ((0, 3, *two), Index((0, 3, *two))), ((0, 3, *four),))
    layer(f"MaxUnpool{d}d-output_size", lambda NN, d=d: getattr(NN, f"MaxUnpool{d}d")(2),
          ((0, 3, *two), Index((0, 3, *two))), ((0, 3, *(5,) * d),),
          call=lambda m, x, i, d=d: m(x, i, output_size=[5] * d))
layer("LPPool1d", lambda NN: NN.LPPool1d(2, 2), ((0, 3, 4),), ((0, 3, 2),))
layer("LPPool1d-p1", lambda NN: NN.LPPool1d(1, 2), ((0, 3, 4),), ((0, 3, 2),))
layer("LPPool2d", lambda NN: NN.LPPool2d(2, 2), ((0, 3, 4, 4),), ((0, 3, 2, 2),))

# recurrent: T = 3 steps of 4 features, hidden 5
for name in ("RNN", "GRU", "LSTM"):
    states = ((1, 0, 5),) * (2 if name == "LSTM" else 1)
    layer(name, lambda NN, name=name: getattr(NN, name)(4, 5), ((3, 0, 4),),
          ((3, 0, 5), *states))
    layer(f"{name}-2-layers-bidirectional-batch_first",
          lambda NN, name=name: getattr(NN, name)(4, 5, num_layers=2, bidirectional=True,
                                                  batch_first=True),
          ((0, 3, 4),), ((0, 3, 10), *((4, 0, 5),) * len(states)))
    layer(f"{name}Cell", lambda NN, name=name: getattr(NN, f"{name}Cell")(4, 5), ((0, 4),),
          ((0, 5),) * len(states))
layer("RNN-h0", lambda NN: NN.RNN(4, 5), ((3, 0, 4), (1, 0, 5)), ((3, 0, 5), (1, 0, 5)))

# embeddings: 10 of 4 features
layer("Embedding", lambda NN: NN.Embedding(10, 4), (Index((0,), 10),), ((0, 4),))
layer("Embedding-2d-padding_idx", lambda NN: NN.Embedding(10, 4, padding_idx=0),
      (Index((0, 3), 10),), ((0, 3, 4),))
layer("EmbeddingBag", lambda NN: NN.EmbeddingBag(10, 4), (Index((0, 3), 10),), ((0, 4),))
layer("EmbeddingBag-max", lambda NN: NN.EmbeddingBag(10, 4, mode="max"),
      (Index((0, 3), 10),), ((0, 4),))
layer("EmbeddingBag-sum-offsets", lambda NN: NN.EmbeddingBag(10, 4, mode="sum"),
      (Index((0,), 10), Index((0,))), ((0, 4),))

# transformers: d_model 8, 2 heads, source 5 and target 4 long
SMALL = {"dim_feedforward": 16, "dropout": 0.0, "batch_first": True}
layer("TransformerEncoderLayer", lambda NN: NN.TransformerEncoderLayer(8, 2, **SMALL),
      ((0, 5, 8),), ((0, 5, 8),))
layer("TransformerEncoderLayer-norm_first",
      lambda NN: NN.TransformerEncoderLayer(8, 2, norm_first=True, **SMALL),
      ((0, 5, 8),), ((0, 5, 8),))
layer("TransformerEncoder",
      lambda NN: NN.TransformerEncoder(NN.TransformerEncoderLayer(8, 2, **SMALL), 2),
      ((0, 5, 8),), ((0, 5, 8),))
layer("TransformerDecoderLayer", lambda NN: NN.TransformerDecoderLayer(8, 2, **SMALL),
      ((0, 4, 8), (0, 5, 8)), ((0, 4, 8),))
layer("TransformerDecoder",
      lambda NN: NN.TransformerDecoder(NN.TransformerDecoderLayer(8, 2, **SMALL), 2),
      ((0, 4, 8), (0, 5, 8)), ((0, 4, 8),))
layer("Transformer", lambda NN: NN.Transformer(8, 2, 1, 1, **SMALL),
      ((0, 5, 8), (0, 4, 8)), ((0, 4, 8),))
layer("Transformer-sequence-first",
      lambda NN: NN.Transformer(8, 2, 1, 1, dim_feedforward=16, dropout=0.0),
      ((5, 0, 8), (4, 0, 8)), ((4, 0, 8),))

# upsampling
layer("Upsample", lambda NN: NN.Upsample(scale_factor=2), ((0, 3, 4, 4),), ((0, 3, 8, 8),))
layer("Upsample-bilinear", lambda NN: NN.Upsample(scale_factor=2, mode="bilinear"),
      ((0, 3, 4, 4),), ((0, 3, 8, 8),))
layer("UpsamplingBilinear2d", lambda NN: NN.UpsamplingBilinear2d(scale_factor=2),
      ((0, 3, 4, 4),), ((0, 3, 8, 8),))
layer("UpsamplingNearest2d", lambda NN: NN.UpsamplingNearest2d(size=5),
      ((0, 3, 4, 4),), ((0, 3, 5, 5),))

# losses: reduction "none" keeps one loss per sample (shape `each`), "mean" and "sum" give ()
EMPTY_MARGIN_LOSSES = ("MultiLabelMarginLoss", "MultiMarginLoss")   # torch: see below
# (layer, variant, inputs, shape per sample)
LOSSES = [("BCELoss", "", (Fixed(np.full((0, 4), 0.5)), Fixed(np.zeros((0, 4)))), (0, 4)),
          ("BCEWithLogitsLoss", "", ((0, 4), Fixed(np.zeros((0, 4)))), (0, 4)),
          ("CosineEmbeddingLoss", "", ((0, 4), (0, 4), Index((0,))), (0,)),
          ("CrossEntropyLoss", "", ((0, 5), Index((0,), 5)), (0,)),
          ("CrossEntropyLoss", "-2d", ((0, 5, 3), Index((0, 3), 5)), (0, 3)),
          ("CrossEntropyLoss", "-probabilities", ((0, 5), Fixed(np.zeros((0, 5)))), (0,)),
          ("GaussianNLLLoss", "", ((0, 3), (0, 3), Fixed(np.ones((0, 3)))), (0, 3)),
          ("HingeEmbeddingLoss", "", ((0, 4), Fixed(np.ones((0, 4)))), (0, 4)),
          ("HuberLoss", "", ((0, 4), (0, 4)), (0, 4)),
          ("KLDivLoss", "", ((0, 4), (0, 4)), (0, 4)),
          ("L1Loss", "", ((0, 4), (0, 4)), (0, 4)),
          ("MarginRankingLoss", "", ((0,), (0,), Fixed(np.ones(0))), (0,)),
          ("MSELoss", "", ((0, 4), (0, 4)), (0, 4)),
          ("MultiLabelMarginLoss", "", ((0, 4), Index((0, 4))), (0,)),
          ("MultiLabelSoftMarginLoss", "", ((0, 4), Fixed(np.ones((0, 4)))), (0,)),
          ("MultiMarginLoss", "", ((0, 4), Index((0,))), (0,)),
          ("NLLLoss", "", ((0, 5), Index((0,), 5)), (0,)),
          ("NLLLoss", "-2d", ((0, 5, 3, 3), Index((0, 3, 3), 5)), (0, 3, 3)),
          ("PoissonNLLLoss", "", ((0, 4), Fixed(np.ones((0, 4)))), (0, 4)),
          ("SmoothL1Loss", "", ((0, 4), (0, 4)), (0, 4)),
          ("SoftMarginLoss", "", ((0, 4), Fixed(np.ones((0, 4)))), (0, 4)),
          ("TripletMarginLoss", "", ((0, 4), (0, 4), (0, 4)), (0,)),
          ("TripletMarginWithDistanceLoss", "", ((0, 4), (0, 4), (0, 4)), (0,))]
for name, variant, inputs, each in LOSSES:
    for reduction in ("mean", "sum", "none"):
        layer(f"{name}{variant}-{reduction}",
              lambda NN, name=name, reduction=reduction: getattr(NN, name)(reduction=reduction),
              inputs, (each if reduction == "none" else (),))
layer("KLDivLoss-batchmean", lambda NN: NN.KLDivLoss(reduction="batchmean"),
      ((0, 4), (0, 4)), ((),))
layer("CrossEntropyLoss-label_smoothing", lambda NN: NN.CrossEntropyLoss(label_smoothing=0.1),
      ((0, 5), Index((0,), 5)), ((),))

# functions with arguments or options no layer above passes
function("linear", lambda F, x, w, b: F.linear(x, w, b), ((0, 3), (5, 3), (5,)), ((0, 5),))
function("bilinear", lambda F, a, b, w: F.bilinear(a, b, w), ((0, 3), (0, 4), (5, 3, 4)),
         ((0, 5),))
for name in ("relu", "leaky_relu", "sigmoid", "tanh", "gelu", "silu", "elu", "selu", "celu",
             "softplus", "mish", "hardtanh", "relu6", "hardsigmoid", "hardswish", "logsigmoid",
             "softsign", "hardshrink", "softshrink", "tanhshrink", "rrelu"):
    function(name, lambda F, x, name=name: getattr(F, name)(x), ((0, 4),), ((0, 4),))
function("glu", lambda F, x: F.glu(x), ((0, 4),), ((0, 2),))
for name in ("softmax", "log_softmax", "softmin"):
    for dim in (0, 1):
        function(f"{name}-dim{dim}", lambda F, x, name=name, dim=dim: getattr(F, name)(x, dim=dim),
                 ((0, 4),), ((0, 4),))
function("gumbel_softmax", lambda F, x: F.gumbel_softmax(x), ((0, 4),), ((0, 4),))
function("gumbel_softmax-hard", lambda F, x: F.gumbel_softmax(x, hard=True), ((0, 4),), ((0, 4),))
function("prelu", lambda F, x, w: F.prelu(x, w), ((0, 3, 4), (3,)), ((0, 3, 4),))
function("threshold", lambda F, x: F.threshold(x, 0.1, 2.0), ((0, 4),), ((0, 4),))
for name, shape in [("dropout", (0, 3, 4)), ("alpha_dropout", (0, 3, 4)),
                    ("feature_alpha_dropout", (0, 3, 4)), ("dropout1d", (0, 3, 4)),
                    ("dropout2d", (0, 3, 4, 4)), ("dropout3d", (0, 3, 2, 2, 2))]:
    function(name, lambda F, x, name=name: getattr(F, name)(x, 0.5, True), (shape,), (shape,))
function("batch_norm-training", lambda F, x, w, b: F.batch_norm(x, None, None, w, b, training=True),
         ((0, 3, 4), (3,), (3,)), ((0, 3, 4),))
function("batch_norm-eval", lambda F, x, m, v: F.batch_norm(x, m, v),
         ((0, 3, 4), Fixed(np.zeros(3)), Fixed(np.ones(3))), ((0, 3, 4),))
function("layer_norm", lambda F, x, w, b: F.layer_norm(x, (4,), w, b), ((0, 4), (4,), (4,)),
         ((0, 4),))
function("group_norm", lambda F, x, w, b: F.group_norm(x, 2, w, b), ((0, 4, 3), (4,), (4,)),
         ((0, 4, 3),))
function("instance_norm", lambda F, x: F.instance_norm(x), ((0, 3, 4),), ((0, 3, 4),))
function("instance_norm-running-stats", lambda F, x, m, v: F.instance_norm(x, m, v),
         ((0, 3, 4), Fixed(np.zeros(3)), Fixed(np.ones(3))), ((0, 3, 4),))
function("instance_norm-use_running_stats",
         lambda F, x, m, v: F.instance_norm(x, m, v, use_input_stats=False),
         ((0, 3, 4), Fixed(np.zeros(3)), Fixed(np.ones(3))), ((0, 3, 4),))
function("rms_norm", lambda F, x, w: F.rms_norm(x, (4,), w), ((0, 4), (4,)), ((0, 4),))
function("local_response_norm", lambda F, x: F.local_response_norm(x, 2), ((0, 3, 4, 4),),
         ((0, 3, 4, 4),))
function("embedding", lambda F, i, w: F.embedding(i, w), (Index((0, 3), 10), (10, 4)),
         ((0, 3, 4),))
function("embedding_bag-offsets", lambda F, i, w, o: F.embedding_bag(i, w, o),
         (Index((0,), 10), (10, 4), Index((0,))), ((0, 4),))
function("embedding_bag-per_sample_weights",
         lambda F, i, w, p: F.embedding_bag(i, w, per_sample_weights=p, mode="sum"),
         (Index((0, 3), 10), (10, 4), (0, 3)), ((0, 4),))
function("one_hot", lambda F, i: F.one_hot(i, 5), (Index((0, 3)),), ((0, 3, 5),))
for mode in ("constant", "reflect", "replicate", "circular"):
    function(f"pad-{mode}-1d", lambda F, x, mode=mode: F.pad(x, (1, 2), mode=mode),
             ((0, 3, 4),), ((0, 3, 7),))
    function(f"pad-{mode}-2d", lambda F, x, mode=mode: F.pad(x, (1, 2, 2, 1), mode=mode),
             ((0, 3, 4, 4),), ((0, 3, 7, 7),))
    function(f"pad-{mode}-3d", lambda F, x, mode=mode: F.pad(x, (1,) * 6, mode=mode),
             ((0, 3, 4, 4, 4),), ((0, 3, 6, 6, 6),))
function("normalize", lambda F, x: F.normalize(x), ((0, 4),), ((0, 4),))
function("normalize-dim0", lambda F, x: F.normalize(x, dim=0), ((0, 4),), ((0, 4),))
function("cosine_similarity", lambda F, a, b: F.cosine_similarity(a, b), ((0, 4), (0, 4)),
         ((0,),))
function("pairwise_distance", lambda F, a, b: F.pairwise_distance(a, b), ((0, 4), (0, 4)),
         ((0,),))
function("pdist", lambda F, x: F.pdist(x), ((0, 4),), ((0,),))
for d in (1, 2, 3):
    six, k = (6,) * d, (3,) * d
    # ⌊(6 + 2 - 3) / 2⌋ + 1 = 3;  (6 - 1)·2 - 2 + 3 = 11
    function(f"conv{d}d", lambda F, x, w, b, d=d: getattr(F, f"conv{d}d")(x, w, b, stride=2,
                                                                         padding=1),
             ((0, 3, *six), (4, 3, *k), (4,)), ((0, 4, *(3,) * d),))
    function(f"conv_transpose{d}d",
             lambda F, x, w, b, d=d: getattr(F, f"conv_transpose{d}d")(x, w, b, stride=2,
                                                                       padding=1),
             ((0, 3, *six), (3, 4, *k), (4,)), ((0, 4, *(11,) * d),))
    function(f"conv_transpose{d}d-no-bias",
             lambda F, x, w, d=d: getattr(F, f"conv_transpose{d}d")(x, w),
             ((0, 3, *six), (3, 4, *k)), ((0, 4, *(8,) * d),))
    function(f"max_pool{d}d", lambda F, x, d=d: getattr(F, f"max_pool{d}d")(x, 3, 2, 1),
             ((0, 3, *six),), ((0, 3, *(3,) * d),))
    function(f"max_pool{d}d-indices",
             lambda F, x, d=d: getattr(F, f"max_pool{d}d")(x, 2, return_indices=True),
             ((0, 3, *six),), ((0, 3, *(3,) * d),) * 2)
    function(f"avg_pool{d}d", lambda F, x, d=d: getattr(F, f"avg_pool{d}d")(x, 3, 2, 1),
             ((0, 3, *six),), ((0, 3, *(3,) * d),))
    function(f"adaptive_avg_pool{d}d", lambda F, x, d=d: getattr(F, f"adaptive_avg_pool{d}d")(x, 4),
             ((0, 3, *six),), ((0, 3, *(4,) * d),))
    function(f"adaptive_max_pool{d}d", lambda F, x, d=d: getattr(F, f"adaptive_max_pool{d}d")(x, 4),
             ((0, 3, *six),), ((0, 3, *(4,) * d),))
    function(f"adaptive_max_pool{d}d-indices",
             lambda F, x, d=d: getattr(F, f"adaptive_max_pool{d}d")(x, 4, return_indices=True),
             ((0, 3, *six),), ((0, 3, *(4,) * d),) * 2)
    function(f"max_unpool{d}d", lambda F, x, i, d=d: getattr(F, f"max_unpool{d}d")(x, i, 2),
             ((0, 3, *k), Index((0, 3, *k))), ((0, 3, *six),))
function("lp_pool1d", lambda F, x: F.lp_pool1d(x, 2, 2), ((0, 3, 4),), ((0, 3, 2),))
function("lp_pool2d", lambda F, x: F.lp_pool2d(x, 2, 2), ((0, 3, 4, 4),), ((0, 3, 2, 2),))
function("pixel_shuffle", lambda F, x: F.pixel_shuffle(x, 2), ((0, 4, 2, 2),), ((0, 1, 4, 4),))
function("pixel_unshuffle", lambda F, x: F.pixel_unshuffle(x, 2), ((0, 1, 4, 4),),
         ((0, 4, 2, 2),))
function("channel_shuffle", lambda F, x: F.channel_shuffle(x, 2), ((0, 4, 2, 2),),
         ((0, 4, 2, 2),))
function("unfold", lambda F, x: F.unfold(x, 2, padding=1, stride=2), ((0, 3, 4, 4),),
         ((0, 12, 9),))
function("fold", lambda F, x: F.fold(x, (4, 4), 2), ((0, 12, 9),), ((0, 3, 4, 4),))
for mode, shape in [("nearest", (0, 3, 4)), ("nearest", (0, 3, 4, 4)),
                    ("nearest-exact", (0, 3, 4, 4)), ("linear", (0, 3, 4)),
                    ("bilinear", (0, 3, 4, 4)), ("area", (0, 3, 4)), ("area", (0, 3, 4, 4))]:
    spatial = len(shape) - 2
    function(f"interpolate-{mode}-{spatial}d-scale",
             lambda F, x, mode=mode: F.interpolate(x, scale_factor=2, mode=mode),
             (shape,), ((0, 3, *(2 * n for n in shape[2:])),))
    function(f"interpolate-{mode}-{spatial}d-size",
             lambda F, x, mode=mode, spatial=spatial: F.interpolate(x, size=[3] * spatial,
                                                                   mode=mode),
             (shape,), ((0, 3, *(3,) * spatial),))
function("upsample", lambda F, x: F.upsample(x, scale_factor=2), ((0, 3, 4, 4),), ((0, 3, 8, 8),))
function("upsample_nearest", lambda F, x: F.upsample_nearest(x, scale_factor=2), ((0, 3, 4, 4),),
         ((0, 3, 8, 8),))
function("upsample_bilinear", lambda F, x: F.upsample_bilinear(x, scale_factor=2),
         ((0, 3, 4, 4),), ((0, 3, 8, 8),))
# nearest reads the input at rounded positions, so the grid gets no gradient: a constant
for mode, grid in (("bilinear", (0, 2, 2, 2)), ("nearest", Fixed(np.zeros((0, 2, 2, 2))))):
    for padding_mode in ("zeros", "border", "reflection"):
        function(f"grid_sample-{mode}-{padding_mode}",
                 lambda F, x, g, mode=mode, padding_mode=padding_mode: F.grid_sample(
                     x, g, mode=mode, padding_mode=padding_mode, align_corners=False),
                 ((0, 3, 4, 4), grid), ((0, 3, 2, 2),))
function("scaled_dot_product_attention",
         lambda F, q, k, v: F.scaled_dot_product_attention(q, k, v),
         ((0, 2, 5, 4), (0, 2, 6, 4), (0, 2, 6, 4)), ((0, 2, 5, 4),))
function("scaled_dot_product_attention-causal",
         lambda F, q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
         ((0, 2, 5, 4), (0, 2, 5, 4), (0, 2, 5, 4)), ((0, 2, 5, 4),))


def reduced(shape: tuple[int, ...], reduction: str) -> tuple[tuple[int, ...]]:
    """A loss's output shape: one loss per sample (`shape`) with reduction "none", else ()."""
    return (shape if reduction == "none" else (),)


# the losses with options; class weights are constants (torch's fused losses refuse a
# weight that requires grad)
for reduction in ("mean", "sum", "none"):
    function(f"nll_loss-weight-ignore_index-{reduction}",
             lambda F, x, t, w, r=reduction: F.nll_loss(x, t, w, ignore_index=1, reduction=r),
             ((0, 5), Index((0,), 5), Fixed(np.ones(5))), reduced((0,), reduction))
    function(f"cross_entropy-weight-label_smoothing-{reduction}",
             lambda F, x, t, w, r=reduction: F.cross_entropy(x, t, w, label_smoothing=0.1,
                                                             reduction=r),
             ((0, 5), Index((0,), 5), Fixed(np.ones(5))), reduced((0,), reduction))
    function(f"cross_entropy-probabilities-weight-{reduction}",
             lambda F, x, t, w, r=reduction: F.cross_entropy(x, t, w, label_smoothing=0.1,
                                                             reduction=r),
             ((0, 5), Fixed(np.zeros((0, 5))), Fixed(np.ones(5))), reduced((0,), reduction))
    function(f"binary_cross_entropy-weight-{reduction}",
             lambda F, x, t, w, r=reduction: F.binary_cross_entropy(x.sigmoid(), t, w,
                                                                    reduction=r),
             ((0, 4), Fixed(np.zeros((0, 4))), Fixed(np.ones(4))), reduced((0, 4), reduction))
    function(f"binary_cross_entropy_with_logits-pos_weight-{reduction}",
             lambda F, x, t, w, r=reduction: F.binary_cross_entropy_with_logits(
                 x, t, pos_weight=w, reduction=r),
             ((0, 4), Fixed(np.zeros((0, 4))), Fixed(np.ones(4))), reduced((0, 4), reduction))
    function(f"multilabel_soft_margin_loss-weight-{reduction}",
             lambda F, x, t, w, r=reduction: F.multilabel_soft_margin_loss(x, t, w, reduction=r),
             ((0, 4), Fixed(np.ones((0, 4))), Fixed(np.ones(4))), reduced((0,), reduction))
    function(f"poisson_nll_loss-full-{reduction}",
             lambda F, x, t, r=reduction: F.poisson_nll_loss(x, t, log_input=False, full=True,
                                                             reduction=r),
             ((0, 4), Fixed(np.ones((0, 4)))), reduced((0, 4), reduction))
    function(f"gaussian_nll_loss-full-{reduction}",
             lambda F, x, t, v, r=reduction: F.gaussian_nll_loss(x, t, v, full=True,
                                                                 reduction=r),
             ((0, 4), (0, 4), Fixed(np.ones((0, 1)))), reduced((0, 4), reduction))
    function(f"kl_div-log_target-{reduction}",
             lambda F, x, t, r=reduction: F.kl_div(x, t, log_target=True, reduction=r),
             ((0, 4), (0, 4)), reduced((0, 4), reduction))

IDS = [case.id for case in CASES]
TORCH_FORWARD_ONLY = {"PixelShuffle", "F.pixel_shuffle", "F.pdist"}   # see the docstring
NOT_COMPARED = {"PixelUnshuffle", "F.pixel_unshuffle"}                 # torch's shape is wrong
TORCH_CASES = [case for case in CASES if case.id not in NOT_COMPARED]
assert len(set(IDS)) == len(IDS), "case ids must be unique"


# ---------------------------------------------------------------- running a case

def inputs_for(case: Case, dtype: type) -> list[Any]:
    """The case's inputs as numpy arrays (float ones of `dtype`, fixed by a seed)."""
    rng = np.random.default_rng(0)
    arrays = []
    for spec in case.inputs:
        if isinstance(spec, Index):
            arrays.append(rng.integers(0, spec.high, spec.shape).astype(np.int64))
        elif isinstance(spec, Fixed):
            arrays.append(np.asarray(spec.value, dtype=dtype))
        else:
            arrays.append(rng.standard_normal(spec).astype(dtype))
    return arrays


def flat(output: Any) -> list[Any]:
    """The tensors a layer returns, nested tuples (an LSTM's (out, (h, c))) flattened and
    AdaptiveLogSoftmaxWithLoss's (output, loss) taken apart."""
    if isinstance(output, (tuple, list)):
        return [t for part in output for t in flat(part)]
    if hasattr(output, "output") and hasattr(output, "loss"):
        return [output.output, output.loss]
    return [output]


@dataclass
class Run:
    inputs: list[Any]
    outputs: list[Any]
    module: Any


def run(case: Case, lib: Any, arrays: list[Any], dtype: type,
        state: dict[str, np.ndarray] | None = None) -> Run:
    """The case in one library (autodiff, or torch): the layer built (given `state`,
    loaded into it) or the function called on the inputs, then the sum of every output
    that needs a gradient backpropagated."""
    if lib is ad:
        xs = [ad.tensor(a, requires_grad=spec_needs_grad(spec))
              for a, spec in zip(arrays, case.inputs)]
        NN, functional = nn, F
    else:
        xs = [lib.tensor(a, requires_grad=spec_needs_grad(spec))
              for a, spec in zip(arrays, case.inputs)]
        NN, functional = lib.nn, lib.nn.functional
    ad.manual_seed(0)
    module = None
    if case.make is not None:
        module = case.make(NN)
        module.train(case.train)
        module = module.to(dtype) if lib is ad else module.to(getattr(lib, np.dtype(dtype).name))
        if state is not None and lib is not ad:
            module.load_state_dict({k: lib.from_numpy(v.copy()) for k, v in state.items()})
        output = case.call(module, *xs) if case.call else module(*xs)
    else:
        output = case.fn(functional, *xs)
    outputs = flat(output)
    needing = [y for y in outputs if y.requires_grad]
    if needing and (lib is ad or case.id not in TORCH_FORWARD_ONLY):
        total = needing[0].sum()
        for y in needing[1:]:
            total = total + y.sum()
        total.backward()
    return Run(xs, outputs, module)


def spec_needs_grad(spec: Any) -> bool:
    return not isinstance(spec, (Index, Fixed))


def numpy_of(t: Any) -> np.ndarray:
    return np.array(t.detach().numpy())


def dtype_name(t: Any) -> str:
    return np.dtype(t.dtype).name if isinstance(t, ad.Tensor) else str(t.dtype).split(".")[-1]


# ---------------------------------------------------------------- without torch

@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_empty_batch_shapes_by_hand(case: Case) -> None:
    """Outputs of the shapes worked out by hand, float ones float32; every float input
    gets an empty gradient of its shape, every parameter zeros of its shape."""
    ours = run(case, ad, inputs_for(case, np.float32), np.float32)
    assert [y.shape for y in ours.outputs] == list(case.out)
    for y in ours.outputs:
        assert y.dtype in (np.float32, np.int64), y.dtype
    for x in ours.inputs:
        if x.requires_grad and x.grad is not None:
            assert x.grad.shape == x.shape and x.grad.dtype == np.float32
    if ours.module is not None:
        for name, p in ours.module.named_parameters():
            if p.grad is not None:
                assert p.grad.shape == p.shape, name
                assert not p.grad.numpy().any(), name


@pytest.mark.parametrize("name, inputs", [(name, inputs) for name, _, inputs, _ in LOSSES],
                         ids=[name + variant for name, variant, _, _ in LOSSES])
def test_loss_of_an_empty_batch_is_nan_mean_and_zero_sum(name: str, inputs: tuple[Any, ...]
                                                         ) -> None:
    """The mean of no losses is 0/0 = NaN and their sum 0 (torch's, except where torch
    returns uninitialized memory: the two margin losses)."""
    case = Case(name, inputs, ())
    arrays = inputs_for(case, np.float32)
    xs = [ad.tensor(a, requires_grad=spec_needs_grad(s)) for a, s in zip(arrays, inputs)]
    assert np.isnan(getattr(nn, name)(reduction="mean")(*xs).item())
    assert getattr(nn, name)(reduction="sum")(*xs).item() == 0.0


# (function, call with F and autodiff or torch, our error and its message)
REFUSED = [
    ("instance_norm-weight", lambda F, t: F.instance_norm(t.zeros(0, 3, 4), weight=t.ones(3)),
     ad.ShapeError, "^instance_norm: an empty batch"),
    ("instance_norm-bias", lambda F, t: F.instance_norm(t.zeros(0, 3, 4), bias=t.ones(3)),
     ad.ShapeError, "^instance_norm: an empty batch"),
    ("instance_norm-use_running_stats-weight",
     lambda F, t: F.instance_norm(t.zeros(0, 3, 4), t.zeros(3), t.ones(3), t.ones(3),
                                  use_input_stats=False),
     ad.ShapeError, "^instance_norm: an empty batch"),
    ("ctc_loss", lambda F, t: F.ctc_loss(t.zeros(6, 0, 4), t.zeros(0, 3, dtype=t.int64),
                                         t.zeros(0, dtype=t.int64), t.zeros(0, dtype=t.int64)),
     ad.ShapeError, "^ctc_loss: log_probs of shape .* is empty"),
    ("ctc_loss-unbatched-no-steps",
     lambda F, t: F.ctc_loss(t.zeros(0, 4), t.ones(1, dtype=t.int64), t.tensor(0), t.tensor(1)),
     ad.ShapeError, "^ctc_loss: log_probs of shape .* is empty"),
    ("affine_grid", lambda F, t: F.affine_grid(t.zeros(0, 2, 3), [0, 3, 4, 4],
                                               align_corners=False),
     ValueError, "^affine_grid: every size must be at least 1"),
]
REFUSED_IDS = [name for name, *_ in REFUSED]


@pytest.mark.parametrize("call, error, message", [r[1:] for r in REFUSED], ids=REFUSED_IDS)
def test_refused_as_torch_refuses(call: Callable[..., Any], error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        call(F, ad)


def test_refused_by_the_layers_too() -> None:
    with pytest.raises(ad.ShapeError, match="^instance_norm: an empty batch"):
        nn.InstanceNorm2d(3, affine=True)(ad.zeros(0, 3, 4, 4))
    with pytest.raises(ad.ShapeError, match="^ctc_loss: log_probs of shape"):
        nn.CTCLoss()(ad.zeros(6, 0, 4), ad.zeros(0, 3, dtype=ad.int64),
                     ad.zeros(0, dtype=ad.int64), ad.zeros(0, dtype=ad.int64))


def test_batch_norm_keeps_its_running_estimates_and_counts_the_batch() -> None:
    layer = nn.BatchNorm1d(3)
    layer.running_mean.numpy()[...] = [1.0, 2.0, 3.0]
    layer(ad.zeros(0, 3, 5))
    np.testing.assert_array_equal(layer.running_mean.numpy(), [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(layer.running_var.numpy(), [1.0, 1.0, 1.0])
    assert layer.num_batches_tracked.item() == 1


# ---------------------------------------------------------------- against torch

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", TORCH_CASES, ids=[case.id for case in TORCH_CASES])
def test_empty_batch_matches_torch(torch_oracle: Any, case: Case, dtype: type) -> None:
    """Same outputs (shape, dtype, values), gradients and buffers as torch's."""
    torch = torch_oracle.torch
    arrays = inputs_for(case, dtype)
    state = None
    if case.make is not None and "Lazy" not in case.id:
        ad.manual_seed(0)
        state = {k: np.array(v.numpy()) for k, v in case.make(nn).to(dtype).state_dict().items()}
    ours = run(case, ad, arrays, dtype, state)
    theirs = run(case, torch, arrays, dtype, state)
    assert len(ours.outputs) == len(theirs.outputs)
    margin_loss_total = (case.id.split("-")[0] in EMPTY_MARGIN_LOSSES
                         and not case.id.endswith("-none"))
    for y, t in zip(ours.outputs, theirs.outputs):
        assert (y.shape, dtype_name(y)) == (tuple(t.shape), dtype_name(t))
        assert y.requires_grad == t.requires_grad
        if not margin_loss_total:                 # torch: uninitialized memory
            np.testing.assert_array_equal(numpy_of(y), numpy_of(t))
    if case.id in TORCH_FORWARD_ONLY:
        return
    for k, (x, t) in enumerate(zip(ours.inputs, theirs.inputs)):
        assert (x.grad is None) == (t.grad is None), f"input {k}"
        if x.grad is not None:
            assert x.grad.shape == tuple(t.grad.shape), f"input {k}"
            np.testing.assert_array_equal(numpy_of(x.grad), numpy_of(t.grad))
    if ours.module is None:
        return
    their_parameters = dict(theirs.module.named_parameters())
    for name, p in ours.module.named_parameters():
        q = their_parameters[name]
        assert (p.grad is None) == (q.grad is None), name
        if p.grad is not None:
            assert (p.grad.shape, dtype_name(p.grad)) == (tuple(q.grad.shape),
                                                         dtype_name(q.grad)), name
            np.testing.assert_array_equal(numpy_of(p.grad), numpy_of(q.grad), err_msg=name)
    their_state = theirs.module.state_dict()
    assert list(ours.module.state_dict()) == list(their_state)
    their_parameter_names = set(their_parameters)
    for name, value in ours.module.state_dict().items():
        expected = their_state[name].numpy()
        assert value.shape == tuple(expected.shape), name
        if name not in their_parameter_names:   # buffers (a lazy layer's weights are random)
            np.testing.assert_array_equal(value.numpy(), expected, err_msg=name)


@pytest.mark.parametrize("call", [r[1] for r in REFUSED], ids=REFUSED_IDS)
def test_torch_refuses_these_too(torch_oracle: Any, call: Callable[..., Any]) -> None:
    torch = torch_oracle.torch
    with pytest.raises((RuntimeError, IndexError, ValueError)):
        call(torch.nn.functional, torch)


def test_torch_still_errs_where_we_depart(torch_oracle: Any) -> None:
    """When a torch release fixes these, this fails, and the exemptions above can go."""
    torch = torch_oracle.torch
    assert torch.nn.functional.pixel_unshuffle(torch.zeros(0, 1, 4, 4), 2).shape == (0, 1, 4, 4)
    x = torch.zeros(0, 4, 2, 2, requires_grad=True)
    y = torch.nn.functional.pixel_shuffle(x, 2)
    assert y.shape == (0, 1, 4, 4)
    with pytest.raises(RuntimeError):
        y.sum().backward()


# ---------------------------------------------------------------- the engine's rule
# Reductions of a (0, 4) tensor: the shape along dims that have elements, None where no
# extreme exists (the whole tensor, or the empty dim 0).
REDUCTIONS: list[tuple[str, Callable[[Any], Any], tuple[int, ...] | None]] = [
    ("argmax-dim1", lambda x: x.argmax(1), (0,)),
    ("argmin-dim1", lambda x: x.argmin(1), (0,)),
    ("argmax-dim1-keepdim", lambda x: x.argmax(1, keepdim=True), (0, 1)),
    ("max-dim1", lambda x: x.max(1), (0,)),
    ("min-dim1", lambda x: x.min(1), (0,)),
    ("amax-dim1", lambda x: x.amax(1), (0,)),
    ("amin-dim1", lambda x: x.amin(1), (0,)),
    ("softmax-dim0", lambda x: x.softmax(0), (0, 4)),
    ("log_softmax-dim0", lambda x: x.log_softmax(0), (0, 4)),
    ("logsumexp-dim0", lambda x: x.logsumexp(0), (4,)),           # log 0 = -inf each
    ("logsumexp-dim1", lambda x: x.logsumexp(1), (0,)),
    ("argmax-dim0", lambda x: x.argmax(0), None),
    ("argmax", lambda x: x.argmax(), None),
    ("argmin-dim0", lambda x: x.argmin(0), None),
    ("max-dim0", lambda x: x.max(0), None),
    ("max", lambda x: x.max(), None),
    ("min-dim0", lambda x: x.min(0), None),
    ("amax-dim0", lambda x: x.amax(0), None),
    ("amax-every-dim", lambda x: x.amax(()), None),
    ("amin-dim0", lambda x: x.amin(0), None),
]


@pytest.mark.parametrize("reduce, shape", [(r, s) for _, r, s in REDUCTIONS],
                         ids=[name for name, _, _ in REDUCTIONS])
def test_reductions_of_an_empty_tensor(reduce: Callable[[Any], Any],
                                       shape: tuple[int, ...] | None) -> None:
    """An empty result along dims that have elements; a DimError naming the missing
    largest (smallest) element where there is none."""
    x = ad.zeros(0, 4, requires_grad=True)
    if shape is None:
        with pytest.raises(ad.DimError, match="largest|smallest"):
            reduce(x)
        return
    result = reduce(x)
    values = result.values if isinstance(result, tuple) else result
    assert values.shape == shape


@pytest.mark.parametrize("reduce", [r for _, r, _ in REDUCTIONS],
                         ids=[name for name, _, _ in REDUCTIONS])
def test_reductions_of_an_empty_tensor_match_torch(torch_oracle: Any,
                                                   reduce: Callable[[Any], Any]) -> None:
    torch = torch_oracle.torch
    try:
        expected = reduce(torch.zeros(0, 4, requires_grad=True))
    except (RuntimeError, IndexError):
        with pytest.raises(ad.DimError):
            reduce(ad.zeros(0, 4, requires_grad=True))
        return
    result = reduce(ad.zeros(0, 4, requires_grad=True))
    for ours, theirs in zip(flat(tuple(result) if isinstance(result, tuple) else result),
                            flat(tuple(expected) if isinstance(expected, tuple) else expected)):
        assert (ours.shape, dtype_name(ours)) == (tuple(theirs.shape), dtype_name(theirs))
        np.testing.assert_array_equal(numpy_of(ours), numpy_of(theirs))
