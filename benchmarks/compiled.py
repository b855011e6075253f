"""The benchmark workloads in this project with the training step under `ad.compile`:
the same nets and lines as `with_autodiff`, traced on the first step and replayed after."""
from __future__ import annotations

from typing import Any

import numpy as np

import autodiff as ad
from benchmarks import with_autodiff


def compiled_step(net: with_autodiff.Trained) -> Any:
    """net's training step (loss, zero_grad, backward, optimizer step), compiled."""

    def step(x: np.ndarray, y: np.ndarray) -> ad.Tensor:
        loss = net.loss(x, y)
        net.opt.zero_grad()
        loss.backward()
        net.opt.step()
        return loss

    return ad.compile(step, fullgraph=True)


class MnistNet(with_autodiff.MnistNet):
    def __init__(self, seed: int) -> None:
        super().__init__(seed)
        self.step = compiled_step(self)

    def train_step(self, x: np.ndarray, y: np.ndarray) -> float:
        return self.step(x, y).item()


class RegressionNet(with_autodiff.RegressionNet):
    def __init__(self, seed: int) -> None:
        super().__init__(seed)
        self.step = compiled_step(self)

    def train_step(self, x: np.ndarray, y: np.ndarray) -> float:
        return self.step(x, y).item()


class XorNet(with_autodiff.XorNet):
    def __init__(self, seed: int) -> None:
        super().__init__(seed)
        self.step = compiled_step(self)

    def train_step(self, x: np.ndarray, y: np.ndarray) -> float:
        return self.step(x, y).item()
