"""A 1 → 2 → 5 → 1 sigmoid net learns a line, one sample per Adam step (document 000).

Document 000 (fully connected networks, in PyTorch; see docs/sources.md) makes 100 samples
on x = linspace(0, 3), y = 2.3x + 4.7 + N(0, 1) noise, and the noise-free line
y_ = 2.3x + 4.7. Its network, `Activation_Net(1, 2, 5, 1)`, is Linear → Sigmoid, Linear →
Sigmoid, Linear (no output activation), trained with MSELoss and Adam (lr 0.02) for 200
passes over the samples, one sample per step (20,000 steps), on the noise-free target y_
(that is what its loop feeds the loss), printing the loss every 100 steps. It saves the
trained model, loads it back, predicts every x and plots the noisy samples, the true line
and the network's curve. The noisy samples never reach the loss: the network learns the
noise-free line, and fit.png says so (the line is drawn as the training targets, the
samples faintly, marked as not used for training).

We do the same with `nn` and `optim`, save with `nn.save` (safetensors, architecture in
the metadata), rebuild with `nn.load` and check the loaded model predicts exactly what the
trained one does. The document gives no number for the fit; the measure here is the MSE
between the network's curve and the true line over the 100 x (hand-written numpy and
PyTorch reach 0.011–0.014 on most seeds; target ≤ 0.02), for this seed and a few others.
"""
from __future__ import annotations

import pathlib
from typing import Any

import numpy as np

import autodiff as ad
import nn
import optim
from demos.common import fmt, plt, print_comparison, progress, row, save_figure, say

SLOPE, INTERCEPT = 2.3, 4.7
SAMPLES = 100
LR = 0.02
PASSES = 200                 # the document's 200 passes of 100 one-sample steps
QUICK_PASSES = 20            # quick mode: 2,000 steps, enough to learn the trend
PRINT_EVERY = 100            # steps between two printed losses, as in the document
TARGET_MSE = 0.02            # against the true line; numpy by hand and PyTorch: 0.011–0.014
EXTRA_SEEDS = 4              # further seeds trained the same way, for the spread
QUICK_EXTRA_SEEDS = 2


def activation_net() -> nn.Sequential:
    """The document's Activation_Net(1, 2, 5, 1): layer1 and layer2 are Linear + Sigmoid,
    layer3 is Linear alone (a regression output has no activation). PyTorch's default
    init, float32."""
    return nn.Sequential({
        "layer1": nn.Sequential(nn.Linear(1, 2), nn.Sigmoid()),
        "layer2": nn.Sequential(nn.Linear(2, 5), nn.Sigmoid()),
        "layer3": nn.Sequential(nn.Linear(5, 1)),
    })


def make_data() -> dict[str, ad.Tensor]:
    """x (100, 1) on [0, 3]; y = 2.3x + 4.7 + N(0, 1) (the noise from autodiff's shared
    generator); the noise-free line y_ = 2.3x + 4.7, which the document trains on."""
    x = ad.linspace(0, 3, SAMPLES).reshape(SAMPLES, 1)                 # (100, 1)
    line = SLOPE * x + INTERCEPT                                        # (100, 1)
    noisy = line + ad.randn(SAMPLES, 1)                                 # (100, 1)
    return {"x": x, "y": noisy, "y_": line}


def mse_to_line(model: nn.Module, data: dict[str, ad.Tensor]) -> float:
    """Mean squared distance between the network's curve and the true line over all x."""
    with ad.no_grad():
        return float(((model(data["x"]) - data["y_"]) ** 2).mean().item())


