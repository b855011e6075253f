"""XOR with a 2 → 10 → 1 net, Keras style: summary, fit, JSON + weights (document 001).

Document 001 (a neural network in Python, with Keras; see docs/sources.md) learns XOR, which
no single perceptron can: x = [[0,0],[0,1],[1,0],[1,1]], y = [[0],[1],[1],[0]], the model
Dense(10, input_dim=2) → tanh → Dense(1) → sigmoid, SGD lr 0.1 on binary cross-entropy,
metric accuracy, all four samples in one batch. It prints `summary()` (30 + 0 + 11 = 41
parameters), the predictions before training (≈ 0.5), one line per epoch of
`fit(epochs=100)` (epoch 1: loss 0.6917, accuracy 0.75; epoch 100: loss 0.6661, accuracy
1.0), and after more training the predictions ≈ [0.0036, 0.9912, 0.9929, 0.0091], classes
[0, 1, 1, 0]. It saves the architecture as JSON and the weights separately and reloads both
to predict without retraining; it warns that a first fit may not converge.

We build the same model with `nn` (Linear(2, 10) → Tanh → Linear(10, 1) → Sigmoid,
BCELoss, optim.SGD), initialised as Keras's Dense is by default (Glorot-uniform weights,
zero biases), print `nn.summary`, log the first 100 epochs as Keras does (loss and
accuracy of the batch the epoch trained on, before its update), then train on to 100 %
accuracy and until every prediction is within 0.01 of its target (the document's final
predictions are all within 0.0091). The architecture goes to JSON (`model.to_json()`),
the weights to safetensors (`nn.save`); `nn.from_json` + `nn.load(path, model)` bring
them back. Then 20 seeds with each init, PyTorch's default (U(±1/√fan_in) for weights and
biases) and Keras's, show how often and how fast plain SGD solves XOR. Pictures: the
decision surface before and after training, the training curves and the seed study, and
the computation graph of one forward + backward, one box per layer.
"""
from __future__ import annotations

import math
import pathlib
from typing import Any

import numpy as np

import autodiff as ad
import nn
import optim
from demos.common import plt, print_comparison, progress, row, save_figure, save_graph, say

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)     # (4, 2)
Y = np.array([[0], [1], [1], [0]], dtype=np.float32)                 # (4, 1)
LR = 0.1
LOGGED_EPOCHS = 100             # the document's fit(epochs=100), one line per epoch
CONFIDENT = 0.01                # train on until every |p − y| < 0.01, as the document's are
CHANCE_LOSS_TOLERANCE = 0.05    # epoch 1: loss within this of ln 2, the loss at p = 0.5
MAX_EPOCHS = 20_000             # cap for the main run (it needs about 3,000)
SEEDS = 20                      # the seed study: seeds seed, seed + 1, ..., seed + 19
SEED_STUDY_CAP = 5_000          # epochs allowed per seed to reach 100 % accuracy
INITS = {"pytorch": "PyTorch's default: weights and biases U(±1/√fan_in)",
         "keras": "Keras's Dense default: glorot_uniform weights, zero biases"}
DOCUMENT_PREDICTIONS = [0.0036, 0.9912, 0.9929, 0.0091]


def build_model(init: str) -> nn.Sequential:
    """Dense(10) → tanh → Dense(1) → sigmoid; `init` "pytorch" keeps nn.Linear's default,
    "keras" re-draws the weights Glorot-uniform, U(±√(6 / (fan_in + fan_out))), and zeroes
    the biases, as Keras's Dense does by default."""
    model = nn.Sequential(nn.Linear(2, 10), nn.Tanh(), nn.Linear(10, 1), nn.Sigmoid())
    if init == "keras":
        for layer in (model[0], model[2]):
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)
    return model


def accuracy(p: np.ndarray) -> float:
    """Keras's binary accuracy: the share of samples whose p > 0.5 matches the target."""
    return float(np.mean((p > 0.5) == (Y > 0.5)))


def predict(model: nn.Module, x: np.ndarray = X) -> np.ndarray:
    with ad.no_grad():
        return model(ad.tensor(x)).numpy()


