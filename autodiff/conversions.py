"""Tensor methods that convert: dtypes (`float()`, `long()`, `type(...)`), devices
(`.to(device)`, `.cpu()`; the CPU is the only one), memory layout (`contiguous`) and new
tensors like an existing one (`new_zeros`, ...). Attached to Tensor in the block at the
bottom."""
from __future__ import annotations

from typing import Any

import numpy as np

from . import dtypes
from .device import CPU, DeviceError, device, is_device
from .errors import DtypeError
from .function import Function
from .ops import discrete, elementwise
from .tensor import Tensor, register_methods

_TYPE_NAMES = {np.float32: "FloatTensor", np.float64: "DoubleTensor",
               np.float16: "HalfTensor", np.int64: "LongTensor", np.int32: "IntTensor",
               np.int16: "ShortTensor", np.int8: "CharTensor", np.uint8: "ByteTensor",
               np.bool_: "BoolTensor"}


def _dtype_of(value: Any) -> np.dtype | None:
    """`value` as a dtype when it names one (np.float32, ad.long, 'float64'), else None."""
    if isinstance(value, np.dtype):
        return value
    if isinstance(value, type) and issubclass(value, np.generic):
        return np.dtype(value)
    return None


def target_dtype(tensor: Tensor, args: tuple[Any, ...], kwargs: dict[str, Any]
                 ) -> np.dtype | None:
    """The dtype `tensor.to(*args, **kwargs)` asks for (None: keep it), after checking
    that any device named is the CPU."""
    wanted = kwargs.get("dtype")
    if "device" in kwargs and kwargs["device"] is not None:
        device(kwargs["device"])
    for arg in args:
        if isinstance(arg, Tensor):
            wanted = arg.dtype
        elif is_device(arg):
            device(arg)
        elif _dtype_of(arg) is not None:
            wanted = _dtype_of(arg)
        elif isinstance(arg, str):
            raise DtypeError(f"to: {arg!r} is neither a device nor a dtype; pass a dtype "
                             f"such as ad.float32 (not a string) or 'cpu'")
        else:
            raise DtypeError(f"to: cannot convert to {arg!r}; pass a dtype, a device or a "
                             f"tensor")
    return None if wanted is None else np.dtype(wanted)


class Contiguous(Function):
    """y = x laid out in C order (a copy only when it is not already);  dy/dx = 1"""

    derivative = ("dL/dx = dL/dy",)

    @staticmethod
    def forward(ctx, x):
        return np.ascontiguousarray(x)

    @staticmethod
    def backward(ctx, grad):
        return grad


def contiguous(self: Tensor) -> Tensor:
    """This tensor when its numbers are in C order, else a C-ordered copy."""
    return self if self._data.flags.c_contiguous else Contiguous.apply(self)


def cpu(self: Tensor) -> Tensor:
    """This tensor: it is on the CPU already."""
    return self


def cuda(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    """Refused: there is no GPU here."""
    raise DeviceError("cuda: autodiff computes with numpy on the CPU only; leave the "
                      "tensor where it is (or use .to(device) with device = 'cpu')")


def _device(self: Tensor) -> device:
    return CPU


def _is_cuda(self: Tensor) -> bool:
    return False


def type_(self: Tensor, dtype: Any = None) -> Any:
    """Without an argument, the type's name ('autodiff.FloatTensor', as torch's
    'torch.FloatTensor'); with a dtype, the tensor converted to it."""
    if dtype is None:
        return "autodiff." + _TYPE_NAMES.get(self.dtype.type, f"Tensor[{self.dtype}]")
    return self.to(np.dtype(dtype))


def type_as(self: Tensor, other: Tensor) -> Tensor:
    return self.to(other.dtype)


def is_floating_point(self: Tensor) -> bool:
    return self.dtype.kind == "f"


def element_size(self: Tensor) -> int:
    """Bytes per element."""
    return self.dtype.itemsize


def _converter(dtype: np.dtype) -> Any:
    def convert(self: Tensor) -> Tensor:
        return self.to(dtype)
    convert.__doc__ = f"This tensor converted to {dtype}."
    return convert


def _new(fill: Any) -> Any:
    def make(self: Tensor, *size: Any, dtype: Any = None, requires_grad: bool = False
             ) -> Tensor:
        shape = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) \
            else tuple(size)
        t = Tensor._make(np.full(shape, fill, dtype=self.dtype if dtype is None else dtype))
        return t.requires_grad_(True) if requires_grad else t
    make.__doc__ = (f"A new tensor of the given size filled with {fill}, with this tensor's "
                    f"dtype unless `dtype` is given.")
    return make


def new_full(self: Tensor, size: Any, fill_value: Any, *, dtype: Any = None,
             requires_grad: bool = False) -> Tensor:
    return _new(fill_value)(self, size, dtype=dtype, requires_grad=requires_grad)


def new_tensor(self: Tensor, data: Any, *, dtype: Any = None,
               requires_grad: bool = False) -> Tensor:
    """A new leaf tensor of `data`, with this tensor's dtype unless `dtype` is given."""
    return Tensor(data, requires_grad=requires_grad,
                  dtype=self.dtype if dtype is None else dtype)


# ---------------------------------------------------------------- attached to Tensor

def to(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    """This tensor converted to a dtype and/or moved to a device, as torch's `to(dtype)`,
    `to(device, dtype)`, `to(other)`, `to(device=..., dtype=...)`: the device is always
    the CPU; between float dtypes the conversion is differentiable, to an integer or bool
    dtype it ends the graph."""
    dtype = target_dtype(self, args, kwargs)
    if dtype is None or dtype == self.dtype:
        return self.clone() if kwargs.get("copy") else self
    if not np.issubdtype(dtype, np.floating):
        return discrete.IntegerCast.apply(self, dtype=dtype)
    return elementwise.Cast.apply(self, dtype=dtype)


register_methods({
    "to": to,
    "contiguous": contiguous, "cpu": cpu, "cuda": cuda, "type": type_, "type_as": type_as,
    "is_floating_point": is_floating_point, "element_size": element_size,
    "float": _converter(dtypes.float32), "double": _converter(dtypes.float64),
    "half": _converter(dtypes.float16), "long": _converter(dtypes.int64),
    "int": _converter(dtypes.int32), "short": _converter(dtypes.int16),
    "char": _converter(dtypes.int8), "byte": _converter(dtypes.uint8),
    "bool": _converter(dtypes.bool),
    "new_zeros": _new(0), "new_ones": _new(1), "new_empty": _new(0),
    "new_full": new_full, "new_tensor": new_tensor,
}, properties={"device": _device, "is_cuda": _is_cuda})