def train(model: nn.Module, data: dict[str, ad.Tensor], passes: int, *, quick: bool,
          verbose: bool) -> dict[str, np.ndarray]:
    """The document's loop: for each pass, for each sample i in order, one Adam step on
    the squared error (ŷ(xᵢ) − y_ᵢ)². Returns every step's loss, and the MSE against the
    true line after each pass. With `verbose`, prints the mean of the last 100 one-sample
    losses every 100 steps, ten to a line."""
    loss_fn = nn.MSELoss()
    optimizer = optim.Adam(model.parameters(), lr=LR)
    samples = [(data["x"][i], data["y_"][i]) for i in range(SAMPLES)]    # each (1,)
    losses = np.empty(passes * SAMPLES)
    after_pass, printed = [], []
    steps = progress(range(passes * SAMPLES), quick=quick, desc="regression, one sample per step")

    @ad.compile        # traced on the first sample, replayed after: the same numbers, faster
    def train_step(x: ad.Tensor, target: ad.Tensor) -> ad.Tensor:
        loss = loss_fn(model(x), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

    for step in steps:
        losses[step] = train_step(*samples[step % SAMPLES]).item()
        done = step + 1
        if done % SAMPLES == 0:
            after_pass.append(mse_to_line(model, data))
        if verbose and done % PRINT_EVERY == 0:
            printed.append(losses[done - PRINT_EVERY:done].mean())
            if len(printed) % 10 == 0 or done == len(losses):
                first = done - PRINT_EVERY * (len(printed) - 1)
                say(f"  steps {first:>6,}–{done:>6,}: " + " ".join(f"{v:.4f}" for v in printed))
                printed = []
    return {"losses": losses, "mse_after_pass": np.array(after_pass)}


def experiment(seed: int, passes: int, *, quick: bool, verbose: bool = False) -> dict[str, Any]:
    """Seed the shared generator, draw the data, build and train the network: the same
    numbers as `python -m demos regression --seed <seed>`."""
    ad.manual_seed(seed)
    data = make_data()
    model = activation_net()
    history = train(model, data, passes, quick=quick, verbose=verbose)
    return {"data": data, "model": model, **history, "mse": mse_to_line(model, data)}


def plot_fit(data: dict[str, ad.Tensor], prediction: np.ndarray, mse: float, passes: int,
             path: pathlib.Path) -> None:
    """What the network was trained on, and what it learned: the 100 training targets on
    the noise-free line y_ (the document's loop feeds these to the loss), the reloaded
    network's curve, and, faintly, the noisy samples y that the document draws but never
    trains on."""
    x = data["x"].numpy().ravel()
    fig, ax = plt.subplots(figsize=(7.5, 5))
    ax.scatter(x, data["y"].numpy().ravel(), s=14, color="0.6", alpha=0.45, lw=0,
               label="noisy samples y = y_ + N(0, 1): not used for training,\n"
                     "as in the document's loop (drawn for reference)")
    ax.plot(x, data["y_"].numpy().ravel(), color="k", lw=1.5, marker="o", ms=3,
            label=f"training targets: the noise-free line y_ = {SLOPE}x + {INTERCEPT}\n"
                  f"(the {SAMPLES} points (x, y_) the net was trained on)")
    ax.plot(x, prediction, color="tab:red", lw=2.2, ls="--",
            label=f"network after training (reloaded), MSE to y_ {mse:.4f}")
    ax.set(title=f"1 → 2 → 5 → 1 sigmoid net trained on the noise-free line y_\n"
                 f"Adam lr {LR}, one sample per step, {passes} passes × {SAMPLES} samples",
           xlabel="x", ylabel="y")
    ax.legend(loc="upper left", fontsize=9)
    save_figure(fig, path)


def plot_loss(losses: np.ndarray, mse_after_pass: np.ndarray, path: pathlib.Path) -> None:
    steps = np.arange(1, len(losses) + 1)
    per_pass = losses.reshape(-1, SAMPLES).mean(axis=1)
    pass_ends = np.arange(1, len(per_pass) + 1) * SAMPLES
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.plot(steps, losses, color="0.75", lw=0.5, label="one-sample loss, every step")
    ax.plot(pass_ends, per_pass, color="tab:blue", lw=2, label="mean loss of each pass")
    ax.plot(pass_ends, mse_after_pass, color="tab:red", lw=1.5, ls="--",
            label="MSE of all 100 x to the true line, after each pass")
    ax.axhline(TARGET_MSE, color="tab:green", lw=1, ls=":", label=f"target {TARGET_MSE}")
    ax.set(yscale="log", ylim=(1e-4, 2 * losses.max()), xlabel="step (one sample each)",
           ylabel="squared error (log scale, cut at 1e-4)", title="training loss, Adam lr 0.02")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2, fontsize=9)
    save_figure(fig, path)


