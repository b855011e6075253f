"""Upsample: resizing (N, C, L) and (N, C, H, W) inputs by F.interpolate; and its fixed-mode
forms UpsamplingNearest2d and UpsamplingBilinear2d (align_corners=True), as torch keeps
them."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from autodiff.tensor import Tensor

from . import functional as F
from .module import Module, builtin_layer, changed, hidden


@builtin_layer
class Upsample(Module):
    """Resize the last dim of (N, C, L), or the last two of (N, C, H, W), to `size` or by
    `scale_factor` (give one), with F.interpolate: along each dim of input size n and
    output size m, output position j reads

        'nearest' (default):  x[min(⌊j · n / m⌋, n − 1)]  (n / m is 1 / scale_factor
                              when a scale_factor is given)
        'linear' (3-D), 'bilinear' (4-D):  the two nearest inputs blended linearly at
                              source position max((j + ½) · n / m − ½, 0), or
                              j · (n − 1) / (m − 1) with align_corners=True

    and 'nearest-exact' and 'area' too (see F.interpolate; its gradients come from
    indexing or from products with constant matrices).

    Args:
        size: the output size: an int, or one per resized dim.
        scale_factor: the output size ⌊n · scale_factor⌋: a number, or one per dim
            (stored as floats, as torch).
        mode: 'nearest', 'nearest-exact', 'linear', 'bilinear' or 'area'.
        align_corners: for 'linear' and 'bilinear' only: True lines up the corner pixels
            of input and output, False (None, the default) their pixel centres.
        recompute_scale_factor: True reads the source positions from the sizes, n / m,
            instead of 1 / scale_factor.

    Shape:
        input (N, C, L) or (N, C, H, W); output (N, C, L_out) or (N, C, H_out, W_out).

    Example:
    >>> import autodiff as ad, nn
    >>> up = nn.Upsample(scale_factor=2)
    >>> up(ad.tensor([[[1.0, 2.0]]]))
    tensor([[[1., 1., 2., 2.]]])
    >>> up
    Upsample(scale_factor=2.0, mode='nearest')
    >>> nn.Upsample(size=(4, 6), mode="bilinear")(ad.zeros(1, 3, 2, 3)).shape
    (1, 3, 4, 6)
    """

    SETTINGS = (changed("size"), changed("scale_factor"), "mode", hidden("align_corners"),
                hidden("recompute_scale_factor"))
    """torch's repr: the scale_factor or else the size (one of them is given), and the mode."""

    def __init__(self, size: int | Sequence[int] | None = None,
                 scale_factor: float | Sequence[float] | None = None, mode: str = "nearest",
                 align_corners: bool | None = None,
                 recompute_scale_factor: bool | None = None) -> None:
        super().__init__()
        F.check_interpolation(type(self).__name__, mode, size, scale_factor, align_corners)
        self.size = tuple(size) if isinstance(size, list) else size   # JSON gives lists
        if isinstance(scale_factor, (tuple, list)):
            self.scale_factor: Any = tuple(float(factor) for factor in scale_factor)
        else:
            self.scale_factor = None if scale_factor is None else float(scale_factor)
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input: Tensor) -> Tensor:
        return F.interpolate(input, self.size, self.scale_factor, self.mode,
                             self.align_corners, self.recompute_scale_factor, caller=self)


class _FixedMode(Upsample):
    """Upsample of images with the mode and align_corners its class fixes; torch's repr
    still shows the mode.

    Args:
        size: the output size (H_out, W_out), or one int for both.
        scale_factor: the output size ⌊H · scale_factor⌋ × ⌊W · scale_factor⌋ (give
            this or size).

    Shape:
        input (N, C, H, W); output (N, C, H_out, W_out).
    """

    SETTINGS = (changed("size"), changed("scale_factor"))
    fixed_mode: ClassVar[str]
    fixed_align_corners: ClassVar[bool | None] = None

    def __init__(self, size: int | tuple[int, int] | None = None,
                 scale_factor: float | tuple[float, float] | None = None) -> None:
        super().__init__(size, scale_factor, self.fixed_mode, self.fixed_align_corners)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, mode={self.mode!r}"


@builtin_layer
class UpsamplingNearest2d(_FixedMode):
    """Upsample(size, scale_factor, mode='nearest') for images: each output pixel copies
    the input pixel it falls in. Args and shapes: see _FixedMode.

    Example:
    >>> import autodiff as ad, nn
    >>> up = nn.UpsamplingNearest2d(scale_factor=2)
    >>> up(ad.tensor([[[[1.0, 2.0]]]]))
    tensor([[[[1., 1., 2., 2.],
              [1., 1., 2., 2.]]]])
    >>> up
    UpsamplingNearest2d(scale_factor=2.0, mode='nearest')
    """

    fixed_mode = "nearest"


@builtin_layer
class UpsamplingBilinear2d(_FixedMode):
    """Upsample(size, scale_factor, mode='bilinear', align_corners=True) for images: the
    corner pixels of input and output line up, and every output pixel blends its four
    nearest input pixels. Args and shapes: see _FixedMode.

    Example:
    >>> import autodiff as ad, nn
    >>> up = nn.UpsamplingBilinear2d(size=(1, 3))
    >>> up(ad.tensor([[[[1.0, 2.0]]]]))
    tensor([[[[1. , 1.5, 2. ]]]])
    >>> up
    UpsamplingBilinear2d(size=(1, 3), mode='bilinear')
    """

    fixed_mode, fixed_align_corners = "bilinear", True
