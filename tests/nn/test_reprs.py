"""repr(layer) and print(model) give torch's text exactly: every layer class nn exports
(and every built-in layer) is built with the same arguments here and in torch.nn, each
with several argument sets where it has options, containers nested, and the two reprs
must be equal. The few differences are listed with their reason: `DTYPE_SPELLING` (the
containers that print a dtype) and `TORCH_ONLY_ARGUMENTS` (torch's constructor arguments
that cannot be passed here)."""
from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

import autodiff as ad
import nn

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.filterwarnings(      # torch's Transformer, about its fast path
    "ignore:enable_nested_tensor is True:UserWarning")

Build = Callable[[ModuleType], Any]
"""Builds one module from a library's nn namespace (nn here, torch.nn there)."""


def layer(name: str, *args: Any, **kwargs: Any) -> Build:
    """`name(*args, **kwargs)` from the library given."""
    return lambda lib: getattr(lib, name)(*args, **kwargs)


CASES: dict[str, list[Build]] = {
    "Module": [layer("Module")],
    "Identity": [layer("Identity")],
    "Linear": [layer("Linear", 2, 3), layer("Linear", 784, 64, bias=False)],
    "Bilinear": [layer("Bilinear", 20, 30, 40), layer("Bilinear", 2, 3, 4, bias=False)],
    "NonDynamicallyQuantizableLinear": [layer("NonDynamicallyQuantizableLinear", 3, 4)],
    "Conv1d": [layer("Conv1d", 4, 8, 3), layer("Conv1d", 4, 8, 3, stride=2, padding=1,
                                                 dilation=2, groups=2, bias=False,
                                                 padding_mode="circular")],
    "Conv2d": [layer("Conv2d", 1, 16, 5, padding=2), layer("Conv2d", 4, 8, 3, padding="same"),
               layer("Conv2d", 4, 8, (3, 5), stride=(2, 1), padding=(1, 2), dilation=2,
                     groups=4, bias=False, padding_mode="reflect"),
               layer("Conv2d", 2, 2, 3, padding="valid", padding_mode="replicate")],
    "ConvTranspose2d": [layer("ConvTranspose2d", 16, 8, 4, stride=2, padding=1),
                        layer("ConvTranspose2d", 4, 6, (3, 2), stride=2, padding=1,
                              output_padding=1, groups=2, bias=False, dilation=(1, 2))],
    "Conv3d": [layer("Conv3d", 4, 8, 3), layer("Conv3d", 16, 33, (3, 5, 2), stride=(2, 1, 1),
                                                 padding=(4, 2, 0)),
               layer("Conv3d", 4, 8, (3, 2, 1), stride=2, padding=1,
                     dilation=(2, 1, 1), groups=2, bias=False, padding_mode="circular"),
               layer("Conv3d", 2, 2, 3, padding="same", padding_mode="reflect")],
    "ConvTranspose1d": [layer("ConvTranspose1d", 16, 33, 3, stride=2),
                        layer("ConvTranspose1d", 4, 6, 3, stride=2, padding=1,
                              output_padding=1, groups=2, bias=False, dilation=2)],
    "ConvTranspose3d": [layer("ConvTranspose3d", 16, 8, (3, 4, 4), stride=2, padding=1),
                        layer("ConvTranspose3d", 4, 6, (3, 2, 1), stride=(2, 1, 2), padding=1,
                              output_padding=(1, 0, 1), groups=2, bias=False,
                              dilation=(1, 2, 1))],
    "BatchNorm1d": [layer("BatchNorm1d", 4),
                    layer("BatchNorm1d", 4, eps=1e-3, momentum=None, affine=False,
                          track_running_stats=False),
                    layer("BatchNorm1d", 4, bias=False)],
    "BatchNorm2d": [layer("BatchNorm2d", 16), layer("BatchNorm2d", 3, momentum=0.01)],
    "BatchNorm3d": [layer("BatchNorm3d", 4), layer("BatchNorm3d", 3, eps=1e-3, momentum=None,
                                                   affine=False, track_running_stats=False)],
    "LayerNorm": [layer("LayerNorm", 4), layer("LayerNorm", (2, 3), eps=1e-6,
                                                elementwise_affine=False),
                  layer("LayerNorm", [5], bias=False)],
    "GroupNorm": [layer("GroupNorm", 2, 4), layer("GroupNorm", 1, 3, eps=1e-3, affine=False),
                  layer("GroupNorm", 2, 4, bias=False)],
    "Embedding": [layer("Embedding", 10, 3), layer("Embedding", 10, 3, padding_idx=0),
                  layer("Embedding", 10, 3, padding_idx=-1)],
    "EmbeddingBag": [layer("EmbeddingBag", 10, 3),
                     layer("EmbeddingBag", 10, 3, mode="sum", padding_idx=-1,
                           include_last_offset=True),
                     layer("EmbeddingBag", 10, 3, norm_type=3.0, mode="max")],
    "RNN": [layer("RNN", 3, 5), layer("RNN", 3, 5, num_layers=2, nonlinearity="relu",
                                      bias=False, batch_first=True, dropout=0.5,
                                      bidirectional=True)],
    "RNNCell": [layer("RNNCell", 3, 5), layer("RNNCell", 3, 5, bias=False,
                                              nonlinearity="relu")],
    "LSTMCell": [layer("LSTMCell", 10, 20), layer("LSTMCell", 4, 2, bias=False)],
    "GRUCell": [layer("GRUCell", 3, 4), layer("GRUCell", 3, 4, bias=False)],
    "TransformerEncoderLayer": [
        layer("TransformerEncoderLayer", 8, 2),
        layer("TransformerEncoderLayer", 8, 2, 16, dropout=0.2, activation="gelu",
              layer_norm_eps=1e-6, batch_first=True, norm_first=True, bias=False),
        lambda lib: lib.TransformerEncoderLayer(8, 2, 16, activation=lib.GELU())],
    "TransformerEncoder": [
        lambda lib: lib.TransformerEncoder(lib.TransformerEncoderLayer(8, 2, 16), 3,
                                           enable_nested_tensor=False),
        lambda lib: lib.TransformerEncoder(lib.TransformerEncoderLayer(8, 2, 16, norm_first=True),
                                           2, norm=lib.LayerNorm(8), enable_nested_tensor=False)],
    "TransformerDecoderLayer": [
        layer("TransformerDecoderLayer", 8, 2),
        layer("TransformerDecoderLayer", 8, 2, 16, dropout=0.2, activation="gelu",
              layer_norm_eps=1e-6, batch_first=True, norm_first=True, bias=False),
        lambda lib: lib.TransformerDecoderLayer(8, 2, 16, activation=lib.GELU())],
    "TransformerDecoder": [
        lambda lib: lib.TransformerDecoder(lib.TransformerDecoderLayer(8, 2, 16), 3),
        lambda lib: lib.TransformerDecoder(lib.TransformerDecoderLayer(8, 2, 16), 2,
                                           norm=lib.LayerNorm(8))],
    "Transformer": [
        layer("Transformer", 8, 2, 1, 2, 16),
        layer("Transformer", 8, 2, 2, 1, 16, dropout=0.0, activation="gelu",
              layer_norm_eps=1e-6, batch_first=True, norm_first=True, bias=False)],
    "LSTM": [layer("LSTM", 10, 20), layer("LSTM", 10, 20, batch_first=True,
                                          bidirectional=True)],
    "GRU": [layer("GRU", 3, 4), layer("GRU", 3, 4, num_layers=3, dropout=0.2)],
    "MultiheadAttention": [layer("MultiheadAttention", 8, 2),
                           layer("MultiheadAttention", 6, 3, dropout=0.1, bias=False, kdim=4,
                                 vdim=5, batch_first=True)],
    "MaxPool2d": [layer("MaxPool2d", 2), layer("MaxPool2d", (2, 3), stride=1, padding=1,
                                                dilation=2, return_indices=True,
                                                ceil_mode=True)],
    "AvgPool2d": [layer("AvgPool2d", 2), layer("AvgPool2d", 3, 2, 1, ceil_mode=True,
                                                count_include_pad=False, divisor_override=2)],
    "AdaptiveAvgPool2d": [layer("AdaptiveAvgPool2d", (1, 1)), layer("AdaptiveAvgPool2d", 5),
                          layer("AdaptiveAvgPool2d", (None, 3))],
    "AdaptiveMaxPool2d": [layer("AdaptiveMaxPool2d", (5, 7)), layer("AdaptiveMaxPool2d", 3),
                          layer("AdaptiveMaxPool2d", (None, 3), return_indices=True)],
    "MaxPool3d": [layer("MaxPool3d", 2), layer("MaxPool3d", (2, 3, 1), stride=1, padding=1,
                                                dilation=2, return_indices=True,
                                                ceil_mode=True)],
    "AvgPool3d": [layer("AvgPool3d", 2), layer("AvgPool3d", 3, 2, 1, ceil_mode=True,
                                                count_include_pad=False, divisor_override=2)],
    "AdaptiveAvgPool3d": [layer("AdaptiveAvgPool3d", 1), layer("AdaptiveAvgPool3d", (2, None, 3))],
    "AdaptiveMaxPool1d": [layer("AdaptiveMaxPool1d", 3),
                          layer("AdaptiveMaxPool1d", (4,), return_indices=True)],
    "AdaptiveMaxPool3d": [layer("AdaptiveMaxPool3d", 1),
                          layer("AdaptiveMaxPool3d", (2, None, 3), return_indices=True)],
    "MaxUnpool1d": [layer("MaxUnpool1d", 2), layer("MaxUnpool1d", 3, stride=2, padding=1)],
    "MaxUnpool2d": [layer("MaxUnpool2d", 2), layer("MaxUnpool2d", (2, 3), stride=1,
                                                    padding=(1, 0))],
    "MaxUnpool3d": [layer("MaxUnpool3d", 2), layer("MaxUnpool3d", (3, 2, 1), stride=(2, 1, 1),
                                                    padding=1)],
    "Upsample": [layer("Upsample", scale_factor=2),
                 layer("Upsample", size=(4, 6), mode="bilinear"),
                 layer("Upsample", size=4, mode="linear", align_corners=True),
                 layer("Upsample", scale_factor=(2, 1.5), mode="nearest-exact")],
    "Flatten": [layer("Flatten"), layer("Flatten", 0, 2)],
    "Unflatten": [layer("Unflatten", 1, (1, 28, 28))],
    "Dropout": [layer("Dropout"), layer("Dropout", 0.1), layer("Dropout", p=0.3, inplace=True)],
    "Dropout2d": [layer("Dropout2d"), layer("Dropout2d", 0.2, True)],
    "Dropout3d": [layer("Dropout3d"), layer("Dropout3d", 0.2, True)],
    "FeatureAlphaDropout": [layer("FeatureAlphaDropout"),
                            layer("FeatureAlphaDropout", p=0.2, inplace=True)],
    "ReLU": [layer("ReLU"), layer("ReLU", inplace=True)],
    "LeakyReLU": [layer("LeakyReLU"), layer("LeakyReLU", 0.2),
                  layer("LeakyReLU", negative_slope=0.1, inplace=True)],
    "RReLU": [layer("RReLU"), layer("RReLU", 0.1, 0.3), layer("RReLU", upper=0.5, inplace=True)],
    "ELU": [layer("ELU"), layer("ELU", 0.5, True)],
    "CELU": [layer("CELU"), layer("CELU", alpha=2.0, inplace=True)],
    "SELU": [layer("SELU"), layer("SELU", inplace=True)],
    "GELU": [layer("GELU"), layer("GELU", approximate="tanh")],
    "SiLU": [layer("SiLU"), layer("SiLU", inplace=True)],
    "Mish": [layer("Mish"), layer("Mish", inplace=True)],
    "Hardtanh": [layer("Hardtanh"), layer("Hardtanh", -2.0, 0.5),
                 layer("Hardtanh", min_val=0.0, max_val=6.0, inplace=True)],
    "ReLU6": [layer("ReLU6"), layer("ReLU6", inplace=True)],
    "Hardsigmoid": [layer("Hardsigmoid"), layer("Hardsigmoid", inplace=True)],
    "Hardswish": [layer("Hardswish"), layer("Hardswish", inplace=True)],
    "Softplus": [layer("Softplus"), layer("Softplus", 2.0, 10.0)],
    "Sigmoid": [layer("Sigmoid")],
    "Tanh": [layer("Tanh")],
    "LogSigmoid": [layer("LogSigmoid")],
    "Softsign": [layer("Softsign")],
    "Softmax": [layer("Softmax", dim=1), layer("Softmax")],
    "Softmin": [layer("Softmin", dim=0)],
    "LogSoftmax": [layer("LogSoftmax", dim=-1)],
    "MSELoss": [layer("MSELoss"), layer("MSELoss", reduction="sum")],
    "L1Loss": [layer("L1Loss", reduction="none")],
    "SmoothL1Loss": [layer("SmoothL1Loss", beta=0.5)],
    "HuberLoss": [layer("HuberLoss", delta=2.0)],
    "BCELoss": [layer("BCELoss")],
    "BCEWithLogitsLoss": [layer("BCEWithLogitsLoss", reduction="sum")],
    "NLLLoss": [layer("NLLLoss", ignore_index=-1)],
    "CrossEntropyLoss": [layer("CrossEntropyLoss"),
                         layer("CrossEntropyLoss", label_smoothing=0.1)],
    "KLDivLoss": [layer("KLDivLoss", reduction="batchmean", log_target=True)],
    "CosineEmbeddingLoss": [layer("CosineEmbeddingLoss", margin=0.5)],
    "PReLU": [layer("PReLU"), layer("PReLU", 3, 0.1)],
    "Threshold": [layer("Threshold", 0.1, 20), layer("Threshold", 0.1, 20.0, True)],
    "Hardshrink": [layer("Hardshrink"), layer("Hardshrink", 0.3)],
    "Softshrink": [layer("Softshrink"), layer("Softshrink", lambd=1)],
    "Tanhshrink": [layer("Tanhshrink")],
    "GLU": [layer("GLU"), layer("GLU", 1)],
    "Softmax2d": [layer("Softmax2d")],
    "RMSNorm": [layer("RMSNorm", 4), layer("RMSNorm", [2, 3], eps=1e-5,
                                          elementwise_affine=False)],
    "LocalResponseNorm": [layer("LocalResponseNorm", 2),
                          layer("LocalResponseNorm", 3, 1e-3, 0.5, 2.0)],
    "InstanceNorm1d": [layer("InstanceNorm1d", 4),
                       layer("InstanceNorm1d", 4, affine=True, track_running_stats=True)],
    "InstanceNorm2d": [layer("InstanceNorm2d", 3),
                       layer("InstanceNorm2d", 3, eps=1e-3, momentum=0.2, affine=True,
                             track_running_stats=True, bias=False)],
    "InstanceNorm3d": [layer("InstanceNorm3d", 2, momentum=None, affine=True)],
    "Dropout1d": [layer("Dropout1d"), layer("Dropout1d", 0.2, True)],
    "AlphaDropout": [layer("AlphaDropout"), layer("AlphaDropout", p=0.2, inplace=True)],
    "MaxPool1d": [layer("MaxPool1d", 3), layer("MaxPool1d", 3, 2, 1, 2, True, True)],
    "AvgPool1d": [layer("AvgPool1d", 3), layer("AvgPool1d", (3,), 2, 1, True, False)],
    "AdaptiveAvgPool1d": [layer("AdaptiveAvgPool1d", 3), layer("AdaptiveAvgPool1d", (3,))],
    "LPPool1d": [layer("LPPool1d", 2, 3), layer("LPPool1d", 1.5, 3, 2, True)],
    "LPPool2d": [layer("LPPool2d", 2, 3), layer("LPPool2d", 2, (3, 2), (2, 1), True)],
    "UpsamplingNearest2d": [layer("UpsamplingNearest2d", scale_factor=2),
                            layer("UpsamplingNearest2d", size=(3, 4))],
    "UpsamplingBilinear2d": [layer("UpsamplingBilinear2d", scale_factor=2),
                             layer("UpsamplingBilinear2d", size=5)],
    "PixelShuffle": [layer("PixelShuffle", 2)],
    "PixelUnshuffle": [layer("PixelUnshuffle", 3)],
    "ChannelShuffle": [layer("ChannelShuffle", 2)],
    "Fold": [layer("Fold", (4, 5), 2), layer("Fold", 4, (2, 3), 2, 1, 2)],
    "Unfold": [layer("Unfold", 2), layer("Unfold", (2, 3), 1, 1, 2)],
    "CosineSimilarity": [layer("CosineSimilarity"), layer("CosineSimilarity", 0, 1e-6)],
    "PairwiseDistance": [layer("PairwiseDistance"), layer("PairwiseDistance", 1.0, 0.0, True)],
    "ZeroPad1d": [layer("ZeroPad1d", 2), layer("ZeroPad1d", (1, 2))],
    "ZeroPad2d": [layer("ZeroPad2d", 2), layer("ZeroPad2d", (1, 2, 3, 4))],
    "ZeroPad3d": [layer("ZeroPad3d", 1), layer("ZeroPad3d", (1, 2, 3, 4, 5, 6))],
    "ConstantPad1d": [layer("ConstantPad1d", 2, 3.5)],
    "ConstantPad2d": [layer("ConstantPad2d", (1, 2, 3, 4), 1)],
    "ConstantPad3d": [layer("ConstantPad3d", 1, -1.0)],
    "ReflectionPad1d": [layer("ReflectionPad1d", 2)],
    "ReflectionPad2d": [layer("ReflectionPad2d", (1, 0, 2, 1))],
    "ReflectionPad3d": [layer("ReflectionPad3d", 1)],
    "ReplicationPad1d": [layer("ReplicationPad1d", (0, 3))],
    "ReplicationPad2d": [layer("ReplicationPad2d", 2)],
    "ReplicationPad3d": [layer("ReplicationPad3d", (1, 1, 2, 2, 0, 1))],
    "CircularPad1d": [layer("CircularPad1d", 1)],
    "CircularPad2d": [layer("CircularPad2d", (1, 1, 2, 0))],
    "CircularPad3d": [layer("CircularPad3d", 2)],
    "MarginRankingLoss": [layer("MarginRankingLoss", 0.5)],
    "TripletMarginLoss": [layer("TripletMarginLoss", margin=2.0, swap=True)],
    "GaussianNLLLoss": [layer("GaussianNLLLoss", full=True)],
    "SoftMarginLoss": [layer("SoftMarginLoss", reduction="sum")],
    "MultiLabelSoftMarginLoss": [layer("MultiLabelSoftMarginLoss")],
    "HingeEmbeddingLoss": [layer("HingeEmbeddingLoss", margin=2.0)],
    "PoissonNLLLoss": [layer("PoissonNLLLoss", log_input=False, full=True)],
    "MultiMarginLoss": [layer("MultiMarginLoss", p=2, margin=0.5)],
    "MultiLabelMarginLoss": [layer("MultiLabelMarginLoss"),
                             layer("MultiLabelMarginLoss", reduction="sum")],
    "TripletMarginWithDistanceLoss": [
        layer("TripletMarginWithDistanceLoss"),
        layer("TripletMarginWithDistanceLoss", margin=2.0, swap=True, reduction="none"),
        lambda lib: lib.TripletMarginWithDistanceLoss(
            distance_function=lib.PairwiseDistance(p=1.0)),
        layer("TripletMarginWithDistanceLoss", distance_function=abs)],
    "CTCLoss": [layer("CTCLoss"), layer("CTCLoss", blank=2, reduction="sum",
                                          zero_infinity=True)],
    "AdaptiveLogSoftmaxWithLoss": [
        layer("AdaptiveLogSoftmaxWithLoss", 16, 10, [4, 8]),
        layer("AdaptiveLogSoftmaxWithLoss", 16, 20, (3, 9, 15), div_value=2.0, head_bias=True)],
    "LazyLinear": [layer("LazyLinear", 3), layer("LazyLinear", 5, bias=False)],
    "LazyConv1d": [layer("LazyConv1d", 8, 3), layer("LazyConv1d", 8, 3, stride=2, padding=1,
                                                     dilation=2, groups=2, bias=False,
                                                     padding_mode="circular")],
    "LazyConv2d": [layer("LazyConv2d", 16, 5, padding=2),
                   layer("LazyConv2d", 8, 3, padding="same", padding_mode="reflect")],
    "LazyConv3d": [layer("LazyConv3d", 8, (3, 2, 1), stride=2, padding=1, groups=2,
                         bias=False)],
    "LazyConvTranspose1d": [layer("LazyConvTranspose1d", 33, 3, stride=2)],
    "LazyConvTranspose2d": [layer("LazyConvTranspose2d", 8, 4, stride=2, padding=1),
                            layer("LazyConvTranspose2d", 6, (3, 2), stride=2, padding=1,
                                  output_padding=1, groups=2, bias=False, dilation=(1, 2))],
    "LazyConvTranspose3d": [layer("LazyConvTranspose3d", 8, (3, 4, 4), stride=2, padding=1)],
    "LazyBatchNorm1d": [layer("LazyBatchNorm1d"),
                        layer("LazyBatchNorm1d", eps=1e-3, momentum=None, affine=False,
                              track_running_stats=False)],
    "LazyBatchNorm2d": [layer("LazyBatchNorm2d", bias=False)],
    "LazyBatchNorm3d": [layer("LazyBatchNorm3d", momentum=0.01)],
    "LazyInstanceNorm1d": [layer("LazyInstanceNorm1d"),
                           layer("LazyInstanceNorm1d", affine=False, track_running_stats=False)],
    "LazyInstanceNorm2d": [layer("LazyInstanceNorm2d", eps=1e-3, bias=False)],
    "LazyInstanceNorm3d": [layer("LazyInstanceNorm3d", momentum=None, affine=False)],
    "Sequential": [
        layer("Sequential"),
        lambda lib: lib.Sequential(
            lib.Conv2d(1, 16, 5, padding=2), lib.ReLU(), lib.MaxPool2d(2),
            lib.Sequential(lib.Flatten(), lib.Dropout(0.1), lib.Linear(16 * 14 * 14, 10)),
            lib.LogSoftmax(dim=1))],
    "ModuleList": [
        layer("ModuleList"),
        lambda lib: lib.ModuleList([lib.Linear(4, 4) for _ in range(3)] + [lib.ReLU()]),
        lambda lib: lib.ModuleList([lib.Sequential(lib.Linear(2, 2), lib.Tanh()),
                                    lib.ModuleList([lib.Dropout(), lib.Dropout()])])],
    "ModuleDict": [
        layer("ModuleDict"),
        lambda lib: lib.ModuleDict({"encoder": lib.Sequential(lib.Embedding(10, 4),
                                                              lib.LSTM(4, 8)),
                                    "head": lib.Linear(8, 2)})],
}
"""Every layer class nn exports, and every built-in layer: constructors of the same
arguments in both libraries."""


