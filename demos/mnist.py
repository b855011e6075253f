"""Handwritten digits with a four-layer ReLU network, trained by Adam (document 004).

Document 004 (see docs/sources.md) trains, in PyTorch, on the 60,000 MNIST training images
(28×28 grey pixels scaled to [0, 1], no other normalisation):

    fc1 784→64, ReLU → fc2 64→64, ReLU → fc3 64→64, ReLU → fc4 64→10 → log_softmax

with the negative log-likelihood loss, Adam (lr 0.001), batches of 15 drawn in a shuffled
order, for 2 epochs (8,000 steps). It measures the accuracy on the 10,000 test images
without gradients before training and after each epoch, reporting 0.0982 / 0.9486 /
0.9669, and shows 4 test images titled "prediction: N". Here the same script runs on
autodiff, `nn` and `optim`, with the same names (`Net`, `evaluate`, `nn.functional`).

Also shown: the seconds each epoch takes, the confusion matrix of the test predictions,
and the graph of one training step (forward and backward of a batch of 15), drawn by
`ad.viz` with one box per layer. `--quick` trains 2 epochs on the first 6,000 training
images (800 steps) and evaluates on the first 2,000 test images.
"""
from __future__ import annotations

import pathlib
import sys
import time
from typing import Any

import numpy as np

import autodiff as ad
import nn
import nn.functional as F
import optim
from demos.common import plt, print_comparison, row, save_figure, save_graph
from nn.data import MNIST, DataLoader, Subset

DOCUMENT = {"before": 0.0982, "epochs": [0.9486, 0.9669]}
TARGET = {"before": (0.10, 0.05), "epochs": [0.94, 0.955]}     # ≈ 0.10 ± 0.05, then ≥
PYTORCH = ["0.955–0.957", "0.958–0.967"]       # PyTorch on this workload, several seeds
BATCH_SIZE, LR, EPOCHS = 15, 0.001, 2
QUICK_TRAIN, QUICK_TEST = 6_000, 2_000         # --quick: the first images of each split
LOG_EVERY = 100                                # steps between loss readings (bar and curve)


class Net(nn.Module):
    """The document's network: three hidden layers of 64 ReLU units, log-probabilities out."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(28 * 28, 64)
        self.fc2 = nn.Linear(64, 64)
        self.fc3 = nn.Linear(64, 64)
        self.fc4 = nn.Linear(64, 10)

    def forward(self, x: ad.Tensor) -> ad.Tensor:
        x = F.relu(self.fc1(x))                     # (B, 784) -> (B, 64)
        x = F.relu(self.fc2(x))
        x = F.relu(self.fc3(x))
        return F.log_softmax(self.fc4(x), dim=1)    # (B, 10), log p(digit | image)


def evaluate(model: Net, loader: DataLoader) -> tuple[float, np.ndarray, np.ndarray]:
    """Test accuracy without building a graph (`ad.no_grad`), as the document measures it.
    Returns (accuracy, labels, predictions): the predicted digit is the argmax of the
    log-probabilities."""
    labels, predictions = [], []
    with ad.no_grad():
        for x, y in loader:
            predictions.append(model(x).argmax(dim=1).numpy())
            labels.append(y.numpy())
    labels, predictions = np.concatenate(labels), np.concatenate(predictions)
    return float(np.mean(predictions == labels)), labels, predictions


def loss_bar(total: int, quick: bool, desc: str) -> Any:
    """A tqdm bar advanced by hand, so the training loss can ride along on it, under the
    rules of `common.progress`: None (no bar) in quick mode or when stderr is not a
    terminal. (`common.progress` wraps an iterable and does not hand out the bar.)"""
    if quick or not sys.stderr.isatty():
        return None
    from tqdm import tqdm
    return tqdm(total=total, desc=desc, unit="step", leave=False, dynamic_ncols=True)


def train_epoch(model: Net, loader: DataLoader, optimizer: optim.Adam, *, quick: bool,
                desc: str) -> tuple[float, list[float]]:
    """One pass over the shuffled training set, one Adam step per batch of 15. Returns
    the seconds it took and the loss every `LOG_EVERY` steps (`.item()` is read only
    then, not at every step)."""
    bar = loss_bar(len(loader), quick, desc)
    losses = []

    @ad.compile        # traced on the first batch, replayed after: the same numbers, faster
    def train_step(x: ad.Tensor, y: ad.Tensor) -> ad.Tensor:
        optimizer.zero_grad()      # the document's net.zero_grad(), without walking the modules
        loss = F.nll_loss(model(x), y)             # −mean log p(true digit)
        loss.backward()
        optimizer.step()
        return loss

    start = time.perf_counter()
    for step, (x, y) in enumerate(loader, start=1):
        loss = train_step(x, y)
        if step % LOG_EVERY == 0:
            losses.append(loss.item())
            if bar is not None:
                bar.update(LOG_EVERY)
                bar.set_postfix(loss=f"{losses[-1]:.3f}")
    seconds = time.perf_counter() - start
    if bar is not None:
        bar.close()
    return seconds, losses


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray) -> np.ndarray:
    """counts[i, j] = how many test images of digit i were predicted as j."""
    return np.bincount(labels * 10 + predictions, minlength=100).reshape(10, 10)


def plot_predictions(images: np.ndarray, labels: np.ndarray, predictions: np.ndarray,
                     path: pathlib.Path) -> None:
    """The document's closing picture: test images titled "prediction: N", in one figure."""
    fig, axes = plt.subplots(1, len(images), figsize=(2.6 * len(images), 3.0))
    for ax, image, label, prediction in zip(axes, images, labels, predictions, strict=True):
        ax.imshow(image.reshape(28, 28), cmap="gray_r")
        ax.set_title(f"prediction: {prediction}", color="k" if prediction == label else "red")
        ax.set_xlabel(f"label: {label}")
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("the first 4 test images, after training")
    fig.tight_layout()
    save_figure(fig, path)


