"""Values and gradients at edge points (zeros, -inf logits, constant inputs) against
torch (float64): where a derivative formula has a removable 0 · ∞ or ∞ - ∞, torch masks
it (FunctionsManual.cpp: pow_backward, pow_backward_exponent, std_backward,
norm_backward, prod_backward), and so must we. Genuine infinities (√x at 0) and genuine
NaNs (the variance of one element with correction 1) must match too: equal_nan=True
compares NaN with NaN and inf with inf."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import autodiff as ad  # noqa: E402

INF = float("inf")

# (id, inputs (each requires grad), f(lib, *tensors)); `lib` is torch or autodiff
CASES = [
    *[(f"pow(0, {y})", [[0.0], [y]], lambda lib, x, y: x ** y)
      for y in (-1.0, 0.0, 0.5, 1.0, 2.0)],
    ("pow(0 and 2, [0, 1])", [[0.0, 2.0, 0.0, 2.0], [0.0, 0.0, 1.0, 1.0]],
     lambda lib, x, y: x ** y),
    ("0 ** y (number base)", [[-1.0, 0.0, 0.5, 2.0]], lambda lib, y: 0.0 ** y),
    ("x ** 0 (number exponent)", [[0.0, 2.0, -1.5]], lambda lib, x: x ** 0),
    ("x ** 0.5 at 0", [[0.0, 4.0]], lambda lib, x: x ** 0.5),
    ("x ** -1 at 0", [[0.0, 4.0]], lambda lib, x: x ** -1),
    ("sqrt(0)", [[0.0, 4.0]], lambda lib, x: x.sqrt()),
    ("abs(0)", [[0.0, -2.0, 3.0]], lambda lib, x: x.abs()),
    ("norm() of 0", [[0.0, 0.0, 0.0]], lambda lib, x: x.norm()),
    ("norm(p=2) of 0", [[0.0, 0.0, 0.0]], lambda lib, x: x.norm(p=2)),
    ("norm(p=2, dim=1) with a zero row", [[[0.0, 0.0], [3.0, -4.0]]],
     lambda lib, x: x.norm(p=2, dim=1)),
    ("std of a constant", [[3.0, 3.0, 3.0]], lambda lib, x: x.std()),
    ("std(dim=1) with a constant row", [[[3.0, 3.0, 3.0], [1.0, 2.0, 4.0]]],
     lambda lib, x: x.std(dim=1)),
    ("std(correction=0) of a constant", [[3.0, 3.0]], lambda lib, x: x.std(correction=0)),
    ("var of a constant", [[3.0, 3.0, 3.0]], lambda lib, x: x.var()),
    ("std of one element", [[3.0]], lambda lib, x: x.std()),
    ("std(correction=0) of one element", [[3.0]], lambda lib, x: x.std(correction=0)),
    ("var of one element", [[3.0]], lambda lib, x: x.var()),
    ("logsumexp with -inf", [[0.0, -INF, 1.0]], lambda lib, x: x.logsumexp(dim=0)),
    ("logsumexp of all -inf", [[[-INF, -INF], [0.0, -INF]]],
     lambda lib, x: x.logsumexp(dim=1)),
    ("softmax with masked entries", [[[0.0, -INF, 1.0], [-INF, 2.0, -INF]]],
     lambda lib, x: x.softmax(dim=-1)),
    ("softmax of an all -inf row", [[[-INF, -INF, -INF], [0.0, -INF, 1.0]]],
     lambda lib, x: x.softmax(dim=-1)),
    ("log_softmax with masked entries", [[[0.0, -INF, 1.0], [-INF, 2.0, -INF]]],
     lambda lib, x: x.log_softmax(dim=-1)),
    ("log_softmax of an all -inf row", [[[-INF, -INF, -INF], [0.0, -INF, 1.0]]],
     lambda lib, x: x.log_softmax(dim=-1)),
    ("prod with one zero", [[2.0, 0.0, 3.0]], lambda lib, x: x.prod()),
    ("prod with two zeros", [[0.0, 2.0, 0.0]], lambda lib, x: x.prod()),
    ("prod(dim=1) with zeros", [[[2.0, 0.0, 3.0], [0.0, 5.0, 0.0]]],
     lambda lib, x: x.prod(dim=1)),
]


def run(lib, values, f):
    """f's value and the gradient of Σ w · f (fixed weights w) for each input."""
    if lib is torch:
        inputs = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in values]
    else:
        inputs = [ad.tensor(np.array(v, dtype=np.float64), requires_grad=True)
                  for v in values]
    out = f(lib, *inputs)
    weights = 1.0 + 0.5 * np.arange(out.numel(), dtype=np.float64).reshape(tuple(out.shape))
    out.backward(torch.tensor(weights) if lib is torch else ad.tensor(weights))
    return out.detach().numpy(), [x.grad.numpy() for x in inputs]


@pytest.mark.filterwarnings("ignore:.*degrees of freedom is <= 0:UserWarning")   # torch's
@pytest.mark.parametrize("values, f", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_edge_value_and_gradient_match_torch(values, f):
    expected, expected_grads = run(torch, values, f)
    value, grads = run(ad, values, f)
    np.testing.assert_allclose(value, expected, rtol=1e-12, atol=0, equal_nan=True)
    for i, (grad, expected_grad) in enumerate(zip(grads, expected_grads)):
        np.testing.assert_allclose(grad, expected_grad, rtol=1e-12, atol=0, equal_nan=True,
                                   err_msg=f"gradient of input {i}")