def namespaces(name: str) -> tuple[Any, Any]:
    """Where nn and torch keep the class `name`: nn and torch.nn, but here the module that
    defines a built-in layer nn does not export at its top (MultiheadAttention's out_proj,
    nn.attention's NonDynamicallyQuantizableLinear, which torch keeps in
    torch.nn.modules.linear)."""
    ours = nn if hasattr(nn, name) else \
        importlib.import_module(nn.BUILTIN_LAYERS[name].__module__)
    if name == "NonDynamicallyQuantizableLinear":
        return ours, importlib.import_module("torch.nn.modules.linear")
    return ours, torch.nn


def parameter_list(lib: Any, tensors: Any) -> Any:
    return lib.ParameterList([lib.Parameter(tensors.ones(3)),
                              lib.Parameter(tensors.ones(2, 4, dtype=tensors.float64))])


def parameter_dict(lib: Any, tensors: Any) -> Any:
    return lib.ParameterDict({"x": lib.Parameter(tensors.ones(2)),
                              "y": lib.Parameter(tensors.ones(1, 3, dtype=tensors.float64))})


DTYPE_SPELLING = {
    "ParameterList": (parameter_list, "ParameterList(\n"
                                      "    (0): Parameter containing: [float32 of size 3]\n"
                                      "    (1): Parameter containing: [float64 of size 2x4]\n"
                                      ")", {"torch.float32": "float32",
                                            "torch.float64": "float64"}),
    "ParameterDict": (parameter_dict, "ParameterDict(\n"
                                      "    (x): Parameter containing: [float32 of size 2]\n"
                                      "    (y): Parameter containing: [float64 of size 1x3]\n"
                                      ")", {"torch.FloatTensor": "float32",
                                            "torch.DoubleTensor": "float64"}),
}
"""The containers of parameters print each one's dtype: autodiff names dtypes as numpy does
("float32", as its tensors' reprs do), where torch writes "torch.float32" (ParameterList)
or the tensor type "torch.FloatTensor" (ParameterDict). Each with its builder (from nn and
ad, or torch.nn and torch), its expected text here, and torch's spellings mapped to ours:
the rest of the text is torch's."""

