"""Activations, initialisation, Dropout, BatchNorm: the notes' claims measured (documents 002, 004).

Five small experiments, each checking a claim of the lecture notes (002) or of the MNIST
article (004); docs/sources.md describes both documents:

1. Sigmoid, tanh, ReLU and Leaky ReLU with their derivatives, the derivatives computed
   by autodiff (not by formula) and compared with the closed forms σ(1 − σ), 1 − tanh²,
   [x > 0] and [x > 0] + 0.01·[x ≤ 0]; also tanh(x) = 2σ(2x) − 1.
2. Vanishing gradients: the gradient norm of every layer of a 10-layer net, sigmoid vs
   tanh vs ReLU. σ' ≤ 1/4, so each sigmoid layer shrinks the gradient several times
   (004: "sigmoid networks show vanishing gradients within about 5 layers").
3. All-zero initialisation: every hidden unit computes the same thing and receives the
   same gradient, so their weights stay identical however long we train (002): five
   hidden units act as one. We measure that symmetry (the spread between the units, and
   how many distinct units the trained net has), not the loss: on document 000's line a
   single unit fits about as well, so the loss would not show what zero init takes away.
4. `w = randn(n) / sqrt(n)`: Var(Σᵢ wᵢxᵢ) = n·Var(w)·Var(x) = Var(x), so the output
   variance of a layer stays calibrated; unscaled randn multiplies the std by √n per
   layer, randn·0.01 divides it (002).
5. Dropout (inverted, p = 0.5) against overfitting a small noisy data set (000, 002), and
   BatchNorm1d before each sigmoid rescuing a deep sigmoid net that cannot train (000:
   "Batch Normalization before activations tames exploding/vanishing gradients").
"""
from __future__ import annotations

import math
import pathlib
import warnings
from typing import Any

import numpy as np

import autodiff as ad
import nn
import optim
from demos.common import fmt, plt, print_comparison, progress, row, save_figure

LEAKY_SLOPE = 0.01
ROUNDING = 1e-9              # float64 results equal up to rounding differ by less (size ≤ 1)


def d_sigmoid(x: np.ndarray) -> np.ndarray:
    s = 1 / (1 + np.exp(-x))
    return s * (1 - s)                                  # σ' = σ(1 − σ)


def d_tanh(x: np.ndarray) -> np.ndarray:
    return 1 - np.tanh(x) ** 2                          # tanh' = 1 − tanh²


def d_relu(x: np.ndarray) -> np.ndarray:
    return np.where(x > 0, 1.0, 0.0)                    # relu'(0) = 0 by convention


def d_leaky_relu(x: np.ndarray) -> np.ndarray:
    return np.where(x > 0, 1.0, LEAKY_SLOPE)


def leaky_relu(x: ad.Tensor) -> ad.Tensor:
    return ad.leaky_relu(x, LEAKY_SLOPE)


# name -> (the activation on tensors, its closed-form derivative on arrays)
ACTIVATIONS = {"sigmoid": (ad.sigmoid, d_sigmoid), "tanh": (ad.tanh, d_tanh),
               "ReLU": (ad.relu, d_relu), "Leaky ReLU": (leaky_relu, d_leaky_relu)}


# ---------------------------------------------------------------- 1. activations

def activation_derivatives() -> dict[str, Any]:
    """Each activation and its derivative from autodiff on a grid that includes x = 0
    (where relu'(0) = 0 by convention), against the closed form."""
    grid = np.linspace(-5, 5, 401)
    curves, errors = {}, {}
    for name, (f, closed_form) in ACTIVATIONS.items():
        x = ad.tensor(grid, requires_grad=True)
        y = f(x)
        y.sum().backward()                 # elementwise f: d(Σ f(xᵢ))/dxᵢ = f'(xᵢ)
        curves[name] = (y.numpy(), x.grad.numpy())
        errors[name] = float(np.max(np.abs(x.grad.numpy() - closed_form(grid))))
    x = ad.tensor(grid)
    tanh_identity = float(np.max(np.abs((x.tanh() - (2 * (2 * x).sigmoid() - 1)).numpy())))
    return {"grid": grid, "curves": curves, "errors": errors, "tanh_identity": tanh_identity}


