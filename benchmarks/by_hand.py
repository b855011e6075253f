"""The benchmark workloads written by hand in numpy: explicit forward, explicit backward
(the lecture's dz = da ⊙ act'(z), dW = dzᵀ·a, db = Σ dz, da_prev = dz·W), and Adam over
one flat buffer of all parameters. This is the floor the engine is measured against."""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided


class FlatAdam:
    """Adam (with bias correction) over one contiguous buffer; `params`/`grads` are views."""

    def __init__(self, shapes: list[tuple[int, ...]], lr: float, dtype: type = np.float32,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> None:
        sizes = [int(np.prod(s)) for s in shapes]
        self.flat = np.zeros(sum(sizes), dtype=dtype)
        self.grad = np.zeros_like(self.flat)
        self.m = np.zeros_like(self.flat)
        self.v = np.zeros_like(self.flat)
        self.tmp = np.zeros_like(self.flat)
        offsets = np.cumsum([0] + sizes)
        self.params = [self.flat[a:b].reshape(s) for a, b, s in zip(offsets, offsets[1:], shapes)]
        self.grads = [self.grad[a:b].reshape(s) for a, b, s in zip(offsets, offsets[1:], shapes)]
        self.lr, (self.b1, self.b2), self.eps, self.t = lr, betas, eps, 0

    def step(self) -> None:
        self.t += 1
        g, m, v, tmp = self.grad, self.m, self.v, self.tmp
        m *= self.b1
        m += (1 - self.b1) * g                       # m = b1·m + (1 - b1)·g
        np.multiply(g, g, out=tmp)
        v *= self.b2
        v += (1 - self.b2) * tmp                     # v = b2·v + (1 - b2)·g²
        step_size = self.lr / (1 - self.b1 ** self.t)
        denom = np.sqrt(v, out=tmp)
        denom /= np.sqrt(1 - self.b2 ** self.t)
        denom += self.eps
        np.divide(m, denom, out=tmp)
        tmp *= step_size
        self.flat -= tmp                             # x -= lr·m̂ / (√v̂ + eps)


def init_linear(rng: np.random.Generator, fan_in: int, fan_out: int, weight: np.ndarray,
                bias: np.ndarray) -> None:
    bound = 1 / np.sqrt(fan_in)
    weight[...] = rng.uniform(-bound, bound, (fan_out, fan_in))
    bias[...] = rng.uniform(-bound, bound, fan_out)


def mlp_with_adam(sizes: tuple[int, ...], seed: int, lr: float) -> FlatAdam:
    """FlatAdam over the weights (out, in) and biases of an MLP, initialised like torch."""
    shapes = []
    for fan_in, fan_out in zip(sizes, sizes[1:]):
        shapes += [(fan_out, fan_in), (fan_out,)]
    adam = FlatAdam(shapes, lr)
    rng = np.random.default_rng(seed)
    for i, (fan_in, fan_out) in enumerate(zip(sizes, sizes[1:])):
        init_linear(rng, fan_in, fan_out, adam.params[2 * i], adam.params[2 * i + 1])
    return adam


class MnistNet:
    """784-64-64-64-10, ReLU, log_softmax + NLL, trained with FlatAdam (float32)."""

    sizes = (784, 64, 64, 64, 10)

    def __init__(self, seed: int, lr: float = 1e-3) -> None:
        self.adam = mlp_with_adam(self.sizes, seed, lr)

    def logits(self, x: np.ndarray) -> np.ndarray:
        p = self.adam.params
        a = x
        for i in range(3):
            a = np.maximum(a @ p[2 * i].T + p[2 * i + 1], 0)
        return a @ p[6].T + p[7]

    def train_step(self, x: np.ndarray, y: np.ndarray) -> float:
        p, g = self.adam.params, self.adam.grads
        activations = [x]
        for i in range(3):                                        # forward, ReLU layers
            activations.append(np.maximum(activations[-1] @ p[2 * i].T + p[2 * i + 1], 0))
        z = activations[-1] @ p[6].T + p[7]
        z -= z.max(axis=1, keepdims=True)
        exp_z = np.exp(z)
        sum_exp = exp_z.sum(axis=1, keepdims=True)
        rows = np.arange(len(y))
        loss = float(np.log(sum_exp[:, 0]).mean() - z[rows, y].mean())
        dz = exp_z / sum_exp                                      # dL/dz = softmax - onehot
        dz[rows, y] -= 1
        dz /= len(y)
        for i in range(3, -1, -1):                                # backward, layer by layer
            a_prev = activations[i]
            np.matmul(dz.T, a_prev, out=g[2 * i])                 # dW = dzᵀ·a_prev
            dz.sum(axis=0, out=g[2 * i + 1])                      # db = Σ dz
            if i:
                da = dz @ p[2 * i]                                # da_prev = dz·W
                dz = da * (a_prev > 0)                            # dz = da ⊙ relu'(z)
        self.adam.step()
        return loss


class RegressionNet:
    """Document 000's 1→2→5→1 sigmoid net, MSE, FlatAdam lr 0.02, one sample per step
    (float32, like torch's default)."""

    sizes = (1, 2, 5, 1)

    def __init__(self, seed: int, lr: float = 0.02) -> None:
        self.adam = mlp_with_adam(self.sizes, seed, lr)

    def predict(self, x: np.ndarray) -> np.ndarray:
        p = self.adam.params
        a = x
        for i in range(2):
            a = 1 / (1 + np.exp(-(a @ p[2 * i].T + p[2 * i + 1])))
        return a @ p[4].T + p[5]

    def train_step(self, x: np.ndarray, y: np.ndarray) -> float:
        p, g = self.adam.params, self.adam.grads
        a0 = x
        a1 = 1 / (1 + np.exp(-(a0 @ p[0].T + p[1])))
        a2 = 1 / (1 + np.exp(-(a1 @ p[2].T + p[3])))
        out = a2 @ p[4].T + p[5]
        diff = out - y
        dz = 2 * diff / diff.size                                 # dL/dout of the mean
        np.matmul(dz.T, a2, out=g[4])
        dz.sum(axis=0, out=g[5])
        dz = (dz @ p[4]) * a2 * (1 - a2)                          # through σ'(z) = a(1 - a)
        np.matmul(dz.T, a1, out=g[2])
        dz.sum(axis=0, out=g[3])
        dz = (dz @ p[2]) * a1 * (1 - a1)
        np.matmul(dz.T, a0, out=g[0])
        dz.sum(axis=0, out=g[1])
        self.adam.step()
        return float((diff * diff).mean())


class XorNet:
    """Document 001's 2→10 tanh →1 sigmoid net, BCE, plain SGD lr 0.1, full batch."""

    def __init__(self, seed: int, lr: float = 0.1) -> None:
        rng = np.random.default_rng(seed)
        self.w1, self.b1 = np.empty((10, 2), np.float32), np.empty(10, np.float32)
        self.w2, self.b2 = np.empty((1, 10), np.float32), np.empty(1, np.float32)
        init_linear(rng, 2, 10, self.w1, self.b1)
        init_linear(rng, 10, 1, self.w2, self.b2)
        self.lr = lr

    def train_step(self, x: np.ndarray, y: np.ndarray) -> float:
        h = np.tanh(x @ self.w1.T + self.b1)
        p = 1 / (1 + np.exp(-(h @ self.w2.T + self.b2)))
        loss = float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean())
        dz = (p - y) / len(y)                                     # BCE ∘ sigmoid
        gw2, gb2 = dz.T @ h, dz.sum(axis=0)
        dh = (dz @ self.w2) * (1 - h * h)
        gw1, gb1 = dh.T @ x, dh.sum(axis=0)
        for param, grad in ((self.w1, gw1), (self.b1, gb1), (self.w2, gw2), (self.b2, gb2)):
            param -= self.lr * grad
        return loss