TORCH_ONLY_ARGUMENTS = {
    "device/dtype": ("device", "dtype"),          # factory arguments: one CPU, dtype by .to()
    "losses": ("size_average", "reduce"),         # deprecated in torch for reduction
    "Embedding": ("max_norm", "norm_type", "scale_grad_by_freq", "sparse", "_weight",
                  "_freeze"),                     # not implemented here
    "Hardtanh": ("min_value", "max_value"),       # torch's deprecated spellings
}
"""torch's constructor arguments that cannot be passed here, by reason; MultiheadAttention's
add_bias_kv and add_zero_attn are accepted but refused when True, LSTM's proj_size (in
torch's *args) is not implemented."""


def exported_layer_names() -> set[str]:
    """The Module classes nn exports, and the built-in layers."""
    exported = {name for name, value in vars(nn).items()
                if isinstance(value, type) and issubclass(value, nn.Module)}
    return exported | set(nn.BUILTIN_LAYERS)


def test_every_layer_is_compared_with_torch():
    assert set(CASES) | set(DTYPE_SPELLING) == exported_layer_names()
    assert all(hasattr(namespaces(name)[1], name) for name in exported_layer_names())


@pytest.mark.parametrize(("name", "index"), [(name, index) for name, builds in CASES.items()
                                             for index in range(len(builds))])