def plot_activations(result: dict[str, Any], path: pathlib.Path) -> None:
    fig, axes = plt.subplots(1, 4, figsize=(15, 3.8), sharey=True)
    grid = result["grid"]
    for ax, (name, (y, dy)) in zip(axes, result["curves"].items()):
        ax.plot(grid, y, color="tab:blue", lw=2, label=f"{name}(x)")
        ax.plot(grid, dy, color="tab:red", lw=2, ls="--", label="derivative (autodiff)")
        ax.axhline(0, color="0.7", lw=0.8)
        ax.axvline(0, color="0.7", lw=0.8)
        ax.set(title=name, xlabel="x", ylim=(-1.2, 2.2))
        ax.legend(loc="upper left", fontsize=9)
    axes[3].annotate(f"slope {LEAKY_SLOPE} for x < 0", xy=(-3, -3 * LEAKY_SLOPE),
                     xytext=(-4.8, -0.7), fontsize=9, arrowprops={"arrowstyle": "->"})
    fig.tight_layout()
    save_figure(fig, path)


# ---------------------------------------------------------------- 2. vanishing gradients

def gradient_norms(activation: type[nn.Module], std: float, depth: int, width: int,
                   batch: int) -> tuple[np.ndarray, np.ndarray]:
    """‖dL/dW‖ of each of `depth` hidden layers (layer 1 is next to the input) of a net
    Linear → activation repeated, then Linear(width, 1); weights N(0, std²), biases 0;
    L = MSE against random targets. Also, from an `nn.utils.Monitor` attached for the
    pass, each activation layer's fraction of saturated units (tanh, sigmoid) or dead
    units (ReLU)."""
    layers: list[nn.Module] = []
    for _ in range(depth):
        layers += [nn.Linear(width, width), activation()]
    model = nn.Sequential(*layers, nn.Linear(width, 1)).double()
    for layer in model:
        if isinstance(layer, nn.Linear):
            nn.init.normal_(layer.weight, 0.0, std)
            nn.init.zeros_(layer.bias)
    x = ad.randn(batch, width, dtype=ad.float64)
    target = ad.randn(batch, 1, dtype=ad.float64)
    with nn.utils.Monitor(model) as monitor, warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always", nn.utils.MonitorWarning)
        nn.functional.mse_loss(model(x), target).backward()
    if warned:
        print(f"{activation.__name__:>14}: the Monitor warns of {len(warned)} layers, e.g. "
              f"{str(warned[-1].message).split(': ', 1)[1].split(', so')[0]}")
    kind = "dead" if activation is nn.ReLU else "saturated"
    stuck = np.array([row[kind] for row in monitor.report()[1:2 * depth:2]])
    return np.array([np.linalg.norm(model[2 * k].weight.grad.numpy())
                     for k in range(depth)]), stuck


def plot_vanishing(norms: dict[str, np.ndarray], path: pathlib.Path) -> None:
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    colours = {"sigmoid": "tab:red", "tanh": "tab:orange", "ReLU": "tab:blue"}
    for name, values in norms.items():
        ax.semilogy(np.arange(1, len(values) + 1), values, "o-", color=colours[name],
                    label=name)
    ax.set(title="gradient norm ‖dL/dW‖ per layer (10 hidden layers, width 64)",
           xlabel="layer (1 = next to the input; the loss is after layer 10)",
           ylabel="‖dL/dW‖ (log scale)", xticks=range(1, len(norms["sigmoid"]) + 1))
    ax.legend(title="activation (weights randn/√n)", fontsize=9, title_fontsize=9)
    ax.grid(alpha=0.3, which="both")
    save_figure(fig, path)


# ---------------------------------------------------------------- 3. all-zero init

def distinct_units(weights: np.ndarray, biases: np.ndarray, outputs: np.ndarray) -> int:
    """How many different hidden units the net has: unit j is (its incoming weight w_j,
    bias b_j, outgoing weight v_j); units equal up to ROUNDING times the largest |value|
    count once."""
    units = np.stack([weights, biases, outputs], axis=1)          # (5 units, 3)
    tolerance = ROUNDING * max(1.0, float(np.abs(units).max()))
    kept: list[np.ndarray] = []
    for unit in units:
        if not any(np.abs(unit - other).max() <= tolerance for other in kept):
            kept.append(unit)
    return len(kept)


