"""Convolutions: Conv2d (one graph node, autodiff/ops/conv.py), Conv1d (conv2d on a height
of 1), Conv3d (one conv2d over the depth planes), ConvTranspose2d (a matrix product and
fold), ConvTranspose1d (ConvTranspose2d on a height of 1) and ConvTranspose3d
(ConvTranspose2d over the depth planes, then a fold along the depth), on what they share
in _ConvNd (and the transposed ones in _ConvTransposeNd); and their lazy forms, LazyConv1d …
LazyConvTranspose3d, which read in_channels from the first input."""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, ClassVar

import autodiff as ad
from autodiff.ops import conv
from autodiff.tensor import Tensor

from . import functional as F
from . import init
from .lazy import LazyModuleMixin, UninitializedParameter
from .module import Module, Parameter, bare, builtin_layer, changed

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")

SIZES = (bare("in_channels"), bare("out_channels"), "kernel_size", "stride",
         changed("padding", quoted=False), changed("dilation"))
"""The settings every convolution starts with, in torch's repr order; torch shows the
options after kernel_size and stride only when they differ from their defaults, and
padding strings and padding_mode unquoted."""
OPTIONS = (changed("groups"), changed("bias"), changed("padding_mode", quoted=False))
"""The settings every convolution ends with (a transposed one has output_padding
between)."""