def run(out: pathlib.Path, seed: int, quick: bool) -> dict[str, Any]:
    passes = QUICK_PASSES if quick else PASSES
    print(f"training {passes} passes × {SAMPLES} samples = {passes * SAMPLES:,} one-sample "
          f"Adam steps (lr {LR}) on y_ = 2.3x + 4.7; loss = mean of each 100 steps:")
    result = experiment(seed, passes, quick=quick, verbose=True)
    model, data = result["model"], result["data"]
    print(model)
    print(f"MSE of the network to the true line over the {SAMPLES} x: {result['mse']:.5f} "
          f"(target ≤ {TARGET_MSE})")

    # ---- save, load back, predict every x with the loaded model
    path = out / "regression.safetensors"
    nn.save(model, path)
    loaded = nn.load(path)
    with ad.no_grad():
        trained_prediction = model(data["x"]).numpy()
        loaded_prediction = loaded(data["x"]).numpy()
    identical = bool(np.array_equal(trained_prediction, loaded_prediction))
    if not identical:
        raise RuntimeError(f"regression: the model loaded from {path} predicts differently "
                           f"from the trained one (max |difference| "
                           f"{np.max(np.abs(trained_prediction - loaded_prediction)):g})")
    print(f"saved to {path.name} ({path.stat().st_size:,} bytes), loaded with nn.load: "
          f"predictions identical to the trained model's")
    plot_fit(data, loaded_prediction.ravel(), result["mse"], passes, out / "fit.png")
    plot_loss(result["losses"], result["mse_after_pass"], out / "loss.png")

    # ---- the same experiment on further seeds
    seeds = {seed: result["mse"]}
    for other in range(seed + 1, seed + 1 + (QUICK_EXTRA_SEEDS if quick else EXTRA_SEEDS)):
        seeds[other] = experiment(other, passes, quick=quick)["mse"]
        print(f"  seed {other}: MSE to the true line {seeds[other]:.5f}")
    values = np.array(list(seeds.values()))
    below = int(np.sum(values <= TARGET_MSE))

    # each verdict's condition, for its text and its `agrees` flag alike. A quick run
    # shortens the training on purpose: it makes no comparison there (agrees None)
    full_length = passes == PASSES
    meets = bool(result["mse"] <= TARGET_MSE)
    rows = [
        row("network", "Activation_Net(1, 2, 5, 1): Linear, Sigmoid ×2, Linear",
            f"same, {sum(p.numel() for p in model.parameters())} parameters", "agrees",
            agrees=True),
        row("training", "200 passes × 100 one-sample Adam steps, lr 0.02, target y_",
            f"{passes} × {SAMPLES} steps" + (" (quick mode)" if quick else ""),
            "agrees" if full_length else "shortened for --quick",
            agrees=True if full_length else None),
        row("loss printed every 100 steps", "yes",
            f"mean of each 100: first {result['losses'][:PRINT_EVERY].mean():.4f}, "
            f"last {result['losses'][-PRINT_EVERY:].mean():.5f}", "agrees", agrees=True),
        row(f"MSE to the true line, seed {seed}",
            f"no number given (numpy by hand, PyTorch: 0.011–0.014; target ≤ {TARGET_MSE})",
            fmt(result["mse"]),
            "meets the target" if meets
            else "quick mode: too few steps for the target" if quick else "misses the target",
            agrees=True if meets else None if quick else False),
        row(f"MSE on seeds {min(seeds)}–{max(seeds)}", "—",
            ", ".join(fmt(v, 3) for v in values) + f" (median {np.median(values):.4f})",
            f"{below} of {len(values)} within {TARGET_MSE}", agrees=None),
        # the reloaded model predicting identically was checked above (it raises if not)
        row("save, load back, predict all x", "torch.save / torch.load",
            "nn.save / nn.load (safetensors): predictions identical",
            "agrees, and no pickle", agrees=True),
        row("plot", "noisy samples, true line, network curve",
            "fit.png: training targets (the line y_), network curve, noisy samples faint "
            "and marked as not used for training (and loss.png)",
            "agrees, and says what was trained on", agrees=True),
    ]
    print_comparison(rows, "regression: document 000 (docs/sources.md) vs autodiff")
    return {
        "comparison": rows,
        "passes": passes, "steps": passes * SAMPLES, "lr": LR,
        "mse_to_true_line": result["mse"], "target_mse": TARGET_MSE,
        "mse_by_seed": {str(k): v for k, v in seeds.items()},
        "mse_after_pass": result["mse_after_pass"],
        "loss_every_100_steps": result["losses"].reshape(-1, PRINT_EVERY).mean(axis=1),
        "final_loss_mean_of_last_100": result["losses"][-PRINT_EVERY:].mean(),
        "loaded_predictions_identical": identical,
        "loaded_max_abs_difference": float(np.max(np.abs(trained_prediction
                                                         - loaded_prediction))),
        "predictions": loaded_prediction.ravel(),
        "parameters": sum(p.numel() for p in model.parameters()),
    }