def fit(model: nn.Module, max_epochs: int, *, until_confident: bool, log: bool = False,
        quick: bool = True, desc: str = "") -> dict[str, Any]:
    """Full-batch SGD on the four samples, one update per epoch. As Keras reports it, an
    epoch's loss and accuracy are those of the batch it trained on, measured before its
    update. Stops after the first epoch at 100 % accuracy or, with `until_confident`,
    after the first epoch with every |p − y| < CONFIDENT (or at `max_epochs`)."""
    loss_fn = nn.BCELoss()
    optimizer = optim.SGD(model.parameters(), lr=LR)
    x, y = ad.tensor(X), ad.tensor(Y)
    losses, accuracies = [], []
    reached = confident = None

    @ad.compile        # traced on the first epoch, replayed after: the same numbers, faster
    def train_step(x: ad.Tensor, y: ad.Tensor) -> tuple[ad.Tensor, ad.Tensor]:
        p = model(x)                                             # (4, 1)
        loss = loss_fn(p, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss, p.detach()

    for epoch in progress(range(1, max_epochs + 1), quick=quick, desc=desc):
        loss, p = train_step(x, y)
        losses.append(loss.item())
        accuracies.append(accuracy(p.numpy()))
        if log and epoch <= LOGGED_EPOCHS:
            say(f"Epoch {epoch}/{LOGGED_EPOCHS} - loss: {losses[-1]:.4f} - "
                f"accuracy: {accuracies[-1]:.4f}")
        if reached is None and accuracies[-1] == 1.0:
            reached = epoch
        if confident is None and np.max(np.abs(p.numpy() - Y)) < CONFIDENT:
            confident = epoch
        if (confident if until_confident else reached) is not None:
            break
    return {"losses": np.array(losses), "accuracies": np.array(accuracies),
            "reached_epoch": reached, "confident_epoch": confident, "epochs": len(losses)}


def seed_study(seed: int, quick: bool) -> dict[str, dict[str, Any]]:
    """For each init, train from seeds seed … seed + 19 until 100 % accuracy; the epoch
    each needed (None: not within SEED_STUDY_CAP), how many made it, and the median."""
    study = {}
    for init, description in INITS.items():
        epochs = []
        for k in progress(range(SEEDS), quick=quick, desc=f"{SEEDS} seeds, {init} init"):
            ad.manual_seed(seed + k)
            epochs.append(fit(build_model(init), SEED_STUDY_CAP,
                              until_confident=False)["reached_epoch"])
        solved = [e for e in epochs if e is not None]
        study[init] = {"init": description, "seeds": list(range(seed, seed + SEEDS)),
                       "epochs": epochs, "reached": len(solved),
                       "by_epoch_100": sum(1 for e in solved if e <= LOGGED_EPOCHS),
                       "median_epoch": float(np.median(solved)) if solved else None}
    return study


def study_text(result: dict[str, Any]) -> str:
    median = result["median_epoch"]
    return (f"{result['reached']}/{SEEDS} reach 100 % within {SEED_STUDY_CAP:,} epochs, "
            f"{result['by_epoch_100']} within {LOGGED_EPOCHS}; median epoch "
            + (f"{median:.0f}" if median is not None else "—"))


def draw_graph(model: nn.Module, path: pathlib.Path) -> None:
    """One forward + backward of the full batch, drawn with values and gradients, ops
    grouped in a box per layer; the gradients are cleared afterwards."""
    names = ["z₁ = x·W₁ᵀ + b₁", "h = tanh(z₁)", "z₂ = h·W₂ᵀ + b₂", "p = σ(z₂)"]

    def name_output(layer: nn.Module, args: tuple, output: ad.Tensor) -> None:
        output.name = names[list(model).index(layer)]
        output.retain_grad()                       # keep dloss/d(output) for the picture

    handles = [layer.register_forward_hook(name_output) for layer in model]
    x, y = ad.tensor(X), ad.tensor(Y)
    x.name, y.name = "x", "y"
    loss = nn.BCELoss()(model(x), y)
    loss.name = "loss"
    loss.backward()
    for handle in handles:
        handle.remove()
    save_graph(loss, path=path, params=model, rankdir="TB")
    model.zero_grad()


def surface(model: nn.Module, steps: int = 201) -> tuple[np.ndarray, np.ndarray]:
    """The learned p over the square [−0.5, 1.5]²: the grid axis and p, (steps, steps)."""
    axis = np.linspace(-0.5, 1.5, steps, dtype=np.float32)
    a, b = np.meshgrid(axis, axis)                               # a: x₁ (columns), b: x₂ (rows)
    grid = np.stack([a.ravel(), b.ravel()], axis=1)               # (steps², 2)
    return axis, predict(model, grid).reshape(steps, steps)


def plot_surfaces(panels: list[tuple[str, np.ndarray, np.ndarray, np.ndarray]],
                  path: pathlib.Path) -> None:
    """One panel per (title, axis, p on the grid, p at the four samples)."""
    fig, axes = plt.subplots(1, len(panels), figsize=(5.8 * len(panels), 5), squeeze=False,
                             layout="constrained")
    for ax, (title, axis, p, at_samples) in zip(axes[0], panels):
        filled = ax.contourf(axis, axis, p, levels=np.linspace(0, 1, 21), cmap="RdBu_r",
                             vmin=0, vmax=1)
        ax.contour(axis, axis, p, levels=[0.5], colors="k", linewidths=1.5)
        for (x1, x2), target, value in zip(X, Y.ravel(), at_samples.ravel()):
            ax.scatter(x1, x2, s=140, marker="o" if target == 0 else "s",
                       color="tab:blue" if target == 0 else "tab:red", edgecolors="k", zorder=3)
            ax.annotate(f"y = {target:.0f}\np = {value:.3f}", (x1, x2), xytext=(10, -12),
                        textcoords="offset points", fontsize=9,
                        bbox={"boxstyle": "round", "fc": "white", "alpha": 0.8})
        ax.set(title=title, xlabel="x₁", ylabel="x₂", aspect="equal")
    fig.colorbar(filled, ax=axes[0].tolist(), label="p = P(y = 1 | x); black line: p = 0.5")
    save_figure(fig, path)


def plot_training(history: dict[str, Any], study: dict[str, dict[str, Any]],
                  path: pathlib.Path) -> None:
    """Left: the main run's loss and accuracy per epoch (as Keras logs them: the batch's,
    before its update). Right: the epoch at which each seed of the study first reached
    100 % accuracy. The legends sit below the panels, clear of the curves."""
    fig, (curve, seeds) = plt.subplots(1, 2, figsize=(12, 5.2), layout="constrained")
    epochs = np.arange(1, history["epochs"] + 1)
    curve.plot(epochs, history["losses"], color="tab:blue", label="loss (binary cross-entropy)")
    curve.plot(epochs, history["accuracies"], color="tab:orange",
               label="accuracy (share of the 4 samples right)")
    curve.axvline(LOGGED_EPOCHS, color="0.6", ls=":", label="the document's fit(epochs=100)")
    if history["reached_epoch"]:
        curve.axvline(history["reached_epoch"], color="tab:green", ls="--",
                      label=f"100 % accuracy (epoch {history['reached_epoch']})")
    curve.set(xscale="log", xlabel="epoch (log scale)",
              ylabel="loss and accuracy", ylim=(0, 1.05),
              title=f"main run (Keras init), until every |p − y| < {CONFIDENT}")
    curve.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, fontsize=9)

    colours = {"pytorch": "tab:purple", "keras": "tab:green"}
    for k, (init, result) in enumerate(study.items()):
        reached = np.array([e if e is not None else np.nan for e in result["epochs"]], float)
        jitter = np.linspace(-0.15, 0.15, len(reached))
        seeds.scatter(reached, k + jitter, color=colours[init], s=30,
                      label=f"{init} init: {result['reached']}/{len(reached)} reach 100 %")
        if result["median_epoch"] is not None:
            seeds.plot([result["median_epoch"]] * 2, [k - 0.3, k + 0.3], color="k", lw=2)
            seeds.annotate(f"median {result['median_epoch']:.0f}",
                           (result["median_epoch"], k + 0.3), xytext=(4, 2),
                           textcoords="offset points", fontsize=9)
    seeds.set(yticks=range(len(study)), yticklabels=[f"{i} init" for i in study],
              ylim=(-0.6, len(study) - 0.4), xlabel="epochs to 100 % accuracy",
              title=f"{SEEDS} seeds each, SGD lr {LR}")
    seeds.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, fontsize=9)
    save_figure(fig, path)


