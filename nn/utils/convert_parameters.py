"""Parameters as one flat vector and back: parameters_to_vector concatenates them (for
line searches, second-order methods, or comparing models), vector_to_parameters copies a
vector's values back into them, in the same order."""
from __future__ import annotations

from collections.abc import Iterable

import autodiff as ad
from autodiff.errors import ShapeError
from autodiff.tensor import Tensor


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """The parameters flattened and joined into one 1-D tensor, in order; differentiable
    (its gradient flows back to each parameter).

    >>> import autodiff as ad
    >>> parameters_to_vector([ad.tensor([[1.0, 2.0]]), ad.tensor([3.0])])
    tensor([1., 2., 3.])
    """
    return ad.cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of the 1-D `vec` into the parameters, in place and under
    no_grad, each slice reshaped to its parameter's shape; vec must hold exactly as many
    numbers as the parameters together.

    >>> import autodiff as ad
    >>> w, b = ad.zeros(1, 2), ad.zeros(1)
    >>> vector_to_parameters(ad.tensor([1.0, 2.0, 3.0]), [w, b])
    >>> w, b
    (tensor([[1., 2.]]), tensor([3.]))
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: vec must be a Tensor, got "
                        f"{type(vec).__name__}")
    parameters = list(parameters)
    total = sum(p.numel() for p in parameters)
    if vec.ndim != 1 or vec.numel() != total:
        raise ShapeError(f"vector_to_parameters: vec must be 1-D with {total} numbers, one "
                         f"per parameter element, got shape {vec.shape}")
    offset = 0
    with ad.no_grad():
        for p in parameters:
            p.copy_(vec[offset:offset + p.numel()].reshape(p.shape))
            offset += p.numel()
