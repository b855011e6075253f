"""`ad.autograd`: torch.autograd's names, mapped onto the engine's, so that
`torch.autograd.grad(y, x)` and `class F(torch.autograd.Function)` translate as
`ad.autograd.grad(y, x)` and `class F(ad.autograd.Function)`. `functional` holds
jacobian, hessian, vjp, jvp, hvp and vhp.

>>> import autodiff as ad
>>> x = ad.autograd.Variable(ad.tensor([1.0, 2.0]), requires_grad=True)
>>> ad.autograd.grad((x ** 2).sum(), x)
(tensor([2., 4.]),)
"""
from __future__ import annotations

from typing import Any

from .. import grad_mode
from ..backward import backward, grad
from ..function import Function
from ..grad_mode import detect_anomaly, enable_grad, inference_mode, no_grad, set_grad_enabled
from ..gradcheck import gradcheck, gradgradcheck
from ..tensor import Tensor
from . import functional

__all__ = ["Function", "Variable", "backward", "detect_anomaly", "enable_grad", "functional",
           "grad", "gradcheck", "gradgradcheck", "inference_mode", "no_grad",
           "set_detect_anomaly", "set_grad_enabled"]


class _VariableMeta(type):
    """Makes `isinstance(t, Variable)` true for every Tensor, as in torch."""

    def __instancecheck__(cls, instance: Any) -> bool:
        return isinstance(instance, Tensor)


class Variable(metaclass=_VariableMeta):
    """torch's legacy wrapper: `Variable(t, requires_grad=r)` returns a new leaf Tensor
    sharing t's numbers (t.detach() with requires_grad r); t itself is unchanged.

    >>> import autodiff as ad
    >>> t = ad.tensor([1.0, 2.0])
    >>> v = ad.autograd.Variable(t, requires_grad=True)
    >>> v.requires_grad, v.is_leaf, t.requires_grad, isinstance(t, ad.autograd.Variable)
    (True, True, False, True)
    """

    def __new__(cls, data: Tensor, requires_grad: bool = False) -> Tensor:  # type: ignore[misc]
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable: data must be a Tensor, not {type(data).__name__}; "
                            f"Variable is legacy: write ad.tensor(data, "
                            f"requires_grad={requires_grad}) instead")
        return data.detach().requires_grad_(requires_grad)


class set_detect_anomaly:
    """Turn anomaly detection (see `detect_anomaly`) on or off for this thread, from the
    call on; as torch's, also a context manager restoring the previous setting on exit.

    >>> import autodiff as ad
    >>> from autodiff.grad_mode import state
    >>> with ad.autograd.set_detect_anomaly(True):
    ...     state.detect_anomaly
    True
    >>> state.detect_anomaly
    False
    """

    def __init__(self, mode: bool) -> None:
        self._previous = grad_mode.state.detect_anomaly
        grad_mode.state.detect_anomaly = bool(mode)

    def __enter__(self) -> None:
        """Nothing more: the constructor has already switched the setting."""

    def __exit__(self, *exc_info: object) -> None:
        grad_mode.state.detect_anomaly = self._previous
