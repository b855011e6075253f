"""Make the README's graph pictures: `python docs/draw_examples.py` writes

    docs/neuron.png, docs/neuron.svg   micrograd's classic neuron, tanh(x1*w1 + x2*w2 + b),
                                       with every value and gradient
    docs/mlp.png, docs/mlp.svg         document 004's MNIST network (784→64→64→64→10, ReLU,
                                       log_softmax, NLL loss) on a batch of 15, after backward

Needs the graphviz package and Graphviz's `dot` program.
"""
import pathlib

import numpy as np

import autodiff as ad
import nn

HERE = pathlib.Path(__file__).resolve().parent


def neuron() -> ad.Tensor:
    """The README's example, line for line."""
    def value(data, name):                  # a named float64 scalar, like micrograd's Value
        t = ad.tensor(data, requires_grad=True, dtype=ad.float64)
        t.name = name
        return t

    def named(t, name):
        t.name = name
        t.retain_grad()                     # keep intermediate gradients, as micrograd does
        return t

    x1, x2 = value(2.0, "x1"), value(0.0, "x2")      # inputs x1, x2
    w1, w2 = value(-3.0, "w1"), value(1.0, "w2")     # weights w1, w2
    b = value(6.8813735870195432, "b")               # bias of the neuron
    x1w1 = named(x1 * w1, "x1*w1")
    x2w2 = named(x2 * w2, "x2*w2")
    x1w1x2w2 = named(x1w1 + x2w2, "x1*w1 + x2*w2")
    n = named(x1w1x2w2 + b, "n")
    o = named(n.tanh(), "o")
    o.backward()
    return o


def mlp() -> tuple[ad.Tensor, nn.Module]:
    """Document 004's network, one batch of 15 random 'images', loss after backward."""
    ad.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                          nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10),
                          nn.LogSoftmax(dim=1))
    images = ad.rand(15, 784)
    images.name = "images"
    labels = ad.tensor(np.arange(15) % 10)
    labels.name = "labels"
    loss = nn.functional.nll_loss(model(images), labels)
    loss.name = "loss"
    loss.backward()
    return loss, model


if __name__ == "__main__":
    o = neuron()
    loss, model = mlp()
    for extension in ("png", "svg"):
        print("wrote", ad.viz.save(o, path=HERE / f"neuron.{extension}"))
        print("wrote", ad.viz.save(loss, path=HERE / f"mlp.{extension}", params=model,
                                   rankdir="TB"))