def plot_confusion(counts: np.ndarray, accuracy: float, path: pathlib.Path) -> None:
    """Counts per (true digit, predicted digit); the diagonal holds the correct ones."""
    fig, ax = plt.subplots(figsize=(7, 6))
    shown = np.log10(1 + counts)                  # log colours: the small errors stay visible
    image = ax.imshow(shown, cmap="Blues")
    for i in range(10):
        for j in range(10):
            if counts[i, j]:
                ax.text(j, i, str(counts[i, j]), ha="center", va="center", fontsize=8,
                        color="white" if shown[i, j] > 0.6 * shown.max() else "black")
    ax.set(xticks=range(10), yticks=range(10), xlabel="predicted digit", ylabel="true digit",
           title=f"confusion matrix on {counts.sum():,} test images "
                 f"(accuracy {accuracy:.4f})")
    bar = fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    ticks = [t for t in (1, 10, 100, 1000) if t <= counts.max()]
    bar.set_ticks(np.log10(1 + np.array(ticks)), labels=[str(t) for t in ticks])
    bar.set_label("images")
    save_figure(fig, path)


def draw_training_step(model: Net, x: ad.Tensor, y: ad.Tensor, path: pathlib.Path) -> float:
    """Forward and backward of one batch, drawn with values and gradients: one box per
    layer (each module call is a `viz.scope`), parameters named by the model. Leaves the
    model's parameters unchanged and their gradients cleared. Returns the batch loss."""
    x.name, y.name = "images", "labels"
    model.zero_grad()
    loss = F.nll_loss(model(x), y)
    loss.name = "loss"
    loss.backward()
    save_graph(loss, path=path, params=model, rankdir="TB")
    model.zero_grad()
    return loss.item()


def chance_verdict(accuracy: float, quick: bool) -> tuple[str, bool | None]:
    """The verdict on the accuracy before training and its `agrees` flag (None: a quick
    run makes no comparison)."""
    centre, tolerance = TARGET["before"]
    if quick:
        return "quick run (a subset): not comparable", None
    if abs(accuracy - centre) <= tolerance:
        return "agrees: chance level, about 1 in 10", True
    return f"differs from chance level {centre} by more than {tolerance}", False


def verdict(ours: float, document: float, target: float, pytorch: str, quick: bool
            ) -> tuple[str, bool | None]:
    """The verdict on an accuracy after training and its `agrees` flag (None: a quick run,
    on a subset, makes no comparison)."""
    if quick:
        return "quick run (a subset): not comparable", None
    if ours >= target:
        return f"agrees: target ≥ {target}, PyTorch {pytorch}", True
    return f"below the target ≥ {target} (document {document}, PyTorch {pytorch})", False