def im2col(x: np.ndarray, k: int, pad: int) -> np.ndarray:
    """k × k windows (stride 1) of x (N, C, H, W) zero-padded by `pad`, as columns
    (N, C·k·k, H'·W'), row c·k·k + i·k + j: a strided view of the padded input, copied."""
    n, c, h, w = x.shape
    padded = np.zeros((n, c, h + 2 * pad, w + 2 * pad), dtype=x.dtype)
    padded[:, :, pad:pad + h, pad:pad + w] = x
    oh, ow = h + 2 * pad - k + 1, w + 2 * pad - k + 1
    sn, sc, sh, sw = padded.strides
    windows = as_strided(padded, (n, c, k, k, oh, ow), (sn, sc, sh, sw, sh, sw))
    return windows.copy().reshape(n, c * k * k, oh * ow)


def col2im(cols: np.ndarray, shape: tuple[int, ...], k: int, pad: int) -> np.ndarray:
    """im2col's adjoint: each column entry added back onto its pixel, padding cropped."""
    n, c, h, w = shape
    oh, ow = h + 2 * pad - k + 1, w + 2 * pad - k + 1
    padded = np.zeros((n, c, h + 2 * pad, w + 2 * pad), dtype=cols.dtype)
    windows = cols.reshape(n, c, k, k, oh, ow)
    for i in range(k):
        for j in range(k):
            padded[:, :, i:i + oh, j:j + ow] += windows[:, :, i, j]
    return padded[:, :, pad:pad + h, pad:pad + w]


