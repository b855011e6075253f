"""The benchmark workloads in PyTorch eager mode (CPU), written as a PyTorch user would."""
from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


def mlp(sizes: tuple[int, ...], activation: type, last: nn.Module | None) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes, sizes[1:])):
        layers.append(nn.Linear(fan_in, fan_out))
        if i < len(sizes) - 2:
            layers.append(activation())
    if last is not None:
        layers.append(last)
    return nn.Sequential(*layers)


class Trained(ABC):
    """A model, its optimizer, and the training step every workload shares; a subclass
    says what its loss is."""

    model: nn.Module
    opt: torch.optim.Optimizer

    @abstractmethod
    def loss(self, x: np.ndarray, y: np.ndarray) -> torch.Tensor:
        """The loss of the batch (x, y), recorded for backward."""

    def train_step(self, x: np.ndarray, y: np.ndarray) -> float:
        loss = self.loss(x, y)
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        return loss.item()


class MnistNet(Trained):
    def __init__(self, seed: int, lr: float = 1e-3) -> None:
        torch.manual_seed(seed)
        self.model = mlp((784, 64, 64, 64, 10), nn.ReLU, nn.LogSoftmax(dim=1))
        self.opt = torch.optim.Adam(self.model.parameters(), lr=lr)

    def loss(self, x: np.ndarray, y: np.ndarray) -> torch.Tensor:
        return F.nll_loss(self.model(torch.from_numpy(x)), torch.from_numpy(y))

    def logits(self, x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return self.model(torch.from_numpy(x)).numpy()


class RegressionNet(Trained):
    def __init__(self, seed: int, lr: float = 0.02) -> None:
        torch.manual_seed(seed)
        self.model = mlp((1, 2, 5, 1), nn.Sigmoid, None)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=lr)

    def loss(self, x: np.ndarray, y: np.ndarray) -> torch.Tensor:
        return F.mse_loss(self.model(torch.from_numpy(x)), torch.from_numpy(y))

    def predict(self, x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return self.model(torch.from_numpy(x)).numpy()


class XorNet(Trained):
    def __init__(self, seed: int, lr: float = 0.1) -> None:
        torch.manual_seed(seed)
        self.model = nn.Sequential(nn.Linear(2, 10), nn.Tanh(), nn.Linear(10, 1), nn.Sigmoid())
        self.opt = torch.optim.SGD(self.model.parameters(), lr=lr)

    def loss(self, x: np.ndarray, y: np.ndarray) -> torch.Tensor:
        return F.binary_cross_entropy(self.model(torch.from_numpy(x)), torch.from_numpy(y))


class CnnNet(MnistNet):
    """Two conv + ReLU + max-pool blocks, then Linear (the mnist_cnn demo's net)."""

    channels, kernel = (16, 32), 5

    def __init__(self, seed: int, lr: float = 1e-3) -> None:
        torch.manual_seed(seed)
        (c1, c2), k = self.channels, self.kernel
        self.model = nn.Sequential(nn.Conv2d(1, c1, k, padding=k // 2), nn.ReLU(), nn.MaxPool2d(2),
                                   nn.Conv2d(c1, c2, k, padding=k // 2), nn.ReLU(), nn.MaxPool2d(2),
                                   nn.Flatten(), nn.Linear(c2 * 7 * 7, 10),
                                   nn.LogSoftmax(dim=1))
        self.opt = torch.optim.Adam(self.model.parameters(), lr=lr)