def test_repr_equals_torch(name: str, index: int):
    build = CASES[name][index]
    ours, theirs = (build(namespace) for namespace in namespaces(name))
    assert repr(ours) == repr(theirs)
    assert str(ours) == str(theirs)


@pytest.mark.parametrize("name", sorted(DTYPE_SPELLING))
def test_parameter_containers_differ_from_torch_in_the_dtype_spelling_alone(name: str):
    build, expected, spellings = DTYPE_SPELLING[name]
    assert repr(build(nn, ad)) == expected
    theirs = repr(build(torch.nn, torch))
    for spelling, own in spellings.items():
        theirs = theirs.replace(spelling, own)
    assert theirs == expected


def test_the_model_of_document_004_prints_as_torch_prints_it():
    def mnist_cnn(lib: Any) -> Any:
        return lib.Sequential(lib.Conv2d(1, 16, 5, padding=2), lib.ReLU(), lib.MaxPool2d(2),
                              lib.Conv2d(16, 32, 5, padding=2), lib.ReLU(), lib.MaxPool2d(2),
                              lib.Flatten(), lib.Dropout(0.1), lib.Linear(32 * 7 * 7, 10))

    assert repr(mnist_cnn(nn)) == "\n".join([
        "Sequential(",
        "  (0): Conv2d(1, 16, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2))",
        "  (1): ReLU()",
        "  (2): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)",
        "  (3): Conv2d(16, 32, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2))",
        "  (4): ReLU()",
        "  (5): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)",
        "  (6): Flatten(start_dim=1, end_dim=-1)",
        "  (7): Dropout(p=0.1, inplace=False)",
        "  (8): Linear(in_features=1568, out_features=10, bias=True)",
        ")"]) == repr(mnist_cnn(torch.nn))


def torch_only_arguments(name: str) -> set[str]:
    """The arguments of torch's constructor that ours lacks."""
    ours, theirs = (inspect.signature(getattr(namespace, name).__init__).parameters
                    for namespace in namespaces(name))
    return {argument for argument, parameter in theirs.items() if argument not in ours
            and parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)}


def test_torch_arguments_missing_here_are_the_listed_ones():
    listed = {argument for arguments in TORCH_ONLY_ARGUMENTS.values() for argument in arguments}
    missing = {name: torch_only_arguments(name) for name in sorted(nn.BUILTIN_LAYERS)}
    assert {name: arguments - listed for name, arguments in missing.items()
            if arguments - listed} == {}
    assert set().union(*missing.values()) == listed
