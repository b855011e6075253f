"""Shared by the layer tests: PyTorch as the oracle, a torch module given our weights and
compared with ours on the same input and upstream gradient."""
from types import ModuleType
from typing import Any

import numpy as np
import pytest

import autodiff as ad
import nn

# torch computes the same formulas but sums in its own order (its BLAS, its conv kernels)
# and with its own exp and log, so the two differ by rounding, on the scale of the terms:
# - float32 (eps 1.2e-7): a conv output or weight gradient sums up to a few hundred
#   products and each addition may round by eps, so summing in another order moves it by
#   up to ~n·eps ≈ 4e-5 of its terms' size: 2.3-6.4e-5 relative was seen on an AMD CPU.
#   Hence rtol 1e-4, and atol 1e-5 of the array's largest magnitude for entries that
#   cancel towards 0.
# - float64 (eps 2.2e-16): rtol 1e-9 and atol 1e-10 of the largest magnitude: far above
#   summation-order noise, and far below the ~1e-7 a step done in float32 by mistake leaves.
# A wrong formula is off by much more than either (a missing batch-norm eps alone moves
# float64 outputs by ~5e-6).
RTOL = {np.float32: 1e-4, np.float64: 1e-9}


def assert_close(actual: Any, expected: Any, dtype: type, err_msg: str = "") -> None:
    """actual ≈ expected: within RTOL[dtype] of each value, or within RTOL[dtype] / 10 of
    the array's largest magnitude."""
    expected = np.asarray(expected)
    rtol = RTOL[np.dtype(dtype).type]
    np.testing.assert_allclose(actual, expected, rtol=rtol,
                               atol=rtol / 10 * np.abs(expected).max(initial=0.0),
                               err_msg=err_msg)


class TorchOracle:
    """torch (installed, or the test is skipped) and the comparisons made with it."""

    def __init__(self, torch: ModuleType) -> None:
        self.torch = torch

    assert_close = staticmethod(assert_close)

    def copy(self, ours: nn.Module, theirs: Any, dtype: type) -> Any:
        """Give the torch module our weights (and buffers), in `dtype`."""
        theirs.load_state_dict({k: self.torch.from_numpy(np.array(v.numpy()))
                                for k, v in ours.state_dict().items()})
        return theirs.to(getattr(self.torch, np.dtype(dtype).name))

    def compare(self, ours: nn.Module, theirs: Any, x: Any, dtype: type,
                upstream_seed: int = 0, sync: bool = True) -> None:
        """Same weights (copied from ours unless sync=False), same input, same upstream
        gradient: outputs, input gradients and parameter gradients must agree."""
        torch = self.torch
        if sync:
            ours.to(dtype)
            theirs = self.copy(ours, theirs, dtype)
        x = np.asarray(x, dtype=dtype)
        xa, xt = ad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ya, yt = ours(xa), theirs(xt)
        assert ya.dtype == dtype
        assert_close(ya.numpy(), yt.detach().numpy(), dtype)
        upstream = np.random.default_rng(upstream_seed).standard_normal(ya.shape).astype(dtype)
        ya.backward(upstream)
        yt.backward(torch.from_numpy(upstream))
        assert_close(xa.grad.numpy(), xt.grad.numpy(), dtype)
        theirs_params = dict(theirs.named_parameters())
        for name, p in ours.named_parameters():
            assert p.grad.dtype == dtype
            assert_close(p.grad.numpy(), theirs_params[name].grad.numpy(), dtype, err_msg=name)


@pytest.fixture
def torch_oracle() -> TorchOracle:
    """The oracle; skips the test when torch is not installed."""
    return TorchOracle(pytest.importorskip("torch"))
