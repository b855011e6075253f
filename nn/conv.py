"""Conv2d: 2-D convolution over a batch of images (one graph node, autodiff/ops/conv.py)."""
from __future__ import annotations

import math
from typing import Any

import autodiff as ad
from autodiff.ops import conv
from autodiff.tensor import Tensor

from . import init
from .module import Module, Parameter, builtin_layer


@builtin_layer
class Conv2d(Module):
    """2-D convolution of a batch of images, as one graph node:

        y[n, o, p, q] = b[o] + Σ_{c,i,j} W[o, c, i, j] · x̃[n, c, p·sh + i·dh, q·sw + j·dw]

    over the zero-padded input x̃: each output channel o slides its filter W[o] over the
    input and takes a dot product at every position (cross-correlation, as in torch: the
    filter is not flipped). With groups = g the input channels are split into g groups,
    each seen only by its own out_channels / g filters.

    Args:
        in_channels: C_in, the channels of the input.
        out_channels: C_out, the channels of the output (the number of filters).
        kernel_size: (kh, kw), or one int for both.
        stride: step between windows (default 1).
        padding: zeros added on each side: an int or (ph, pw); "valid" (none, like 0);
            or "same" (the output as large as the input, stride 1 only; an odd total
            goes on the bottom and right, as torch pads).
        dilation: spacing between the kernel's taps (default 1).
        groups: the number of channel groups; must divide both channel counts.
        bias: if False the layer learns no bias (and has no "bias" key).
        padding_mode: "zeros", the only mode here (torch's "reflect", "replicate" and
            "circular" are not implemented).

    Shape:
        input (N, C_in, H, W); output (N, C_out, H_out, W_out) with
        H_out = ⌊(H + 2·padding[0] − dilation[0]·(kernel_size[0] − 1) − 1) / stride[0]⌋ + 1
        and W_out likewise.

    Attributes:
        weight: (C_out, C_in / groups, kh, kw), float32, drawn from U(−√k, √k),
            k = groups / (C_in · kh · kw) = 1 / fan_in.
        bias: (C_out,), float32, drawn from the same distribution.

    Example:
    >>> import autodiff as ad, nn
    >>> conv = nn.Conv2d(1, 32, kernel_size=3, padding=1)
    >>> conv(ad.zeros(64, 1, 28, 28)).shape
    (64, 32, 28, 28)
    >>> conv
    Conv2d(1, 32, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
    >>> conv.weight.shape, conv.bias.shape
    ((32, 1, 3, 3), (32,))
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] | str = 0,
                 dilation: int | tuple[int, int] = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros") -> None:
        super().__init__()
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels),
                            ("groups", groups)):
            if not conv.is_int(value) or value < 1:
                raise ValueError(f"Conv2d: {name} must be a whole number >= 1, got {value!r}")
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            if value % groups:
                common = math.gcd(in_channels, out_channels)
                choices = [str(g) for g in range(1, common + 1) if common % g == 0]
                raise ValueError(f"Conv2d: {name} ({value}) must be divisible by groups "
                                 f"({groups}): each group sees {name} / groups channels; "
                                 f"for Conv2d({in_channels}, {out_channels}, ...) use groups="
                                 f"{' or '.join(choices)}")
        if padding_mode != "zeros":
            raise ValueError(f"Conv2d: padding_mode {padding_mode!r} is not supported, only "
                             f"'zeros'; pad the input yourself, e.g. with ad.cat")
        self.in_channels = int(in_channels)
        self.out_channels = int(out_channels)
        self.kernel_size = conv.pair("Conv2d", "kernel_size", kernel_size, 1)
        self.stride = conv.pair("Conv2d", "stride", stride, 1)
        self.dilation = conv.pair("Conv2d", "dilation", dilation, 1)
        conv.conv_padding("Conv2d", padding, self.kernel_size, self.stride, self.dilation)
        self.padding = padding if isinstance(padding, str) else \
            conv.pair("Conv2d", "padding", padding, 0)
        self.groups = int(groups)
        self.padding_mode = padding_mode
        self.weight = Parameter(ad.zeros(out_channels, in_channels // groups, *self.kernel_size))
        self.register_parameter("bias", Parameter(ad.zeros(out_channels)) if bias else None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torch's default: kaiming_uniform_(a=√5) for the weight, which is
        U(−1/√fan_in, 1/√fan_in) with fan_in = in_channels / groups · kh · kw (the gain
        √(2 / (1 + a²)) = 1/√3 cancels the √3 of a uniform's bound), and the bias from
        the same range."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init.calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in)
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        parameters = self._parameters       # self.weight would go through __getattr__
        return conv.conv2d(input, parameters["weight"], parameters["bias"], self.stride,
                           self.padding, self.dilation, self.groups, caller=self)

    @staticmethod
    def state_shapes(in_channels: int, out_channels: int, kernel_size: int | tuple[int, int],
                     groups: int = 1, bias: bool = True, **_: Any
                     ) -> dict[str, tuple[int, ...]]:
        weight = (out_channels, in_channels // groups,
                  *conv.pair("Conv2d", "kernel_size", kernel_size, 1))
        return {"weight": weight, **({"bias": (out_channels,)} if bias else {})}

    def hyperparameters(self) -> dict[str, Any]:
        return {"in_channels": self.in_channels, "out_channels": self.out_channels,
                "kernel_size": self.kernel_size, "stride": self.stride,
                "padding": self.padding, "dilation": self.dilation, "groups": self.groups,
                "bias": self.bias is not None, "padding_mode": self.padding_mode}

    def extra_repr(self) -> str:
        """torch's form: the options that differ from their defaults, after kernel_size
        and stride (padding strings unquoted, as torch prints them)."""
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text

    def _scope_label(self) -> str:
        kh, kw = self.kernel_size
        return f"Conv2d({self.in_channels}→{self.out_channels}, {kh}×{kw})"