class _ConvNd(Module):
    """What the convolutions share (torch's _ConvNd): the checked arguments, the weight's
    shape and torch's initialisation, the hyperparameters and the printed form. `dims` is
    the number of spatial dims; a `transposed` layer's weight is (C_in, C_out / groups,
    *kernel_size), the others' (C_out, C_in / groups, *kernel_size)."""

    SETTINGS = (*SIZES, *OPTIONS)
    LABEL = "{in_channels}→{out_channels}, {kernel_size}"
    dims = 2
    transposed = False
    least_in_channels: ClassVar[int] = 1    # 0 for the lazy ones, until their first input

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any,
                 padding: Any, dilation: Any, groups: int, bias: bool, padding_mode: str,
                 output_padding: Any = 0) -> None:
        super().__init__()
        name = type(self).__name__
        for label, value in (("in_channels", in_channels), ("out_channels", out_channels),
                             ("groups", groups)):
            least = self.least_in_channels if label == "in_channels" else 1
            if not conv.is_int(value) or value < least:
                raise ValueError(f"{name}: {label} must be a whole number >= {least}, got "
                                 f"{value!r}")
        for label, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            if value % groups:
                common = math.gcd(in_channels, out_channels)
                choices = [str(g) for g in range(1, common + 1) if common % g == 0]
                raise ValueError(f"{name}: {label} ({value}) must be divisible by groups "
                                 f"({groups}): each group sees {label} / groups channels; "
                                 f"for {name}({in_channels}, {out_channels}, ...) use groups="
                                 f"{' or '.join(choices)}")
        modes = ("zeros",) if self.transposed else PADDING_MODES
        if padding_mode not in modes:
            names = [repr(mode) for mode in modes]
            allowed = " or ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1
                                  else names)
            raise ValueError(f"{name}: padding_mode must be {allowed}, got {padding_mode!r}")
        self.in_channels = int(in_channels)
        self.out_channels = int(out_channels)
        self.kernel_size = F.conv_tuple(name, "kernel_size", kernel_size, 1, self.dims)
        self.stride = F.conv_tuple(name, "stride", stride, 1, self.dims)
        self.dilation = F.conv_tuple(name, "dilation", dilation, 1, self.dims)
        if self.transposed:
            if isinstance(padding, str):
                raise ValueError(f"{name}: padding must be an int or a tuple (a transposed "
                                 f"convolution takes no 'same' or 'valid'), got {padding!r}")
            self.output_padding = F.conv_tuple(name, "output_padding", output_padding, 0,
                                               self.dims)
        pairs = F.conv_padding(name, padding, self.kernel_size, self.stride, self.dilation)
        self.padding = padding if isinstance(padding, str) else \
            F.conv_tuple(name, "padding", padding, 0, self.dims)
        # F.pad's argument for the padding modes: (before, after) per dim, the last dim first
        self._pad_amounts = tuple(amount for pair in reversed(pairs) for amount in pair)
        self.groups = int(groups)
        self.padding_mode = padding_mode
        channels = ((in_channels, out_channels // groups) if self.transposed
                    else (out_channels, in_channels // groups))
        self.weight = Parameter(ad.zeros(*channels, *self.kernel_size))
        self.register_parameter("bias", Parameter(ad.zeros(out_channels)) if bias else None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torch's default: kaiming_uniform_(a=√5) for the weight, which is
        U(−1/√fan_in, 1/√fan_in) with fan_in = weight.shape[1] · the kernel's size
        (in_channels / groups · kh · kw for a conv; out_channels / groups · kh · kw for a
        transposed one, as torch computes it from the weight's shape); the gain
        √(2 / (1 + a²)) = 1/√3 cancels the √3 of a uniform's bound. The bias is drawn from
        the same range."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init.calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in)
            init.uniform_(self.bias, -bound, bound)

    def _convolve(self, input: Tensor, convolution: Callable[..., Tensor]) -> Tensor:
        """`convolution` (conv1d or conv2d) of the input with the layer's weight and bias.
        A padding_mode other than "zeros" pads the input with F.pad first and convolves
        with no padding, as torch; an input of the wrong rank is left for the convolution
        to refuse."""
        parameters = self._parameters       # self.weight would go through __getattr__
        padding = self.padding
        if self.padding_mode != "zeros" and input.ndim == self.dims + 2:
            input = F.pad(input, self._pad_amounts, mode=self.padding_mode)
            padding = 0
        return convolution(input, parameters["weight"], parameters["bias"], self.stride,
                           padding, self.dilation, self.groups, caller=self)

    @classmethod
    def state_shapes(cls, in_channels: int, out_channels: int, kernel_size: Any,
                     groups: int = 1, bias: bool = True, **_: Any
                     ) -> dict[str, tuple[int, ...]]:
        kernel = F.conv_tuple(cls.__name__, "kernel_size", kernel_size, 1, cls.dims)
        channels = ((in_channels, out_channels // groups) if cls.transposed
                    else (out_channels, in_channels // groups))
        return {"weight": channels + kernel, **({"bias": (out_channels,)} if bias else {})}


@builtin_layer
class Conv1d(_ConvNd):
    """1-D convolution of a batch of sequences (signals, audio, token embeddings with
    their features as channels):

        y[n, o, p] = b[o] + Σ_{c,i} W[o, c, i] · x̃[n, c, p·s + i·d]

    over the padded input x̃: each output channel o slides its filter W[o] along the
    sequence (cross-correlation, as in torch). With groups = g the input channels are
    split into g groups, each seen only by its own out_channels / g filters. Computed by
    F.conv1d, as conv2d on a height of 1, so its gradients are conv2d's.

    Args:
        in_channels: C_in, the channels of the input.
        out_channels: C_out, the channels of the output (the number of filters).
        kernel_size: k, an int or a 1-tuple.
        stride: step between windows (default 1).
        padding: added on each side: an int; "valid" (none, like 0); or "same" (the
            output as long as the input, stride 1 only; an odd total goes on the right).
        dilation: spacing between the kernel's taps (default 1).
        groups: the number of channel groups; must divide both channel counts.
        bias: if False the layer learns no bias (and has no "bias" key).
        padding_mode: what the padding holds: "zeros" (default), "reflect" (the input
            mirrored about its edge), "replicate" (the edge repeated) or "circular" (the
            other end); see F.pad.

    Shape:
        input (N, C_in, L); output (N, C_out, L_out) with
        L_out = ⌊(L + 2·padding − dilation·(kernel_size − 1) − 1) / stride⌋ + 1.

    Attributes:
        weight: (C_out, C_in / groups, k), float32, drawn from U(−√k', √k'),
            k' = groups / (C_in · k) = 1 / fan_in.
        bias: (C_out,), float32, drawn from the same distribution.

    Example:
    >>> import autodiff as ad, nn
    >>> conv = nn.Conv1d(16, 33, 3, stride=2)
    >>> conv(ad.zeros(20, 16, 50)).shape
    (20, 33, 24)
    >>> conv
    Conv1d(16, 33, kernel_size=(3,), stride=(2,))
    >>> conv.weight.shape
    (33, 16, 3)
    """

    dims = 1

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int],
                 stride: int | tuple[int] = 1, padding: int | tuple[int] | str = 0,
                 dilation: int | tuple[int] = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros") -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode)

    def forward(self, input: Tensor) -> Tensor:
        return self._convolve(input, F.conv1d)


@builtin_layer
class Conv2d(_ConvNd):
    """2-D convolution of a batch of images, as one graph node:

        y[n, o, p, q] = b[o] + Σ_{c,i,j} W[o, c, i, j] · x̃[n, c, p·sh + i·dh, q·sw + j·dw]

    over the padded input x̃: each output channel o slides its filter W[o] over the
    input and takes a dot product at every position (cross-correlation, as in torch: the
    filter is not flipped). With groups = g the input channels are split into g groups,
    each seen only by its own out_channels / g filters.

    Args:
        in_channels: C_in, the channels of the input.
        out_channels: C_out, the channels of the output (the number of filters).
        kernel_size: (kh, kw), or one int for both.
        stride: step between windows (default 1).
        padding: added on each side: an int or (ph, pw); "valid" (none, like 0); or
            "same" (the output as large as the input, stride 1 only; an odd total goes
            on the bottom and right, as torch pads).
        dilation: spacing between the kernel's taps (default 1).
        groups: the number of channel groups; must divide both channel counts.
        bias: if False the layer learns no bias (and has no "bias" key).
        padding_mode: what the padding holds: "zeros" (default), "reflect" (the input
            mirrored about its edge), "replicate" (the edge repeated) or "circular" (the
            other side); the modes other than "zeros" pad with F.pad first, as torch.

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
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode)

    def forward(self, input: Tensor) -> Tensor:
        return self._convolve(input, conv.conv2d)


@builtin_layer
class Conv3d(_ConvNd):
    """3-D convolution of a batch of volumes (video clips, medical scans):

        y[n, o, r, p, q] = b[o] + Σ_{c,t,i,j} W[o, c, t, i, j]
                                   · x̃[n, c, r·sd + t·dd, p·sh + i·dh, q·sw + j·dw]

    over the padded input x̃: each output channel o slides its filter W[o] through the
    volume (cross-correlation, as in torch). With groups = g the input channels are split
    into g groups, each seen only by its own out_channels / g filters. Computed by
    F.conv3d as one conv2d over the depth planes, the kd depth taps made channels, so its
    gradients are conv2d's.

    Args:
        in_channels: C_in, the channels of the input.
        out_channels: C_out, the channels of the output (the number of filters).
        kernel_size: (kd, kh, kw), or one int for all three.
        stride: step between windows (default 1).
        padding: added on each side: an int or (pd, ph, pw); "valid" (none, like 0); or
            "same" (the output as large as the input, stride 1 only; an odd total goes
            after, as torch pads).
        dilation: spacing between the kernel's taps (default 1).
        groups: the number of channel groups; must divide both channel counts.
        bias: if False the layer learns no bias (and has no "bias" key).
        padding_mode: what the padding holds: "zeros" (default), "reflect", "replicate"
            or "circular" (see F.pad; these pad with F.pad first, as torch).

    Shape:
        input (N, C_in, D, H, W); output (N, C_out, D_out, H_out, W_out) with
        D_out = ⌊(D + 2·padding[0] − dilation[0]·(kernel_size[0] − 1) − 1) / stride[0]⌋ + 1
        and H_out, W_out likewise.

    Attributes:
        weight: (C_out, C_in / groups, kd, kh, kw), float32, drawn from U(−√k, √k),
            k = groups / (C_in · kd · kh · kw) = 1 / fan_in.
        bias: (C_out,), float32, drawn from the same distribution.

    Example:
    >>> import autodiff as ad, nn
    >>> conv = nn.Conv3d(16, 33, (3, 5, 2), stride=(2, 1, 1), padding=(4, 2, 0))
    >>> conv(ad.zeros(2, 16, 10, 12, 8)).shape
    (2, 33, 8, 12, 7)
    >>> conv
    Conv3d(16, 33, kernel_size=(3, 5, 2), stride=(2, 1, 1), padding=(4, 2, 0))
    >>> conv.weight.shape
    (33, 16, 3, 5, 2)
    """

    dims = 3

    def __init__(self, in_channels: int, out_channels: int,
                 kernel_size: int | tuple[int, int, int], stride: int | tuple[int, int, int] = 1,
                 padding: int | tuple[int, int, int] | str = 0,
                 dilation: int | tuple[int, int, int] = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros") -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode)

    def forward(self, input: Tensor) -> Tensor:
        return self._convolve(input, F.conv3d)


class _ConvTransposeNd(_ConvNd):
    """What ConvTranspose1d, 2d and 3d share: output_padding in the settings, and a
    forward that may be given the output size wanted instead of output_padding."""

    SETTINGS = (*SIZES, changed("output_padding"), *OPTIONS)
    transposed = True
    _transpose: Callable[..., Tensor]
    """The functional form each subclass computes with (F.conv_transpose1d, 2d or 3d)."""

    def forward(self, input: Tensor, output_size: tuple[int, ...] | None = None) -> Tensor:
        parameters = self._parameters       # self.weight would go through __getattr__
        output_padding = (self.output_padding if output_size is None
                          else self._output_padding(input, output_size))
        return self._transpose(input, parameters["weight"], parameters["bias"], self.stride,
                               self.padding, output_padding, self.groups, self.dilation,
                               caller=self)

    def _output_padding(self, input: Tensor, output_size: tuple[int, ...]) -> tuple[int, ...]:
        """The output_padding that gives an output of `output_size` (the spatial sizes, or
        the whole (N, C_out, ...) shape), as torch: each must lie between the smallest
        size, output_padding 0, and that plus stride − 1."""
        F.check_input_rank(self, input.shape, self.dims)
        wanted = tuple(output_size)
        if len(wanted) == self.dims + 2:
            wanted = wanted[2:]
        if len(wanted) != self.dims or not all(conv.is_int(n) for n in wanted):
            sizes = ", ".join(f"{name[0].upper()}_out" for name in F.SPATIAL_DIMS[self.dims])
            alone = f"({sizes},)" if self.dims == 1 else f"({sizes})"
            raise ValueError(f"{self}: output_size must be {alone} or (N, C_out, {sizes}), "
                             f"got {output_size!r}")
        smallest = tuple((n - 1) * s - 2 * p + d * (k - 1) + 1 for n, s, p, d, k in zip(
            input.shape[2:], self.stride, self.padding, self.dilation, self.kernel_size))
        largest = tuple(m + s - 1 for m, s in zip(smallest, self.stride))
        if any(not m <= n <= b for n, m, b in zip(wanted, smallest, largest)):
            raise ValueError(f"{self}: requested an output size of {wanted}, but valid sizes "
                             f"range from {smallest} to {largest} (for an input of "
                             f"{input.shape[2:]})")
        return tuple(n - m for n, m in zip(wanted, smallest))


@builtin_layer
class ConvTranspose1d(_ConvTransposeNd):
    """Transposed 1-D convolution, the adjoint of Conv1d with respect to its input: each
    input element spreads its value, weighted by the kernel, over a window of the output,
    so a stride s lengthens a sequence about s times (as in audio and sequence decoders):

        ỹ[n, o, p·s + i·d] += Σ_c x[n, c, p] · W[c, o, i]

    (c over o's group), then `padding` elements are cut from each end of ỹ (less
    output_padding at the right end) and b[o] is added. Computed by F.conv_transpose1d,
    as conv_transpose2d on a height of 1, so its gradients are matmul's and fold's.

    Args:
        in_channels: C_in, the channels of the input.
        out_channels: C_out, the channels of the output.
        kernel_size: k, an int or a 1-tuple.
        stride: the step, in the output, between the windows of neighbouring input
            elements (default 1).
        padding: elements cut from each end of the output (default 0).
        output_padding: elements added back at the right end (default 0), smaller than
            stride or dilation: it picks which of the lengths a strided Conv1d maps to
            one output length the transpose gives back.
        groups: the number of channel groups; must divide both channel counts.
        bias: if False the layer learns no bias (and has no "bias" key).
        dilation: spacing between the kernel's taps (default 1).
        padding_mode: "zeros", the only mode torch has for a transposed convolution.

    Shape:
        input (N, C_in, L); output (N, C_out, L_out) with L_out = (L − 1)·stride −
        2·padding + dilation·(kernel_size − 1) + output_padding + 1. forward(input,
        output_size) may give the length wanted instead ((L_out,) or the whole
        (N, C_out, L_out)), which sets output_padding to reach it, as torch.

    Attributes:
        weight: (C_in, C_out / groups, k), float32, drawn from U(−√k', √k'),
            k' = groups / (C_out · k) = 1 / fan_in, fan_in as torch reads it from the
            weight's shape.
        bias: (C_out,), float32, drawn from the same distribution.

    Example:
    >>> import autodiff as ad, nn
    >>> up = nn.ConvTranspose1d(16, 33, 3, stride=2)
    >>> up(ad.zeros(20, 16, 50)).shape
    (20, 33, 101)
    >>> up
    ConvTranspose1d(16, 33, kernel_size=(3,), stride=(2,))
    >>> up.weight.shape
    (16, 33, 3)
    >>> up(ad.zeros(20, 16, 50), output_size=(102,)).shape
    (20, 33, 102)
    """

    dims = 1
    _transpose = staticmethod(F.conv_transpose1d)

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int],
                 stride: int | tuple[int] = 1, padding: int | tuple[int] = 0,
                 output_padding: int | tuple[int] = 0, groups: int = 1, bias: bool = True,
                 dilation: int | tuple[int] = 1, padding_mode: str = "zeros") -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, output_padding)


@builtin_layer
class ConvTranspose2d(_ConvTransposeNd):
    """Transposed 2-D convolution (sometimes called a deconvolution), the adjoint of
    Conv2d with respect to its input: where Conv2d gathers a window of pixels into one
    output, this spreads each input pixel, weighted by the kernel, over a window of the
    output, so a stride s upsamples by s (as in DCGAN generators and U-Net decoders):

        ỹ[n, o, p·sh + i·dh, q·sw + j·dw] += Σ_c x[n, c, p, q] · W[c, o, i, j]

    (c over o's group), then `padding` rows and columns are cut from each side of ỹ
    (less output_padding at the bottom and right) and b[o] is added. Computed by
    F.conv_transpose2d as one matrix product per group and a fold (col2im), so its
    gradients come from matmul and fold.

    Args:
        in_channels: C_in, the channels of the input.
        out_channels: C_out, the channels of the output.
        kernel_size: (kh, kw), or one int for both.
        stride: the step, in the output, between the windows of neighbouring input pixels
            (default 1).
        padding: rows and columns cut from each side of the output (default 0; an int
            or (ph, pw)); the equivalent direct convolution of the zero-stuffed input
            pads it by dilation · (kernel_size − 1) − padding.
        output_padding: rows and columns added back at the bottom and right (default 0),
            smaller than stride or dilation: a strided Conv2d maps several input sizes
            to one output size, and this picks which one the transpose gives back.
        groups: the number of channel groups; must divide both channel counts.
        bias: if False the layer learns no bias (and has no "bias" key).
        dilation: spacing between the kernel's taps (default 1).
        padding_mode: "zeros", the only mode torch has for a transposed convolution.

    Shape:
        input (N, C_in, H, W); output (N, C_out, H_out, W_out) with
        H_out = (H − 1)·stride[0] − 2·padding[0] + dilation[0]·(kernel_size[0] − 1)
        + output_padding[0] + 1, and W_out likewise. forward(input, output_size) may give
        the size wanted instead (of (H_out, W_out) or of the whole output), which sets
        output_padding to reach it, as torch.

    Attributes:
        weight: (C_in, C_out / groups, kh, kw), float32, drawn from U(−√k, √k),
            k = groups / (C_out · kh · kw) = 1 / fan_in, fan_in as torch reads it from
            the weight's shape.
        bias: (C_out,), float32, drawn from the same distribution.

    Example:
    >>> import autodiff as ad, nn
    >>> up = nn.ConvTranspose2d(16, 8, kernel_size=4, stride=2, padding=1)
    >>> up(ad.zeros(2, 16, 7, 7)).shape
    (2, 8, 14, 14)
    >>> up
    ConvTranspose2d(16, 8, kernel_size=(4, 4), stride=(2, 2), padding=(1, 1))
    >>> up.weight.shape
    (16, 8, 4, 4)
    >>> nn.ConvTranspose2d(16, 8, 3, stride=2)(ad.zeros(2, 16, 7, 7), output_size=(16, 16)).shape
    (2, 8, 16, 16)
    """

    _transpose = staticmethod(F.conv_transpose2d)

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0,
                 output_padding: int | tuple[int, int] = 0, groups: int = 1,
                 bias: bool = True, dilation: int | tuple[int, int] = 1,
                 padding_mode: str = "zeros") -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, output_padding)


@builtin_layer
class ConvTranspose3d(_ConvTransposeNd):
    """Transposed 3-D convolution, the adjoint of Conv3d with respect to its input: each
    input voxel spreads its value, weighted by the kernel, over a window of the output, so
    a stride s upsamples a volume about s times in each dim (as in 3-D U-Net decoders):

        ỹ[n, o, r·sd + t·dd, p·sh + i·dh, q·sw + j·dw] += Σ_c x[n, c, r, p, q] · W[c, o, t, i, j]

    (c over o's group), then `padding` is cut from each side of ỹ (less output_padding at
    the far end of each dim) and b[o] is added. Computed by F.conv_transpose3d: every depth
    plane through conv_transpose2d with the depth taps as channels, then a fold along the
    depth, so its gradients are matmul's and fold's.

    Args:
        in_channels: C_in, the channels of the input.
        out_channels: C_out, the channels of the output.
        kernel_size: (kd, kh, kw), or one int for all three.
        stride: the step, in the output, between the windows of neighbouring input voxels
            (default 1).
        padding: cut from each side of the output (default 0; an int or (pd, ph, pw)).
        output_padding: added back at the far end of each dim (default 0), smaller than
            stride or dilation: it picks which of the sizes a strided Conv3d maps to one
            output size the transpose gives back.
        groups: the number of channel groups; must divide both channel counts.
        bias: if False the layer learns no bias (and has no "bias" key).
        dilation: spacing between the kernel's taps (default 1).
        padding_mode: "zeros", the only mode torch has for a transposed convolution.

    Shape:
        input (N, C_in, D, H, W); output (N, C_out, D_out, H_out, W_out) with
        D_out = (D − 1)·stride[0] − 2·padding[0] + dilation[0]·(kernel_size[0] − 1)
        + output_padding[0] + 1, and H_out, W_out likewise. forward(input, output_size)
        may give the size wanted instead (of (D_out, H_out, W_out) or of the whole
        output), which sets output_padding to reach it, as torch.

    Attributes:
        weight: (C_in, C_out / groups, kd, kh, kw), float32, drawn from U(−√k, √k),
            k = groups / (C_out · kd · kh · kw) = 1 / fan_in, fan_in as torch reads it
            from the weight's shape.
        bias: (C_out,), float32, drawn from the same distribution.

    Example:
    >>> import autodiff as ad, nn
    >>> up = nn.ConvTranspose3d(16, 8, kernel_size=(3, 4, 4), stride=2, padding=1)
    >>> up(ad.zeros(2, 16, 3, 5, 5)).shape
    (2, 8, 5, 10, 10)
    >>> up
    ConvTranspose3d(16, 8, kernel_size=(3, 4, 4), stride=(2, 2, 2), padding=(1, 1, 1))
    >>> up.weight.shape
    (16, 8, 3, 4, 4)
    >>> up(ad.zeros(2, 16, 3, 5, 5), output_size=(6, 10, 10)).shape
    (2, 8, 6, 10, 10)
    """

    dims = 3
    _transpose = staticmethod(F.conv_transpose3d)

    def __init__(self, in_channels: int, out_channels: int,
                 kernel_size: int | tuple[int, int, int], stride: int | tuple[int, int, int] = 1,
                 padding: int | tuple[int, int, int] = 0,
                 output_padding: int | tuple[int, int, int] = 0, groups: int = 1,
                 bias: bool = True, dilation: int | tuple[int, int, int] = 1,
                 padding_mode: str = "zeros") -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, output_padding)


class _LazyConvMixin(LazyModuleMixin):
    """What the lazy convolutions share: in_channels is read from the first input's
    channel dim (dim 1, or dim 0 for an unbatched input), and the weight made
    (C_out, C_in / groups, *kernel_size), or (C_in, C_out / groups, *kernel_size) for a
    transposed one, and initialised as the ordinary convolution's."""

    inferred = "in_channels"
    least_in_channels = 0

    def _lazy_placeholders(self, out_channels: int, bias: bool) -> None:
        """Replace the size-0 layer's weight (and bias) by placeholders."""
        self.weight = UninitializedParameter()
        self.out_channels = out_channels
        if bias:
            self.bias = UninitializedParameter()

    def input_size(self, input: Tensor) -> int:
        name = type(self).__name__
        if input.ndim not in (self.dims + 1, self.dims + 2):
            raise ValueError(f"{name}: expected a {self.dims + 1}-D (unbatched) or "
                             f"{self.dims + 2}-D (batched) input, got shape {input.shape}")
        channels = input.shape[1] if input.ndim == self.dims + 2 else input.shape[0]
        if channels % self.groups:
            raise ValueError(f"{name}: the input's {channels} channels (in_channels) must be "
                             f"divisible by groups ({self.groups})")
        return channels

    def inferred_shapes(self) -> dict[str, tuple[int, ...]]:
        return self.cls_to_become.state_shapes(self.in_channels, self.out_channels,
                                               self.kernel_size, self.groups,
                                               self.bias is not None)

    @staticmethod
    def state_shapes(bias: bool = True, **_: Any) -> dict[str, tuple[int, ...]]:
        return {"weight": (0,), **({"bias": (0,)} if bias else {})}


@builtin_layer
class LazyConv1d(_LazyConvMixin, Conv1d):
    """A Conv1d whose in_channels is read from the first input's channel dim (dim 1,
    or dim 0 unbatched). Until that call, weight and bias are UninitializedParameters;
    the call makes them, initialises them as Conv1d does, and turns the module
    into a Conv1d. The other arguments are Conv1d's.

    Example:
    >>> import autodiff as ad, nn
    >>> conv = nn.LazyConv1d(33, 3, stride=2)
    >>> conv(ad.zeros(20, 16, 50)).shape, conv.weight.shape
    ((20, 33, 24), (33, 16, 3))
    """

    cls_to_become = Conv1d

    def __init__(self, out_channels: int, kernel_size: int | tuple[int],
                 stride: int | tuple[int] = 1, padding: int | tuple[int] | str = 0,
                 dilation: int | tuple[int] = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros") -> None:
        super().__init__(0, out_channels, kernel_size, stride, padding, dilation, groups,
                         False, padding_mode)
        self._lazy_placeholders(out_channels, bias)


@builtin_layer
class LazyConv2d(_LazyConvMixin, Conv2d):
    """A Conv2d whose in_channels is read from the first input's channel dim (dim 1,
    or dim 0 unbatched). Until that call, weight and bias are UninitializedParameters;
    the call makes them, initialises them as Conv2d does, and turns the module
    into a Conv2d. The other arguments are Conv2d's.

    Example:
    >>> import autodiff as ad, nn
    >>> conv = nn.LazyConv2d(32, kernel_size=3, padding=1)
    >>> conv(ad.zeros(4, 3, 28, 28)).shape, conv.weight.shape
    ((4, 32, 28, 28), (32, 3, 3, 3))
    """

    cls_to_become = Conv2d

    def __init__(self, out_channels: int, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] | str = 0,
                 dilation: int | tuple[int, int] = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros") -> None:
        super().__init__(0, out_channels, kernel_size, stride, padding, dilation, groups,
                         False, padding_mode)
        self._lazy_placeholders(out_channels, bias)


@builtin_layer
class LazyConv3d(_LazyConvMixin, Conv3d):
    """A Conv3d whose in_channels is read from the first input's channel dim (dim 1,
    or dim 0 unbatched). Until that call, weight and bias are UninitializedParameters;
    the call makes them, initialises them as Conv3d does, and turns the module
    into a Conv3d. The other arguments are Conv3d's.

    Example:
    >>> import autodiff as ad, nn
    >>> conv = nn.LazyConv3d(8, 3)
    >>> conv(ad.zeros(2, 4, 5, 6, 7)).shape, conv.weight.shape
    ((2, 8, 3, 4, 5), (8, 4, 3, 3, 3))
    """

    cls_to_become = Conv3d

    def __init__(self, out_channels: int, kernel_size: int | tuple[int, int, int],
                 stride: int | tuple[int, int, int] = 1,
                 padding: int | tuple[int, int, int] | str = 0,
                 dilation: int | tuple[int, int, int] = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros") -> None:
        super().__init__(0, out_channels, kernel_size, stride, padding, dilation, groups,
                         False, padding_mode)
        self._lazy_placeholders(out_channels, bias)


@builtin_layer
class LazyConvTranspose1d(_LazyConvMixin, ConvTranspose1d):
    """A ConvTranspose1d whose in_channels is read from the first input's channel dim (dim 1,
    or dim 0 unbatched). Until that call, weight and bias are UninitializedParameters;
    the call makes them, initialises them as ConvTranspose1d does, and turns the module
    into a ConvTranspose1d. The other arguments are ConvTranspose1d's.

    Example:
    >>> import autodiff as ad, nn
    >>> up = nn.LazyConvTranspose1d(33, 3, stride=2)
    >>> up(ad.zeros(20, 16, 50)).shape, up.weight.shape
    ((20, 33, 101), (16, 33, 3))
    """

    cls_to_become = ConvTranspose1d

    def __init__(self, out_channels: int, kernel_size: int | tuple[int],
                 stride: int | tuple[int] = 1, padding: int | tuple[int] = 0,
                 output_padding: int | tuple[int] = 0, groups: int = 1, bias: bool = True,
                 dilation: int | tuple[int] = 1, padding_mode: str = "zeros") -> None:
        super().__init__(0, out_channels, kernel_size, stride, padding, output_padding,
                         groups, False, dilation, padding_mode)
        self._lazy_placeholders(out_channels, bias)


@builtin_layer
class LazyConvTranspose2d(_LazyConvMixin, ConvTranspose2d):
    """A ConvTranspose2d whose in_channels is read from the first input's channel dim (dim 1,
    or dim 0 unbatched). Until that call, weight and bias are UninitializedParameters;
    the call makes them, initialises them as ConvTranspose2d does, and turns the module
    into a ConvTranspose2d. The other arguments are ConvTranspose2d's.

    Example:
    >>> import autodiff as ad, nn
    >>> up = nn.LazyConvTranspose2d(8, kernel_size=4, stride=2, padding=1)
    >>> up(ad.zeros(2, 16, 7, 7)).shape, up.weight.shape
    ((2, 8, 14, 14), (16, 8, 4, 4))
    """

    cls_to_become = ConvTranspose2d

    def __init__(self, out_channels: int, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0,
                 output_padding: int | tuple[int, int] = 0, groups: int = 1,
                 bias: bool = True, dilation: int | tuple[int, int] = 1,
                 padding_mode: str = "zeros") -> None:
        super().__init__(0, out_channels, kernel_size, stride, padding, output_padding,
                         groups, False, dilation, padding_mode)
        self._lazy_placeholders(out_channels, bias)


@builtin_layer
class LazyConvTranspose3d(_LazyConvMixin, ConvTranspose3d):
    """A ConvTranspose3d whose in_channels is read from the first input's channel dim (dim 1,
    or dim 0 unbatched). Until that call, weight and bias are UninitializedParameters;
    the call makes them, initialises them as ConvTranspose3d does, and turns the module
    into a ConvTranspose3d. The other arguments are ConvTranspose3d's.

    Example:
    >>> import autodiff as ad, nn
    >>> up = nn.LazyConvTranspose3d(8, kernel_size=2, stride=2)
    >>> up(ad.zeros(2, 4, 3, 5, 5)).shape, up.weight.shape
    ((2, 8, 6, 10, 10), (4, 8, 2, 2, 2))
    """

    cls_to_become = ConvTranspose3d

    def __init__(self, out_channels: int, kernel_size: int | tuple[int, int, int],
                 stride: int | tuple[int, int, int] = 1,
                 padding: int | tuple[int, int, int] = 0,
                 output_padding: int | tuple[int, int, int] = 0, groups: int = 1,
                 bias: bool = True, dilation: int | tuple[int, int, int] = 1,
                 padding_mode: str = "zeros") -> None:
        super().__init__(0, out_channels, kernel_size, stride, padding, output_padding,
                         groups, False, dilation, padding_mode)
        self._lazy_placeholders(out_channels, bias)
