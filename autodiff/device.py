"""Devices, as far as a numpy engine has them: every tensor lives on the CPU.

Course notebooks open with `device = "cuda" if torch.cuda.is_available() else "cpu"` and
move models and batches with `.to(device)`; those lines run unchanged here. Asking for
another device (`"cuda"`, `"mps"`, `.cuda()`) is refused with an error that says so.

>>> import autodiff as ad
>>> device = "cuda" if ad.cuda.is_available() else "cpu"
>>> ad.ones(2).to(device).device
device(type='cpu')
"""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from .errors import AutodiffError


class DeviceError(AutodiffError, RuntimeError):
    """A device other than the CPU was asked for."""


class device:
    """torch.device: `device("cpu")`, `device("cpu", 0)`, `device("cpu:0")`."""

    __slots__ = ("type", "index")

    def __init__(self, kind: Any = "cpu", index: int | None = None) -> None:
        if isinstance(kind, device):
            kind, index = kind.type, kind.index if index is None else index
        name = str(kind)
        if ":" in name:
            name, _, number = name.partition(":")
            index = int(number)
        if name != "cpu":
            raise DeviceError(
                f"device: {kind!r} is not available: autodiff computes with numpy on the "
                f"CPU only; use 'cpu' (ad.cuda.is_available() is False, so the usual "
                f"`'cuda' if ad.cuda.is_available() else 'cpu'` picks it)")
        self.type, self.index = name, index

    def __repr__(self) -> str:
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            try:
                other = device(other)
            except DeviceError:
                return False
        return isinstance(other, device) and (self.type, self.index) == (other.type,
                                                                          other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))


CPU = device("cpu")


def is_device(value: Any) -> bool:
    """True for what names a device: a `device` or a device string ('cpu', 'cuda:0')."""
    if isinstance(value, device):
        return True
    return isinstance(value, str) and value.partition(":")[0] in (
        "cpu", "cuda", "mps", "xpu", "meta", "mkldnn", "xla", "hip", "vulkan")


def _not_available() -> bool:
    """No GPU backend exists here."""
    return False


def _device_count() -> int:
    return 0


def _seed_no_device(seed: int) -> None:
    """torch.cuda.manual_seed(_all): seeds the GPU generators, of which there are none
    here (torch does nothing either without a GPU); `ad.manual_seed` seeds the CPU's."""


cuda = SimpleNamespace(is_available=_not_available, device_count=_device_count,
                       manual_seed=_seed_no_device, manual_seed_all=_seed_no_device)
backends = SimpleNamespace(mps=SimpleNamespace(is_available=_not_available,
                                               is_built=_not_available),
                           cuda=SimpleNamespace(is_built=_not_available))
