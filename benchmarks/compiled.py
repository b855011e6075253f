"""The benchmark workloads in this project with the training step under `ad.compile`:
the same nets and lines as `with_autodiff`, traced on the first step and replayed after."""
from __future__ import annotations

import numpy as np

import autodiff as ad
from benchmarks import with_autodiff


class CompiledStep:
    """Mixed into a `with_autodiff` net: its training step (loss, zero_grad, backward,
    optimizer step) as one compiled function, `self.step`."""

    def __init__(self, seed: int) -> None:
        super().__init__(seed)      # type: ignore[call-arg]
        net: with_autodiff.Trained = self      # type: ignore[assignment]

        def step(x: np.ndarray, y: np.ndarray) -> ad.Tensor:
            loss = net.loss(x, y)
            net.opt.zero_grad()
            loss.backward()
            net.opt.step()
            return loss

        self.step = ad.compile(step, fullgraph=True)

    def train_step(self, x: np.ndarray, y: np.ndarray) -> float:
        return self.step(x, y).item()


class MnistNet(CompiledStep, with_autodiff.MnistNet):
    """with_autodiff.MnistNet, its training step compiled."""


class RegressionNet(CompiledStep, with_autodiff.RegressionNet):
    """with_autodiff.RegressionNet, its training step compiled."""


class XorNet(CompiledStep, with_autodiff.XorNet):
    """with_autodiff.XorNet, its training step compiled."""


class CnnNet(CompiledStep, with_autodiff.CnnNet):
    """with_autodiff.CnnNet, its training step compiled."""