def train_hidden_weights(zero: bool, steps: int) -> dict[str, Any]:
    """Document 000's data (y = 2.3x + 4.7 on [0, 3]) through Linear(1, 5) → Sigmoid →
    Linear(5, 1), full-batch SGD. Returns the hidden units' incoming weights after every
    step, how far apart the units are (max − min over the 5 units, of the incoming weights
    and of the activations σ(w_j·x + b_j) over the 100 x, at every step) and how many
    distinct units the trained net has. The spreads are computed from the recorded
    weights with numpy, so they draw no random numbers."""
    model = nn.Sequential(nn.Linear(1, 5), nn.Sigmoid(), nn.Linear(5, 1)).double()
    if zero:
        for p in model.parameters():
            nn.init.zeros_(p)
    x = ad.linspace(0, 3, 100, dtype=ad.float64).reshape(100, 1)
    y = 2.3 * x + 4.7
    optimizer = optim.SGD(model.parameters(), lr=0.05)

    def hidden() -> tuple[np.ndarray, np.ndarray]:
        return model[0].weight.numpy().ravel().copy(), model[0].bias.numpy().copy()

    w, b = hidden()
    weights, biases = [w], [b]                                     # the initial ones first
    for _ in range(steps):
        loss = nn.functional.mse_loss(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        w, b = hidden()
        weights.append(w)
        biases.append(b)
    history = np.array(weights)                                    # (steps + 1, 5 units)
    biases_history = np.array(biases)                              # (steps + 1, 5 units)
    grid = x.numpy().ravel()                                       # (100,)
    z = history[:, None, :] * grid[None, :, None] + biases_history[:, None, :]
    activations = 1 / (1 + np.exp(-z))                             # (steps + 1, 100 x, 5 units)
    weight_spread = np.ptp(history, axis=1)                        # (steps + 1,)
    activation_spread = np.ptp(activations, axis=2).max(axis=1)    # (steps + 1,)
    outputs = model[2].weight.numpy().ravel()
    return {"history": history, "weight_spread": weight_spread,
            "activation_spread": activation_spread,
            "spread": float(weight_spread.max()),
            "output_spread": float(np.ptp(outputs)),
            "distinct_units": distinct_units(history[-1], biases_history[-1], outputs)}


def plot_zero_init(zero: dict[str, Any], random: dict[str, Any], path: pathlib.Path) -> None:
    """Left and middle: each hidden unit's incoming weight over training, for both inits.
    Right: how far apart the 5 units are, in weights and in what they compute."""
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.6), layout="constrained")
    units = zero["history"].shape[1]
    for ax, (title, result) in zip(axes, (("all-zero init", zero),
                                          ("PyTorch's default (random) init", random))):
        steps = np.arange(len(result["history"]))
        for unit in range(units):
            ax.plot(steps, result["history"][:, unit], lw=1.8, label=f"unit {unit + 1}")
        ax.set(title=f"{title}: {units} hidden units, {result['distinct_units']} distinct",
               xlabel="SGD steps done (0 = the initial weights)",
               ylabel="incoming weight w_j of each hidden unit")
    axes[0].text(0.5, 0.08, f"all {units} lines lie on top of each other:\nthe units get the "
                 "same gradient, so they stay equal", transform=axes[0].transAxes,
                 ha="center", fontsize=9)
    axes[1].legend(fontsize=8, ncol=units, loc="lower center")
    axes[1].sharey(axes[0])

    spread = axes[2]
    steps = np.arange(len(zero["history"]))
    for result, colour, name in ((random, "tab:blue", "random init"),
                                 (zero, "tab:red", "all-zero init")):
        spread.plot(steps, result["weight_spread"], color=colour, lw=2,
                    label=f"{name}: incoming weights w_j")
        spread.plot(steps, result["activation_spread"], color=colour, lw=2, ls="--",
                    label=f"{name}: activations σ(w_j·x + b_j), largest over x")
    spread.set(title="spread between the hidden units: max − min over the units",
               xlabel="SGD steps done (0 = the initial weights)", ylabel="max − min",
               ylim=(-0.05, None))
    largest = max(zero["spread"], float(zero["activation_spread"].max()))
    spread.text(0.97, 0.05, "all-zero init: 0 at every step"
                + (f" (largest {largest:.0e}, rounding)" if largest > 0 else ""),
                transform=spread.transAxes, ha="right", color="tab:red", fontsize=9)
    spread.legend(fontsize=8, loc="upper right")
    save_figure(fig, path)


