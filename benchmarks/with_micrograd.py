"""Document 000's regression in micrograd (0.1.0, the `micrograd` package): the scalar
engine this project's readability is modelled on. micrograd 0.1.0 has no exp, so sigmoid
is added here in micrograd's own style (forward value, then its local derivative), and
Adam is written per scalar parameter."""
from __future__ import annotations

import math
import random

import numpy as np
from micrograd.engine import Value


def sigmoid(x: Value) -> Value:
    """σ(x), with dσ/dx = σ(1 - σ)."""
    s = 1 / (1 + math.exp(-x.data))
    out = Value(s, (x,), "sigmoid")

    def _backward() -> None:
        x.grad += s * (1 - s) * out.grad
    out._backward = _backward
    return out


class RegressionNet:
    sizes = (1, 2, 5, 1)

    def __init__(self, seed: int, lr: float = 0.02) -> None:
        rng = random.Random(seed)
        self.layers = []
        for fan_in, fan_out in zip(self.sizes, self.sizes[1:]):
            bound = 1 / math.sqrt(fan_in)
            weights = [[Value(rng.uniform(-bound, bound)) for _ in range(fan_in)]
                       for _ in range(fan_out)]
            biases = [Value(rng.uniform(-bound, bound)) for _ in range(fan_out)]
            self.layers.append((weights, biases))
        self.params = [v for w, b in self.layers for row in w + [b] for v in row]
        self.m = [0.0] * len(self.params)
        self.v = [0.0] * len(self.params)
        self.lr, self.t = lr, 0

    def forward(self, x: float) -> Value:
        a = [Value(x)]
        for i, (weights, biases) in enumerate(self.layers):
            z = [sum((w * ai for w, ai in zip(row, a)), b) for row, b in zip(weights, biases)]
            a = [sigmoid(zi) for zi in z] if i < len(self.layers) - 1 else z
        return a[0]

    def train_step(self, x: np.ndarray, y: np.ndarray) -> float:
        loss = (self.forward(float(x[0, 0])) - float(y[0, 0])) ** 2
        for p in self.params:
            p.grad = 0.0
        loss.backward()
        self.t += 1
        b1, b2, eps = 0.9, 0.999, 1e-8
        for i, p in enumerate(self.params):
            self.m[i] = b1 * self.m[i] + (1 - b1) * p.grad
            self.v[i] = b2 * self.v[i] + (1 - b2) * p.grad ** 2
            m_hat = self.m[i] / (1 - b1 ** self.t)
            v_hat = self.v[i] / (1 - b2 ** self.t)
            p.data -= self.lr * m_hat / (math.sqrt(v_hat) + eps)
        return loss.data

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.array([[self.forward(float(v)).data] for v in x[:, 0]])
