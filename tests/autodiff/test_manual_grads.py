"""ad.check_manual_grads: gradients derived by hand (the "backprop ninja" exercise) checked
against the engine's, with a diagnosis for each common mistake.

Each demo network (document 000's 1-2-5-1 regression net, document 001's XOR net,
document 004's MNIST MLP, and the formulas of demos/backprop.py) is run on random inputs
of the right shape, and its gradients are written out by hand below in numpy for every
tensor: the logits, pre-activations and activations, weights and biases. Right, they
get a clean report; each crafted mistake gets exactly its diagnosis.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F
from autodiff.backward import topological_order
from demos import backprop, mnist, regression, xor

Case = tuple[ad.Tensor, dict[str, ad.Tensor], dict[str, np.ndarray]]


def check(case: Case, **changes: Any) -> ad.ManualGradReport:
    """check_manual_grads on a case's tensors, named as in the case, with some hand
    gradients replaced by `changes` (name -> array)."""
    loss, tensors, hands = case
    hands = {**hands, **changes}
    return ad.check_manual_grads(loss, {tensors[n]: hands[n] for n in hands},
                                 names={t: n for n, t in tensors.items()})


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


# ---------------------------------------------------------------- the demo networks, by hand

def regression_case() -> Case:
    """Document 000: 1 → 2 → 5 → 1, Sigmoid after the hidden layers, MSE (mean) on a
    batch of 6, float32 as the demo trains it."""
    rng = np.random.default_rng(1)
    ad.manual_seed(1)                 # the weights' initialisation
    model = regression.activation_net()
    n = 6
    x = ad.tensor(rng.uniform(0, 3, (n, 1)), dtype=ad.float32)
    y = ad.tensor(rng.normal(8, 1, (n, 1)), dtype=ad.float32)
    z1 = model.layer1[0](x)
    a1 = model.layer1[1](z1)
    z2 = model.layer2[0](a1)
    a2 = model.layer2[1](z2)
    y_hat = model.layer3[0](a2)
    loss = nn.MSELoss()(y_hat, y)

    W2, W3 = (model[i][0].weight.numpy().astype(np.float64) for i in (1, 2))
    X, Y, A1, A2, P = (t.numpy().astype(np.float64) for t in (x, y, a1, a2, y_hat))
    d_y_hat = 2 * (P - Y) / n                      # L = mean (ŷ − y)²
    d_a2 = d_y_hat @ W3                            # ŷ = a2 W3ᵀ + b3
    d_z2 = d_a2 * A2 * (1 - A2)                    # σ' = a(1 − a)
    d_a1 = d_z2 @ W2
    d_z1 = d_a1 * A1 * (1 - A1)
    hands = {"ŷ": d_y_hat, "W3": d_y_hat.T @ A2, "b3": d_y_hat.sum(0),
             "a2": d_a2, "z2": d_z2, "W2": d_z2.T @ A1, "b2": d_z2.sum(0),
             "a1": d_a1, "z1": d_z1, "W1": d_z1.T @ X, "b1": d_z1.sum(0)}
    tensors = {"ŷ": y_hat, "W3": model.layer3[0].weight, "b3": model.layer3[0].bias,
               "a2": a2, "z2": z2, "W2": model.layer2[0].weight, "b2": model.layer2[0].bias,
               "a1": a1, "z1": z1, "W1": model.layer1[0].weight, "b1": model.layer1[0].bias}
    return loss, tensors, hands


def xor_case() -> Case:
    """Document 001: Dense(10) → tanh → Dense(1) → sigmoid, binary cross-entropy, on 4
    random points with 0/1 targets; float64."""
    rng = np.random.default_rng(2)
    ad.manual_seed(2)                 # the weights' initialisation
    model = xor.build_model("keras").double()
    x = ad.tensor(rng.uniform(0, 1, (4, 2)))
    y = ad.tensor(rng.integers(0, 2, (4, 1)).astype(np.float64))
    h_pre = model[0](x)
    h = model[1](h_pre)
    z = model[2](h)
    p = model[3](z)
    loss = nn.BCELoss()(p, y)

    W2 = model[2].weight.numpy()
    X, Y, H, P = x.numpy(), y.numpy(), h.numpy(), p.numpy()
    d_p = (-Y / P + (1 - Y) / (1 - P)) / 4         # L = −mean(y log p + (1 − y) log(1 − p))
    d_z = d_p * P * (1 - P)                        # = (p − y)/N
    d_h = d_z @ W2
    d_h_pre = d_h * (1 - H ** 2)                   # tanh' = 1 − y²
    hands = {"p": d_p, "z": d_z, "W2": d_z.T @ H, "b2": d_z.sum(0), "h": d_h,
             "h_pre": d_h_pre, "W1": d_h_pre.T @ X, "b1": d_h_pre.sum(0)}
    tensors = {"p": p, "z": z, "W2": model[2].weight, "b2": model[2].bias, "h": h,
               "h_pre": h_pre, "W1": model[0].weight, "b1": model[0].bias}
    return loss, tensors, hands


N_MNIST = 8


def mnist_case() -> Case:
    """Document 004: 784 → 64 → 64 → 64 → 10, ReLU, log_softmax and NLL, on a random batch
    of 8 "images" in [0, 1); float64."""
    rng = np.random.default_rng(3)
    ad.manual_seed(3)                 # the weights' initialisation
    net = mnist.Net().double()
    x = ad.tensor(rng.uniform(0, 1, (N_MNIST, 784)))
    labels = rng.integers(0, 10, N_MNIST)
    layers = [net.fc1, net.fc2, net.fc3, net.fc4]
    a, tensors, zs, activations = x, {}, [], [x.numpy()]
    for k, layer in enumerate(layers, start=1):
        z = layer(a)
        zs.append(z)
        tensors[f"z{k}"] = z
        if k < 4:
            a = F.relu(z)
            tensors[f"a{k}"] = a
            activations.append(a.numpy())
    log_p = F.log_softmax(zs[-1], dim=1)
    loss = F.nll_loss(log_p, ad.tensor(labels))
    np.testing.assert_allclose(loss.item(), F.nll_loss(net(x), ad.tensor(labels)).item())
    tensors = {"log_p": log_p, **tensors}

    one_hot = np.eye(10)[labels]
    logits = zs[-1].numpy()
    softmax = np.exp(logits - logits.max(1, keepdims=True))
    softmax /= softmax.sum(1, keepdims=True)
    hands = {"log_p": -one_hot / N_MNIST, "z4": (softmax - one_hot) / N_MNIST}
    dz = hands["z4"]
    for k in range(4, 0, -1):
        layer = layers[k - 1]
        tensors[f"W{k}"], tensors[f"b{k}"] = layer.weight, layer.bias
        hands[f"W{k}"] = dz.T @ activations[k - 1]
        hands[f"b{k}"] = dz.sum(0)
        if k > 1:
            hands[f"a{k - 1}"] = dz @ layer.weight.numpy()
            dz = hands[f"z{k - 1}"] = hands[f"a{k - 1}"] * (zs[k - 2].numpy() > 0)
    return loss, tensors, hands


def backprop_case() -> Case:
    """demos/backprop.py: its `hand_pass` (the lecture notes' layer formulas, in column
    vectors) on document 000's net and one sample, turned to the row layout nn.Linear
    computes in: dz and da transposed, db flattened."""
    ad.manual_seed(0)
    model = backprop.regression_net()
    a = ad.tensor([[backprop.X]], dtype=ad.float64)
    tensors, zs = {}, []
    for k, block in enumerate(model, start=1):
        z = block[0](a)
        a = block[1](z) if len(block) > 1 else z
        tensors.update({f"z{k}": z, f"W{k}": block[0].weight, f"b{k}": block[0].bias})
        zs.append(z)
    loss = ((a - backprop.TARGET) ** 2).sum()
    weights = [block[0].weight.numpy() for block in model]
    biases = [block[0].bias.numpy().reshape(-1, 1) for block in model]
    layers = backprop.hand_pass(weights, biases)["layers"]
    hands = {}
    for k, layer in enumerate(layers, start=1):
        hands.update({f"z{k}": layer["dz"].T, f"W{k}": layer["dW"], f"b{k}": layer["db"].ravel()})
    return loss, tensors, hands


def one_output_case() -> Case:
    """Note 002's one-output example, in its column vectors: z = W·x + b, ŷ = σ(z),
    L = (ŷ − y)²: dL/dŷ = 2ŷ − 2y, dŷ/dz = ŷ(1 − ŷ), dz/dW = xᵀ, dz/db = 1."""
    rng = np.random.default_rng(4)
    ad.manual_seed(4)                 # the weights' initialisation
    W = ad.tensor(rng.normal(size=(1, 3)), requires_grad=True)
    b = ad.tensor(rng.normal(size=(1, 1)), requires_grad=True)
    x = rng.normal(size=(3, 1))
    Wx = W @ ad.tensor(x)
    z = Wx + b
    y_hat = z.sigmoid()
    loss = ((y_hat - 1.0) ** 2).sum()
    p = y_hat.numpy()
    d_y_hat = 2 * p - 2 * 1.0
    d_z = d_y_hat * p * (1 - p)
    hands = {"ŷ": d_y_hat, "z": d_z, "W·x": d_z, "b": d_z, "W": d_z @ x.T}
    return loss, {"ŷ": y_hat, "z": z, "W·x": Wx, "b": b, "W": W}, hands


CASES = {"regression": regression_case, "xor": xor_case, "mnist": mnist_case,
         "backprop": backprop_case, "one output": one_output_case}


@pytest.mark.parametrize("network", CASES)
def test_right_hand_gradients_of_every_demo_network_match(network: str) -> None:
    case = CASES[network]()
    report = check(case)
    assert report.ok, str(report)
    assert len(report) == len(case[1])
    assert str(report).startswith(f"all {len(case[1])} gradients match")
    for row in report:
        assert row.verdict == "ok" and row.diagnosis is None and row.worst is None
        assert row.max_rel_error <= row.rtol


def test_the_tolerance_is_set_by_the_dtype_and_the_gradients_scale() -> None:
    float32 = check(regression_case())
    case = xor_case()
    hands = case[2]
    float64 = check(case)
    assert {row.rtol for row in float32} == {1e-5} and {row.rtol for row in float64} == {1e-10}
    row = float64["b1"]                 # Σ_n dh_pre: the terms summed, |dh_pre|, set the scale
    scale = np.abs(hands["h_pre"]).sum(axis=0).max()
    assert row.tolerance == pytest.approx(1e-10 * scale, rel=1e-9)
    assert row.max_rel_error == pytest.approx(row.max_abs_error / scale, rel=1e-9)
    row = float64["z"]                  # z → p = σ(z): one term each, its own scale
    assert row.tolerance == pytest.approx(1e-10 * np.abs(hands["z"]).max(), rel=1e-9)
    assert "rtol 1e-05 for float32" in float32.header()
    half = ad.tensor(np.array([0.5, -1.0], dtype=np.float16), requires_grad=True)
    assert ad.check_manual_grads((half * half).sum(), {half: [1.0, -2.0]}).rows[0].rtol == 1e-2


def test_a_gradient_that_cancels_is_judged_on_the_scale_of_what_was_summed() -> None:
    rng = np.random.default_rng(8)
    x = ad.tensor(rng.normal(size=(6, 3)))
    bias = ad.tensor(rng.normal(size=3), requires_grad=True)
    z = x + bias                                    # a bias just before a batch norm ...
    normalized = (z - z.mean(dim=0, keepdim=True)) / z.std(dim=0, keepdim=True)
    loss = (normalized * ad.tensor(rng.normal(size=(6, 3)))).sum()
    dz = ad.grad(loss, [z], retain_graph=True)[0]
    report = ad.check_manual_grads(loss, {bias: np.zeros(3), z: dz},
                                   names={bias: "bias", z: "z"})
    assert report.ok                                # ... has gradient 0, up to rounding
    assert np.abs(ad.grad(loss, [bias], retain_graph=True)[0].numpy()).max() < 1e-14
    scale = np.abs(dz.numpy()).sum(axis=0).max()    # Σ_n |dL/dz|: the terms summed
    assert report["bias"].tolerance == pytest.approx(1e-10 * scale, rel=1e-9)
    assert not ad.check_manual_grads(loss, {bias: np.full(3, 1e-8)}).ok


def test_a_gradient_made_small_by_its_local_derivative_keeps_its_own_scale() -> None:
    x = ad.tensor(np.linspace(-1, 1, 10_000), dtype=ad.float32, requires_grad=True)
    y = x.sigmoid()
    loss = (y * 100).mean()                         # dL/dy = 0.01, dL/dx ≈ 0.0025
    dx = ad.grad(loss, [x], retain_graph=True)[0].numpy()
    report = ad.check_manual_grads(loss, {x: dx, y: np.full(10_000, 0.01)})
    assert report.ok and report.rows[1].tolerance == pytest.approx(1e-5 * np.abs(dx).max())
    assert not ad.check_manual_grads(loss, {x: dx * 1.01}).ok


def test_an_all_zero_true_gradient_has_scale_one() -> None:
    x = ad.tensor([-1.0, -2.0], dtype=ad.float64, requires_grad=True)
    report = ad.check_manual_grads((x.relu() * 0).sum(), {x: [0.0, 1e-12]})
    assert report.ok and report.rows[0].tolerance == 1e-10


def test_a_gradient_an_op_does_not_send_counts_as_zero() -> None:
    class Stop(ad.Function):
        """y = x, sending no gradient back"""

        @staticmethod
        def forward(ctx, x):
            return x.copy()

        @staticmethod
        def backward(ctx, grad):
            return None

    x = ad.tensor([1.0, 2.0], requires_grad=True)
    loss = (Stop.apply(x) * 3).sum()
    assert ad.check_manual_grads(loss, {x: [0.0, 0.0]}).ok
    assert not ad.check_manual_grads(loss, {x: [3.0, 3.0]}).ok


def test_rows_come_in_the_order_backward_reaches_the_tensors() -> None:
    loss, tensors, _ = case = mnist_case()
    report = check(case)
    names = [row.name for row in report]
    order = [t for t in reversed(topological_order([loss], leaves=True))
             if t in set(tensors.values())]
    assert names == [next(n for n, t in tensors.items() if t is u) for u in order]
    chain = ["log_p", "z4", "a3", "z3", "a2", "z2", "a1", "z1"]
    assert [n for n in names if n in chain] == chain
    for above, u in tensors.items():       # a tensor comes before those it was computed from
        for below, t in tensors.items():
            if t is not u and t in set(topological_order([u], leaves=True)):
                assert names.index(above) < names.index(below)


# ---------------------------------------------------------------- one diagnosis per mistake

def test_a_transposed_weight_gradient() -> None:
    case = mnist_case()
    hands = case[2]
    report = check(case, W4=hands["W4"].T, W2=hands["W2"].T)
    assert report["W4"].verdict == "wrong shape"          # (64, 10) for a (10, 64) weight
    assert report["W4"].max_abs_error is None and report["W4"].hand_shape == (64, 10)
    assert report["W2"].verdict == "wrong"                # square, not symmetric
    for name in ("W4", "W2"):
        assert report[name].diagnosis == "transposed: yoursᵀ is the true gradient"
    assert [row.name for row in report.wrong] == ["W4", "W2"]
    assert str(report).startswith("2 of 16 gradients are wrong")


def test_a_bias_gradient_with_the_batch_axis_not_summed() -> None:
    case = mnist_case()
    report = check(case, b4=case[2]["z4"])                # (8, 10) for a bias of (10,)
    row = report["b4"]
    assert row.verdict == "wrong shape"
    assert row.diagnosis == ("a broadcast axis not summed: yours, summed over axis 0 to shape "
                             "(10,), is the true gradient (b4 was broadcast to (8, 10) in the "
                             "forward pass)")
    assert [r.name for r in report.wrong] == ["b4"]


def test_a_scalar_broadcast_over_every_axis() -> None:
    data = np.arange(12.0).reshape(4, 3)
    scale = ad.tensor(0.5, dtype=ad.float64, requires_grad=True)
    report = ad.check_manual_grads((ad.tensor(data) * scale).sum(), {scale: data},
                                   names={scale: "s"})
    assert report["s"].diagnosis == ("a broadcast axis not summed: yours, summed over axes "
                                     "(0, 1) to shape (), is the true gradient (s was "
                                     "broadcast to (4, 3) in the forward pass)")


def test_an_extra_axis_of_size_one_is_a_shape_to_fix_not_a_sum() -> None:
    case = xor_case()
    report = check(case, b2=case[2]["b2"].reshape(1, 1))
    assert report["b2"].diagnosis == "a gradient has its tensor's shape (1,), yours has (1, 1)"
    case = one_output_case()
    report = check(case, W=case[2]["W"].ravel())
    assert report["W"].diagnosis == "a gradient has its tensor's shape (1, 3), yours has (3,)"
    case = mnist_case()                                  # the batch's shape, but not its sum
    report = check(case, b4=np.random.default_rng(9).normal(size=(8, 10)))
    assert report["b4"].diagnosis == "a gradient has its tensor's shape (10,), yours has (8, 10)"


def test_a_sign_flip() -> None:
    case = mnist_case()
    report = check(case, z4=-case[2]["z4"])
    row = report["z4"]
    assert row.diagnosis == "wrong sign: yours is −1 × the true gradient"
    _, yours, true = row.worst
    assert yours == -true != 0
    assert row.max_abs_error == pytest.approx(2 * np.abs(case[2]["z4"]).max())


def test_a_mean_taken_as_a_sum_is_the_batch_size() -> None:
    case = mnist_case()
    report = check(case, z4=case[2]["z4"] * N_MNIST)     # (softmax − onehot) without /N
    assert report["z4"].diagnosis == ("off by a constant factor: yours is 8 × the true "
                                      "gradient; 8 is the batch size N: mean vs sum")
    regression = regression_case()
    report = check(regression, **{"ŷ": regression[2]["ŷ"] / 6})
    assert report["ŷ"].diagnosis == ("off by a constant factor: yours is the true gradient "
                                     "/ 6; 6 is the batch size N: mean vs sum")


def test_another_constant_factor_is_named_by_its_value() -> None:
    case = regression_case()
    report = check(case, **{"ŷ": case[2]["ŷ"] / 2})      # forgot the 2 of (ŷ − y)²'s 2(ŷ − y)
    assert report["ŷ"].diagnosis == "off by a constant factor: yours is 0.5 × the true gradient"


def test_a_factor_that_prints_as_one_is_no_diagnosis_of_a_factor() -> None:
    case = xor_case()
    report = check(case, W1=case[2]["W1"] * (1 + 3e-9))
    assert report["W1"].verdict == "wrong"
    assert report["W1"].diagnosis == "first wrong in backward order: the error starts here"


def test_the_forgotten_one_minus_y_squared_of_tanh() -> None:
    case = xor_case()
    report = check(case, h_pre=case[2]["h"])
    assert report["h_pre"].diagnosis == ("forgot the factor (1 − y²) of tanh: yours · (1 − y²) "
                                         "is the true gradient (dL/dx = dL/dy · (1 − y²))")
    assert [row.name for row in report.wrong] == ["h_pre"]


def test_the_forgotten_factors_of_sigmoid_and_relu() -> None:
    regression = regression_case()
    report = check(regression, z2=regression[2]["a2"])
    assert report["z2"].diagnosis.startswith("forgot the factor y(1 − y) of sigmoid: ")
    mnist_net = mnist_case()
    report = check(mnist_net, z3=mnist_net[2]["a3"])
    assert report["z3"].diagnosis.startswith("forgot the factor (x > 0) of relu: ")


LOCAL = {"tanh": (lambda t: t.tanh(), "(1 − y²)"), "sigmoid": (lambda t: t.sigmoid(), "y(1 − y)"),
         "relu": (lambda t: t.relu(), "(x > 0)"), "exp": (lambda t: t.exp(), "eˣ = y"),
         "log": (lambda t: t.log(), "1/x"), "sqrt": (lambda t: t.sqrt(), "1/(2√x)"),
         "pow": (lambda t: t ** 3, "3·x^2")}


@pytest.mark.parametrize("op", LOCAL)
def test_each_local_factor_of_the_table(op: str) -> None:
    rng = np.random.default_rng(5)
    ad.manual_seed(5)                 # the weights' initialisation
    values = rng.uniform(0.2, 2.0, 6) * (np.arange(6) % 3 - 0.5 if op == "relu" else 1)
    x = ad.tensor(values, requires_grad=True)
    weights = rng.normal(size=6)
    apply, factor = LOCAL[op]
    loss = (apply(x) * ad.tensor(weights)).sum()
    row = ad.check_manual_grads(loss, {x: weights}).rows[0]     # dL/dy, the factor forgotten
    assert row.diagnosis.startswith(f"forgot the factor {factor} of "), row.diagnosis


def test_no_local_factor_for_two_consumers_or_a_tensor_exponent() -> None:
    x = ad.tensor([0.5, 1.5, 2.5], requires_grad=True)
    loss = (x.tanh() * ad.tensor([1.0, -2.0, 3.0])).sum() + (x * x).sum()
    row = ad.check_manual_grads(loss, {x: [1.0, -2.0, 3.0]}).rows[0]
    assert row.diagnosis == "first wrong in backward order: the error starts here"
    power = x ** ad.tensor([2.0, 3.0, 4.0])
    row = ad.check_manual_grads((power * ad.tensor([1.0, -2.0, 3.0])).sum(),
                                {x: [1.0, -2.0, 3.0]}).rows[0]
    assert row.diagnosis == "first wrong in backward order: the error starts here"


def test_a_random_mistake_is_the_first_wrong_in_backward_order() -> None:
    case = mnist_case()
    rng = np.random.default_rng(6)
    report = check(case, W3=rng.normal(size=(64, 64)))
    assert [row.name for row in report.wrong] == ["W3"]
    assert report["W3"].diagnosis == "first wrong in backward order: the error starts here"
    assert "worst at [" in str(report)


def test_gradients_below_a_wrong_one_follow_from_it() -> None:
    _, tensors, hands = case = xor_case()
    d_h_pre = hands["h"]                                       # tanh' forgotten, then used
    x = tensors["h_pre"].grad_fn.inputs[0].numpy()
    report = check(case, h_pre=d_h_pre, W1=d_h_pre.T @ x, b1=d_h_pre.sum(0))
    assert report["h_pre"].diagnosis.startswith("forgot the factor (1 − y²) of tanh")
    for name in ("W1", "b1"):
        assert report[name].diagnosis == "follows from the wrong gradient of h_pre above"
    assert str(report).startswith("3 of 8 gradients are wrong")


def test_a_sign_flip_carried_down_is_reported_once() -> None:
    case = mnist_case()
    hands = case[2]
    flipped = {name: -hands[name] for name in ("z4", "W4", "b4", "a3")}
    report = check(case, **flipped)
    assert report["z4"].diagnosis.startswith("wrong sign")
    for name in ("W4", "b4", "a3"):
        assert report[name].diagnosis == "follows from the wrong gradient of z4 above"


def test_a_mistake_below_a_wrong_gradient_is_named_against_what_that_one_gives() -> None:
    _, tensors, hands = case = xor_case()
    d_z = hands["z"] * 4                                        # the mean's 1/N forgotten
    d_h = d_z @ tensors["W2"].numpy()
    report = check(case, z=d_z, h=d_h, h_pre=d_h, b2=d_z)      # tanh' forgotten, b2 unsummed
    assert report["h"].diagnosis == "follows from the wrong gradient of z above"
    assert report["h_pre"].diagnosis == (
        "forgot the factor (1 − y²) of tanh: yours · (1 − y²) is what your gradient of z "
        "above gives (dL/dx = dL/dy · (1 − y²))")
    assert report["b2"].diagnosis.startswith("a broadcast axis not summed: yours, summed over "
                                             "axis 0 to shape (1,), is what your gradient of "
                                             "z above gives")


def test_a_new_mistake_below_a_wrong_gradient_says_fix_that_first() -> None:
    case = mnist_case()
    rng = np.random.default_rng(7)
    report = check(case, z4=case[2]["z4"] * N_MNIST, W4=rng.normal(size=(10, 64)),
                   W3=rng.normal(size=(64, 64)))
    assert report["W4"].diagnosis == ("not explained by this step alone: the gradient of z4 "
                                      "above is wrong too; fix that first")
    # the right a3 and z3 between z4 and W3 cut z4's error off: W3's own starts there
    assert report["W3"].diagnosis == "first wrong in backward order: the error starts here"


def test_following_takes_every_path_down_to_the_tensor() -> None:
    t = ad.tensor([0.3, -0.7, 1.1], dtype=ad.float64, requires_grad=True)
    u = t.tanh()
    loss = u.sum() + (t * t).sum()                  # t's gradient: through u, and directly
    local = 1 - u.numpy() ** 2
    wrong_u = 3 * np.ones(3)
    both_paths = wrong_u * local + 2 * t.numpy()    # right, from the learner's wrong u
    report = ad.check_manual_grads(loss, {u: wrong_u, t: both_paths}, names={u: "u", t: "t"})
    assert report["t"].diagnosis == "follows from the wrong gradient of u above"
    one_path = wrong_u * local                      # and the direct path forgotten
    report = ad.check_manual_grads(loss, {u: wrong_u, t: one_path}, names={u: "u", t: "t"})
    assert report["t"].diagnosis == ("not explained by this step alone: the gradient of u "
                                     "above is wrong too; fix that first")
    assert not t._hooks and not u._hooks            # the swapping hooks are gone


def test_following_names_where_the_error_started() -> None:
    case = mnist_case()
    hands = case[2]
    mean_as_sum = {name: hands[name] * N_MNIST for name in ("z4", "a3", "z3", "W3")}
    report = check(case, **mean_as_sum)
    assert report["z4"].diagnosis.endswith("8 is the batch size N: mean vs sum")
    for name in ("a3", "z3", "W3"):
        assert report[name].diagnosis == "follows from the wrong gradient of z4 above"


def test_two_mistakes_that_explain_it_equally_give_no_diagnosis() -> None:
    w = ad.tensor(np.arange(9.0).reshape(3, 3), requires_grad=True)
    antisymmetric = np.array([[0.0, 1.0, -2.0], [-1.0, 0.0, 3.0], [2.0, -3.0, 0.0]])
    loss = (w * ad.tensor(antisymmetric)).sum()              # dL/dw is antisymmetric
    report = ad.check_manual_grads(loss, {w: antisymmetric.T}, names={w: "W"})
    row = report["W"]
    assert row.verdict == "wrong" and row.diagnosis is None
    assert row.ambiguous == ("transposed", "wrong sign")
    assert "no diagnosis: transposed and wrong sign each explain it exactly" in str(report)


def test_a_symmetric_gradient_transposed_is_right() -> None:
    w = ad.tensor(np.eye(3) + 1, requires_grad=True)
    symmetric = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 5.0], [3.0, 5.0, 6.0]])
    loss = (w * ad.tensor(symmetric)).sum()
    assert ad.check_manual_grads(loss, {w: symmetric.T}).ok


def test_a_nan_in_the_hand_gradient_is_wrong() -> None:
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    row = ad.check_manual_grads((x * x).sum(), {x: [2.0, np.nan]}).rows[0]
    assert row.verdict == "wrong" and row.worst[0] == (1,)


# ---------------------------------------------------------------- the engine's state

def test_no_grad_is_touched_and_backward_still_works_afterwards() -> None:
    loss, tensors, hands = case = mnist_case()
    tensors["z2"].retain_grad()
    report = check(case)
    assert report.ok
    assert all(t.grad is None for t in tensors.values())
    loss.backward(retain_graph=True)
    for name in ("W1", "b3", "z2"):
        np.testing.assert_allclose(tensors[name].grad.numpy(), hands[name], atol=1e-12)
    before = {name: t.grad.numpy().copy() for name, t in tensors.items() if t.grad is not None}
    check(case, W1=hands["W1"] + 1)
    for name, grad in before.items():
        np.testing.assert_array_equal(tensors[name].grad.numpy(), grad)


# ---------------------------------------------------------------- names, text, HTML

def test_names_come_from_the_argument_the_tensor_or_the_position() -> None:
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.name = "y"
    z = y.tanh()
    loss = z.sum()
    report = ad.check_manual_grads(loss, {x: np.zeros(2), y: np.zeros(2), z: np.ones(2)},
                                   names={z: "zed"})
    assert [row.name for row in report] == ["zed", "y", "tensor 0"]
    with pytest.raises(KeyError, match="no tensor named 'w' in the report; the names are"):
        report["w"]


def test_the_text_has_a_header_and_one_line_per_tensor() -> None:
    case = xor_case()
    report = check(case, z=-case[2]["z"])
    lines = str(report).splitlines()
    assert lines[0] == ("1 of 8 gradients is wrong (tolerance: rtol · the gradient's scale, "
                        "rtol 1e-10 for float64)")
    assert len(lines) == 9 and repr(report) == str(report)
    assert lines[2].split()[:3] == ["z", "(4,", "1)"]
    assert "wrong" in lines[2] and lines[2].endswith("wrong sign: yours is −1 × the true gradient")
    assert lines[1].split()[3] == "ok" and "max abs error" in lines[1]
    x = ad.tensor([1.0], requires_grad=True)
    assert str(ad.check_manual_grads((x * 2).sum(), {x: [2.0]})).startswith(
        "the gradient matches")


def test_the_html_table_has_a_row_per_tensor() -> None:
    case = mnist_case()
    page = check(case, b4=case[2]["z4"])._repr_html_()
    assert page.count("<tr>") == 1 + 16 and "gradients are wrong" not in page
    assert "1 of 16 gradients is wrong" in page and "a broadcast axis not summed" in page
    assert "<td>—</td>" in page


# ---------------------------------------------------------------- refusals

def test_refusals_name_the_tensor_and_the_fix() -> None:
    loss, tensors, hands = xor_case()
    W1 = tensors["W1"]
    copy = W1.detach()
    with pytest.raises(ad.BackwardError, match=r"W1 \(shape \(10, 2\)\) is not in the loss's "
                       r"graph.*Pass the very tensor"):
        ad.check_manual_grads(loss, {copy: hands["W1"]}, names={copy: "W1"})
    data = tensors["h_pre"].grad_fn.inputs[0]
    with pytest.raises(ad.BackwardError, match=r"tensor 0 \(shape \(4, 2\)\) does not require "
                       r"grad.*requires_grad=True"):
        ad.check_manual_grads(loss, {data: np.zeros((4, 2))})
    with pytest.raises(ad.BackwardError, match=r"the loss has shape \(4, 1\); it must be one "
                       r"number.*loss.mean\(\)"):
        ad.check_manual_grads(tensors["p"], {W1: hands["W1"]})
    with pytest.raises(ad.BackwardError, match="does not require grad"):
        ad.check_manual_grads(ad.tensor(1.0), {W1: hands["W1"]})
    with pytest.raises(TypeError, match="loss must be a Tensor, got float"):
        ad.check_manual_grads(1.0, {W1: hands["W1"]})
    with pytest.raises(TypeError, match=r"grads must be a dict \{tensor: hand gradient\}"):
        ad.check_manual_grads(loss, [(W1, hands["W1"])])
    with pytest.raises(ValueError, match="grads is empty"):
        ad.check_manual_grads(loss, {})
    with pytest.raises(TypeError, match="key 0 of grads is a str"):
        ad.check_manual_grads(loss, {"W1": hands["W1"]})
    with pytest.raises(ValueError, match="names gives the name 'b1' to a Parameter that is "
                       "not a key of grads"):
        ad.check_manual_grads(loss, {W1: hands["W1"]}, names={tensors["b1"]: "b1"})
    with pytest.raises(ad.DtypeError, match="the hand gradient of W1 has dtype complex128"):
        ad.check_manual_grads(loss, {W1: hands["W1"] * 1j}, names={W1: "W1"})