def run(out: pathlib.Path, seed: int, quick: bool) -> dict[str, Any]:
    # ---- the model, initialised as the document's Keras Dense layers were
    model = build_model("keras")
    print(f"init: {INITS['keras']} (what the document's Keras used)")
    summary = nn.summary(model, input_shape=(2,))
    before = predict(model)
    print("predictions before training:", np.array2string(before.ravel(), precision=4))
    axis, p_before = surface(model)
    draw_graph(model, out / "graph.png")

    # ---- fit: Keras-like lines for the first 100 epochs, then on until confident
    history = fit(model, MAX_EPOCHS, until_confident=True, log=True, quick=quick,
                  desc="xor, full batch")
    after = predict(model)
    classes = (after > 0.5).astype(int).ravel()
    print(f"100 % accuracy first at epoch {history['reached_epoch']}; every |p − y| < "
          f"{CONFIDENT} after epoch {history['confident_epoch']}")
    print(f"predictions after {history['epochs']:,} epochs:",
          np.array2string(after.ravel(), precision=4), "classes:", classes.tolist())
    _, p_after = surface(model)
    plot_surfaces([("before training", axis, p_before, before),
                   (f"after {history['epochs']:,} epochs", axis, p_after, after)],
                  out / "decision_surface.png")

    # ---- the architecture as JSON, the weights separately; reload both, predict
    architecture, weights = out / "xor_model.json", out / "xor_weights.safetensors"
    architecture.write_text(model.to_json(indent=2) + "\n", encoding="utf-8")
    nn.save(model, weights)
    reloaded = nn.load(weights, nn.from_json(architecture.read_text(encoding="utf-8")))
    reloaded_predictions = predict(reloaded)
    identical = bool(np.array_equal(reloaded_predictions, after))
    if not identical:
        raise RuntimeError(f"xor: the model rebuilt from {architecture.name} and "
                           f"{weights.name} predicts differently from the trained one")
    print(f"architecture -> {architecture.name}, weights -> {weights.name}; nn.from_json + "
          "nn.load(path, model) predict "
          f"{np.array2string(reloaded_predictions.ravel(), precision=4)}"
          f": identical, no retraining")

    # ---- does SGD solve XOR from any start? 20 seeds, both inits
    study = seed_study(seed, quick)
    for result in study.values():
        print(f"{result['init']}: {study_text(result)}")
    plot_training(history, study, out / "training.png")

    counts = [sum(param.numel() for param in layer.parameters()) for layer in model]
    total = sum(counts)
    torch_init, keras_init = study["pytorch"], study["keras"]
    within_100 = keras_init["by_epoch_100"]
    # each verdict's condition, for its text and its `agrees` flag alike
    layers_like_keras = counts == [30, 0, 11, 0]
    total_like_keras = total == 41
    about_half = bool(np.all(np.abs(before - 0.5) < 0.1))
    near_ln2 = abs(history["losses"][0] - math.log(2)) < CHANCE_LOSS_TOLERANCE
    # the document's run is at 100 % by epoch 100 (ours stops earlier only once confident)
    full_at_100 = (history["epochs"] < LOGGED_EPOCHS
                   or history["accuracies"][LOGGED_EPOCHS - 1] == 1.0)
    reached_by_100 = bool(history["reached_epoch"] and history["reached_epoch"] <= LOGGED_EPOCHS)
    # the document's one run is a draw from the same distribution as our seeds ("a first fit
    # may not converge: fit again"): reproduced when some Keras-init seeds reach 100 % by 100
    some_seeds_by_100 = within_100 > 0
    confident = bool(np.max(np.abs(after - Y)) < CONFIDENT)
    right_classes = classes.tolist() == [0, 1, 1, 0]
    all_seeds_converge = keras_init["reached"] == SEEDS
    rows = [
        row("summary: params per layer", "Dense 30, Activation 0, Dense 11, Activation 0",
            ", ".join(f"{type(layer).__name__} {n}" for layer, n in zip(model, counts)),
            "agrees" if layers_like_keras else "differs", agrees=layers_like_keras),
        row("summary: total / trainable / non-trainable", "41 / 41 / 0",
            f"{total} / {total} / 0", "agrees" if total_like_keras else "differs",
            agrees=total_like_keras),
        row("init", "Keras Dense default (glorot_uniform, zeros)", "the same, via nn.init",
            "agrees", agrees=True),
        row("predictions before training", "≈ 0.5",
            ", ".join(f"{v:.3f}" for v in before.ravel()),
            "agrees" if about_half else "differs", agrees=about_half),
        row("epoch 1", "loss 0.6917, accuracy 0.75",
            f"loss {history['losses'][0]:.4f}, accuracy {history['accuracies'][0]:.2f}",
            "same regime (ln 2 = 0.693 at p = 0.5); exact values depend on the random init"
            if near_ln2 else f"differs: loss more than {CHANCE_LOSS_TOLERANCE} from ln 2 = "
            "0.693 (p = 0.5)", agrees=near_ln2),
        row("epoch 100", "loss 0.6661, accuracy 1.0",
            f"loss {history['losses'][LOGGED_EPOCHS - 1]:.4f}, accuracy "
            f"{history['accuracies'][LOGGED_EPOCHS - 1]:.2f}"
            if history["epochs"] >= LOGGED_EPOCHS else "stopped earlier",
            "agrees: 100 % accuracy" if full_at_100
            else f"agrees for {within_100} of {SEEDS} Keras-init seeds, not this one: it "
            "depends on the init, as the document warns" if some_seeds_by_100
            else f"differs: none of {SEEDS} Keras-init seeds is at 100 % by epoch 100",
            agrees=full_at_100 or some_seeds_by_100),
        row("first epoch at 100 % accuracy", "≤ 100", str(history["reached_epoch"]),
            "agrees" if reached_by_100
            else f"agrees for {within_100} of {SEEDS} Keras-init seeds, not this one (it "
            "depends on the init)" if some_seeds_by_100
            else f"differs: none of {SEEDS} Keras-init seeds reaches 100 % by epoch 100",
            agrees=reached_by_100 or some_seeds_by_100),
        row("predictions after more training", ", ".join(map(str, DOCUMENT_PREDICTIONS)),
            ", ".join(f"{v:.5f}" for v in after.ravel())
            + f" (epoch {history['epochs']:,})",
            f"agrees: every |p − y| < {CONFIDENT}, as the document's"
            if confident else "less confident (epoch cap)", agrees=confident),
        row("predicted classes", "[0, 1, 1, 0]", str(classes.tolist()),
            "agrees" if right_classes else "differs", agrees=right_classes),
        # the rebuilt model predicting identically was checked above (it raises if not)
        row("architecture JSON + weights, reloaded", "predicts without retraining",
            "nn.from_json + nn.load: identical predictions", "agrees", agrees=True),
        # both outcomes bear the document out: training on converges ("fit again"), or some
        # seeds do not and need another init ("re-initialise")
        row(f"{SEEDS} seeds, Keras init (the document's)",
            "\"a first fit may not converge\": fit again or re-initialise",
            study_text(keras_init),
            "agrees: 100 epochs are usually too few; training on converges"
            if all_seeds_converge
            else "agrees: some seeds do not converge; they need another init", agrees=True),
        row(f"{SEEDS} seeds, PyTorch init", "—", study_text(torch_init),
            "slower than Keras's init"
            if (torch_init["median_epoch"] or np.inf) > (keras_init["median_epoch"] or np.inf)
            else "not slower than Keras's init", agrees=None),
    ]
    print_comparison(rows, "xor: document 001 (docs/sources.md) vs autodiff")
    return {
        "comparison": rows,
        "summary": summary, "params_per_layer": counts, "total_params": total,
        "init": INITS["keras"],
        "predictions_before": before.ravel(),
        "losses_first_100": history["losses"][:LOGGED_EPOCHS],
        "accuracies_first_100": history["accuracies"][:LOGGED_EPOCHS],
        "reached_100_percent_epoch": history["reached_epoch"],
        "confident_epoch": history["confident_epoch"], "confident_threshold": CONFIDENT,
        "epochs_trained": history["epochs"],
        "final_accuracy": accuracy(after), "predictions_after": after.ravel(),
        "predicted_classes": classes,
        "reloaded_predictions": reloaded_predictions.ravel(),
        "reloaded_identical": identical,
        "seed_study": study, "seed_study_cap": SEED_STUDY_CAP,
    }