def max_pool_2x2(a: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """2 × 2 max-pooling with stride 2 from the four strided quarters of a, and for each
    quarter the mask of the windows whose (first, in row-major order) maximum it holds."""
    quarters = [a[:, :, i::2, j::2] for i in (0, 1) for j in (0, 1)]
    pooled = np.maximum(np.maximum(quarters[0], quarters[1]),
                        np.maximum(quarters[2], quarters[3]))
    masks, taken = [], np.zeros(pooled.shape, dtype=bool)
    for quarter in quarters:
        mask = (quarter == pooled) & ~taken
        taken |= mask
        masks.append(mask)
    return pooled, masks


def max_unpool_2x2(grad: np.ndarray, masks: list[np.ndarray]) -> np.ndarray:
    """max_pool_2x2's backward: each window's gradient to its maximum."""
    n, c, h, w = grad.shape
    out = np.empty((n, c, 2 * h, 2 * w), dtype=grad.dtype)
    for (i, j), mask in zip(((0, 0), (0, 1), (1, 0), (1, 1)), masks):
        np.multiply(grad, mask, out=out[:, :, i::2, j::2])
    return out


class CnnNet:
    """conv 1→C1 k×k (padding k // 2), ReLU, 2×2 max-pool → conv C1→C2 k×k, ReLU, 2×2
    max-pool → Linear(C2·7·7, 10), log_softmax + NLL, FlatAdam (float32): the mnist_cnn
    demo's net. The convolutions are im2col and one matmul per call, forward and
    backward."""

    channels, kernel = (16, 32), 5

    def __init__(self, seed: int, lr: float = 1e-3) -> None:
        (c1, c2), k = self.channels, self.kernel
        shapes = [(c1, 1, k, k), (c1,), (c2, c1, k, k), (c2,), (10, c2 * 49), (10,)]
        self.adam = FlatAdam(shapes, lr)
        rng = np.random.default_rng(seed)
        for weight, bias in zip(self.adam.params[::2], self.adam.params[1::2]):
            bound = 1 / np.sqrt(weight[0].size)                  # torch's init: 1/√fan_in
            weight[...] = rng.uniform(-bound, bound, weight.shape)
            bias[...] = rng.uniform(-bound, bound, bias.shape)

    def logits(self, x: np.ndarray) -> np.ndarray:
        """The logits of images (N, 1, 28, 28), in batches of 1,000."""
        return np.concatenate([self.forward(x[i:i + 1000])[-1] for i in range(0, len(x), 1000)])

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, ...]:
        p = self.adam.params
        n, (c1, c2), k = len(x), self.channels, self.kernel
        cols1 = im2col(x, k, k // 2)                                   # (N, k·k, 784)
        z1 = p[0].reshape(c1, -1) @ cols1 + p[1][:, None]              # (N, C1, 784)
        h1, masks1 = max_pool_2x2(np.maximum(z1, 0).reshape(n, c1, 28, 28))
        cols2 = im2col(h1, k, k // 2)                                  # (N, C1·k·k, 196)
        z2 = p[2].reshape(c2, -1) @ cols2 + p[3][:, None]              # (N, C2, 196)
        h2, masks2 = max_pool_2x2(np.maximum(z2, 0).reshape(n, c2, 14, 14))
        flat = h2.reshape(n, -1)                                       # (N, C2·49)
        return cols1, z1, masks1, h1, cols2, z2, masks2, flat, flat @ p[4].T + p[5]

    def train_step(self, x: np.ndarray, y: np.ndarray) -> float:
        p, g = self.adam.params, self.adam.grads
        n, (c1, c2), k = len(x), self.channels, self.kernel
        cols1, z1, masks1, h1, cols2, z2, masks2, flat, z = self.forward(x)
        z = z - z.max(axis=1, keepdims=True)
        exp_z = np.exp(z)
        sum_exp = exp_z.sum(axis=1, keepdims=True)
        rows = np.arange(n)
        loss = float(np.log(sum_exp[:, 0]).mean() - z[rows, y].mean())
        dz = exp_z / sum_exp                                           # softmax - onehot
        dz[rows, y] -= 1
        dz /= n
        np.matmul(dz.T, flat, out=g[4])                                # dW = dzᵀ·a_prev
        dz.sum(axis=0, out=g[5])
        dh2 = (dz @ p[4]).reshape(n, c2, 7, 7)
        dz2 = max_unpool_2x2(dh2, masks2).reshape(n, c2, 196) * (z2 > 0)   # relu'
        g[2][...] = (dz2 @ cols2.mT).sum(axis=0).reshape(g[2].shape)  # dW = Σ dz·colsᵀ
        dz2.sum(axis=(0, 2), out=g[3])
        dh1 = col2im(p[2].reshape(c2, -1).T @ dz2, h1.shape, k, k // 2)   # dx = col2im(Wᵀ·dz)
        dz1 = max_unpool_2x2(dh1, masks1).reshape(n, c1, 784) * (z1 > 0)
        g[0][...] = (dz1 @ cols1.mT).sum(axis=0).reshape(g[0].shape)
        dz1.sum(axis=(0, 2), out=g[1])
        self.adam.step()
        return loss