def run(out: pathlib.Path, seed: int, quick: bool) -> dict[str, Any]:
    train_set = MNIST(train=True, flatten=True)    # flatten: the document's x.view(-1, 28*28)
    test_set = MNIST(train=False, flatten=True)
    if quick:
        train_set = Subset(train_set, np.arange(QUICK_TRAIN))
        test_set = Subset(test_set, np.arange(QUICK_TEST))
    train_loader = DataLoader(train_set, batch_size=BATCH_SIZE, shuffle=True)
    test_loader = DataLoader(test_set, batch_size=1_000)   # in order; the size is free
    print(f"training on {len(train_set):,} images, {len(train_loader):,} batches of "
          f"{BATCH_SIZE} per epoch; testing on {len(test_set):,}")

    model = Net()
    accuracy_before, _, _ = evaluate(model, test_loader)
    print(f"initial accuracy: {accuracy_before:.4f}")
    optimizer = optim.Adam(model.parameters(), lr=LR)
    accuracies, seconds, losses = [], [], []
    for epoch in range(1, EPOCHS + 1):            # counted from 1, as the document does
        took, epoch_losses = train_epoch(model, train_loader, optimizer, quick=quick,
                                         desc=f"epoch {epoch}")
        accuracy, labels, predictions = evaluate(model, test_loader)
        accuracies.append(accuracy)
        seconds.append(took)
        losses += epoch_losses
        print(f"epoch {epoch} accuracy: {accuracy:.4f}   ({took:.1f} s, "
              f"{len(train_loader) / took:,.0f} steps/s, loss {np.mean(epoch_losses):.3f})")

    first_x, first_y = test_set.get_batch(np.arange(4))
    first_images, first_labels = first_x.numpy(), first_y.numpy()
    first_predictions = predictions[:4]            # the test loader keeps the order
    titles = [f"prediction: {p}" for p in first_predictions]
    print(f"first 4 test images: {', '.join(titles)} (labels {first_labels.tolist()})")
    plot_predictions(first_images, first_labels, first_predictions, out / "predictions.png")
    counts = confusion_matrix(labels, predictions)
    plot_confusion(counts, accuracies[-1], out / "confusion_matrix.png")
    x, y = next(iter(train_loader))
    step_loss = draw_training_step(model, x, y, out / "training_step_graph.png")

    text, agrees = chance_verdict(accuracy_before, quick)
    rows = [row("accuracy before training", DOCUMENT["before"], f"{accuracy_before:.4f}",
                text, agrees=agrees)]
    for epoch in range(EPOCHS):
        text, agrees = verdict(accuracies[epoch], DOCUMENT["epochs"][epoch],
                               TARGET["epochs"][epoch], PYTORCH[epoch], quick)
        rows.append(row(f"accuracy after epoch {epoch + 1}", DOCUMENT["epochs"][epoch],
                        f"{accuracies[epoch]:.4f}", text, agrees=agrees))
    rows += [
        row("seconds per epoch", "— (not reported)", ", ".join(f"{s:.1f}" for s in seconds),
            f"{len(train_loader):,} Adam steps each, "
            f"{len(train_loader) / np.mean(seconds):,.0f} steps/s", agrees=None),
        # the document shows 4 test images titled "prediction: N"; so do we, with labels
        row("first 4 test images", "\"prediction: N\" (its test loader is shuffled: "
            "4 random images)", ", ".join(titles),
            "labels " + ", ".join(map(str, first_labels.tolist())), agrees=True),
    ]
    print_comparison(rows, "mnist: document 004 (docs/sources.md) vs autodiff")
    return {
        "comparison": rows,
        "train_size": len(train_set), "test_size": len(test_set),
        "batch_size": BATCH_SIZE, "lr": LR, "epochs": EPOCHS,
        "steps_per_epoch": len(train_loader),
        "accuracy": {"before": accuracy_before, "after_epoch": accuracies},
        "seconds_per_epoch": seconds,
        "loss_every_100_steps": losses,
        "first_test_images": {"labels": first_labels, "predictions": first_predictions,
                              "titles": titles},
        "confusion_matrix": counts,
        "graph_step_loss": step_loss,
    }
