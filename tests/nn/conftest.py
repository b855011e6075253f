"""Shared by the layer tests: PyTorch as the oracle, a torch module given our weights and
compared with ours on the same input and upstream gradient."""
from types import ModuleType
from typing import Any

import numpy as np
import pytest

import autodiff as ad
import nn

TOLERANCE = {np.float32: {"rtol": 1e-5, "atol": 1e-6}, np.float64: {"rtol": 1e-12, "atol": 1e-13}}


class TorchOracle:
    """torch (installed, or the test is skipped) and the comparisons made with it."""

    def __init__(self, torch: ModuleType) -> None:
        self.torch = torch

    @staticmethod
    def tolerance(dtype: type) -> dict[str, float]:
        """rtol and atol for comparing with torch in `dtype`."""
        return TOLERANCE[dtype]

    def copy(self, ours: nn.Module, theirs: Any, dtype: type) -> Any:
        """Give the torch module our weights (and buffers), in `dtype`."""
        theirs.load_state_dict({k: self.torch.from_numpy(np.array(v.data))
                                for k, v in ours.state_dict().items()})
        return theirs.to(getattr(self.torch, np.dtype(dtype).name))

    def compare(self, ours: nn.Module, theirs: Any, x: Any, dtype: type,
                upstream_seed: int = 0, sync: bool = True) -> None:
        """Same weights (copied from ours unless sync=False), same input, same upstream
        gradient: outputs, input gradients and parameter gradients must agree."""
        torch, tolerance = self.torch, TOLERANCE[dtype]
        if sync:
            ours.to(dtype)
            theirs = self.copy(ours, theirs, dtype)
        x = np.asarray(x, dtype=dtype)
        xa, xt = ad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ya, yt = ours(xa), theirs(xt)
        assert ya.dtype == dtype
        np.testing.assert_allclose(ya.data, yt.detach().numpy(), **tolerance)
        upstream = np.random.default_rng(upstream_seed).standard_normal(ya.shape).astype(dtype)
        ya.backward(upstream)
        yt.backward(torch.from_numpy(upstream))
        np.testing.assert_allclose(xa.grad.data, xt.grad.numpy(), **tolerance)
        theirs_params = dict(theirs.named_parameters())
        for name, p in ours.named_parameters():
            assert p.grad.dtype == dtype
            np.testing.assert_allclose(p.grad.data, theirs_params[name].grad.numpy(),
                                       **tolerance, err_msg=name)


@pytest.fixture
def torch_oracle() -> TorchOracle:
    """The oracle; skips the test when torch is not installed."""
    return TorchOracle(pytest.importorskip("torch"))