# ---------------------------------------------------------------- 4. weight scale

def activation_stds(scale: str, nonlinear: bool, depth: int, width: int,
                    batch: int) -> np.ndarray:
    """The std of each layer's output for weights randn·0.01, randn/√n or randn."""
    factor = {"randn·0.01": 0.01, "randn/√n": 1 / math.sqrt(width), "randn": 1.0}[scale]
    a = ad.randn(batch, width, dtype=ad.float64)
    stds = []
    with ad.no_grad():
        for _ in range(depth):
            W = ad.randn(width, width, dtype=ad.float64) * factor        # w = randn(n) / sqrt(n)
            a = a @ W.T
            if nonlinear:
                a = a.tanh()
            stds.append(a.std().item())
    return np.array(stds)


def plot_weight_scale(stds: dict[str, dict[str, np.ndarray]], path: pathlib.Path) -> None:
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    colours = {"randn·0.01": "tab:purple", "randn/√n": "tab:green", "randn": "tab:red"}
    titles = {"linear": "linear layers: std of W·x per layer",
              "tanh": "tanh layers: std of tanh(W·x) per layer"}
    for ax, (kind, by_scale) in zip(axes, stds.items()):
        for scale, values in by_scale.items():
            ax.semilogy(np.arange(1, len(values) + 1), values, "o-", color=colours[scale],
                        label=f"W = {scale}")
        ax.set(title=titles[kind], xlabel="layer", ylabel="std (log scale)",
               xticks=range(1, len(values) + 1))
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=9)
    axes[1].text(10, 0.05, "W = randn: every unit saturated at ±1", color="tab:red", ha="right",
                 fontsize=9)
    fig.tight_layout()
    save_figure(fig, path)


# ---------------------------------------------------------------- 5. Dropout, BatchNorm

def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' if count != 1 else ''}"


def noisy_sine(n: int, rng: np.random.Generator) -> tuple[ad.Tensor, ad.Tensor]:
    x = rng.uniform(-3, 3, size=(n, 1))
    return ad.tensor(x, dtype=ad.float32), ad.tensor(np.sin(x) + 0.5 * rng.normal(size=(n, 1)),
                                                      dtype=ad.float32)


def dropout_trial(p: float, data: tuple[ad.Tensor, ...], steps: int, every: int,
                  quick: bool) -> dict[str, Any]:
    """Fit 20 noisy samples with 1 → 128 → 128 → 1 (ReLU, Dropout(p) after each hidden
    layer), Adam lr 0.003, full batch; train and test MSE (in eval mode) every `every` steps."""
    x_train, y_train, x_test, y_test = data
    model = nn.Sequential(nn.Linear(1, 128), nn.ReLU(), nn.Dropout(p),
                          nn.Linear(128, 128), nn.ReLU(), nn.Dropout(p), nn.Linear(128, 1))
    optimizer = optim.Adam(model.parameters(), lr=0.003)
    curve = []
    for step in progress(range(steps + 1), quick=quick, desc=f"dropout p={p}"):
        if step % every == 0:
            model.eval()
            with ad.no_grad():
                curve.append((step, nn.functional.mse_loss(model(x_train), y_train).item(),
                              nn.functional.mse_loss(model(x_test), y_test).item()))
            model.train()
        if step < steps:
            loss = nn.functional.mse_loss(model(x_train), y_train)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return {"curve": np.array(curve), "train": curve[-1][1], "test": curve[-1][2]}


def batchnorm_trial(batchnorm: bool, data: tuple[ad.Tensor, ad.Tensor], steps: int,
                    quick: bool) -> np.ndarray:
    """A deep sigmoid classifier, 2 → (32 → [BatchNorm1d] → Sigmoid) × 6 → 1, SGD lr 0.1,
    full batch, BCE on logits; returns the training loss per step."""
    layers: list[nn.Module] = []
    for n_in in (2, 32, 32, 32, 32, 32):
        layers.append(nn.Linear(n_in, 32))
        if batchnorm:
            layers.append(nn.BatchNorm1d(32))          # normalise before the activation
        layers.append(nn.Sigmoid())
    model = nn.Sequential(*layers, nn.Linear(32, 1))
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    x, y = data
    losses = []
    for _ in progress(range(steps), quick=quick, desc=f"BatchNorm={batchnorm}"):
        loss = nn.functional.binary_cross_entropy_with_logits(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return np.array(losses)


def plot_regularisation(dropout: dict[str, dict[str, Any]], batchnorm: dict[str, np.ndarray],
                        noise_floor: float, path: pathlib.Path) -> None:
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    for (name, result), colour in zip(dropout.items(), ("tab:red", "tab:blue")):
        curve = np.mean(result["curves"], axis=0)                  # (points, step/train/test)
        left.plot(curve[:, 0], curve[:, 1], color=colour, ls="--", label=f"{name}: train")
        left.plot(curve[:, 0], curve[:, 2], color=colour, label=f"{name}: test")
    left.axhline(noise_floor, color="0.5", ls=":", lw=1, label="noise variance (best test)")
    trials = len(next(iter(dropout.values()))["curves"])
    left.set(title=f"20 noisy samples, 1 → 128 → 128 → 1 ({plural(trials, 'trial')}, mean)",
             xlabel="Adam steps done (0 = before training)", ylabel="MSE (eval mode)")
    left.legend(fontsize=9)
    for (name, losses), colour in zip(batchnorm.items(), ("tab:red", "tab:blue")):
        right.plot(np.arange(1, len(losses) + 1), losses, color=colour, lw=1.8, label=name)
    right.set(title="6 sigmoid layers of 32: training loss", xlabel="SGD step (full batch)",
              ylabel="binary cross-entropy", ylim=(0, 0.8))
    right.legend(fontsize=9)
    fig.tight_layout()
    save_figure(fig, path)


# ---------------------------------------------------------------- the run

def run(out: pathlib.Path, seed: int, quick: bool) -> dict[str, Any]:
    # 1. activations and their autodiff derivatives
    acts = activation_derivatives()
    for name, error in acts["errors"].items():
        print(f"{name:>10}: autodiff derivative vs closed form, max |diff| {error:.1e}")
    print(f"tanh(x) vs 2σ(2x) − 1: max |diff| {acts['tanh_identity']:.1e}")
    plot_activations(acts, out / "activations.png")

    # 2. vanishing gradients through 10 layers
    depth, width = 10, 64
    std = 1 / math.sqrt(width)
    measured = {"sigmoid": gradient_norms(nn.Sigmoid, std, depth, width, 256),
                "tanh": gradient_norms(nn.Tanh, std, depth, width, 256),
                "ReLU": gradient_norms(nn.ReLU, std, depth, width, 256)}
    norms = {name: values for name, (values, _) in measured.items()}
    stuck = {name: values for name, (_, values) in measured.items()}
    shrink = {name: float(v[0] / v[-1]) for name, v in norms.items()}
    five = {name: float(v[-5] / v[-1]) for name, v in norms.items()}
    for name, values in norms.items():
        print(f"{name:>14}: ‖dL/dW‖ layer 1 … 10 = {', '.join(fmt(v, 2) for v in values)}")
    for name, values in stuck.items():
        kind = "dead" if name == "ReLU" else "saturated"
        print(f"{name:>14}: {kind} units per layer (nn.utils.Monitor) "
              f"{', '.join(f'{v:.0%}' for v in values)}")
    print("  (at this init almost no sigmoid unit saturates: its gradients shrink because "
          "σ′ ≤ 1/4 at every layer)")
    plot_vanishing(norms, out / "vanishing_gradients.png")

    # 3. all-zero init keeps the hidden units identical
    steps = 100 if quick else 500
    zero = train_hidden_weights(zero=True, steps=steps)
    random = train_hidden_weights(zero=False, steps=steps)
    zero_apart = max(zero["spread"], float(zero["activation_spread"].max()))
    random_apart = float(random["weight_spread"].min())
    print(f"all-zero init, {steps} SGD steps: hidden weights {zero['history'][-1]}; the units' "
          f"weights and activations differ by at most {zero_apart:.1g} at any step: "
          f"{zero['distinct_units']} distinct unit(s) of 5")
    print(f"random init: the units' weights differ by at least {random_apart:.3g} at every "
          f"step: {random['distinct_units']} distinct units of 5")
    plot_zero_init(zero, random, out / "zero_init.png")

    # 4. randn/√n keeps the variance of each layer's output
    scales = ("randn·0.01", "randn/√n", "randn")
    stds = {kind: {s: activation_stds(s, kind == "tanh", 10, 256, 500) for s in scales}
            for kind in ("linear", "tanh")}
    for kind, by_scale in stds.items():
        for scale, values in by_scale.items():
            print(f"{kind:>6}, W = {scale:>10}: std per layer "
                  f"{', '.join(fmt(v, 2) for v in values)}")
    plot_weight_scale(stds, out / "weight_scale.png")

    # 5a. Dropout: the same net with and without, on fresh noisy samples per trial
    trials, dropout_steps = (1, 300) if quick else (5, 2000)
    rng = ad.random.generator()
    dropout: dict[str, dict[str, Any]] = {"no dropout": {"curves": [], "train": [], "test": []},
                                          "Dropout(0.5)": {"curves": [], "train": [], "test": []}}
    for _ in range(trials):
        data = (*noisy_sine(20, rng), *noisy_sine(500, rng))
        for name, p in (("no dropout", 0.0), ("Dropout(0.5)", 0.5)):
            trial = dropout_trial(p, data, dropout_steps, every=20, quick=quick)
            for key in ("train", "test"):
                dropout[name][key].append(trial[key])
            dropout[name]["curves"].append(trial["curve"])
    for name, result in dropout.items():
        print(f"{name:>12}: train MSE {np.mean(result['train']):.3f}, test MSE "
              f"{np.mean(result['test']):.3f} (mean of {plural(trials, 'trial')}; noise variance "
              f"0.25)")

    # 5b. BatchNorm1d before each sigmoid in a deep net
    bn_steps = 200 if quick else 600
    points = rng.normal(size=(256, 2))
    inside = (points ** 2).sum(axis=1, keepdims=True) < 1.4          # a disc: two classes
    data = (ad.tensor(points, dtype=ad.float32), ad.tensor(inside, dtype=ad.float32))
    batchnorm = {"without BatchNorm": batchnorm_trial(False, data, bn_steps, quick),
                 "with BatchNorm1d": batchnorm_trial(True, data, bn_steps, quick)}
    for name, losses in batchnorm.items():
        print(f"{name:>17}: training loss {losses[0]:.3f} → {losses[-1]:.3f} "
              f"after {bn_steps} steps")
    plot_regularisation(dropout, batchnorm, 0.25, out / "dropout_batchnorm.png")

    worst = max(acts["errors"].values())
    means = {name: {key: float(np.mean(r[key])) for key in ("train", "test")}
             for name, r in dropout.items()}
    no_bn, bn = batchnorm["without BatchNorm"][-1], batchnorm["with BatchNorm1d"][-1]
    # each verdict's condition, for its text and its `agrees` flag alike
    closed_forms = worst < ROUNDING
    identity = acts["tanh_identity"] < ROUNDING
    sigmoid_vanishes = five["sigmoid"] < 0.05
    others_keep = min(shrink["tanh"], shrink["ReLU"]) > 0.2
    symmetric = zero["distinct_units"] == 1 and random["distinct_units"] == 5
    calibrated = abs(stds["linear"]["randn/√n"][-1] - 1) < 0.2
    dropout_helps = means["Dropout(0.5)"]["test"] < means["no dropout"]["test"]
    batchnorm_helps = bn < no_bn
    rows = [
        row("derivatives σ(1−σ), 1−tanh², ReLU, Leaky ReLU", "closed forms",
            f"autodiff = closed form to {worst:.1e}; relu'(0) = 0",
            "agrees" if closed_forms else "differs", agrees=closed_forms),
        row("tanh(x) = 2σ(2x) − 1", "identity",
            f"largest difference {acts['tanh_identity']:.1e}",
            "agrees" if identity else "differs", agrees=identity),
        row("sigmoid gradients vanish", "within about 5 layers (004)",
            f"‖dL/dW‖ ratio layer 5 / layer 10 = {five['sigmoid']:.2g}, layer 1 / layer 10 = "
            f"{shrink['sigmoid']:.2g}", "agrees" if sigmoid_vanishes else "not reproduced",
            agrees=sigmoid_vanishes),
        row("tanh, ReLU gradients", "tanh saturates too; ReLU does not for x > 0",
            f"‖dL/dW‖ ratio layer 1 / layer 10 = {shrink['tanh']:.2g} (tanh), "
            f"{shrink['ReLU']:.2g} (ReLU)",
            "agrees: no vanishing at this init" if others_keep else "vanishing here too",
            agrees=others_keep),
        row("all-zero init", "wrong: every unit stays identical (002)",
            f"after {steps} SGD steps {zero['distinct_units']} distinct hidden unit of 5 "
            f"(weights and activations differ by ≤ {zero_apart:.1g}"
            + (", rounding" if zero_apart > 0 else "") + "); random "
            f"init: {random['distinct_units']} distinct, weights ≥ {random_apart:.2g} apart "
            f"at every step",
            "agrees" if symmetric else "differs", agrees=symmetric),
        row("w = randn(n)/√n", "keeps output variance",
            f"std after 10 linear layers: {stds['linear']['randn/√n'][-1]:.2g} (randn: "
            f"{stds['linear']['randn'][-1]:.2g}, randn·0.01: "
            f"{stds['linear']['randn·0.01'][-1]:.2g})",
            "agrees" if calibrated else "differs", agrees=calibrated),
        row("Dropout against overfitting", "helps when data are few, nets large",
            f"test MSE {means['no dropout']['test']:.3f} → {means['Dropout(0.5)']['test']:.3f}"
            f" (train {means['no dropout']['train']:.3f} → "
            f"{means['Dropout(0.5)']['train']:.3f}), {plural(trials, 'trial')}",
            "agrees" if dropout_helps else "not reproduced in this run", agrees=dropout_helps),
        row("BatchNorm before activations", "tames vanishing gradients",
            f"deep sigmoid net: loss {no_bn:.3f} without, {bn:.3f} with BatchNorm1d "
            f"after {bn_steps} steps", "agrees" if batchnorm_helps else "not reproduced",
            agrees=batchnorm_helps),
    ]
    print_comparison(rows, "activations_init: documents 002 + 004 (docs/sources.md) vs autodiff")
    return {
        "comparison": rows,
        "activations": {"derivative_max_abs_error": acts["errors"],
                        "tanh_identity_max_abs_error": acts["tanh_identity"]},
        "vanishing_gradients": {"depth": depth, "width": width, "grad_norms": norms,
                                "first_over_last": shrink, "fifth_last_over_last": five,
                                "saturated_or_dead": stuck},
        "zero_init": {"steps": steps, "spread_zero": zero["spread"],
                      "output_spread_zero": zero["output_spread"],
                      "activation_spread_zero": float(zero["activation_spread"].max()),
                      "final_hidden_weights_zero": zero["history"][-1],
                      "distinct_units_zero": zero["distinct_units"],
                      "spread_random": random["spread"],
                      "smallest_spread_random": random_apart,
                      "smallest_activation_spread_random":
                          float(random["activation_spread"].min()),
                      "distinct_units_random": random["distinct_units"]},
        "weight_scale": stds,
        "dropout": {"trials": trials, "steps": dropout_steps, "mean": means,
                    "per_trial": {n: {"train": r["train"], "test": r["test"]}
                                  for n, r in dropout.items()}},
        "batchnorm": {"steps": bn_steps, "final_loss": {"without": no_bn, "with": bn},
                      "losses": batchnorm},
    }
